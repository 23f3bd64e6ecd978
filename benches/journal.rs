//! Journal overhead per write: record (INSERT + audit, one fsync'd commit)
//! and settle (UPDATE + audit, another fsync'd commit) on a real file in
//! WAL mode with synchronous=FULL. This is what every consume/grant pays
//! on top of the network round trip.
//!
//! cargo bench --bench journal

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use storedesk::config::Environment;
use storedesk::journal::{
    Actor, Correlation, Journal, OrderTransaction, Settlement, WriteRequest, WriteState,
};

const KEY: &str = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJiZW5jaCJ9.YmVuY2gtc2lnbmF0dXJlLWJ5dGVz";

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
        correlation: Correlation {
            correlation_id: Some("c".into()),
            request_id: Some("r".into()),
            cv: None,
            azure_request_id: None,
        },
        order_transactions: vec![OrderTransaction {
            order_id: "o".into(),
            order_line_item_id: "l".into(),
            quantity_consumed: 1,
        }],
    }
}

fn bench(c: &mut Criterion) {
    // In the target dir, not /tmp: /tmp is often tmpfs, where fsync is free
    // and the number would flatter us.
    let base = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target");
    let dir = tempfile::tempdir_in(&base).unwrap();
    let journal = Journal::open(&dir.path().join("journal.sqlite")).unwrap();
    let actor = actor();
    let s = settlement();

    let mut g = c.benchmark_group("journal");
    g.sample_size(30);
    g.bench_function("record+settle (2 fsync'd commits)", |b| {
        b.iter(|| {
            let req = WriteRequest::consume(KEY, "9NSDCOIN0500", Some(1), None);
            let id = journal.record(&req, &actor).unwrap();
            black_box(journal.settle(id, &s, &actor).unwrap())
        })
    });
    g.bench_function("record only", |b| {
        b.iter(|| {
            let req = WriteRequest::consume(KEY, "9NSDCOIN0500", Some(1), None);
            black_box(journal.record(&req, &actor).unwrap())
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
