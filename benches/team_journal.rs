//! Journal overhead per write on the team journal (PostgreSQL over
//! loopback) next to the SQLite file, measured in the same run: record
//! (INSERT + audit, one commit) and settle (UPDATE + audit, another).
//! The PostgreSQL server is the tests' throwaway cluster
//! (tests/support/pg.rs), started here WITH fsync and synchronous commit
//! (`STOREDESK_TEST_PG_DURABLE=1`), so both backends pay for durability;
//! or the server named by `STOREDESK_TEST_PG_URL`.
//!
//! cargo bench --bench team_journal

#[path = "../tests/support/pg.rs"]
mod pg;

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use storedesk::clock::Clock;
use storedesk::config::{Environment, SecretSource};
use storedesk::journal::pg::{PgJournal, PgSettings};
use storedesk::journal::{
    Actor, Correlation, Journal, JournalStore, OrderTransaction, Settlement, WriteRequest,
    WriteState,
};

const KEY: &str = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJiZW5jaCJ9.YmVuY2gtc2lnbmF0dXJlLWJ5dGVz";
const TEAM_KEY: &str = "c3RvcmVkZXNrLXRlYW0tc2VhbC1rZXktMzItYnl0ZXM=";

fn actor() -> Actor {
    Actor {
        operator: "bench".into(),
        profile: "sandbox".into(),
        environment: Environment::Sandbox,
    }
}

fn settlement() -> Settlement {
    Settlement {
        state: WriteState::Done,
        http_status: Some(200),
        result: "newQuantity 9; 1 order transaction(s)".into(),
        correlation: Correlation::default(),
        order_transactions: vec![OrderTransaction {
            order_id: "o".into(),
            order_line_item_id: "l".into(),
            quantity_consumed: 1,
        }],
    }
}

fn record_settle(j: &dyn JournalStore, actor: &Actor, s: &Settlement) -> bool {
    let req = WriteRequest::consume(KEY, "9NSDCOIN0500", Some(1), None);
    let id = j.record(&req, actor).unwrap();
    j.settle(id, s, actor).unwrap()
}

fn bench(c: &mut Criterion) {
    // SAFETY: set before any other thread runs (the server starts below).
    unsafe { std::env::set_var("STOREDESK_TEST_PG_DURABLE", "1") };
    // In the target dir, like the journal bench (not a tmpfs /tmp).
    let base = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target");
    std::fs::create_dir_all(&base).unwrap();
    let dir = tempfile::tempdir_in(&base).unwrap();
    let sqlite = Journal::open(&dir.path().join("journal.sqlite")).unwrap();
    let url = pg::server().fresh_db();
    let mut s = PgSettings::new(&url, dir.path().join("side.sqlite"));
    s.password = SecretSource::Command(format!("printf %s {}", pg::APP_PASSWORD));
    s.seal_key = SecretSource::Command(format!("printf %s {TEAM_KEY}"));
    s.machine = Some("bench".into());
    let team = PgJournal::open(&s, Clock::system()).unwrap();
    let actor = actor();
    let st = settlement();

    let mut g = c.benchmark_group("team_journal");
    g.sample_size(30);
    g.bench_function("sqlite record+settle", |b| {
        b.iter(|| black_box(record_settle(&sqlite, &actor, &st)))
    });
    g.bench_function("postgres loopback record+settle", |b| {
        b.iter(|| black_box(record_settle(&team, &actor, &st)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
