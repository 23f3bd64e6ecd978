//! The sandbox's RSA signing key and the JWTs it mints: Entra-style service
//! tokens and User Store ID keys. The key is made once per data dir (PEM, 0600)
//! so keys printed yesterday still verify today.

use super::SandboxError;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rsa::RsaPrivateKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use serde::{Serialize, de::DeserializeOwned};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::{Mutex, OnceLock};

pub const KEY_FILE: &str = "signing-key.pem";
/// The public half, written beside the private key on every start, so that
/// `storedesk inspect` (and a console talking to a `storedesk sandbox`
/// elsewhere) can check sandbox keys without the sandbox running.
pub const PUBLIC_KEY_FILE: &str = "signing_key.pub.pem";
pub const KID: &str = "storedesk-sandbox";

pub struct Signer {
    enc: EncodingKey,
    dec: DecodingKey,
    pub public_pem: String,
    /// Stable secret material derived from the private key, for the client
    /// secret and the queue SAS signatures.
    derived: [u8; 32],
}

/// Keys generated in this process. RSA-2048 generation costs up to a second;
/// tests start many sandboxes in fresh dirs, and sharing one generated key
/// within a process loses nothing (each dir still gets its own file).
static GENERATED: OnceLock<Mutex<Option<String>>> = OnceLock::new();

fn generate_pem() -> Result<String, SandboxError> {
    let cache = GENERATED.get_or_init(|| Mutex::new(None));
    let mut slot = cache.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(pem) = slot.as_ref() {
        return Ok(pem.clone());
    }
    let mut rng = rand::rngs::OsRng;
    let key = RsaPrivateKey::new(&mut rng, 2048)
        .map_err(|e| SandboxError::Key(format!("cannot generate RSA key: {e}")))?;
    let pem = key
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| SandboxError::Key(format!("cannot encode RSA key: {e}")))?
        .to_string();
    *slot = Some(pem.clone());
    Ok(pem)
}

impl Signer {
    /// Load `dir/signing-key.pem`, creating it on first use.
    pub fn load_or_create(dir: &Path) -> Result<Self, SandboxError> {
        let path = dir.join(KEY_FILE);
        let pem = match std::fs::read_to_string(&path) {
            Ok(p) => p,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let pem = generate_pem()?;
                super::state::write_atomic(&path, pem.as_bytes(), true)?;
                pem
            }
            Err(e) => return Err(SandboxError::io(&path, e)),
        };
        let signer = Self::from_pem(&pem)
            .map_err(|m| SandboxError::Key(format!("{}: {m}", path.display())))?;
        signer.publish(dir);
        Ok(signer)
    }

    /// Write the public key file when it is missing or differs. Not fatal:
    /// readers fall back to the private key (`public_key_pem`).
    fn publish(&self, dir: &Path) {
        let path = dir.join(PUBLIC_KEY_FILE);
        if std::fs::read_to_string(&path).ok().as_deref() == Some(self.public_pem.as_str()) {
            return;
        }
        if let Err(e) = super::state::write_atomic(&path, self.public_pem.as_bytes(), false) {
            tracing::warn!(error = %e, "cannot write the sandbox public key");
        }
    }

    pub fn from_pem(pem: &str) -> Result<Self, String> {
        let key =
            RsaPrivateKey::from_pkcs8_pem(pem).map_err(|e| format!("not a PKCS#8 RSA key: {e}"))?;
        let public_pem = key
            .to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| e.to_string())?;
        let enc = EncodingKey::from_rsa_pem(pem.as_bytes()).map_err(|e| e.to_string())?;
        let dec = DecodingKey::from_rsa_pem(public_pem.as_bytes()).map_err(|e| e.to_string())?;
        let mut h = Sha256::new();
        h.update(b"storedesk-sandbox-derived-v1");
        h.update(pem.as_bytes());
        Ok(Self {
            enc,
            dec,
            public_pem,
            derived: h.finalize().into(),
        })
    }

    pub fn sign<T: Serialize>(&self, claims: &T) -> Result<String, SandboxError> {
        let mut header = Header::new(Algorithm::RS256);
        header.typ = Some("JWT".into());
        header.kid = Some(KID.into());
        jsonwebtoken::encode(&header, claims, &self.enc)
            .map_err(|e| SandboxError::Key(format!("cannot sign: {e}")))
    }

    /// Checks the signature only; the caller checks times and audiences
    /// against the sandbox clock.
    pub fn verify<T: DeserializeOwned>(&self, token: &str) -> Option<T> {
        let mut v = Validation::new(Algorithm::RS256);
        v.validate_exp = false;
        v.validate_nbf = false;
        v.validate_aud = false;
        v.required_spec_claims.clear();
        jsonwebtoken::decode::<T>(token, &self.dec, &v)
            .ok()
            .map(|d| d.claims)
    }

    /// A stable secret string derived for `purpose`.
    pub fn derive(&self, purpose: &str) -> String {
        use base64::Engine;
        let mut h = Sha256::new();
        h.update(self.derived);
        h.update(purpose.as_bytes());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(h.finalize())
    }
}

/// The sandbox's public key for checking its keys offline, from its data
/// dir: derived from the private key when that is there (the truth, even
/// if the public file is stale or was never written by an older version),
/// else the public file. `Err` says what is missing, naming the file.
pub fn public_key_pem(dir: &Path) -> Result<String, String> {
    let private = dir.join(KEY_FILE);
    match std::fs::read_to_string(&private) {
        Ok(pem) => {
            let key = RsaPrivateKey::from_pkcs8_pem(&pem)
                .map_err(|e| format!("{}: not a PKCS#8 RSA key: {e}", private.display()))?;
            return key
                .to_public_key()
                .to_public_key_pem(LineEnding::LF)
                .map_err(|e| format!("{}: {e}", private.display()));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("cannot read {}: {e}", private.display())),
    }
    let public = dir.join(PUBLIC_KEY_FILE);
    match std::fs::read_to_string(&public) {
        Ok(pem) => Ok(pem),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(format!(
            "no sandbox public key at {} (the sandbox writes it when it first starts)",
            public.display()
        )),
        Err(e) => Err(format!("cannot read {}: {e}", public.display())),
    }
}
