//! The console's one path for a confirmed write: journal it as pending,
//! send it once with its idempotency key, settle it on a definite answer —
//! `journal::execute` does that; this module turns the outcome into one line
//! for the status bar, and hands a renewed key back to the Key pane.

use crate::journal::{
    self, Actor, JournalStore, SendResult, WriteKind, WriteOutcome, WriteRequest, WriteSender,
};
use crate::store::StoreClient;
use std::sync::{Arc, Mutex};

/// The console's one journal, opened once for the process with its clock,
/// or why it could not be opened (writes are then refused before sending).
pub type SharedJournal = Result<Arc<dyn JournalStore>, String>;

/// What a finished write means for the screen.
#[derive(Clone)]
pub struct WriteReport {
    /// One line: done, refused, or pending with how to replay.
    pub line: Result<String, String>,
    /// A renewal's new key (never journaled: it is a credential).
    pub new_key: Option<String>,
}

impl std::fmt::Debug for WriteReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteReport")
            .field("line", &self.line)
            .field(
                "new_key",
                &self.new_key.as_deref().map(crate::keys::fingerprint),
            )
            .finish()
    }
}

/// Sends through the client, keeping a renewal's new key for the caller.
struct Capturing<'a> {
    client: &'a StoreClient,
    new_key: Mutex<Option<String>>,
}

impl WriteSender for Capturing<'_> {
    async fn send(&self, req: &WriteRequest) -> SendResult {
        {
            if req.kind != WriteKind::RenewKey {
                return self.client.send(req).await;
            }
            match self.client.renew_key(&req.customer_key).await {
                Ok(resp) => {
                    let fp = crate::keys::fingerprint(&resp.value);
                    if let Ok(mut slot) = self.new_key.lock() {
                        *slot = Some(resp.value);
                    }
                    SendResult::Applied {
                        status: resp.meta.status,
                        response: serde_json::json!({ "newKey": fp }),
                        correlation: (&resp.meta.correlation).into(),
                    }
                }
                Err(e) => journal::sender::from_error(&e),
            }
        }
    }
}

/// Run one confirmed write through the journal.
pub async fn run(
    client: &StoreClient,
    journal: &SharedJournal,
    actor: &Actor,
    req: WriteRequest,
) -> WriteReport {
    let j = match journal {
        Ok(j) => j,
        Err(e) => {
            return WriteReport {
                line: Err(format!("not sent: the journal cannot be opened ({e})")),
                new_key: None,
            };
        }
    };
    let sender = Capturing {
        client,
        new_key: Mutex::new(None),
    };
    let line = match journal::execute(&**j, &sender, &req, actor).await {
        Ok(WriteOutcome::Done { result, .. }) => Ok(format!("{}: done · {result}", req.summary)),
        Ok(WriteOutcome::Failed { reason, .. }) => {
            Err(format!("{}: refused · {reason}", req.summary))
        }
        Ok(WriteOutcome::Pending { write_id, reason }) => Err(format!(
            "{}: no definite answer ({reason}); pending write #{write_id} will be replayed with the same key (:replay or storedesk pending --replay)",
            req.summary
        )),
        Err(e) => Err(format!("not sent: {e}")),
    };
    let new_key = sender.new_key.lock().ok().and_then(|mut k| k.take());
    WriteReport { line, new_key }
}
