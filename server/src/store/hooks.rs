use domain::ids::HookId;
use std::collections::HashMap;
use std::mem::discriminant;

use domain::alert::AlertFormat;
use domain::filter::Filter;
use domain::hook::{Headers, Hook, HookConfig, HookPatch, NewHook};
use domain::key_ring::{KeyRing, SignatureScheme, SigningKey, ED25519_SECRET_PREFIX};
use domain::policy::{DeliveryPolicy, RateLimit, RequestTimeout, RetrySchedule};
use domain::Valid;
use sqlx::QueryBuilder;

use super::{on_backend, JsonText, Store, StoreResult, Tx};

/// What an attempt says about its hook's health, as written to the hook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HealthChange {
    /// A success: the hook is healthy again.
    Answered,
    /// A failure; if the hook has failed without a break since
    /// `disable_if_failing_since` or earlier, disable it for `reason`.
    Failing {
        disable_if_failing_since: i64,
        reason: String,
    },
    /// Switch the hook off at once, for this reason (a `410 Gone`).
    Disable(String),
}

/// A hook as the dispatcher sends to it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct HookTarget {
    pub id: HookId,
    pub enabled: bool,
    pub url: String,
    #[sqlx(try_from = "JsonText<Headers>")]
    pub headers: Headers,
    #[sqlx(flatten, try_from = "KeyColumns")]
    pub keys: KeyRing,
    /// Which events' bodies it gets; checked at ingestion.
    pub filter: Option<JsonText<Filter>>,
    #[sqlx(flatten, try_from = "PolicyColumns")]
    pub policy: DeliveryPolicy,
    /// Hookline's body, or Slack's `{"text": …}` (the alerts hook's choice).
    #[sqlx(try_from = "String")]
    pub body_format: AlertFormat,
}

/// A hook's delivery policy as its columns hold it.
#[derive(sqlx::FromRow)]
struct PolicyColumns {
    ordered: bool,
    rate_limit: Option<JsonText<RateLimit>>,
    retry_schedule: Option<JsonText<RetrySchedule>>,
    request_timeout_ms: Option<i64>,
}

impl TryFrom<PolicyColumns> for DeliveryPolicy {
    type Error = domain::AppError;

    fn try_from(columns: PolicyColumns) -> Result<Self, Self::Error> {
        let request_timeout = columns
            .request_timeout_ms
            .map(|ms| RequestTimeout::new(std::time::Duration::from_millis(ms.max(0) as u64)))
            .transpose()?;
        Ok(DeliveryPolicy {
            ordered: columns.ordered,
            rate_limit: columns.rate_limit.map(|limit| limit.0),
            retry_schedule: columns.retry_schedule.map(|schedule| schedule.0),
            request_timeout,
        })
    }
}

/// The request timeout as its column holds it.
fn timeout_ms(timeout: &RequestTimeout) -> i64 {
    timeout.duration().as_millis() as i64
}

/// A hook's keys as its columns hold them; read into a [`KeyRing`] here only.
#[derive(sqlx::FromRow)]
struct KeyColumns {
    signing_key: String,
    previous_signing_key: Option<String>,
    previous_key_expires_at: Option<i64>,
}

impl From<KeyColumns> for KeyRing {
    fn from(columns: KeyColumns) -> Self {
        KeyRing::from_parts(
            SigningKey::new(columns.signing_key),
            columns.previous_signing_key.map(SigningKey::new),
            columns.previous_key_expires_at,
        )
    }
}

/// The columns of a [`HookTarget`].
pub(super) const TARGET_COLUMNS: &str =
    "id, enabled, url, headers, signing_key, previous_signing_key,
     previous_key_expires_at, filter, ordered, rate_limit, retry_schedule,
     request_timeout_ms, body_format";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HookRow {
    pub id: HookId,
    pub name: String,
    #[sqlx(try_from = "JsonText<Vec<String>>")]
    pub events: Vec<String>,
    pub url: String,
    #[sqlx(try_from = "JsonText<Headers>")]
    pub headers: Headers,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    #[sqlx(flatten, try_from = "KeyColumns")]
    pub keys: KeyRing,
    pub filter: Option<JsonText<Filter>>,
    #[sqlx(flatten, try_from = "PolicyColumns")]
    pub policy: DeliveryPolicy,
    #[sqlx(try_from = "String")]
    pub body_format: AlertFormat,
    pub created_at: i64,
    pub updated_at: i64,
}

impl HookRow {
    /// A new hook's row: enabled as asked, no rotation under way.
    pub fn new(id: HookId, hook: Valid<NewHook>, signing_key: SigningKey, now: i64) -> HookRow {
        let hook = hook.into_inner();
        HookRow {
            id,
            name: hook.name,
            events: hook.events,
            url: hook.config.url,
            headers: hook.config.headers,
            enabled: hook.enabled.unwrap_or(true),
            disabled_reason: None,
            keys: KeyRing::new(signing_key),
            filter: hook.filter.map(JsonText),
            policy: hook.policy,
            body_format: AlertFormat::Json,
            created_at: now,
            updated_at: now,
        }
    }

    pub fn into_hook(self) -> Hook {
        Hook {
            id: self.id,
            name: self.name,
            events: self.events,
            config: HookConfig {
                url: self.url,
                headers: self.headers,
            },
            signature_scheme: self.keys.current().scheme(),
            signing_key: Some(self.keys.current().expose().to_owned()),
            public_key: None,
            enabled: self.enabled,
            disabled_reason: self.disabled_reason,
            filter: self.filter.map(|filter| filter.0),
            policy: self.policy,
            created_at: self.created_at,
            updated_at: self.updated_at,
            execution_stats: None,
        }
    }
}

impl Store {
    pub async fn insert_hook(&self, row: &HookRow) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        insert_hook_in(&mut tx, row).await?;
        tx.commit().await
    }

    /// Saves the alerts hook and the alert settings (`settings` under
    /// `settings_key`) together: the hook `row.id` names gets `row`'s URL,
    /// body format and events (this version's operational ones) and is
    /// enabled again, or `row` is inserted.
    pub async fn save_alerts_hook(
        &self,
        row: &HookRow,
        settings_key: &str,
        settings: &str,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let updated = on_backend!(&mut tx, tx => sqlx::query(
            "UPDATE hooks SET url = $1, body_format = $2, enabled = TRUE, disabled_reason = NULL,
                 updated_at = $3, events = $5
             WHERE id = $4",
        )
        .bind(&row.url)
        .bind(row.body_format.as_str())
        .bind(row.updated_at)
        .bind(&row.id)
        // The operational events of this version, which may have more.
        .bind(JsonText(&row.events))
        .execute(&mut **tx)
        .await
        .map(|done| done.rows_affected()))?;
        if updated == 0 {
            insert_hook_in(&mut tx, row).await?;
        }
        super::settings::set_setting_in(&mut tx, settings_key, Some(settings), row.updated_at)
            .await?;
        tx.commit().await
    }

    /// Removes the alert settings under `settings_key` and their hook, with its log.
    pub async fn remove_alerts_hook(&self, id: &HookId, settings_key: &str) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        super::settings::set_setting_in(&mut tx, settings_key, None, 0).await?;
        on_backend!(&mut tx, tx => sqlx::query("DELETE FROM hooks WHERE id = $1")
            .bind(id)
            .execute(&mut **tx)
            .await
            .map(|done| done.rows_affected()))?;
        tx.commit().await
    }

    /// Changes the fields `patch` sets, in one statement so concurrent changes
    /// never undo each other; `None` if the hook is gone. Enabling clears the
    /// disabled reason.
    /// Applies the fields given; with `rotation`, `(new key, until when
    /// the current one keeps signing)`, the key is replaced too unless it
    /// is already of the new key's scheme: a change of scheme, in the same
    /// statement.
    pub async fn patch_hook(
        &self,
        id: &HookId,
        patch: &Valid<HookPatch>,
        rotation: Option<(&SigningKey, i64)>,
        now: i64,
    ) -> StoreResult<Option<HookRow>> {
        let config = patch.config.as_ref();
        let policy = &patch.policy;
        // The stored key's scheme differs from the new key's (by the
        // `whsk_` prefix of Ed25519 keys; every right side reads the old row).
        let switch = format!(
            "($18 AND (substr(signing_key, 1, {len}) = '{ED25519_SECRET_PREFIX}') <> $19)",
            len = ED25519_SECRET_PREFIX.len()
        );
        let sql = format!(
            "UPDATE hooks SET
                name = COALESCE($1, name),
                events = COALESCE($2, events),
                url = COALESCE($3, url),
                headers = COALESCE($4, headers),
                enabled = COALESCE($5, enabled),
                disabled_reason = CASE WHEN $6 THEN NULL ELSE disabled_reason END,
                updated_at = $7,
                filter = CASE WHEN $9 THEN $10 ELSE filter END,
                ordered = COALESCE($11, ordered),
                rate_limit = CASE WHEN $12 THEN $13 ELSE rate_limit END,
                retry_schedule = CASE WHEN $14 THEN $15 ELSE retry_schedule END,
                request_timeout_ms = CASE WHEN $16 THEN $17 ELSE request_timeout_ms END,
                previous_signing_key =
                    CASE WHEN {switch} THEN signing_key ELSE previous_signing_key END,
                previous_key_expires_at =
                    CASE WHEN {switch} THEN $21 ELSE previous_key_expires_at END,
                signing_key = CASE WHEN {switch} THEN $20 ELSE signing_key END
             WHERE id = $8
             RETURNING *"
        );
        Ok(on_backend!(&self.writer, pool => sqlx::query_as(&sql)
        .bind(&patch.name)
        .bind(patch.events.as_ref().map(JsonText))
        .bind(config.map(|c| &c.url))
        .bind(config.map(|c| JsonText(&c.headers)))
        .bind(patch.enabled)
        .bind(patch.enabled == Some(true))
        .bind(now)
        .bind(id)
        .bind(patch.filter.is_some())
        .bind(patch.filter.as_ref().and_then(Option::as_ref).map(JsonText))
        .bind(policy.ordered)
        .bind(policy.rate_limit.is_some())
        .bind(policy.rate_limit.flatten().map(JsonText))
        .bind(policy.retry_schedule.is_some())
        .bind(policy.retry_schedule.as_ref().and_then(Option::as_ref).map(JsonText))
        .bind(policy.request_timeout.is_some())
        .bind(policy.request_timeout.flatten().as_ref().map(timeout_ms))
        .bind(rotation.is_some())
        .bind(rotation.is_some_and(|(key, _)| key.scheme() == SignatureScheme::Ed25519))
        .bind(rotation.map(|(key, _)| key.expose()))
        .bind(rotation.map(|(_, expires_at)| expires_at))
        .fetch_optional(pool)
        .await)?)
    }

    /// Replaces the signing key, keeping the old one until `previous_expires_at`.
    pub async fn rotate_signing_key(
        &self,
        id: &HookId,
        new_key: &SigningKey,
        previous_expires_at: i64,
        now: i64,
    ) -> StoreResult<Option<HookRow>> {
        Ok(on_backend!(&self.writer, pool => sqlx::query_as(
            "UPDATE hooks SET previous_signing_key = signing_key, signing_key = $1,
                              previous_key_expires_at = $2, updated_at = $3
             WHERE id = $4
             RETURNING *",
        )
        .bind(new_key.expose())
        .bind(previous_expires_at)
        .bind(now)
        .bind(id)
        .fetch_optional(pool)
        .await)?)
    }

    pub async fn hook(&self, id: &HookId) -> StoreResult<Option<HookRow>> {
        Ok(
            on_backend!(&self.pool, pool => sqlx::query_as("SELECT * FROM hooks WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await)?,
        )
    }

    /// Every hook, newest first.
    pub async fn list_hooks(&self) -> StoreResult<Vec<HookRow>> {
        Ok(
            on_backend!(&self.pool, pool => sqlx::query_as("SELECT * FROM hooks ORDER BY created_at DESC, id")
            .fetch_all(pool)
            .await)?,
        )
    }

    pub async fn delete_hook(&self, id: &HookId) -> StoreResult<bool> {
        let deleted = on_backend!(&self.writer, pool => sqlx::query("DELETE FROM hooks WHERE id = $1")
            .bind(id)
            .execute(pool)
            .await?
            .rows_affected());
        Ok(deleted == 1)
    }

    /// The hooks among `ids` that still exist, as the dispatcher sends to them.
    pub async fn hook_targets(&self, ids: &[HookId]) -> StoreResult<Vec<HookTarget>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        on_backend!(&self.pool, pool => {
            let mut query = QueryBuilder::new(format!("SELECT {TARGET_COLUMNS} FROM hooks WHERE id IN ("));
            let mut list = query.separated(", ");
            for id in ids {
                list.push_bind(id);
            }
            query.push(")");
            Ok(query.build_query_as().fetch_all(pool).await?)
        })
    }
}

/// Inserts `row` within `tx`.
async fn insert_hook_in(tx: &mut Tx<'_>, row: &HookRow) -> StoreResult<()> {
    let previous = row.keys.previous();
    on_backend!(tx, tx => sqlx::query(
            "INSERT INTO hooks (id, name, events, url, headers, enabled, disabled_reason, signing_key,
                                previous_signing_key, previous_key_expires_at, created_at, updated_at,
                                filter, ordered, rate_limit, retry_schedule, request_timeout_ms,
                                body_format)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
                     $18)",
        )
        .bind(&row.id)
        .bind(&row.name)
        .bind(JsonText(&row.events))
        .bind(&row.url)
        .bind(JsonText(&row.headers))
        .bind(row.enabled)
        .bind(&row.disabled_reason)
        .bind(row.keys.current().expose())
        .bind(previous.map(|(key, _)| key.expose()))
        .bind(previous.map(|(_, expires_at)| expires_at))
        .bind(row.created_at)
        .bind(row.updated_at)
        .bind(&row.filter)
        .bind(row.policy.ordered)
        .bind(row.policy.rate_limit.as_ref().map(JsonText))
        .bind(row.policy.retry_schedule.as_ref().map(JsonText))
        .bind(row.policy.request_timeout.as_ref().map(timeout_ms))
        .bind(row.body_format.as_str())
        .execute(&mut **tx)
        .await
        .map(|done| done.rows_affected()))?;
    Ok(())
}

/// Applies `changes` (each hook's in the order they happened) within `tx`.
pub(super) async fn apply_health_changes<'a>(
    tx: &mut Tx<'_>,
    changes: impl Iterator<Item = (&'a str, &'a HealthChange)>,
    now: i64,
) -> StoreResult<()> {
    for (hook_id, change) in changes_to_apply(changes) {
        apply_health_change(tx, hook_id, change, now).await?;
    }
    Ok(())
}

/// The changes worth applying, per hook in order, sorted by hook (so
/// recorders of several instances lock hooks in the same order). Of a run of
/// one kind for a hook only the last counts: it has the effect of them all.
fn changes_to_apply<'a>(
    changes: impl Iterator<Item = (&'a str, &'a HealthChange)>,
) -> Vec<(&'a str, &'a HealthChange)> {
    let mut kept: Vec<(&str, &HealthChange)> = Vec::new();
    let mut latest: HashMap<&str, usize> = HashMap::new();
    for (hook, change) in changes {
        match latest.get(hook) {
            Some(&index) if discriminant(kept[index].1) == discriminant(change) => {
                kept[index].1 = change;
            }
            _ => {
                latest.insert(hook, kept.len());
                kept.push((hook, change));
            }
        }
    }
    kept.sort_by_key(|(hook, _)| *hook);
    kept
}

async fn apply_health_change(
    tx: &mut Tx<'_>,
    hook_id: &str,
    change: &HealthChange,
    now: i64,
) -> StoreResult<()> {
    match change {
        HealthChange::Answered => {
            on_backend!(tx, tx => sqlx::query(
                "UPDATE hooks SET failing_since = NULL WHERE id = $1 AND failing_since IS NOT NULL",
            )
            .bind(hook_id)
            .execute(&mut **tx)
            .await
            .map(|done| done.rows_affected()))?;
        }
        HealthChange::Failing {
            disable_if_failing_since,
            reason,
        } => {
            on_backend!(tx, tx => sqlx::query(
                "UPDATE hooks SET
                     failing_since = COALESCE(failing_since, $1),
                     disabled_reason = CASE WHEN COALESCE(failing_since, $1) <= $2
                                            THEN $3 ELSE disabled_reason END,
                     enabled = CASE WHEN COALESCE(failing_since, $1) <= $2 THEN FALSE ELSE enabled END,
                     updated_at = CASE WHEN COALESCE(failing_since, $1) <= $2 THEN $1 ELSE updated_at END
                 WHERE id = $4 AND enabled = TRUE",
            )
            .bind(now)
            .bind(disable_if_failing_since)
            .bind(reason)
            .bind(hook_id)
            .execute(&mut **tx)
            .await
            .map(|done| done.rows_affected()))?;
        }
        HealthChange::Disable(reason) => {
            on_backend!(tx, tx => sqlx::query(
                "UPDATE hooks SET enabled = FALSE, disabled_reason = $1, updated_at = $2
                 WHERE id = $3 AND enabled = TRUE",
            )
            .bind(reason)
            .bind(now)
            .bind(hook_id)
            .execute(&mut **tx)
            .await
            .map(|done| done.rows_affected()))?;
        }
    }
    Ok(())
}
