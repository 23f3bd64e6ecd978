//! Terminal setup and restore, the panic hook, and the event loop.
//!
//! One loop `select!`s terminal input, job results and signals into
//! Actions; `App::update` turns them into Effects; the loop draws only when
//! something changed, so an idle console uses no CPU.

pub mod action;
pub mod app;
pub mod collision;
pub mod crash;
pub mod doctor;
pub mod in_flight;
pub mod jobs;
pub mod keymap;
pub mod panes;
pub mod pending_gate;
pub mod render;
pub mod theme;
pub mod view;
pub mod widgets;
pub mod writes;

use app::{Action, App, Session};
use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture, Event,
    EventStream,
};
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use futures_util::StreamExt;
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use std::io::{self, Stdout};
use std::process::ExitCode;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

type Term = Terminal<CrosstermBackend<Stdout>>;

/// Put the terminal back as we found it. Safe to call more than once.
pub fn restore_terminal() {
    let _ = disable_raw_mode();
    let _ = execute!(
        io::stdout(),
        DisableMouseCapture,
        DisableBracketedPaste,
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
}

/// Restores the terminal when dropped: covers `?` returns and unwinding.
struct TerminalGuard;

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore_terminal();
    }
}

fn setup_terminal() -> io::Result<(Term, TerminalGuard)> {
    enable_raw_mode()?;
    let guard = TerminalGuard;
    execute!(
        io::stdout(),
        EnterAlternateScreen,
        EnableBracketedPaste,
        EnableMouseCapture
    )?;
    let terminal = Terminal::new(CrosstermBackend::new(io::stdout()))?;
    Ok((terminal, guard))
}

/// The thread that draws: only a panic there ends the console.
static UI_THREAD: std::sync::OnceLock<std::thread::ThreadId> = std::sync::OnceLock::new();

fn install_panic_hook() {
    let _ = UI_THREAD.set(std::thread::current().id());
    // The default hook would print over the UI before we restore it.
    let _default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let backtrace = std::backtrace::Backtrace::force_capture();
        let on_ui = UI_THREAD.get() == Some(&std::thread::current().id());
        if !on_ui {
            // A background job (tui::crash reports it as an Action): the
            // console keeps drawing in raw mode, so nothing is printed and
            // the terminal is left as it is.
            tracing::error!(target: "panic", "background job: {info}\n{backtrace}");
            return;
        }
        restore_terminal();
        tracing::error!(target: "panic", "{info}\n{backtrace}");
        eprintln!(
            "storedesk crashed: {info}\nThe terminal was restored; details are in the log file."
        );
    }));
}

/// What the console needs to start, resolved by the caller
/// (`commands::console`): who is acting, where the local files are, and
/// how to reach the Store.
pub struct Console {
    pub session: Session,
    /// Shown in the status bar at start (a bad `keys.toml`).
    pub notice: Option<String>,
    pub env: jobs::Env,
    pub connect: jobs::Connector,
}

/// The console: `storedesk` with no subcommand, on the runtime `rt`.
pub fn run(rt: tokio::runtime::Runtime, console: Console) -> ExitCode {
    install_panic_hook();
    let result = rt.block_on(run_async(console));
    restore_terminal();
    // Background jobs (a slow Store call) must not hold the exit.
    rt.shutdown_timeout(Duration::from_millis(200));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("console failed: {e:#}");
            eprintln!("storedesk: {e:#}");
            ExitCode::from(1)
        }
    }
}

async fn run_async(console: Console) -> anyhow::Result<()> {
    let Console {
        session,
        notice,
        env,
        connect,
    } = console;
    let started = Instant::now();
    let exit_when_ready = std::env::var_os("STOREDESK_EXIT_WHEN_READY").is_some();
    let (mut terminal, _guard) = setup_terminal()?;
    let size = terminal.size()?;
    let theme = theme::Theme::from_env();
    let mut app = App::new(session, env.clock.now(), (size.width, size.height));
    app.panes.key.local_offset = Some(*chrono::Local::now().offset());
    app.last_error = notice;

    let (tx, mut rx) = mpsc::unbounded_channel::<Action>();
    let services = jobs::Services::new(env, tx.clone());
    services.connect(connect);

    let mut events = EventStream::new();
    let mut sigterm = signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut sighup = signal(tokio::signal::unix::SignalKind::hangup())?;
    let mut minute = tokio::time::interval_at(
        tokio::time::Instant::now() + Duration::from_secs(30),
        Duration::from_secs(30),
    );
    // While a write is in flight or pending: its seconds, and re-reads of
    // the pending list (`tui::in_flight`).
    let mut second = tokio::time::interval(Duration::from_secs(1));
    second.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut first_frame = true;
    let mut frames = FrameStats::default();
    let mut last_draw: Option<Instant> = None;

    loop {
        // At most one frame per FRAME_INTERVAL: a burst of pages or keys
        // is drawn once, when it has been applied.
        let due = last_draw.is_none_or(|t| t.elapsed() >= FRAME_INTERVAL);
        if app.dirty && due {
            terminal.draw(|f| view::draw(f, &app, &theme))?;
            app.dirty = false;
            last_draw = Some(Instant::now());
            frames.drawn();
            if first_frame {
                tracing::info!(
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "first frame"
                );
                first_frame = false;
                // Lets the end-to-end test prove the panic path restores the terminal.
                if std::env::var_os("STOREDESK_TEST_PANIC").is_some() {
                    panic!("test panic requested by STOREDESK_TEST_PANIC");
                }
            }
            if exit_when_ready && !matches!(app.conn, app::ConnState::Connecting) {
                tracing::info!(
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "ready frame"
                );
                break;
            }
        }
        let next_frame = match (app.dirty, last_draw) {
            (true, Some(t)) => Some(tokio::time::Instant::from_std(t + FRAME_INTERVAL)),
            _ => None,
        };
        let action = tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(ev)) => match to_action(ev) {
                    Some(a) => a,
                    None => continue,
                },
                Some(Err(e)) => return Err(anyhow::anyhow!("terminal input failed: {e}")),
                None => Action::Quit,
            },
            Some(a) = rx.recv() => a,
            _ = sigterm.recv() => Action::Quit,
            _ = sighup.recv() => Action::Quit,
            _ = minute.tick() => Action::Tick(services.now()),
            _ = second.tick(), if app.wants_fast_tick() => Action::Tick(services.now()),
            // Wake to draw what the last burst changed.
            _ = sleep_until(next_frame), if next_frame.is_some() => continue,
        };
        if matches!(action, Action::Key(_) | Action::Paste(_)) {
            frames.input();
        }
        let mut stop = apply(&mut app, &services, action);
        // Drain every job result already waiting before drawing once.
        while !stop && !app.should_quit {
            let Ok(a) = rx.try_recv() else { break };
            stop = apply(&mut app, &services, a);
        }
        if stop || app.should_quit {
            break;
        }
    }
    frames.log();
    Ok(())
}

/// No more than 60 frames a second.
const FRAME_INTERVAL: Duration = Duration::from_micros(16_667);

async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}

/// Update the app with one action and run what it asks; true when the
/// console must stop now.
fn apply(app: &mut App, services: &jobs::Services, action: Action) -> bool {
    // `update` reads no clock; it is handed the time with each action.
    app.now = services.now();
    app.update(action).into_iter().any(|e| services.run(e))
}

/// Frames drawn and how long a key or paste waited for its frame, logged
/// at exit (BENCHMARKS.md reads them from the log).
#[derive(Default)]
struct FrameStats {
    frames: u64,
    /// When the oldest input not yet on screen arrived.
    waiting: Option<Instant>,
    latencies_us: Vec<u64>,
}

impl FrameStats {
    fn input(&mut self) {
        self.waiting.get_or_insert_with(Instant::now);
    }

    fn drawn(&mut self) {
        self.frames += 1;
        if let Some(t) = self.waiting.take()
            && self.latencies_us.len() < 100_000
        {
            self.latencies_us
                .push(u64::try_from(t.elapsed().as_micros()).unwrap_or(u64::MAX));
        }
    }

    fn log(mut self) {
        self.latencies_us.sort_unstable();
        let pct = |p: usize| {
            let n = self.latencies_us.len();
            (n > 0).then(|| self.latencies_us[(n * p / 100).min(n - 1)])
        };
        tracing::info!(
            frames = self.frames,
            inputs = self.latencies_us.len(),
            key_to_frame_p50_us = pct(50),
            key_to_frame_p99_us = pct(99),
            "frame stats"
        );
    }
}

fn signal(kind: tokio::signal::unix::SignalKind) -> io::Result<tokio::signal::unix::Signal> {
    tokio::signal::unix::signal(kind)
}

fn to_action(ev: Event) -> Option<Action> {
    match ev {
        Event::Key(k) => Some(Action::Key(k)),
        Event::Paste(s) => Some(Action::Paste(s)),
        Event::Mouse(m) => Some(Action::Mouse(m)),
        Event::Resize(w, h) => Some(Action::Resize(w, h)),
        Event::FocusGained | Event::FocusLost => None,
    }
}
#[cfg(test)]
mod reliability_tests;
#[cfg(test)]
mod snapshot_tests;
#[cfg(test)]
mod snapshot_tests_flight;
#[cfg(test)]
mod snapshot_tests_lists;
#[cfg(test)]
mod snapshot_tests_once;
#[cfg(test)]
mod snapshot_tests_paste;
#[cfg(test)]
mod snapshot_tests_team;
#[cfg(test)]
mod snapshot_tests_truth;
