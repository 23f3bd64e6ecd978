//! The entitlement browser: the filter against a naive reference
//! (proptest), sorting, exports, duplicates; and the Entitlements pane's
//! job path paging the 10,000-item sandbox customer over real loopback
//! HTTP, with and without a 429 in the middle.

#[path = "support/sandbox.rs"]
mod support_sandbox;

use chrono::{DateTime, TimeZone, Utc};
use proptest::prelude::*;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use storedesk::browse::{Column, Dataset, Filter, Format, SortSpec, View, export, sort};
use storedesk::case::live::LiveCase;
use storedesk::config::Environment;
use storedesk::sandbox::Sandbox;
use storedesk::store::model::{
    AcquisitionType, Entitlement, EntitlementStatus, ProductKind, QueryResponse, StoreTime,
    TimeSpan, TrialData,
};
use storedesk::store::{RetryPolicy, StoreClient};
use storedesk::tui::panes::PaneCtx;
use storedesk::tui::panes::entitlements::{
    EntEvent, EntitlementsPane, FetchRequest, FetchState, QueryMode,
};
use storedesk::tui::panes::entitlements_job as job;
use tokio_util::sync::CancellationToken;

// ------------------------------------------------------------ generators

const NOW: i64 = 1_795_000_000;

fn t(secs: i64) -> Option<StoreTime> {
    DateTime::from_timestamp(secs, 0).map(StoreTime)
}

prop_compose! {
    fn entitlement()(
        id in 0u8..40,
        product in prop::sample::select(vec!["9NSWORD00001", "9NSHIELD0002", "9NPASS000003", "9nsword00004"]),
        sku in prop::sample::select(vec!["0010", "0020", "ABCD"]),
        kind in prop::option::of(prop::sample::select(vec!["Game", "Durable", "consumable", "Pass", "Gadget"])),
        status in prop::option::of(prop::sample::select(vec!["Active", "Revoked", "Expired", "ACTIVE", "Frozen"])),
        acq in prop::option::of(prop::sample::select(vec!["Single", "Recurring", "Conditional", "Gift"])),
        start in prop::option::of(-1000i64..1000),
        end in prop::option::of(-1000i64..1000),
        in_trial in any::<bool>(),
        tags in prop::collection::vec(prop::sample::select(vec!["sword", "Legacy", "beta", "ÉTÉ"]), 0..3),
        txn in prop::option::of(prop::sample::select(vec!["6B1E2C3D-aaaa", "sword-order", "0c6e5b1a"])),
        qty in prop::option::of(0i64..50),
    ) -> Entitlement {
        Entitlement {
            id: format!("id{id}"),
            product_id: product.into(),
            sku_id: sku.into(),
            product_kind: kind.map(ProductKind::parse),
            status: status.map(EntitlementStatus::parse),
            acquisition_type: acq.map(AcquisitionType::parse),
            start_date: start.and_then(|s| t(NOW + s)),
            end_date: end.and_then(|s| t(NOW + s)),
            trial_data: Some(TrialData {
                is_in_trial_period: in_trial,
                is_trial: in_trial,
                trial_time_remaining: in_trial.then(|| TimeSpan(chrono::TimeDelta::hours(5))),
            }),
            tags: tags.into_iter().map(String::from).collect(),
            transaction_id: txn.map(String::from),
            quantity: qty,
            ..Entitlement::default()
        }
    }
}

prop_compose! {
    fn filter()(
        statuses in prop::collection::vec(prop::sample::select(vec!["Active", "Revoked", "Expired", "Banned", "Frozen"]), 0..3),
        kinds in prop::collection::vec(prop::sample::select(vec!["Game", "Durable", "Consumable", "Pass", "Gadget"]), 0..3),
        acq in prop::option::of(prop::sample::select(vec!["Single", "Recurring", "Gift"])),
        valid_now in any::<bool>(),
        in_trial in any::<bool>(),
        text in prop::sample::select(vec!["", "sword", "SWORD", "00", "6b1e", "été", " beta ", "zzz", "0c6e5b1a"]),
    ) -> Filter {
        Filter {
            statuses: statuses.into_iter().map(EntitlementStatus::parse).collect(),
            kinds: kinds.into_iter().map(ProductKind::parse).collect(),
            acquisition: acq.map(AcquisitionType::parse),
            valid_now,
            in_trial,
            text: text.into(),
        }
    }
}

/// The filter's meaning, written the obvious way over wire items.
fn naive(f: &Filter, e: &Entitlement, now: i64) -> bool {
    let status_ok =
        f.statuses.is_empty() || e.status.as_ref().is_some_and(|s| f.statuses.contains(s));
    let kind_ok =
        f.kinds.is_empty() || e.product_kind.as_ref().is_some_and(|k| f.kinds.contains(k));
    let acq_ok = f.acquisition.is_none() || e.acquisition_type == f.acquisition;
    let valid_ok = !f.valid_now
        || (e.status == Some(EntitlementStatus::Active)
            && e.start_date.is_none_or(|s| s.0.timestamp() <= now)
            && e.end_date.is_none_or(|x| now < x.0.timestamp()));
    let trial_ok = !f.in_trial || e.trial_data.as_ref().is_some_and(|t| t.is_in_trial_period);
    let needle = f.text.trim().to_lowercase();
    let text_ok = needle.is_empty()
        || [
            Some(&e.product_id),
            Some(&e.sku_id),
            e.transaction_id.as_ref(),
        ]
        .into_iter()
        .flatten()
        .chain(e.tags.iter())
        .any(|s| s.to_lowercase().contains(&needle));
    status_ok && kind_ok && acq_ok && valid_ok && trial_ok && text_ok
}

fn dataset(items: &[Entitlement]) -> Dataset {
    let mut d = Dataset::new();
    d.extend(1, items.iter().cloned());
    d
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn filter_matches_the_naive_filter(items in prop::collection::vec(entitlement(), 0..60), f in filter()) {
        let d = dataset(&items);
        let order: Vec<u32> = (0..items.len() as u32).collect();
        let got = f.apply(&d, &order, NOW);
        let want: Vec<u32> = order.iter().copied().filter(|&i| naive(&f, &items[i as usize], NOW)).collect();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn filtering_a_sorted_order_keeps_it_sorted(items in prop::collection::vec(entitlement(), 0..60), f in filter(), desc in any::<bool>()) {
        let d = dataset(&items);
        let mut v = View::default();
        v.filter = f.clone();
        v.sort = SortSpec { column: Column::Quantity, descending: desc };
        v.rebuild(&d, NOW);
        let q: Vec<i64> = v.visible.iter().map(|&i| items[i as usize].quantity.unwrap_or(i64::MIN)).collect();
        let sorted = q.windows(2).all(|w| if desc { w[0] >= w[1] } else { w[0] <= w[1] });
        prop_assert!(sorted, "{:?}", q);
        let n = items.iter().filter(|e| naive(&f, e, NOW)).count();
        prop_assert_eq!(v.visible.len(), n);
    }

    #[test]
    fn exports_hold_exactly_the_visible_rows(items in prop::collection::vec(entitlement(), 0..30), f in filter()) {
        let d = dataset(&items);
        let order: Vec<u32> = (0..items.len() as u32).collect();
        let rows = f.apply(&d, &order, NOW);
        let json: Vec<serde_json::Value> = serde_json::from_str(&export::to_string(Format::Json, &d, &rows, None)).unwrap();
        let ids: Vec<String> = json.iter().map(|v| v["id"].as_str().unwrap().to_string()).collect();
        let want: Vec<String> = rows.iter().map(|&i| items[i as usize].id.clone()).collect();
        prop_assert_eq!(ids, want);
        let csv = export::to_string(Format::Csv, &d, &rows, None);
        prop_assert_eq!(csv.lines().count(), rows.len() + 1);
    }
}

#[test]
fn sort_ties_keep_arrival_order_both_ways() {
    let items: Vec<Entitlement> = (0..6)
        .map(|i| Entitlement {
            id: format!("e{i}"),
            product_id: if i % 2 == 0 { "B" } else { "A" }.into(),
            ..Entitlement::default()
        })
        .collect();
    let d = dataset(&items);
    let asc = sort::order(
        &d,
        SortSpec {
            column: Column::Product,
            descending: false,
        },
    );
    assert_eq!(asc, vec![1, 3, 5, 0, 2, 4]);
    let desc = sort::order(
        &d,
        SortSpec {
            column: Column::Product,
            descending: true,
        },
    );
    assert_eq!(desc, vec![0, 2, 4, 1, 3, 5]);
}

#[test]
fn duplicates_are_kept_and_marked_and_unknown_values_shown() {
    let page = |items: serde_json::Value| -> Vec<Entitlement> {
        let body = serde_json::json!({ "items": items }).to_string();
        serde_json::from_str::<QueryResponse>(&body).unwrap().items
    };
    let mut d = Dataset::new();
    d.extend(1, page(serde_json::json!([
        {"id": "X", "productId": "9NDRAGON", "skuId": "0010", "status": "Revoked", "productKind": "Durable"},
        {"id": "Y", "productId": "9NOTHER1", "skuId": "0010", "status": "Hibernating", "productKind": "Hologram"},
    ])));
    d.extend(2, page(serde_json::json!([
        {"id": "X", "productId": "9NDRAGON", "skuId": "0010", "status": "Active", "productKind": "Durable", "newField": 1},
    ])));
    assert_eq!(d.len(), 3, "never dropped");
    let rows = d.rows();
    assert!(!rows[0].dup.repeat_id && rows[0].dup.same_product);
    assert!(rows[2].dup.repeat_id && rows[2].page == 2);
    assert!(!rows[1].dup.any());
    assert_eq!(d.duplicate_rows(), 2);
    let status = storedesk::browse::column::display(&d, &rows[1], Column::Status, NOW);
    assert_eq!(status, "other: Hibernating");
    assert_eq!(
        storedesk::browse::column::display(&d, &rows[1], Column::Mark, NOW),
        "?"
    );
    assert_eq!(
        storedesk::browse::column::display(&d, &rows[2], Column::Mark, NOW),
        "⧉"
    );
    // The raw JSON survives exactly, unknown fields included.
    assert!(d.raw_json(&rows[2]).contains("\"newField\":1"));
    let f = Filter {
        statuses: vec![EntitlementStatus::parse("Hibernating")],
        ..Filter::default()
    };
    assert_eq!(f.apply(&d, &[0, 1, 2], NOW), vec![1]);
}

// ------------------------------------------------------- sandbox paging

struct Env {
    sb: Arc<Sandbox>,
    _dir: tempfile::TempDir,
}

async fn start() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let sb = support_sandbox::start_in(dir.path(), vec![]).await;
    Env {
        sb: Arc::new(sb),
        _dir: dir,
    }
}

fn client(sb: &Sandbox) -> StoreClient {
    let info = &sb.info;
    let mut cfg = info.client_config();
    cfg.timeout = Duration::from_secs(10);
    cfg.retry = RetryPolicy {
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(100),
        ..RetryPolicy::default()
    };
    StoreClient::new(cfg).unwrap()
}

fn whale_key(sb: &Sandbox) -> String {
    sb.info
        .customers
        .iter()
        .find(|c| c.name == "wally")
        .unwrap()
        .collections_key
        .clone()
}

fn whale_products() -> Vec<String> {
    (0..100).map(|i| format!("9WHALE{i:04}")).collect()
}

fn ctx() -> PaneCtx {
    PaneCtx {
        actor: storedesk::journal::Actor {
            operator: "tester".into(),
            profile: "sandbox".into(),
            environment: Environment::Sandbox,
        },
        now: Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap(),
        conn: None,
        writes_allowed: true,
        environment: Environment::Sandbox,
    }
}

/// Run the pane's fetch job and feed every event to a pane, as the console does.
async fn run_fetch(
    c: &StoreClient,
    key: &str,
    products: &[String],
    on_event: impl Fn(&EntEvent) + Send + Sync + 'static,
) -> (EntitlementsPane, LiveCase, Vec<EntEvent>) {
    let events: Arc<Mutex<Vec<EntEvent>>> = Arc::default();
    let sink = events.clone();
    let send: job::Send = Arc::new(move |ev| {
        on_event(&ev);
        sink.lock().unwrap().push(ev);
    });
    job::fetch(
        c,
        products,
        "sandbox",
        FetchRequest {
            fetch_id: 1,
            key: key.into(),
            validity: storedesk::store::model::ValidityType::All,
            exclude_duplicates: false,
        },
        CancellationToken::new(),
        send,
    )
    .await;
    // Countdown ticks may still be in flight; they are not needed here.
    let events = std::mem::take(&mut *events.lock().unwrap());
    let mut pane = EntitlementsPane::default();
    let mut case = LiveCase::default();
    case.listing.fetch = FetchState::Running {
        fetch_id: 1,
        progress: Default::default(),
        waiting: None,
    };
    let mut seen = Vec::new();
    for ev in events {
        seen.push(ev.clone());
        pane.on_event(&mut case, ev, &ctx());
    }
    (pane, case, seen)
}

fn pages_seen(events: &[EntEvent]) -> Vec<u32> {
    events
        .iter()
        .filter_map(|e| match e {
            EntEvent::Page { progress, .. } => Some(progress.pages),
            _ => None,
        })
        .collect()
}

fn unique_ids(case: &LiveCase) -> usize {
    let data = &case.listing.data;
    data.rows()
        .iter()
        .map(|r| data.text(r.id).to_string())
        .collect::<HashSet<_>>()
        .len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pane_lists_the_whale_with_v9_in_exactly_50_requests() {
    let env = start().await;
    let c = client(&env.sb);
    let (pane, case, events) = run_fetch(&c, &whale_key(&env.sb), &whale_products(), |_| {}).await;
    assert_eq!(c.stats().of("publisherQuery"), 50);
    assert_eq!(c.stats().of("b2bLicensePreview"), 0);
    assert!(matches!(
        &events[0],
        EntEvent::Plan {
            mode: QueryMode::V9 {
                products: 100,
                chunks: 1,
                ..
            },
            ..
        }
    ));
    assert_eq!(pages_seen(&events), (1..=50).collect::<Vec<_>>());
    match &case.listing.fetch {
        FetchState::Done(p) => {
            assert_eq!((p.pages, p.items, p.calls_left), (50, 10_000, Some(50)));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(case.listing.data.len(), 10_000);
    assert_eq!(unique_ids(&case), 10_000);
    assert_eq!(pane.view.visible.len(), 10_000);
    assert_eq!(
        pane.view.title(&case.listing.data),
        "All — 10,000 of 10,000"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pane_falls_back_to_v8_without_product_ids_in_100_requests() {
    let env = start().await;
    let c = client(&env.sb);
    let (_, case, events) = run_fetch(&c, &whale_key(&env.sb), &[], |_| {}).await;
    assert_eq!(c.stats().of("b2bLicensePreview"), 100);
    assert_eq!(c.stats().of("publisherQuery"), 0);
    match &events[0] {
        EntEvent::Plan {
            mode: QueryMode::V8 { reason },
            ..
        } => {
            assert!(reason.contains("no product_ids"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(case.listing.data.len(), 10_000);
    assert_eq!(unique_ids(&case), 10_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_mid_paging_is_waited_out_and_no_page_is_lost_or_repeated() {
    let env = start().await;
    let c = client(&env.sb);
    let sb = env.sb.clone();
    let injected = Arc::new(Mutex::new(false));
    let flag = injected.clone();
    // After page 7 arrives, the next publisherQuery answers 429 Retry-After: 1.
    let on_event = move |ev: &EntEvent| {
        if let EntEvent::Page { progress, .. } = ev
            && progress.pages == 7
        {
            sb.add_fault("publisherQuery:429,retry-after=1".parse().unwrap());
            *flag.lock().unwrap() = true;
        }
    };
    let (_, case, events) = run_fetch(&c, &whale_key(&env.sb), &whale_products(), on_event).await;
    assert!(*injected.lock().unwrap());
    assert_eq!(
        c.stats().of("publisherQuery"),
        51,
        "50 pages + the one answered 429"
    );
    let waits: Vec<u64> = events
        .iter()
        .filter_map(|e| match e {
            EntEvent::Waiting { secs_left, why, .. } => {
                assert!(why.contains("429"), "{why}");
                Some(*secs_left)
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        waits.first(),
        Some(&1),
        "the countdown starts at Retry-After"
    );
    assert_eq!(pages_seen(&events), (1..=50).collect::<Vec<_>>());
    assert_eq!(case.listing.data.len(), 10_000);
    assert_eq!(unique_ids(&case), 10_000, "no page lost or repeated");
    assert!(case.listing.data.rows().iter().all(|r| !r.dup.repeat_id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_stops_between_pages() {
    let env = start().await;
    let c = client(&env.sb);
    let cancel = CancellationToken::new();
    let stop = cancel.clone();
    let events: Arc<Mutex<Vec<EntEvent>>> = Arc::default();
    let sink = events.clone();
    let send: job::Send = Arc::new(move |ev| {
        if let EntEvent::Page { progress, .. } = &ev
            && progress.pages == 3
        {
            stop.cancel();
        }
        sink.lock().unwrap().push(ev);
    });
    let req = FetchRequest {
        fetch_id: 9,
        key: whale_key(&env.sb),
        validity: storedesk::store::model::ValidityType::All,
        exclude_duplicates: false,
    };
    job::fetch(&c, &whale_products(), "sandbox", req, cancel, send).await;
    let ev = events.lock().unwrap();
    assert_eq!(pages_seen(&ev), vec![1, 2, 3]);
    assert!(matches!(
        ev.last(),
        Some(EntEvent::Finished {
            result: Err(storedesk::tui::panes::entitlements::FetchError::Cancelled),
            ..
        })
    ));
    assert_eq!(c.stats().of("publisherQuery"), 3);
}

/// A listing the Store stops with a bare 429 leaves the customer's budget
/// spent: the last thing the pane hears says so (the status bar's
/// `calls N/100`), instead of the count of the last page, or none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listing_stopped_by_a_bare_429_reports_the_calls_left() {
    let env = start().await;
    let c = client(&env.sb);
    env.sb
        .add_fault("publisherQuery:429,retry-after=none".parse().unwrap());
    let (_, case, events) = run_fetch(&c, &whale_key(&env.sb), &whale_products(), |_| {}).await;
    assert!(
        matches!(case.listing.fetch, FetchState::Failed(..)),
        "{:?}",
        case.listing.fetch
    );
    let last_budget = events.iter().rev().find_map(EntEvent::calls_left);
    assert_eq!(
        last_budget,
        Some(0),
        "the hold is what the status bar shows"
    );
}
