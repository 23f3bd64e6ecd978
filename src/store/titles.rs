//! Product titles by id from the public display catalog
//! (`GET {catalog}/v7.0/products?bigIds=…&market=…&languages=…`): no
//! credentials, ids in small batches. The sandbox serves the same route
//! from its catalog, so this code is tested over HTTP.

use super::client::{Auth, Call, StoreClient, decode_json};
use super::error::StoreError;
use super::model::DisplayCatalogResponse;
use std::collections::BTreeMap;

/// Ids per request: the catalog answers small batches quickest.
const BATCH: usize = 20;

/// What the display catalog says of one product.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CatalogProduct {
    /// Upper-cased.
    pub product_id: String,
    pub title: Option<String>,
    /// `ProductKind`, e.g. `UnmanagedConsumable`.
    pub kind: Option<String>,
}

impl StoreClient {
    /// Titles of `product_ids` (upper-cased ids → title). Ids the catalog
    /// does not know are left out.
    pub async fn product_titles(
        &self,
        product_ids: &[String],
    ) -> Result<BTreeMap<String, String>, StoreError> {
        Ok(self
            .catalog_products(product_ids)
            .await?
            .into_iter()
            .filter_map(|p| Some((p.product_id, p.title?)))
            .collect())
    }

    /// The display catalog's entries for `product_ids`; ids it does not
    /// know are left out.
    pub async fn catalog_products(
        &self,
        product_ids: &[String],
    ) -> Result<Vec<CatalogProduct>, StoreError> {
        const OP: &str = "displayCatalog";
        let mut ids: Vec<String> = product_ids
            .iter()
            .map(|s| s.trim().to_ascii_uppercase())
            // Product ids are short alphanumerics; anything else would only
            // make a strange URL.
            .filter(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric()))
            .collect();
        ids.sort();
        ids.dedup();
        let mut out = Vec::new();
        for batch in ids.chunks(BATCH) {
            let url = format!(
                "{}?bigIds={}&market=US&languages=en-US,neutral",
                Self::url(&self.endpoints().catalog, "/v7.0/products"),
                batch.join(",")
            );
            let raw = self.execute(Call::get(OP, url).auth(Auth::None)).await?;
            let resp = decode_json::<DisplayCatalogResponse>(OP, raw, None)?;
            for p in resp.value.products {
                let title = p
                    .localized_properties
                    .into_iter()
                    .map(|l| l.product_title)
                    .find(|t| !t.trim().is_empty());
                out.push(CatalogProduct {
                    product_id: p.product_id.to_ascii_uppercase(),
                    title,
                    kind: p.product_kind.filter(|k| !k.trim().is_empty()),
                });
            }
        }
        Ok(out)
    }
}
