//! The binary's front door: bad config, bad flags and a bad data dir each
//! give one clear message and exit code 2, before the terminal is touched.

use std::process::Command;

fn storedesk() -> Command {
    Command::new(env!("CARGO_BIN_EXE_storedesk"))
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
    let out = storedesk()
        .arg("--config")
        .arg(&cfg)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
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
    let out = storedesk()
        .args(["--config"])
        .arg(&cfg)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .arg("inspect")
        .arg("x")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad config file") && err.contains("line 1"),
        "{err}"
    );
}

#[test]
fn unknown_profile_lists_the_known_ones() {
    let dir = tempfile::tempdir().unwrap();
    let out = storedesk()
        .args(["--profile", "staging", "--data-dir"])
        .arg(dir.path())
        .arg("--config")
        .arg(dir.path().join("none.toml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("staging") && err.contains("retail") && err.contains("sandbox"),
        "{err}"
    );
}

#[test]
fn unknown_flag_gets_clap_error() {
    let out = storedesk().arg("--frobnicate").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--frobnicate"), "{err}");
}

#[test]
fn unusable_data_dir_is_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    // A file where the data dir should be.
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, b"x").unwrap();
    let out = storedesk()
        .arg("--data-dir")
        .arg(&file)
        .arg("--config")
        .arg(dir.path().join("none.toml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
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
    ] {
        assert!(text.contains(sub), "--help lacks {sub}: {text}");
    }
}

#[test]
fn retail_without_tenant_says_which_field_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let out = storedesk()
        .args(["--profile", "retail", "--data-dir"])
        .arg(dir.path())
        .arg("--config")
        .arg(dir.path().join("none.toml"))
        .args(["entitlements", "--key", "aaa.bbb.ccc"])
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
