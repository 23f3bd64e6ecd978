//! One writer per sandbox state: a sandbox holds an exclusive lock on
//! `sandbox.lock` in its data dir while it runs, and writes there who holds
//! it, so a second `storedesk` on the same data dir is refused with a
//! message naming the first instead of silently overwriting its saves.
//! The OS drops the lock when the process ends, even on SIGKILL.

use super::SandboxError;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

const LOCK_FILE: &str = "sandbox.lock";

/// Take the data dir's lock, or say who has it.
pub(super) fn acquire(dir: &Path) -> Result<File, SandboxError> {
    let path = dir.join(LOCK_FILE);
    let mut f = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| SandboxError::io(&path, e))?;
    match f.try_lock() {
        Ok(()) => Ok(f),
        Err(TryLockError::WouldBlock) => {
            let mut text = String::new();
            let _ = (&mut f).take(512).read_to_string(&mut text);
            let holder = text.trim();
            Err(SandboxError::Busy {
                dir: dir.to_path_buf(),
                holder: if holder.is_empty() {
                    "starting".into()
                } else {
                    holder.chars().filter(|c| !c.is_control()).collect()
                },
            })
        }
        Err(TryLockError::Error(e)) => Err(SandboxError::io(&path, e)),
    }
}

/// Record who holds the lock (best effort: the lock is what counts).
pub(super) fn say_holder(f: &mut File, base_url: &str) {
    let text = format!("pid {}, sandbox at {base_url}\n", std::process::id());
    let _ = f
        .set_len(0)
        .and_then(|()| f.seek(SeekFrom::Start(0)).map(|_| ()))
        .and_then(|()| f.write_all(text.as_bytes()));
}
