//! Fast-flux: one name answered, over a window, with many addresses from
//! many networks at short TTLs (a botnet's proxies, rotated faster than
//! anyone can block them).
//!
//! Method (after Holz et al., "Measuring and Detecting Fast-Flux Service
//! Networks", NDSS 2008, with /16 networks standing in for their AS
//! numbers, which this crate cannot look up). Per queried name, over a
//! tumbling window of `window_secs` from its first answer, collect the
//! distinct A/AAAA addresses (first 32), their distinct networks (/16 for
//! IPv4, /32 for IPv6; first 16) and how many answers had a TTL below
//! `short_ttl_secs`. With at least `min_addresses` addresses the score is
//!
//! ```text
//!   30 × min(1, (addresses − 1) / (addresses_high − 1))
//! + 50 × min(1, (networks − 1) / (networks_high − 1))
//! + 20 × share of answers with a short TTL
//! ```
//!
//! A name that reaches the threshold stays flagged for the rest of its
//! window, and every victim that gets an answer for it is reported (once
//! per window each). A CDN answering from one or two networks scores at
//! most about 57; round-robin with a handful of addresses is below
//! `min_addresses`. CDNs that spread one name over many networks, and
//! pools such as `pool.ntp.org`, would score like flux: names under the
//! `allow` list, or answered through a CNAME into it, are skipped.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

pub const ADDRESS_POINTS: f32 = 30.0;
pub const NETWORK_POINTS: f32 = 50.0;
pub const TTL_POINTS: f32 = 20.0;

const MAX_ADDRESSES: usize = 32;
const MAX_NETWORKS: usize = 16;

/// Settings of the fast-flux heuristic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FastFluxConfig {
    /// Run this heuristic.
    pub enabled: bool,
    /// Score (0–100) at which a name is flagged.
    pub threshold: u8,
    /// Window in seconds over which a name's answers are collected.
    pub window_secs: u64,
    /// Distinct addresses a name needs before it is scored at all.
    pub min_addresses: u32,
    /// Distinct addresses that earn the full 30 points (2–32).
    pub addresses_high: u32,
    /// Distinct /16 (IPv4) or /32 (IPv6) networks that earn the full 50
    /// points (2–16).
    pub networks_high: u32,
    /// Answers with a TTL below this many seconds count as short.
    pub short_ttl_secs: u32,
    /// Names tracked at once (each up to about 700 bytes).
    pub max_tracked: usize,
    /// Names under these domains, or answered through a CNAME to a name
    /// under them, are not scored: CDNs and pools that legitimately hand
    /// out many addresses from many networks.
    pub allow: Vec<String>,
}

impl Default for FastFluxConfig {
    fn default() -> Self {
        FastFluxConfig {
            enabled: true,
            threshold: 65,
            window_secs: 3600,
            min_addresses: 5,
            addresses_high: 20,
            networks_high: 8,
            short_ttl_secs: 300,
            max_tracked: 50_000,
            allow: [
                "pool.ntp.org",
                "akamai.net",
                "akamaiedge.net",
                "akadns.net",
                "edgekey.net",
                "edgesuite.net",
                "cloudfront.net",
                "fastly.net",
                "fastlylb.net",
                "cloudflare.net",
                "azureedge.net",
                "trafficmanager.net",
                "amazonaws.com",
                "googleusercontent.com",
            ]
            .map(String::from)
            .to_vec(),
        }
    }
}

/// One name's window.
#[derive(Debug)]
pub(crate) struct NameWindow {
    pub window_start: i64,
    pub responses: u32,
    answers: u32,
    short: u32,
    min_ttl: u32,
    addresses: Vec<u128>,
    networks: Vec<u64>,
    pub flagged: Option<u8>,
}

fn address_key(addr: IpAddr) -> u128 {
    match addr {
        IpAddr::V4(a) => u128::from(a.to_ipv6_mapped()),
        IpAddr::V6(a) => u128::from(a),
    }
}

/// The /16 (IPv4) or /32 (IPv6) network, tagged by family.
fn network_key(addr: IpAddr) -> u64 {
    match addr {
        IpAddr::V4(a) => (4 << 32) | u64::from(u32::from(a) >> 16),
        IpAddr::V6(a) => (6 << 32) | (u128::from(a) >> 96) as u64,
    }
}

impl NameWindow {
    pub(crate) fn new(now: i64) -> Self {
        NameWindow {
            window_start: now,
            responses: 0,
            answers: 0,
            short: 0,
            min_ttl: u32::MAX,
            addresses: Vec::new(),
            networks: Vec::new(),
            flagged: None,
        }
    }

    pub(crate) fn add(&mut self, addr: IpAddr, ttl: u32, config: &FastFluxConfig) {
        self.answers = self.answers.saturating_add(1);
        self.short += u32::from(ttl < config.short_ttl_secs);
        self.min_ttl = self.min_ttl.min(ttl);
        let a = address_key(addr);
        if self.addresses.len() < MAX_ADDRESSES && !self.addresses.contains(&a) {
            self.addresses.push(a);
        }
        let n = network_key(addr);
        if self.networks.len() < MAX_NETWORKS && !self.networks.contains(&n) {
            self.networks.push(n);
        }
    }

    /// The score (0–100), 0 below `min_addresses`.
    pub(crate) fn score(&self, config: &FastFluxConfig) -> u8 {
        let addresses = self.addresses.len() as f32;
        if addresses < config.min_addresses as f32 || self.answers == 0 {
            return 0;
        }
        let ramp = |n: f32, high: u32| ((n - 1.0) / (high.max(2) - 1) as f32).clamp(0.0, 1.0);
        let points = ADDRESS_POINTS * ramp(addresses, config.addresses_high)
            + NETWORK_POINTS * ramp(self.networks.len() as f32, config.networks_high)
            + TTL_POINTS * self.short as f32 / self.answers as f32;
        points.round().clamp(0.0, 100.0) as u8
    }

    pub(crate) fn reason(&self, config: &FastFluxConfig) -> String {
        format!(
            "{} distinct addresses in {} networks (/16 or /32) within {} s over {} responses; \
             {} of {} answers with TTL under {} s (lowest {} s)",
            self.addresses.len(),
            self.networks.len(),
            config.window_secs,
            self.responses,
            self.short,
            self.answers,
            config.short_ttl_secs,
            if self.min_ttl == u32::MAX { 0 } else { self.min_ttl },
        )
    }
}

pub(crate) fn expired(w: &NameWindow, now: i64, window_secs: u64) -> bool {
    now.saturating_sub(w.window_start) >= i64::try_from(window_secs).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_are_slash_16_and_slash_32() {
        let a = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(network_key(a("198.51.1.1")), network_key(a("198.51.200.9")));
        assert_ne!(network_key(a("198.51.1.1")), network_key(a("198.52.1.1")));
        assert_eq!(network_key(a("2001:db8:1::1")), network_key(a("2001:db8:ffff::1")));
        assert_ne!(network_key(a("2001:db8::1")), network_key(a("2001:db9::1")));
        // Families never share a key.
        assert_ne!(network_key(a("0.0.0.1")), network_key(a("::1")));
    }
}
