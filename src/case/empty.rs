//! Why a listing came back empty. An empty answer from the collections
//! service is not proof that a customer owns nothing: the documented causes
//! are configuration mistakes on the publisher's side, so the console and
//! the headless command list them instead of a bare "owns nothing".

/// What is known about the query that came back empty.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EmptyQuery<'a> {
    /// The environment the profile talks to (its `sbx`, or `RETAIL`), when
    /// known here.
    pub environment: Option<&'a str>,
    /// v9: how many product ids were asked about; `None` for v8.
    pub v9_products: Option<usize>,
}

/// The documented causes of an empty listing, most likely first; each
/// names what to check and where.
pub fn empty_causes(q: &EmptyQuery<'_>) -> Vec<String> {
    let env = match q.environment {
        Some("RETAIL") => "this profile sends no sbx (RETAIL)".to_string(),
        Some(s) => format!("this profile sends sbx {s}"),
        None => "check the profile's sbx against the sandbox the key was minted in".to_string(),
    };
    let mut out = vec![
        "the product is not configured for these Store ids in Partner Center (the app's Entra application id must be associated with the product under Product collections and purchases)".to_string(),
        format!(
            "wrong sbx: a key minted in a development sandbox lists nothing in another one or in RETAIL; {env} (profile field sbx)"
        ),
        "a purchase key (UserPurchaseId) where a collections key (UserCollectionsId) is needed: the key must come from GetCustomerCollectionsIdAsync".to_string(),
    ];
    match q.v9_products {
        Some(n) => out.push(format!(
            "product ids not in the profile: v9 lists only the {n} product id(s) it asks about (profile field product_ids); v8 lists everything"
        )),
        None => out.push(
            "product ids not in the profile: with product_ids set, v9 asks about those products only".to_string(),
        ),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_every_documented_cause_and_the_profiles_fields() {
        let c = empty_causes(&EmptyQuery {
            environment: Some("XDKS.1"),
            v9_products: Some(3),
        });
        let all = c.join("\n");
        for want in [
            "Partner Center",
            "sbx XDKS.1",
            "UserPurchaseId",
            "UserCollectionsId",
            "3 product id(s)",
            "product_ids",
        ] {
            assert!(all.contains(want), "{want}: {all}");
        }
        let retail = EmptyQuery {
            environment: Some("RETAIL"),
            v9_products: None,
        };
        assert!(empty_causes(&retail).join("\n").contains("no sbx (RETAIL)"));
        assert!(
            empty_causes(&EmptyQuery::default())
                .join("\n")
                .contains("profile's sbx")
        );
    }
}
