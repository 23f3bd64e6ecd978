//! A real PostgreSQL server for the team-journal tests: the one named by
//! `STOREDESK_TEST_PG_URL` (a role that may create roles and databases),
//! or a throwaway cluster started once per test binary with the machine's
//! `initdb` + `postgres` (as the `postgres` user when the tests run as
//! root, since PostgreSQL refuses to run as root). Its data dir is removed
//! when the test binary exits, even on SIGKILL: the server runs under a
//! shell that stops it and cleans up when our end of its stdin closes.
//!
//! Missing PostgreSQL binaries fail the tests with the install command —
//! never a silent skip.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The application role the tests connect as (no superuser rights).
pub const APP_ROLE: &str = "storedesk_app";
pub const APP_PASSWORD: &str = "app-pw-for-tests";

pub struct Server {
    /// A superuser / admin URL (…/postgres).
    pub admin: String,
    host: String,
    port: u16,
    /// Keeps the cleanup shell's stdin open for the life of the process.
    _guard: Option<Child>,
}

static SERVER: OnceLock<Server> = OnceLock::new();
static NEXT_DB: AtomicUsize = AtomicUsize::new(0);

pub fn server() -> &'static Server {
    SERVER.get_or_init(|| {
        let s = match std::env::var("STOREDESK_TEST_PG_URL") {
            Ok(url) if !url.is_empty() => from_url(&url),
            _ => start_cluster(),
        };
        s.admin_sql(&format!(
            "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN \
             CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '{APP_PASSWORD}'; \
             END IF; END $$;"
        ));
        s
    })
}

impl Server {
    /// A fresh database owned by the application role; its URL without a
    /// password (give it with [`APP_PASSWORD`]).
    pub fn fresh_db(&self) -> String {
        let n = NEXT_DB.fetch_add(1, Ordering::SeqCst);
        let db = format!("sdtest_{}_{n}", std::process::id());
        self.admin_sql(&format!("CREATE DATABASE {db} OWNER {APP_ROLE}"));
        format!("postgres://{APP_ROLE}@{}:{}/{db}", self.host, self.port)
    }

    /// The same database with the password in the URL.
    pub fn with_password(url: &str) -> String {
        url.replacen(
            &format!("{APP_ROLE}@"),
            &format!("{APP_ROLE}:{APP_PASSWORD}@"),
            1,
        )
    }

    /// Run SQL as the admin.
    pub fn admin_sql(&self, sql: &str) {
        run_sql(&self.admin, sql).unwrap_or_else(|e| panic!("admin SQL {sql:?} failed: {e}"));
    }

    /// The admin URL on another database.
    pub fn admin_on(&self, url_of_db: &str) -> String {
        let db = url_of_db.rsplit('/').next().unwrap_or("postgres");
        match self.admin.rsplit_once('/') {
            Some((base, _)) => format!("{base}/{db}"),
            None => self.admin.clone(),
        }
    }
}

/// Run SQL (several statements) on `url`; the server's message on error.
/// On a thread of its own, so it may be called from async tests too (a
/// runtime cannot be started inside another).
pub fn run_sql(url: &str, sql: &str) -> Result<(), String> {
    let (url, sql) = (url.to_string(), sql.to_string());
    std::thread::spawn(move || run_sql_here(&url, &sql))
        .join()
        .unwrap_or_else(|_| Err("the SQL thread panicked".into()))
}

fn run_sql_here(url: &str, sql: &str) -> Result<(), String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async {
        let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .map_err(|e| e.to_string())?;
        let driver = tokio::spawn(conn);
        let r = client
            .batch_execute(sql)
            .await
            .map_err(|e| match e.as_db_error() {
                Some(db) => db.message().to_string(),
                None => e.to_string(),
            });
        drop(client);
        let _ = driver.await;
        r
    })
}

fn from_url(url: &str) -> Server {
    let cfg: tokio_postgres::Config = url
        .parse()
        .unwrap_or_else(|e| panic!("STOREDESK_TEST_PG_URL is not a postgres:// URL: {e}"));
    let host = match cfg.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
        _ => "127.0.0.1".into(),
    };
    let port = cfg.get_ports().first().copied().unwrap_or(5432);
    Server {
        admin: url.to_string(),
        host,
        port,
        _guard: None,
    }
}

/// The directory holding `initdb` and `postgres`.
fn bin_dir() -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|b| b.join("initdb").exists() && b.join("postgres").exists())
        .collect();
    // The newest major version.
    found.sort_by_key(|p| {
        p.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    if let Some(b) = found.pop() {
        return b;
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let b = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if b.join("initdb").exists() {
            return b;
        }
    }
    panic!(
        "the team-journal tests need a real PostgreSQL server, and none was found: \
         install it (Debian/Ubuntu: `apt-get install -y postgresql`) or set \
         STOREDESK_TEST_PG_URL=postgres://admin:password@host:port/postgres"
    );
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// `cmd` as the unprivileged user when we are root.
fn as_db_user(user: Option<&str>, program: &str) -> Command {
    match user {
        Some(u) => {
            let mut c = Command::new("runuser");
            c.args(["-u", u, "--", program]);
            c
        }
        None => Command::new(program),
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn start_cluster() -> Server {
    let bin = bin_dir();
    let user = if is_root() {
        // The Debian package creates `postgres`; else any unprivileged user.
        let has = |u: &str| {
            Command::new("id")
                .arg(u)
                .output()
                .is_ok_and(|o| o.status.success())
        };
        Some(if has("postgres") {
            "postgres"
        } else {
            "nobody"
        })
    } else {
        None
    };
    let dir = tempfile::Builder::new()
        .prefix("storedesk-pg-")
        .tempdir()
        .expect("temp dir")
        .keep();
    let data = dir.join("data");
    let pwfile = dir.join("pw");
    std::fs::write(&pwfile, "admin-pw\n").expect("password file");
    if let Some(u) = user {
        let st = Command::new("chown")
            .args(["-R", u])
            .arg(&dir)
            .status()
            .expect("chown");
        assert!(st.success(), "chown of the test cluster dir failed");
    }
    let out = as_db_user(user, bin.join("initdb").to_str().unwrap_or("initdb"))
        .arg("-D")
        .arg(&data)
        .args([
            "-U",
            "postgres",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        ])
        .arg(format!("--pwfile={}", pwfile.display()))
        .output()
        .expect("initdb runs");
    assert!(
        out.status.success(),
        "initdb failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let port = free_port();
    // The server under a shell that stops it and removes the cluster when
    // its stdin closes (this test process exited, however it exited). With
    // SIGTERM: a background job of a non-interactive shell ignores SIGINT,
    // and a server told with it kept running (and the cluster stayed).
    // Tests run without durability (fast); a benchmark asks for it with
    // STOREDESK_TEST_PG_DURABLE=1, so its figures pay for fsync as a real
    // server does.
    let durability = if std::env::var_os("STOREDESK_TEST_PG_DURABLE").is_some() {
        ""
    } else {
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    };
    let script = format!(
        "'{postgres}' -D '{data}' -p {port} -k '{dir}' -c listen_addresses=127.0.0.1 \
         {durability} -c max_connections=200 \
         >'{dir}/log' 2>&1 & pid=$!; echo started; read _; kill -TERM $pid; wait $pid; rm -rf '{dir}'",
        postgres = bin.join("postgres").display(),
        data = data.display(),
        dir = dir.display(),
    );
    let mut guard = as_db_user(user, "sh")
        .args(["-c", &script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start postgres");
    let mut line = String::new();
    let stdout = guard.stdout.take().expect("stdout");
    BufReader::new(stdout).read_line(&mut line).ok();
    let admin = format!("postgres://postgres:admin-pw@127.0.0.1:{port}/postgres");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match run_sql(&admin, "SELECT 1") {
            Ok(()) => break,
            Err(e) if Instant::now() > deadline => {
                let log = std::fs::read_to_string(dir.join("log")).unwrap_or_default();
                panic!("the test PostgreSQL did not start: {e}\n{log}");
            }
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
    Server {
        admin,
        host: "127.0.0.1".into(),
        port,
        _guard: Some(guard),
    }
}

pub fn data_dir_of(dir: &Path) -> PathBuf {
    dir.join("journal.sqlite")
}
