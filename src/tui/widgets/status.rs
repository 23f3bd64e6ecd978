//! The status bar: environment badge, profile, customer, call budget,
//! write mode and the last error or notice.

use crate::tui::app::{App, ConnState};
use crate::tui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

pub fn view(f: &mut Frame, area: Rect, theme: &Theme, app: &App) {
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
    if let Some(e) = &app.last_error {
        spans.push(Span::styled("│ ", theme.dim()));
        spans.push(Span::styled(format!("✗ {e}"), theme.error_text()));
    } else if let Some(t) = &app.toast {
        spans.push(Span::styled("│ ", theme.dim()));
        spans.push(Span::raw(format!("✓ {t}")));
    }
    f.render_widget(
        Paragraph::new(Line::from(spans)).style(theme.status_bar()),
        area,
    );
}
