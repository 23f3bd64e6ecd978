//! Targeted offers (STORE-API.md §9). These use the *user's* MSA token,
//! which the caller passes in — never the service token.

use super::client::{Auth, Call, StoreClient, decode_json};
use super::error::{Response, StoreError};
use super::model::{ClaimOfferRequest, TargetedOffer};

const PATH_OFFERS: &str = "/v2.0/my/storeoffers/user";

fn msa(op: &'static str, token: &str) -> Result<Auth, StoreError> {
    let t = token.trim();
    let t = t.strip_prefix("Bearer ").unwrap_or(t).trim();
    if t.is_empty() || t.chars().any(|c| c.is_control() || c == ' ') {
        return Err(StoreError::config(
            op,
            "the MSA token is empty or malformed",
        ));
    }
    Ok(Auth::Bearer(t.to_string()))
}

impl StoreClient {
    /// The targeted offers open to the user the MSA token belongs to.
    pub async fn targeted_offers(
        &self,
        msa_token: &str,
    ) -> Result<Response<Vec<TargetedOffer>>, StoreError> {
        const OP: &str = "targetedOffers";
        let url = Self::url(&self.endpoints().devcenter, PATH_OFFERS);
        let call = Call::get(OP, url).auth(msa(OP, msa_token)?);
        let raw = self.execute(call).await?;
        // No offers may come back as an empty body or `null`.
        if raw.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Response {
                value: Vec::new(),
                meta: raw.meta,
            });
        }
        let resp = decode_json::<Option<Vec<TargetedOffer>>>(OP, raw, None)?;
        Ok(resp.map(Option::unwrap_or_default))
    }

    /// Claim a converted offer. A write: never retried here. The service
    /// answers with an empty body; anything it sends is ignored.
    pub async fn claim_offer(
        &self,
        msa_token: &str,
        req: &ClaimOfferRequest,
    ) -> Result<Response<()>, StoreError> {
        const OP: &str = "claimOffer";
        let url = Self::url(&self.endpoints().devcenter, PATH_OFFERS);
        let call = Call::post_json(OP, url, req)?
            .auth(msa(OP, msa_token)?)
            .write();
        let raw = self.execute(call).await?;
        Ok(Response {
            value: (),
            meta: raw.meta,
        })
    }
}
