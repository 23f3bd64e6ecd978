//! Purchase: orders, subscriptions (recurrences) and grants (STORE-API.md §5, §7, §8).

use super::client::{Call, StoreClient};
use super::error::{Response, StoreError};
use super::model::{
    GrantRequest, LineItemState, Order, OrdersQueryRequest, OrdersQueryResponse, PurchaseOrder,
    Recurrence, RecurrenceChangeRequest, RecurrenceChangeResponse, RecurrencesQueryRequest,
    RecurrencesQueryResponse,
};
use super::paging::{PageEvent, PageProgress, PagingSummary, paginate};
use tokio_util::sync::CancellationToken;

const PATH_ORDERS: &str = "/v8.0/b2b/orders/query";
const PATH_RECURRENCES: &str = "/v8.0/b2b/recurrences/query";
const PATH_GRANT: &str = "/v6.0/purchases/grant";

/// Percent-encode a path segment (recurrence ids carry `:`, which is fine).
fn segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b':') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl StoreClient {
    /// One page of the orders query (UserPurchaseId in `b2bKey`).
    pub async fn orders_page(
        &self,
        req: &OrdersQueryRequest,
    ) -> Result<Response<OrdersQueryResponse>, StoreError> {
        let mut req = req.clone();
        if req.sbx.is_none() {
            req.sbx = self.sbx();
        }
        let url = Self::url(&self.endpoints().purchase, PATH_ORDERS);
        self.call_json(Call::post_json("ordersQuery", url, &req)?)
            .await
    }

    /// Every order of the last 90 days, paged. (The doc asks for at most
    /// one such call a day per user; that is the caller's pace to keep.)
    pub async fn orders(
        &self,
        purchase_key: &str,
        states: Option<Vec<LineItemState>>,
        cancel: &CancellationToken,
        mut on_page: impl FnMut(PageEvent<Order>) + Send,
    ) -> Result<PagingSummary, StoreError> {
        let base = OrdersQueryRequest {
            b2b_key: purchase_key.to_string(),
            line_item_state_filter: states,
            ..Default::default()
        };
        paginate::<OrdersQueryResponse, _, _>(
            "ordersQuery",
            cancel,
            PageProgress::default(),
            |token| {
                let mut req = base.clone();
                req.continuation_token = token;
                async move { self.orders_page(&req).await }
            },
            &|| None,
            &mut on_page,
        )
        .await
    }

    /// One page of the subscriptions query.
    pub async fn recurrences_page(
        &self,
        req: &RecurrencesQueryRequest,
    ) -> Result<Response<RecurrencesQueryResponse>, StoreError> {
        let mut req = req.clone();
        if req.sbx.is_none() {
            req.sbx = self.sbx();
        }
        let url = Self::url(&self.endpoints().purchase, PATH_RECURRENCES);
        self.call_json(Call::post_json("recurrencesQuery", url, &req)?)
            .await
    }

    /// Every subscription of the customer, paged.
    pub async fn recurrences(
        &self,
        purchase_key: &str,
        cancel: &CancellationToken,
        mut on_page: impl FnMut(PageEvent<Recurrence>) + Send,
    ) -> Result<PagingSummary, StoreError> {
        let base = RecurrencesQueryRequest {
            b2b_key: purchase_key.to_string(),
            ..Default::default()
        };
        paginate::<RecurrencesQueryResponse, _, _>(
            "recurrencesQuery",
            cancel,
            PageProgress::default(),
            |token| {
                let mut req = base.clone();
                req.continuation_token = token;
                async move { self.recurrences_page(&req).await }
            },
            &|| None,
            &mut on_page,
        )
        .await
    }

    /// Cancel / Extend / Refund / ToggleAutoRenew a subscription. A write:
    /// never retried here. Accepts the answer bare or wrapped in `{items:[..]}`.
    pub async fn change_recurrence(
        &self,
        recurrence_id: &str,
        req: &RecurrenceChangeRequest,
    ) -> Result<Response<Recurrence>, StoreError> {
        const OP: &str = "recurrenceChange";
        if recurrence_id.trim().is_empty() {
            return Err(StoreError::config(OP, "no recurrence id"));
        }
        let mut req = req.clone();
        if req.sbx.is_none() {
            req.sbx = self.sbx();
        }
        let path = format!(
            "/v8.0/b2b/recurrences/{}/change",
            segment(recurrence_id.trim())
        );
        let url = Self::url(&self.endpoints().purchase, &path);
        let resp = self
            .call_json::<RecurrenceChangeResponse>(Call::post_json(OP, url, &req)?.write())
            .await?;
        Ok(resp.map(|r| r.0))
    }

    /// Grant a free product. A write: never retried here — the journal
    /// replays it with the same orderId, which the Store treats as the same grant.
    pub async fn grant(&self, req: &GrantRequest) -> Result<Response<PurchaseOrder>, StoreError> {
        const OP: &str = "grant";
        if req.order_id.trim().is_empty() {
            return Err(StoreError::config(
                OP,
                "a grant needs an orderId (its idempotency key)",
            ));
        }
        let url = Self::url(&self.endpoints().purchase, PATH_GRANT);
        let r = self.call_json(Call::post_json(OP, url, req)?.write()).await;
        if r.is_ok() {
            // A new order: today's orders read no longer tells the truth.
            self.forget_orders(&req.b2b_key);
        }
        r
    }
}

/// Why a grant of `quantity` of a product of `kind` is refused before it
/// is sent: the docs restrict an unmanaged consumable to quantity 1 (its
/// balance lives in the publisher's own service; a grant gives one).
pub fn grant_quantity_refusal(kind: Option<&str>, quantity: u32) -> Option<String> {
    let unmanaged = kind.is_some_and(|k| k.trim().eq_ignore_ascii_case("UnmanagedConsumable"));
    (unmanaged && quantity != 1).then(|| {
        format!(
            "quantity {quantity}: an UnmanagedConsumable is granted with quantity 1 only (the docs restrict it); grant once, and add the rest in your own service"
        )
    })
}

/// Why turning auto-renew off would not be a write: it is off already,
/// and ToggleAutoRenew can only turn it off.
pub fn auto_renew_off_noop(auto_renew: bool) -> Option<&'static str> {
    (!auto_renew).then_some(
        "auto-renew is already off: nothing to change (ToggleAutoRenew only turns it off); nothing was sent or journaled",
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_an_unmanaged_consumable_is_held_to_quantity_1() {
        let r = super::grant_quantity_refusal;
        assert!(r(Some("UnmanagedConsumable"), 2).is_some());
        assert!(
            r(Some("unmanagedconsumable"), 5)
                .unwrap()
                .contains("quantity 1")
        );
        assert!(r(Some("UnmanagedConsumable"), 1).is_none());
        assert!(r(Some("Durable"), 3).is_none());
        assert!(r(None, 3).is_none());
    }

    #[test]
    fn recurrence_ids_stay_readable_in_paths() {
        assert_eq!(super::segment("mdr:0:abc:1-2"), "mdr:0:abc:1-2");
        assert_eq!(super::segment("a/b?c"), "a%2Fb%3Fc");
    }
}
