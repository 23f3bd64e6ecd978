//! The requests the sandbox takes, as STORE-API.md and Microsoft's docs
//! name their fields, decoded by [`Fields`] — never by `store::model`.

use super::super::http::ApiError;
use super::fields::{Fields, body};

const BENEFICIARY: &[&str] = &["identityType", "identityValue", "localTicketReference"];
const PRODUCT_SKU: &[&str] = &["productId", "skuId"];

/// `{identityType: "b2b", identityValue: <key>, localTicketReference}`.
#[derive(Debug, Clone)]
pub struct Beneficiary {
    pub identity_type: String,
    pub identity_value: String,
}

impl Beneficiary {
    fn read(f: &Fields<'_>) -> Result<Self, ApiError> {
        Ok(Self {
            identity_type: f.required("identityType")?,
            identity_value: f.required("identityValue")?,
        })
    }
}

#[derive(Debug, Clone)]
pub struct ProductSku {
    pub product_id: String,
    pub sku_id: Option<String>,
}

/// `validityType`: All | Valid | Invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validity {
    All,
    Valid,
    Invalid,
}

/// The collections query, v9 PublisherQuery or v8 B2bLicensePreview.
#[derive(Debug, Clone)]
pub struct QueryRequest {
    pub beneficiaries: Vec<Beneficiary>,
    pub product_sku_ids: Option<Vec<ProductSku>>,
    pub continuation_token: Option<String>,
    pub max_page_size: Option<i64>,
    pub exclude_duplicates: bool,
    pub validity: Validity,
    /// v8 only.
    pub expand_satisfying_items: Option<bool>,
    /// v8 only.
    pub entitlement_filters: Option<Vec<String>>,
}

/// Seed 001's request table (v9).
const V9: &[&str] = &[
    "beneficiaries",
    "productSkuIds",
    "continuationToken",
    "maxPageSize",
    "excludeDuplicates",
    "validityType",
    "sbx",
];
/// STORE-API §3 (v8): the v9 fields plus those v9 removed.
const V8: &[&str] = &[
    "beneficiaries",
    "productSkuIds",
    "continuationToken",
    "maxPageSize",
    "excludeDuplicates",
    "validityType",
    "sbx",
    "market",
    "expandSatisfyingItems",
    "entitlementFilters",
];

impl QueryRequest {
    pub fn v9(bytes: &[u8]) -> Result<Self, ApiError> {
        Self::read(bytes, V9)
    }

    pub fn v8(bytes: &[u8]) -> Result<Self, ApiError> {
        Self::read(bytes, V8)
    }

    fn read(bytes: &[u8], known: &[&str]) -> Result<Self, ApiError> {
        let v = body(bytes)?;
        let f = Fields::new(&v, "", known)?;
        let beneficiaries = f
            .objects("beneficiaries", BENEFICIARY)?
            .ok_or_else(|| ApiError::bad("beneficiaries is required."))?
            .iter()
            .map(Beneficiary::read)
            .collect::<Result<Vec<_>, _>>()?;
        let product_sku_ids = f
            .objects("productSkuIds", PRODUCT_SKU)?
            .map(|list| {
                list.iter()
                    .map(|p| {
                        Ok(ProductSku {
                            product_id: p.required("productId")?,
                            sku_id: p.string("skuId")?,
                        })
                    })
                    .collect::<Result<Vec<_>, ApiError>>()
            })
            .transpose()?;
        let validity = match f.str("validityType")? {
            None => Validity::All,
            Some(s) if s.eq_ignore_ascii_case("All") => Validity::All,
            Some(s) if s.eq_ignore_ascii_case("Valid") => Validity::Valid,
            Some(s) if s.eq_ignore_ascii_case("Invalid") => Validity::Invalid,
            Some(s) => {
                return Err(ApiError::bad(format!(
                    "validityType {s:?} is not one of All, Valid, Invalid."
                )));
            }
        };
        f.str("sbx")?;
        f.str("market")?;
        Ok(Self {
            beneficiaries,
            product_sku_ids,
            continuation_token: f.string("continuationToken")?,
            max_page_size: f.int("maxPageSize")?,
            exclude_duplicates: f.bool("excludeDuplicates")?.unwrap_or(false),
            validity,
            expand_satisfying_items: f.bool("expandSatisfyingItems")?,
            entitlement_filters: f.strings("entitlementFilters")?,
        })
    }
}

/// `POST …/v8.0/collections/consume` (STORE-API §4).
#[derive(Debug, Clone)]
pub struct ConsumeRequest {
    pub beneficiary: Beneficiary,
    pub product_id: String,
    pub tracking_id: String,
    pub remove_quantity: Option<i64>,
    pub include_order_ids: bool,
}

impl ConsumeRequest {
    pub fn read(bytes: &[u8]) -> Result<Self, ApiError> {
        let v = body(bytes)?;
        let f = Fields::new(
            &v,
            "",
            &[
                "beneficiary",
                "productId",
                "trackingId",
                "removeQuantity",
                "includeOrderIds",
                "sbx",
            ],
        )?;
        let beneficiary = f
            .object("beneficiary", BENEFICIARY)?
            .ok_or_else(|| ApiError::bad("beneficiary is required."))?;
        f.str("sbx")?;
        Ok(Self {
            beneficiary: Beneficiary::read(&beneficiary)?,
            product_id: f.required("productId")?,
            tracking_id: f.required("trackingId")?,
            remove_quantity: f.int("removeQuantity")?,
            include_order_ids: f.bool("includeOrderIds")?.unwrap_or(false),
        })
    }
}

/// `POST …/v8.0/b2b/orders/query` (STORE-API §5).
#[derive(Debug, Clone)]
pub struct OrdersRequest {
    pub b2b_key: String,
    /// Purchased | Revoked | Refunded, as sent.
    pub line_item_state_filter: Option<Vec<String>>,
    pub continuation_token: Option<String>,
}

impl OrdersRequest {
    pub fn read(bytes: &[u8]) -> Result<Self, ApiError> {
        let v = body(bytes)?;
        let f = Fields::new(
            &v,
            "",
            &["b2bKey", "lineItemStateFilter", "sbx", "continuationToken"],
        )?;
        let filter = f.strings("lineItemStateFilter")?;
        for s in filter.iter().flatten() {
            if !["Purchased", "Revoked", "Refunded"]
                .iter()
                .any(|k| k.eq_ignore_ascii_case(s))
            {
                return Err(ApiError::bad(format!(
                    "lineItemStateFilter {s:?} is not one of Purchased, Revoked, Refunded."
                )));
            }
        }
        f.str("sbx")?;
        Ok(Self {
            b2b_key: f.required("b2bKey")?,
            line_item_state_filter: filter,
            continuation_token: f.string("continuationToken")?,
        })
    }
}

/// `POST …/v8.0/b2b/recurrences/query` (STORE-API §7).
#[derive(Debug, Clone)]
pub struct RecurrencesRequest {
    pub b2b_key: String,
    pub continuation_token: Option<String>,
}

impl RecurrencesRequest {
    pub fn read(bytes: &[u8]) -> Result<Self, ApiError> {
        let v = body(bytes)?;
        let f = Fields::new(&v, "", &["b2bKey", "sbx", "continuationToken"])?;
        f.str("sbx")?;
        Ok(Self {
            b2b_key: f.required("b2bKey")?,
            continuation_token: f.string("continuationToken")?,
        })
    }
}

/// `changeType` of a recurrence change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Cancel,
    Extend,
    Refund,
    ToggleAutoRenew,
}

/// `POST …/v8.0/b2b/recurrences/{id}/change` (STORE-API §7).
#[derive(Debug, Clone)]
pub struct ChangeRequest {
    pub b2b_key: String,
    pub change: Change,
    pub extension_time_in_days: Option<i64>,
}

impl ChangeRequest {
    pub fn read(bytes: &[u8]) -> Result<Self, ApiError> {
        let v = body(bytes)?;
        let f = Fields::new(
            &v,
            "",
            &["b2bKey", "changeType", "extensionTimeInDays", "sbx"],
        )?;
        let ct = f.required("changeType")?;
        let change = [
            ("Cancel", Change::Cancel),
            ("Extend", Change::Extend),
            ("Refund", Change::Refund),
            ("ToggleAutoRenew", Change::ToggleAutoRenew),
        ]
        .into_iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(&ct))
        .map(|(_, c)| c)
        .ok_or_else(|| ApiError::bad(format!("Unknown changeType {ct:?}.")))?;
        f.str("sbx")?;
        Ok(Self {
            b2b_key: f.required("b2bKey")?,
            change,
            extension_time_in_days: f.int_or_string("extensionTimeInDays")?,
        })
    }
}

/// `POST …/v6.0/purchases/grant` (STORE-API §8).
#[derive(Debug, Clone)]
pub struct GrantRequest {
    pub availability_id: String,
    pub b2b_key: String,
    pub language: String,
    pub market: String,
    pub order_id: String,
    pub product_id: String,
    pub quantity: Option<i64>,
    pub sku_id: String,
}

impl GrantRequest {
    pub fn read(bytes: &[u8]) -> Result<Self, ApiError> {
        let v = body(bytes)?;
        let f = Fields::new(
            &v,
            "",
            &[
                "availabilityId",
                "b2bKey",
                "devOfferId",
                "language",
                "market",
                "orderId",
                "productId",
                "quantity",
                "skuId",
            ],
        )?;
        f.str("devOfferId")?;
        Ok(Self {
            availability_id: f.required("availabilityId")?,
            b2b_key: f.required("b2bKey")?,
            language: f.required("language")?,
            market: f.required("market")?,
            order_id: f.required("orderId")?,
            product_id: f.required("productId")?,
            quantity: f.int("quantity")?,
            sku_id: f.required("skuId")?,
        })
    }
}

/// `POST {refreshUri}`: `{serviceTicket, key}` (the doc writes `Key`; names
/// match ignoring case, so both are read).
#[derive(Debug, Clone)]
pub struct RenewRequest {
    pub service_ticket: String,
    pub key: String,
}

impl RenewRequest {
    pub fn read(bytes: &[u8]) -> Result<Self, ApiError> {
        let v = body(bytes)?;
        let f = Fields::new(&v, "", &["serviceTicket", "key"])?;
        Ok(Self {
            service_ticket: f.required("serviceTicket")?,
            key: f.required("key")?,
        })
    }
}

/// Targeted offer claim: `{storeOffer: {offers, trackingId}, receipt}`.
#[derive(Debug, Clone)]
pub struct ClaimOfferRequest {
    pub offers: Vec<String>,
    pub tracking_id: String,
    pub receipt: String,
}

impl ClaimOfferRequest {
    pub fn read(bytes: &[u8]) -> Result<Self, ApiError> {
        let v = body(bytes)?;
        let f = Fields::new(&v, "", &["storeOffer", "receipt"])?;
        let offer = f
            .object("storeOffer", &["offers", "trackingId"])?
            .ok_or_else(|| ApiError::bad("storeOffer is required."))?;
        Ok(Self {
            offers: offer.strings("offers")?.unwrap_or_default(),
            tracking_id: offer.required("trackingId")?,
            receipt: f.required("receipt")?,
        })
    }
}

#[cfg(test)]
mod tests {
    //! The documents' own request JSON (tests/fixtures/docs), decoded by the
    //! sandbox's reader; and each with one field misspelt, refused.
    use super::*;

    macro_rules! doc {
        ($name:literal) => {
            include_str!(concat!("../../../tests/fixtures/docs/", $name))
        };
    }

    #[test]
    fn the_docs_publisher_query_requests_decode() {
        let r = QueryRequest::v9(doc!("publisher_query_request.json").as_bytes()).unwrap();
        // The doc writes `identitytype`: names match ignoring case.
        assert_eq!(r.beneficiaries.len(), 1);
        assert_eq!(r.beneficiaries[0].identity_type, "b2b");
        assert!(r.beneficiaries[0].identity_value.starts_with("eyJ"));
        let ids: Vec<&str> = r
            .product_sku_ids
            .as_deref()
            .unwrap()
            .iter()
            .map(|p| p.product_id.as_str())
            .collect();
        assert_eq!(
            ids,
            [
                "9N30KZZF4BR9",
                "9MXL21XPWWWK",
                "9PLRFWZWWF91",
                "9MZ0MGGFPLTP"
            ]
        );
        assert_eq!(r.max_page_size, Some(2));
        assert!(r.exclude_duplicates);
        assert_eq!(r.validity, Validity::All);
        let c =
            QueryRequest::v9(doc!("publisher_query_continuation_request.json").as_bytes()).unwrap();
        assert_eq!(
            c.continuation_token.as_deref(),
            Some("{\"checkSatisfactionIndex\":2}")
        );
        // The doc's text as published (a trailing comma) is not JSON.
        assert!(QueryRequest::v9(doc!("publisher_query_request.broken.txt").as_bytes()).is_err());
    }

    #[test]
    fn the_spec_request_examples_decode() {
        let v8 = QueryRequest::v8(doc!("license_preview_request.json").as_bytes()).unwrap();
        assert_eq!(v8.expand_satisfying_items, Some(true));
        assert_eq!(v8.entitlement_filters.as_ref().map(Vec::len), Some(3));
        assert_eq!(v8.continuation_token, None, "an explicit null is absent");
        // v9 removed market / expandSatisfyingItems / entitlementFilters.
        assert!(QueryRequest::v9(doc!("license_preview_request.json").as_bytes()).is_err());
        let c = ConsumeRequest::read(doc!("consume_request.json").as_bytes()).unwrap();
        assert_eq!(
            (
                c.product_id.as_str(),
                c.remove_quantity,
                c.include_order_ids
            ),
            ("9NSDCOIN0500", Some(1), true)
        );
        let o = OrdersRequest::read(doc!("orders_request.json").as_bytes()).unwrap();
        assert_eq!(o.line_item_state_filter.map(|f| f.len()), Some(3));
        let r = RecurrencesRequest::read(doc!("recurrences_request.json").as_bytes()).unwrap();
        assert!(r.b2b_key.starts_with("eyJ"));
        let ch = ChangeRequest::read(doc!("recurrence_change_request.json").as_bytes()).unwrap();
        assert_eq!(
            (ch.change, ch.extension_time_in_days),
            (Change::Extend, Some(7))
        );
        let g = GrantRequest::read(doc!("grant_request.json").as_bytes()).unwrap();
        assert_eq!(
            (g.product_id.as_str(), g.quantity),
            ("9NSDFREEGEMS", Some(1))
        );
        let k = RenewRequest::read(doc!("renew_request.json").as_bytes()).unwrap();
        assert!(k.key.starts_with("eyJ"), "the doc's `Key` is read");
    }

    /// Every documented field of every example, misspelt by one letter, is
    /// refused with a 400 naming it.
    #[test]
    fn a_misspelt_field_in_any_example_is_refused() {
        type Reader = fn(&[u8]) -> Result<(), ApiError>;
        let cases: [(&str, Reader); 9] = [
            (doc!("publisher_query_request.json"), |b| {
                QueryRequest::v9(b).map(drop)
            }),
            (doc!("publisher_query_continuation_request.json"), |b| {
                QueryRequest::v9(b).map(drop)
            }),
            (doc!("license_preview_request.json"), |b| {
                QueryRequest::v8(b).map(drop)
            }),
            (doc!("consume_request.json"), |b| {
                ConsumeRequest::read(b).map(drop)
            }),
            (doc!("orders_request.json"), |b| {
                OrdersRequest::read(b).map(drop)
            }),
            (doc!("recurrences_request.json"), |b| {
                RecurrencesRequest::read(b).map(drop)
            }),
            (doc!("recurrence_change_request.json"), |b| {
                ChangeRequest::read(b).map(drop)
            }),
            (doc!("grant_request.json"), |b| {
                GrantRequest::read(b).map(drop)
            }),
            (doc!("renew_request.json"), |b| {
                RenewRequest::read(b).map(drop)
            }),
        ];
        let mut checked = 0;
        for (text, read) in cases {
            assert!(read(text.as_bytes()).is_ok(), "{text}");
            let v: serde_json::Value = serde_json::from_str(text).unwrap();
            let mut paths = Vec::new();
            collect_fields(&v, &mut Vec::new(), &mut paths);
            for path in paths {
                let mut bad = v.clone();
                let wrong = misspell(&mut bad, &path);
                let e = read(&serde_json::to_vec(&bad).unwrap())
                    .err()
                    .unwrap_or_else(|| panic!("{wrong:?} accepted in {text}"));
                assert_eq!(e.status, axum::http::StatusCode::BAD_REQUEST);
                let msg = e.body.message.clone().unwrap_or_default();
                assert!(msg.contains(&wrong), "{msg} should name {wrong}");
                checked += 1;
            }
        }
        assert!(checked >= 40, "only {checked} fields checked");
    }

    /// Paths (object keys, array index 0 into objects) of every field.
    fn collect_fields(v: &serde_json::Value, at: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, child) in m {
                    at.push(k.clone());
                    out.push(at.clone());
                    collect_fields(child, at, out);
                    at.pop();
                }
            }
            serde_json::Value::Array(items) => {
                if let Some(first) = items.first().filter(|f| f.is_object()) {
                    at.push("#0".into());
                    collect_fields(first, at, out);
                    at.pop();
                }
            }
            _ => {}
        }
    }

    /// Rename the field at `path` by dropping its last letter (`productSkuIds`
    /// → `productSkuId`); returns the new name.
    fn misspell(v: &mut serde_json::Value, path: &[String]) -> String {
        let (last, parents) = path.split_last().unwrap();
        let mut cur = v;
        for p in parents {
            cur = if p == "#0" {
                &mut cur[0]
            } else {
                &mut cur[p.as_str()]
            };
        }
        let m = cur.as_object_mut().unwrap();
        let value = m.remove(last).unwrap();
        let wrong = last[..last.len() - 1].to_string();
        m.insert(wrong.clone(), value);
        wrong
    }
}
