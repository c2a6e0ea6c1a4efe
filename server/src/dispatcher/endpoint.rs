//! Endpoint safety (README, "Endpoint safety"): receivers on addresses that are not globally
//! reachable (loopback, private, link-local, unspecified, documentation,
//! benchmarking, reserved, multicast: the IANA special-purpose registries' rows,
//! in two tables below) are refused unless the operator allows them. Names
//! are checked after DNS resolution, in the HTTP client's resolver, so a name
//! that points inside the network is caught however it is spelled; a URL that
//! names an IP address is checked against the same rules before connecting.

use std::error::Error;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, LazyLock};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
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

/// IPv4 ranges that are refused, with the kind the refusal names: every row the
/// IANA IPv4 Special-Purpose Address Registry marks not globally reachable,
/// plus multicast and the deprecated 6to4 relay anycast. All of
/// 192.0.0.0/24 is refused, even the two anycast /32s the registry marks global
/// (192.0.0.9 PCP, 192.0.0.10 TURN): no webhook receiver lives there. The first
/// row that contains an address names it, so a more specific row goes first.
/// Adding a range is one line.
const V4_REFUSED: &[(&str, &str)] = &[
    ("0.0.0.0/32", "unspecified"),
    ("0.0.0.0/8", "this-network"),
    ("10.0.0.0/8", "private"),
    ("100.64.0.0/10", "shared (carrier-grade NAT)"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local"),
    ("172.16.0.0/12", "private"),
    ("192.0.0.0/24", "reserved (IETF protocol assignments)"),
    ("192.0.2.0/24", "documentation (TEST-NET-1)"),
    ("192.88.99.0/24", "6to4 relay anycast (deprecated)"),
    ("192.168.0.0/16", "private"),
    ("198.18.0.0/15", "benchmarking"),
    ("198.51.100.0/24", "documentation (TEST-NET-2)"),
    ("203.0.113.0/24", "documentation (TEST-NET-3)"),
    ("224.0.0.0/4", "multicast"),
    ("255.255.255.255/32", "broadcast"),
    ("240.0.0.0/4", "reserved (240.0.0.0/4)"),
];

/// IPv6 ranges refused outright, as [`V4_REFUSED`]: the IANA IPv6
/// Special-Purpose Address Registry's not globally reachable rows, site-local
/// and multicast. All of 2001::/23 is refused, the few anycast and AMT blocks
/// the registry marks global included, and with it Teredo (2001::/32), whose
/// client address is therefore never decoded. 64:ff9b:1::/48 (local-use
/// NAT64) is refused whole, since where its IPv4 sits depends on a prefix
/// length only the network knows. The forms that carry an IPv4 address in a
/// known place are not here: [`embedded_v4`] has them checked as that address.
const V6_REFUSED: &[(&str, &str)] = &[
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("64:ff9b:1::/48", "local-use NAT64"),
    ("100::/64", "discard-only"),
    ("2001::/32", "Teredo"),
    ("2001:2::/48", "benchmarking"),
    ("2001::/23", "reserved (IETF protocol assignments)"),
    ("2001:db8::/32", "documentation"),
    ("3fff::/20", "documentation"),
    ("5f00::/16", "segment-routing (SRv6)"),
    ("fc00::/7", "private"),
    ("fe80::/10", "link-local"),
    ("fec0::/10", "site-local (deprecated)"),
    ("ff00::/8", "multicast"),
];

/// Global unicast: IPv6 outside it, beyond the rows above and the IPv4-carrying
/// forms, is unallocated or reserved, and refused.
const V6_GLOBAL_UNICAST: &str = "2000::/3";
const V6_OUTSIDE_GLOBAL_UNICAST: &str = "reserved (outside 2000::/3)";

struct Ranges {
    v4: Vec<(Ipv4Net, &'static str)>,
    v6: Vec<(Ipv6Net, &'static str)>,
    global_unicast: Ipv6Net,
}

/// The tables, parsed once.
static RANGES: LazyLock<Ranges> = LazyLock::new(|| {
    fn parse<N: std::str::FromStr>(net: &str) -> N
    where
        N::Err: fmt::Debug,
    {
        net.parse()
            .unwrap_or_else(|e| panic!("bad range {net} in the endpoint table: {e:?}"))
    }
    Ranges {
        v4: V4_REFUSED.iter().map(|(n, k)| (parse(n), *k)).collect(),
        v6: V6_REFUSED.iter().map(|(n, k)| (parse(n), *k)).collect(),
        global_unicast: parse(V6_GLOBAL_UNICAST),
    }
});

/// What kind of non-global address `ip` is, if it is one.
fn forbidden_kind(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6),
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> Option<&'static str> {
    RANGES
        .v4
        .iter()
        .find(|(net, _)| net.contains(&ip))
        .map(|(_, kind)| *kind)
}

fn forbidden_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let ranges = &*RANGES;
    if let Some((_, kind)) = ranges.v6.iter().find(|(net, _)| net.contains(&ip)) {
        return Some(kind);
    }
    if let Some(v4) = embedded_v4(ip) {
        return forbidden_v4(v4);
    }
    (!ranges.global_unicast.contains(&ip)).then_some(V6_OUTSIDE_GLOBAL_UNICAST)
}

/// The IPv4 address that an IPv6 address reaches, for the forms that carry
/// one in a fixed place: IPv4-mapped (`::ffff:a.b.c.d`), IPv4-translated
/// (`::ffff:0:a.b.c.d`, RFC 2765), IPv4-compatible (`::a.b.c.d`, deprecated),
/// NAT64's well-known prefix (`64:ff9b::/96`) and 6to4 (`2002:AABB:CCDD::/48`,
/// the IPv4 in bits 16 to 48). Such an address is as safe as its IPv4.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let v4 = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    let low = v4(s[6], s[7]);
    let mapped = s[..5] == [0; 5] && s[5] == 0xffff;
    let translated = s[..4] == [0; 4] && s[4] == 0xffff && s[5] == 0;
    let compatible = s[..6] == [0; 6];
    let nat64 = s[..6] == [0x64, 0xff9b, 0, 0, 0, 0];
    if mapped || translated || compatible || nat64 {
        Some(low)
    } else if s[0] == 0x2002 {
        Some(v4(s[1], s[2]))
    } else {
        None
    }
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

    /// The addresses issue 15 found connected to with private endpoints off.
    const FROM_THE_ISSUE: [&str; 12] = [
        "198.18.0.1",
        "240.0.0.1",
        "192.0.0.1",
        "192.88.99.1",
        "203.0.113.1",
        "64:ff9b:1::7f00:1",
        "::ffff:0:7f00:1",
        "2002:7f00:1::1",
        "2001::1",
        "fec0::1",
        "100::1",
        "2001:db8::1",
    ];

    #[test]
    fn the_special_purpose_addresses_from_the_issue_are_refused() {
        for ip in FROM_THE_ISSUE {
            assert!(refused(ip).is_some(), "{ip} must be refused");
        }
    }

    #[test]
    fn each_range_refuses_its_edges_and_not_its_neighbours() {
        const IETF: &str = "reserved (IETF protocol assignments)";
        const OUTSIDE: &str = V6_OUTSIDE_GLOBAL_UNICAST;
        // (an address inside, the kind it is refused as, an address just
        // outside, what that one is: `None` when it is allowed).
        let cases: &[(&str, &str, &str, Option<&str>)] = &[
            ("0.0.0.0", "unspecified", "0.0.0.1", Some("this-network")),
            ("0.255.255.255", "this-network", "1.0.0.0", None),
            ("10.0.0.0", "private", "9.255.255.255", None),
            ("10.255.255.255", "private", "11.0.0.0", None),
            (
                "100.64.0.0",
                "shared (carrier-grade NAT)",
                "100.63.255.255",
                None,
            ),
            (
                "100.127.255.255",
                "shared (carrier-grade NAT)",
                "100.128.0.0",
                None,
            ),
            ("127.0.0.0", "loopback", "126.255.255.255", None),
            ("127.255.255.255", "loopback", "128.0.0.0", None),
            ("169.254.0.0", "link-local", "169.253.255.255", None),
            ("169.254.255.255", "link-local", "169.255.0.0", None),
            ("172.16.0.0", "private", "172.15.255.255", None),
            ("172.31.255.255", "private", "172.32.0.0", None),
            ("192.0.0.0", IETF, "191.255.255.255", None),
            ("192.0.0.255", IETF, "192.0.1.0", None),
            // The registry's globally reachable anycast /32s are refused too.
            ("192.0.0.9", IETF, "192.0.1.9", None),
            ("192.0.0.10", IETF, "192.0.1.10", None),
            (
                "192.0.2.0",
                "documentation (TEST-NET-1)",
                "192.0.1.255",
                None,
            ),
            (
                "192.0.2.255",
                "documentation (TEST-NET-1)",
                "192.0.3.0",
                None,
            ),
            (
                "192.88.99.0",
                "6to4 relay anycast (deprecated)",
                "192.88.98.255",
                None,
            ),
            (
                "192.88.99.255",
                "6to4 relay anycast (deprecated)",
                "192.88.100.0",
                None,
            ),
            ("192.168.0.0", "private", "192.167.255.255", None),
            ("192.168.255.255", "private", "192.169.0.0", None),
            ("198.18.0.0", "benchmarking", "198.17.255.255", None),
            ("198.19.255.255", "benchmarking", "198.20.0.0", None),
            (
                "198.51.100.0",
                "documentation (TEST-NET-2)",
                "198.51.99.255",
                None,
            ),
            (
                "198.51.100.255",
                "documentation (TEST-NET-2)",
                "198.51.101.0",
                None,
            ),
            (
                "203.0.113.0",
                "documentation (TEST-NET-3)",
                "203.0.112.255",
                None,
            ),
            (
                "203.0.113.255",
                "documentation (TEST-NET-3)",
                "203.0.114.0",
                None,
            ),
            ("224.0.0.0", "multicast", "223.255.255.255", None),
            (
                "239.255.255.255",
                "multicast",
                "240.0.0.0",
                Some("reserved (240.0.0.0/4)"),
            ),
            (
                "255.255.255.254",
                "reserved (240.0.0.0/4)",
                "255.255.255.255",
                Some("broadcast"),
            ),
            ("::", "unspecified", "::1", Some("loopback")),
            // `::2` is IPv4-compatible `::0.0.0.2`.
            ("::1", "loopback", "::2", Some("this-network")),
            (
                "64:ff9b:1::",
                "local-use NAT64",
                "64:ff9b:0:ffff:ffff:ffff:ffff:ffff",
                Some(OUTSIDE),
            ),
            (
                "64:ff9b:1:ffff:ffff:ffff:ffff:ffff",
                "local-use NAT64",
                "64:ff9b:2::",
                Some(OUTSIDE),
            ),
            (
                "100::",
                "discard-only",
                "ff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
                Some(OUTSIDE),
            ),
            (
                "100::ffff:ffff:ffff:ffff",
                "discard-only",
                "100:0:0:1::",
                Some(OUTSIDE),
            ),
            (
                "2001::",
                "Teredo",
                "2000:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
                None,
            ),
            (
                "2001:0:ffff:ffff:ffff:ffff:ffff:ffff",
                "Teredo",
                "2001:1::",
                Some(IETF),
            ),
            (
                "2001:2::",
                "benchmarking",
                "2001:1:ffff:ffff:ffff:ffff:ffff:ffff",
                Some(IETF),
            ),
            (
                "2001:2:0:ffff:ffff:ffff:ffff:ffff",
                "benchmarking",
                "2001:2:1::",
                Some(IETF),
            ),
            (
                "2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff",
                IETF,
                "2001:200::",
                None,
            ),
            (
                "2001:db8::",
                "documentation",
                "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff",
                None,
            ),
            (
                "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
                "documentation",
                "2001:db9::",
                None,
            ),
            (
                "3fff::",
                "documentation",
                "3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
                None,
            ),
            (
                "3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff",
                "documentation",
                "3fff:1000::",
                None,
            ),
            (
                "5f00::",
                "segment-routing (SRv6)",
                "5eff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
                Some(OUTSIDE),
            ),
            (
                "5f00:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
                "segment-routing (SRv6)",
                "5f01::",
                Some(OUTSIDE),
            ),
            (
                "fc00::",
                "private",
                "fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
                Some(OUTSIDE),
            ),
            (
                "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
                "private",
                "fe00::",
                Some(OUTSIDE),
            ),
            (
                "fe80::",
                "link-local",
                "fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
                Some(OUTSIDE),
            ),
            (
                "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
                "link-local",
                "fec0::",
                Some("site-local (deprecated)"),
            ),
            (
                "feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
                "site-local (deprecated)",
                "ff00::",
                Some("multicast"),
            ),
            (
                "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
                "multicast",
                "feff::",
                Some("site-local (deprecated)"),
            ),
            // Outside global unicast (2000::/3) nothing is allocated.
            (
                "1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
                OUTSIDE,
                "2000::",
                None,
            ),
            (
                "4000::",
                OUTSIDE,
                "3fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
                None,
            ),
        ];
        for &(inside, kind, outside, outside_kind) in cases {
            assert_eq!(refused(inside), Some(kind), "{inside}");
            assert_eq!(
                refused(outside),
                outside_kind,
                "{outside} (next to {inside})"
            );
        }
    }

    #[test]
    fn an_ipv6_form_carrying_an_ipv4_address_is_judged_by_that_address() {
        // (refused form and its kind, the same form carrying a public address).
        for (inside, kind, public) in [
            ("::ffff:127.0.0.1", "loopback", "::ffff:8.8.8.8"),
            ("::ffff:0:127.0.0.1", "loopback", "::ffff:0:8.8.8.8"),
            ("::ffff:0:10.0.0.1", "private", "::ffff:0:93.184.216.34"),
            ("::127.0.0.1", "loopback", "::8.8.8.8"),
            ("64:ff9b::10.0.0.1", "private", "64:ff9b::8.8.8.8"),
            ("64:ff9b::198.18.0.1", "benchmarking", "64:ff9b::1.1.1.1"),
            ("2002:7f00:1::1", "loopback", "2002:808:808::1"),
            ("2002:c0a8:101::", "private", "2002:5db8:d822:1::1"),
            ("2002:a9fe:a9fe::", "link-local", "2002:101:101::"),
            (
                "2002:c000:201::1",
                "documentation (TEST-NET-1)",
                "2002:808:404::1",
            ),
        ] {
            assert_eq!(refused(inside), Some(kind), "{inside}");
            assert_eq!(refused(public), None, "{public}");
        }
        // Teredo and local-use NAT64 are refused whatever they carry.
        assert_eq!(
            refused("2001:0:4136:e378:8000:63bf:f7f7:f7f7"),
            Some("Teredo")
        );
        assert_eq!(refused("64:ff9b:1::808:808"), Some("local-use NAT64"));
    }

    #[test]
    fn the_tables_parse_and_each_row_is_refused_at_both_ends() {
        for (net, _) in V4_REFUSED.iter().chain(V6_REFUSED) {
            let net: IpNet = net.parse().unwrap();
            assert_eq!(net, net.trunc(), "{net} is written in canonical form");
            for end in [net.network(), net.broadcast()] {
                assert!(forbidden_kind(end).is_some(), "{end} in {net}");
            }
        }
        assert_eq!(RANGES.v4.len(), V4_REFUSED.len());
        assert_eq!(RANGES.v6.len(), V6_REFUSED.len());
    }

    #[test]
    fn the_operator_can_still_allow_the_new_ranges() {
        let all = EndpointPolicy {
            allow_private: true,
            ..Default::default()
        };
        for ip in FROM_THE_ISSUE {
            assert!(all.check("h", ip.parse().unwrap()).is_ok(), "{ip}");
        }
        let some = EndpointPolicy {
            allow_private: false,
            allowlist: vec![
                "198.18.0.0/15".parse().unwrap(),
                "2001:db8::/32".parse().unwrap(),
            ],
        };
        assert!(some.check("h", "198.19.1.1".parse().unwrap()).is_ok());
        assert!(some.check("h", "2001:db8::1".parse().unwrap()).is_ok());
        assert!(some.check("h", "203.0.113.1".parse().unwrap()).is_err());
        assert!(some.check("h", "fec0::1".parse().unwrap()).is_err());
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
