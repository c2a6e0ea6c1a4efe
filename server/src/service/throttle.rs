//! Sign-in throttling, three ways:
//! - per client address and email: after three failures, waits that double
//!   up to a minute. Keyed by the pair, so someone guessing at an email from
//!   one address does not lock its owner out everywhere else.
//! - per client address, over all emails: a token bucket, so one address
//!   cannot try many accounts quickly (or flood the password checks).
//! - over the whole server: a ceiling on sign-ins per second, whatever the
//!   number of addresses. An email signing in again from an address it
//!   signed in from before is exempt, so a flood from many addresses cannot
//!   lock out the people who use the console.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use domain::ports::ClientAddr;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota};

/// Failures allowed before any waiting is imposed.
const FREE_FAILURES: u32 = 3;
const MAX_WAIT: Duration = Duration::from_secs(60);
/// Entries idle this long are forgotten.
const FORGET_AFTER: Duration = Duration::from_secs(15 * 60);

/// Sign-ins one address may start: a burst of 20, then one a second.
pub const PER_ADDRESS_BURST: u32 = 20;
pub const PER_ADDRESS_PER_SECOND: u32 = 1;
/// Sign-ins the whole server starts: a burst of 60, then 20 a second.
pub const OVERALL_BURST: u32 = 60;
pub const OVERALL_PER_SECOND: u32 = 20;
/// Addresses remembered by the per-address bucket before idle ones are dropped.
const ADDRESSES_KEPT: usize = 10_000;
/// How long a successful sign-in exempts its address and email from the
/// server's ceiling, and how many such pairs are remembered.
const KNOWN_FOR: Duration = Duration::from_secs(30 * 24 * 3600);
const KNOWN_KEPT: usize = 10_000;

pub struct LoginThrottle {
    failures: Mutex<HashMap<(IpAddr, String), (u32, Instant)>>,
    per_address: DefaultKeyedRateLimiter<IpAddr>,
    /// When the per-address bucket was last pruned (at most once a second).
    pruned: Mutex<Option<Instant>>,
    overall: DefaultDirectRateLimiter,
    /// Address and email pairs that signed in, and when.
    known: Mutex<HashMap<(IpAddr, String), Instant>>,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        let quota = |burst: u32, per_second: u32| {
            Quota::per_second(NonZeroU32::new(per_second).expect("non-zero"))
                .allow_burst(NonZeroU32::new(burst).expect("non-zero"))
        };
        Self {
            failures: Mutex::default(),
            per_address: governor::RateLimiter::keyed(quota(
                PER_ADDRESS_BURST,
                PER_ADDRESS_PER_SECOND,
            )),
            pruned: Mutex::default(),
            overall: governor::RateLimiter::direct(quota(OVERALL_BURST, OVERALL_PER_SECOND)),
            known: Mutex::default(),
        }
    }
}

impl LoginThrottle {
    /// Starts a sign-in attempt for `email` from `client`, counting it as a
    /// failure until `record_success` says otherwise, so parallel guesses are
    /// throttled too. Refuses with the time left to wait when the attempt
    /// comes too soon.
    pub fn begin_attempt(&self, client: IpAddr, email: &str, now: Instant) -> Result<(), Duration> {
        let client = address_key(client);
        self.admit(client, email, now)?;
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        failures.retain(|_, (_, last)| now.saturating_duration_since(*last) < FORGET_AFTER);
        let (count, last) = failures
            .entry((client, email.to_owned()))
            .or_insert((0, now));
        if let Some(wait) = penalty(*count) {
            let elapsed = now.saturating_duration_since(*last);
            if elapsed < wait {
                return Err(wait - elapsed);
            }
        }
        *count += 1;
        *last = now;
        Ok(())
    }

    /// The per-address bucket, then the server's (an address over its share
    /// does not use up everyone's), which known pairs skip.
    fn admit(&self, client: IpAddr, email: &str, now: Instant) -> Result<(), Duration> {
        self.prune_addresses(now);
        let clock = DefaultClock::default();
        self.per_address
            .check_key(&client)
            .map_err(|not_until| not_until.wait_time_from(clock.now()))?;
        if self.is_known(client, email, now) {
            return Ok(());
        }
        self.overall
            .check()
            .map_err(|not_until| not_until.wait_time_from(clock.now()))
    }

    /// Drops idle addresses from the per-address bucket once it holds many,
    /// at most once a second (a pass reads every entry).
    fn prune_addresses(&self, now: Instant) {
        if self.per_address.len() <= ADDRESSES_KEPT {
            return;
        }
        let mut pruned = self.pruned.lock().unwrap_or_else(|e| e.into_inner());
        if pruned.is_none_or(|at| now.saturating_duration_since(at) >= Duration::from_secs(1)) {
            *pruned = Some(now);
            self.per_address.retain_recent();
        }
    }

    fn is_known(&self, client: IpAddr, email: &str, now: Instant) -> bool {
        self.known
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&(client, email.to_owned()))
            .is_some_and(|at| now.saturating_duration_since(*at) < KNOWN_FOR)
    }

    /// Marks the end of a failed attempt: the wait before the next one runs from here.
    pub fn record_failure(&self, client: IpAddr, email: &str, now: Instant) {
        let key = (address_key(client), email.to_owned());
        if let Some((_, last)) = self
            .failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_mut(&key)
        {
            *last = now;
        }
    }

    /// Takes back an attempt that was not a guess (the server was too busy to
    /// check it): the failures counted before it stay.
    pub fn undo_attempt(&self, client: IpAddr, email: &str) {
        let key = (address_key(client), email.to_owned());
        if let Some((count, _)) = self
            .failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_mut(&key)
        {
            *count = count.saturating_sub(1);
        }
    }

    /// Clears the pair's failures and remembers it as known.
    pub fn record_success(&self, client: IpAddr, email: &str, now: Instant) {
        let key = (address_key(client), email.to_owned());
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&key);
        let mut known = self.known.lock().unwrap_or_else(|e| e.into_inner());
        if known.len() >= KNOWN_KEPT {
            known.retain(|_, at| now.saturating_duration_since(*at) < KNOWN_FOR);
            if known.len() >= KNOWN_KEPT {
                // Full of recent pairs: the ones that signed in longest ago go.
                let oldest = known.values().min().copied();
                known.retain(|_, at| Some(*at) != oldest);
            }
        }
        known.insert(key, now);
    }
}

fn address_key(client: IpAddr) -> IpAddr {
    ClientAddr(client).key()
}

/// 1 s after the fourth failure, doubling up to a minute.
fn penalty(failures: u32) -> Option<Duration> {
    let over = failures.checked_sub(FREE_FAILURES)?.min(16);
    (over > 0).then(|| Duration::from_secs(1 << (over - 1)).min(MAX_WAIT))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOME: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));
    const AWAY: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 2));

    #[test]
    fn waits_grow_after_three_failures_and_reset_on_success() {
        let throttle = LoginThrottle::default();
        let t0 = Instant::now();
        for _ in 0..4 {
            assert_eq!(throttle.begin_attempt(HOME, "a@x.io", t0), Ok(()));
        }
        assert_eq!(
            throttle.begin_attempt(HOME, "a@x.io", t0),
            Err(Duration::from_secs(1))
        );
        let t1 = t0 + Duration::from_secs(1);
        assert_eq!(throttle.begin_attempt(HOME, "a@x.io", t1), Ok(()));
        assert_eq!(
            throttle.begin_attempt(HOME, "a@x.io", t1),
            Err(Duration::from_secs(2))
        );
        assert_eq!(
            throttle.begin_attempt(HOME, "b@x.io", t1),
            Ok(()),
            "other emails are unaffected"
        );
        assert_eq!(
            throttle.begin_attempt(AWAY, "a@x.io", t1),
            Ok(()),
            "the same email from another address is unaffected"
        );
        throttle.record_success(HOME, "a@x.io", t1);
        assert_eq!(throttle.begin_attempt(HOME, "a@x.io", t1), Ok(()));
    }

    #[test]
    fn an_attempt_taken_back_keeps_the_failures_before_it() {
        let throttle = LoginThrottle::default();
        let t0 = Instant::now();
        for _ in 0..4 {
            assert_eq!(throttle.begin_attempt(HOME, "a@x.io", t0), Ok(()));
        }
        let t1 = t0 + Duration::from_secs(1);
        assert_eq!(throttle.begin_attempt(HOME, "a@x.io", t1), Ok(()));
        throttle.undo_attempt(HOME, "a@x.io");
        assert!(
            throttle.begin_attempt(HOME, "a@x.io", t1).is_err(),
            "the fourth failure still imposes its wait"
        );
    }

    #[test]
    fn one_address_gets_a_burst_then_waits_while_others_go_on() {
        let throttle = LoginThrottle::default();
        let now = Instant::now();
        for n in 0..PER_ADDRESS_BURST {
            let email = format!("user{n}@x.io");
            assert_eq!(throttle.begin_attempt(HOME, &email, now), Ok(()));
        }
        let refused = throttle.begin_attempt(HOME, "one-more@x.io", now);
        assert!(matches!(refused, Err(wait) if wait <= Duration::from_secs(1)));
        assert_eq!(throttle.begin_attempt(AWAY, "one-more@x.io", now), Ok(()));
    }

    #[test]
    fn the_server_has_a_ceiling_over_all_addresses() {
        let throttle = LoginThrottle::default();
        let now = Instant::now();
        let admitted = (0..=OVERALL_BURST)
            .filter(|n| {
                let client = IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + n));
                throttle.begin_attempt(client, "a@x.io", now).is_ok()
            })
            .count();
        assert_eq!(admitted, OVERALL_BURST as usize);
    }

    #[test]
    fn a_known_address_and_email_sign_in_past_the_servers_ceiling() {
        let throttle = LoginThrottle::default();
        let now = Instant::now();
        throttle.record_success(HOME, "admin@x.io", now);
        for n in 0..OVERALL_BURST {
            let client = IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + n));
            assert_eq!(throttle.begin_attempt(client, "a@x.io", now), Ok(()));
        }
        assert!(throttle.begin_attempt(AWAY, "admin@x.io", now).is_err());
        assert_eq!(throttle.begin_attempt(HOME, "admin@x.io", now), Ok(()));
    }

    #[test]
    fn an_ipv6_client_is_its_slash_64_and_mapped_ipv4_is_ipv4() {
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(address_key(a), address_key(b));
        assert_ne!(address_key(a), address_key(c));
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        assert_eq!(address_key(mapped), HOME);
    }

    #[test]
    fn the_wait_is_capped() {
        assert_eq!(penalty(100), Some(MAX_WAIT));
        assert_eq!(penalty(3), None);
    }
}
