//! Where storedesk keeps its files: config, data (journal, audit, sandbox
//! state, exports) and logs.

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum PathsError {
    #[error("cannot find a home directory to keep data in; pass --data-dir DIR")]
    NoHome,
    #[error(
        "data dir {path} is not usable ({source}): nothing was recorded or sent; pass --data-dir with a directory storedesk can create and write"
    )]
    DataDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

#[derive(Clone, Debug)]
pub struct Paths {
    pub config_file: PathBuf,
    /// Whether the config file was named explicitly (then it must exist).
    pub config_explicit: bool,
    pub data_dir: PathBuf,
}

impl Paths {
    /// `writes`: the command will write in the data dir, so prove now that
    /// it can (a read-only command like `inspect` skips the probe).
    pub fn resolve(
        data_dir: Option<PathBuf>,
        config: Option<PathBuf>,
        writes: bool,
    ) -> Result<Self, PathsError> {
        let dirs = directories::ProjectDirs::from("", "", "storedesk");
        let data_dir = match data_dir {
            Some(d) => d,
            None => dirs
                .as_ref()
                .ok_or(PathsError::NoHome)?
                .data_dir()
                .to_path_buf(),
        };
        let config_explicit = config.is_some();
        let config_file = match config {
            Some(c) => c,
            None => match &dirs {
                Some(d) => d.config_dir().join("config.toml"),
                None => PathBuf::from("config.toml"),
            },
        };
        if writes {
            ensure_writable_dir(&data_dir)?;
        }
        Ok(Self {
            config_file,
            config_explicit,
            data_dir,
        })
    }

    /// The user's key bindings, next to the config file (so `--config`
    /// elsewhere brings its own `keys.toml`).
    pub fn keys_file(&self) -> PathBuf {
        self.config_file
            .parent()
            .map(|d| d.join("keys.toml"))
            .unwrap_or_else(|| PathBuf::from("keys.toml"))
    }

    pub fn log_dir(&self) -> PathBuf {
        self.data_dir.join("logs")
    }

    pub fn journal_db(&self) -> PathBuf {
        self.data_dir.join("journal.sqlite")
    }

    /// Product titles looked up in the display catalog (`case::titles`).
    pub fn titles_file(&self) -> PathBuf {
        self.data_dir.join("titles.json")
    }

    pub fn sandbox_dir(&self) -> PathBuf {
        self.data_dir.join("sandbox")
    }

    pub fn exports_dir(&self) -> PathBuf {
        self.data_dir.join("exports")
    }
}

/// Create the dir and prove we can write in it, so a bad data dir is one
/// clear message at start rather than a failure in the middle of a write.
fn ensure_writable_dir(dir: &Path) -> Result<(), PathsError> {
    let err = |source| PathsError::DataDir {
        path: dir.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(err)?;
    let probe = dir.join(format!(".probe-{}", std::process::id()));
    std::fs::write(&probe, b"").map_err(err)?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// Make `path` a file only its owner can read (0600 on Unix), creating it
/// empty if missing, before a library opens it by name (the journal's
/// SQLite file — its WAL inherits the mode — and the log).
pub fn ensure_private(path: &std::path::Path) -> std::io::Result<()> {
    let mut o = std::fs::OpenOptions::new();
    o.append(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        o.mode(0o600);
    }
    let f = o.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        // An older file made before this rule keeps no wider mode.
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    drop(f);
    Ok(())
}

/// Write a file only its owner can read (0600 on Unix): exports and case
/// files name a customer.
pub fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        o.mode(0o600);
    }
    let mut f = o.open(path)?;
    f.write_all(text.as_bytes())?;
    f.flush()
}
