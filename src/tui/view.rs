//! Drawing: a pure function of the App.

use crate::tui::app::{App, ConnState, Overlay};
use crate::tui::panes::{DrawCtx, PaneId};
use crate::tui::theme::Theme;
use crate::tui::widgets::{help, status, tabs};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 15;

/// The tab line, the pane and the status bar of a screen of `area`; `None`
/// when the screen is too small for the console.
fn layout(app: &App, area: Rect) -> Option<[Rect; 3]> {
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        return None;
    }
    // The status bar's height depends on its text, not its colours.
    let plain = Theme { color: false };
    Some(
        Layout::vertical([
            Constraint::Length(1),
            Constraint::Min(1),
            Constraint::Length(status::height(app, &plain, area.width)),
        ])
        .areas(area),
    )
}

/// Where the focused pane is drawn on a screen of `area`.
pub fn body_area(app: &App, area: Rect) -> Option<Rect> {
    layout(app, area).map(|[_, body, _]| body)
}

pub fn draw(f: &mut Frame, app: &App, theme: &Theme) {
    let area = f.area();
    let Some([top, body, bottom]) = layout(app, area) else {
        let msg = format!(
            "terminal too small (need {MIN_WIDTH}×{MIN_HEIGHT}, have {}×{})",
            area.width, area.height
        );
        f.render_widget(
            Paragraph::new(vec![Line::from(msg)]).wrap(ratatui::widgets::Wrap { trim: true }),
            area,
        );
        return;
    };
    tabs::view(f, top, theme, app.focus);
    if let ConnState::Failed(msg) = &app.conn
        && app.focus != PaneId::Key
    {
        crate::tui::panes::empty::draw_empty(
            f,
            body,
            theme,
            "Not connected to the Store.",
            &format!("{msg} — check the profile (storedesk --help) and the log file."),
        );
    } else {
        draw_pane(f, app, theme, body);
    }
    status::view(f, bottom, theme, app);
    match &app.overlay {
        Some(Overlay::Help { scroll }) => help::view(f, body, theme, *scroll),
        Some(Overlay::Palette(p)) => p.view(f, body, theme),
        Some(Overlay::Confirm(d)) => d.view(f, body, theme),
        Some(Overlay::PendingGate(g)) => g.view(f, body, theme),
        Some(Overlay::Resolve(form)) => form.view(f, body, theme),
        Some(Overlay::Doctor(d)) => crate::tui::doctor::view(f, body, theme, d),
        Some(Overlay::Demo { selected }) => {
            if let Some(c) = app.connection() {
                crate::tui::widgets::demo::view(f, body, theme, &c.demo_customers, *selected)
            }
        }
        None => {}
    }
}

fn draw_pane(f: &mut Frame, app: &App, theme: &Theme, area: ratatui::layout::Rect) {
    let conn = app.connection();
    let ctx = DrawCtx {
        theme,
        case: &app.panes.case,
        now: app.now,
        connected: conn.is_some(),
        writes_allowed: app.session.writes_allowed,
        read_only_reason: app.session.read_only_reason.as_deref(),
        has_collections_key: app.panes.key.collections_token().is_some(),
        has_demo_customers: conn.is_some_and(|c| !c.demo_customers.is_empty()),
    };
    app.panes.get(app.focus).draw(f, area, &ctx);
}
