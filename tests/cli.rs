//! The binary's front door: bad config, bad flags and a bad data dir each
//! give one clear message and exit code 2, before the terminal is touched.

use std::path::Path;
use std::process::{Command, Output};

fn storedesk() -> Command {
    Command::new(env!("CARGO_BIN_EXE_storedesk"))
}

/// storedesk with its data dir and config file named (the data dir need
/// not exist; a named config file must).
fn storedesk_at(data: &Path, config: &Path) -> Command {
    let mut c = storedesk();
    c.arg("--data-dir").arg(data).arg("--config").arg(config);
    c
}

/// An empty config file in `dir`: the built-in profiles only.
fn empty_config(dir: &Path) -> std::path::PathBuf {
    let p = dir.join("empty.toml");
    std::fs::write(&p, "").unwrap();
    p
}

/// Refused before anything ran: exit code 2; the message on stderr.
fn refused(out: &Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{err}");
    err
}

#[test]
fn bad_config_names_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config.toml");
    std::fs::write(
        &cfg,
        "[profiles.qa]\nenvironment = \"sandbox\"\nclient_secert = \"x\"\n",
    )
    .unwrap();
    let out = storedesk_at(&dir.path().join("data"), &cfg)
        .output()
        .unwrap();
    let err = refused(&out);
    assert!(err.contains(&cfg.display().to_string()), "{err}");
    assert!(err.contains("line 3"), "{err}");
    assert!(err.contains("client_secert"), "{err}");
    // Nothing drawn: no alternate screen, no escape sequences at all.
    assert!(!out.stdout.contains(&0x1b), "stdout: {:?}", out.stdout);
}

#[test]
fn invalid_toml_is_one_message() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config.toml");
    std::fs::write(&cfg, "default_profile = \n").unwrap();
    let out = storedesk_at(&dir.path().join("data"), &cfg)
        .args(["inspect", "x"])
        .output()
        .unwrap();
    let err = refused(&out);
    assert!(
        err.contains("bad config file") && err.contains("line 1"),
        "{err}"
    );
}

#[test]
fn unknown_profile_lists_the_known_ones() {
    let dir = tempfile::tempdir().unwrap();
    let out = storedesk_at(dir.path(), &empty_config(dir.path()))
        .args(["--profile", "staging"])
        .output()
        .unwrap();
    let err = refused(&out);
    assert!(
        err.contains("staging") && err.contains("retail") && err.contains("sandbox"),
        "{err}"
    );
}

#[test]
fn unknown_flag_gets_clap_error() {
    let out = storedesk().arg("--frobnicate").output().unwrap();
    let err = refused(&out);
    assert!(err.contains("--frobnicate"), "{err}");
}

#[test]
fn unusable_data_dir_is_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    // A file where the data dir should be.
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, b"x").unwrap();
    let out = storedesk_at(&file, &empty_config(dir.path()))
        .output()
        .unwrap();
    let err = refused(&out);
    assert!(
        err.contains("data dir") && err.contains("not-a-dir"),
        "{err}"
    );
}

#[test]
fn help_lists_every_subcommand() {
    let out = storedesk().arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for sub in [
        "sandbox",
        "inspect",
        "entitlements",
        "consume",
        "grant",
        "audit",
        "pending",
        "doctor",
        "orders",
        "subscriptions",
        "clawbacks",
        "timeline",
        "case",
    ] {
        assert!(text.contains(sub), "--help lacks {sub}: {text}");
    }
}

#[test]
fn retail_without_tenant_says_which_field_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let out = storedesk_at(dir.path(), &empty_config(dir.path()))
        .args(["--profile", "retail"])
        // A key of the right shape (keys that do not decode are refused first).
        .args([
            "entitlements",
            "--key",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln",
        ])
        .env_remove("STOREDESK_TENANT_ID")
        .env_remove("STOREDESK_CLIENT_ID")
        .env("STOREDESK_CLIENT_SECRET", "s3cr3t-value")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no tenant_id") && err.contains("STOREDESK_TENANT_ID"),
        "{err}"
    );
    assert!(!err.contains("s3cr3t-value"), "{err}");
}

/// One executable: its version, its help and its parse errors, all in the
/// name of `storedesk`.
#[test]
fn version_help_and_parse_errors_speak_as_storedesk() {
    let out = storedesk().arg("--version").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("storedesk {}\n", env!("CARGO_PKG_VERSION"))
    );
    let out = storedesk().args(["inspect", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{help}");
    assert!(
        help.contains("Usage: storedesk inspect [OPTIONS] [KEY]"),
        "{help}"
    );
    let err = refused(
        &storedesk()
            .args(["inspect", "--frobnicate"])
            .output()
            .unwrap(),
    );
    assert!(
        err.contains("unexpected argument '--frobnicate'")
            && err.contains("Usage: storedesk inspect"),
        "{err}"
    );
}

/// Issue 16 point 11: a config file named on the command line (or in
/// STOREDESK_CONFIG) must exist; a typo is not silently "the defaults".
#[test]
fn a_named_config_file_that_does_not_exist_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nonexistent.toml");
    for args in [&["audit"][..], &["inspect", "a.b.c"][..]] {
        let out = storedesk_at(&dir.path().join("data"), &missing)
            .args(args)
            .output()
            .unwrap();
        let err = refused(&out);
        assert!(
            err.contains(&missing.display().to_string()) && err.contains("does not exist"),
            "{args:?}: {err}"
        );
    }
    let out = storedesk()
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .arg("audit")
        .env("STOREDESK_CONFIG", &missing)
        .output()
        .unwrap();
    refused(&out);
}

/// Issue 16 point 11: every fault the `sandbox --help` text names is in
/// the README's fault grammar.
#[test]
fn readme_fault_grammar_lists_every_fault_the_help_names() {
    let out = storedesk().args(["sandbox", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout).into_owned();
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let grammar = readme
        .split("SPEC   = ")
        .nth(1)
        .and_then(|g| g.split("```").next())
        .expect("README has the fault grammar");
    // The examples are the backquoted `route:item,item` specs in the help.
    let specs: Vec<&str> = help
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|s| s.contains(':'))
        .collect();
    assert!(specs.len() >= 4, "{help}");
    for spec in specs {
        let (route, items) = spec.split_once(':').unwrap();
        assert!(
            grammar.contains(route),
            "route {route} of {spec} missing from the README grammar"
        );
        for item in items.split(',') {
            let name = item.split('=').next().unwrap();
            let name = if name.chars().all(|c| c.is_ascii_digit()) {
                "CODE"
            } else {
                name
            };
            assert!(
                grammar.contains(name),
                "{name} (from {spec}) missing from the README grammar:\n{grammar}"
            );
        }
    }
}

/// Issue 20 point 8: without a terminal the console refuses in one line
/// and writes no escape sequence (today it switched to the alternate
/// screen on a pipe).
#[test]
fn the_console_without_a_terminal_says_so_and_writes_no_escapes() {
    let dir = tempfile::tempdir().unwrap();
    let out = storedesk_at(&dir.path().join("data"), &empty_config(dir.path()))
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("the console needs a terminal; use a headless command"),
        "{err}"
    );
    assert!(
        !out.stdout.contains(&0x1b) && !out.stderr.contains(&0x1b),
        "escape sequences written"
    );
}
