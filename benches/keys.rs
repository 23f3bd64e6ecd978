//! Key decoding budget (issue 7): decode + assess a real-size key ≤ 20 µs;
//! reject 1 MiB of garbage ≤ 1 ms. `inspect -` throughput (issue 13):
//! ≥ 50,000 keys/s on one core, as NDJSON and as text.
//!
//! cargo bench --bench keys

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rand::SeedableRng;
use rsa::RsaPrivateKey;
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use serde_json::{Value, json};
use std::hint::black_box;
use storedesk::keys::{AssessContext, assess, clean_bytes, clean_input, decode, inspect};

const IAT: i64 = 1_790_000_000;

/// The shape and size of a Microsoft User Store ID: the docs' claim set
/// (900-char opaque payload) with consistent times, x5t header, 2048-bit
/// signature.
fn claims() -> Value {
    let mut c: Value = serde_json::from_str(include_str!(
        "../tests/fixtures/keys/docs-example.claims.json"
    ))
    .unwrap();
    c["iat"] = json!(IAT);
    c["nbf"] = json!(IAT);
    c["exp"] = json!(IAT + 30 * 86_400);
    c
}

fn microsoft_key() -> String {
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(include_str!(
            "../tests/fixtures/keys/docs-example.header.json"
        )),
        URL_SAFE_NO_PAD.encode(claims().to_string()),
        URL_SAFE_NO_PAD.encode([0x5au8; 256])
    )
}

fn bench(c: &mut Criterion) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(3);
    let rsa = RsaPrivateKey::new(&mut rng, 2048).unwrap();
    let private_pem = rsa.to_pkcs8_pem(LineEnding::LF).unwrap().to_string();
    let public_pem = rsa
        .to_public_key()
        .to_public_key_pem(LineEnding::LF)
        .unwrap();
    let mut h = Header::new(Algorithm::RS256);
    h.kid = Some("storedesk-sandbox".into());
    let sandbox_key = jsonwebtoken::encode(
        &h,
        &claims(),
        &EncodingKey::from_rsa_pem(private_pem.as_bytes()).unwrap(),
    )
    .unwrap();

    let ms_key = microsoft_key();
    eprintln!("real-size key: {} bytes", ms_key.len());
    let ctx = AssessContext {
        now: chrono::DateTime::from_timestamp(IAT + 86_400, 0).unwrap(),
        profile_client_id: Some("1d5773695a3b44928227393bfef1e13d"),
        sandbox_public_key_pem: Some(&public_pem),
    };

    let mut g = c.benchmark_group("keys");
    g.bench_function("decode+assess microsoft-size key", |b| {
        b.iter(|| assess(&decode(black_box(&ms_key)).unwrap(), &ctx))
    });
    g.bench_function("inspect (clean+decode+assess) microsoft-size key", |b| {
        b.iter(|| inspect(black_box(&ms_key), &ctx).unwrap())
    });
    g.bench_function("decode+assess+RS256 verify sandbox key", |b| {
        b.iter(|| assess(&decode(black_box(&sandbox_key)).unwrap(), &ctx))
    });

    let mib = vec![b'A'; 1 << 20];
    g.bench_function("reject 1 MiB garbage (bytes)", |b| {
        b.iter(|| clean_bytes(black_box(&mib)).unwrap_err())
    });
    // Just under the size cap, so the whole clean-up pipeline (JSON try,
    // line joining, substring scan) runs over it.
    let near_cap: String = "eyJ garbage, no key here {\"key\": 1} \n"
        .repeat(64 * 1024 / 37)
        .chars()
        .take(64 * 1024 - 1)
        .collect();
    g.bench_function("reject 64 KiB garbage text (full scan)", |b| {
        b.iter(|| clean_input(black_box(&near_cap)).unwrap_err())
    });
    g.finish();

    // `storedesk inspect -`: the same function the command runs, over
    // 10,000 real-size keys in memory (the output buffered as the command
    // buffers stdout).
    let env = storedesk::commands::inspect::InspectEnv {
        now: chrono::DateTime::from_timestamp(IAT + 86_400, 0).unwrap(),
        profile_client_id: Some("1d5773695a3b44928227393bfef1e13d".into()),
        sandbox_public_key_pem: None,
        pem_error: None,
    };
    const KEYS: usize = 10_000;
    let input = format!("{ms_key}\n").repeat(KEYS);
    let mut g = c.benchmark_group("inspect_stream");
    g.throughput(Throughput::Elements(KEYS as u64));
    g.sample_size(10);
    use storedesk::commands::inspect::Output;
    for output in [Output::Ndjson, Output::Json, Output::Text] {
        let name = match output {
            Output::Ndjson => "10k keys --ndjson",
            Output::Json => "10k keys --json (one array)",
            Output::Text => "10k keys text",
        };
        g.bench_function(name, |b| {
            b.iter(|| {
                let mut out = Vec::with_capacity(64 << 20);
                let mut err = Vec::new();
                storedesk::commands::inspect::stream(
                    black_box(input.as_bytes()),
                    &env,
                    output,
                    &mut out,
                    &mut err,
                )
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
