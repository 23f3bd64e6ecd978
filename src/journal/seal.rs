//! Sealing of customer keys held by pending writes.
//!
//! A pending write must keep the customer key, or it cannot be replayed after
//! a crash. The key is never written to the database in clear: it is sealed
//! with ChaCha20-Poly1305 under a random 256-bit key kept in a separate file
//! (mode 0600) next to the database, and the sealed copy is erased when the
//! write settles. So the database file, its WAL and any copy of them attached
//! to a ticket never hold a usable key; only someone with the whole data dir
//! can open a key that is still pending.

use ring::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey};
use std::io::Write;
use std::path::{Path, PathBuf};

const KEY_LEN: usize = 32;
const NONCE_LEN: usize = aead::NONCE_LEN;

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("cannot use the journal seal key file {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the journal seal key file {path} is damaged (expected {KEY_LEN} bytes)")]
    BadKeyFile { path: PathBuf },
    #[error(
        "a sealed customer key cannot be opened (the seal key file was replaced or the row is damaged)"
    )]
    Open,
    #[error("sealing failed")]
    Seal,
}

/// Seals and opens customer keys. Debug never shows the key material.
pub struct Sealer {
    key: LessSafeKey,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(***)")
    }
}

impl Sealer {
    /// Load the key file, creating it on first use. Two processes starting
    /// together must end up with the same key, so the file is created by an
    /// atomic hard link from a private temp file: exactly one wins.
    pub fn load_or_create(path: &Path) -> Result<Self, SealError> {
        let io = |source| SealError::Io {
            path: path.to_path_buf(),
            source,
        };
        match std::fs::read(path) {
            Ok(bytes) => return Self::from_bytes(path, &bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(e)),
        }
        let mut fresh = [0u8; KEY_LEN];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut fresh);
        let tmp = path.with_extension(format!("tmp-{}", uuid::Uuid::new_v4().simple()));
        write_private(&tmp, &fresh).map_err(io)?;
        let linked = std::fs::hard_link(&tmp, path);
        let _ = std::fs::remove_file(&tmp);
        match linked {
            Ok(()) => {
                // The file's bytes were synced before the link; the link
                // itself is a directory entry, durable only once the
                // directory is synced. Without it a crash could leave
                // pending writes sealed under a key that is gone.
                sync_dir(path).map_err(io)?;
                Self::from_bytes(path, &fresh)
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let bytes = std::fs::read(path).map_err(io)?;
                Self::from_bytes(path, &bytes)
            }
            Err(e) => Err(io(e)),
        }
    }

    /// A seal key handed over as bytes (the team journal's, from the
    /// environment); `source` names it in errors.
    pub fn from_key(source: &Path, bytes: &[u8]) -> Result<Self, SealError> {
        Self::from_bytes(source, bytes)
    }

    fn from_bytes(path: &Path, bytes: &[u8]) -> Result<Self, SealError> {
        let bad = || SealError::BadKeyFile {
            path: path.to_path_buf(),
        };
        if bytes.len() != KEY_LEN {
            return Err(bad());
        }
        let unbound = UnboundKey::new(&aead::CHACHA20_POLY1305, bytes).map_err(|_| bad())?;
        Ok(Self {
            key: LessSafeKey::new(unbound),
        })
    }

    /// `aad` binds the sealed key to its row (kind + idempotency key), so a
    /// sealed blob copied onto another row does not open.
    pub fn seal(&self, plaintext: &str, aad: &str) -> Result<Vec<u8>, SealError> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut nonce);
        let mut buf = plaintext.as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad.as_bytes()),
                &mut buf,
            )
            .map_err(|_| SealError::Seal)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&buf);
        Ok(out)
    }

    pub fn open(&self, sealed: &[u8], aad: &str) -> Result<String, SealError> {
        if sealed.len() < NONCE_LEN {
            return Err(SealError::Open);
        }
        let (nonce, ct) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SealError::Open)?;
        let mut buf = ct.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(aad.as_bytes()), &mut buf)
            .map_err(|_| SealError::Open)?;
        String::from_utf8(plain.to_vec()).map_err(|_| SealError::Open)
    }
}

/// fsync the directory holding `path` (a no-op where directories cannot
/// be opened, e.g. Windows).
fn sync_dir(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir)?.sync_all()?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_binding() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("seal.key");
        let s = Sealer::load_or_create(&p).unwrap();
        let sealed = s.seal("eyJhbGciOi.secret.key", "consume:t1").unwrap();
        assert!(!sealed.windows(6).any(|w| w == b"secret"));
        assert_eq!(
            s.open(&sealed, "consume:t1").unwrap(),
            "eyJhbGciOi.secret.key"
        );
        assert!(s.open(&sealed, "consume:t2").is_err());
        // A second load reads the same key.
        let again = Sealer::load_or_create(&p).unwrap();
        assert_eq!(
            again.open(&sealed, "consume:t1").unwrap(),
            "eyJhbGciOi.secret.key"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "seal key must be private");
        }
    }

    #[test]
    fn damaged_key_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("seal.key");
        std::fs::write(&p, b"short").unwrap();
        assert!(matches!(
            Sealer::load_or_create(&p),
            Err(SealError::BadKeyFile { .. })
        ));
    }
}
