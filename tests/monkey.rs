//! Issue 20 point 11, the monkey test in process: thousands of random keys,
//! pastes, clicks, resizes and ticks through the real `App::update`,
//! connected to the embedded sandbox, every pane job it asks for run the
//! runtime's way over loopback HTTP (tests/support/console.rs), a frame
//! drawn every few steps. No panic; memory flat — measured by a counting
//! allocator (this binary holds only this test, so the count is the
//! console's and the sandbox's), and the state a notice could pile up in
//! (toast, error, pending list, writes in flight) stays bounded.
//!
//! Seeded: `MONKEY_SEED=N` repeats a run, `MONKEY_STEPS=N` sets its
//! length; the seed is printed first (and shown by a failing run).
//! The real binary in a PTY gets the same treatment in e2e.rs
//! (`a_monkey_at_the_real_console_breaks_nothing`).

#[path = "support/console.rs"]
mod console;

use console::ConsoleRig;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use storedesk::tui::app::{Action, App, Effect, JobEvent};
use storedesk::tui::panes::{PaneEvent, PaneJob, key_job, lists_job};
use storedesk::tui::render::render_text;

/// The system allocator, counting the bytes live.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged to the system allocator.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// xorshift64*: small, seeded, good enough to pick keys.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A random key press: mostly the keys the console binds, sometimes any
/// character, with modifiers now and then.
fn random_key(rng: &mut Rng) -> KeyEvent {
    const CHARS: &[char] = &[
        '1', '2', '3', '4', '5', '6', '7', '8', '9', '0', ':', '?', '/', 'd', 'j', 'k', 'h', 'l',
        'g', 'G', 'n', 'N', 'e', 'c', 'r', 'y', 'Y', 'x', 's', 'f', 'a', 'u', 'p', 'i', 'o', 'v',
        'w', 'b', 'm', 't', ' ', '-', '+', '.', 'q', 'é', '界', '🦀',
    ];
    const SPECIAL: &[KeyCode] = &[
        KeyCode::Enter,
        KeyCode::Esc,
        KeyCode::Tab,
        KeyCode::BackTab,
        KeyCode::Up,
        KeyCode::Down,
        KeyCode::Left,
        KeyCode::Right,
        KeyCode::PageUp,
        KeyCode::PageDown,
        KeyCode::Home,
        KeyCode::End,
        KeyCode::Backspace,
        KeyCode::Delete,
        KeyCode::F(1),
        KeyCode::F(5),
    ];
    let code = match rng.below(10) {
        0..=5 => KeyCode::Char(*rng.pick(CHARS)),
        6..=8 => *rng.pick(SPECIAL),
        _ => KeyCode::Char(char::from_u32(rng.below(0x3000) as u32).unwrap_or('x')),
    };
    let mods = match rng.below(20) {
        0 => KeyModifiers::CONTROL,
        1 => KeyModifiers::ALT,
        2 => KeyModifiers::SHIFT,
        _ => KeyModifiers::NONE,
    };
    KeyEvent::new(code, mods)
}

/// Random text as a terminal could paste it: keys of every kind (whole,
/// wrapped, cut, several), noise, control characters, a large blob.
fn random_paste(rng: &mut Rng, keys: &[String]) -> String {
    let key = rng.pick(keys).clone();
    match rng.below(9) {
        0 | 1 => key,
        2 => format!("  {}\n{}  ", &key[..key.len() / 2], &key[key.len() / 2..]),
        3 => key[..rng.below(key.len())].to_string(),
        4 => format!("{key}\n{}", rng.pick(keys)),
        5 => (0..rng.below(300))
            .map(|_| char::from_u32(rng.below(0x11_0000) as u32).unwrap_or('\u{fffd}'))
            .collect(),
        6 => "\x1b[31m\x07\x00\r\n\t\u{202e}evil\u{200b}".repeat(1 + rng.below(20)),
        7 => "A".repeat(64 * 1024),
        _ => String::new(),
    }
}

fn random_mouse(rng: &mut Rng, size: (u16, u16)) -> MouseEvent {
    let kind = *rng.pick(&[
        MouseEventKind::Down(MouseButton::Left),
        MouseEventKind::Up(MouseButton::Left),
        MouseEventKind::ScrollDown,
        MouseEventKind::ScrollUp,
        MouseEventKind::Moved,
    ]);
    MouseEvent {
        kind,
        column: rng.below(usize::from(size.0) + 5) as u16,
        row: rng.below(usize::from(size.1) + 5) as u16,
        modifiers: KeyModifiers::NONE,
    }
}

/// Run what the console asked for the runtime's way; at most `budget`
/// jobs (a job's answer may ask for more). The Entitlements listing and
/// the audit pane stream through the runtime only: they are left
/// unanswered here (as a slow job is), and the PTY monkey covers them.
async fn drive(
    rig: &ConsoleRig,
    app: &mut App,
    mut effects: Vec<Effect>,
    rng: &mut Rng,
    keys: &[String],
    budget: usize,
) -> usize {
    let mut ran = 0;
    while let Some(e) = effects.pop() {
        if ran == budget {
            break;
        }
        let ev = match e {
            Effect::Pane(id, PaneJob::Key(job)) => {
                let ev = key_job::run(Some(&rig.client), &rig.shared, &rig.actor, job).await;
                JobEvent::Pane(id, PaneEvent::Key(ev))
            }
            Effect::Pane(_, PaneJob::Entitlements(_) | PaneJob::Audit(_)) => continue,
            Effect::Pane(id, job) => {
                match lists_job::run(Some(&rig.client), &rig.shared, &rig.actor, job).await {
                    Some(ev) => JobEvent::Pane(id, ev),
                    None => continue,
                }
            }
            Effect::ReadClipboard => JobEvent::Clipboard(Ok(random_paste(rng, keys))),
            _ => continue,
        };
        ran += 1;
        effects.extend(app.update(Action::Job(ev)));
    }
    ran
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_monkey_at_the_console_breaks_nothing_and_memory_stays_flat() {
    let seed = env_num("MONKEY_SEED", 0x5EED_2026_1129);
    let steps = env_num("MONKEY_STEPS", 4_000) as usize;
    println!("monkey seed {seed} ({steps} steps); repeat with MONKEY_SEED={seed}");
    let mut rng = Rng(seed.max(1));
    let rig = ConsoleRig::start(None).await;
    let customers = rig.sandbox.info.customers.clone();
    let keys: Vec<String> = customers
        .iter()
        .flat_map(|c| [c.collections_key.clone(), c.purchase_key.clone()])
        .collect();
    let names = ["cora", "ada", "gus", "sam"];
    let first = names[rng.below(names.len())];
    let mut app = rig.app_with(first);
    let mut now = app.now;
    let (mut keys_sent, mut pastes, mut jobs, mut frames, mut restarts) = (0, 0, 0, 0, 0);
    let mut warm = None;
    let mut peak = 0;
    for step in 0..steps {
        let action = match rng.below(100) {
            0..=79 => {
                keys_sent += 1;
                Action::Key(random_key(&mut rng))
            }
            80..=89 => {
                pastes += 1;
                Action::Paste(random_paste(&mut rng, &keys))
            }
            90..=93 => Action::Mouse(random_mouse(&mut rng, app.size)),
            94..=96 => {
                now += chrono::TimeDelta::seconds(1 + rng.below(90) as i64);
                Action::Tick(now)
            }
            _ => Action::Resize(1 + rng.below(260) as u16, 1 + rng.below(90) as u16),
        };
        let fx = app.update(action);
        jobs += drive(&rig, &mut app, fx, &mut rng, &keys, 8).await;
        if step % 7 == 0 {
            let (w, h) = app.size;
            let frame = render_text(&app, w, h);
            assert!(frame.len() <= 8 * usize::from(w) * usize::from(h) + usize::from(h));
            frames += 1;
        }
        // What a notice could pile up in stays bounded.
        let at = format!("seed {seed}, step {step}");
        let text_len = |t: &Option<String>| t.as_deref().map_or(0, str::len);
        assert!(text_len(&app.toast) <= 4_096, "{at}: toast grew");
        assert!(text_len(&app.last_error) <= 4_096, "{at}: error grew");
        assert!(app.pending.len() <= 64, "{at}: pending list grew");
        assert!(app.in_flight.len() <= 16, "{at}: writes in flight grew");
        if app.should_quit {
            restarts += 1;
            let next = names[rng.below(names.len())];
            app = rig.app_with(next);
        }
        if step == steps / 4 {
            warm = Some(LIVE.load(Ordering::Relaxed));
        }
        peak = peak.max(LIVE.load(Ordering::Relaxed));
    }
    let end = LIVE.load(Ordering::Relaxed);
    let warm = warm.unwrap_or(end);
    println!(
        "monkey: {keys_sent} keys, {pastes} pastes, {jobs} jobs, {frames} frames, \
         {restarts} quits; live heap {} KiB after warm-up, {} KiB at the end, peak {} KiB",
        warm / 1024,
        end / 1024,
        peak / 1024
    );
    assert!(keys_sent > steps / 2 && pastes > steps / 20, "seed {seed}");
    assert!(
        jobs > 0,
        "seed {seed}: no job ran: the console never reached the Store"
    );
    // Flat: the last three quarters add no more than 16 MiB of live heap
    // (connection pools, the sandbox's caches); a leak of one paste a step
    // would add hundreds.
    assert!(
        end <= warm + 16 * 1024 * 1024,
        "seed {seed}: live heap grew from {warm} to {end} bytes"
    );
}
