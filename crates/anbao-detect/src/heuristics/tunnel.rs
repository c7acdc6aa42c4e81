//! DNS tunnelling: data carried in query names under one parent domain
//! (iodine, dnscat2, DNS exfiltration).
//!
//! Method. Per (client, registrable parent domain), over a tumbling window
//! of `window_secs` from the pair's first query, count the queries, the
//! distinct subdomains (a 512-bit linear counter: exact-ish to a few
//! hundred, saturating near 3 200, fixed 64 bytes), the queries whose
//! subdomain looks encoded, the queries of tunnel-friendly record types
//! (`record_types`), and the bytes of query names. A subdomain looks
//! encoded when it has a label of at least `long_label` characters; or at
//! least `encoded_min_len` characters with Shannon entropy of at least
//! `encoded_entropy_bits`; or a character a host name cannot hold (`=`,
//! `+`, `/`, escaped bytes: base64 payloads); or a label of at least
//! `encoded_label_min_len` characters that the DGA character model scores
//! at least `encoded_label_score` (short base32/base64 chunks, which
//! entropy over few characters misses). Subdomains that spell an IPv4
//! address (`ec2-54-1-2-3.compute-1`) are exempt from the last two tests.
//! Once the pair has
//! `min_queries` queries the score is
//!
//! ```text
//!   30 × min(1, distinct subdomains / unique_subdomains_high)
//! + 40 × share of encoded-looking queries
//! + 15 × share of queries of the listed record types
//! + 15 × min(1, query-name bytes / qname_bytes_high)
//! ```
//!
//! and the pair is reported once per window when the score reaches the
//! threshold. Many subdomains alone (a CDN's numbered hosts, DNSBL
//! look-ups) reach at most 45; encoded names are what tip it. Services
//! that legitimately carry data in names (anti-virus reputation look-ups,
//! DNS blocklists) are in the default allow list.

use serde::{Deserialize, Serialize};

use super::dga::score_label;
use super::names::entropy;

/// Points of each signal (they add up to 100).
pub const UNIQUE_POINTS: f32 = 30.0;
pub const ENCODED_POINTS: f32 = 40.0;
pub const RECORD_TYPE_POINTS: f32 = 15.0;
pub const BYTES_POINTS: f32 = 15.0;

/// Bits of the distinct-subdomain counter.
const COUNTER_BITS: usize = 512;

/// Settings of the DNS tunnelling heuristic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TunnelConfig {
    /// Run this heuristic.
    pub enabled: bool,
    /// Score (0–100) at which a (client, parent domain) pair is reported.
    pub threshold: u8,
    /// Window in seconds over which a pair's queries are added up.
    pub window_secs: u64,
    /// Queries a pair needs in the window before it is scored at all.
    pub min_queries: u32,
    /// A subdomain label at least this long (characters) counts as encoded.
    pub long_label: usize,
    /// Subdomains with at least this many characters (dots not counted)…
    pub encoded_min_len: usize,
    /// …and at least this Shannon entropy (bits per character) count as
    /// encoded. Random hex over 24 characters averages about 3.5, base32
    /// about 4.2; host names like `img-042.cdn` stay near 2.5–3.
    pub encoded_entropy_bits: f32,
    /// Subdomain labels at least this long are scored by the DGA character
    /// model…
    pub encoded_label_min_len: usize,
    /// …and count as encoded from this score (0–100, the DGA scale).
    pub encoded_label_score: u8,
    /// Distinct subdomains in a window that earn the full 30 points.
    pub unique_subdomains_high: u32,
    /// Bytes of query names in a window that earn the full 15 points.
    pub qname_bytes_high: u64,
    /// Query types tunnels favour (mnemonics or `TYPEn`).
    pub record_types: Vec<String>,
    /// Count responses instead of queries: for sources that log only
    /// responses (Zeek `dns.log`). With packet captures leave it off, or
    /// each exchange counts twice.
    pub from_responses: bool,
    /// (client, parent) pairs tracked at once (each about 120 bytes).
    pub max_tracked: usize,
    /// Parent domains (and everything under them) never reported.
    pub allow: Vec<String>,
}

impl Default for TunnelConfig {
    fn default() -> Self {
        TunnelConfig {
            enabled: true,
            threshold: 60,
            window_secs: 300,
            min_queries: 30,
            long_label: 40,
            encoded_min_len: 24,
            encoded_entropy_bits: 3.2,
            encoded_label_min_len: 8,
            encoded_label_score: 70,
            unique_subdomains_high: 300,
            qname_bytes_high: 20_000,
            record_types: ["TXT", "NULL", "CNAME", "MX", "SRV", "ANY"].map(String::from).to_vec(),
            from_responses: false,
            max_tracked: 50_000,
            allow: [
                // Anti-virus and reputation services that encode hashes in names.
                "sophosxl.net",
                "mcafee.com",
                "e5.sk",
                // DNS blocklists.
                "spamhaus.org",
                "spamcop.net",
                "barracudacentral.org",
                "surbl.org",
                "uribl.com",
                "sorbs.net",
            ]
            .map(String::from)
            .to_vec(),
        }
    }
}

/// One (client, parent) pair's window.
#[derive(Debug)]
pub(crate) struct ParentWindow {
    pub window_start: i64,
    pub queries: u32,
    pub encoded: u32,
    pub typed: u32,
    pub qname_bytes: u64,
    pub longest_label: usize,
    counter: [u64; COUNTER_BITS / 64],
    pub fired: bool,
}

/// What one query name adds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct QueryShape {
    pub encoded: bool,
    pub longest_label: usize,
}

/// Measures the subdomain part of a query name.
pub(crate) fn shape(sub: &str, config: &TunnelConfig) -> QueryShape {
    let longest_label = sub.split('.').map(str::len).max().unwrap_or(0);
    let chars = sub.len() - sub.bytes().filter(|&b| b == b'.').count();
    let encoded = longest_label >= config.long_label
        || sub.bytes().any(|b| !(b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.'))
        || (!embeds_ipv4(sub)
            && ((chars >= config.encoded_min_len && entropy_without_dots(sub) >= config.encoded_entropy_bits)
                || sub.split('.').any(|label| {
                    label.len() >= config.encoded_label_min_len
                        && score_label(label).is_some_and(|s| s.score >= config.encoded_label_score)
                })));
    QueryShape { encoded, longest_label }
}

/// Host names that spell an IPv4 address (`ec2-54-1-2-3.compute-1`,
/// `4.3.2.1` of a blocklist look-up, `host-10-0-0-1`): four or more runs of
/// one to three digits. Their digits make them look random to entropy and
/// the character model, but they are addresses, not payloads.
fn embeds_ipv4(sub: &str) -> bool {
    sub.split(['.', '-']).filter(|t| (1..=3).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_digit())).count() >= 4
}

fn entropy_without_dots(sub: &str) -> f32 {
    // Subdomains are at most a few hundred bytes; copy them without dots
    // onto the stack rather than allocate.
    let mut buf = [0u8; 1024];
    let mut n = 0;
    for b in sub.bytes().filter(|&b| b != b'.') {
        if let Some(slot) = buf.get_mut(n) {
            *slot = b;
            n += 1;
        }
    }
    entropy(buf.get(..n).unwrap_or(&[]))
}

impl ParentWindow {
    pub(crate) fn new(now: i64) -> Self {
        ParentWindow {
            window_start: now,
            queries: 0,
            encoded: 0,
            typed: 0,
            qname_bytes: 0,
            longest_label: 0,
            counter: [0; COUNTER_BITS / 64],
            fired: false,
        }
    }

    pub(crate) fn add(&mut self, name_len: usize, sub_hash: Option<u64>, shape: QueryShape, typed: bool) {
        self.queries = self.queries.saturating_add(1);
        self.qname_bytes = self.qname_bytes.saturating_add(name_len as u64);
        self.encoded += u32::from(shape.encoded);
        self.typed += u32::from(typed);
        self.longest_label = self.longest_label.max(shape.longest_label);
        if let Some(h) = sub_hash {
            let bit = (h % COUNTER_BITS as u64) as usize;
            if let Some(word) = self.counter.get_mut(bit / 64) {
                *word |= 1 << (bit % 64);
            }
        }
    }

    /// Distinct subdomains, by linear counting: `-m · ln(empty bits / m)`.
    pub(crate) fn distinct_subdomains(&self) -> u32 {
        let m = COUNTER_BITS as f64;
        let empty = f64::from(self.counter.iter().map(|w| w.count_zeros()).sum::<u32>());
        let estimate = if empty == 0.0 { m * m.ln() } else { -m * (empty / m).ln() };
        estimate.round() as u32
    }

    /// The score (0–100), 0 below `min_queries`.
    pub(crate) fn score(&self, config: &TunnelConfig) -> u8 {
        if self.queries < config.min_queries || self.queries == 0 {
            return 0;
        }
        let queries = self.queries as f32;
        let unique = (self.distinct_subdomains() as f32 / config.unique_subdomains_high.max(1) as f32).min(1.0);
        let bytes = (self.qname_bytes as f32 / config.qname_bytes_high.max(1) as f32).min(1.0);
        let points = UNIQUE_POINTS * unique
            + ENCODED_POINTS * self.encoded as f32 / queries
            + RECORD_TYPE_POINTS * self.typed as f32 / queries
            + BYTES_POINTS * bytes;
        points.round().clamp(0.0, 100.0) as u8
    }

    pub(crate) fn reason(&self, config: &TunnelConfig, example: &str) -> String {
        let share = |n: u32| 100.0 * n as f32 / self.queries.max(1) as f32;
        format!(
            "{} queries within {} s: ~{} distinct subdomains, {:.0}% encoded-looking (longest label {}), \
             {:.0}% of types {}, {} bytes of names; e.g. {example}",
            self.queries,
            config.window_secs,
            self.distinct_subdomains(),
            share(self.encoded),
            self.longest_label,
            share(self.typed),
            config.record_types.join("/"),
            self.qname_bytes,
        )
    }
}

pub(crate) fn expired(w: &ParentWindow, now: i64, window_secs: u64) -> bool {
    now.saturating_sub(w.window_start) >= i64::try_from(window_secs).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_counting_is_close_for_hundreds() {
        let mut w = ParentWindow::new(0);
        let shape = QueryShape { encoded: false, longest_label: 3 };
        // SplitMix64 outputs stand in for name hashes.
        let mut z = 0u64;
        for _ in 0..300 {
            z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut x = z;
            x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            w.add(10, Some(x ^ (x >> 31)), shape, false);
        }
        let n = w.distinct_subdomains();
        assert!((270..=330).contains(&n), "{n}");
    }

    #[test]
    fn encoded_payloads_look_encoded_and_host_names_do_not() {
        let c = TunnelConfig::default();
        assert!(shape("mfzwizltoq2dgnbvgy3tqojqgeztenbv", &c).encoded);
        assert!(shape("4a6f686e20536d6974682c2031323334.3536", &c).encoded);
        assert!(!shape("img-042.static", &c).encoded);
        // dns2tcp's short base64 chunks (Suricata-Verify dns/bug-1158).
        assert!(shape("hvmaaqacba.srv", &c).encoded);
        assert!(shape("aaaaao1kqa.=auth.srv", &c).encoded);
        assert!(!shape("safebrowsing.clients4", &c).encoded);
        assert!(!shape("ec2-54-159-102-141.compute-1", &c).encoded);
        assert!(!shape("141.102.159.54.bl", &c).encoded);
        assert!(!shape("www", &c).encoded);
        assert!(!shape("", &c).encoded);
    }
}
