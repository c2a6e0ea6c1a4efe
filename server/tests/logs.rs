//! The binary's log: `--log-format text|json`, and the request id every HTTP
//! request gets, echoed in `x-request-id` and on its log lines.

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::database::TestDatabase;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

struct Logged {
    _child: Child,
    base: String,
    stderr: mpsc::UnboundedReceiver<String>,
}

/// `hookline serve` with `args`, its stderr read line by line.
async fn start(database: &TestDatabase, args: &[&str]) -> Logged {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hookline"))
        .args(["serve", "--addr", "127.0.0.1:0"])
        .args(args)
        .env("HOOKLINE_DATABASE_URL", &database.url)
        .env("RUST_LOG", "info")
        .env_remove("HOOKLINE_LOG_FORMAT")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let (send, stderr) = mpsc::unbounded_channel();
    let mut err_lines = BufReader::new(child.stderr.take().unwrap()).lines();
    tokio::spawn(async move {
        while let Ok(Some(line)) = err_lines.next_line().await {
            let _ = send.send(line);
        }
    });
    let mut out_lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let base = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = out_lines.next_line().await.unwrap() {
            if let Some(addr) = line.strip_prefix("Hookline is listening on ") {
                return addr.trim().to_owned();
            }
        }
        panic!("hookline exited before listening")
    })
    .await
    .expect("hookline listens within 30 s");
    tokio::spawn(async move { while let Ok(Some(_)) = out_lines.next_line().await {} });
    Logged {
        _child: child,
        base,
        stderr,
    }
}

impl Logged {
    /// The next stderr line that `matches`, within 10 s; every line read on
    /// the way is passed to `each` too.
    async fn line_where(
        &mut self,
        mut each: impl FnMut(&str),
        matches: impl Fn(&str) -> bool,
    ) -> String {
        tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                let line = self.stderr.recv().await.expect("the server's stderr ended");
                each(&line);
                if matches(&line) {
                    return line;
                }
            }
        })
        .await
        .expect("the log line within 10 s")
    }
}

async fn get(base: &str, path: &str, request_id: Option<&str>) -> reqwest::Response {
    let mut request = reqwest::Client::new().get(format!("{base}{path}"));
    if let Some(id) = request_id {
        request = request.header("x-request-id", id);
    }
    request.send().await.unwrap()
}

fn response_id(response: &reqwest::Response) -> String {
    response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned()
}

fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.iter().map(|g| g.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
        && groups
            .iter()
            .all(|g| g.chars().all(|c| c.is_ascii_hexdigit()))
}

#[tokio::test]
async fn json_lines_carry_the_request_id_that_the_response_echoes() {
    let database = TestDatabase::fresh().await;
    let mut server = start(&database, &["--log-format", "json"]).await;

    // A caller's own request id is kept and echoed.
    let response = get(&server.base, "/health", Some("caller-chosen-42")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response_id(&response), "caller-chosen-42");
    let not_json = |line: &str| {
        assert!(
            serde_json::from_str::<Value>(line).is_ok(),
            "not a JSON line: {line}"
        )
    };
    let line = server
        .line_where(not_json, |line| line.contains("caller-chosen-42"))
        .await;
    let entry: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(entry["span"]["name"], "request", "{entry}");
    assert_eq!(entry["span"]["request_id"], "caller-chosen-42", "{entry}");
    assert_eq!(entry["span"]["method"], "GET", "{entry}");
    assert_eq!(entry["span"]["path"], "/health", "{entry}");
    assert_eq!(entry["fields"]["status"], 200, "{entry}");

    // Otherwise the server makes one: a UUID, a new one each request.
    let first = get(&server.base, "/api/hooks", None).await;
    assert_eq!(first.status(), 401);
    let first_id = response_id(&first);
    assert!(is_uuid(&first_id), "{first_id}");
    let second_id = response_id(&get(&server.base, "/api/hooks", None).await);
    assert!(is_uuid(&second_id) && second_id != first_id);
    let line = server
        .line_where(not_json, |line| line.contains(&first_id))
        .await;
    let entry: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(entry["span"]["request_id"], first_id.as_str(), "{entry}");
    assert_eq!(entry["span"]["path"], "/api/hooks", "{entry}");
    assert_eq!(entry["fields"]["status"], 401, "{entry}");
}

#[tokio::test]
async fn text_lines_are_plain_and_carry_the_request_id() {
    let database = TestDatabase::fresh().await;
    // Text is the default.
    let mut server = start(&database, &[]).await;
    let response = get(&server.base, "/api/event-types", None).await;
    let id = response_id(&response);
    let line = server.line_where(|_| {}, |line| line.contains(&id)).await;
    assert!(serde_json::from_str::<Value>(&line).is_err(), "{line}");
    assert!(line.contains(&format!("request_id={id}")), "{line}");
    assert!(line.contains("path=/api/event-types"), "{line}");
    assert!(line.contains("status=401"), "{line}");
    // Not a terminal: no colour codes.
    assert!(!line.contains('\u{1b}'), "{line:?}");
}
