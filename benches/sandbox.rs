//! Sandbox over loopback: latency of a 200-item PublisherQuery page (criterion
//! plus a p50/p99 from 2,000 timed requests) and sustained requests/s from a
//! concurrent load loop. Run: `cargo bench --bench sandbox`.

use criterion::Criterion;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use storedesk::clock::Clock;
use storedesk::sandbox::{self, SandboxOptions};

struct Bench {
    url: String,
    token: String,
    body: Vec<u8>,
    small: Vec<u8>,
}

async fn setup(dir: &std::path::Path) -> (sandbox::Sandbox, Bench) {
    let sb = sandbox::start(SandboxOptions {
        data_dir: dir.to_path_buf(),
        port: 0,
        clock: Clock::system(),
        faults: vec![],
    })
    .await
    .unwrap();
    let http = reqwest::Client::new();
    http.post(format!("{}/_sandbox/ratelimit", sb.base_url()))
        .header(
            storedesk::sandbox::CONTROL_SECRET_HEADER,
            &sb.info.control_secret,
        )
        .json(&json!({"enabled": false}))
        .send()
        .await
        .unwrap();
    let tok: Value = http
        .post(format!(
            "{}/login/{}/oauth2/token",
            sb.base_url(),
            sb.info.tenant
        ))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", sb.info.client_id.as_str()),
            ("client_secret", sb.info.client_secret.as_str()),
            ("resource", storedesk::store::audience::STORE),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let whale = sb
        .info
        .customers
        .iter()
        .find(|c| c.name == "wally")
        .unwrap();
    let ids: Vec<Value> = (0..100)
        .map(|i| json!({"productId": format!("9WHALE{i:04}")}))
        .collect();
    let beneficiary = json!([{"identityType": "b2b", "identityValue": whale.collections_key, "localTicketReference": ""}]);
    let body = serde_json::to_vec(
        &json!({"beneficiaries": beneficiary, "productSkuIds": ids, "maxPageSize": 200}),
    )
    .unwrap();
    let small = serde_json::to_vec(&json!({"beneficiaries": beneficiary, "productSkuIds": [{"productId": "9WHALE0001"}], "maxPageSize": 1})).unwrap();
    let b = Bench {
        url: format!(
            "{}/collections/v9.0/collections/publisherQuery",
            sb.base_url()
        ),
        token: tok["access_token"].as_str().unwrap().to_owned(),
        body,
        small,
    };
    (sb, b)
}

async fn one(http: &reqwest::Client, b: &Bench, body: &[u8]) -> usize {
    let r = http
        .post(&b.url)
        .bearer_auth(&b.token)
        .header("content-type", "application/json")
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.bytes().await.unwrap().len()
}

fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (sb, b) = rt.block_on(setup(dir.path()));
    let b = Arc::new(b);
    let http = reqwest::Client::new();
    let size = rt.block_on(one(&http, &b, &b.body));
    println!("200-item page: {size} bytes");

    let mut c = Criterion::default()
        .configure_from_args()
        .measurement_time(Duration::from_secs(5));
    c.bench_function("sandbox/publisherQuery_200_items_loopback", |bench| {
        bench.iter(|| rt.block_on(one(&http, &b, &b.body)))
    });

    // Percentiles, one request at a time on a warm keep-alive connection.
    let mut lat: Vec<Duration> = rt.block_on(async {
        let mut v = Vec::with_capacity(2000);
        for _ in 0..2000 {
            let t = Instant::now();
            one(&http, &b, &b.body).await;
            v.push(t.elapsed());
        }
        v
    });
    lat.sort();
    let pct = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)];
    println!(
        "200-item page over loopback, 2000 sequential requests: p50 {:?}, p99 {:?}, max {:?}",
        pct(0.50),
        pct(0.99),
        lat[lat.len() - 1]
    );

    // Sustained throughput: 32 concurrent keep-alive clients for 5 s each case.
    for (name, small) in [("1-item query", true), ("200-item page", false)] {
        let done = Arc::new(AtomicU64::new(0));
        let secs = 5;
        rt.block_on(async {
            let end = Instant::now() + Duration::from_secs(secs);
            let mut tasks = Vec::new();
            for _ in 0..32 {
                let (b, done, http) = (b.clone(), done.clone(), http.clone());
                tasks.push(tokio::spawn(async move {
                    while Instant::now() < end {
                        let body = if small { &b.small } else { &b.body };
                        one(&http, &b, body).await;
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                }));
            }
            for t in tasks {
                t.await.unwrap();
            }
        });
        let n = done.load(Ordering::Relaxed);
        println!(
            "sustained {name}: {n} requests in {secs} s = {:.0} req/s (client and server share the 2 cores)",
            n as f64 / secs as f64
        );
    }
    // Start cost with the signing key already in the data dir (the console's
    // every start after the first): load key, build the seed incl. the whale,
    // bind, mint the demo keys.
    let mut starts: Vec<Duration> = (0..10)
        .map(|_| {
            let t = Instant::now();
            let sb = rt
                .block_on(sandbox::start(SandboxOptions {
                    data_dir: dir.path().to_path_buf(),
                    port: 0,
                    clock: Clock::system(),
                    faults: vec![],
                }))
                .unwrap();
            let d = t.elapsed();
            rt.block_on(sb.shutdown());
            d
        })
        .collect();
    starts.sort();
    println!(
        "sandbox start (key on disk): median {:?}, max {:?}",
        starts[5], starts[9]
    );
    c.final_summary();
    rt.block_on(sb.shutdown());
}
