//! OpenTelemetry traces: the real binary, configured by the standard
//! `OTEL_*` variables, exports to an OTLP/HTTP collector started here (a
//! receiver whose requests are decoded as OTLP protobuf).

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::database::TestDatabase;
use common::process::{Api, Hookline};
use common::receiver::{Receiver, Reply};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use serde_json::json;

/// The caller's own trace, continued by Hookline: W3C `traceparent`.
const CALLER_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN: &str = "00f067aa0ba902b7";

/// What the collector received: every span, and each export's service name.
struct Exported {
    spans: Vec<Span>,
    services: Vec<String>,
}

impl Exported {
    fn read(collector: &Receiver) -> Exported {
        let mut exported = Exported {
            spans: Vec::new(),
            services: Vec::new(),
        };
        for request in collector.requests() {
            assert_eq!(request.path, "/v1/traces");
            assert_eq!(request.header("content-type"), "application/x-protobuf");
            let export = ExportTraceServiceRequest::decode(request.body.as_ref())
                .expect("an OTLP protobuf export");
            for resource in export.resource_spans {
                let attributes = &resource.resource.as_ref().unwrap().attributes;
                let service = attributes.iter().find(|kv| kv.key == "service.name");
                exported.services.push(text(
                    service.and_then(|kv| kv.value.as_ref()?.value.as_ref()),
                ));
                for scope in resource.scope_spans {
                    exported.spans.extend(scope.spans);
                }
            }
        }
        exported
    }

    fn named(&self, name: &str) -> Vec<&Span> {
        self.spans.iter().filter(|span| span.name == name).collect()
    }
}

fn text(value: Option<&AnyValue>) -> String {
    match value {
        Some(AnyValue::StringValue(s)) => s.clone(),
        Some(AnyValue::IntValue(n)) => n.to_string(),
        Some(AnyValue::BoolValue(b)) => b.to_string(),
        Some(AnyValue::DoubleValue(d)) => d.to_string(),
        other => panic!("not a scalar attribute: {other:?}"),
    }
}

/// A span's attributes, as text.
fn attributes(span: &Span) -> HashMap<String, String> {
    span.attributes
        .iter()
        .map(|kv| {
            let value = kv.value.as_ref().and_then(|v| v.value.as_ref());
            (kv.key.clone(), text(value))
        })
        .collect()
}

/// Waits until the collector holds at least `attempts` attempt spans.
async fn exported_with(collector: &Receiver, attempts: usize) -> Exported {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let exported = Exported::read(collector);
        if exported.named("deliver User.Created").len() >= attempts {
            return exported;
        }
        assert!(
            Instant::now() < deadline,
            "spans exported: {:?}",
            exported.spans.iter().map(|s| &s.name).collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// One event, ingested inside a caller's trace and delivered at the second
/// attempt: the request, the stored event and both attempts are one trace,
/// the attempts children of the stored event and linked to it across the
/// queue, each span with its attributes.
async fn an_event_is_one_trace_from_its_request_to_its_attempts() {
    let database = TestDatabase::fresh().await;
    let api = Api::new(database.api_key().await);
    let collector = Receiver::start(Reply::status(200)).await;
    let endpoint = collector.url.trim_end_matches("/hook").to_owned();
    let hookline = Hookline::start_with_env(
        &database,
        &["--retry-schedule=200ms"],
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ],
    )
    .await;
    hookline.wait_healthy().await;
    let receiver = Receiver::start(Reply::status(200)).await;
    receiver.script([Reply::status(500)]);
    let hook = api
        .post(
            &hookline,
            "/api/hooks",
            json!({ "name": "traced", "events": ["User.Created"], "config": { "url": receiver.url } }),
        )
        .await;
    let ingested = reqwest::Client::new()
        .post(hookline.url("/api/events"))
        .bearer_auth(database.api_key().await)
        .header("traceparent", format!("00-{CALLER_TRACE}-{CALLER_SPAN}-01"))
        .json(&json!({ "event": "User.Created", "data": { "id": "u1" } }))
        .send()
        .await
        .unwrap();
    assert_eq!(ingested.status(), 202);
    let event_id = ingested.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    receiver.wait_for(2, Duration::from_secs(10)).await;

    let event = api.get(&hookline, &format!("/api/events/{event_id}")).await;
    let delivery_id = event["deliveries"][0]["id"].as_str().unwrap().to_owned();
    let delivery = api
        .get(&hookline, &format!("/api/deliveries/{delivery_id}"))
        .await;
    assert_eq!(
        delivery["traceId"], CALLER_TRACE,
        "the delivery names its trace"
    );

    let exported = exported_with(&collector, 2).await;
    assert!(
        exported.services.iter().all(|s| s == "hookline"),
        "{:?}",
        exported.services
    );
    let trace = hex_bytes(CALLER_TRACE);

    let requests: Vec<&Span> = exported
        .named("POST")
        .into_iter()
        .filter(|span| {
            attributes(span).get("http.route").map(String::as_str) == Some("/api/events")
        })
        .collect();
    assert_eq!(requests.len(), 1);
    let request = requests[0];
    assert_eq!(request.trace_id, trace, "the caller's trace goes on");
    assert_eq!(request.parent_span_id, hex_bytes(CALLER_SPAN));
    assert_eq!(request.kind, SpanKind::Server as i32);
    assert_eq!(attributes(request)["http.response.status_code"], "202");

    let stores = exported.named("store event");
    assert_eq!(stores.len(), 1);
    let store = stores[0];
    assert_eq!(store.trace_id, trace);
    assert_eq!(store.parent_span_id, request.span_id);
    let stored = attributes(store);
    assert_eq!(stored["hookline.event.id"], event_id);
    assert_eq!(stored["hookline.event.type"], "User.Created");
    assert_eq!(stored["hookline.deliveries"], "1");

    let mut attempts = exported.named("deliver User.Created");
    attempts.sort_by_key(|span| span.start_time_unix_nano);
    assert_eq!(attempts.len(), 2);
    for (number, attempt) in attempts.iter().enumerate() {
        assert_eq!(
            attempt.trace_id, trace,
            "attempt {number} is in the event's trace"
        );
        assert_eq!(attempt.parent_span_id, store.span_id);
        assert_eq!(attempt.kind, SpanKind::Client as i32);
        assert_eq!(attempt.links.len(), 1, "linked across the queue");
        assert_eq!(attempt.links[0].trace_id, trace);
        assert_eq!(attempt.links[0].span_id, store.span_id);
        assert!(attempt.end_time_unix_nano > attempt.start_time_unix_nano);
        let fields = attributes(attempt);
        assert_eq!(fields["hookline.hook.id"], hook["id"].as_str().unwrap());
        assert_eq!(fields["hookline.delivery.id"], delivery_id);
        assert_eq!(fields["server.address"], "127.0.0.1");
        assert_eq!(fields["hookline.attempt.number"], (number + 1).to_string());
        assert!(fields["hookline.attempt.duration_ms"]
            .parse::<i64>()
            .is_ok());
    }
    let (failed, delivered) = (attempts[0], attempts[1]);
    let failed_fields = attributes(failed);
    assert_eq!(failed_fields["http.response.status_code"], "500");
    assert_eq!(failed_fields["error.type"], "500");
    let status = failed.status.as_ref().expect("a failed attempt's status");
    assert_eq!(status.code, StatusCode::Error as i32);
    assert!(status.message.contains("500"), "{}", status.message);
    assert_eq!(attributes(delivered)["http.response.status_code"], "200");
    assert!(!attributes(delivered).contains_key("error.type"));
    assert_ne!(
        delivered.status.as_ref().map(|s| s.code),
        Some(StatusCode::Error as i32)
    );
}

/// Spans still queued when the server is stopped are exported before it
/// exits, however long the exporter would otherwise wait.
async fn a_stopping_server_exports_what_is_queued() {
    let database = TestDatabase::fresh().await;
    let api = Api::new(database.api_key().await);
    let collector = Receiver::start(Reply::status(200)).await;
    // The signal's own variable is the whole URL.
    let endpoint = collector.url.replace("/hook", "/v1/traces");
    let mut hookline = Hookline::start_with_env(
        &database,
        &[],
        &[
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", endpoint.as_str()),
            ("OTEL_BSP_SCHEDULE_DELAY", "600000"),
        ],
    )
    .await;
    let receiver = Receiver::start(Reply::status(200)).await;
    api.post(
        &hookline,
        "/api/hooks",
        json!({ "name": "queued", "events": ["User.Created"], "config": { "url": receiver.url } }),
    )
    .await;
    api.ingest_numbered(&[&hookline], 1).await;
    receiver.wait_for(1, Duration::from_secs(10)).await;
    assert!(
        collector.requests().is_empty(),
        "nothing exported before the stop"
    );
    hookline.terminate();
    let exited = tokio::time::timeout(Duration::from_secs(20), hookline.child.wait()).await;
    assert!(exited.expect("exits within 20 s").unwrap().success());
    let exported = Exported::read(&collector);
    assert_eq!(exported.named("store event").len(), 1);
    assert_eq!(exported.named("deliver User.Created").len(), 1);
}

/// Without an OTLP endpoint nothing is traced: events keep no trace context.
async fn traces_are_off_without_an_endpoint() {
    let database = TestDatabase::fresh().await;
    let api = Api::new(database.api_key().await);
    let hookline = Hookline::start(&database, &[]).await;
    let receiver = Receiver::start(Reply::status(200)).await;
    api.post(
        &hookline,
        "/api/hooks",
        json!({ "name": "plain", "events": ["User.Created"], "config": { "url": receiver.url } }),
    )
    .await;
    let events = api.ingest_numbered(&[&hookline], 1).await;
    receiver.wait_for(1, Duration::from_secs(10)).await;
    let stored: Option<String> = database
        .scalar(&format!(
            "SELECT trace_parent FROM events WHERE id = '{}'",
            events[0]
        ))
        .await;
    assert_eq!(stored, None);
    let event = api
        .get(&hookline, &format!("/api/events/{}", events[0]))
        .await;
    assert_eq!(event["deliveries"][0]["traceId"], serde_json::Value::Null);
}

fn hex_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

crate::on_both_databases!(
    an_event_is_one_trace_from_its_request_to_its_attempts,
    a_stopping_server_exports_what_is_queued,
    traces_are_off_without_an_endpoint,
);
