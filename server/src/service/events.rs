//! Events in, deliveries out: ingestion (with idempotency and the synchronous
//! wait), reading events and deliveries back, and hook tests.

use std::collections::HashSet;
use std::time::Duration;

use async_trait::async_trait;
use domain::catalog::find_event;
use domain::delivery::{
    Attempt, Delivery, EventRecord, HookTest, HookTestResult, Ingested, Outcome, Trigger,
    MAX_WAIT_SECS,
};
use domain::hook::validate_events;
use domain::ids::{DeliveryId, EventId, HookId};
use domain::key_ring::KeyRing;
use domain::ports::{Actor, ActorKind, DeliveryPort, IngestAnswer};
use domain::{AppError, ErrorCode};

use super::event_body::EventBody;
use super::secrets::sha256_hex;
use super::Service;
use crate::clock::now_ms;
use crate::dispatcher::Target;
use crate::ids::new_id;
use crate::store::{IdempotencyKey, Ingestion, NewEvent};
use crate::telemetry;
use tracing::Instrument;

/// How long an `Idempotency-Key` is remembered: 24 hours, per API key.
pub(super) const IDEMPOTENCY_WINDOW_MS: i64 = 24 * 3600 * 1000;
/// An `Idempotency-Key` must be 1 to 255 visible ASCII characters.
fn validate_idempotency_key(key: &str) -> Result<(), AppError> {
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(AppError::invalid(
            "Idempotency-Key",
            "Idempotency-Key must be 1 to 255 visible ASCII characters",
        ));
    }
    Ok(())
}

/// Idempotency keys belong to whoever sent them.
fn idempotency_scope(actor: &Actor) -> String {
    match &actor.kind {
        ActorKind::ApiKey { id } => format!("key:{id}"),
        ActorKind::User(user) => format!("user:{}", user.id),
    }
}

/// What storing an event came to.
pub(super) enum StoredEvent {
    /// A new event, with its deliveries.
    New {
        id: EventId,
        deliveries: Vec<DeliveryId>,
    },
    /// Its idempotency key was used before for the same request: the first
    /// answer, nothing stored.
    Repeat(Ingested),
}

impl Service {
    /// Stores a checked event and its deliveries (with `idempotency`'s
    /// record), as every way in does: `POST /api/events` and sources.
    pub(super) async fn store_event(
        &self,
        parsed: &EventBody,
        idempotency: Option<IdempotencyKey>,
        now: i64,
    ) -> Result<StoredEvent, AppError> {
        let id: EventId = new_id();
        // The event's span in its trace; its deliveries' attempts join it.
        let span = if telemetry::traces_on() {
            tracing::info_span!(
                "store event",
                hookline.event.id = %id,
                hookline.event.type = parsed.name(),
                hookline.deliveries = tracing::field::Empty,
            )
        } else {
            tracing::Span::none()
        };
        let event = NewEvent {
            id: id.clone(),
            name: parsed.name().to_owned(),
            payload: parsed.fields().to_owned(),
            created_at: now,
            trace_parent: telemetry::trace_parent(&span),
        };
        let ingestion = self
            .store
            .ingest_event(event, idempotency)
            .instrument(span.clone())
            .await?;
        match ingestion {
            Ingestion::Stored { deliveries } => {
                span.record("hookline.deliveries", deliveries.len());
                self.metrics.event_ingested();
                Ok(StoredEvent::New { id, deliveries })
            }
            Ingestion::Repeat {
                same_request: false,
                ..
            } => Err(AppError::new(
                ErrorCode::Conflict,
                "this Idempotency-Key was already used with a different request",
            )),
            Ingestion::Repeat {
                event_id,
                deliveries,
                same_request: true,
            } => Ok(StoredEvent::Repeat(Ingested {
                id: event_id,
                deliveries,
                outcomes: None,
            })),
        }
    }
}

#[async_trait]
impl DeliveryPort for Service {
    async fn ingest_event(
        &self,
        actor: &Actor,
        body: &[u8],
        idempotency_key: Option<&str>,
        wait: Option<Duration>,
    ) -> Result<IngestAnswer, AppError> {
        actor.require_write()?;
        if wait.is_some_and(|w| w > Duration::from_secs(MAX_WAIT_SECS)) {
            return Err(AppError::invalid(
                "wait",
                format!("wait may be at most {MAX_WAIT_SECS}s"),
            ));
        }
        let parsed = EventBody::parse(body)?;
        self.check_event_type(&parsed).await?;
        if let Some(key) = idempotency_key {
            validate_idempotency_key(key)?;
        }
        let now = now_ms();
        // The key's scope and the request's hash matter only with a key.
        let idempotency = idempotency_key.map(|key| IdempotencyKey {
            scope: idempotency_scope(actor),
            key: key.to_owned(),
            request_hash: sha256_hex(&String::from_utf8_lossy(body)),
            expires_at: now + IDEMPOTENCY_WINDOW_MS,
        });
        let (id, deliveries) = match self.store_event(&parsed, idempotency, now).await? {
            StoredEvent::New { id, deliveries } => (id, deliveries),
            StoredEvent::Repeat(ingested) => {
                return Ok(IngestAnswer {
                    ingested,
                    complete: true,
                })
            }
        };
        let count = deliveries.len() as i64;
        let (outcomes, complete) = match wait {
            Some(wait) => {
                let attempts = self.first_attempts(&deliveries, wait).await?;
                let complete = attempts.len() == deliveries.len();
                (Some(attempts.iter().map(Outcome::from).collect()), complete)
            }
            None => (None, true),
        };
        Ok(IngestAnswer {
            ingested: Ingested {
                id,
                deliveries: count,
                outcomes,
            },
            complete,
        })
    }

    async fn get_event(&self, actor: &Actor, id: &EventId) -> Result<EventRecord, AppError> {
        self.store
            .event(id)
            .await?
            .map(|event| super::hooks::event_for(actor, event))
            .ok_or_else(|| AppError::not_found("event"))
    }

    async fn get_delivery(&self, actor: &Actor, id: &DeliveryId) -> Result<Delivery, AppError> {
        self.store
            .delivery(id)
            .await?
            .map(|delivery| super::hooks::delivery_for(actor, delivery))
            .ok_or_else(|| AppError::not_found("delivery"))
    }

    async fn test_hook(
        &self,
        actor: &Actor,
        hook_id: &HookId,
        input: HookTest,
    ) -> Result<HookTestResult, AppError> {
        actor.require_write()?;
        let events = validate_events(&input.events, &self.custom_event_names().await?)?;
        let config = input.config.as_ref().map(|c| c.validated()).transpose()?;
        let hook = self
            .store
            .hook(hook_id)
            .await?
            .ok_or_else(|| AppError::not_found("hook"))?;
        let (url, headers) = match &config {
            Some(config) => (&config.url, &config.headers),
            None => (&hook.url, &hook.headers),
        };
        // A test is signed with the current key only, even during a rotation.
        let keys = &KeyRing::new(hook.keys.current().clone());
        let timeout = self
            .dispatcher
            .hook_defaults()
            .request_timeout(&hook.policy);
        let sends = events.iter().map(|name| async move {
            // Built-in types have an example; custom ones are sent without fields.
            let payload =
                find_event(name).map_or_else(|| "{}".to_owned(), |e| e.example_json().to_string());
            let (event_id, delivery_id) = (new_id(), new_id());
            let event = NewEvent {
                id: event_id,
                name: name.to_owned(),
                payload: payload.clone(),
                created_at: now_ms(),
                trace_parent: None,
            };
            let target = Target {
                delivery_id: &delivery_id,
                hook_id,
                event: name,
                event_created_at: event.created_at,
                payload: &payload,
                url,
                headers,
                keys,
                timeout,
                body_format: hook.body_format,
                trace_parent: None,
            };
            let attempt = self.dispatcher.send_now(&target, 1, Trigger::Test).await;
            self.store.record_test_attempt(&event, &attempt).await?;
            self.metrics.attempt_logged(&attempt);
            Ok::<_, AppError>(Outcome::from(&attempt))
        });
        let outcomes = futures::future::try_join_all(sends).await?;
        Ok(HookTestResult { outcomes })
    }
}

impl Service {
    /// Waits up to `wait` for the first attempt of each delivery to be logged;
    /// returns those that were.
    async fn first_attempts(
        &self,
        deliveries: &[DeliveryId],
        wait: Duration,
    ) -> Result<Vec<Attempt>, AppError> {
        let ours: HashSet<&DeliveryId> = deliveries.iter().collect();
        let mut logged = self.dispatcher.subscribe();
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let attempts = self.store.first_attempts(deliveries).await?;
            if attempts.len() == deliveries.len() {
                return Ok(attempts);
            }
            // Wake when one of ours is logged here; poll for attempts another
            // instance logged.
            let ours_logged = async {
                loop {
                    match logged.recv().await {
                        Ok(batch) if !batch.iter().any(|l| ours.contains(&l.delivery_id)) => {
                            continue
                        }
                        _ => return,
                    }
                }
            };
            let poll = tokio::time::sleep(Duration::from_millis(500));
            tokio::select! {
                _ = tokio::time::sleep_until(deadline) => {
                    return Ok(self.store.first_attempts(deliveries).await?);
                }
                _ = ours_logged => {}
                _ = poll => {}
            }
        }
    }
}
