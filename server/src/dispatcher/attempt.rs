//! One attempt: build the signed request for a target, send it, and decide
//! what follows for the delivery and for its hook.

use domain::delivery::{Attempt, AttemptSummary, DeliveryState, Trigger};
use domain::hook::Headers;
use domain::ids::{DeliveryId, HookId};
use domain::key_ring::KeyRing;

use super::retry::{delay_after, parse_retry_after};
use super::sender::Sender;
use super::signer::{self, Message};
use super::Dispatcher;
use crate::ids::new_id;
use crate::store::{HealthChange, LeasedDelivery, Settlement};
use crate::telemetry;
use domain::alert::AlertFormat;
use tracing::Instrument;

/// What happens to a delivery after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextStep {
    Delivered,
    /// Try again at this time (unix ms).
    RetryAt(i64),
    /// Give up: no attempt succeeded and none is left.
    Failed,
}

impl NextStep {
    /// The delivery's state, and when its next attempt is due.
    fn written(self) -> (DeliveryState, Option<i64>) {
        match self {
            NextStep::Delivered => (DeliveryState::Delivered, None),
            NextStep::RetryAt(at) => (DeliveryState::Pending, Some(at)),
            NextStep::Failed => (DeliveryState::Failed, None),
        }
    }
}

/// Where and what to send: one event to one hook's endpoint.
pub struct Target<'a> {
    pub delivery_id: &'a DeliveryId,
    pub hook_id: &'a HookId,
    pub event: &'a str,
    pub event_created_at: i64,
    /// The producer's fields, a JSON object as stored.
    pub payload: &'a str,
    pub url: &'a str,
    pub headers: &'a Headers,
    /// Signs the request with the keys active when it is sent.
    pub keys: &'a KeyRing,
    /// How long the request may take.
    pub timeout: std::time::Duration,
    pub body_format: AlertFormat,
    /// The event's trace, which the attempt's span joins; without one the
    /// span is a child of the current one (a test send's request).
    pub trace_parent: Option<&'a str>,
}

/// Sends the request for `target` and returns the attempt as it will be logged.
pub async fn make(sender: &Sender, target: &Target<'_>, number: i64, trigger: Trigger) -> Attempt {
    let body = match target.body_format {
        AlertFormat::Json => signer::body(
            target.hook_id.as_str(),
            target.event,
            target.event_created_at,
            target.payload,
        ),
        AlertFormat::Slack => signer::slack_body(target.event, target.payload),
    };
    let message = Message {
        id: target.delivery_id.as_str(),
        sent_at: sender.clock.now_ms(),
        body: &body,
    };
    let headers = signer::request_headers(target.headers, target.keys, &message);
    let span = attempt_span(target, number, trigger);
    let response = sender
        .send(target.url, &headers, &body, target.timeout)
        .instrument(span.clone())
        .await;
    span.record("http.response.status_code", response.status);
    span.record("hookline.attempt.duration_ms", response.duration_ms);
    if !response.success() {
        span.record("otel.status_code", "ERROR");
        span.record("error.type", error_type(response.status));
        let why = match (&response.error, response.status) {
            (Some(error), _) => error.clone(),
            (None, Some(status)) => format!("the endpoint answered {status}"),
            (None, None) => "no answer".to_owned(),
        };
        span.record("otel.status_description", why);
    }
    let attempt = Attempt {
        summary: AttemptSummary {
            id: new_id(),
            delivery_id: target.delivery_id.to_owned(),
            hook_id: target.hook_id.to_owned(),
            event: target.event.to_owned(),
            number,
            trigger,
            success: response.success(),
            response_status: response.status,
            error: response.error,
            started_at: response.started_at,
            duration_ms: response.duration_ms,
        },
        url: target.url.to_owned(),
        request_headers: headers,
        request_body: body,
        response_headers: response.headers,
        response_body: response.body,
        response_body_truncated: response.body_truncated,
    };
    // The attempt's id is its request id: the log line, the stored attempt
    // and the console's delivery page all carry it.
    tracing::info!(
        request_id = %attempt.summary.id,
        delivery_id = %target.delivery_id,
        hook_id = %target.hook_id,
        event = target.event,
        number,
        trigger = trigger.as_str(),
        status = attempt.summary.response_status,
        duration_ms = attempt.summary.duration_ms,
        error = attempt.summary.error.as_deref(),
        "attempt"
    );
    attempt
}

/// The span of one attempt, in the trace of the event it sends. Not entered
/// around the attempt's log line, which keeps its own fields.
fn attempt_span(target: &Target<'_>, number: i64, trigger: Trigger) -> tracing::Span {
    if !telemetry::traces_on() {
        return tracing::Span::none();
    }
    let host = url::Url::parse(target.url)
        .ok()
        .and_then(|url| url.host_str().map(str::to_owned))
        .unwrap_or_default();
    let span = tracing::info_span!(
        "attempt",
        otel.name = %format!("deliver {}", target.event),
        otel.kind = "client",
        http.request.method = "POST",
        server.address = %host,
        hookline.hook.id = %target.hook_id,
        hookline.delivery.id = %target.delivery_id,
        hookline.event.type = target.event,
        hookline.attempt.number = number,
        hookline.attempt.trigger = trigger.as_str(),
        http.response.status_code = tracing::field::Empty,
        hookline.attempt.duration_ms = tracing::field::Empty,
        error.type = tracing::field::Empty,
        otel.status_code = tracing::field::Empty,
        otel.status_description = tracing::field::Empty,
    );
    if let Some(parent) = target.trace_parent {
        telemetry::join_trace(&span, parent);
    }
    span
}

/// OpenTelemetry's `error.type`: the status code when the endpoint answered,
/// else what kept it from answering.
fn error_type(status: Option<u16>) -> String {
    status.map_or_else(|| "no_response".to_owned(), |status| status.to_string())
}

/// Makes the next attempt of a leased delivery and decides what follows.
pub async fn deliver(dispatcher: &Dispatcher, delivery: &LeasedDelivery) -> Settlement {
    let settings = dispatcher.settings();
    let defaults = dispatcher.hook_defaults();
    let hook = &delivery.hook;
    if !hook.enabled {
        return skipped(delivery);
    }
    let target = Target {
        delivery_id: &delivery.id,
        hook_id: &hook.id,
        event: &delivery.event.name,
        event_created_at: delivery.event.created_at,
        payload: &delivery.event.payload,
        url: &hook.url,
        headers: &hook.headers,
        keys: &hook.keys,
        timeout: defaults.request_timeout(&hook.policy),
        body_format: hook.body_format,
        trace_parent: delivery.event.trace_parent.as_deref(),
    };
    let number = delivery.attempt_count + 1;
    let attempt = dispatcher.send_now(&target, number, delivery.trigger).await;
    if number == 1 {
        let waited = attempt.summary.started_at - target.event_created_at;
        dispatcher.metrics.first_attempt_lag(&hook.id, waited);
    }
    let finished = attempt.summary.started_at + attempt.summary.duration_ms;
    let (next, health) = if attempt.summary.success {
        (NextStep::Delivered, HealthChange::Answered)
    } else if attempt.summary.response_status == Some(410) {
        (
            NextStep::Failed,
            HealthChange::Disable("The endpoint answered 410 Gone".to_owned()),
        )
    } else {
        let retry_after = retry_after(&attempt).and_then(|v| parse_retry_after(v, finished));
        let schedule = defaults.retry_schedule(&hook.policy);
        let next = match delay_after(schedule, number, retry_after) {
            Some(wait) => NextStep::RetryAt(finished + wait.as_millis() as i64),
            None => NextStep::Failed,
        };
        let health = HealthChange::Failing {
            disable_if_failing_since: finished - settings.disable_after.as_millis() as i64,
            reason: format!(
                "Every attempt failed for {}",
                humantime::format_duration(settings.disable_after)
            ),
        };
        (next, health)
    };
    settlement(delivery, Some(attempt), next, Some(health))
}

/// The settlement of a delivery whose hook was disabled since it was
/// scheduled: no attempt, and it ends as failed.
pub fn skipped(delivery: &LeasedDelivery) -> Settlement {
    settlement(delivery, None, NextStep::Failed, None)
}

fn settlement(
    delivery: &LeasedDelivery,
    attempt: Option<Attempt>,
    next: NextStep,
    health: Option<HealthChange>,
) -> Settlement {
    let (state, next_attempt_at) = next.written();
    Settlement {
        delivery_id: delivery.id.clone(),
        hook_id: delivery.hook.id.clone(),
        lease_token: delivery.lease_token.clone(),
        attempt,
        state,
        next_attempt_at,
        health,
        ordered: delivery.hook.policy.ordered,
    }
}

/// The receiver's `Retry-After`, which counts only on 429 and 503.
fn retry_after(attempt: &Attempt) -> Option<&str> {
    if !matches!(attempt.summary.response_status, Some(429 | 503)) {
        return None;
    }
    attempt
        .response_headers
        .as_ref()?
        .iter()
        .find(|(name, _)| name == "retry-after")
        .map(|(_, value)| value.as_str())
}
