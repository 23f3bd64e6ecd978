//! Clawback v2: the SAS token call and the Azure-Storage-Queue subset
//! (peek, receive, delete) the events arrive on (STORE-API.md §6).

use super::client::{Auth, Call, StoreClient, decode_error};
use super::error::{Response, StoreError};
use super::model::{ClawbackEvent, QueueMessage, SasTokenResponse, queue_messages_from_xml};

const PATH_SAS: &str = "/v8.0/b2b/clawback/sastoken";

/// One queue message and the event decoded from it. A message that does
/// not decode is kept with the reason, so one bad message never hides the others.
#[derive(Clone, Debug)]
pub struct QueueEvent {
    pub message: QueueMessage,
    pub event: Result<ClawbackEvent, String>,
}

/// The text of the first `<tag>…</tag>`, entities unescaped.
pub(crate) fn xml_text(xml: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let s = xml.find(&open)? + open.len();
    let e = xml[s..].find(&close)? + s;
    let t = &xml[s..e];
    Some(
        t.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&"),
    )
}

impl StoreClient {
    /// `GET …/b2b/clawback/sastoken`: where the queue is and until when the
    /// signature holds. The URI is a credential: never log or show it whole.
    pub async fn clawback_sas(&self) -> Result<Response<SasTokenResponse>, StoreError> {
        let url = Self::url(&self.endpoints().purchase, PATH_SAS);
        self.call_json(Call::get("clawbackSas", url)).await
    }

    fn queue_url(
        &self,
        op: &'static str,
        sas_uri: &str,
        extra_path: &[&str],
        params: &[(&str, String)],
    ) -> Result<String, StoreError> {
        self.check_foreign_url(op, sas_uri)?;
        let mut url = reqwest::Url::parse(sas_uri)
            .map_err(|_| StoreError::config(op, "the clawback queue SAS URI is not a URL"))?;
        {
            let mut segs = url
                .path_segments_mut()
                .map_err(|_| StoreError::config(op, "the clawback queue SAS URI has no path"))?;
            segs.pop_if_empty();
            for p in extra_path {
                segs.push(p);
            }
        }
        {
            let mut q = url.query_pairs_mut();
            for (k, v) in params {
                q.append_pair(k, v);
            }
        }
        Ok(url.into())
    }

    async fn queue_get(
        &self,
        op: &'static str,
        sas_uri: &str,
        params: &[(&str, String)],
    ) -> Result<Response<Vec<QueueEvent>>, StoreError> {
        let url = self.queue_url(op, sas_uri, &["messages"], params)?;
        let raw = self.execute(Call::get(op, url).auth(Auth::None)).await?;
        let text = std::str::from_utf8(&raw.body)
            .map_err(|_| decode_error(op, &raw.meta, "queue answer is not UTF-8", None))?;
        let msgs = queue_messages_from_xml(text)
            .map_err(|e| decode_error(op, &raw.meta, &e.to_string(), None))?;
        let events = msgs
            .into_iter()
            .map(|m| QueueEvent {
                event: ClawbackEvent::from_message_text(&m.message_text).map_err(|e| e.to_string()),
                message: m,
            })
            .collect();
        Ok(Response {
            value: events,
            meta: raw.meta,
        })
    }

    /// Look at up to `max` (1–32) events without hiding them: what a support
    /// console does unless the operator acknowledges.
    pub async fn queue_peek(
        &self,
        sas_uri: &str,
        max: u8,
    ) -> Result<Response<Vec<QueueEvent>>, StoreError> {
        let n = max.clamp(1, 32).to_string();
        self.queue_get(
            "queuePeek",
            sas_uri,
            &[("numofmessages", n), ("peekonly", "true".into())],
        )
        .await
    }

    /// Receive up to `max` (1–32) events, hiding them for `visibility_secs`
    /// (None = the queue's 30 s); each carries the pop receipt for delete.
    pub async fn queue_receive(
        &self,
        sas_uri: &str,
        max: u8,
        visibility_secs: Option<u32>,
    ) -> Result<Response<Vec<QueueEvent>>, StoreError> {
        let mut params = vec![("numofmessages", max.clamp(1, 32).to_string())];
        if let Some(v) = visibility_secs {
            params.push(("visibilitytimeout", v.clamp(1, 604_800).to_string()));
        }
        self.queue_get("queueReceive", sas_uri, &params).await
    }

    /// `GET <queue>?comp=metadata`: the queue's approximate length
    /// (`x-ms-approximate-messages-count`), which a peek of at most 32
    /// cannot tell. `None` when the answer carries no readable count.
    pub async fn queue_metadata(&self, sas_uri: &str) -> Result<Response<Option<u64>>, StoreError> {
        const OP: &str = "queueMetadata";
        let url = self.queue_url(OP, sas_uri, &[], &[("comp", "metadata".into())])?;
        let raw = self.execute(Call::get(OP, url).auth(Auth::None)).await?;
        let count = raw
            .headers
            .get("x-ms-approximate-messages-count")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok());
        Ok(Response {
            value: count,
            meta: raw.meta,
        })
    }

    /// Acknowledge (delete) a received event. A write: never retried here.
    pub async fn queue_delete(
        &self,
        sas_uri: &str,
        message_id: &str,
        pop_receipt: &str,
    ) -> Result<Response<()>, StoreError> {
        const OP: &str = "queueDelete";
        if message_id.is_empty() || pop_receipt.is_empty() {
            return Err(StoreError::config(
                OP,
                "delete needs a message id and a pop receipt (receive, not peek)",
            ));
        }
        let url = self.queue_url(
            OP,
            sas_uri,
            &["messages", message_id],
            &[("popreceipt", pop_receipt.to_string())],
        )?;
        let call = Call {
            method: reqwest::Method::DELETE,
            ..Call::get(OP, url).auth(Auth::None).write()
        };
        let raw = self.execute(call).await?;
        Ok(Response {
            value: (),
            meta: raw.meta,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_text_reads_and_unescapes() {
        let x = "<Error><Code>A&amp;B</Code><Message>m &lt;1&gt;</Message></Error>";
        assert_eq!(xml_text(x, "Code").as_deref(), Some("A&B"));
        assert_eq!(xml_text(x, "Message").as_deref(), Some("m <1>"));
        assert_eq!(xml_text(x, "Nope"), None);
        assert_eq!(xml_text("<Code>unterminated", "Code"), None);
    }
}
