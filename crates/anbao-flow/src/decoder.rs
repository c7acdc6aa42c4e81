//! The [`Decoder`]: a collector's state between export datagrams, and the
//! per-source [`Health`] counters.
//!
//! A source is one (exporter address, version, domain): NetFlow v9 source
//! id, IPFIX observation domain, sFlow sub-agent, NetFlow v5 engine. Each
//! keeps its templates, announced sampling, waiting data sets and sequence
//! position; the number of sources is bounded (`max_sources`), so a flood
//! of spoofed exporters cannot grow memory.
//!
//! Sequence gaps (export datagrams lost on the way) are counted per source
//! in the unit of its protocol: NetFlow v5 flows, NetFlow v9 datagrams,
//! IPFIX data records, sFlow datagrams. A sequence that goes backwards
//! (an exporter restart, reordering) re-synchronises without counting.
//! IPFIX: RFC 7011 has the header count the records sent *before* the
//! message; softflowd 1.1 counts them *including* it. The first message
//! pair that fits one convention decides for the source.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::time::Duration;

use anbao_net::Timestamp;
use serde::Serialize;

use crate::error::FlowError;
use crate::record::{FlowRecord, Version};
use crate::template::{self, Budget, Context, TemplateState};
use crate::{sflow, v5};

/// Most problems kept in one [`PacketReport`].
pub const MAX_PROBLEMS_PER_PACKET: usize = 8;

/// Bounds and overrides.
#[derive(Debug, Clone)]
pub struct DecoderConfig {
    /// Most sources (exporter, version, domain) tracked; datagrams of new
    /// sources beyond it are refused ([`FlowError::Limit`]).
    pub max_sources: usize,
    /// Most templates (data and options) per source.
    pub max_templates_per_source: usize,
    /// Most fields in one template.
    pub max_fields_per_template: usize,
    /// Most template fields held by the whole decoder.
    pub max_template_fields: usize,
    /// Most data sets per source kept while their template is unknown (0:
    /// drop them at once).
    pub max_pending_sets: usize,
    /// Most bytes of such data sets held by the whole decoder.
    pub max_pending_bytes: usize,
    /// How long such a data set waits for its template before it is dropped.
    pub pending_max_age: Duration,
    /// Sampling rates set by the operator per exporter address; they win
    /// over what the exporter announces.
    pub sampling_overrides: HashMap<IpAddr, u32>,
}

impl Default for DecoderConfig {
    fn default() -> Self {
        DecoderConfig {
            max_sources: 4096,
            max_templates_per_source: 1024,
            max_fields_per_template: 512,
            max_template_fields: 1 << 20,
            max_pending_sets: 64,
            max_pending_bytes: 4 << 20,
            pending_max_age: Duration::from_secs(30),
            sampling_overrides: HashMap::new(),
        }
    }
}

/// Identifies a source of export datagrams.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct SourceKey {
    pub exporter: IpAddr,
    pub version: Version,
    pub domain: u32,
}

/// Counters of one source (or, summed, of one exporter).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Health {
    /// Export datagrams received (decodable or not).
    pub packets: u64,
    /// Flow records decoded.
    pub flows: u64,
    /// Times the sequence number jumped forward.
    pub sequence_gaps: u64,
    /// What the jumps add up to, in the protocol's unit (v5 flows, v9
    /// datagrams, IPFIX records, sFlow datagrams).
    pub sequence_lost: u64,
    /// Templates refused (malformed, over a limit).
    pub template_errors: u64,
    /// Datagrams (or data sets) that could not be read.
    pub malformed: u64,
    /// Data sets that arrived before their template and were kept.
    pub parked_sets: u64,
    /// Kept data sets decoded when their template came.
    pub late_sets: u64,
    /// Data sets dropped: no template in time, or over the waiting limits.
    pub dropped_sets: u64,
    /// Templates withdrawn (IPFIX).
    pub withdrawals: u64,
    /// Options data records read (sampling, system init time).
    pub options_records: u64,
    /// sFlow counter samples (skipped).
    pub counter_samples: u64,
    /// sFlow flow samples without a readable packet.
    pub undecodable_samples: u64,
    /// Templates held now.
    pub templates: u64,
    /// The sampling rate the exporter announced last (options data, v5
    /// header), if any.
    pub announced_sampling_rate: Option<u32>,
    pub first_seen: Option<Timestamp>,
    pub last_seen: Option<Timestamp>,
}

impl Health {
    /// Adds `other` (another source of the same exporter).
    pub fn add(&mut self, other: &Health) {
        self.packets += other.packets;
        self.flows += other.flows;
        self.sequence_gaps += other.sequence_gaps;
        self.sequence_lost += other.sequence_lost;
        self.template_errors += other.template_errors;
        self.malformed += other.malformed;
        self.parked_sets += other.parked_sets;
        self.late_sets += other.late_sets;
        self.dropped_sets += other.dropped_sets;
        self.withdrawals += other.withdrawals;
        self.options_records += other.options_records;
        self.counter_samples += other.counter_samples;
        self.undecodable_samples += other.undecodable_samples;
        self.templates += other.templates;
        self.announced_sampling_rate = self.announced_sampling_rate.or(other.announced_sampling_rate);
        self.first_seen = match (self.first_seen, other.first_seen) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.last_seen = self.last_seen.max(other.last_seen);
    }
}

/// Where a source's sequence stands.
#[derive(Debug, Default)]
struct Sequence {
    /// The last sequence number and the count of units in that message.
    last: Option<(u32, u32)>,
    /// IPFIX: the exporter counts the current message too (softflowd).
    inclusive: Option<bool>,
}

impl Sequence {
    /// Accounts for a message with sequence `seq` holding `count` units
    /// (`None`: unknown, then the next message re-synchronises).
    fn next(&mut self, seq: u32, count: Option<u32>, dual: bool, health: &mut Health) {
        if let Some((last, last_count)) = self.last {
            let rfc = seq.wrapping_sub(last.wrapping_add(last_count)) as i32;
            let incl = count.map(|c| seq.wrapping_sub(c).wrapping_sub(last) as i32);
            let gap = match (dual, self.inclusive, incl) {
                (true, None, Some(i)) if rfc != 0 && i == 0 => {
                    self.inclusive = Some(true);
                    0
                }
                (true, None, _) if rfc == 0 => {
                    self.inclusive = Some(false);
                    0
                }
                (true, Some(true), Some(i)) => i,
                _ => rfc,
            };
            // Negative: restart or reordering; enormous: not a gap either.
            if gap > 0 {
                health.sequence_gaps += 1;
                health.sequence_lost += gap as u64;
            }
        }
        self.last = count.map(|c| (seq, c));
    }
}

#[derive(Debug, Default)]
struct Source {
    health: Health,
    templates: TemplateState,
    sequence: Sequence,
}

/// What one datagram gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PacketReport {
    pub source: SourceKey,
    /// Flow records delivered (including data sets that waited for this
    /// datagram's templates).
    pub flows: u32,
    /// Problems that did not stop the datagram (bad templates, a record
    /// cut short), at most [`MAX_PROBLEMS_PER_PACKET`].
    pub problems: Vec<FlowError>,
}

/// The collector's decoding state. Feed it every export datagram of every
/// exporter, in arrival order.
#[derive(Debug, Default)]
pub struct Decoder {
    config: DecoderConfig,
    sources: HashMap<SourceKey, Source>,
    budget: Budget,
}

impl Decoder {
    pub fn new(config: DecoderConfig) -> Self {
        Decoder { config, sources: HashMap::new(), budget: Budget::default() }
    }

    /// Decodes one UDP payload from `exporter` received at `received`,
    /// handing each flow record to `out`. An error means the datagram (or
    /// its rest) could not be read; records delivered before it stand.
    /// [`FlowError::NotFlowExport`] leaves no trace in the state.
    pub fn decode(
        &mut self,
        exporter: IpAddr,
        received: Timestamp,
        payload: &[u8],
        out: &mut impl FnMut(FlowRecord),
    ) -> Result<PacketReport, FlowError> {
        let version = sniff(payload)?;
        let rate_override = self.config.sampling_overrides.get(&exporter).copied();
        match version {
            Version::NetflowV5 => {
                // The domain is in the header's last bytes; a datagram too
                // short for it counts against domain 0.
                let domain =
                    payload.get(20..22).and_then(|d| d.try_into().ok()).map_or(0, |d| u32::from(u16::from_be_bytes(d)));
                let key = SourceKey { exporter, version, domain };
                let mut flows = 0u32;
                let result = v5::decode(payload, exporter, rate_override, &mut |r| {
                    flows += 1;
                    out(r)
                });
                let source = self.source(key, received)?;
                source.health.flows += u64::from(flows);
                match result {
                    Ok(h) => {
                        source.health.announced_sampling_rate = Some(h.sampling_rate);
                        source.sequence.next(h.sequence, Some(u32::from(h.count)), false, &mut source.health);
                        Ok(PacketReport { source: key, flows, problems: Vec::new() })
                    }
                    Err(e) => {
                        source.health.malformed += 1;
                        Err(e)
                    }
                }
            }
            Version::SflowV5 => {
                let domain = sflow_sub_agent(payload);
                let key = SourceKey { exporter, version, domain };
                let mut flows = 0u32;
                let result = sflow::decode(payload, exporter, received, rate_override, &mut |r| {
                    flows += 1;
                    out(r)
                });
                let source = self.source(key, received)?;
                source.health.flows += u64::from(flows);
                match result {
                    Ok(s) => {
                        source.health.counter_samples += u64::from(s.counter_samples);
                        source.health.undecodable_samples += u64::from(s.undecodable);
                        source.sequence.next(s.sequence, Some(1), false, &mut source.health);
                        Ok(PacketReport { source: key, flows, problems: Vec::new() })
                    }
                    Err(e) => {
                        source.health.malformed += 1;
                        Err(e)
                    }
                }
            }
            Version::NetflowV9 | Version::Ipfix => {
                let h = match template::header(payload) {
                    Ok(h) => h,
                    Err(e) => {
                        let key = SourceKey { exporter, version, domain: 0 };
                        self.source(key, received)?.health.malformed += 1;
                        return Err(e);
                    }
                };
                let key = SourceKey { exporter, version, domain: h.domain };
                self.source(key, received)?;
                let Some(source) = self.sources.get_mut(&key) else {
                    return Err(FlowError::Limit { what: "sources", at: 0 });
                };
                let mut problems = Vec::new();
                let mut cx = Context {
                    config: &self.config,
                    state: &mut source.templates,
                    budget: &mut self.budget,
                    health: &mut source.health,
                    problems: &mut problems,
                    exporter,
                    received,
                    rate_override,
                };
                let flows_before = cx.health.flows;
                let result = template::decode_sets(&h, payload, &mut cx, out);
                let flows = u32::try_from(source.health.flows - flows_before).unwrap_or(u32::MAX);
                source.health.templates = source.templates.template_count() as u64;
                if let Some(rate) = source.templates.announced_rate() {
                    source.health.announced_sampling_rate = Some(rate);
                }
                match result {
                    Ok(o) => {
                        let (count, dual) = match h.version {
                            Version::Ipfix => (o.records_known.then_some(o.records), true),
                            _ => (Some(1), false),
                        };
                        source.sequence.next(h.sequence, count, dual, &mut source.health);
                        Ok(PacketReport { source: key, flows, problems })
                    }
                    Err(e) => {
                        source.health.malformed += 1;
                        source.sequence.last = None;
                        Err(e)
                    }
                }
            }
        }
    }

    /// The source's state, created within the limit, with its packet
    /// counted and last-seen time moved.
    fn source(&mut self, key: SourceKey, received: Timestamp) -> Result<&mut Source, FlowError> {
        if !self.sources.contains_key(&key) && self.sources.len() >= self.config.max_sources {
            return Err(FlowError::Limit { what: "sources", at: 0 });
        }
        let s = self.sources.entry(key).or_default();
        s.health.packets += 1;
        s.health.first_seen = s.health.first_seen.or(Some(received));
        s.health.last_seen = s.health.last_seen.max(Some(received));
        Ok(s)
    }

    /// Every source and its counters.
    pub fn sources(&self) -> impl Iterator<Item = (&SourceKey, &Health)> {
        self.sources.iter().map(|(k, s)| (k, &s.health))
    }

    /// Counters summed per exporter address, in address order.
    pub fn exporters(&self) -> BTreeMap<IpAddr, Health> {
        let mut out: BTreeMap<IpAddr, Health> = BTreeMap::new();
        for (k, h) in self.sources() {
            out.entry(k.exporter).or_default().add(h);
        }
        out
    }

    /// Forgets a source (its templates, waiting sets, counters).
    pub fn forget(&mut self, key: &SourceKey) {
        if let Some(mut s) = self.sources.remove(key) {
            s.templates.release(&mut self.budget);
        }
    }
}

/// The export protocol by the first bytes.
pub fn sniff(payload: &[u8]) -> Result<Version, FlowError> {
    let first = be32(payload, 0).unwrap_or(0);
    match payload.get(..2) {
        Some([0, 5]) => Ok(Version::NetflowV5),
        Some([0, 9]) => Ok(Version::NetflowV9),
        Some([0, 10]) => Ok(Version::Ipfix),
        _ if sflow::is_sflow(payload) => Ok(Version::SflowV5),
        _ => Err(FlowError::NotFlowExport { first }),
    }
}

fn sflow_sub_agent(payload: &[u8]) -> u32 {
    let at = match payload.get(4..8) {
        Some([0, 0, 0, 2]) => 24,
        _ => 12,
    };
    be32(payload, at).unwrap_or(0)
}

fn be32(payload: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(payload.get(at..at.checked_add(4)?)?.try_into().ok()?))
}
