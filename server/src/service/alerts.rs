//! Alerts: where they go and when a hook counts as failing or lagging
//! (kept in the `settings` table), the hook that carries them, and the
//! watch that opens and resolves incidents, each with its alert (README,
//! "Alerts").
//!
//! The alerts hook is a real hook listening to the operational events, so
//! alerts are signed, retried, logged and resent like any delivery. No
//! incident is ever about it: alerts never go to themselves.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use domain::alert::{
    AlertSettings, AlertSettingsInput, Incident, IncidentKind, IncidentQuery, OPERATIONAL_EVENTS,
};
use domain::hook::Headers;
use domain::ids::{HookId, IncidentId};
use domain::key_ring::{KeyRing, SignatureScheme};
use domain::ports::{Actor, AlertPort, SECRET_MASK};
use domain::time::format_age;
use domain::{AppError, ErrorCode};
use serde_json::{json, Value};

use super::secrets::new_signing_key;
use super::Service;
use crate::clock::{now_ms, rfc3339_ms as iso};
use crate::ids::new_id;
use crate::store::{HookRow, IncidentRow, NewEvent, NewIncident, StoreResult, TroubledHook};

/// Where the settings are kept in the `settings` table (as JSON).
const ALERTS_KEY: &str = "alerts";

/// The alerts hook's name in the console.
pub const ALERTS_HOOK_NAME: &str = "Hookline alerts";

/// How far back each look reads deliveries that ended failed, beyond the
/// previous look: a settlement is stamped before its group commit lands.
const LATE_COMMIT_MS: i64 = 60_000;

#[async_trait]
impl AlertPort for Service {
    /// Everyone may read them; the URL (a Slack webhook's is a secret) only
    /// admins, others get its origin.
    async fn alert_settings(&self, actor: &Actor) -> Result<Option<AlertSettings>, AppError> {
        Ok(self.saved_alerts().await?.map(|mut settings| {
            if !actor.sees_secrets() {
                settings.rules.url = masked_url(&settings.rules.url);
            }
            settings
        }))
    }

    async fn save_alert_settings(
        &self,
        actor: &Actor,
        input: AlertSettingsInput,
    ) -> Result<AlertSettings, AppError> {
        actor.require_write()?;
        let rules = input.validated()?.into_inner();
        let now = now_ms();
        let hook_id = match self.saved_alerts().await? {
            Some(saved) => saved.hook_id,
            None => new_id(),
        };
        let hook = HookRow {
            id: hook_id.clone(),
            name: ALERTS_HOOK_NAME.to_owned(),
            events: OPERATIONAL_EVENTS.map(str::to_owned).to_vec(),
            url: rules.url.clone(),
            headers: Headers::default(),
            enabled: true,
            disabled_reason: None,
            keys: KeyRing::new(new_signing_key(SignatureScheme::Hmac)),
            filter: None,
            policy: Default::default(),
            body_format: rules.format,
            created_at: now,
            updated_at: now,
        };
        let settings = AlertSettings { rules, hook_id };
        let saved = serde_json::to_string(&settings).map_err(|_| AppError::internal())?;
        self.store
            .save_alerts_hook(&hook, ALERTS_KEY, &saved)
            .await?;
        Ok(settings)
    }

    async fn remove_alert_settings(&self, actor: &Actor) -> Result<(), AppError> {
        actor.require_write()?;
        let saved = self
            .saved_alerts()
            .await?
            .ok_or_else(|| AppError::not_found("alert settings"))?;
        self.store
            .remove_alerts_hook(&saved.hook_id, ALERTS_KEY)
            .await?;
        Ok(())
    }

    async fn incidents(
        &self,
        _actor: &Actor,
        query: IncidentQuery,
    ) -> Result<Vec<Incident>, AppError> {
        let filter = query.parse()?;
        self.store
            .incidents(&filter)
            .await?
            .into_iter()
            .map(IncidentRow::into_incident)
            .collect()
    }
}

/// `https://hooks.slack.com/…` for `https://hooks.slack.com/services/T/B/X`.
fn masked_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(parsed) => format!("{}/{SECRET_MASK}", parsed.origin().ascii_serialization()),
        Err(_) => SECRET_MASK.to_owned(),
    }
}

impl Service {
    async fn saved_alerts(&self) -> StoreResult<Option<AlertSettings>> {
        Ok(self
            .store
            .setting(ALERTS_KEY)
            .await?
            .and_then(|saved| match serde_json::from_str(&saved) {
                Ok(settings) => Some(settings),
                Err(err) => {
                    tracing::error!(error = %err, "the saved alert settings do not parse; alerts are off");
                    None
                }
            }))
    }

    /// How long a delivery may wait before its hook counts as lagging (ms):
    /// the alert settings' rule, or its default while alerts are off.
    pub(super) async fn lag_threshold_ms(&self) -> StoreResult<i64> {
        Ok(self
            .saved_alerts()
            .await?
            .map_or_else(AlertSettingsInput::defaults, |saved| saved.rules)
            .lag_threshold_ms())
    }

    /// Refuses changes to the alerts hook other than through its settings.
    pub(super) async fn refuse_alerts_hook(&self, id: &HookId) -> Result<(), AppError> {
        match self.saved_alerts().await? {
            Some(saved) if &saved.hook_id == id => Err(AppError::new(
                ErrorCode::Conflict,
                "this hook carries Hookline's alerts: change it with PUT /api/settings/alerts \
                 (Settings → Alerts), remove it with DELETE /api/settings/alerts",
            )),
            _ => Ok(()),
        }
    }

    /// One look of the alert watch: opens the incidents that began and
    /// resolves those that ended, each with its alert. `read_from` is when
    /// the previous look began (unix ms); it moves to when this one did.
    /// Returns how many alerts this look stored.
    pub async fn watch_incidents(&self, read_from: &mut i64) -> StoreResult<usize> {
        let now = now_ms();
        let since = std::mem::replace(read_from, now);
        let Some(settings) = self.saved_alerts().await? else {
            return Ok(0);
        };
        let except = &settings.hook_id;
        let open = self.store.open_incidents().await?;
        let is_open = |hook: &HookId, kind: IncidentKind| {
            open.iter()
                .any(|incident| &incident.hook_id == hook && incident.kind() == Some(kind))
        };
        let mut raised = 0;

        let failing = self.failing_hooks(&settings, now).await?;
        for (hook, reason) in &failing {
            if !is_open(&hook.id, IncidentKind::Failing) {
                raised += usize::from(
                    self.open(IncidentKind::Failing, hook, reason, None, now)
                        .await?,
                );
            }
        }
        for hook in self.store.hooks_disabled_by_dispatcher(except).await? {
            if !is_open(&hook.id, IncidentKind::Disabled) {
                let reason = hook.reason.clone().unwrap_or_default();
                raised += usize::from(
                    self.open(IncidentKind::Disabled, &hook, &reason, None, now)
                        .await?,
                );
            }
        }
        let exhausted = self
            .store
            .exhausted_deliveries(since - LATE_COMMIT_MS, now, except)
            .await?;
        let mut seen = HashSet::new();
        for delivery in exhausted {
            if is_open(&delivery.hook_id, IncidentKind::Exhausted)
                || !seen.insert(delivery.hook_id.clone())
            {
                continue;
            }
            let hook = TroubledHook {
                id: delivery.hook_id.clone(),
                name: delivery.hook_name.clone(),
                url: delivery.hook_url.clone(),
                reason: None,
            };
            let reason = format!(
                "A {} delivery ran out of retries after {} attempt{}",
                delivery.event,
                delivery.attempt_count,
                if delivery.attempt_count == 1 { "" } else { "s" }
            );
            let details = json!({
                "delivery": {
                    "id": delivery.id,
                    "eventId": delivery.event_id,
                    "event": delivery.event,
                    "attempts": delivery.attempt_count,
                },
            });
            raised += usize::from(
                self.open(IncidentKind::Exhausted, &hook, &reason, Some(details), now)
                    .await?,
            );
        }

        // Lagging: a delivery has waited longer than the rule allows. Not
        // said of a hook failing by the rules or disabled (its wait is their
        // doing, and they were told); a backlog still too old once it
        // recovers or is enabled is said then.
        let lag_ms = settings.rules.lag_threshold_ms();
        let waiting_long = self.store.hooks_waiting_since(now - lag_ms).await?;
        let still_failing: HashSet<&HookId> = failing.iter().map(|(hook, _)| &hook.id).collect();
        for hook in &waiting_long {
            if !hook.enabled
                || &hook.id == except
                || still_failing.contains(&hook.id)
                || is_open(&hook.id, IncidentKind::Lagging)
            {
                continue;
            }
            let age_ms = now - hook.oldest_waiting_at;
            let reason = format!(
                "A delivery has waited {}, more than the {} min allowed",
                format_age(age_ms),
                settings.rules.lag_minutes
            );
            let details = json!({
                "lag": {
                    "oldestWaitingAt": iso(hook.oldest_waiting_at),
                    "ageMs": age_ms,
                    "lagMinutes": settings.rules.lag_minutes,
                },
            });
            let troubled = TroubledHook {
                id: hook.id.clone(),
                name: hook.name.clone(),
                url: hook.url.clone(),
                reason: None,
            };
            raised += usize::from(
                self.open(
                    IncidentKind::Lagging,
                    &troubled,
                    &reason,
                    Some(details),
                    now,
                )
                .await?,
            );
        }

        // Over when the hook answers again: enabled, a success since the
        // incident opened, and not below the success rate; lagging once
        // nothing has waited longer than the rule allows.
        let still_lagging: HashSet<&HookId> = waiting_long.iter().map(|hook| &hook.id).collect();
        let mut ended: HashMap<&HookId, Vec<&IncidentRow>> = HashMap::new();
        for incident in &open {
            let over = match incident.kind() {
                Some(IncidentKind::Failing | IncidentKind::Exhausted) => {
                    incident.hook_enabled
                        && incident.answered_since
                        && !still_failing.contains(&incident.hook_id)
                }
                Some(IncidentKind::Lagging) => !still_lagging.contains(&incident.hook_id),
                // An admin enabled it again: over, without an alert.
                Some(IncidentKind::Disabled) => incident.hook_enabled,
                None => false,
            };
            if over {
                ended.entry(&incident.hook_id).or_default().push(incident);
            }
        }
        for incidents in ended.values() {
            let (recovered, quiet): (Vec<&IncidentRow>, Vec<&IncidentRow>) = incidents
                .iter()
                .partition(|incident| incident.kind() != Some(IncidentKind::Disabled));
            if !quiet.is_empty() {
                let ids: Vec<&IncidentId> = quiet.iter().map(|incident| &incident.id).collect();
                self.store.resolve_incidents(&ids, now, None).await?;
            }
            if let Some(first) = recovered.iter().min_by_key(|incident| incident.opened_at) {
                let ids: Vec<&IncidentId> = recovered.iter().map(|incident| &incident.id).collect();
                let alert = recovered_alert(first, &settings.rules, now);
                raised += usize::from(
                    self.store
                        .resolve_incidents(&ids, now, Some(&alert))
                        .await?,
                );
            }
        }
        Ok(raised)
    }

    /// The hooks failing now by the rules, each with why.
    async fn failing_hooks(
        &self,
        settings: &AlertSettings,
        now: i64,
    ) -> StoreResult<Vec<(TroubledHook, String)>> {
        let rules = &settings.rules;
        let n = rules.consecutive_failures;
        let mut failing: Vec<(TroubledHook, String)> = self
            .store
            .hooks_failing_in_a_row(n, &settings.hook_id)
            .await?
            .into_iter()
            .map(|hook| (hook, format!("{n} attempts in a row failed")))
            .collect();
        if let Some(percent) = rules.success_rate_below {
            let window_ms = i64::from(rules.window_minutes) * 60_000;
            let from = now - window_ms;
            let below = self
                .store
                .hooks_below_success_rate(
                    from - from.rem_euclid(60_000),
                    rules.min_attempts,
                    percent,
                    &settings.hook_id,
                )
                .await?;
            for (hook, requests, successes) in below {
                if failing.iter().all(|(known, _)| known.id != hook.id) {
                    let reason = format!(
                        "{successes} of {requests} attempts succeeded over the last {} minutes, \
                         below {percent} %",
                        rules.window_minutes
                    );
                    failing.push((hook, reason));
                }
            }
        }
        Ok(failing)
    }

    /// Opens an incident of `kind` for `hook` with its alert, whose payload
    /// gets the fields of `details` (`delivery` for an exhausted one, `lag`
    /// for a lagging one); false if one was open already.
    async fn open(
        &self,
        kind: IncidentKind,
        hook: &TroubledHook,
        reason: &str,
        details: Option<Value>,
        now: i64,
    ) -> StoreResult<bool> {
        let incident = NewIncident {
            id: new_id(),
            hook_id: hook.id.clone(),
            kind,
            reason: reason.to_owned(),
            delivery_id: details
                .as_ref()
                .and_then(|d| d["delivery"]["id"].as_str())
                .map(Into::into),
            opened_at: now,
        };
        let text = match kind {
            IncidentKind::Failing => {
                format!("⚠️ Hookline: hook “{}” is failing: {reason}.", hook.name)
            }
            IncidentKind::Disabled => {
                format!("⛔ Hookline: hook “{}” was disabled: {reason}.", hook.name)
            }
            IncidentKind::Exhausted => format!("⚠️ Hookline: hook “{}”: {reason}.", hook.name),
            IncidentKind::Lagging => {
                format!("🐢 Hookline: hook “{}” is lagging: {reason}.", hook.name)
            }
        };
        let mut fields = json!({
            "incident": { "id": incident.id, "kind": kind, "openedAt": iso(now) },
            "hook": { "id": hook.id, "name": hook.name, "url": hook.url },
            "reason": reason,
            "text": text,
        });
        if let Some(Value::Object(details)) = details {
            for (name, value) in details {
                fields[name] = value;
            }
        }
        let alert = alert_event(kind.event(), &fields, now);
        if self.store.open_incident(&incident, &alert).await? {
            tracing::warn!(hook = %hook.id, kind = kind.as_str(), reason, "incident opened");
            return Ok(true);
        }
        Ok(false)
    }
}

/// `hook.recovered`, for the incidents of one hook that ended (`first`, the
/// oldest, named, and the reason its end).
fn recovered_alert(first: &IncidentRow, rules: &AlertSettingsInput, now: i64) -> NewEvent {
    let reason = match first.kind() {
        Some(IncidentKind::Lagging) => format!(
            "No delivery has waited more than {} min any more",
            rules.lag_minutes
        ),
        _ => "An attempt succeeded again".to_owned(),
    };
    let fields = json!({
        "incident": {
            "id": first.id,
            "kind": first.kind,
            "openedAt": iso(first.opened_at),
            "resolvedAt": iso(now),
        },
        "hook": { "id": first.hook_id, "name": first.hook_name, "url": first.hook_url },
        "reason": reason,
        "text": format!(
            "✅ Hookline: hook “{}” recovered (in trouble since {}).",
            first.hook_name,
            iso(first.opened_at)
        ),
    });
    alert_event("hook.recovered", &fields, now)
}

fn alert_event(name: &str, fields: &Value, now: i64) -> NewEvent {
    NewEvent {
        id: new_id(),
        name: name.to_owned(),
        payload: fields.to_string(),
        created_at: now,
        trace_parent: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn viewers_see_only_the_origin_of_the_alerts_url() {
        assert_eq!(
            masked_url("https://hooks.slack.com/services/T0/B0/secret"),
            format!("https://hooks.slack.com/{SECRET_MASK}")
        );
        assert_eq!(masked_url("not a url"), SECRET_MASK);
    }
}
