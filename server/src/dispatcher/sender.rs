//! Sends one request: one shared client (pooled connections, no redirects, no
//! proxies, the endpoint policy in its resolver) and a response read up to
//! 64 KiB.

use std::error::Error as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use domain::delivery::RESPONSE_BODY_LIMIT;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use super::endpoint::{EndpointPolicy, GuardedResolver, Refused};
use crate::clock::Clock;

/// What came back from one request, or why nothing did.
#[derive(Debug, Clone)]
pub struct Response {
    pub started_at: i64,
    pub duration_ms: i64,
    pub status: Option<u16>,
    pub headers: Option<Vec<(String, String)>>,
    pub body: Option<String>,
    pub body_truncated: bool,
    pub error: Option<String>,
}

impl Response {
    pub fn success(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

pub struct Sender {
    client: reqwest::Client,
    policy: Arc<EndpointPolicy>,
    /// When requests start, for the log and the signatures.
    pub(super) clock: Clock,
}

impl Sender {
    pub fn new(policy: EndpointPolicy, clock: Clock) -> Sender {
        let policy = Arc::new(policy);
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            // A proxy would connect on our behalf, past the resolver's check.
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver {
                policy: policy.clone(),
            }))
            .pool_idle_timeout(Duration::from_secs(60))
            .build()
            .expect("the HTTP client's settings are valid");
        Sender {
            client,
            policy,
            clock,
        }
    }

    /// POSTs `body` with `headers` to `url` and reads the answer, all of it
    /// within `timeout`.
    pub async fn send(
        &self,
        url: &str,
        headers: &[(String, String)],
        body: &str,
        timeout: Duration,
    ) -> Response {
        let started_at = self.clock.now_ms();
        let clock = Instant::now();
        let result = self.exchange(url, headers, body, timeout).await;
        let duration_ms = clock.elapsed().as_millis() as i64;
        match result {
            Ok((status, headers, body, body_truncated)) => Response {
                started_at,
                duration_ms,
                status: Some(status),
                headers: Some(headers),
                body: Some(body),
                body_truncated,
                error: None,
            },
            Err(error) => Response {
                started_at,
                duration_ms,
                status: None,
                headers: None,
                body: None,
                body_truncated: false,
                error: Some(error),
            },
        }
    }

    async fn exchange(
        &self,
        url: &str,
        headers: &[(String, String)],
        body: &str,
        timeout: Duration,
    ) -> Result<(u16, Vec<(String, String)>, String, bool), String> {
        let url = reqwest::Url::parse(url).map_err(|err| format!("invalid URL: {err}"))?;
        // A URL that names an address skips the resolver: check it here.
        let literal: Option<std::net::IpAddr> = match url.host() {
            Some(url::Host::Ipv4(ip)) => Some(ip.into()),
            Some(url::Host::Ipv6(ip)) => Some(ip.into()),
            _ => None,
        };
        if let Some(ip) = literal {
            self.policy
                .check(&ip.to_string(), ip)
                .map_err(|refused| refused.to_string())?;
        }
        let mut header_map = HeaderMap::with_capacity(headers.len());
        for (name, value) in headers {
            let name = HeaderName::try_from(name.as_str())
                .map_err(|_| format!("invalid header name `{name}`"))?;
            let value = HeaderValue::try_from(value.as_str())
                .map_err(|_| format!("invalid value for header `{name}`"))?;
            header_map.insert(name, value);
        }
        let mut response = self
            .client
            .post(url)
            .headers(header_map)
            .body(body.to_owned())
            .timeout(timeout)
            .send()
            .await
            .map_err(|err| self.describe(&err, timeout))?;
        let status = response.status().as_u16();
        let response_headers = response
            .headers()
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect();
        let mut kept = Vec::new();
        let mut truncated = false;
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|err| self.describe(&err, timeout))?
        {
            let room = RESPONSE_BODY_LIMIT - kept.len();
            if chunk.len() > room {
                kept.extend_from_slice(&chunk[..room]);
                truncated = true;
                break;
            }
            kept.extend_from_slice(&chunk);
        }
        Ok((
            status,
            response_headers,
            String::from_utf8_lossy(&kept).into_owned(),
            truncated,
        ))
    }

    /// An attempt's error text: the refusal, the timeout, or the failure's
    /// innermost cause (e.g. "Connection refused").
    fn describe(&self, err: &reqwest::Error, timeout: Duration) -> String {
        let mut causes = Vec::new();
        let mut source = err.source();
        while let Some(cause) = source {
            if let Some(refused) = cause.downcast_ref::<Refused>() {
                return refused.to_string();
            }
            causes.push(cause.to_string());
            source = cause.source();
        }
        if err.is_timeout() {
            return format!(
                "timed out: no complete response within {}",
                humantime::format_duration(timeout)
            );
        }
        let kind = if err.is_connect() {
            "could not connect"
        } else {
            "request failed"
        };
        match causes.last() {
            Some(cause) => format!("{kind}: {cause}"),
            None => format!("{kind}: {err}"),
        }
    }
}
