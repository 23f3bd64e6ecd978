//! The Entitlements browser with 100,000 items in memory (issue 8):
//! a filter change ≤ 5 ms, a frame of the pane ≤ 2 ms (TestBackend 200×50),
//! resident memory with them loaded ≤ 60 MB.
//!
//! Memory is read from /proc/self/status (VmRSS) before and after loading,
//! through the same path the console takes (pages parsed with their raw
//! JSON, handed to the pane as job events), and printed before the timings.
//! Run: `cargo bench --bench browse`

use chrono::{TimeZone, Utc};
use criterion::Criterion;
use std::hint::black_box;
use storedesk::browse::{Column, Filter, SortSpec};
use storedesk::config::Environment;
use storedesk::store::PageProgress;
use storedesk::store::model::{EntitlementStatus, ProductKind, QueryResponse};
use storedesk::tui::app::{App, Connection, Session};
use storedesk::tui::panes::entitlements::EntEvent;
use storedesk::tui::panes::{PaneCtx, PaneId};

const ITEMS: usize = 100_000;
const PAGE: usize = 200;

/// One page of sandbox-shaped v9 items (the whale's shape), as wire JSON.
fn page_json(page: usize) -> String {
    let kinds = [
        "Durable",
        "Durable",
        "Game",
        "Application",
        "Consumable",
        "UnmanagedConsumable",
    ];
    let statuses = ["Active", "Active", "Active", "Active", "Revoked", "Expired"];
    let items: Vec<String> = (0..PAGE)
        .map(|j| {
            let n = page * PAGE + j;
            let p = n % 500;
            format!(
                r#"{{"acquiredDate":"2025-{m:02}-{d:02}T{h:02}:14:07.{f:07}+00:00","acquisitionType":"Single","endDate":"9999-12-31T23:59:59.9999999+00:00","id":"{id:032x}","localTicketReference":"","modifiedDate":"2025-{m:02}-{d:02}T{h:02}:14:07.{f:07}+00:00","productFamily":"Durables","productId":"9WHALE{p:04}","productKind":"{kind}","purchasedCountry":"US","quantity":{q},"satisfiedByProductIds":[],"sharingSource":"None","skuId":"{sku:04}","startDate":"2025-{m:02}-{d:02}T{h:02}:14:07.{f:07}+00:00","status":"{status}","tags":[],"transactionId":"{t1:08x}-{t2:04x}-4{t3:03x}-8{t4:03x}-{t5:012x}","trialData":{{"isInTrialPeriod":false,"isTrial":false}}}}"#,
                m = n % 12 + 1,
                d = n % 28 + 1,
                h = n % 24,
                f = (n * 7919) % 10_000_000,
                id = (n as u128).wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835),
                kind = kinds[p % kinds.len()],
                q = n % 50,
                sku = n / 500 + 1,
                status = statuses[(n * 31) % statuses.len()],
                t1 = n as u32 ^ 0x5a5a_5a5a,
                t2 = n % 0xffff,
                t3 = n % 0xfff,
                t4 = (n * 7) % 0xfff,
                t5 = (n as u64).wrapping_mul(0x2545_F491_4F6C_DD1D) & 0xffff_ffff_ffff,
            )
        })
        .collect();
    format!(
        r#"{{"continuationToken":"t{page}","items":[{}]}}"#,
        items.join(",")
    )
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn ctx() -> PaneCtx {
    PaneCtx {
        actor: storedesk::journal::Actor {
            operator: "bench".into(),
            profile: "sandbox".into(),
            environment: Environment::Sandbox,
        },
        now: Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap(),
        conn: Some(Connection {
            base_description: "bench".into(),
            client_id: "bench".into(),
            sandbox_id: None,
            sandbox_public_key_pem: None,
            demo_customers: vec![],
            grantable: vec![],
        }),
        writes_allowed: true,
        environment: Environment::Sandbox,
    }
}

/// An app on the Entitlements pane with `ITEMS` entitlements loaded through
/// the pane's own event path.
fn loaded_app() -> App {
    let session = Session {
        environment: Environment::Sandbox,
        profile: "sandbox".into(),
        operator: "bench".into(),
        writes_allowed: true,
        read_only_reason: None,
    };
    let mut app = App::new(session, ctx().now, (200, 50));
    app.focus = PaneId::Entitlements;
    let (pane, case) = (&mut app.panes.entitlements, &mut app.panes.case);
    let c = ctx();
    case.follow_keys(Some("bench-key"), None, true);
    let _ = pane.sync(true, case, &c);
    let mut progress = PageProgress::default();
    for page in 0..ITEMS / PAGE {
        let text = page_json(page);
        let resp: QueryResponse = serde_json::from_str(&text).expect("bench page parses");
        progress.pages += 1;
        progress.items += resp.items.len();
        let _ = pane.on_event(
            case,
            EntEvent::Page {
                fetch_id: 1,
                items: resp.items,
                progress,
            },
            &c,
        );
    }
    let _ = pane.on_event(
        case,
        EntEvent::Finished {
            fetch_id: 1,
            result: Ok(progress),
        },
        &c,
    );
    app
}

fn benches(c: &mut Criterion, app: &mut App) {
    let now = ctx().now.timestamp();
    let filters = [
        Filter {
            statuses: vec![EntitlementStatus::Active],
            ..Filter::default()
        },
        Filter {
            statuses: vec![EntitlementStatus::Active, EntitlementStatus::Revoked],
            kinds: vec![ProductKind::Durable, ProductKind::Consumable],
            text: "whale00".into(),
            ..Filter::default()
        },
        Filter {
            text: "5a5a".into(),
            valid_now: true,
            ..Filter::default()
        },
        Filter::default(),
    ];
    let mut g = c.benchmark_group("browse_100k");
    g.bench_function("filter_change", |b| {
        let mut i = 0;
        b.iter(|| {
            let pane = &mut app.panes.entitlements;
            pane.view.filter = filters[i % filters.len()].clone();
            pane.view.refilter(&app.panes.case.listing.data, now);
            i += 1;
            black_box(pane.view.visible.len())
        })
    });
    // A sort change re-sorts everything (done once per `s`, not per key).
    g.bench_function("sort_change_quantity", |b| {
        b.iter(|| {
            let pane = &mut app.panes.entitlements;
            pane.view.sort = SortSpec {
                column: Column::Quantity,
                descending: true,
            };
            pane.view.rebuild(&app.panes.case.listing.data, now);
            black_box(pane.view.visible.len())
        })
    });
    {
        let pane = &mut app.panes.entitlements;
        pane.view.sort = SortSpec::default();
        pane.view.filter = Filter::default();
        pane.view.rebuild(&app.panes.case.listing.data, now);
        pane.selected = 50_000;
    }
    g.bench_function("frame_render_200x50", |b| {
        b.iter(|| black_box(storedesk::tui::render::render_buffer(app, 200, 50)))
    });
    g.finish();
}

fn main() {
    let before = rss_kib();
    let mut app = loaded_app();
    let after = rss_kib();
    let d = &app.panes.case.listing.data;
    eprintln!(
        "browse memory: {} entitlements loaded · VmRSS {:.1} MB before, {:.1} MB after (+{:.1} MB) · dataset buffers {:.1} MB",
        d.len(),
        before as f64 / 1024.0,
        after as f64 / 1024.0,
        after.saturating_sub(before) as f64 / 1024.0,
        d.heap_bytes() as f64 / 1_048_576.0
    );
    let mut c = Criterion::default().configure_from_args();
    benches(&mut c, &mut app);
    c.final_summary();
}
