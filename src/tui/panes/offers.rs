//! Targeted offers, from the Key pane: ask for the user's MSA token, list
//! the offers open to them, and claim one — the claim is a write, so it goes
//! through the confirmation dialog and the journal like every other.

use crate::journal::WriteRequest;
use crate::store::model::TargetedOffer;
use crate::tui::action::Effect;
use crate::tui::keymap::{self, Command, Scope};
use crate::tui::panes::key::KeyJob;
use crate::tui::panes::{PaneCtx, PaneId, PaneJob, PaneOutput};
use crate::tui::theme::Theme;
use crate::tui::widgets::centered;
use crate::tui::widgets::confirm::ConfirmDialog;
use crate::tui::widgets::form::{Form, FormOutcome};
use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

/// Where the flow is. The MSA token is the user's credential: it lives here
/// only while the flow is open and is never shown once typed.
#[derive(Default)]
pub enum OfferFlow {
    #[default]
    Idle,
    AskToken(Form),
    Loading {
        token: String,
    },
    List {
        token: String,
        offers: Vec<TargetedOffer>,
        selected: usize,
    },
    AskReceipt {
        token: String,
        offer: TargetedOffer,
        form: Form,
    },
}

fn token_form() -> Form {
    Form::new(
        "Targeted offers · the user's MSA token",
        &[(
            "MSA token",
            "paste it (on the embedded sandbox the user's purchase key stands in)",
            "",
        )],
    )
    .secret(0)
}

impl OfferFlow {
    pub fn start(&mut self) {
        *self = OfferFlow::AskToken(token_form());
    }

    pub fn is_active(&self) -> bool {
        !matches!(self, OfferFlow::Idle)
    }

    pub fn paste(&mut self, text: &str) {
        match self {
            OfferFlow::AskToken(f) | OfferFlow::AskReceipt { form: f, .. } => f.insert_str(text),
            _ => {}
        }
    }

    pub fn on_key(&mut self, k: KeyEvent, ctx: &PaneCtx) -> PaneOutput {
        match self {
            OfferFlow::Idle => PaneOutput::none(),
            OfferFlow::AskToken(form) => match form.on_key(k) {
                FormOutcome::Editing => PaneOutput::none(),
                FormOutcome::Cancelled => self.cancel(),
                FormOutcome::Submitted => {
                    let token = form.value(0).to_string();
                    if token.is_empty() {
                        form.error = Some("the MSA token is required".into());
                        return PaneOutput::none();
                    }
                    *self = OfferFlow::Loading {
                        token: token.clone(),
                    };
                    PaneOutput::effect(Effect::Pane(
                        PaneId::Key,
                        PaneJob::Key(KeyJob::FetchOffers { token }),
                    ))
                }
            },
            OfferFlow::Loading { .. } => match keymap::lookup(&k, Scope::Offers) {
                Some(Command::Back) => self.cancel(),
                _ => PaneOutput::none(),
            },
            OfferFlow::List {
                token,
                offers,
                selected,
            } => match keymap::lookup(&k, Scope::Offers) {
                Some(Command::Back) => self.cancel(),
                Some(Command::Down) if !offers.is_empty() => {
                    *selected = (*selected + 1) % offers.len();
                    PaneOutput::none()
                }
                Some(Command::Up) if !offers.is_empty() => {
                    *selected = (*selected + offers.len() - 1) % offers.len();
                    PaneOutput::none()
                }
                Some(Command::ClaimOffer) => {
                    let Some(offer) = offers.get(*selected).cloned() else {
                        return PaneOutput::none();
                    };
                    if !ctx.writes_allowed {
                        return PaneOutput::error(
                            "claiming an offer is a write, and writes are off for this profile",
                        );
                    }
                    *self = OfferFlow::AskReceipt {
                        token: token.clone(),
                        offer,
                        form: Form::new(
                            "Claim the offer · proof of the purchase",
                            &[(
                                "receipt",
                                "the orderId (or purchase receipt) of the conversion",
                                "",
                            )],
                        ),
                    };
                    PaneOutput::none()
                }
                _ => PaneOutput::none(),
            },
            OfferFlow::AskReceipt { token, offer, form } => match form.on_key(k) {
                FormOutcome::Editing => PaneOutput::none(),
                FormOutcome::Cancelled => self.cancel(),
                FormOutcome::Submitted => {
                    let receipt = form.value(0).to_string();
                    if receipt.is_empty() {
                        form.error = Some("the receipt is required".into());
                        return PaneOutput::none();
                    }
                    let request = WriteRequest::offer_claim(
                        token,
                        &offer.offers,
                        &offer.tracking_id,
                        &receipt,
                    );
                    let dialog = ConfirmDialog::for_write(
                        "Claim targeted offer".into(),
                        &request.preview(&ctx.actor),
                        None,
                        "POST /v2.0/my/storeoffers/user  (Authorization: the user's MSA token, not shown)"
                            .into(),
                        offer.offers.first().cloned(),
                        Effect::Pane(PaneId::Key, PaneJob::Key(KeyJob::ClaimOffer { request })),
                    );
                    *self = OfferFlow::Idle;
                    PaneOutput {
                        confirm: Some(Box::new(dialog)),
                        ..PaneOutput::none()
                    }
                }
            },
        }
    }

    fn cancel(&mut self) -> PaneOutput {
        *self = OfferFlow::Idle;
        PaneOutput::toast("offers closed: nothing was sent")
    }

    pub fn on_loaded(&mut self, result: Result<Vec<TargetedOffer>, String>) -> PaneOutput {
        let OfferFlow::Loading { token } = std::mem::take(self) else {
            // Closed while loading: the answer is no longer wanted.
            return PaneOutput::none();
        };
        match result {
            Ok(offers) => {
                let n = offers.len();
                *self = OfferFlow::List {
                    token,
                    offers,
                    selected: 0,
                };
                PaneOutput::toast(format!("{n} targeted offer(s) open to this user"))
            }
            Err(e) => {
                let mut form = token_form();
                form.error = Some(e.clone());
                *self = OfferFlow::AskToken(form);
                PaneOutput::error(format!("targeted offers: {e}"))
            }
        }
    }

    pub fn view(&self, f: &mut Frame, area: Rect, theme: &Theme) {
        match self {
            OfferFlow::Idle => {}
            OfferFlow::AskToken(form) | OfferFlow::AskReceipt { form, .. } => {
                form.view(f, area, theme)
            }
            OfferFlow::Loading { .. } => {
                let r = centered(area, 50, 3);
                f.render_widget(Clear, r);
                f.render_widget(
                    Paragraph::new("Asking the Store for the user's offers… (Esc closes)")
                        .block(Block::bordered().border_style(theme.border_focus())),
                    r,
                );
            }
            OfferFlow::List {
                offers, selected, ..
            } => {
                let h = (offers.len() as u16).max(1) + 3;
                let r = centered(area, area.width.saturating_sub(6).min(90), h);
                f.render_widget(Clear, r);
                let mut lines: Vec<Line> = offers
                    .iter()
                    .enumerate()
                    .map(|(i, o)| {
                        let l = Line::from(vec![
                            Span::styled(format!(" {:<40}", o.offers.join(", ")), theme.title()),
                            Span::styled(format!("trackingId {}", o.tracking_id), theme.dim()),
                        ]);
                        if i == *selected {
                            l.style(theme.selected())
                        } else {
                            l
                        }
                    })
                    .collect();
                if offers.is_empty() {
                    lines.push(Line::from(Span::styled(
                        " no targeted offers are open to this user",
                        theme.dim(),
                    )));
                }
                lines.push(Line::from(Span::styled(
                    " Enter claims the selected offer (asks for the receipt, then confirmation) · Esc closes",
                    theme.dim(),
                )));
                f.render_widget(
                    Paragraph::new(lines).block(
                        Block::bordered()
                            .border_style(theme.border_focus())
                            .title(" Targeted offers "),
                    ),
                    r,
                );
            }
        }
    }
}
