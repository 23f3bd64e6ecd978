//! Logging goes to a file in the data dir, never to the terminal: anything
//! printed while the console is up would tear the screen.

use crate::paths::Paths;
use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("cannot create log dir {path}: {source}")]
    Dir {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("bad --log-level {0:?}: use error, warn, info, debug or trace")]
    Level(String),
}

/// Keep the guard alive for as long as logs should be flushed.
pub fn init(paths: &Paths, level: &str) -> Result<WorkerGuard, LogError> {
    let filter = EnvFilter::try_new(level).map_err(|_| LogError::Level(level.to_string()))?;
    let dir = paths.log_dir();
    std::fs::create_dir_all(&dir).map_err(|source| LogError::Dir {
        path: dir.clone(),
        source,
    })?;
    // The log names customers (fingerprints) and write summaries: owner only.
    let file = dir.join("storedesk.log");
    crate::paths::ensure_private(&file).map_err(|source| LogError::Dir { path: file, source })?;
    let appender = tracing_appender::rolling::never(&dir, "storedesk.log");
    // The default queue pre-allocates 128k lines (a 4 MB map and ~2 ms at
    // start); a console logs far less than that between flushes.
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .buffered_lines_limit(1024)
        .lossy(true)
        .finish(appender);
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(false)
        .try_init();
    Ok(guard)
}
