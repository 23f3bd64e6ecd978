//! Where a command's key comes from: `--key KEY`, `--key -` (standard
//! input) or `--key-file PATH`. The last two keep the key out of `ps` and
//! shell history, which is why the README shows them first. Every command
//! that takes a key reads it here, and every key is cleaned the way the Key
//! pane cleans a paste (quotes, `Bearer `, line breaks, a JSON body).

use crate::keys::{MAX_INPUT_BYTES, clean_bytes};
use clap::Args;
use std::io::Read as _;
use std::path::{Path, PathBuf};

/// `--key` / `--key-file`: the case's main key.
#[derive(Args, Debug, Clone, Default)]
pub struct KeyArg {
    /// The key, or `-` to read it from standard input (keeps it out of `ps` and shell history)
    #[arg(long, value_name = "KEY|-", conflicts_with = "key_file")]
    pub key: Option<String>,
    /// Read the key from a file
    #[arg(long, value_name = "PATH")]
    pub key_file: Option<PathBuf>,
}

/// `--purchase-key` / `--purchase-key-file`: a case's second key.
#[derive(Args, Debug, Clone, Default)]
pub struct PurchaseKeyArg {
    /// The customer's UserPurchaseId, or `-` to read it from standard input
    #[arg(long, value_name = "KEY|-", conflicts_with = "purchase_key_file")]
    pub purchase_key: Option<String>,
    /// Read the UserPurchaseId from a file
    #[arg(long, value_name = "PATH")]
    pub purchase_key_file: Option<PathBuf>,
}

/// Reads keys for one command: standard input can be read only once.
#[derive(Default)]
pub struct KeyReader {
    stdin_used: bool,
}

/// A key as given: the raw text and whether it came from standard input
/// (a write cannot then ask for confirmation there).
pub struct RawKey {
    pub text: Vec<u8>,
    pub from_stdin: bool,
    /// `--key`, `--key-file PATH`: for messages (never the key itself).
    pub source: String,
}

impl KeyReader {
    /// The raw key of `value` / `file` (`flag` names them in messages);
    /// `None` when neither was given.
    pub fn raw(
        &mut self,
        flag: &str,
        value: Option<&str>,
        file: Option<&Path>,
    ) -> Result<Option<RawKey>, String> {
        match (value, file) {
            (Some(_), Some(_)) => Err(format!("give {flag} or {flag}-file, not both")),
            (Some(v), None) if v.trim() == "-" => {
                if self.stdin_used {
                    return Err(format!(
                        "{flag} -: standard input was already read for another key; use {flag}-file"
                    ));
                }
                self.stdin_used = true;
                let text = read_capped(std::io::stdin().lock())
                    .map_err(|e| format!("{flag} -: cannot read standard input: {e}"))?;
                Ok(Some(RawKey {
                    text,
                    from_stdin: true,
                    source: format!("{flag} - (standard input)"),
                }))
            }
            (Some(v), None) => Ok(Some(RawKey {
                text: v.as_bytes().to_vec(),
                from_stdin: false,
                source: flag.to_string(),
            })),
            (None, Some(p)) => {
                let f = std::fs::File::open(p)
                    .map_err(|e| format!("{flag}-file {}: {e}", p.display()))?;
                let text =
                    read_capped(f).map_err(|e| format!("{flag}-file {}: {e}", p.display()))?;
                Ok(Some(RawKey {
                    text,
                    from_stdin: false,
                    source: format!("{flag}-file {}", p.display()),
                }))
            }
            (None, None) => Ok(None),
        }
    }

    /// The cleaned key of `value` / `file`, or `None` when neither was given.
    pub fn optional(
        &mut self,
        flag: &str,
        value: Option<&str>,
        file: Option<&Path>,
    ) -> Result<Option<String>, String> {
        self.raw(flag, value, file)?.map(|r| clean(&r)).transpose()
    }

    /// Like [`optional`](Self::optional), but one of the two is required.
    pub fn required(
        &mut self,
        flag: &str,
        value: Option<&str>,
        file: Option<&Path>,
    ) -> Result<String, String> {
        self.optional(flag, value, file)?.ok_or_else(|| {
            format!("give the key with {flag} KEY, {flag} - (standard input) or {flag}-file PATH")
        })
    }

    pub fn main(&mut self, a: &KeyArg) -> Result<Option<String>, String> {
        self.optional("--key", a.key.as_deref(), a.key_file.as_deref())
    }

    pub fn purchase(&mut self, a: &PurchaseKeyArg) -> Result<Option<String>, String> {
        self.optional(
            "--purchase-key",
            a.purchase_key.as_deref(),
            a.purchase_key_file.as_deref(),
        )
    }
}

/// One token out of what was given, as the Key pane cleans a paste. The
/// message never quotes the input (it may be a secret).
pub fn clean(raw: &RawKey) -> Result<String, String> {
    let token = clean_bytes(&raw.text)
        .map(|c| c.token)
        .map_err(|e| format!("{}: {e}", raw.source))?;
    // Refused here rather than by the Store: a typo costs no call.
    crate::keys::decode(&token).map_err(|e| format!("{}: {e}", raw.source))?;
    Ok(token)
}

/// Up to one byte more than any key may be, so an oversized input is
/// reported by `clean_bytes` instead of read whole.
fn read_capped(r: impl std::io::Read) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    r.take(MAX_INPUT_BYTES as u64 + 1).read_to_end(&mut buf)?;
    Ok(buf)
}

/// Which of the given keys is the collections key and which the purchase
/// key, by what each says it is; a key that says neither keeps the place
/// it was given in.
pub fn sort_keys(
    key: Option<String>,
    purchase: Option<String>,
) -> (Option<String>, Option<String>) {
    use crate::keys::KeyKind;
    let kind = |k: &str| {
        crate::keys::decode(k).ok().map(|d| {
            let ctx = crate::keys::AssessContext {
                now: chrono::Utc::now(),
                profile_client_id: None,
                sandbox_public_key_pem: None,
            };
            crate::keys::assess(&d, &ctx).kind
        })
    };
    match (key, purchase) {
        (Some(k), None) if kind(&k) == Some(KeyKind::UserPurchaseId) => (None, Some(k)),
        (Some(k), Some(p))
            if kind(&k) == Some(KeyKind::UserPurchaseId)
                && kind(&p) == Some(KeyKind::UserCollectionsId) =>
        {
            (Some(p), Some(k))
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_file_is_cleaned_and_errors_never_quote_it() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k.txt");
        use base64::Engine as _;
        let b64 = |s: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let key = format!(
            "{}.{}.{}",
            b64(br#"{"alg":"RS256"}"#),
            b64(br#"{"sub":"x"}"#),
            b64(&[7u8; 64])
        );
        std::fs::write(&p, format!("  \"Bearer {key}\"\n")).unwrap();
        let mut r = KeyReader::default();
        let k = r.optional("--key", None, Some(&p)).unwrap();
        assert_eq!(k.as_deref(), Some(key.as_str()));
        std::fs::write(&p, "secretish-not-a-key").unwrap();
        let e = r.optional("--key", None, Some(&p)).unwrap_err();
        assert!(!e.contains("secretish"), "{e}");
        assert!(e.contains("--key-file"), "{e}");
        let e = r
            .optional("--key", None, Some(&dir.path().join("none")))
            .unwrap_err();
        assert!(e.contains("none"), "{e}");
    }

    #[test]
    fn nothing_given_is_none_or_a_clear_message() {
        let mut r = KeyReader::default();
        assert_eq!(r.optional("--key", None, None).unwrap(), None);
        let e = r.required("--key", None, None).unwrap_err();
        assert!(e.contains("--key-file"), "{e}");
    }
}
