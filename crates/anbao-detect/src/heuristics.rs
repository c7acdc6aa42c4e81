//! Heuristics: findings about DNS names that no feed lists yet. Each one
//! has a documented method, a 0–100 score and a threshold in
//! [`HeuristicsConfig`]:
//!
//! - [`dga`]: algorithmically generated names, by a character trigram
//!   model of benign names trained at build time.
//! - [`tunnel`]: data carried in query names under one parent domain.
//! - [`lookalike`]: names made to pass for the operator's brand domains.
//! - [`flux`]: names answered with many addresses from many networks at
//!   short TTLs.
//!
//! [`Heuristics`] takes DNS [`Event`]s one by one and appends
//! [`Finding`]s. Its state is keyed by time from the events' own
//! timestamps (a capture replays as it happened), every table has an entry
//! cap, and a finding is repeated for the same (victim, heuristic,
//! registrable domain) at most once per `dedup_window_secs` (for `dga`, whose
//! names change with every query, once per victim). The victim is
//! the asking client: the source of a query, the destination of a
//! response.
//!
//! Cost: the common case (an ordinary name, a known parent domain) is a
//! lowercase copy into a reused buffer, a few table look-ups and one pass
//! of the trigram model; nothing is allocated except for findings and for
//! state of keys seen for the first time.

pub mod dga;
pub mod flux;
pub mod lookalike;
pub mod tunnel;

mod alphabet;
mod names;
mod table;

use std::net::IpAddr;

use anbao_net::event::{Rcode, RrType};
use anbao_net::{AnswerData, Dns, Event, Message, Qr, Timestamp};
use serde::{Deserialize, Serialize};
use thiserror::Error;

pub use dga::{DgaConfig, DgaScore};
pub use flux::FastFluxConfig;
pub use lookalike::LookalikeConfig;
pub use tunnel::TunnelConfig;

use names::{Hasher, Split};
use table::Table;

/// `Finding::heuristic` of each heuristic.
pub const DGA: &str = "dga";
pub const DNS_TUNNEL: &str = "dns_tunnel";
pub const LOOKALIKE: &str = "lookalike";
pub const FAST_FLUX: &str = "fast_flux";

/// Settings of all heuristics (the `[heuristics]` section of the config).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HeuristicsConfig {
    /// Seconds during which a finding is not repeated for the same victim,
    /// heuristic and registrable domain (for `dga`: the same victim).
    pub dedup_window_secs: u64,
    /// (victim, heuristic, domain) keys remembered for that (each about 64
    /// bytes). When full, expired keys go; if all are live, all go (a
    /// repeat may then be reported again, never lost).
    pub max_dedup_entries: usize,
    pub dga: DgaConfig,
    pub dns_tunnel: TunnelConfig,
    pub lookalike: LookalikeConfig,
    pub fast_flux: FastFluxConfig,
}

impl Default for HeuristicsConfig {
    fn default() -> Self {
        HeuristicsConfig {
            dedup_window_secs: 3600,
            max_dedup_entries: 100_000,
            dga: DgaConfig::default(),
            dns_tunnel: TunnelConfig::default(),
            lookalike: LookalikeConfig::default(),
            fast_flux: FastFluxConfig::default(),
        }
    }
}

/// A setting that cannot work, named by its path in the config.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("heuristics.{field}: {problem}")]
pub struct ConfigError {
    pub field: String,
    pub problem: String,
}

fn invalid(field: impl Into<String>, problem: impl Into<String>) -> ConfigError {
    ConfigError { field: field.into(), problem: problem.into() }
}

fn check_threshold(field: &str, value: u8) -> Result<(), ConfigError> {
    if value > 100 { Err(invalid(field, format!("{value} is over 100"))) } else { Ok(()) }
}

fn check_window(field: &str, value: u64) -> Result<(), ConfigError> {
    if value == 0 || i64::try_from(value).is_err() {
        Err(invalid(field, format!("{value} s is not a usable window")))
    } else {
        Ok(())
    }
}

fn check_range(field: &str, value: u32, lo: u32, hi: u32) -> Result<(), ConfigError> {
    if (lo..=hi).contains(&value) { Ok(()) } else { Err(invalid(field, format!("{value} is outside {lo}–{hi}"))) }
}

/// Domains whose names are left alone.
#[derive(Debug, Default)]
struct AllowSet(foldhash::HashSet<String>);

impl AllowSet {
    fn new(field: &str, entries: &[String]) -> Result<AllowSet, ConfigError> {
        let mut set = foldhash::HashSet::default();
        for entry in entries {
            let ascii = idna::domain_to_ascii(entry.trim())
                .map_err(|e| invalid(field, format!("{entry:?} is not a domain name: {e}")))?;
            let ascii = ascii.strip_suffix('.').unwrap_or(&ascii);
            if ascii.is_empty() {
                return Err(invalid(field, format!("{entry:?} is empty")));
            }
            set.insert(ascii.to_owned());
        }
        Ok(AllowSet(set))
    }

    /// `name` (normalized) is an entry or under one.
    fn covers(&self, name: &str) -> bool {
        !self.0.is_empty() && names::self_and_parents(name).any(|p| self.0.contains(p))
    }
}

impl HeuristicsConfig {
    /// Checks every setting; [`Heuristics::new`] calls it.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_window("dedup_window_secs", self.dedup_window_secs)?;
        let d = &self.dga;
        check_threshold("dga.threshold", d.threshold)?;
        check_range("dga.min_names", d.min_names, 1, 16)?;
        check_window("dga.window_secs", d.window_secs)?;
        AllowSet::new("dga.allow", &d.allow)?;
        let t = &self.dns_tunnel;
        check_threshold("dns_tunnel.threshold", t.threshold)?;
        check_threshold("dns_tunnel.encoded_label_score", t.encoded_label_score)?;
        check_window("dns_tunnel.window_secs", t.window_secs)?;
        check_range("dns_tunnel.min_queries", t.min_queries, 1, u32::MAX)?;
        if !(t.encoded_entropy_bits.is_finite() && t.encoded_entropy_bits >= 0.0) {
            return Err(invalid("dns_tunnel.encoded_entropy_bits", "must be a number of bits ≥ 0"));
        }
        record_types(&t.record_types)?;
        AllowSet::new("dns_tunnel.allow", &t.allow)?;
        let l = &self.lookalike;
        for (field, value) in [
            ("lookalike.threshold", l.threshold),
            ("lookalike.score_homoglyph", l.score_homoglyph),
            ("lookalike.score_edit_distance_1", l.score_edit_distance_1),
            ("lookalike.score_edit_distance_2", l.score_edit_distance_2),
            ("lookalike.score_brand_in_subdomain", l.score_brand_in_subdomain),
            ("lookalike.score_brand_in_label", l.score_brand_in_label),
            ("lookalike.score_other_tld", l.score_other_tld),
        ] {
            check_threshold(field, value)?;
        }
        brands(l)?;
        AllowSet::new("lookalike.allow", &l.allow)?;
        let f = &self.fast_flux;
        check_threshold("fast_flux.threshold", f.threshold)?;
        check_window("fast_flux.window_secs", f.window_secs)?;
        check_range("fast_flux.min_addresses", f.min_addresses, 1, 32)?;
        check_range("fast_flux.addresses_high", f.addresses_high, 2, 32)?;
        check_range("fast_flux.networks_high", f.networks_high, 2, 16)?;
        AllowSet::new("fast_flux.allow", &f.allow)?;
        Ok(())
    }
}

fn record_types(names: &[String]) -> Result<Vec<RrType>, ConfigError> {
    names
        .iter()
        .map(|n| {
            RrType::from_name(n.trim())
                .ok_or_else(|| invalid("dns_tunnel.record_types", format!("{n:?} is not a record type")))
        })
        .collect()
}

fn brands(config: &LookalikeConfig) -> Result<lookalike::Brands, ConfigError> {
    let brands = config
        .brands
        .iter()
        .map(|b| lookalike::Brand::new(b).map_err(|problem| invalid("lookalike.brands", format!("{b:?}: {problem}"))))
        .collect::<Result<Vec<_>, _>>()?;
    lookalike::Brands::new(brands, config).map_err(|problem| invalid("lookalike.brands", problem))
}

/// The alert category of a heuristic's findings: DGA names and fast-flux
/// hosting point at botnets, lookalikes at phishing; tunnelling is its own.
pub fn category_of(heuristic: &str) -> &'static str {
    match heuristic {
        DGA | FAST_FLUX => "botnet_cc",
        LOOKALIKE => "phishing",
        DNS_TUNNEL => "dns_tunnel",
        _ => "other",
    }
}

/// One heuristic's verdict about a name, for one victim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// [`DGA`], [`DNS_TUNNEL`], [`LOOKALIKE`] or [`FAST_FLUX`].
    pub heuristic: &'static str,
    pub victim: IpAddr,
    /// The name judged (lowercase): the registrable domain for `dga` and
    /// `dns_tunnel` (the parent the data goes to), the queried name for
    /// `lookalike` and `fast_flux`.
    pub name: String,
    /// 0–100, at least the heuristic's threshold.
    pub score: u8,
    /// Why, in words and numbers.
    pub reason: String,
    /// Time of the event that raised it.
    pub ts: Timestamp,
}

/// Counters since [`Heuristics::new`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HeuristicsStats {
    pub dns_events: u64,
    /// Names not judged: empty, the root, too long, one label, reverse
    /// look-ups (`.arpa`), IPv4 text.
    pub names_skipped: u64,
    /// Names that scored as DGA-like (before the per-victim count).
    pub dga_like_names: u64,
    pub findings: u64,
    /// Findings not repeated within the dedup window.
    pub duplicates_suppressed: u64,
    /// Times the dedup memory was full of live keys and was emptied.
    pub dedup_resets: u64,
    /// State entries dropped by full tables (DGA victims, tunnel pairs,
    /// flux names), lightest first.
    pub evicted: u64,
}

/// Entries held now, per table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tracked {
    pub dga_victims: usize,
    pub tunnel_pairs: usize,
    pub flux_names: usize,
    pub dedup_keys: usize,
}

/// The heuristics with their state. One per thread of events; not shared.
#[derive(Debug)]
pub struct Heuristics {
    config: HeuristicsConfig,
    hasher: Hasher,
    /// Reused buffers: the normalized name, a skeleton, a CNAME target.
    name_buf: String,
    skeleton_buf: String,
    target_buf: String,
    dga_allow: AllowSet,
    dga_victims: Table<IpAddr, dga::VictimNames>,
    tunnel_allow: AllowSet,
    tunnel_types: Vec<RrType>,
    tunnel_pairs: Table<(IpAddr, u64), tunnel::ParentWindow>,
    brands: lookalike::Brands,
    lookalike_allow: AllowSet,
    flux_allow: AllowSet,
    flux_names: Table<u64, flux::NameWindow>,
    /// Findings already raised; keyed from traffic, so foldhash with a
    /// per-process random seed like the tables.
    dedup: foldhash::HashMap<(IpAddr, u8, u64), i64>,
    stats: HeuristicsStats,
}

/// Dedup key part of each heuristic.
const DGA_ID: u8 = 0;
const TUNNEL_ID: u8 = 1;
const LOOKALIKE_ID: u8 = 2;
const FLUX_ID: u8 = 3;

impl Heuristics {
    pub fn new(config: HeuristicsConfig) -> Result<Heuristics, ConfigError> {
        config.validate()?;
        Ok(Heuristics {
            hasher: Hasher::default(),
            name_buf: String::new(),
            skeleton_buf: String::new(),
            target_buf: String::new(),
            dga_allow: AllowSet::new("dga.allow", &config.dga.allow)?,
            dga_victims: Table::new(config.dga.max_victims),
            tunnel_allow: AllowSet::new("dns_tunnel.allow", &config.dns_tunnel.allow)?,
            tunnel_types: record_types(&config.dns_tunnel.record_types)?,
            tunnel_pairs: Table::new(config.dns_tunnel.max_tracked),
            brands: brands(&config.lookalike)?,
            lookalike_allow: AllowSet::new("lookalike.allow", &config.lookalike.allow)?,
            flux_allow: AllowSet::new("fast_flux.allow", &config.fast_flux.allow)?,
            flux_names: Table::new(config.fast_flux.max_tracked),
            dedup: foldhash::HashMap::default(),
            stats: HeuristicsStats::default(),
            config,
        })
    }

    pub fn config(&self) -> &HeuristicsConfig {
        &self.config
    }

    pub fn stats(&self) -> HeuristicsStats {
        let mut stats = self.stats.clone();
        stats.evicted = self.dga_victims.evicted() + self.tunnel_pairs.evicted() + self.flux_names.evicted();
        stats
    }

    pub fn tracked(&self) -> Tracked {
        Tracked {
            dga_victims: self.dga_victims.len(),
            tunnel_pairs: self.tunnel_pairs.len(),
            flux_names: self.flux_names.len(),
            dedup_keys: self.dedup.len(),
        }
    }

    /// Judges a DNS event; other events are ignored. Findings are appended
    /// to `out`.
    pub fn dns(&mut self, event: &Event, out: &mut Vec<Finding>) {
        let Message::Dns(dns) = &event.message else {
            return;
        };
        self.stats.dns_events += 1;
        let ep = &event.endpoints;
        let victim = match dns.qr {
            Qr::Query => ep.src,
            Qr::Response => ep.dst.unwrap_or(ep.src),
        };
        let mut name = std::mem::take(&mut self.name_buf);
        match names::normalize_into(&dns.qname, &mut name).then(|| names::split(&name)).flatten() {
            None => self.stats.names_skipped += 1,
            Some(split) => {
                self.dga(victim, &split, event.ts, out);
                self.lookalike(victim, &split, event.ts, out);
                let tunnel_side = if self.config.dns_tunnel.from_responses { Qr::Response } else { Qr::Query };
                if dns.qr == tunnel_side {
                    self.tunnel(victim, &split, dns.qtype, event.ts, out);
                }
                if dns.qr == Qr::Response && dns.rcode == Rcode::NOERROR {
                    self.flux(victim, &split, dns, event.ts, out);
                }
            }
        }
        self.name_buf = name;
    }

    /// Every heuristic that applies to `event`: DNS messages in full; HTTP
    /// Host headers and TLS/QUIC server names as names the client asked for
    /// (DGA and lookalike checks).
    pub fn event(&mut self, event: &Event, out: &mut Vec<Finding>) {
        match &event.message {
            Message::Dns(_) => self.dns(event, out),
            Message::Http(http) => {
                if let Some(host) = http.host.as_deref() {
                    let host = crate::matcher::host_without_port(host);
                    self.host_name(event.endpoints.src, host, event.ts, out);
                }
            }
            Message::Tls(hello) | Message::Quic(hello) => {
                if let Some(sni) = hello.sni.as_deref() {
                    self.host_name(event.endpoints.src, sni, event.ts, out);
                }
            }
            Message::Flow(_) | Message::IdsAlert(_) => {}
        }
    }

    /// Judges a host name seen elsewhere (TLS SNI, HTTP Host without its
    /// port) by the per-name heuristics: DGA and lookalike. `victim` is the
    /// client.
    pub fn host_name(&mut self, victim: IpAddr, host: &str, ts: Timestamp, out: &mut Vec<Finding>) {
        let mut name = std::mem::take(&mut self.name_buf);
        match names::normalize_into(host, &mut name).then(|| names::split(&name)).flatten() {
            None => self.stats.names_skipped += 1,
            Some(split) => {
                self.dga(victim, &split, ts, out);
                self.lookalike(victim, &split, ts, out);
            }
        }
        self.name_buf = name;
    }

    fn dga(&mut self, victim: IpAddr, split: &Split<'_>, ts: Timestamp, out: &mut Vec<Finding>) {
        let config = &self.config.dga;
        if !config.enabled || split.label.len() < config.min_label_len || split.label.starts_with("xn--") {
            return;
        }
        let Some(score) = dga::score_label(split.label) else {
            return;
        };
        if score.score < config.threshold || self.dga_allow.covers(split.name) {
            return;
        }
        self.stats.dga_like_names += 1;
        let (now, window, min_names) = (ts.secs(), config.window_secs, config.min_names);
        let hash = self.hasher.hash(split.registrable);
        let Some(names) = self.dga_victims.entry(
            victim,
            || dga::VictimNames::new(now),
            |v| dga::expired(v, now, window),
            |v| u64::from(v.distinct),
        ) else {
            return;
        };
        if dga::expired(names, now, window) {
            *names = dga::VictimNames::new(now);
        }
        if names.note(hash) && names.samples.len() < dga::MAX_SAMPLES {
            names.samples.push((split.registrable.to_owned(), score));
        }
        if names.fired || names.distinct < min_names {
            return;
        }
        names.fired = true;
        let best = names.samples.iter().map(|(_, s)| s.score).max().unwrap_or(0).max(score.score);
        let reason = dga::reason(names, window);
        // A DGA finding is about the victim, not one of its many names: one
        // per victim per dedup window.
        if self.admit(DGA_ID, victim, 0, now) {
            self.push(out, DGA, victim, split.registrable.to_owned(), best, reason, ts);
        }
    }

    fn lookalike(&mut self, victim: IpAddr, split: &Split<'_>, ts: Timestamp, out: &mut Vec<Finding>) {
        let config = &self.config.lookalike;
        if !config.enabled || self.brands.is_empty() {
            return;
        }
        let mut skeleton = std::mem::take(&mut self.skeleton_buf);
        let found = lookalike::check(split, &self.brands, config, &mut skeleton)
            .filter(|m| m.score >= config.threshold && !self.lookalike_allow.covers(split.name));
        if let Some(m) = found
            && self.admit(LOOKALIKE_ID, victim, self.hasher.hash(split.registrable), ts.secs())
        {
            let reason = lookalike::reason(&m, &self.brands, &skeleton, split.label);
            self.push(out, LOOKALIKE, victim, split.name.to_owned(), m.score, reason, ts);
        }
        self.skeleton_buf = skeleton;
    }

    fn tunnel(&mut self, victim: IpAddr, split: &Split<'_>, qtype: RrType, ts: Timestamp, out: &mut Vec<Finding>) {
        let config = &self.config.dns_tunnel;
        if !config.enabled {
            return;
        }
        let (now, window) = (ts.secs(), config.window_secs);
        let parent = self.hasher.hash(split.registrable);
        let shape = tunnel::shape(split.sub, config);
        let sub_hash = (!split.sub.is_empty()).then(|| self.hasher.hash(split.sub));
        let typed = self.tunnel_types.contains(&qtype);
        let Some(pair) = self.tunnel_pairs.entry(
            (victim, parent),
            || tunnel::ParentWindow::new(now),
            |w| tunnel::expired(w, now, window),
            |w| u64::from(w.queries),
        ) else {
            return;
        };
        if tunnel::expired(pair, now, window) {
            *pair = tunnel::ParentWindow::new(now);
        }
        pair.add(split.name.len(), sub_hash, shape, typed);
        if pair.fired {
            return;
        }
        let score = pair.score(config);
        if score < config.threshold {
            return;
        }
        pair.fired = true;
        if self.tunnel_allow.covers(split.registrable) {
            return;
        }
        let reason = pair.reason(config, split.name);
        if self.admit(TUNNEL_ID, victim, parent, now) {
            self.push(out, DNS_TUNNEL, victim, split.registrable.to_owned(), score, reason, ts);
        }
    }

    fn flux(&mut self, victim: IpAddr, split: &Split<'_>, dns: &Dns, ts: Timestamp, out: &mut Vec<Finding>) {
        let config = &self.config.fast_flux;
        if !config.enabled || !dns.answers.iter().any(|a| matches!(a.data, AnswerData::Address(_))) {
            return;
        }
        if self.flux_allow.covers(split.name) {
            return;
        }
        for answer in &dns.answers {
            if let AnswerData::Name(target) = &answer.data
                && answer.rtype == RrType::CNAME
                && names::normalize_into(target, &mut self.target_buf)
                && self.flux_allow.covers(&self.target_buf)
            {
                return;
            }
        }
        let (now, window) = (ts.secs(), config.window_secs);
        let key = self.hasher.hash(split.name);
        let Some(name) = self.flux_names.entry(
            key,
            || flux::NameWindow::new(now),
            |w| flux::expired(w, now, window),
            |w| u64::from(w.responses),
        ) else {
            return;
        };
        if flux::expired(name, now, window) {
            *name = flux::NameWindow::new(now);
        }
        name.responses = name.responses.saturating_add(1);
        for answer in &dns.answers {
            if let AnswerData::Address(addr) = answer.data {
                name.add(addr, answer.ttl, config);
            }
        }
        let score = match name.flagged {
            Some(score) => score,
            None => {
                let score = name.score(config);
                if score < config.threshold {
                    return;
                }
                name.flagged = Some(score);
                score
            }
        };
        let reason = name.reason(config);
        if self.admit(FLUX_ID, victim, self.hasher.hash(split.registrable), now) {
            self.push(out, FAST_FLUX, victim, split.name.to_owned(), score, reason, ts);
        }
    }

    /// Whether a finding for this key may be reported now (and remembers
    /// that it was).
    fn admit(&mut self, heuristic: u8, victim: IpAddr, domain: u64, now: i64) -> bool {
        let window = i64::try_from(self.config.dedup_window_secs).unwrap_or(i64::MAX);
        let key = (victim, heuristic, domain);
        if let Some(last) = self.dedup.get_mut(&key) {
            if now.saturating_sub(*last) < window {
                self.stats.duplicates_suppressed += 1;
                return false;
            }
            *last = now;
            return true;
        }
        if self.dedup.len() >= self.config.max_dedup_entries {
            self.dedup.retain(|_, last| now.saturating_sub(*last) < window);
            if self.dedup.len() >= self.config.max_dedup_entries {
                self.dedup.clear();
                self.stats.dedup_resets += 1;
            }
        }
        if self.config.max_dedup_entries > 0 {
            self.dedup.insert(key, now);
        }
        true
    }

    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        out: &mut Vec<Finding>,
        heuristic: &'static str,
        victim: IpAddr,
        name: String,
        score: u8,
        reason: String,
        ts: Timestamp,
    ) {
        self.stats.findings += 1;
        out.push(Finding { heuristic, victim, name, score, reason, ts });
    }
}
