//! Logs, and OpenTelemetry traces when an OTLP endpoint is configured.
//!
//! Traces are off unless `OTEL_EXPORTER_OTLP_ENDPOINT` or
//! `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is set (and `OTEL_SDK_DISABLED` is
//! not `true`); the exporter reads the other standard `OTEL_*` variables
//! itself. Spans are the `tracing` spans of the `hookline` target at INFO,
//! whatever `RUST_LOG` says of logs. An event's trace crosses the queue as a
//! W3C `traceparent` stored with the event: see [`trace_parent`] and
//! [`join_trace`].

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use opentelemetry_http::{Bytes, HttpClient, HttpError, Request, Response};
use opentelemetry_otlp::{WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// How long one export to the collector may take (the OTLP default).
const EXPORT_TIMEOUT: Duration = Duration::from_secs(10);
/// A collector's answer is a few bytes; more than this is not read.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// The shape of log lines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object a line, with the request's span (and its `request_id`).
    Json,
}

/// Whether spans are exported: set once, by `init`.
static TRACES_ON: AtomicBool = AtomicBool::new(false);

/// Whether spans are exported. The spans only a trace needs (the stored
/// event's, an attempt's) are not made otherwise: the dispatcher's hot path
/// pays nothing for them.
pub fn traces_on() -> bool {
    TRACES_ON.load(Ordering::Relaxed)
}

/// What `init` set up; `shutdown` sends the spans still queued.
pub struct Telemetry {
    traces: Option<SdkTracerProvider>,
}

/// Sets up logs (to stderr, filtered by `RUST_LOG`, as text or JSON lines)
/// and, when configured, the trace exporter. Needs a Tokio runtime: exports
/// are sent on it.
pub fn init(format: LogFormat) -> Telemetry {
    let (traces, trouble) = match tracer_provider() {
        Ok(traces) => (traces, None),
        Err(err) => (None, Some(err)),
    };
    let logs = tracing_subscriber::fmt::layer()
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let logs = match format {
        LogFormat::Text => logs.boxed(),
        LogFormat::Json => logs.json().boxed(),
    };
    let log_filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,sqlx=warn,tower_http=info".into());
    // Only Hookline's own spans: the exporter's requests (and a chatty
    // `RUST_LOG`) must not become spans to export.
    let spans = traces.as_ref().map(|provider| {
        tracing_opentelemetry::layer()
            .with_tracer(provider.tracer("hookline"))
            // Spans carry what they say about a request or an attempt, not
            // where in the code or on which thread they ran.
            .with_location(false)
            .with_threads(false)
            .with_target(false)
            .with_tracked_inactivity(false)
            .with_filter(Targets::new().with_target("hookline", tracing::Level::INFO))
    });
    tracing_subscriber::registry()
        .with(logs.with_filter(log_filter))
        .with(spans)
        .init();
    TRACES_ON.store(traces.is_some(), Ordering::Relaxed);
    match (&traces, trouble) {
        (_, Some(err)) => tracing::error!("OpenTelemetry traces are off: {err}"),
        (Some(_), None) => tracing::info!("OpenTelemetry traces are exported over OTLP/HTTP"),
        (None, None) => {}
    }
    Telemetry { traces }
}

impl Telemetry {
    /// Exports what is still queued; waits at most for one export.
    pub async fn shutdown(self) {
        if let Some(provider) = self.traces {
            // The exporter's thread blocks on sends made on this runtime.
            let done = tokio::task::spawn_blocking(move || provider.shutdown()).await;
            if let Ok(Err(err)) = done {
                eprintln!("OpenTelemetry: the last spans were not exported: {err}");
            }
        }
    }
}

/// The provider, if the environment asks for traces.
fn tracer_provider() -> Result<Option<SdkTracerProvider>, opentelemetry_otlp::ExporterBuildError> {
    let set = |name: &str| std::env::var(name).is_ok_and(|v| !v.trim().is_empty());
    let disabled = std::env::var("OTEL_SDK_DISABLED").is_ok_and(|v| v.eq_ignore_ascii_case("true"));
    if disabled
        || !(set("OTEL_EXPORTER_OTLP_ENDPOINT") || set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))
    {
        return Ok(None);
    }
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_timeout(EXPORT_TIMEOUT)
        .with_http_client(RuntimeClient::new()?)
        .build()?;
    let mut resource = Resource::builder();
    if !set("OTEL_SERVICE_NAME") {
        resource = resource.with_service_name("hookline");
    }
    Ok(Some(
        SdkTracerProvider::builder()
            .with_resource(resource.build())
            .with_batch_exporter(exporter)
            .build(),
    ))
}

/// The exporter's HTTP client: Hookline's own (rustls) reqwest, its requests
/// run on the server's runtime. The batch exporter works on a thread of its
/// own, outside any runtime, and only awaits their answers.
#[derive(Debug)]
struct RuntimeClient {
    client: reqwest::Client,
    runtime: tokio::runtime::Handle,
}

impl RuntimeClient {
    fn new() -> Result<Self, opentelemetry_otlp::ExporterBuildError> {
        let build_error = |err: &dyn std::fmt::Display| {
            opentelemetry_otlp::ExporterBuildError::InternalFailure(err.to_string())
        };
        let runtime = tokio::runtime::Handle::try_current().map_err(|e| build_error(&e))?;
        let client = reqwest::Client::builder()
            .timeout(EXPORT_TIMEOUT)
            .build()
            .map_err(|e| build_error(&e))?;
        Ok(Self { client, runtime })
    }
}

#[async_trait]
impl HttpClient for RuntimeClient {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let request = reqwest::Request::try_from(request)?;
        let client = self.client.clone();
        let sent = self.runtime.spawn(async move {
            let mut answer = client.execute(request).await?;
            let mut response = Response::builder().status(answer.status());
            let mut body = Vec::new();
            while let Some(chunk) = answer.chunk().await? {
                if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                    break;
                }
                body.extend_from_slice(&chunk);
            }
            if let Some(headers) = response.headers_mut() {
                *headers = answer.headers().clone();
            }
            Ok::<_, HttpError>(response.body(Bytes::from(body))?)
        });
        sent.await?
    }
}

/// The W3C `traceparent` of `span`, to store with what it made; `None` when
/// traces are off.
pub fn trace_parent(span: &tracing::Span) -> Option<String> {
    let context = span.context();
    if !context.span().span_context().is_valid() {
        return None;
    }
    let mut carrier = HashMap::new();
    TraceContextPropagator::new().inject_context(&context, &mut carrier);
    carrier.remove("traceparent")
}

/// Puts `span` into the trace `trace_parent` names, as its child and linked
/// to it: OpenTelemetry's messaging conventions for work taken off a queue,
/// here an attempt made for a stored event. A malformed value is ignored.
pub fn join_trace(span: &tracing::Span, trace_parent: &str) {
    let carrier = HashMap::from([("traceparent".to_owned(), trace_parent.to_owned())]);
    continue_from(span, &carrier, true);
}

/// Makes `span` a child of the caller's trace, if the request's headers
/// carry a `traceparent`.
pub fn continue_request_trace(span: &tracing::Span, headers: &http::HeaderMap) {
    let carrier: HashMap<String, String> = ["traceparent", "tracestate"]
        .into_iter()
        .filter_map(|name| {
            let value = headers.get(name)?.to_str().ok()?;
            Some((name.to_owned(), value.to_owned()))
        })
        .collect();
    if !carrier.is_empty() {
        continue_from(span, &carrier, false);
    }
}

fn continue_from(span: &tracing::Span, carrier: &HashMap<String, String>, link: bool) {
    let parent = TraceContextPropagator::new().extract(carrier);
    let parent_span = parent.span().span_context().clone();
    if !parent_span.is_valid() {
        return;
    }
    // Fails only once the span has started, which a new span has not.
    let _ = span.set_parent(parent);
    if link {
        span.add_link(parent_span);
    }
}
