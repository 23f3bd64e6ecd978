//! Process start → first frame drawn with the embedded sandbox connected.
//! Spawns the real release binary in a pseudo-terminal with
//! STOREDESK_EXIT_WHEN_READY=1 (the console quits right after the first frame
//! drawn in the connected state) and times the whole process.

use criterion::{Criterion, criterion_group, criterion_main};
use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use std::io::Read;
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_storedesk"))
}

fn run_once(data: &std::path::Path) -> Duration {
    let pty = native_pty_system();
    let pair = pty
        .openpty(PtySize {
            rows: 50,
            cols: 200,
            pixel_width: 0,
            pixel_height: 0,
        })
        .expect("pty");
    let mut cmd = CommandBuilder::new(binary());
    cmd.arg("--data-dir");
    cmd.arg(data);
    cmd.arg("--config");
    cmd.arg(data.join("none.toml"));
    cmd.env("STOREDESK_EXIT_WHEN_READY", "1");
    cmd.env("TERM", "xterm-256color");
    let start = Instant::now();
    let mut child = pair.slave.spawn_command(cmd).expect("spawn");
    drop(pair.slave);
    let mut reader = pair.master.try_clone_reader().expect("reader");
    let drain = std::thread::spawn(move || {
        let mut buf = [0u8; 65536];
        while matches!(reader.read(&mut buf), Ok(n) if n > 0) {}
    });
    let status = child.wait().expect("wait");
    let elapsed = start.elapsed();
    assert!(status.success(), "storedesk failed: {status:?}");
    drop(pair.master);
    let _ = drain.join();
    elapsed
}

fn startup(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    // The first run makes the sandbox signing key; later runs load it, as a
    // user's second start would.
    run_once(&data);
    let mut g = c.benchmark_group("startup");
    g.sample_size(20);
    g.bench_function("process_start_to_connected_first_frame", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| run_once(&data)).sum())
    });
    g.finish();
}

criterion_group!(benches, startup);
criterion_main!(benches);
