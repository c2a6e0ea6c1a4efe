//! Hooks: create, read, update, delete, rotate the signing key.

use std::collections::HashMap;

use async_trait::async_trait;
use domain::delivery::{Delivery, EventRecord};
use domain::hook::{ExecutionStats, Hook, HookPatch, NewHook, RESERVED_HEADERS};
use domain::ids::HookId;
use domain::ports::{Actor, HookPort, SECRET_MASK};
use domain::AppError;

use super::secrets::new_signing_key;
use super::Service;
use crate::clock::now_ms;
use crate::ids::new_id;
use crate::store::HookRow;

#[async_trait]
impl HookPort for Service {
    async fn list_hooks(&self, actor: &Actor, include_stats: bool) -> Result<Vec<Hook>, AppError> {
        let rows = self.store.list_hooks().await?;
        let stats = self.day_stats(include_stats).await?;
        Ok(rows
            .into_iter()
            .map(|row| hook_for(actor, with_stats(row, stats.as_ref())))
            .collect())
    }

    async fn get_hook(
        &self,
        actor: &Actor,
        id: &HookId,
        include_stats: bool,
    ) -> Result<Hook, AppError> {
        let row = self.store.hook(id).await?;
        let stats = self.day_stats(include_stats).await?;
        row.map(|row| hook_for(actor, with_stats(row, stats.as_ref())))
            .ok_or_else(|| AppError::not_found("hook"))
    }

    async fn create_hook(&self, actor: &Actor, input: NewHook) -> Result<Hook, AppError> {
        actor.require_write()?;
        let input = input.validated(&self.custom_event_names().await?)?;
        let now = now_ms();
        let row = HookRow::new(new_id(), input, new_signing_key(), now);
        self.store.insert_hook(&row).await?;
        Ok(hook_for(actor, row.into_hook()))
    }

    async fn update_hook(
        &self,
        actor: &Actor,
        id: &HookId,
        input: HookPatch,
    ) -> Result<Hook, AppError> {
        actor.require_write()?;
        let patch = input.validated(&self.custom_event_names().await?)?;
        self.store
            .patch_hook(id, &patch, now_ms())
            .await?
            .map(|row| hook_for(actor, row.into_hook()))
            .ok_or_else(|| AppError::not_found("hook"))
    }

    async fn delete_hook(&self, actor: &Actor, id: &HookId) -> Result<(), AppError> {
        actor.require_write()?;
        if self.store.delete_hook(id).await? {
            Ok(())
        } else {
            Err(AppError::not_found("hook"))
        }
    }

    /// A new signing key; the old one stays valid for the overlap window.
    async fn rotate_signing_key(&self, actor: &Actor, id: &HookId) -> Result<Hook, AppError> {
        actor.require_write()?;
        let now = now_ms();
        let overlap = self.dispatcher.settings().key_rotation_overlap;
        let previous_expires_at = now + overlap.as_millis() as i64;
        self.store
            .rotate_signing_key(id, &new_signing_key(), previous_expires_at, now)
            .await?
            .map(|row| hook_for(actor, row.into_hook()))
            .ok_or_else(|| AppError::not_found("hook"))
    }
}

impl Service {
    /// Every hook's requests and successes over the last 24 h, when asked for:
    /// one query over the per-minute figures, however many hooks there are.
    async fn day_stats(
        &self,
        wanted: bool,
    ) -> Result<Option<HashMap<HookId, ExecutionStats>>, AppError> {
        if !wanted {
            return Ok(None);
        }
        let since = now_ms() - 24 * 3600 * 1000;
        Ok(Some(self.store.execution_stats(since).await?))
    }
}

/// The hook, with its 24 h figures when they were asked for.
fn with_stats(row: HookRow, stats: Option<&HashMap<HookId, ExecutionStats>>) -> Hook {
    let mut hook = row.into_hook();
    hook.execution_stats = stats.map(|stats| stats.get(&hook.id).copied().unwrap_or_default());
    hook
}

/// The hook as `actor` may see it. A caller who may not read secrets (a
/// viewer) gets [`SECRET_MASK`] for the signing key and for every custom header
/// value; header names stay. Every answer that carries a hook passes here, for
/// the REST API and the console alike.
pub(crate) fn hook_for(actor: &Actor, mut hook: Hook) -> Hook {
    if !actor.sees_secrets() {
        hook.signing_key = SECRET_MASK.to_owned();
        for (_, value) in &mut hook.config.headers.0 {
            *value = SECRET_MASK.to_owned();
        }
    }
    hook
}

/// The delivery as `actor` may see it: for a caller who may not read secrets,
/// each attempt's request headers keep only the values Hookline itself set
/// (see [`set_by_hookline`]); every other value came from the hook's custom
/// headers (or a test's form) and is masked like them. Signatures stay: they
/// are not the key. Response headers and bodies are the receiver's and stay.
pub(crate) fn delivery_for(actor: &Actor, mut delivery: Delivery) -> Delivery {
    if !actor.sees_secrets() {
        for attempt in &mut delivery.attempts {
            for (name, value) in &mut attempt.request_headers {
                if !set_by_hookline(name, value) {
                    *value = SECRET_MASK.to_owned();
                }
            }
        }
    }
    delivery
}

/// The event with each of its deliveries as `actor` may see it.
pub(crate) fn event_for(actor: &Actor, mut event: EventRecord) -> EventRecord {
    event.deliveries = event
        .deliveries
        .into_iter()
        .map(|delivery| delivery_for(actor, delivery))
        .collect();
    event
}

/// Whether a logged request header is one Hookline sets and a hook cannot
/// override (the reserved names: content type, every signature scheme's
/// headers …); and `user-agent` while it is Hookline's own
/// (`Hookline/<version>`), since a custom header may replace it.
fn set_by_hookline(name: &str, value: &str) -> bool {
    if RESERVED_HEADERS
        .iter()
        .any(|own| name.eq_ignore_ascii_case(own))
    {
        return true;
    }
    name.eq_ignore_ascii_case("user-agent")
        && value.strip_prefix("Hookline/").is_some_and(|version| {
            !version.is_empty()
                && version
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+'))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::delivery::{Attempt, AttemptSummary, DeliveryState, Trigger};
    use domain::hook::{Headers, HookConfig};
    use domain::ports::ActorKind;
    use domain::user::Role;

    fn actor(role: Role) -> Actor {
        Actor {
            role,
            kind: ActorKind::ApiKey { id: "k".into() },
        }
    }

    fn hook() -> Hook {
        Hook {
            id: "h1".into(),
            name: "CRM".into(),
            events: vec!["PostRegister".into()],
            config: HookConfig {
                url: "https://example.com".into(),
                headers: Headers(vec![("X-Api-Key".into(), "s3cret".into())]),
            },
            signing_key: "k".repeat(32),
            enabled: true,
            disabled_reason: None,
            filter: None,
            policy: Default::default(),
            created_at: 0,
            updated_at: 0,
            execution_stats: None,
        }
    }

    #[test]
    fn viewers_get_the_key_and_header_values_masked_admins_everything() {
        let masked = hook_for(&actor(Role::Viewer), hook());
        assert_eq!(masked.signing_key, SECRET_MASK);
        assert_eq!(
            masked.config.headers.0,
            vec![("X-Api-Key".to_owned(), SECRET_MASK.to_owned())]
        );
        assert_eq!(masked.config.url, "https://example.com");
        assert_eq!(hook_for(&actor(Role::Admin), hook()), hook());
    }

    #[test]
    fn viewers_see_only_the_request_headers_hookline_set() {
        let sent = |ua: &str| -> Vec<(String, String)> {
            [
                ("user-agent", ua),
                ("content-type", "application/json"),
                ("x-api-key", "s3cret"),
                ("logto-signature-sha-256", "abc"),
                ("webhook-id", "d1"),
                ("webhook-timestamp", "1"),
                ("webhook-signature", "v1,xyz"),
            ]
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
        };
        let delivery = |ua: &str| Delivery {
            id: "d1".into(),
            event_id: "e1".into(),
            hook_id: "h1".into(),
            hook_name: "Receiver".into(),
            event: "PostRegister".into(),
            idempotency_key: None,
            state: DeliveryState::Delivered,
            attempt_count: 1,
            next_attempt_at: None,
            created_at: 0,
            updated_at: 0,
            attempts: vec![Attempt {
                summary: AttemptSummary {
                    id: "a1".into(),
                    delivery_id: "d1".into(),
                    hook_id: "h1".into(),
                    event: "PostRegister".into(),
                    number: 1,
                    trigger: Trigger::Auto,
                    response_status: Some(200),
                    error: None,
                    success: true,
                    started_at: 0,
                    duration_ms: 1,
                },
                url: "https://example.com".into(),
                request_headers: sent(ua),
                request_body: "{}".into(),
                response_headers: Some(vec![("x-echo".into(), "visible".into())]),
                response_body: Some("ok".into()),
                response_body_truncated: false,
            }],
        };
        let viewer = delivery_for(&actor(Role::Viewer), delivery("Hookline/0.1.0"));
        let mut expected = sent("Hookline/0.1.0");
        expected[2].1 = SECRET_MASK.to_owned();
        assert_eq!(viewer.attempts[0].request_headers, expected);
        assert_eq!(
            viewer.attempts[0].response_headers,
            Some(vec![("x-echo".to_owned(), "visible".to_owned())])
        );
        // A user-agent the hook set is one of its custom headers.
        let custom = delivery_for(&actor(Role::Viewer), delivery("Acme token=1"));
        assert_eq!(custom.attempts[0].request_headers[0].1, SECRET_MASK);
        let admin = delivery_for(&actor(Role::Admin), delivery("Acme token=1"));
        assert_eq!(admin, delivery("Acme token=1"));
    }
}
