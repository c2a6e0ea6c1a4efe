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
use crate::dispatcher::signer::ed25519_public_key;
use crate::ids::new_id;
use crate::store::HookRow;
use domain::key_ring::{SignatureScheme, SigningKey};

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
        let key = new_signing_key(input.signature_scheme.unwrap_or_default());
        let row = HookRow::new(new_id(), input, key, now);
        self.store.insert_hook(&row).await?;
        Ok(present(actor, row.into_hook(), KeyShown::New))
    }

    /// A change of `signatureScheme` rotates into a new key of that scheme
    /// in the same statement as the other fields, and the answer carries it.
    async fn update_hook(
        &self,
        actor: &Actor,
        id: &HookId,
        input: HookPatch,
    ) -> Result<Hook, AppError> {
        actor.require_write()?;
        self.refuse_alerts_hook(id).await?;
        let patch = input.validated(&self.custom_event_names().await?)?;
        let now = now_ms();
        let new_key = patch.signature_scheme.map(new_signing_key);
        let rotation = new_key
            .as_ref()
            .map(|key| (key, self.previous_key_expires_at(now)));
        let row = self
            .store
            .patch_hook(id, &patch, rotation, now)
            .await?
            .ok_or_else(|| AppError::not_found("hook"))?;
        let rotated = new_key.as_ref() == Some(row.keys.current());
        let shown = if rotated {
            KeyShown::New
        } else {
            KeyShown::Stored
        };
        Ok(present(actor, row.into_hook(), shown))
    }

    async fn delete_hook(&self, actor: &Actor, id: &HookId) -> Result<(), AppError> {
        actor.require_write()?;
        self.refuse_alerts_hook(id).await?;
        if self.store.delete_hook(id).await? {
            Ok(())
        } else {
            Err(AppError::not_found("hook"))
        }
    }

    /// A new signing key of the hook's scheme; the old one stays valid for
    /// the overlap window.
    async fn rotate_signing_key(&self, actor: &Actor, id: &HookId) -> Result<Hook, AppError> {
        actor.require_write()?;
        let now = now_ms();
        let scheme = self
            .store
            .hook(id)
            .await?
            .ok_or_else(|| AppError::not_found("hook"))?
            .keys
            .current()
            .scheme();
        self.store
            .rotate_signing_key(
                id,
                &new_signing_key(scheme),
                self.previous_key_expires_at(now),
                now,
            )
            .await?
            .map(|row| present(actor, row.into_hook(), KeyShown::New))
            .ok_or_else(|| AppError::not_found("hook"))
    }
}

impl Service {
    /// Until when a key replaced at `now` keeps signing.
    fn previous_key_expires_at(&self, now: i64) -> i64 {
        let overlap = self.dispatcher.settings().key_rotation_overlap;
        now + overlap.as_millis() as i64
    }

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

/// Which answer carries a hook: one that made its key (create, rotate, a
/// change of scheme) or any other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyShown {
    New,
    Stored,
}

/// The hook as `actor` may see it, with an Ed25519 hook's public key. A
/// caller who may not read secrets (a viewer) gets [`SECRET_MASK`] for an
/// HMAC key and for every custom header value (header names stay). An
/// Ed25519 secret key is shown once, to admins, in the answer that made it;
/// receivers need only the public key. Every answer that carries a hook
/// passes here, for the REST API and the console alike.
pub(crate) fn present(actor: &Actor, mut hook: Hook, shown: KeyShown) -> Hook {
    let secret = hook.signing_key.take().map(SigningKey::new);
    hook.public_key = secret.as_ref().and_then(ed25519_public_key);
    hook.signing_key = match (hook.signature_scheme, actor.sees_secrets()) {
        (SignatureScheme::Hmac, true) => secret.map(|key| key.expose().to_owned()),
        (SignatureScheme::Hmac, false) => Some(SECRET_MASK.to_owned()),
        (SignatureScheme::Ed25519, true) if shown == KeyShown::New => {
            secret.map(|key| key.expose().to_owned())
        }
        (SignatureScheme::Ed25519, _) => None,
    };
    if !actor.sees_secrets() {
        for (_, value) in &mut hook.config.headers.0 {
            *value = SECRET_MASK.to_owned();
        }
    }
    hook
}

/// The hook as `actor` may see it in an answer that did not make its key.
pub(crate) fn hook_for(actor: &Actor, hook: Hook) -> Hook {
    present(actor, hook, KeyShown::Stored)
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
            signature_scheme: SignatureScheme::Hmac,
            signing_key: Some("k".repeat(32)),
            public_key: None,
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
        assert_eq!(masked.signing_key.as_deref(), Some(SECRET_MASK));
        assert_eq!(
            masked.config.headers.0,
            vec![("X-Api-Key".to_owned(), SECRET_MASK.to_owned())]
        );
        assert_eq!(masked.config.url, "https://example.com");
        assert_eq!(hook_for(&actor(Role::Admin), hook()), hook());
    }

    #[test]
    fn an_ed25519_secret_key_is_shown_once_to_admins_its_public_key_to_all() {
        let secret = crate::dispatcher::signer::new_ed25519_key();
        let ed25519 = Hook {
            signature_scheme: SignatureScheme::Ed25519,
            signing_key: Some(secret.expose().to_owned()),
            ..hook()
        };
        let public = ed25519_public_key(&secret);
        assert!(public
            .as_deref()
            .is_some_and(|key| key.starts_with("whpk_")));
        for (role, shown, key) in [
            (Role::Admin, KeyShown::New, Some(secret.expose())),
            (Role::Admin, KeyShown::Stored, None),
            (Role::Viewer, KeyShown::New, None),
            (Role::Viewer, KeyShown::Stored, None),
        ] {
            let seen = present(&actor(role), ed25519.clone(), shown);
            assert_eq!(seen.signing_key.as_deref(), key, "{role:?} {shown:?}");
            assert_eq!(seen.public_key, public, "{role:?} {shown:?}");
        }
        // An HMAC hook has no public key.
        assert_eq!(hook_for(&actor(Role::Admin), hook()).public_key, None);
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
            trace_id: None,
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
