//! The Key pane's jobs (renewal, targeted offers), run by the runtime on a
//! task — and by tests the same way, minus the terminal.

use crate::journal::Actor;
use crate::store::StoreClient;
use crate::tui::panes::key::{KeyJob, KeyPaneEvent};
use crate::tui::writes::SharedJournal;

/// Run one job; `None` client means "not connected yet".
pub async fn run(
    client: Option<&StoreClient>,
    journal: &SharedJournal,
    actor: &Actor,
    job: KeyJob,
) -> KeyPaneEvent {
    const OFFLINE: &str = "not connected to a Store yet";
    match job {
        KeyJob::Renew { slot, request } => {
            let Some(client) = client else {
                return KeyPaneEvent::Renewed {
                    slot,
                    result: Err(OFFLINE.into()),
                };
            };
            let report = crate::tui::writes::run(client, journal, actor, request).await;
            let result = match (report.line, report.new_key) {
                (Ok(_), Some(k)) => Ok(k),
                (Ok(line), None) => Err(format!("{line}, but no new key came back")),
                (Err(e), _) => Err(e),
            };
            KeyPaneEvent::Renewed { slot, result }
        }
        KeyJob::FetchOffers { token } => {
            let Some(client) = client else {
                return KeyPaneEvent::Offers(Err(OFFLINE.into()));
            };
            let result = client
                .targeted_offers(&token)
                .await
                .map(|r| r.value)
                .map_err(|e| match e.hint() {
                    Some(h) => format!("{e} ({h})"),
                    None => e.to_string(),
                });
            KeyPaneEvent::Offers(result)
        }
        KeyJob::ClaimOffer { request } => {
            let Some(client) = client else {
                return KeyPaneEvent::OfferClaimed(Err(format!("not sent: {OFFLINE}")));
            };
            let report = crate::tui::writes::run(client, journal, actor, request).await;
            KeyPaneEvent::OfferClaimed(report.line)
        }
    }
}
