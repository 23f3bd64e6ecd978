//! Store answers that arrived but could not be recorded in the journal
//! (disk full, database locked, journal deleted under the process). The
//! answer is the only evidence of what the Store did, so it is kept in a
//! side file next to the journal — redacted, one file per answer — and
//! the write is shown as "answered, not recorded" with its content, for
//! the operator to settle with `:resolve` / `pending --resolve`.

use super::request::WriteRequest;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// `<journal>-answers/`.
pub fn dir(db: &Path) -> PathBuf {
    super::db::sidecar(db, "answers")
}

/// One kept answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeptAnswer {
    pub write_id: i64,
    pub kind: String,
    pub idempotency_key: String,
    pub summary: String,
    /// What the Store answered, one line, secret-free.
    pub answer: String,
    /// Why it could not be recorded.
    pub error: String,
    pub at: String,
}

/// Keep `answer` to write `id`; the file's path, or why it could not be
/// written (then the log is all that is left: the caller logs it).
pub fn keep(
    db: &Path,
    id: i64,
    req: &WriteRequest,
    answer: &str,
    error: &str,
    at: &str,
) -> Result<PathBuf, std::io::Error> {
    let secret = (!req.customer_key.is_empty()).then_some(req.customer_key.as_str());
    let redact = |s: &str| crate::store::error::redact(s, secret);
    let kept = KeptAnswer {
        write_id: id,
        kind: req.kind.as_str().to_string(),
        idempotency_key: req.idempotency_key.clone(),
        summary: redact(&req.summary),
        answer: redact(answer),
        error: redact(error),
        at: at.to_string(),
    };
    let dir = dir(db);
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!(
        "{id}-{}-{}.json",
        req.kind.as_str(),
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    ));
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        o.mode(0o600);
    }
    let mut f = o.open(&path)?;
    f.write_all(
        serde_json::to_string_pretty(&kept)
            .unwrap_or_default()
            .as_bytes(),
    )?;
    f.sync_all()?;
    Ok(path)
}

/// The answers kept for write `id` of kind `kind` (oldest first).
pub fn for_write(db: &Path, id: i64, kind: &str, key: &str) -> Vec<KeptAnswer> {
    let Ok(entries) = std::fs::read_dir(dir(db)) else {
        return Vec::new();
    };
    let mut out: Vec<KeptAnswer> = entries
        .filter_map(|e| std::fs::read(e.ok()?.path()).ok())
        .filter_map(|b| serde_json::from_slice::<KeptAnswer>(&b).ok())
        .filter(|k| k.write_id == id && k.kind == kind && k.idempotency_key == key)
        .collect();
    out.sort_by(|a, b| a.at.cmp(&b.at));
    out
}
