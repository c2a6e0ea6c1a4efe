//! The port between the console's server functions and the server: everything
//! the console can ask for, as traits (one per area) gathered in `Console`. The
//! server's service layer implements them, and its REST API calls the very same
//! methods, so a rule fixed there holds for both front doors.

use async_trait::async_trait;

use std::time::Duration;

use crate::api_key::{ApiKey, CreatedApiKey};
use crate::delivery::{
    Bucket, Delivery, EventRecord, HookTest, HookTestResult, Ingested, LogPage, LogQuery, Recover,
    Recovered,
};
use crate::event_type::{EventTypeInfo, NewEventType};
use crate::hook::{Hook, HookPatch, NewHook};
use crate::ids::{ApiKeyId, DeliveryId, EventId, HookId, UserId};
use crate::settings::RetentionSettings;
use crate::user::{Role, User};
use crate::AppError;

/// Who is calling: a signed-in console user or an API key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub role: Role,
    pub kind: ActorKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActorKind {
    User(User),
    ApiKey { id: ApiKeyId },
}

impl Actor {
    /// Refuses callers who may only read.
    pub fn require_write(&self) -> Result<(), AppError> {
        if self.role.can_write() {
            Ok(())
        } else {
            Err(AppError::forbidden())
        }
    }

    /// Whether the caller may read secrets: hooks' signing keys and custom
    /// header values (admins only). Everyone else gets [`SECRET_MASK`].
    pub fn sees_secrets(&self) -> bool {
        self.role.can_write()
    }
}

/// What a caller who may not read secrets gets in place of a hook's signing
/// key and of each custom header value (names stay visible).
pub const SECRET_MASK: &str = "••••••••";

/// Where callers reach this server, e.g. `https://hookline.example.com`:
/// `--public-url` when set, else `http://` and the request's `Host`. The
/// server puts it in each request's extensions, for absolute URLs it hands
/// out (a source's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicOrigin(pub String);

/// The address a console request came from: the socket's peer, or what a
/// trusted proxy forwarded. The server puts it in each request's extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub std::net::IpAddr);

impl ClientAddr {
    /// The key limits count this client under: an IPv4 address (also when it
    /// arrives mapped into IPv6), or an IPv6 /64, since one host usually
    /// holds a whole /64.
    pub fn key(self) -> std::net::IpAddr {
        use std::net::{IpAddr, Ipv6Addr};
        match self.0.to_canonical() {
            IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !((1u128 << 64) - 1))),
            v4 => v4,
        }
    }
}

/// A new session: the user, the secret token for the session cookie, and when
/// it ends (unix ms).
#[derive(Debug, Clone)]
pub struct NewSession {
    pub user: User,
    pub token: String,
    pub expires_at: i64,
}

/// Sessions, sign-in and the first-run setup.
#[async_trait]
pub trait SessionPort {
    /// The user a session token belongs to, if it is valid and unexpired.
    async fn session_actor(&self, token: &str) -> Result<Option<Actor>, AppError>;
    /// Checks email and password; repeated failures are slowed down.
    /// `client` is the caller's address, for throttling.
    async fn sign_in(
        &self,
        email: &str,
        password: &str,
        client: std::net::IpAddr,
    ) -> Result<NewSession, AppError>;
    async fn sign_out(&self, token: &str) -> Result<(), AppError>;
    /// True while no user exists and the first-run setup page is open.
    async fn setup_required(&self) -> Result<bool, AppError>;
    /// Creates the first admin with the one-time token the server printed.
    async fn complete_setup(
        &self,
        token: &str,
        email: &str,
        password: &str,
    ) -> Result<NewSession, AppError>;
}

/// Console users.
#[async_trait]
pub trait UserPort {
    async fn list_users(&self, actor: &Actor) -> Result<Vec<User>, AppError>;
    async fn create_user(
        &self,
        actor: &Actor,
        email: &str,
        password: &str,
        role: Role,
    ) -> Result<User, AppError>;
    async fn delete_user(&self, actor: &Actor, id: &UserId) -> Result<(), AppError>;
}

/// Hooks.
#[async_trait]
pub trait HookPort {
    async fn list_hooks(&self, actor: &Actor, include_stats: bool) -> Result<Vec<Hook>, AppError>;
    async fn get_hook(
        &self,
        actor: &Actor,
        id: &HookId,
        include_stats: bool,
    ) -> Result<Hook, AppError>;
    async fn create_hook(&self, actor: &Actor, input: NewHook) -> Result<Hook, AppError>;
    async fn update_hook(
        &self,
        actor: &Actor,
        id: &HookId,
        input: HookPatch,
    ) -> Result<Hook, AppError>;
    async fn delete_hook(&self, actor: &Actor, id: &HookId) -> Result<(), AppError>;
    /// A new signing key; the old one stays valid for the overlap window.
    async fn rotate_signing_key(&self, actor: &Actor, id: &HookId) -> Result<Hook, AppError>;
}

/// The answer to an ingested event: `complete` is false when a synchronous
/// wait ran out before every first attempt was logged.
#[derive(Debug, Clone, PartialEq)]
pub struct IngestAnswer {
    pub ingested: Ingested,
    pub complete: bool,
}

/// Events, deliveries and their attempts.
#[async_trait]
pub trait DeliveryPort {
    /// Stores a raw `{event, ...fields}` body and its deliveries; with `wait`,
    /// waits up to that long for each delivery's first attempt.
    async fn ingest_event(
        &self,
        actor: &Actor,
        body: &[u8],
        idempotency_key: Option<&str>,
        wait: Option<Duration>,
    ) -> Result<IngestAnswer, AppError>;
    async fn get_event(&self, actor: &Actor, id: &EventId) -> Result<EventRecord, AppError>;
    async fn get_delivery(&self, actor: &Actor, id: &DeliveryId) -> Result<Delivery, AppError>;
    /// Sends each event's example to the hook (or to `input.config`) now.
    async fn test_hook(
        &self,
        actor: &Actor,
        hook_id: &HookId,
        input: HookTest,
    ) -> Result<HookTestResult, AppError>;
}

/// A hook's request log, and sending again what failed.
#[async_trait]
pub trait LogPort {
    /// One page of a hook's attempts, newest first.
    async fn recent_logs(
        &self,
        actor: &Actor,
        hook_id: &HookId,
        query: LogQuery,
    ) -> Result<LogPage, AppError>;
    /// A hook's requests in `[from, to)`, in `buckets` equal buckets.
    async fn hook_chart(
        &self,
        actor: &Actor,
        hook_id: &HookId,
        from: i64,
        to: i64,
        buckets: i64,
    ) -> Result<Vec<Bucket>, AppError>;
    /// Makes a new attempt of a delivery now, whatever its state.
    async fn resend(&self, actor: &Actor, delivery_id: &DeliveryId) -> Result<(), AppError>;
    /// Gives up on a pending delivery without an attempt (it ends as
    /// failed): what lets an ordered hook's next delivery go.
    async fn skip(&self, actor: &Actor, delivery_id: &DeliveryId) -> Result<(), AppError>;
    /// The delivery an ordered hook waits on, if it waits.
    async fn held_delivery(
        &self,
        actor: &Actor,
        hook_id: &HookId,
    ) -> Result<Option<crate::policy::HeldDelivery>, AppError>;
    /// How long the hook's deliveries wait: its oldest waiting one, and
    /// event age at its recent first attempts.
    async fn hook_lag(
        &self,
        actor: &Actor,
        hook_id: &HookId,
    ) -> Result<crate::lag::HookLag, AppError>;
    /// Resends every failed delivery of a hook in a time range; with
    /// `dry_run`, only counts them.
    async fn recover(
        &self,
        actor: &Actor,
        hook_id: &HookId,
        range: Recover,
        dry_run: bool,
    ) -> Result<Recovered, AppError>;
}

/// The event catalog.
#[async_trait]
pub trait EventTypePort {
    /// Built-in types in catalog order, then custom ones by name.
    async fn list_event_types(&self, actor: &Actor) -> Result<Vec<EventTypeInfo>, AppError>;
    async fn create_event_type(
        &self,
        actor: &Actor,
        input: NewEventType,
    ) -> Result<EventTypeInfo, AppError>;
}

/// API keys.
#[async_trait]
pub trait ApiKeyPort {
    async fn list_api_keys(&self, actor: &Actor) -> Result<Vec<ApiKey>, AppError>;
    async fn create_api_key(&self, actor: &Actor, name: &str) -> Result<CreatedApiKey, AppError>;
    async fn revoke_api_key(&self, actor: &Actor, id: &ApiKeyId) -> Result<(), AppError>;
}

/// Settings shared by every instance.
#[async_trait]
pub trait SettingsPort {
    async fn retention(&self, actor: &Actor) -> Result<RetentionSettings, AppError>;
    /// The retry schedule and timeout of hooks without their own.
    async fn delivery_defaults(
        &self,
        actor: &Actor,
    ) -> Result<crate::policy::ServerDefaults, AppError>;
    /// Keeps the log for `days`, or for the server's default with `None`.
    async fn set_retention(
        &self,
        actor: &Actor,
        days: Option<u32>,
    ) -> Result<RetentionSettings, AppError>;
}

/// The whole system at a glance.
#[async_trait]
pub trait OverviewPort {
    async fn overview(&self, actor: &Actor) -> Result<crate::overview::Overview, AppError>;
}

/// Finding events and deliveries by id, key or payload words.
#[async_trait]
pub trait SearchPort {
    async fn search(
        &self,
        actor: &Actor,
        query: crate::search::SearchQuery,
    ) -> Result<crate::search::SearchPage, AppError>;
}

/// Sources: systems whose webhooks are taken in as events. `origin` is
/// where callers reach this server (`https://hookline.example.com`), for
/// each source's absolute `url`.
#[async_trait]
pub trait SourcePort {
    async fn list_sources(
        &self,
        actor: &Actor,
        origin: &str,
    ) -> Result<Vec<crate::source::Source>, AppError>;
    async fn create_source(
        &self,
        actor: &Actor,
        input: crate::source::NewSource,
        origin: &str,
    ) -> Result<crate::source::Source, AppError>;
    async fn delete_source(&self, actor: &Actor, id: &crate::ids::SourceId)
        -> Result<(), AppError>;
}

/// Alerts: where they go, and the incidents behind them.
#[async_trait]
pub trait AlertPort {
    /// `None` while alerts are off.
    async fn alert_settings(
        &self,
        actor: &Actor,
    ) -> Result<Option<crate::alert::AlertSettings>, AppError>;
    async fn save_alert_settings(
        &self,
        actor: &Actor,
        input: crate::alert::AlertSettingsInput,
    ) -> Result<crate::alert::AlertSettings, AppError>;
    /// Turns alerts off; their hook and its log go too.
    async fn remove_alert_settings(&self, actor: &Actor) -> Result<(), AppError>;
    async fn incidents(
        &self,
        actor: &Actor,
        query: crate::alert::IncidentQuery,
    ) -> Result<Vec<crate::alert::Incident>, AppError>;
}

/// Everything the console needs, as one object in context.
pub trait Console:
    SessionPort
    + UserPort
    + HookPort
    + DeliveryPort
    + LogPort
    + EventTypePort
    + ApiKeyPort
    + SettingsPort
    + OverviewPort
    + SearchPort
    + SourcePort
    + AlertPort
    + Send
    + Sync
    + 'static
{
}

impl<T> Console for T where
    T: SessionPort
        + UserPort
        + HookPort
        + DeliveryPort
        + LogPort
        + EventTypePort
        + ApiKeyPort
        + SettingsPort
        + OverviewPort
        + SearchPort
        + SourcePort
        + AlertPort
        + Send
        + Sync
        + 'static
{
}
