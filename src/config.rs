//! Profiles: which Store to talk to, as whom, and whether writes are allowed.
//!
//! `sandbox` (the embedded Store, the default) and `retail` (Microsoft's
//! endpoints) always exist; a config file can override them and add custom
//! ones. Secrets are held *by reference* only: an env var name or a command.

use crate::store::{Endpoints, TokenStyle};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

pub mod secret_command;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "config file {path} does not exist (named by --config or STOREDESK_CONFIG); create it, or drop the option to use the defaults"
    )]
    Missing { path: PathBuf },
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("bad config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("bad config file {path}: profile {profile:?}: {message}")]
    Invalid {
        path: PathBuf,
        profile: String,
        message: String,
    },
    #[error("no profile named {name:?} (known: {known})")]
    UnknownProfile { name: String, known: String },
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error(
        "profile {profile:?} has no client secret configured (set client_secret_env or secret_command)"
    )]
    Missing { profile: String },
    #[error("environment variable {var} (the client secret of profile {profile:?}) is not set")]
    EnvUnset { var: String, profile: String },
    #[error("secret_command of profile {profile:?}: {source}")]
    Command {
        profile: String,
        source: secret_command::CommandError,
    },
}

/// Which world a profile talks to; drives the badge colour and write rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Sandbox,
    Retail,
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Environment::Sandbox => "SANDBOX",
            Environment::Retail => "RETAIL",
        })
    }
}

/// A client secret. Debug and Display never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// How to obtain the client secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecretSource {
    None,
    Env(String),
    Command(String),
    /// Handed over in-process by the embedded sandbox.
    Embedded,
}

/// A profile as written in the file; every field optional so that a file
/// can override a built-in profile field by field.
#[derive(Debug, Default, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    environment: Option<Environment>,
    /// Talk to a sandbox started in-process (only the built-in `sandbox`).
    embedded: Option<bool>,
    /// A running `storedesk sandbox`: derives every service URL from it.
    sandbox_url: Option<String>,
    login_url: Option<String>,
    collections_url: Option<String>,
    purchase_url: Option<String>,
    devcenter_url: Option<String>,
    token_style: Option<TokenStyle>,
    tenant_id: Option<String>,
    client_id: Option<String>,
    client_secret_env: Option<String>,
    secret_command: Option<String>,
    read_only: Option<bool>,
    product_ids: Option<Vec<String>>,
    operator: Option<String>,
    /// Send `sbx` (e.g. "XDKS.1") with every call.
    sbx: Option<String>,
    allow_insecure_http: Option<bool>,
    timeout_secs: Option<u64>,
    /// The team journal: `postgres://user@host:port/db` (see README, "Team journal").
    journal_url: Option<String>,
    /// Where the journal password is: an environment variable or a command.
    journal_password_env: Option<String>,
    journal_password_command: Option<String>,
    /// Where the team seal key is (default: STOREDESK_TEAM_SEAL_KEY).
    journal_seal_key_env: Option<String>,
    journal_seal_key_command: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    /// Profile used when --profile is not given.
    default_profile: Option<String>,
    /// Operator name recorded in the audit log (default: $USER).
    operator: Option<String>,
    #[serde(default)]
    profiles: BTreeMap<String, RawProfile>,
    // The team journal for every profile that names none.
    /// The team journal: `postgres://user@host:port/db` (see README, "Team journal").
    journal_url: Option<String>,
    /// Where the journal password is: an environment variable or a command.
    journal_password_env: Option<String>,
    journal_password_command: Option<String>,
    /// Where the team seal key is (default: STOREDESK_TEAM_SEAL_KEY).
    journal_seal_key_env: Option<String>,
    journal_seal_key_command: Option<String>,
}

/// A resolved profile: everything needed to talk to one Store.
#[derive(Clone, Debug, PartialEq)]
pub struct Profile {
    pub name: String,
    pub environment: Environment,
    pub embedded: bool,
    pub sandbox_url: Option<String>,
    pub login_url: String,
    pub collections_url: String,
    pub purchase_url: String,
    pub devcenter_url: String,
    pub token_style: TokenStyle,
    pub tenant_id: String,
    pub client_id: String,
    pub secret: SecretSource,
    pub read_only: bool,
    pub product_ids: Vec<String>,
    pub operator: String,
    pub sbx: Option<String>,
    pub allow_insecure_http: bool,
    pub timeout_secs: u64,
    /// A team journal on PostgreSQL instead of the local SQLite file.
    pub journal: Option<TeamJournal>,
}

/// Where a team journal is (`journal_url` and its secrets by reference).
#[derive(Clone, PartialEq, Eq)]
pub struct TeamJournal {
    /// May hold a password: never shown (Debug prints no URL).
    pub url: String,
    pub password: SecretSource,
    pub seal_key: SecretSource,
}

impl fmt::Debug for TeamJournal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TeamJournal")
            .field("password", &self.password)
            .field("seal_key", &self.seal_key)
            .finish_non_exhaustive()
    }
}

impl TeamJournal {
    /// From the five raw fields; `None` without a `journal_url`.
    fn from_raw(
        url: Option<String>,
        pw_env: Option<String>,
        pw_cmd: Option<String>,
        seal_env: Option<String>,
        seal_cmd: Option<String>,
    ) -> Option<Self> {
        let url = url.filter(|u| !u.trim().is_empty())?;
        let password = match (pw_cmd, pw_env) {
            (Some(c), _) => SecretSource::Command(c),
            (None, Some(v)) => SecretSource::Env(v),
            (None, None) => SecretSource::None,
        };
        let seal_key = match (seal_cmd, seal_env) {
            (Some(c), _) => SecretSource::Command(c),
            (None, Some(v)) => SecretSource::Env(v),
            (None, None) => SecretSource::Env("STOREDESK_TEAM_SEAL_KEY".into()),
        };
        Some(Self {
            url,
            password,
            seal_key,
        })
    }
}

impl Profile {
    pub fn builtin_sandbox() -> Self {
        Self {
            name: "sandbox".into(),
            environment: Environment::Sandbox,
            embedded: true,
            sandbox_url: None,
            login_url: String::new(),
            collections_url: String::new(),
            purchase_url: String::new(),
            devcenter_url: String::new(),
            token_style: TokenStyle::V1,
            tenant_id: String::new(),
            client_id: String::new(),
            secret: SecretSource::Embedded,
            read_only: false,
            product_ids: Vec::new(),
            operator: default_operator(),
            sbx: None,
            allow_insecure_http: false,
            timeout_secs: 20,
            journal: None,
        }
    }

    pub fn builtin_retail() -> Self {
        Self {
            name: "retail".into(),
            environment: Environment::Retail,
            embedded: false,
            sandbox_url: None,
            login_url: "https://login.microsoftonline.com".into(),
            collections_url: "https://collections.mp.microsoft.com".into(),
            purchase_url: "https://purchase.mp.microsoft.com".into(),
            devcenter_url: "https://manage.devcenter.microsoft.com".into(),
            token_style: TokenStyle::V1,
            tenant_id: std::env::var("STOREDESK_TENANT_ID").unwrap_or_default(),
            client_id: std::env::var("STOREDESK_CLIENT_ID").unwrap_or_default(),
            secret: SecretSource::Env("STOREDESK_CLIENT_SECRET".into()),
            read_only: true,
            product_ids: std::env::var("STOREDESK_PRODUCT_IDS")
                .map(|s| split_ids(&s))
                .unwrap_or_default(),
            operator: default_operator(),
            sbx: None,
            allow_insecure_http: false,
            timeout_secs: 20,
            journal: None,
        }
    }

    /// Service URLs for the client. For the embedded sandbox the base URL is
    /// only known once it has started, so it is passed in.
    pub fn endpoints(&self, sandbox_base: Option<&str>) -> Endpoints {
        let base = sandbox_base.or(self.sandbox_url.as_deref());
        match base {
            Some(b) if self.embedded || self.sandbox_url.is_some() => {
                let b = b.trim_end_matches('/');
                Endpoints {
                    login: format!("{b}/login"),
                    collections: format!("{b}/collections"),
                    purchase: format!("{b}/purchase"),
                    devcenter: format!("{b}/devcenter"),
                    catalog: format!("{b}/displaycatalog"),
                    tenant: self.tenant_id.clone(),
                    token_style: self.token_style,
                }
            }
            _ => Endpoints {
                login: self.login_url.clone(),
                collections: self.collections_url.clone(),
                purchase: self.purchase_url.clone(),
                devcenter: self.devcenter_url.clone(),
                // Public and the same for every publisher.
                catalog: crate::store::DISPLAY_CATALOG.to_string(),
                tenant: self.tenant_id.clone(),
                token_style: self.token_style,
            },
        }
    }

    /// Whether write actions are on, after `--allow-writes`.
    pub fn writes_allowed(&self, allow_writes_flag: bool) -> bool {
        !self.read_only || allow_writes_flag
    }

    /// Fetch the client secret from where the profile says it lives.
    pub fn resolve_secret(&self) -> Result<Secret, SecretError> {
        match &self.secret {
            SecretSource::None | SecretSource::Embedded => Err(SecretError::Missing {
                profile: self.name.clone(),
            }),
            SecretSource::Env(var) => match std::env::var(var) {
                Ok(v) if !v.is_empty() => Ok(Secret::new(v)),
                _ => Err(SecretError::EnvUnset {
                    var: var.clone(),
                    profile: self.name.clone(),
                }),
            },
            SecretSource::Command(cmd) => run_secret_command(&self.name, cmd),
        }
    }

    fn apply(&mut self, raw: RawProfile) {
        if let Some(v) = raw.environment {
            self.environment = v;
        }
        if let Some(v) = raw.embedded {
            self.embedded = v;
        }
        if let Some(v) = raw.sandbox_url {
            self.sandbox_url = Some(v);
            self.embedded = false;
        }
        let set = |slot: &mut String, v: Option<String>| {
            if let Some(v) = v {
                *slot = v;
            }
        };
        set(&mut self.login_url, raw.login_url);
        set(&mut self.collections_url, raw.collections_url);
        set(&mut self.purchase_url, raw.purchase_url);
        set(&mut self.devcenter_url, raw.devcenter_url);
        set(&mut self.tenant_id, raw.tenant_id);
        set(&mut self.client_id, raw.client_id);
        set(&mut self.operator, raw.operator);
        if let Some(v) = raw.token_style {
            self.token_style = v;
        }
        if let Some(v) = raw.client_secret_env {
            self.secret = SecretSource::Env(v);
        }
        if let Some(v) = raw.secret_command {
            self.secret = SecretSource::Command(v);
        }
        if let Some(v) = raw.read_only {
            self.read_only = v;
        }
        if let Some(v) = raw.product_ids {
            self.product_ids = v;
        }
        if let Some(v) = raw.sbx {
            self.sbx = Some(v);
        }
        if let Some(v) = raw.allow_insecure_http {
            self.allow_insecure_http = v;
        }
        if let Some(v) = raw.timeout_secs {
            self.timeout_secs = v;
        }
        if let Some(j) = TeamJournal::from_raw(
            raw.journal_url,
            raw.journal_password_env,
            raw.journal_password_command,
            raw.journal_seal_key_env,
            raw.journal_seal_key_command,
        ) {
            self.journal = Some(j);
        }
    }

    fn validate(&self) -> Result<(), String> {
        if self.embedded {
            return Ok(());
        }
        let urls = [
            ("login_url", &self.login_url),
            ("collections_url", &self.collections_url),
            ("purchase_url", &self.purchase_url),
            ("devcenter_url", &self.devcenter_url),
        ];
        if let Some(u) = &self.sandbox_url {
            check_url("sandbox_url", u, self.allow_insecure_http)?;
        } else {
            for (field, url) in urls {
                if url.is_empty() {
                    return Err(format!("field `{field}` is required"));
                }
                check_url(field, url, self.allow_insecure_http)?;
            }
        }
        if self.timeout_secs == 0 {
            return Err("field `timeout_secs` must be at least 1".into());
        }
        Ok(())
    }
}

/// HTTPS everywhere except loopback, unless the profile explicitly allows it.
/// The URL is parsed (WHATWG rules, as the HTTP client will read it) and
/// its resolved host compared: `http://127.0.0.1@evil.example/` is
/// evil.example, `http://127.evil.example/` is not 127.0.0.0/8.
pub fn check_url(field: &str, url: &str, allow_insecure_http: bool) -> Result<(), String> {
    let not_url = || format!("field `{field}`: {url:?} is not an http(s) URL");
    let parsed = url::Url::parse(url.trim()).map_err(|_| not_url())?;
    let Some(host) = parsed.host() else {
        return Err(not_url());
    };
    // Credentials in a URL go to whatever host follows them.
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(format!(
            "field `{field}`: {url:?} has credentials before its host; remove the `user@` part"
        ));
    }
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if allow_insecure_http || is_loopback(&host) => Ok(()),
        "http" => Err(format!(
            "field `{field}`: {url} is plain HTTP to a non-loopback host; use https:// (or set allow_insecure_http = true)"
        )),
        _ => Err(not_url()),
    }
}

/// 127.0.0.0/8, ::1 or the name `localhost` itself (no subdomain).
pub fn is_loopback(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    }
}

fn split_ids(s: &str) -> Vec<String> {
    s.split([',', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

fn default_operator() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "operator".into())
}

/// Run a secret command (`sh -c`, at most [`secret_command::TIMEOUT`]): its
/// trimmed stdout, or why not (never its output in the message).
pub fn run_command_secret(cmd: &str) -> Result<Secret, String> {
    secret_command::run(cmd, secret_command::TIMEOUT).map_err(|e| e.to_string())
}

fn run_secret_command(profile: &str, cmd: &str) -> Result<Secret, SecretError> {
    secret_command::run(cmd, secret_command::TIMEOUT).map_err(|source| SecretError::Command {
        profile: profile.into(),
        source,
    })
}

/// The config as loaded: the active profile and the names of all of them.
#[derive(Clone, Debug)]
pub struct LoadedConfig {
    pub file: Option<PathBuf>,
    pub profile: Profile,
    pub profile_names: Vec<String>,
}

/// Load `path` (a missing default file is fine) and pick the profile.
/// `named`: the path was given (`--config`, `STOREDESK_CONFIG`), so it must
/// exist — a typo must not quietly mean "the defaults". The default path
/// may be absent.
pub fn load(path: &Path, profile: Option<&str>, named: bool) -> Result<LoadedConfig, ConfigError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => Some(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && named => {
            return Err(ConfigError::Missing { path: path.into() });
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(source) => {
            return Err(ConfigError::Read {
                path: path.into(),
                source,
            });
        }
    };
    let loaded = parse(text.as_deref().unwrap_or(""), path, profile)?;
    Ok(LoadedConfig {
        file: text.map(|_| path.to_path_buf()),
        ..loaded
    })
}

/// Parse config text; `path` is only used in messages.
pub fn parse(text: &str, path: &Path, profile: Option<&str>) -> Result<LoadedConfig, ConfigError> {
    let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError::Parse {
        path: path.into(),
        message: e.to_string().trim_end().replace('\n', "\n  "),
    })?;
    let mut profiles: BTreeMap<String, Profile> = BTreeMap::new();
    profiles.insert("sandbox".into(), Profile::builtin_sandbox());
    profiles.insert("retail".into(), Profile::builtin_retail());
    for (name, rp) in raw.profiles {
        let mut p = match profiles.remove(&name) {
            Some(p) => p,
            None => {
                // A custom profile starts from retail's safe defaults, but
                // with no URLs: it must say where it talks to.
                let mut p = Profile::builtin_retail();
                p.name = name.clone();
                p.login_url.clear();
                p.collections_url.clear();
                p.purchase_url.clear();
                p.devcenter_url.clear();
                p.secret = SecretSource::None;
                if rp.environment == Some(Environment::Sandbox) && rp.read_only.is_none() {
                    p.read_only = false;
                }
                p
            }
        };
        p.apply(rp);
        if let Some(op) = &raw.operator {
            p.operator.clone_from(op);
        }
        p.validate().map_err(|message| ConfigError::Invalid {
            path: path.into(),
            profile: name.clone(),
            message,
        })?;
        profiles.insert(name, p);
    }
    if let Some(op) = &raw.operator {
        for p in profiles.values_mut() {
            p.operator.clone_from(op);
        }
    }
    if let Some(j) = TeamJournal::from_raw(
        raw.journal_url,
        raw.journal_password_env,
        raw.journal_password_command,
        raw.journal_seal_key_env,
        raw.journal_seal_key_command,
    ) {
        for p in profiles.values_mut().filter(|p| p.journal.is_none()) {
            p.journal = Some(j.clone());
        }
    }
    let names: Vec<String> = profiles.keys().cloned().collect();
    let want = profile
        .map(String::from)
        .or(raw.default_profile)
        .unwrap_or_else(|| "sandbox".into());
    let chosen = profiles
        .remove(&want)
        .ok_or_else(|| ConfigError::UnknownProfile {
            name: want.clone(),
            known: names.join(", "),
        })?;
    Ok(LoadedConfig {
        file: None,
        profile: chosen,
        profile_names: names,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str, profile: Option<&str>) -> Result<LoadedConfig, ConfigError> {
        parse(text, Path::new("/etc/storedesk.toml"), profile)
    }

    #[test]
    fn no_config_is_the_embedded_sandbox() {
        let c = p("", None).unwrap();
        assert_eq!(c.profile.name, "sandbox");
        assert!(c.profile.embedded);
        assert!(!c.profile.read_only);
        assert_eq!(c.profile.environment, Environment::Sandbox);
    }

    #[test]
    fn retail_is_read_only_by_default() {
        let c = p("", Some("retail")).unwrap();
        assert!(c.profile.read_only);
        assert!(!c.profile.writes_allowed(false));
        assert!(c.profile.writes_allowed(true));
        assert_eq!(c.profile.environment, Environment::Retail);
    }

    #[test]
    fn unknown_field_names_file_line_and_field() {
        let e = p(
            "[profiles.qa]\nenvironment = \"sandbox\"\nclient_secert = \"x\"\n",
            Some("qa"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("/etc/storedesk.toml"), "{e}");
        assert!(e.contains("line 3"), "{e}");
        assert!(e.contains("client_secert"), "{e}");
    }

    #[test]
    fn custom_profile_needs_urls() {
        let e = p("[profiles.proxy]\ntenant_id = \"t\"\n", Some("proxy"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("login_url"), "{e}");
    }

    #[test]
    fn plain_http_only_to_loopback() {
        let text = "[profiles.qa]\nsandbox_url = \"http://10.1.2.3:8080\"\n";
        assert!(
            p(text, Some("qa"))
                .unwrap_err()
                .to_string()
                .contains("plain HTTP")
        );
        let ok =
            "[profiles.qa]\nenvironment = \"sandbox\"\nsandbox_url = \"http://127.0.0.1:8080\"\n";
        let c = p(ok, Some("qa")).unwrap();
        assert!(!c.profile.read_only);
        assert_eq!(
            c.profile.endpoints(None).collections,
            "http://127.0.0.1:8080/collections"
        );
    }

    #[test]
    fn unknown_profile_lists_known_ones() {
        let e = p("", Some("nope")).unwrap_err().to_string();
        assert!(e.contains("retail") && e.contains("sandbox"), "{e}");
    }

    #[test]
    fn journal_url_at_the_top_or_per_profile() {
        let text = r#"
journal_url = "postgres://app:hunter2@db:5432/team"
journal_password_env = "TEAM_PW"
[profiles.qa]
environment = "sandbox"
sandbox_url = "http://127.0.0.1:8642"
tenant_id = "t"
client_id = "c"
client_secret_env = "S"
journal_url = "postgres://qa@db/qa?sslmode=require"
journal_seal_key_command = "pass team-seal"
"#;
        let p = |name: &str| {
            parse(text, Path::new("c.toml"), Some(name))
                .unwrap()
                .profile
                .journal
                .unwrap()
        };
        let top = p("sandbox");
        assert_eq!(top.url, "postgres://app:hunter2@db:5432/team");
        assert_eq!(top.password, SecretSource::Env("TEAM_PW".into()));
        assert_eq!(
            top.seal_key,
            SecretSource::Env("STOREDESK_TEAM_SEAL_KEY".into())
        );
        let qa = p("qa");
        assert_eq!(qa.url, "postgres://qa@db/qa?sslmode=require");
        assert_eq!(qa.seal_key, SecretSource::Command("pass team-seal".into()));
        // The URL (and a password in it) never shows in Debug.
        assert!(!format!("{top:?}").contains("hunter2"));
        let none = parse("", Path::new("c.toml"), None).unwrap();
        assert!(none.profile.journal.is_none());
    }

    #[test]
    fn secret_debug_is_masked() {
        let s = Secret::new("hunter2");
        assert!(!format!("{s:?}").contains("hunter2"));
    }

    #[test]
    fn secret_from_env_reference() {
        let mut prof = Profile::builtin_retail();
        prof.secret = SecretSource::Env("STOREDESK_TEST_SECRET_UNSET_VAR".into());
        let e = prof.resolve_secret().unwrap_err().to_string();
        assert!(e.contains("STOREDESK_TEST_SECRET_UNSET_VAR"));
        prof.secret = SecretSource::Command("printf s3cret".into());
        assert_eq!(prof.resolve_secret().unwrap().expose(), "s3cret");
    }
}
