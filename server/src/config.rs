//! The command line: flags with environment fallbacks (README,
//! "Configuration").

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use ipnet::IpNet;

use crate::dispatcher::endpoint::EndpointPolicy;
use crate::dispatcher::retry::DEFAULT_SCHEDULE;
use crate::dispatcher::DeliverySettings;
use crate::http::HttpSettings;
use crate::service::{DEFAULT_ALERT_CHECK_INTERVAL, DEFAULT_RETENTION};
use crate::telemetry::LogFormat;
use domain::policy::RetrySchedule;

#[derive(Debug, Parser)]
#[command(
    name = "hookline",
    version,
    about = "Self-hosted webhook service with an admin console"
)]
pub struct Cli {
    /// Database to use: `sqlite://…` (created if missing; one instance) or
    /// `postgres://…` (several instances may share it).
    #[arg(
        long,
        env = "HOOKLINE_DATABASE_URL",
        default_value = "sqlite://hookline.db",
        global = true
    )]
    pub database_url: String,

    /// How log lines are written to stderr: `text` or `json` (one object a line).
    #[arg(
        long,
        env = "HOOKLINE_LOG_FORMAT",
        value_enum,
        default_value_t = LogFormat::Text,
        global = true
    )]
    pub log_format: LogFormat,

    #[command(subcommand)]
    pub command: Option<Command>,

    /// Options for `serve`, also accepted without the subcommand (it is the default).
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the console, the API and the dispatcher. The default.
    Serve(Box<ServeArgs>),
    /// Apply database migrations and exit.
    Migrate,
    /// Manage console users.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Manage API keys.
    #[command(subcommand, name = "api-key")]
    ApiKey(ApiKeyCommand),
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an admin user; the password is read from standard input.
    Create {
        #[arg(long)]
        email: String,
        /// Read the password from standard input (the only way, so it stays out of `ps`).
        #[arg(long, required = true)]
        password_stdin: bool,
        /// `admin` or `viewer`.
        #[arg(long, default_value = "admin")]
        role: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ApiKeyCommand {
    /// Create an API key; the key is the last line of standard output.
    Create {
        #[arg(long)]
        name: String,
    },
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(
        long,
        env = "HOOKLINE_ADDR",
        default_value = "127.0.0.1:3000",
        global = true
    )]
    pub addr: SocketAddr,

    /// Folder with the console's built assets (`pkg/`, …). Defaults to the one
    /// cargo-leptos names in `LEPTOS_SITE_ROOT`, else `site/` beside the binary,
    /// else `target/site`.
    #[arg(long, env = "HOOKLINE_SITE_ROOT")]
    pub site_root: Option<PathBuf>,

    /// How long the delivery log is kept: older events are deleted with their
    /// deliveries and attempts. A value saved in the console's Settings page
    /// takes precedence.
    #[arg(long, env = "HOOKLINE_RETENTION", default_value_t = DEFAULT_RETENTION.into(), value_parser = duration, global = true)]
    pub retention: Wait,

    /// How often the alert watch looks for hooks failing, disabled or
    /// letting deliveries run out of retries (README, "Alerts"): an alert
    /// comes at most this long after its cause.
    #[arg(long, env = "HOOKLINE_ALERT_CHECK_INTERVAL", default_value_t = DEFAULT_ALERT_CHECK_INTERVAL.into(), value_parser = duration, global = true)]
    pub alert_check_interval: Wait,

    /// Password checks (sign-in, setup, new users) running at once; each takes
    /// about 19 MiB while it runs. Default: two per processor core.
    #[arg(long, env = "HOOKLINE_MAX_PASSWORD_CHECKS",
          value_parser = clap::value_parser!(u32).range(1..), global = true)]
    pub max_password_checks: Option<u32>,

    #[command(flatten)]
    pub delivery: DeliveryArgs,

    #[command(flatten)]
    pub http: HttpArgs,
}

/// How the HTTP server guards itself against slow, greedy and foreign clients.
#[derive(Debug, Clone, Args)]
pub struct HttpArgs {
    /// The console's address as browsers see it (e.g. https://hooks.example.com)
    /// when Hookline runs behind a proxy. Console requests that change state
    /// must come from this origin; without it, from the request's own host.
    #[arg(long, env = "HOOKLINE_PUBLIC_URL", value_parser = public_url, global = true)]
    pub public_url: Option<url::Url>,

    /// Proxies whose `X-Forwarded-For` is believed, comma-separated CIDRs.
    /// A request from any other peer is attributed to the peer itself.
    #[arg(
        long,
        env = "HOOKLINE_TRUSTED_PROXIES",
        value_delimiter = ',',
        global = true
    )]
    pub trusted_proxies: Vec<IpNet>,

    /// How long a client may take to send a request's headers; an idle
    /// keep-alive connection is closed after the same time.
    #[arg(long, env = "HOOKLINE_HEADER_READ_TIMEOUT", default_value_t = HttpSettings::default().header_read_timeout.into(), value_parser = duration, global = true)]
    pub header_read_timeout: Wait,

    /// How long a client may take to send a request's whole body.
    #[arg(long, env = "HOOKLINE_BODY_READ_TIMEOUT", default_value_t = HttpSettings::default().body_read_timeout.into(), value_parser = duration, global = true)]
    pub body_read_timeout: Wait,

    /// How long a write may wait for the client to read; a client that stops
    /// reading an answer is disconnected after it.
    #[arg(long, env = "HOOKLINE_WRITE_TIMEOUT", default_value_t = HttpSettings::default().write_timeout.into(), value_parser = duration, global = true)]
    pub write_timeout: Wait,

    /// Connections one client address (an IPv6 /64) may hold at once;
    /// `--trusted-proxies` are not counted. Further ones are closed at once.
    #[arg(long, env = "HOOKLINE_MAX_CONNECTIONS_PER_ADDRESS", default_value_t = HttpSettings::default().max_connections_per_address as u32,
          value_parser = clap::value_parser!(u32).range(1..), global = true)]
    pub max_connections_per_address: u32,

    /// Connections served at once; further clients wait in the listen queue.
    #[arg(long, env = "HOOKLINE_MAX_CONNECTIONS", default_value_t = HttpSettings::default().max_connections as u32,
          value_parser = clap::value_parser!(u32).range(1..), global = true)]
    pub max_connections: u32,

    /// Live-update streams (`/live/...`) one console session may hold open.
    #[arg(long, env = "HOOKLINE_LIVE_STREAMS_PER_SESSION", default_value_t = HttpSettings::default().live_streams_per_session as u32,
          value_parser = clap::value_parser!(u32).range(1..), global = true)]
    pub live_streams_per_session: u32,
}

/// A public URL is an origin: `http` or `https`, a host, nothing after it.
fn public_url(text: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(text).map_err(|err| format!("not a URL: {err}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err("expected http(s)://host[:port]".into());
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err("give the origin only, without a path (e.g. https://hooks.example.com)".into());
    }
    Ok(url)
}

impl HttpArgs {
    pub fn settings(&self) -> HttpSettings {
        HttpSettings {
            public_origin: self
                .public_url
                .as_ref()
                .map(|url| url.origin().ascii_serialization()),
            trusted_proxies: self.trusted_proxies.clone(),
            header_read_timeout: *self.header_read_timeout,
            body_read_timeout: *self.body_read_timeout,
            write_timeout: *self.write_timeout,
            max_connections: self.max_connections as usize,
            max_connections_per_address: self.max_connections_per_address as usize,
            live_streams_per_session: self.live_streams_per_session as usize,
        }
    }
}

/// A duration flag: read like `500ms`, `10s`, `2m`, `1h` or `1d`, and shown
/// so in `--help`, where the defaults come from the settings' `Default`s.
pub type Wait = humantime::Duration;

fn duration(text: &str) -> Result<Wait, String> {
    text.parse::<Wait>()
        .map_err(|err| format!("expected a duration like 10s, 2m or 1h: {err}"))
}

/// How deliveries are made (README, "Delivery" and "Configuration").
#[derive(Debug, Clone, Args)]
pub struct DeliveryArgs {
    /// Deliver to loopback, private and link-local addresses too. Off by
    /// default: it would let hook URLs reach inside your network.
    #[arg(long, env = "HOOKLINE_ALLOW_PRIVATE_ENDPOINTS", global = true)]
    pub allow_private_endpoints: bool,

    /// Private ranges to deliver to anyway, comma-separated CIDRs (e.g. 10.1.0.0/16).
    #[arg(
        long,
        env = "HOOKLINE_PRIVATE_ENDPOINT_ALLOWLIST",
        value_delimiter = ',',
        global = true
    )]
    pub private_endpoint_allowlist: Vec<IpNet>,

    /// Waits before each retry, comma-separated; ±20 % jitter is added.
    #[arg(long, env = "HOOKLINE_RETRY_SCHEDULE", default_value = DEFAULT_SCHEDULE, global = true)]
    pub retry_schedule: RetrySchedule,

    /// How long one attempt may take, response body included.
    #[arg(long, env = "HOOKLINE_REQUEST_TIMEOUT", default_value_t = DeliverySettings::default().request_timeout.into(), value_parser = duration, global = true)]
    pub request_timeout: Wait,

    /// How long a lease on a delivery lasts unless renewed (its holder renews
    /// it every second while it lives); another instance takes the delivery
    /// over when it runs out. Default: the longer of the request timeout and
    /// 30s (the longest a hook's own timeout may be), + 30s.
    #[arg(long, env = "HOOKLINE_DELIVERY_LEASE", value_parser = duration, global = true)]
    pub delivery_lease: Option<Wait>,

    /// Disable a hook whose attempts have all failed for this long.
    #[arg(long, env = "HOOKLINE_DISABLE_AFTER", default_value_t = DeliverySettings::default().disable_after.into(), value_parser = duration, global = true)]
    pub disable_after: Wait,

    /// Attempts in flight at once, per hook, over all instances: a ceiling;
    /// each endpoint runs as many as its answers allow (README, "Fair
    /// delivery").
    #[arg(long, env = "HOOKLINE_HOOK_MAX_IN_FLIGHT", default_value_t = DeliverySettings::default().hook_max_in_flight,
          value_parser = clap::value_parser!(u32).range(1..), global = true)]
    pub hook_max_in_flight: u32,

    /// Attempts in flight at once in this process, shared by the hooks in
    /// turn. Beyond them a hook with none in flight may always start one (at
    /// most --max-queued hooks at once).
    #[arg(long, env = "HOOKLINE_MAX_IN_FLIGHT", default_value_t = DeliverySettings::default().max_in_flight,
          value_parser = clap::value_parser!(u32).range(1..), global = true)]
    pub max_in_flight: u32,

    /// An answer at least this slow, while every shared slot is taken,
    /// halves its endpoint's concurrency (as do timeouts, 429 and 503).
    #[arg(long, env = "HOOKLINE_SLOW_ANSWER", default_value_t = DeliverySettings::default().slow_answer.into(), value_parser = duration, global = true)]
    pub slow_answer: Wait,

    /// Deliveries queued in this process's memory at most; each hook holds
    /// at most its share of them (a quarter at most), the rest wait in the
    /// database.
    #[arg(long, env = "HOOKLINE_MAX_QUEUED", default_value_t = DeliverySettings::default().max_queued,
          value_parser = clap::value_parser!(u32).range(1..), global = true)]
    pub max_queued: u32,

    /// On SIGTERM/SIGINT, how long attempts in flight may take to finish.
    #[arg(long, env = "HOOKLINE_SHUTDOWN_GRACE", default_value_t = DeliverySettings::default().shutdown_grace.into(), value_parser = duration, global = true)]
    pub shutdown_grace: Wait,

    /// How long a rotated-out signing key keeps signing.
    #[arg(long, env = "HOOKLINE_KEY_ROTATION_OVERLAP", default_value_t = DeliverySettings::default().key_rotation_overlap.into(), value_parser = duration, global = true)]
    pub key_rotation_overlap: Wait,
}

impl DeliveryArgs {
    pub fn settings(&self) -> Result<DeliverySettings, String> {
        let request_timeout = *self.request_timeout;
        let lease = self
            .delivery_lease
            .map_or(DeliverySettings::default_lease(request_timeout), |lease| {
                *lease
            });
        if lease <= request_timeout {
            return Err("--delivery-lease must be longer than --request-timeout".into());
        }
        Ok(DeliverySettings {
            endpoint_policy: EndpointPolicy {
                allow_private: self.allow_private_endpoints,
                allowlist: self.private_endpoint_allowlist.clone(),
            },
            retry_schedule: self.retry_schedule.clone(),
            request_timeout,
            lease,
            disable_after: *self.disable_after,
            hook_max_in_flight: self.hook_max_in_flight,
            max_in_flight: self.max_in_flight,
            slow_answer: *self.slow_answer,
            max_queued: self.max_queued,
            shutdown_grace: *self.shutdown_grace,
            key_rotation_overlap: *self.key_rotation_overlap,
        })
    }
}

impl ServeArgs {
    pub fn site_root(&self) -> PathBuf {
        if let Some(root) = &self.site_root {
            return root.clone();
        }
        if let Ok(root) = std::env::var("LEPTOS_SITE_ROOT") {
            return PathBuf::from(root);
        }
        let beside_binary = std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(|dir| dir.join("site")))
            .filter(|dir| dir.is_dir());
        beside_binary.unwrap_or_else(|| PathBuf::from("target/site"))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn serve_is_the_default_and_flags_work_without_it() {
        let cli = Cli::try_parse_from([
            "hookline",
            "--addr",
            "127.0.0.1:4000",
            "--database-url",
            "sqlite://x.db",
        ])
        .unwrap();
        assert!(cli.command.is_none());
        assert_eq!(cli.serve.addr.port(), 4000);
        assert_eq!(cli.database_url, "sqlite://x.db");
        let settings = cli.serve.delivery.settings().unwrap();
        assert_eq!(
            settings.retry_schedule,
            crate::dispatcher::retry::default_schedule()
        );
        assert_eq!(settings.request_timeout, Duration::from_secs(10));
        assert_eq!(settings.lease, Duration::from_secs(60));
        assert!(!settings.endpoint_policy.allow_private);
        assert_eq!(cli.log_format, LogFormat::Text);
        let http = cli.serve.http.settings();
        assert_eq!(http.header_read_timeout, Duration::from_secs(10));
        assert_eq!(http.public_origin, None);
        assert!(http.trusted_proxies.is_empty());
    }

    #[test]
    fn the_flags_default_to_the_settings_defaults() {
        let cli = Cli::try_parse_from(["hookline"]).unwrap();
        assert_eq!(
            format!("{:?}", cli.serve.delivery.settings().unwrap()),
            format!("{:?}", DeliverySettings::default())
        );
        assert_eq!(
            format!("{:?}", cli.serve.http.settings()),
            format!("{:?}", HttpSettings::default())
        );
        assert_eq!(*cli.serve.retention, DEFAULT_RETENTION);
    }

    #[test]
    fn http_flags_parse() {
        let cli = Cli::try_parse_from([
            "hookline",
            "--public-url",
            "https://hooks.example.com",
            "--trusted-proxies",
            "10.0.0.1/32,fd00::/8",
            "--max-connections",
            "50",
            "--max-password-checks",
            "3",
        ])
        .unwrap();
        let http = cli.serve.http.settings();
        assert_eq!(
            http.public_origin.as_deref(),
            Some("https://hooks.example.com")
        );
        assert_eq!(http.trusted_proxies.len(), 2);
        assert_eq!(http.max_connections, 50);
        assert_eq!(cli.serve.max_password_checks, Some(3));
        for bad in ["ftp://x.io", "https://x.io/console", "not a url"] {
            assert!(
                Cli::try_parse_from(["hookline", "--public-url", bad]).is_err(),
                "{bad}"
            );
        }
        assert!(Cli::try_parse_from(["hookline", "--max-connections", "0"]).is_err());
    }

    #[test]
    fn log_format_is_text_or_json() {
        let cli = Cli::try_parse_from(["hookline", "serve", "--log-format", "json"]).unwrap();
        assert_eq!(cli.log_format, LogFormat::Json);
        let cli = Cli::try_parse_from(["hookline", "--log-format", "text", "migrate"]).unwrap();
        assert_eq!(cli.log_format, LogFormat::Text);
        assert!(Cli::try_parse_from(["hookline", "--log-format", "xml"]).is_err());
    }

    #[test]
    fn delivery_flags_parse() {
        let cli = Cli::try_parse_from([
            "hookline",
            "serve",
            "--allow-private-endpoints",
            "--retry-schedule",
            "1s,2s",
            "--request-timeout",
            "500ms",
            "--private-endpoint-allowlist",
            "10.0.0.0/8,fd00::/8",
        ])
        .unwrap();
        let Some(Command::Serve(args)) = cli.command else {
            panic!("serve")
        };
        let settings = args.delivery.settings().unwrap();
        assert!(settings.endpoint_policy.allow_private);
        assert_eq!(settings.endpoint_policy.allowlist.len(), 2);
        assert_eq!(settings.retry_schedule.to_string(), "1s,2s");
        assert_eq!(settings.request_timeout, Duration::from_millis(500));
        assert!(Cli::try_parse_from(["hookline", "--retry-schedule", "soon"]).is_err());
        assert!(Cli::try_parse_from(["hookline", "--hook-max-in-flight", "0"]).is_err());
        let short_lease = Cli::try_parse_from(["hookline", "--delivery-lease", "5s"]).unwrap();
        assert!(short_lease.serve.delivery.settings().is_err());
    }

    #[test]
    fn subcommands_parse_as_the_readme_names_them() {
        let cli = Cli::try_parse_from([
            "hookline",
            "admin",
            "create",
            "--email",
            "a@b.io",
            "--password-stdin",
        ])
        .unwrap();
        assert!(
            matches!(cli.command, Some(Command::Admin(AdminCommand::Create { ref email, .. })) if email == "a@b.io")
        );
        let cli = Cli::try_parse_from([
            "hookline",
            "api-key",
            "create",
            "--name",
            "ci",
            "--database-url",
            "sqlite://y.db",
        ])
        .unwrap();
        assert!(
            matches!(cli.command, Some(Command::ApiKey(ApiKeyCommand::Create { ref name })) if name == "ci")
        );
        assert_eq!(cli.database_url, "sqlite://y.db");
        assert!(Cli::try_parse_from(["hookline", "admin", "create", "--email", "a@b.io"]).is_err());
    }
}
