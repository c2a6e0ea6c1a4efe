//! The `hookline` binary's one-shot subcommands, run as an operator would.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use hookline::service::Service;
use hookline::store::Store;

fn hookline(database_url: &str, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hookline"))
        .args(args)
        .env("HOOKLINE_DATABASE_URL", database_url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("hookline runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// `hookline admin create --email EMAIL --password-stdin [EXTRA…]` with `password` on stdin.
fn admin_create(database_url: &str, email: &str, extra: &[&str], password: &str) -> Output {
    let mut args = vec!["admin", "create", "--email", email, "--password-stdin"];
    args.extend_from_slice(extra);
    hookline(database_url, &args, password)
}

fn database() -> (String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    (
        format!("sqlite://{}", dir.path().join("cli.db").display()),
        dir,
    )
}

#[tokio::test]
async fn api_key_create_prints_a_working_key_as_the_last_line() {
    let (url, _dir) = database();
    let output = hookline(&url, &["api-key", "create", "--name", "ci"], "");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let key = stdout.lines().last().unwrap();
    assert!(key.starts_with("hkl_") && key.len() == 44, "{stdout}");
    let service = Service::new(Store::connect(&url).await.unwrap(), Default::default());
    assert!(service.api_key_actor(key).await.unwrap().is_some());
}

#[tokio::test]
async fn admin_create_reads_the_password_from_stdin_and_migrates_first() {
    let (url, _dir) = database();
    let output = admin_create(&url, "ops@example.com", &[], "a long password\n");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let service = Service::new(Store::connect(&url).await.unwrap(), Default::default());
    let loopback = std::net::Ipv4Addr::LOCALHOST.into();
    let session = domain::ports::SessionPort::sign_in(
        &service,
        "ops@example.com",
        "a long password",
        loopback,
    )
    .await
    .unwrap();
    assert_eq!(session.user.role, domain::user::Role::Admin);
    assert_eq!(
        service.open_setup().await.unwrap(),
        None,
        "no setup link once an admin exists"
    );
}

#[test]
fn bad_input_fails_with_a_message_and_no_user() {
    let (url, _dir) = database();
    let short = admin_create(&url, "ops@example.com", &[], "short");
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 10 characters"));
    let viewer_first = admin_create(
        &url,
        "v@example.com",
        &["--role", "viewer"],
        "a long password",
    );
    assert!(!viewer_first.status.success());
    assert!(String::from_utf8_lossy(&viewer_first.stderr).contains("first user must be an admin"));
}

#[test]
fn migrate_creates_the_database() {
    let (url, dir) = database();
    let output = hookline(&url, &["migrate"], "");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(dir.path().join("cli.db").exists());
}
