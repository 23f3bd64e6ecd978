//! `:doctor` in the console: an overlay that fills in line by line as the
//! checks of `crate::doctor` finish (results arrive as `JobEvent::Doctor`),
//! and the job that runs them with the console's own client — so the
//! tokens doctor asks for are the ones already cached.

use crate::doctor::{self, CheckResult, Connection, Input, Status, Terminal, Timeouts};
use crate::tui::action::{Action, JobEvent};
use crate::tui::keymap::Command;
use crate::tui::theme::Theme;
use crate::tui::widgets::centered;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};
use tokio::sync::mpsc;

/// The overlay's state: the results so far and whether the run is over.
#[derive(Debug, Default)]
pub struct DoctorOverlay {
    pub results: Vec<CheckResult>,
    pub done: bool,
    pub scroll: u16,
}

impl DoctorOverlay {
    /// A list key (already looked up in the keymap); true: close it.
    pub fn on_command(&mut self, cmd: Option<Command>) -> bool {
        match cmd {
            Some(Command::Down) => self.scroll = self.scroll.saturating_add(1),
            Some(Command::Up) => self.scroll = self.scroll.saturating_sub(1),
            Some(Command::PageDown) => self.scroll = self.scroll.saturating_add(10),
            Some(Command::PageUp) => self.scroll = self.scroll.saturating_sub(10),
            Some(Command::Back | Command::Cancel | Command::Quit) => return true,
            _ => {}
        }
        false
    }

    fn counts(&self) -> String {
        let n = |s: Status| self.results.iter().filter(|r| r.status == s).count();
        format!(
            "{} passed · {} warning(s) · {} failed · {} skipped",
            n(Status::Pass),
            n(Status::Warn),
            n(Status::Fail),
            n(Status::Skip)
        )
    }
}

pub fn view(f: &mut Frame, area: Rect, theme: &Theme, d: &DoctorOverlay) {
    let r = centered(
        area,
        area.width.saturating_sub(4),
        area.height.saturating_sub(2),
    );
    f.render_widget(Clear, r);
    let nw = d
        .results
        .iter()
        .map(|c| c.name.chars().count())
        .max()
        .unwrap_or(0);
    let mut lines = Vec::new();
    for c in &d.results {
        let style = match c.status {
            Status::Pass => theme.good(),
            Status::Warn => theme.warn(),
            Status::Fail => theme.bad(),
            Status::Skip => theme.dim(),
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{} ", c.status.label()), style),
            Span::styled(format!("{:<10}", c.group), theme.dim()),
            Span::styled(format!("{:<nw$}  ", c.name), theme.title()),
            Span::raw(c.measured.clone()),
        ]));
        if let Some(fix) = &c.fix
            && matches!(c.status, Status::Warn | Status::Fail)
        {
            lines.push(Line::from(vec![
                Span::raw("     "),
                Span::styled(format!("fix: {fix}"), style),
            ]));
        }
    }
    lines.push(Line::from(""));
    lines.push(if d.done {
        Line::styled(d.counts(), theme.title())
    } else {
        Line::styled(format!("checking… {}", d.counts()), theme.dim())
    });
    let block = Block::bordered()
        .border_style(theme.border_focus())
        .title(" Doctor · read-only checks of this profile · j/k scroll · Esc closes ");
    f.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false })
            .scroll((d.scroll, 0))
            .style(Style::default()),
        r,
    );
}

/// Run doctor in the background; each result comes back as
/// `JobEvent::Doctor(Some(result))`, the end as `JobEvent::Doctor(None)`.
pub fn spawn(
    mut input: Input,
    client: Option<crate::store::StoreClient>,
    tx: mpsc::UnboundedSender<Action>,
) {
    input.connection = match client {
        Some(c) => Connection::Ready(c),
        None => Connection::None,
    };
    let (rtx, mut rrx) = mpsc::unbounded_channel();
    let fwd = tx.clone();
    tokio::spawn(async move {
        while let Some(r) = rrx.recv().await {
            let _ = fwd.send(Action::Job(JobEvent::Doctor(Some(r))));
        }
        let _ = fwd.send(Action::Job(JobEvent::Doctor(None)));
    });
    crate::tui::crash::spawn(
        &tx,
        crate::tui::crash::JobTag::global("doctor"),
        async move {
            // The report itself is not needed: every line went down the channel.
            let _ = doctor::run(input, Some(rtx)).await;
        },
    );
}

/// What the console knows for doctor's input (the client is added by `spawn`).
pub fn input(
    config: crate::config::LoadedConfig,
    config_file: std::path::PathBuf,
    data_dir: std::path::PathBuf,
    journal_db: std::path::PathBuf,
    clock: crate::clock::Clock,
    sandbox_pem: Option<String>,
    key: Option<String>,
) -> Input {
    Input {
        config: Ok(config),
        config_file,
        connection: Connection::None,
        sandbox_pem,
        key,
        data_dir,
        journal_db,
        clock,
        timeouts: Timeouts::default(),
        terminal: Terminal {
            size: crossterm::terminal::size().ok(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Environment;
    use crate::tui::action::Effect;
    use crate::tui::app::Overlay;
    use crate::tui::render::render_text;
    use crate::tui::snapshot_tests::test_app;
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    fn result(
        group: &'static str,
        name: &str,
        status: Status,
        measured: &str,
        fix: Option<&str>,
    ) -> CheckResult {
        CheckResult {
            group,
            name: name.into(),
            status,
            measured: measured.into(),
            fix: fix.map(String::from),
            ms: 3,
        }
    }

    fn some_results() -> Vec<CheckResult> {
        vec![
            result(
                "config",
                "file",
                Status::Pass,
                "no file: built-in profiles only",
                None,
            ),
            result(
                "config",
                "secret",
                Status::Pass,
                "embedded sandbox app: held in memory",
                None,
            ),
            result(
                "endpoints",
                "login",
                Status::Pass,
                "127.0.0.1:4321 dns 0 ms · tcp 0 ms · http 404 in 1 ms",
                None,
            ),
            result(
                "endpoints",
                "devcenter",
                Status::Fail,
                "127.0.0.1:9: TCP failed after 0 ms: Connection refused (os error 111)",
                Some(
                    "Nothing accepts connections at 127.0.0.1:9: check devcenter_url (scheme, host, port) and that the service is up.",
                ),
            ),
            result(
                "clock",
                "skew",
                Status::Warn,
                "local clock is 3 min behind the login server's Date",
                Some("Set this machine's clock (enable NTP)."),
            ),
            result("key", "key", Status::Skip, "no key given", None),
        ]
    }

    #[test]
    fn doctor_overlay_fills_in_as_checks_finish() {
        let mut app = test_app(Environment::Sandbox);
        let fx = app.run_command(Command::Doctor);
        assert_eq!(fx, vec![Effect::Doctor { key: None }]);
        let results = some_results();
        for r in &results[..3] {
            app.update(Action::Job(JobEvent::Doctor(Some(r.clone()))));
        }
        let running = render_text(&app, 80, 24);
        assert!(running.contains("checking… 3 passed"), "{running}");
        insta::assert_snapshot!("doctor_running_80x24", running);
        for r in &results[3..] {
            app.update(Action::Job(JobEvent::Doctor(Some(r.clone()))));
        }
        app.update(Action::Job(JobEvent::Doctor(None)));
        for (w, h) in [(80, 24), (200, 50)] {
            let done = render_text(&app, w, h);
            assert!(
                done.contains("3 passed · 1 warning(s) · 1 failed · 1 skipped"),
                "{done}"
            );
            assert!(done.contains("fix: Nothing accepts connections"), "{done}");
            insta::assert_snapshot!(format!("doctor_done_{w}x{h}"), done);
        }
    }

    #[test]
    fn esc_closes_and_late_results_are_dropped() {
        let mut app = test_app(Environment::Sandbox);
        app.run_command(Command::Doctor);
        app.update(Action::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)));
        assert!(app.overlay.is_none());
        app.update(Action::Job(JobEvent::Doctor(Some(
            some_results().remove(0),
        ))));
        assert!(!matches!(app.overlay, Some(Overlay::Doctor(_))));
    }
}
