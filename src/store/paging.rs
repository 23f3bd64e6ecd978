//! The one paging loop over continuation tokens, used by every paged call
//! (v9, v8, orders, recurrences). Each page's items are handed out as they
//! arrive so the UI can draw the first page at once; the loop is
//! cancellable between and during pages.

use super::error::{CallMeta, Response, StoreError};
use std::future::Future;
use tokio_util::sync::CancellationToken;

/// How far paging has got.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PageProgress {
    /// Pages received so far (across all chunks of a chunked query).
    pub pages: u32,
    /// Items received so far.
    pub items: usize,
    /// Collection calls the customer has left, where a budget applies.
    pub calls_left: Option<u32>,
}

/// One page as it arrives. The items are the caller's to keep.
#[derive(Debug)]
pub struct PageEvent<T> {
    pub items: Vec<T>,
    pub progress: PageProgress,
    pub meta: CallMeta,
}

/// What a finished paging run did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PagingSummary {
    pub progress: PageProgress,
    /// Meta of the last page (status, correlation ids, attempts).
    pub last: Option<CallMeta>,
}

/// A page as every paged endpoint answers it.
pub trait Paged {
    type Item;
    fn into_parts(self) -> (Vec<Self::Item>, Option<String>);
}

macro_rules! paged {
    ($t:ty => $item:ty) => {
        impl Paged for $t {
            type Item = $item;
            fn into_parts(self) -> (Vec<$item>, Option<String>) {
                (self.items, self.continuation_token)
            }
        }
    };
}
paged!(super::model::QueryResponse => super::model::Entitlement);
paged!(super::model::OrdersQueryResponse => super::model::Order);
paged!(super::model::RecurrencesQueryResponse => super::model::Recurrence);

/// The most pages one loop follows: the whale's 10,000 items are 100 pages
/// of v9; a service handing out tokens without end is stopped here.
pub const MAX_PAGES: usize = 1_000;

/// Page until the service stops handing out continuation tokens.
///
/// `fetch(token)` makes one call for the page after `token` (None = first);
/// `on_page` receives each page; `calls_left` is read after each page for
/// the progress line. `start` lets a chunked query continue counting.
pub async fn paginate<P, F, Fut>(
    op: &'static str,
    cancel: &CancellationToken,
    start: PageProgress,
    mut fetch: F,
    calls_left: &(dyn Fn() -> Option<u32> + Send + Sync),
    on_page: &mut (dyn FnMut(PageEvent<P::Item>) + Send),
) -> Result<PagingSummary, StoreError>
where
    P: Paged,
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<Response<P>, StoreError>>,
{
    let mut progress = start;
    let mut token: Option<String> = None;
    // Every token handed out so far: A→B→A would loop as surely as A→A.
    let mut seen = std::collections::HashSet::new();
    let mut pages = 0usize;
    let stop = |message: String| -> StoreError {
        super::error::ErrorInfo {
            sent: true,
            ..super::error::ErrorInfo::new(super::error::ErrorKind::Decode, op, message)
        }
        .into()
    };
    loop {
        if cancel.is_cancelled() {
            return Err(StoreError::cancelled(op));
        }
        let resp = tokio::select! {
            biased;
            _ = cancel.cancelled() => return Err(StoreError::cancelled(op)),
            r = fetch(token.clone()) => r?,
        };
        let (items, next) = resp.value.into_parts();
        pages += 1;
        progress.pages += 1;
        progress.items += items.len();
        progress.calls_left = calls_left();
        on_page(PageEvent {
            items,
            progress,
            meta: resp.meta.clone(),
        });
        match next.filter(|t| !t.is_empty()) {
            None => {
                return Ok(PagingSummary {
                    progress,
                    last: Some(resp.meta),
                });
            }
            // A service repeating a token it gave before would loop forever.
            Some(t) if token.as_deref() == Some(t.as_str()) || seen.contains(&t) => {
                return Err(stop(format!(
                    "the service returned the same continuation token twice (page {}): stopped instead of looping",
                    progress.pages
                )));
            }
            Some(_) if pages >= MAX_PAGES => {
                return Err(stop(format!(
                    "stopped after {MAX_PAGES} pages: the service keeps handing out continuation tokens (page {})",
                    progress.pages
                )));
            }
            Some(t) => {
                seen.insert(t.clone());
                token = Some(t);
            }
        }
    }
}

/// Unique ids in their first order, in chunks of at most `size`.
pub fn chunk_ids(ids: &[String], size: usize) -> Vec<Vec<String>> {
    let mut seen = std::collections::HashSet::new();
    let unique: Vec<String> = ids
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty() && seen.insert(s.to_string()))
        .map(String::from)
        .collect();
    unique.chunks(size.max(1)).map(<[String]>::to_vec).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::model::QueryResponse;

    fn page(n: usize, next: Option<&str>) -> Response<QueryResponse> {
        let items = (0..n)
            .map(|i| serde_json::json!({"id": format!("e{i}"), "productId": "P"}))
            .collect::<Vec<_>>();
        let body = serde_json::json!({"continuationToken": next, "items": items}).to_string();
        Response {
            value: serde_json::from_str(&body).unwrap(),
            meta: CallMeta {
                status: 200,
                ..CallMeta::default()
            },
        }
    }

    #[tokio::test]
    async fn follows_tokens_and_reports_each_page() {
        let cancel = CancellationToken::new();
        let mut seen_tokens = Vec::new();
        let mut events = Vec::new();
        let sum = paginate::<QueryResponse, _, _>(
            "q",
            &cancel,
            PageProgress::default(),
            |tok| {
                seen_tokens.push(tok.clone());
                let r = match tok.as_deref() {
                    None => page(3, Some("t1")),
                    Some("t1") => page(3, Some("t2")),
                    _ => page(1, Some("")),
                };
                async move { Ok(r) }
            },
            &|| Some(42),
            &mut |ev| events.push((ev.items.len(), ev.progress)),
        )
        .await
        .unwrap();
        assert_eq!(
            seen_tokens,
            vec![None, Some("t1".into()), Some("t2".into())]
        );
        assert_eq!(sum.progress.pages, 3);
        assert_eq!(sum.progress.items, 7);
        assert_eq!(events[0].0, 3);
        assert_eq!(events[0].1.items, 3);
        assert_eq!(events[2].1.calls_left, Some(42));
    }

    #[tokio::test]
    async fn repeated_token_is_an_error_not_a_loop() {
        let cancel = CancellationToken::new();
        let e = paginate::<QueryResponse, _, _>(
            "q",
            &cancel,
            PageProgress::default(),
            |_| async { Ok(page(1, Some("same"))) },
            &|| None,
            &mut |_| {},
        )
        .await
        .unwrap_err();
        assert!(e.message.contains("same continuation token"), "{e}");
    }

    /// A→B→A: a token seen before, not just the last one, ends the loop
    /// (the old check compared with the last token only and looped).
    #[tokio::test]
    async fn a_cycle_of_tokens_is_an_error_not_a_loop() {
        let cancel = CancellationToken::new();
        let mut calls = 0;
        let e = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            paginate::<QueryResponse, _, _>(
                "q",
                &cancel,
                PageProgress::default(),
                |tok| {
                    calls += 1;
                    let next = if tok.as_deref() == Some("A") {
                        "B"
                    } else {
                        "A"
                    };
                    async move { Ok(page(1, Some(next))) }
                },
                &|| None,
                &mut |_| {},
            ),
        )
        .await
        .expect("the loop never ended")
        .unwrap_err();
        assert!(e.message.contains("same continuation token"), "{e}");
        assert_eq!(calls, 3);
    }

    /// Fresh tokens without end stop at MAX_PAGES.
    #[tokio::test]
    async fn endless_fresh_tokens_stop_at_the_bound() {
        let cancel = CancellationToken::new();
        let mut n = 0u64;
        let e = paginate::<QueryResponse, _, _>(
            "q",
            &cancel,
            PageProgress::default(),
            |_| {
                n += 1;
                let next = format!("t{n}");
                async move { Ok(page(0, Some(&next))) }
            },
            &|| None,
            &mut |_| {},
        )
        .await
        .unwrap_err();
        assert!(e.message.contains("stopped after 1000 pages"), "{e}");
        assert_eq!(n, MAX_PAGES as u64);
    }

    #[tokio::test]
    async fn cancelled_before_start() {
        let cancel = CancellationToken::new();
        cancel.cancel();
        let e = paginate::<QueryResponse, _, _>(
            "q",
            &cancel,
            PageProgress::default(),
            |_| async { Ok(page(1, None)) },
            &|| None,
            &mut |_| {},
        )
        .await
        .unwrap_err();
        assert_eq!(e.kind, crate::store::error::ErrorKind::Cancelled);
    }

    #[test]
    fn chunks_dedupe_and_split_by_size() {
        let ids: Vec<String> = (0..250).map(|i| format!("P{}", i % 230)).collect();
        let c = chunk_ids(&ids, 100);
        assert_eq!(
            c.iter().map(Vec::len).collect::<Vec<_>>(),
            vec![100, 100, 30]
        );
        assert_eq!(c[0][0], "P0");
        assert!(chunk_ids(&[" ".into()], 100).is_empty());
    }
}
