//! Parsing one full v9 PublisherQuery page (200 items, every field, raw JSON
//! kept per item) exactly as the client does: `serde_json::from_slice`.
//! Target: ≤ 1 ms.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use storedesk::store::model::QueryResponse;

fn page(n: usize) -> Vec<u8> {
    let kinds = [
        "Durable",
        "Consumable",
        "Game",
        "Pass",
        "UnmanagedConsumable",
        "Application",
    ];
    let statuses = ["Active", "Revoked", "Expired", "Banned", "Suspended"];
    let items: Vec<serde_json::Value> = (0..n)
        .map(|i| {
            serde_json::json!({
                "acquiredDate": "2021-08-30T21:53:08.2565331+00:00",
                "acquisitionType": if i % 7 == 0 { "Recurring" } else { "Single" },
                "endDate": "9999-12-31T23:59:59.9999999+00:00",
                "id": format!("{:032x}", i as u128 * 7919),
                "modifiedDate": "2021-08-30T21:53:08.2565331+00:00",
                "productId": format!("9N{:010}", i % 97),
                "productKind": kinds[i % kinds.len()],
                "quantity": (i % 50) as i64,
                "recurrenceId": if i % 7 == 0 { serde_json::json!(format!("mdr:0:{:032x}:0d3a1a1e-0000-0000-0000-{:012}", i, i)) } else { serde_json::Value::Null },
                "satisfiedByProductIds": if i % 5 == 0 { serde_json::json!(["CFQ7TTC0KGQ8"]) } else { serde_json::json!([]) },
                "skuId": "0010",
                "startDate": "2021-08-30T21:53:08.2565331+00:00",
                "status": statuses[i % statuses.len()],
                "tags": ["tag-a", "tag-b"],
                "transactionId": format!("0d3a1a1e-1111-2222-3333-{:012}", i),
                "trialData": {"isInTrialPeriod": i % 11 == 0, "isTrial": i % 11 == 0, "trialTimeRemaining": "6.23:59:59.9999999"}
            })
        })
        .collect();
    serde_json::to_vec(&serde_json::json!({"continuationToken": "eyJwIjoyfQ", "items": items}))
        .unwrap()
}

fn bench(c: &mut Criterion) {
    let body = page(200);
    let check: QueryResponse = serde_json::from_slice(&body).unwrap();
    assert_eq!(check.items.len(), 200);
    assert!(check.items.iter().all(|e| e.raw.is_some()));
    let mut g = c.benchmark_group("page_parse");
    g.throughput(Throughput::Bytes(body.len() as u64));
    g.bench_function("v9_page_200_items", |b| {
        b.iter(|| {
            let p: QueryResponse = serde_json::from_slice(black_box(&body)).unwrap();
            black_box(p.items.len())
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
