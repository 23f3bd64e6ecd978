//! `storedesk inspect` as a user runs it: the real binary, a temp data dir,
//! keys minted here with a throwaway RSA key, exit codes 0 / 1 / 2.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rand::SeedableRng;
use rsa::RsaPrivateKey;
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use serde_json::{Value, json};
use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

const IAT: i64 = 1_790_000_000; // 2026-09-21T14:13:20Z
const DAY: i64 = 86_400;
const CLIENT_ID: &str = "1d5773695a3b44928227393bfef1e13d";

struct Keys {
    private_pem: String,
    public_pem: String,
}

fn keys() -> &'static Keys {
    static K: OnceLock<Keys> = OnceLock::new();
    K.get_or_init(|| {
        let mut rng = rand::rngs::StdRng::seed_from_u64(11);
        let k = RsaPrivateKey::new(&mut rng, 2048).unwrap();
        Keys {
            private_pem: k.to_pkcs8_pem(LineEnding::LF).unwrap().to_string(),
            public_pem: k.to_public_key().to_public_key_pem(LineEnding::LF).unwrap(),
        }
    })
}

fn sandbox_key(iat: i64) -> String {
    let mut h = Header::new(Algorithm::RS256);
    h.kid = Some("storedesk-sandbox".into());
    let claims = json!({
        "http://schemas.microsoft.com/marketplace/2015/08/claims/key/clientId": CLIENT_ID,
        "http://schemas.microsoft.com/marketplace/2015/08/claims/key/payload": "b3BhcXVl".repeat(100),
        "http://schemas.microsoft.com/marketplace/2015/08/claims/key/userId": "user-42",
        "http://schemas.microsoft.com/marketplace/2015/08/claims/key/refreshUri": "https://collections.mp.microsoft.com/v6.0/b2b/keys/renew",
        "iat": iat,
        "iss": "https://collections.mp.microsoft.com/v6.0/keys",
        "aud": "https://collections.mp.microsoft.com/v6.0/keys",
        "exp": iat + 30 * DAY,
        "nbf": iat,
    });
    let ek = EncodingKey::from_rsa_pem(keys().private_pem.as_bytes()).unwrap();
    jsonwebtoken::encode(&h, &claims, &ek).unwrap()
}

fn docs_example_key() -> String {
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(include_str!("fixtures/keys/docs-example.header.json")),
        URL_SAFE_NO_PAD.encode(include_str!("fixtures/keys/docs-example.claims.json")),
        URL_SAFE_NO_PAD.encode([1u8; 256])
    )
}

/// A data dir, optionally holding the sandbox's public key where the
/// sandbox writes it.
fn data_dir(with_pub_key: bool) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    if with_pub_key {
        let sb = d.path().join("sandbox");
        std::fs::create_dir_all(&sb).unwrap();
        std::fs::write(sb.join("signing_key.pub.pem"), &keys().public_pem).unwrap();
    }
    d
}

const BIN: &str = env!("CARGO_BIN_EXE_storedesk");

fn run(dir: &tempfile::TempDir, args: &[&str], stdin: Option<&[u8]>, now: i64) -> Output {
    run_bin(BIN, dir, args, stdin, now)
}

fn run_bin(
    bin: &str,
    dir: &tempfile::TempDir,
    args: &[&str],
    stdin: Option<&[u8]>,
    now: i64,
) -> Output {
    let now = chrono::DateTime::from_timestamp(now, 0)
        .unwrap()
        .to_rfc3339();
    let mut cmd = Command::new(bin);
    cmd.arg("--data-dir")
        .arg(dir.path())
        .args(["--now", &now, "inspect"])
        .args(args)
        // Keep the user's own config and profile out of the test.
        .env("XDG_CONFIG_HOME", dir.path().join("config"))
        .env("HOME", dir.path())
        .env_remove("STOREDESK_CONFIG")
        .env_remove("STOREDESK_PROFILE")
        .env_remove("STOREDESK_NOW")
        .env_remove("STOREDESK_CLIENT_ID")
        .env("TZ", "UTC")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    {
        let mut pipe = child.stdin.take().unwrap();
        if let Some(bytes) = stdin {
            // The binary may stop reading early (size cap); that is fine.
            let _ = pipe.write_all(bytes);
        }
    }
    child.wait_with_output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn valid_sandbox_key_exits_0_and_is_verified() {
    let dir = data_dir(true);
    let key = sandbox_key(IAT);
    let out = run(&dir, &[&key], None, IAT + DAY + 3 * 3600);
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    assert!(
        stdout.contains("Kind         User Store ID for collections (UserCollectionsId)\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Verdict      valid: expires in 28 d 21 h, renewal due in 12 d 21 h\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Signature    verified (sandbox)\n"),
        "{stdout}"
    );
    assert!(stdout.contains("User ID      user-42\n"), "{stdout}");
    assert!(stdout.contains(
        "Expires      2026-10-21 14:13:20 UTC · 2026-10-21 14:13:20 +00:00 local · in 28 d 21 h\n"
    ), "{stdout}");
    assert!(
        stdout.contains("Lifetime     [#-------------------] 4 % used"),
        "{stdout}"
    );
    assert!(
        stdout.contains("(http://schemas.microsoft.com/marketplace/2015/08/claims/key/userId)")
    );
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
}

#[test]
fn renew_now_still_exits_0() {
    let dir = data_dir(true);
    let out = run(&dir, &[&sandbox_key(IAT)], None, IAT + 20 * DAY);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("Verdict      renew now: renewal was due 6 d ago"));
}

#[test]
fn expired_key_exits_1_and_says_mint_a_new_one() {
    let dir = data_dir(true);
    let out = run(&dir, &[&sandbox_key(IAT)], None, IAT + 31 * DAY);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains(
        "Verdict      expired 1 d ago: it cannot be renewed; the client app must mint a new key"
    ));
}

#[test]
fn tampered_key_exits_1_with_invalid_signature() {
    let dir = data_dir(true);
    let key = sandbox_key(IAT);
    let mut parts: Vec<&str> = key.split('.').collect();
    let other = sandbox_key(IAT + 1);
    parts[1] = other.split('.').nth(1).unwrap();
    let forged = parts.join(".");
    let out = run(&dir, &[&forged], None, IAT + DAY);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("Signature    signature INVALID: "));
}

#[test]
fn docs_example_key_exits_1_as_inconsistent() {
    let dir = data_dir(false);
    let out = run(&dir, &[&docs_example_key()], None, IAT);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(
            "Verdict      inconsistent: it expires (2024-12-06 22:14:49 UTC) before it was issued"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("Signature    not verifiable offline: Microsoft publishes no key for it")
    );
}

/// Arguments, standard input, expected message.
type Case<'a> = (&'a [&'a str], Option<&'a [u8]>, &'a str);

#[test]
fn not_a_key_exits_2_with_one_line_on_stderr() {
    let dir = data_dir(false);
    let cases: [Case; 6] = [
        (
            &["hello, world"],
            None,
            "not a key: no key found in the text",
        ),
        (
            &["eyJhbGciOiJSUzI1NiJ9.eyJleHAiOjF9"],
            None,
            "has 2 part(s)",
        ),
        (&["-"], Some(b""), "the input is empty"),
        (&[], Some(b" \n\t "), "only whitespace"),
        (
            &["-"],
            Some(&[0xff, 0xfe, b'e', b'y']),
            "invalid UTF-8 at byte 0",
        ),
        (
            &["-"],
            Some(&[b'e'; 1 << 20]),
            "input too large: 1048576 bytes",
        ),
    ];
    for (args, stdin, expect) in cases {
        let out = run(&dir, args, stdin, IAT);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}: nothing on stdout");
        assert!(
            err.starts_with("storedesk inspect: ") && err.contains(expect),
            "{args:?}: {err}"
        );
        assert_eq!(err.lines().count(), 1, "{err}");
    }
}

#[test]
fn stdin_paste_is_cleaned() {
    let dir = data_dir(true);
    let paste = format!("Authorization: Bearer {}\n", sandbox_key(IAT));
    let out = run(&dir, &[], Some(paste.as_bytes()), IAT);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(stdout.starts_with("Input        removed the Authorization header name\nInput        removed the Bearer prefix\n"), "{stdout}");
}

#[test]
fn json_output_is_machine_readable() {
    let dir = data_dir(true);
    let key = sandbox_key(IAT);
    let body = format!(r#"{{"serviceTicket":"x","key":"{key}"}}"#);
    let out = run(
        &dir,
        &["-", "--json"],
        Some(body.as_bytes()),
        IAT + 13 * DAY,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // Standard input is a list of keys: `--json` prints one array.
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc.as_array().map(Vec::len), Some(1), "{doc}");
    let v = &doc[0];
    assert_eq!(v["kind"], "UserCollectionsId");
    assert_eq!(v["usable"], true);
    assert_eq!(v["verdict"]["label"], "renew soon");
    assert_eq!(v["signature"]["status"], "verified_sandbox");
    assert_eq!(v["user_id"], "user-42");
    assert_eq!(v["expires_at"], "2026-10-21T14:13:20+00:00");
    assert_eq!(v["renew_due"], "2026-10-05T14:13:20+00:00");
    assert_eq!(
        v["input_notes"][0],
        "picked the key out of a JSON body (field \"key\")"
    );
    assert_eq!(v["claims"].as_array().unwrap().len(), 9);
    assert_eq!(v["payload"]["iat"], IAT);
    assert_eq!(v["fingerprint"].as_str().unwrap().len(), 8);
    assert!(
        !text(&out.stdout).contains(&key),
        "the key itself is not echoed"
    );

    // Exit 1 in JSON mode too, with the reason.
    let out = run(&dir, &["--json", &docs_example_key()], None, IAT);
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["verdict"]["label"], "inconsistent");
    assert!(
        v["verdict"]["reason"]
            .as_str()
            .unwrap()
            .contains("before it was issued")
    );
}

#[test]
fn without_the_sandbox_public_key_the_signature_is_not_checked() {
    let dir = data_dir(false);
    let out = run(&dir, &["--json", &sandbox_key(IAT)], None, IAT);
    assert_eq!(out.status.code(), Some(0), "unknown is not invalid");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["signature"]["status"], "not_checked");
    assert!(
        v["signature"]["reason"]
            .as_str()
            .unwrap()
            .contains("signing_key.pub.pem")
    );
}

#[test]
fn client_id_is_compared_with_the_profile() {
    let dir = data_dir(true);
    let now = chrono::DateTime::from_timestamp(IAT, 0)
        .unwrap()
        .to_rfc3339();
    let out = Command::new(env!("CARGO_BIN_EXE_storedesk"))
        .arg("--data-dir")
        .arg(dir.path())
        .args([
            "--now",
            &now,
            "--profile",
            "retail",
            "inspect",
            "--json",
            &sandbox_key(IAT),
        ])
        .env("XDG_CONFIG_HOME", dir.path().join("config"))
        .env("HOME", dir.path())
        .env_remove("STOREDESK_CONFIG")
        .env(
            "STOREDESK_CLIENT_ID",
            "aaaaaaaa-0000-0000-0000-000000000000",
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["client_id_matches"], false);
    assert!(
        v["warnings"][0]
            .as_str()
            .unwrap()
            .contains("InconsistentClientId")
    );
}

/// A reader that goes away (`| head -0`) is a non-event: no message, the
/// exit code of the assessment, no SIGPIPE.
#[test]
fn a_closed_pipe_is_not_an_error() {
    let dir = data_dir(true);
    let key = sandbox_key(IAT);
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let now = chrono::DateTime::from_timestamp(IAT + DAY, 0)
        .unwrap()
        .to_rfc3339();
    let out = Command::new(BIN)
        .arg("--data-dir")
        .arg(dir.path())
        .args(["--now", &now, "inspect", &key])
        .env("XDG_CONFIG_HOME", dir.path().join("config"))
        .env("HOME", dir.path())
        .env_remove("STOREDESK_CONFIG")
        .env_remove("STOREDESK_PROFILE")
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", out.status);
    assert_eq!(text(&out.stderr), "");
}

/// `inspect -` reads any number of keys, one per line: one result per
/// non-blank line, in input order, and the worst exit code.
#[test]
fn many_keys_on_stdin_give_one_result_each_in_order() {
    let dir = data_dir(true);
    let key = sandbox_key(IAT);
    let mut tampered = key.clone();
    tampered.pop();
    tampered.push(if key.ends_with('A') { 'B' } else { 'A' });
    let input = format!(
        "{key}\n\n  \nnot a key\r\nBearer {tampered}\n{}\n",
        docs_example_key()
    );
    let out = run(&dir, &["-", "--ndjson"], Some(input.as_bytes()), IAT + DAY);
    assert_eq!(
        out.status.code(),
        Some(2),
        "a line with no key is the worst"
    );
    let lines: Vec<Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let numbers: Vec<u64> = lines.iter().map(|v| v["line"].as_u64().unwrap()).collect();
    assert_eq!(numbers, [1, 4, 5, 6], "blank lines skipped, order kept");
    assert_eq!(lines[0]["usable"], true);
    assert!(lines[1]["error"].as_str().unwrap().contains("not a key"));
    assert_eq!(lines[2]["signature"]["status"], "invalid");
    assert_eq!(lines[3]["verdict"]["label"], "inconsistent");
    let err = text(&out.stderr);
    assert!(err.contains("line 4: not a key"), "{err}");
    // `--json`: the same objects as one JSON document (an array).
    let out = run(&dir, &["-", "--json"], Some(input.as_bytes()), IAT + DAY);
    assert_eq!(out.status.code(), Some(2));
    let doc: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc, lines);

    // Without the bad line the worst is "not usable" (1).
    let input = format!("{key}\n{tampered}\n");
    let out = run(&dir, &["-", "--ndjson"], Some(input.as_bytes()), IAT + DAY);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout).lines().count(), 2);

    // Text: each result under a header naming its line.
    let input = format!("{key}\nhello\n{key}\n");
    let out = run(&dir, &["-"], Some(input.as_bytes()), IAT + DAY);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(2));
    let headers: Vec<&str> = stdout.lines().filter(|l| l.starts_with("# line")).collect();
    assert_eq!(headers, ["# line 1", "# line 2", "# line 3"], "{stdout}");
    assert!(
        stdout.contains("# line 2\nError        not a JWT"),
        "{stdout}"
    );
}

/// A line over the size limit is reported and skipped; the next key is
/// still read.
#[test]
fn an_overlong_line_is_skipped_and_the_rest_read() {
    let dir = data_dir(true);
    let key = sandbox_key(IAT);
    let mut input = vec![b'e'; 200_000];
    input.push(b'\n');
    input.extend_from_slice(key.as_bytes());
    let out = run(&dir, &["-", "--ndjson"], Some(&input), IAT + DAY);
    assert_eq!(out.status.code(), Some(2));
    let lines: Vec<Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert!(
        lines[0]["error"]
            .as_str()
            .unwrap()
            .contains("input too large: 200000 bytes")
    );
    assert_eq!(lines[1]["usable"], true);
}

/// `inspect - </dev/zero` ends at once with a clear error, without reading
/// the endless input.
#[test]
fn binary_input_ends_the_run_at_once() {
    let dir = data_dir(false);
    let out = Command::new(BIN)
        .arg("--data-dir")
        .arg(dir.path())
        .args(["inspect", "-"])
        .env("XDG_CONFIG_HOME", dir.path().join("config"))
        .env("HOME", dir.path())
        .env_remove("STOREDESK_CONFIG")
        .env_remove("STOREDESK_PROFILE")
        .stdin(std::fs::File::open("/dev/zero").unwrap())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("binary data (NUL byte at byte 0)"), "{err}");
    assert!(out.stdout.is_empty());
}

/// Issue 16 point 1: the verdict never contradicts the evidence — an
/// unsigned (`alg: none`) or forged key is not "valid" in `verdict`.
#[test]
fn json_verdict_never_says_valid_for_an_unsigned_or_forged_key() {
    let dir = data_dir(true);
    let key = sandbox_key(IAT);
    let payload = key.split('.').nth(1).unwrap();
    let unsigned = format!(
        "{}.{payload}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#)
    );
    let out = run(&dir, &["--json", &unsigned], None, IAT + DAY);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["usable"], false);
    assert_eq!(v["verdict"]["label"], "unsigned");
    assert_eq!(v["verdict"]["usable"], false);
    assert_eq!(
        v["verdict"]["times"], "valid",
        "the time-wise verdict is kept"
    );
    let out = run(&dir, &[&unsigned], None, IAT + DAY);
    let t = text(&out.stdout);
    assert!(t.contains("Verdict      unsigned: "), "{t}");

    let mut parts: Vec<&str> = key.split('.').collect();
    let other = sandbox_key(IAT + 1);
    parts[1] = other.split('.').nth(1).unwrap();
    let forged = parts.join(".");
    let out = run(&dir, &["--json", &forged], None, IAT + DAY);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["verdict"]["label"], "signature invalid");
    assert_eq!(v["verdict"]["usable"], false);
    assert!(
        v["verdict"]["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("public key"),
        "{v}"
    );
}

/// Keys minted by a real sandbox in `dir`'s data dir, which is then shut
/// down: `inspect` must find the sandbox's key where the sandbox keeps it.
fn real_sandbox_keys(dir: &tempfile::TempDir) -> Vec<storedesk::sandbox::DemoCustomer> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let sb = storedesk::sandbox::start(storedesk::sandbox::SandboxOptions {
            data_dir: dir.path().join("sandbox"),
            port: 0,
            clock: storedesk::clock::Clock::fixed(
                chrono::DateTime::from_timestamp(IAT, 0).unwrap(),
            ),
            faults: vec![],
        })
        .await
        .unwrap();
        let customers = sb.info.customers.clone();
        sb.shutdown().await;
        customers
    })
}

/// The key with one claim changed and the signature kept.
fn tamper(key: &str) -> String {
    let parts: Vec<&str> = key.split('.').collect();
    let mut claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    claims["http://schemas.microsoft.com/marketplace/2015/08/claims/key/userId"] =
        json!("someone-else");
    let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());
    format!("{}.{}.{}", parts[0], body, parts[2])
}

#[test]
fn a_tampered_key_of_the_real_sandbox_is_invalid_headless() {
    let dir = tempfile::tempdir().unwrap();
    let customers = real_sandbox_keys(&dir);
    let key = &customers[0].collections_key;
    // The genuine key verifies against the key the sandbox left on disk…
    let out = run(&dir, &["--json", key], None, IAT + 60);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["signature"]["status"], "verified_sandbox", "{v}");
    // …and the same key with another userId does not.
    let out = run(&dir, &["--json", &tamper(key)], None, IAT + 60);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["signature"]["status"], "invalid", "{v}");
    let out = run(&dir, &[&tamper(key)], None, IAT + 60);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("Signature    signature INVALID: "));
}

#[test]
fn the_sandbox_publishes_its_public_key_next_to_the_private_one() {
    let dir = tempfile::tempdir().unwrap();
    real_sandbox_keys(&dir);
    let sb = dir.path().join("sandbox");
    let public = std::fs::read_to_string(sb.join(storedesk::sandbox::PUBLIC_KEY_FILE)).unwrap();
    assert!(public.starts_with("-----BEGIN PUBLIC KEY-----"), "{public}");
    assert!(!public.contains("PRIVATE"));
    // A data dir from before the public file existed: the key is still
    // checked (read from the private key the sandbox keeps).
    std::fs::remove_file(sb.join(storedesk::sandbox::PUBLIC_KEY_FILE)).unwrap();
    assert_eq!(
        storedesk::sandbox::public_key_pem(&sb).unwrap(),
        public,
        "derived from signing-key.pem"
    );
}

/// An Entra client-credential token for the Store services (made-up
/// signature): the publisher's credential, not a customer's key.
fn service_token() -> String {
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(r#"{"typ":"JWT","alg":"RS256","x5t":"abc"}"#),
        URL_SAFE_NO_PAD.encode(
            r#"{"aud":"https://onestore.microsoft.com","iss":"https://sts.windows.net/5f8c1e2a/","appid":"8e6a9b2c","iat":1790000000,"exp":1790003600}"#
        ),
        URL_SAFE_NO_PAD.encode([3u8; 256])
    )
}

#[test]
fn a_coloured_log_line_and_a_request_dump_yield_the_customer_key() {
    let dir = data_dir(true);
    let key = sandbox_key(IAT);
    // A line copied from a coloured terminal.
    let line = format!("\x1b[2m2026-09-21\x1b[0m \x1b[32mINFO\x1b[0m key=\x1b[1;33m{key}\x1b[0m");
    let out = run(&dir, &["--json", "-"], Some(line.as_bytes()), IAT + DAY);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["kind"], "UserCollectionsId", "{v}");
    assert!(
        v[0]["input_notes"].to_string().contains("colour codes"),
        "{v}"
    );
    // A request dump: the service token in the header comes first.
    let svc = service_token();
    let dump = format!(
        "POST /v9.0/collections/publisherQuery HTTP/1.1\nAuthorization: Bearer {svc}\n\n{{\"beneficiaries\":[{{\"identityType\":\"b2b\",\"identityValue\":\"{key}\",\"localTicketReference\":\"\"}}]}}"
    );
    let out = run(&dir, &["--json", &dump], None, IAT + DAY);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["kind"], "UserCollectionsId", "{v}");
    assert_eq!(v["signature"]["status"], "verified_sandbox", "{v}");
    let notes = v["input_notes"].to_string();
    assert!(
        notes.contains("service token") && notes.contains("also found"),
        "{notes}"
    );
    assert!(!out.stdout.windows(svc.len()).any(|w| w == svc.as_bytes()));
    let out = run(&dir, &[&dump], None, IAT + DAY);
    let t = text(&out.stdout);
    assert!(
        t.contains("Kind         User Store ID for collections"),
        "{t}"
    );
    assert!(t.contains("a service token (Entra"), "{t}");
}
