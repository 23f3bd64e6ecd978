//! Collections: query (v9 PublisherQuery, v8 b2bLicensePreview), consume,
//! and key renewal (STORE-API.md §2–4).

use super::client::{Auth, Call, StoreClient};
use super::error::{ErrorInfo, ErrorKind, Response, StoreError};
use super::keyinfo;
use super::model::{
    Beneficiary, ConsumeRequest, ConsumeResponse, Entitlement, LicensePreviewRequest, ProductSkuId,
    PublisherQueryRequest, QueryResponse, RenewRequest, RenewResponse, ValidityType,
};
use super::paging::{PageEvent, PageProgress, PagingSummary, chunk_ids, paginate};
use tokio_util::sync::CancellationToken;

/// Largest page v9 serves.
pub const V9_MAX_PAGE: u32 = 200;
/// Largest page v8 serves.
pub const V8_MAX_PAGE: u32 = 100;
/// v8 `market` as Microsoft.StoreServices sends it.
pub const V8_MARKET: &str = "neutral";
/// Most product ids one v9 query may carry.
pub const V9_MAX_PRODUCTS: usize = 100;

const PATH_V9: &str = "/v9.0/collections/publisherQuery";
const PATH_V8: &str = "/v8.0/collections/b2bLicensePreview";
const PATH_CONSUME: &str = "/v8.0/collections/consume";

/// Knobs of a full entitlement listing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QueryOptions {
    pub validity: Option<ValidityType>,
    pub exclude_duplicates: Option<bool>,
    /// None = the endpoint's maximum (200 for v9, 100 for v8).
    pub page_size: Option<u32>,
    /// v8 `entitlementFilters`, e.g. `*:Durable`.
    pub entitlement_filters: Vec<String>,
}

impl StoreClient {
    fn beneficiaries_customer(op: &'static str, b: &[Beneficiary]) -> Result<String, StoreError> {
        match b {
            [one] => Ok(keyinfo::customer_id(&one.identity_value)),
            _ => Err(StoreError::config(
                op,
                "exactly one beneficiary is required",
            )),
        }
    }

    /// One v9 PublisherQuery page, sent as given (plus the profile's `sbx`).
    pub async fn publisher_query_page(
        &self,
        req: &PublisherQueryRequest,
    ) -> Result<Response<QueryResponse>, StoreError> {
        const OP: &str = "publisherQuery";
        let customer = Self::beneficiaries_customer(OP, &req.beneficiaries)?;
        let mut req = req.clone();
        if req.sbx.is_none() {
            req.sbx = self.sbx();
        }
        let url = Self::url(&self.endpoints().collections, PATH_V9);
        self.call_json(Call::post_json(OP, url, &req)?.budget(customer))
            .await
    }

    /// One v8 b2bLicensePreview page.
    pub async fn license_preview_page(
        &self,
        req: &LicensePreviewRequest,
    ) -> Result<Response<QueryResponse>, StoreError> {
        const OP: &str = "b2bLicensePreview";
        let customer = Self::beneficiaries_customer(OP, &req.beneficiaries)?;
        let mut req = req.clone();
        // Every v8 call asks what the official library's
        // CollectionsV8QueryRequest asks unless the caller chose otherwise.
        req.market.get_or_insert_with(|| V8_MARKET.into());
        req.expand_satisfying_items.get_or_insert(true);
        if req.sbx.is_none() {
            req.sbx = self.sbx();
        }
        let url = Self::url(&self.endpoints().collections, PATH_V8);
        self.call_json(Call::post_json(OP, url, &req)?.budget(customer))
            .await
    }

    /// Every entitlement for `product_ids` via v9: the ids are de-duplicated,
    /// chunked by 100 (the documented maximum), each chunk paged to the end,
    /// and every page handed to `on_page` as it arrives. Progress counts
    /// across chunks.
    pub async fn entitlements_v9(
        &self,
        key: &str,
        product_ids: &[String],
        opts: &QueryOptions,
        cancel: &CancellationToken,
        mut on_page: impl FnMut(PageEvent<Entitlement>) + Send,
    ) -> Result<PagingSummary, StoreError> {
        const OP: &str = "publisherQuery";
        let chunks = chunk_ids(product_ids, V9_MAX_PRODUCTS);
        if chunks.is_empty() {
            return Err(StoreError::config(
                OP,
                "v9 needs at least one product id (configure product_ids, or use v8)",
            ));
        }
        let page = opts.page_size.unwrap_or(V9_MAX_PAGE).clamp(1, V9_MAX_PAGE);
        let customer = keyinfo::customer_id(key);
        let calls_left = || Some(self.calls_left(&customer));
        let mut summary = PagingSummary::default();
        for chunk in chunks {
            let base = PublisherQueryRequest {
                beneficiaries: vec![Beneficiary::b2b(key)],
                product_sku_ids: Some(
                    chunk
                        .into_iter()
                        .map(|product_id| ProductSkuId {
                            product_id,
                            sku_id: None,
                        })
                        .collect(),
                ),
                max_page_size: Some(page.into()),
                exclude_duplicates: opts.exclude_duplicates,
                validity_type: opts.validity.clone(),
                ..Default::default()
            };
            let part = paginate::<QueryResponse, _, _>(
                OP,
                cancel,
                summary.progress,
                |token| {
                    // The whole body goes again, with the token added.
                    let mut req = base.clone();
                    req.continuation_token = token;
                    async move { self.publisher_query_page(&req).await }
                },
                &calls_left,
                &mut on_page,
            )
            .await?;
            summary = part;
        }
        Ok(summary)
    }

    /// Every entitlement via v8 b2bLicensePreview (no product list needed),
    /// paged at up to 100.
    pub async fn entitlements_v8(
        &self,
        key: &str,
        opts: &QueryOptions,
        cancel: &CancellationToken,
        mut on_page: impl FnMut(PageEvent<Entitlement>) + Send,
    ) -> Result<PagingSummary, StoreError> {
        const OP: &str = "b2bLicensePreview";
        let page = opts.page_size.unwrap_or(V8_MAX_PAGE).clamp(1, V8_MAX_PAGE);
        let customer = keyinfo::customer_id(key);
        let base = LicensePreviewRequest {
            beneficiaries: vec![Beneficiary::b2b(key)],
            max_page_size: Some(page.into()),
            exclude_duplicates: opts.exclude_duplicates,
            validity_type: opts.validity.clone(),
            // What Microsoft.StoreServices' CollectionsV8QueryRequest sends
            // (checked against its source: JsonProperty "market" defaulting
            // to "neutral", "expandSatisfyingItems" to true): without the
            // expansion, content a pass or bundle satisfies is left out of
            // v8 listings while v9 lists it.
            market: Some(V8_MARKET.into()),
            expand_satisfying_items: Some(true),
            entitlement_filters: (!opts.entitlement_filters.is_empty())
                .then(|| opts.entitlement_filters.clone()),
            ..Default::default()
        };
        paginate::<QueryResponse, _, _>(
            OP,
            cancel,
            PageProgress::default(),
            |token| {
                let mut req = base.clone();
                req.continuation_token = token;
                async move { self.license_preview_page(&req).await }
            },
            &|| Some(self.calls_left(&customer)),
            &mut on_page,
        )
        .await
    }

    /// Consume. A write: never retried here — on an error that is not
    /// `is_definite()` the journal replays it with the same trackingId.
    /// `includeOrderIds` is sent as true unless the caller set it, so
    /// clawbacks can be matched later; the profile's `sbx` is added.
    pub async fn consume(
        &self,
        req: &ConsumeRequest,
    ) -> Result<Response<ConsumeResponse>, StoreError> {
        const OP: &str = "consume";
        if req.tracking_id.trim().is_empty() {
            return Err(StoreError::config(
                OP,
                "a consume needs a trackingId (its idempotency key)",
            ));
        }
        let customer = keyinfo::customer_id(&req.beneficiary.identity_value);
        let mut req = req.clone();
        req.include_order_ids.get_or_insert(true);
        if req.sbx.is_none() {
            req.sbx = self.sbx();
        }
        let url = Self::url(&self.endpoints().collections, PATH_CONSUME);
        self.call_json(Call::post_json(OP, url, &req)?.write().budget(customer))
            .await
    }

    /// Where a key's `refreshUri` really points for this profile: the
    /// documented Microsoft host is mapped onto the profile's base URL, so
    /// renewal goes to the sandbox, a proxy or Microsoft alike.
    pub fn renew_url(&self, refresh_uri: &str) -> Result<String, StoreError> {
        const OP: &str = "renewKey";
        let e = self.endpoints();
        for base in [&e.collections, &e.purchase] {
            let b = base.trim_end_matches('/');
            if !b.is_empty()
                && refresh_uri.starts_with(b)
                && refresh_uri[b.len()..].starts_with('/')
            {
                return Ok(refresh_uri.to_string());
            }
        }
        let url = reqwest::Url::parse(refresh_uri)
            .map_err(|_| StoreError::config(OP, "the key's refreshUri is not a URL"))?;
        let base = match url.host_str().map(str::to_ascii_lowercase).as_deref() {
            Some("collections.mp.microsoft.com") => &e.collections,
            Some("purchase.mp.microsoft.com") => &e.purchase,
            other => {
                return Err(StoreError::config(
                    OP,
                    format!(
                        "the key's refreshUri points at {}, not a Microsoft Store host; refusing to send the key there",
                        other.unwrap_or("no host")
                    ),
                ));
            }
        };
        let mut out = Self::url(base, url.path());
        if let Some(q) = url.query() {
            out.push('?');
            out.push_str(q);
        }
        Ok(out)
    }

    /// Renew a User Store ID through its `refreshUri`, with a STORE-audience
    /// service token as `serviceTicket` and no Authorization header. Works
    /// only before the key expires. A write (never retried). Returns the new key.
    pub async fn renew_key(&self, key: &str) -> Result<Response<String>, StoreError> {
        const OP: &str = "renewKey";
        let key = key.trim();
        let refresh = keyinfo::refresh_uri(key).ok_or_else(|| {
            StoreError::config(
                OP,
                format!(
                    "key {} carries no refreshUri claim",
                    keyinfo::fingerprint(key)
                ),
            )
        })?;
        let url = self.renew_url(&refresh)?;
        let ticket = self.service_token(super::audience::STORE).await?;
        let body = RenewRequest {
            service_ticket: ticket.expose().to_string(),
            key: key.to_string(),
        };
        let call = Call::post_json(OP, url, &body)?.auth(Auth::None).write();
        let resp = self.call_json::<RenewResponse>(call).await?;
        if resp.value.key.trim().is_empty() {
            return Err(ErrorInfo {
                status: Some(resp.meta.status),
                correlation: resp.meta.correlation.clone(),
                attempts: resp.meta.attempts,
                sent: true,
                ..ErrorInfo::new(ErrorKind::Decode, OP, "renew answer has no key")
            }
            .into());
        }
        keyinfo::record_renewal(key, resp.value.key.trim());
        Ok(resp.map(|r| r.key))
    }
}
