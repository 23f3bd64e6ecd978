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
    let line = outcome_line(&req, journal::execute(&**j, &sender, &req, actor).await);
    let new_key = sender.new_key.lock().ok().and_then(|mut k| k.take());
    WriteReport { line, new_key }
}

/// The status line for a finished write. A pending write is not resent by
/// anything on its own: the line says so, and how to settle it.
pub fn outcome_line(
    req: &WriteRequest,
    outcome: Result<WriteOutcome, journal::JournalError>,
) -> Result<String, String> {
    match outcome {
        Ok(WriteOutcome::Done { result, .. }) => Ok(format!("{}: done · {result}", req.summary)),
        Ok(WriteOutcome::Failed { reason, .. }) => {
            Err(format!("{}: refused · {reason}", req.summary))
        }
        Ok(WriteOutcome::Pending { write_id, reason }) => {
            let how = if WriteRequest::replay_is_safe(req.kind, &req.body) {
                ":replay sends it again with the same key (storedesk pending --replay headless); \
                 :resolve settles it by hand after checking the Store"
            } else {
                "replay will not resend this change (a second one could apply twice): \
                 check the Store, then :resolve it (storedesk pending --resolve headless)"
            };
            Err(format!(
                "{}: no definite answer ({reason}); kept as pending write #{write_id}, which nothing resends on its own — {how}",
                req.summary
            ))
        }
        Err(e) => Err(format!("not sent: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(req: &WriteRequest) -> String {
        let out = Ok(WriteOutcome::Pending {
            write_id: 9,
            reason: "timeout after 20 s".into(),
        });
        outcome_line(req, out).expect_err("pending is not done")
    }

    /// Issue 14 point 3: the console said "will be replayed" when nothing
    /// replays a pending write; it says how to replay or resolve it.
    #[test]
    fn a_pending_write_says_how_to_settle_it() {
        let consume = WriteRequest::consume("k.e.y", "9NSDCOIN0500", Some(1), None);
        let line = pending(&consume);
        assert!(!line.contains("will be replayed"), "{line}");
        assert!(line.contains("pending write #9"), "{line}");
        assert!(line.contains("nothing resends on its own"), "{line}");
        assert!(
            line.contains(":replay") && line.contains(":resolve"),
            "{line}"
        );
        let extend = WriteRequest::recurrence_change("k.e.y", "r1", "Extend", Some(5), None);
        let line = pending(&extend);
        assert!(line.contains("replay will not resend"), "{line}");
        assert!(line.contains(":resolve"), "{line}");
    }
}
