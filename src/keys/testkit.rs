//! Keys minted for tests: a seeded RSA key (generated once per process),
//! the sandbox's header, and User Store ID claim sets.

use super::{
    CLAIM_CLIENT_ID, CLAIM_PAYLOAD, CLAIM_REFRESH_URI, CLAIM_USER_ID, COLLECTIONS_KEYS, SANDBOX_KID,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rsa::RsaPrivateKey;
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use serde_json::{Value, json};
use std::sync::OnceLock;

pub struct TestKey {
    pub private_pem: String,
    pub public_pem: String,
}

fn make(seed: u64) -> TestKey {
    let mut rng = StdRng::seed_from_u64(seed);
    let k = RsaPrivateKey::new(&mut rng, 2048).unwrap();
    TestKey {
        private_pem: k.to_pkcs8_pem(LineEnding::LF).unwrap().to_string(),
        public_pem: k.to_public_key().to_public_key_pem(LineEnding::LF).unwrap(),
    }
}

/// Stands in for the sandbox's signing key.
pub fn sandbox_key() -> &'static TestKey {
    static K: OnceLock<TestKey> = OnceLock::new();
    K.get_or_init(|| make(7))
}

/// Another RSA key: a key signed by "another sandbox".
pub fn other_key() -> &'static TestKey {
    static K: OnceLock<TestKey> = OnceLock::new();
    K.get_or_init(|| make(8))
}

pub fn sandbox_header() -> Header {
    let mut h = Header::new(Algorithm::RS256);
    h.kid = Some(SANDBOX_KID.to_string());
    h
}

/// A Microsoft-looking header (x5t, no kid).
pub fn microsoft_header() -> Header {
    let mut h = Header::new(Algorithm::RS256);
    h.x5t = Some("agA_pgJ7Twx_Ex2_rEeQ2o5fZ5g".to_string());
    h
}

pub fn sign(header: &Header, claims: &Value, key: &TestKey) -> String {
    let ek = EncodingKey::from_rsa_pem(key.private_pem.as_bytes()).unwrap();
    jsonwebtoken::encode(header, claims, &ek).unwrap()
}

/// A UserCollectionsId issued at `iat` that lives 30 days, like the Store's.
pub fn store_claims(iat: i64) -> Value {
    json!({
        CLAIM_CLIENT_ID: "1d5773695a3b44928227393bfef1e13d",
        CLAIM_PAYLOAD: "b3BhcXVlIHBheWxvYWQ=".repeat(40),
        CLAIM_USER_ID: "user-42",
        CLAIM_REFRESH_URI: "https://collections.mp.microsoft.com/v6.0/b2b/keys/renew",
        "iat": iat,
        "iss": COLLECTIONS_KEYS,
        "aud": COLLECTIONS_KEYS,
        "exp": iat + 30 * 86_400,
        "nbf": iat,
    })
}

/// A token from literal header and payload JSON text (kept verbatim, so
/// duplicates and odd numbers survive) with a made-up signature.
pub fn raw_token(header: &str, payload: &str) -> String {
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload),
        URL_SAFE_NO_PAD.encode([7u8; 256])
    )
}
