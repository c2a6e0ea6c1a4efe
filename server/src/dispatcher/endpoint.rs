//! Endpoint safety (SPEC §4): receivers on loopback, private, link-local or
//! unspecified addresses are refused unless the operator allows them. Names
//! are checked after DNS resolution, in the HTTP client's resolver, so a name
//! that points inside the network is caught however it is spelled; a URL that
//! names an IP address is checked against the same rules before connecting.

use std::error::Error;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use ipnet::IpNet;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

#[derive(Debug, Clone, Default)]
pub struct EndpointPolicy {
    /// Deliver to any address (`--allow-private-endpoints`).
    pub allow_private: bool,
    /// Ranges allowed even though they are private (`--private-endpoint-allowlist`).
    pub allowlist: Vec<IpNet>,
}

/// A refused address: the attempt's logged error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub host: String,
    pub ip: IpAddr,
    pub kind: &'static str,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let resolved = if self.host == self.ip.to_string() {
            String::new()
        } else {
            format!(" ({} resolves to it)", self.host)
        };
        write!(
            f,
            "refused to connect to {}{resolved}: it is a {} address, and private endpoints \
             are not allowed (see --allow-private-endpoints)",
            self.ip, self.kind
        )
    }
}

impl Error for Refused {}

impl EndpointPolicy {
    /// `Err` with the reason when delivering to `ip` is not allowed.
    pub fn check(&self, host: &str, ip: IpAddr) -> Result<(), Refused> {
        if self.allow_private || self.allowlist.iter().any(|net| net.contains(&ip)) {
            return Ok(());
        }
        match forbidden_kind(ip) {
            Some(kind) => Err(Refused {
                host: host.to_owned(),
                ip,
                kind,
            }),
            None => Ok(()),
        }
    }
}

/// What kind of internal address `ip` is, if it is one.
fn forbidden_kind(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => match embedded_v4(v6) {
            Some(v4) => forbidden_v4(v4),
            None => forbidden_v6(v6),
        },
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, ..] = ip.octets();
    if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_private() {
        Some("private")
    } else if ip.is_link_local() {
        Some("link-local")
    } else if ip.is_unspecified() || a == 0 {
        Some("unspecified")
    } else if a == 100 && (64..128).contains(&b) {
        Some("shared (carrier-grade NAT)")
    } else if ip.is_broadcast() || ip.is_multicast() {
        Some("broadcast or multicast")
    } else {
        None
    }
}

fn forbidden_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let first = ip.segments()[0];
    if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_unspecified() {
        Some("unspecified")
    } else if first & 0xfe00 == 0xfc00 {
        Some("private")
    } else if first & 0xffc0 == 0xfe80 {
        Some("link-local")
    } else if ip.is_multicast() {
        Some("broadcast or multicast")
    } else {
        None
    }
}

/// The IPv4 address inside an IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible
/// or NAT64 (`64:ff9b::/96`) address, which reach that IPv4 host.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4);
    }
    let s = ip.segments();
    let low = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    let nat64 = s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0];
    let compatible = s[..6] == [0; 6] && !ip.is_loopback() && !ip.is_unspecified();
    (nat64 || compatible).then_some(low)
}

/// The HTTP client's resolver: the system's, with refused addresses taken out.
/// When every address a name has is refused, the connection fails with the
/// first refusal as its cause.
pub struct GuardedResolver {
    pub policy: Arc<EndpointPolicy>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let resolved: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let mut refusal = None;
            let allowed: Vec<SocketAddr> = resolved
                .into_iter()
                .filter(|addr| match policy.check(&host, addr.ip()) {
                    Ok(()) => true,
                    Err(refused) => {
                        refusal.get_or_insert(refused);
                        false
                    }
                })
                .collect();
            match (allowed.is_empty(), refusal) {
                (true, Some(refused)) => Err(Box::new(refused) as Box<dyn Error + Send + Sync>),
                _ => Ok(Box::new(allowed.into_iter()) as Addrs),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(ip: &str) -> Option<&'static str> {
        EndpointPolicy::default()
            .check("h", ip.parse().unwrap())
            .err()
            .map(|r| r.kind)
    }

    #[test]
    fn internal_addresses_are_refused_by_default() {
        for (ip, kind) in [
            ("127.0.0.1", "loopback"),
            ("127.8.9.10", "loopback"),
            ("10.1.2.3", "private"),
            ("172.16.0.1", "private"),
            ("192.168.1.1", "private"),
            ("169.254.169.254", "link-local"),
            ("0.0.0.0", "unspecified"),
            ("100.64.0.1", "shared (carrier-grade NAT)"),
            ("::1", "loopback"),
            ("::", "unspecified"),
            ("fd00::1", "private"),
            ("fe80::1", "link-local"),
            ("::ffff:127.0.0.1", "loopback"),
            ("::ffff:169.254.169.254", "link-local"),
            ("64:ff9b::a00:1", "private"),
        ] {
            assert_eq!(refused(ip), Some(kind), "{ip}");
        }
    }

    #[test]
    fn public_addresses_pass() {
        for ip in ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "172.32.0.1"] {
            assert_eq!(refused(ip), None, "{ip}");
        }
    }

    #[test]
    fn the_operator_can_allow_all_or_some_ranges() {
        let all = EndpointPolicy {
            allow_private: true,
            ..Default::default()
        };
        assert!(all.check("h", "127.0.0.1".parse().unwrap()).is_ok());
        let some = EndpointPolicy {
            allow_private: false,
            allowlist: vec!["10.0.0.0/8".parse().unwrap()],
        };
        assert!(some.check("h", "10.9.8.7".parse().unwrap()).is_ok());
        assert!(some.check("h", "192.168.0.1".parse().unwrap()).is_err());
    }

    #[test]
    fn the_refusal_names_the_address_and_the_way_out() {
        let err = EndpointPolicy::default()
            .check("localhost", "127.0.0.1".parse().unwrap())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("127.0.0.1 (localhost resolves to it)"),
            "{err}"
        );
        assert!(err.contains("loopback"), "{err}");
        assert!(err.contains("--allow-private-endpoints"), "{err}");
    }
}
