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

impl StoreClient {
    /// Titles of `product_ids` (upper-cased ids → title). Ids the catalog
    /// does not know are left out.
    pub async fn product_titles(
        &self,
        product_ids: &[String],
    ) -> Result<BTreeMap<String, String>, StoreError> {
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
        let mut out = BTreeMap::new();
        for batch in ids.chunks(BATCH) {
            let url = format!(
                "{}?bigIds={}&market=US&languages=en-US,neutral",
                Self::url(&self.endpoints().catalog, "/v7.0/products"),
                batch.join(",")
            );
            let raw = self.execute(Call::get(OP, url).auth(Auth::None)).await?;
            let resp = decode_json::<DisplayCatalogResponse>(OP, raw, None)?;
            for p in resp.value.products {
                if let Some(t) = p
                    .localized_properties
                    .into_iter()
                    .map(|l| l.product_title)
                    .find(|t| !t.trim().is_empty())
                {
                    out.insert(p.product_id.to_ascii_uppercase(), t);
                }
            }
        }
        Ok(out)
    }
}
