//! The status bar: environment badge, profile, customer, call budget,
//! write mode and the last error or notice.

use crate::tui::app::{App, ConnState};
use crate::tui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

/// The longest a message may grow the status area, in rows.
const MAX_MESSAGE_ROWS: u16 = 3;

fn message(app: &App, theme: &Theme) -> Option<Span<'static>> {
    // A write in flight is the one thing an agent must not miss.
    if let Some(l) = app.in_flight_line() {
        Some(Span::styled(l, theme.warn()))
    } else if let Some(w) = crate::tui::collision::status(app).filter(|_| confirming(app)) {
        // Before the agent confirms, another agent on this customer is
        // the one thing to read.
        Some(Span::styled(format!("⚠ {w}"), theme.bad()))
    } else if let Some(e) = &app.last_error {
        Some(Span::styled(format!("✗ {e}"), theme.error_text()))
    } else {
        app.toast
            .as_ref()
            .map(|t| Span::raw(format!("✓ {t}")))
            .or_else(|| {
                crate::tui::collision::status(app)
                    .map(|w| Span::styled(format!("⚠ {w}"), theme.bad()))
            })
    }
}

/// A write's confirmation (or the pending gate before one) is open.
fn confirming(app: &App) -> bool {
    matches!(
        app.overlay,
        Some(crate::tui::app::Overlay::Confirm(_) | crate::tui::app::Overlay::PendingGate(_))
    )
}

/// Rows the status area needs at `width`: one, or more when the message
/// does not fit beside the facts — an agent must be able to read a whole
/// error, not its first half.
pub fn height(app: &App, theme: &Theme, width: u16) -> u16 {
    let facts: usize = facts(app, theme).iter().map(Span::width).sum();
    match message(app, theme) {
        Some(m) if facts + 2 + m.width() > usize::from(width) => {
            let w = usize::from(width.max(1));
            1 + (m.width().div_ceil(w) as u16).min(MAX_MESSAGE_ROWS)
        }
        _ => 1,
    }
}

pub fn view(f: &mut Frame, area: Rect, theme: &Theme, app: &App) {
    let mut spans = facts(app, theme);
    let msg = message(app, theme);
    if area.height <= 1 {
        if let Some(m) = msg {
            spans.push(Span::styled("│ ", theme.dim()));
            spans.push(m);
        }
        f.render_widget(
            Paragraph::new(Line::from(spans)).style(theme.status_bar()),
            area,
        );
        return;
    }
    let first = Rect { height: 1, ..area };
    let rest = Rect {
        y: area.y + 1,
        height: area.height - 1,
        ..area
    };
    f.render_widget(
        Paragraph::new(Line::from(spans)).style(theme.status_bar()),
        first,
    );
    if let Some(m) = msg {
        f.render_widget(
            Paragraph::new(Line::from(m))
                .style(theme.status_bar())
                .wrap(Wrap { trim: false }),
            rest,
        );
    }
}

/// Badge, profile, customer, calls, write mode, pending writes.
fn facts(app: &App, theme: &Theme) -> Vec<Span<'static>> {
    let s = &app.session;
    let mut spans = vec![
        Span::styled(format!(" {} ", s.environment), theme.badge(s.environment)),
        Span::raw(format!(" {} ", s.profile)),
    ];
    let customer = app
        .panes
        .key
        .current()
        .map(|(_, k)| format!("customer {} ", k.assessment.fingerprint))
        .unwrap_or_else(|| "no customer ".into());
    spans.push(Span::styled("│ ", theme.dim()));
    spans.push(Span::raw(customer));
    spans.push(Span::styled("│ ", theme.dim()));
    match &app.conn {
        ConnState::Connecting => spans.push(Span::styled("connecting… ", theme.warn())),
        ConnState::Ready(_) => {
            let calls = app
                .budget_left
                .map(|n| format!("calls {n}/100 "))
                .unwrap_or_else(|| "calls —/100 ".into());
            spans.push(Span::raw(calls));
        }
        ConnState::Failed(_) => spans.push(Span::styled("offline ", theme.bad())),
    }
    spans.push(Span::styled("│ ", theme.dim()));
    if s.writes_allowed {
        spans.push(Span::styled("writes ON ", theme.warn()));
    } else {
        spans.push(Span::styled("read-only ", theme.good()));
    }
    if !app.pending.is_empty() {
        spans.push(Span::styled("│ ", theme.dim()));
        spans.push(Span::styled(
            format!("⚠ {} PENDING (:replay) ", app.pending.len()),
            theme.bad(),
        ));
    }
    // Always on screen, so a new user can find every key; it follows a
    // keys.toml rebinding.
    let help = crate::tui::keymap::label(crate::tui::keymap::Command::Help).unwrap_or("?");
    spans.push(Span::styled("│ ", theme.dim()));
    spans.push(Span::styled(format!("{help} help "), theme.key_hint()));
    spans
}
