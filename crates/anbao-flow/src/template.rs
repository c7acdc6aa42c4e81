//! NetFlow v9 (RFC 3954) and IPFIX (RFC 7011, information elements of RFC
//! 7012 / the IANA registry): message headers, template and options
//! template sets, data sets.
//!
//! A template is compiled once into a list of [`Action`]s, one per field;
//! a data record is then one pass over its bytes into a [`FlowRecord`].
//! Elements we do not use, and every enterprise-specific element, are
//! skipped by their length (IPFIX variable-length fields: one length byte,
//! or 255 and two more). Options data sets update the source's state:
//! sampling (v9 `SAMPLING_INTERVAL` 34, `FLOW_SAMPLER_RANDOM_INTERVAL` 50
//! keyed by `FLOW_SAMPLER_ID` 48; IPFIX `samplingPacketInterval` 305 /
//! `samplingPacketSpace` 306, `samplingSize` 309 / `samplingPopulation`
//! 310, keyed by `selectorId` 302 when present) and IPFIX
//! `systemInitTimeMilliseconds` (160), the origin of `flowStartSysUpTime`.
//!
//! Limits: fields per template, templates per source, template fields in
//! the whole decoder, data sets waiting for their template (count per
//! source, bytes in the whole decoder, age). Malformed templates are
//! refused one by one ([`FlowError::BadTemplate`]); the rest of the
//! datagram is still read.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use anbao_net::Timestamp;

use crate::bytes::{Bytes, uint};
use crate::decoder::{DecoderConfig, Health};
use crate::error::FlowError;
use crate::record::{FlowRecord, Version, millis, uptime_to_time};

/// Seconds between the NTP epoch (1900) and the Unix epoch.
const NTP_UNIX_OFFSET: i64 = 2_208_988_800;

/// The IPFIX "variable length" marker in a field specifier.
const VARIABLE: u16 = 65535;

/// A NetFlow v9 or IPFIX message header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub version: Version,
    /// Source id (v9) or observation domain id (IPFIX).
    pub domain: u32,
    /// Package sequence (v9: per datagram) or the count of data records
    /// sent before this message (IPFIX).
    pub sequence: u32,
    /// The header's wall clock.
    pub export: Timestamp,
    /// v9 only: the exporter's sysUpTime in milliseconds.
    pub uptime_ms: Option<u32>,
    /// Where the sets start.
    pub sets_at: usize,
    /// Where the message ends (IPFIX: its length field; v9: the payload).
    pub end: usize,
}

/// Reads the header of a v9 (version 9) or IPFIX (version 10) message.
pub fn header(payload: &[u8]) -> Result<Header, FlowError> {
    let b = Bytes::new(payload, 0);
    match b.u16(0, "version")? {
        9 => Ok(Header {
            version: Version::NetflowV9,
            uptime_ms: Some(b.u32(4, "NetFlow v9 header")?),
            export: millis(i64::from(b.u32(8, "NetFlow v9 header")?) * 1000),
            sequence: b.u32(12, "NetFlow v9 header")?,
            domain: b.u32(16, "NetFlow v9 header")?,
            sets_at: 20,
            end: payload.len(),
        }),
        10 => {
            let length = usize::from(b.u16(2, "IPFIX header")?);
            let export = millis(i64::from(b.u32(4, "IPFIX header")?) * 1000);
            let sequence = b.u32(8, "IPFIX header")?;
            let domain = b.u32(12, "IPFIX header")?;
            if length < 16 {
                return Err(FlowError::Malformed { what: "IPFIX header", at: 2, why: "message length under 16" });
            }
            if length > payload.len() {
                return Err(FlowError::Truncated {
                    what: "IPFIX message",
                    at: 0,
                    needed: length,
                    available: payload.len(),
                });
            }
            Ok(Header { version: Version::Ipfix, domain, sequence, export, uptime_ms: None, sets_at: 16, end: length })
        }
        _ => Err(FlowError::NotFlowExport { first: b.u32(0, "version").unwrap_or_default() }),
    }
}

/// What a template field does to the record being decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Skip,
    SrcV4,
    DstV4,
    SrcV6,
    DstV6,
    Sport,
    Dport,
    Proto,
    TcpFlags,
    Bytes,
    Packets,
    BytesTotal,
    PacketsTotal,
    InIf,
    OutIf,
    IcmpTypeCode,
    StartUptime,
    EndUptime,
    StartSecs,
    EndSecs,
    StartMillis,
    EndMillis,
    StartNtp,
    EndNtp,
    StartDeltaMicros,
    EndDeltaMicros,
    SamplerId,
    SamplingInterval,
    PacketInterval,
    PacketSpace,
    SamplingSize,
    SamplingPopulation,
    SystemInitMillis,
}

/// The action of a (non-enterprise) element with this wire length.
fn action(ie: u16, len: u16) -> Action {
    use Action::*;
    let a = match ie {
        1 => Bytes,
        2 => Packets,
        4 => Proto,
        6 => TcpFlags,
        7 => Sport,
        8 => SrcV4,
        10 => InIf,
        11 => Dport,
        12 => DstV4,
        14 => OutIf,
        21 => EndUptime,
        22 => StartUptime,
        27 => SrcV6,
        28 => DstV6,
        32 | 139 => IcmpTypeCode,
        34 => SamplingInterval,
        48 | 302 => SamplerId,
        50 => SamplingInterval,
        85 => BytesTotal,
        86 => PacketsTotal,
        150 => StartSecs,
        151 => EndSecs,
        152 => StartMillis,
        153 => EndMillis,
        154 | 156 => StartNtp,
        155 | 157 => EndNtp,
        158 => StartDeltaMicros,
        159 => EndDeltaMicros,
        160 => SystemInitMillis,
        305 => PacketInterval,
        306 => PacketSpace,
        309 => SamplingSize,
        310 => SamplingPopulation,
        _ => Skip,
    };
    // Elements read as addresses need their exact size; the rest are
    // unsigned integers of 1 to 8 bytes (reduced-size encoding).
    let fits = match a {
        Skip => true,
        SrcV4 | DstV4 => len == 4,
        SrcV6 | DstV6 => len == 16,
        StartNtp | EndNtp => len == 8,
        _ => (1..=8).contains(&len),
    };
    if fits { a } else { Skip }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Field {
    /// Bytes on the wire, or [`VARIABLE`].
    len: u16,
    action: Action,
}

/// A field of a fixed-length record that we read: where it sits in the
/// record, its length and what it means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Placed {
    at: usize,
    len: usize,
    action: Action,
}

/// A compiled template.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Template {
    options: bool,
    fields: Box<[Field]>,
    /// The smallest record (variable-length fields count one byte): never 0.
    min_len: usize,
    /// Without variable-length fields (nearly every flow template), every
    /// record is `min_len` bytes and only these fields need reading: one
    /// bounds check per record instead of one per field, and the skipped
    /// elements cost nothing. `None` for templates with variable fields.
    fixed: Option<Box<[Placed]>>,
}

impl Template {
    fn new(options: bool, fields: Vec<Field>, min_len: usize) -> Template {
        let mut placed = Vec::new();
        let mut at = 0usize;
        let mut fixed = true;
        for f in &fields {
            if f.len == VARIABLE {
                fixed = false;
                break;
            }
            if f.action != Action::Skip {
                placed.push(Placed { at, len: usize::from(f.len), action: f.action });
            }
            at += usize::from(f.len);
        }
        Template {
            options,
            fields: fields.into_boxed_slice(),
            min_len,
            fixed: fixed.then(|| placed.into_boxed_slice()),
        }
    }
}

/// A data set that came before its template.
#[derive(Debug, Clone)]
struct Pending {
    template: u16,
    set: Vec<u8>,
    /// Where the set's records started in their datagram (for errors).
    base: usize,
    header: Header,
    received: Timestamp,
}

/// Template-related state of one (exporter, version, domain).
#[derive(Debug, Default)]
pub(crate) struct TemplateState {
    templates: HashMap<u16, Arc<Template>>,
    /// Rate per sampler / selector id, from options data.
    samplers: HashMap<u64, u32>,
    /// The rate announced without a sampler id.
    rate: Option<u32>,
    /// IPFIX systemInitTimeMilliseconds.
    system_init: Option<Timestamp>,
    pending: VecDeque<Pending>,
}

impl TemplateState {
    pub fn template_count(&self) -> usize {
        self.templates.len()
    }

    pub fn announced_rate(&self) -> Option<u32> {
        self.rate
    }

    /// Releases what this state holds against the decoder-wide budget.
    pub fn release(&mut self, budget: &mut Budget) {
        for t in self.templates.values() {
            budget.template_fields = budget.template_fields.saturating_sub(t.fields.len());
        }
        for p in &self.pending {
            budget.pending_bytes = budget.pending_bytes.saturating_sub(p.set.len());
        }
        self.templates.clear();
        self.pending.clear();
    }
}

/// Decoder-wide bounds shared by every source.
#[derive(Debug, Default)]
pub(crate) struct Budget {
    pub template_fields: usize,
    pub pending_bytes: usize,
}

/// What a message contained, for the decoder's accounting.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    pub flows: u32,
    /// Data records (flow and options) decoded from this message's own sets.
    pub records: u32,
    /// False when some data set could not be decoded (no template yet), so
    /// the IPFIX record count of the message is unknown.
    pub records_known: bool,
}

/// Everything a message is decoded against.
pub(crate) struct Context<'a> {
    pub config: &'a DecoderConfig,
    pub state: &'a mut TemplateState,
    pub budget: &'a mut Budget,
    pub health: &'a mut Health,
    pub problems: &'a mut Vec<FlowError>,
    pub exporter: IpAddr,
    pub received: Timestamp,
    pub rate_override: Option<u32>,
}

impl Context<'_> {
    fn problem(&mut self, e: FlowError) {
        if self.problems.len() < crate::decoder::MAX_PROBLEMS_PER_PACKET {
            self.problems.push(e);
        }
    }
}

/// Decodes the sets of a message whose header is `h`. Errors that make the
/// rest of the datagram unreadable (a set length past the end) are
/// returned; flows decoded before them have been delivered.
pub(crate) fn decode_sets(
    h: &Header,
    payload: &[u8],
    cx: &mut Context<'_>,
    out: &mut impl FnMut(FlowRecord),
) -> Result<Outcome, FlowError> {
    expire_pending(cx);
    let message = Bytes::new(payload.get(..h.end).unwrap_or(payload), 0);
    let (template_set, options_set) = match h.version {
        Version::NetflowV9 => (0, 1),
        _ => (2, 3),
    };
    let mut outcome = Outcome { records_known: true, ..Outcome::default() };
    let mut at = h.sets_at;
    while at < message.len() {
        if h.version == Version::NetflowV9 && message.len() - at < 4 {
            break; // v9 exporters may pad the datagram.
        }
        let id = message.u16(at, "set header")?;
        let len = usize::from(message.u16(at + 2, "set header")?);
        if len < 4 {
            return Err(FlowError::Malformed { what: "set header", at: at + 2, why: "set length under 4" });
        }
        let set = message.slice(at, len, "set")?;
        let body = set.rest(4);
        if id == template_set {
            templates(h, body, false, cx, out, &mut outcome);
        } else if id == options_set {
            templates(h, body, true, cx, out, &mut outcome);
        } else if id >= 256 {
            match cx.state.templates.get(&id) {
                Some(_) => {
                    let n = data_set(h, id, body, cx, out, &mut outcome.flows);
                    outcome.records = outcome.records.saturating_add(n);
                }
                None => {
                    outcome.records_known = false;
                    park(h, id, body, cx);
                }
            }
        }
        // Set ids 2–255 in v9 and 4–255 in IPFIX are reserved: skipped.
        at += len;
    }
    Ok(outcome)
}

/// A template or options template set: each template replaces the one of
/// the same id; IPFIX field count 0 withdraws (id 2 / 3: all of them).
fn templates(
    h: &Header,
    body: Bytes<'_>,
    options: bool,
    cx: &mut Context<'_>,
    out: &mut impl FnMut(FlowRecord),
    outcome: &mut Outcome,
) {
    let mut at = 0;
    while body.len().saturating_sub(at) >= 4 {
        match read_template(h.version, body, at, options, cx.config) {
            Ok((id, Some(t), next)) => {
                at = next;
                if !install(id, t, body.base + at, cx) {
                    continue;
                }
                // Data sets that came first.
                let waiting: Vec<Pending> = {
                    let (ready, keep): (VecDeque<Pending>, VecDeque<Pending>) =
                        std::mem::take(&mut cx.state.pending).into_iter().partition(|p| p.template == id);
                    cx.state.pending = keep;
                    ready.into_iter().collect()
                };
                for p in waiting {
                    cx.budget.pending_bytes = cx.budget.pending_bytes.saturating_sub(p.set.len());
                    cx.health.late_sets += 1;
                    let n = data_set(&p.header, id, Bytes::new(&p.set, p.base), cx, out, &mut outcome.flows);
                    let _ = n; // records of an earlier message: not this message's count
                }
            }
            Ok((id, None, next)) => {
                at = next;
                withdraw(h, id, options, cx);
            }
            Err(e) => {
                cx.health.template_errors += 1;
                cx.problem(e);
                return; // the rest of this set cannot be framed
            }
        }
    }
}

/// Parses one template at `at`; `None` is a withdrawal. Returns where the
/// next template starts.
fn read_template(
    version: Version,
    body: Bytes<'_>,
    at: usize,
    options: bool,
    config: &DecoderConfig,
) -> Result<(u16, Option<Template>, usize), FlowError> {
    let id = body.u16(at, "template id")?;
    let bad = |why| FlowError::BadTemplate { id, at: body.base + at, why };
    let ipfix = version == Version::Ipfix;
    // (fields, scope fields, where the field specifiers start)
    let (count, scope, mut p) = if !options {
        let count = usize::from(body.u16(at + 2, "template field count")?);
        if count == 0 {
            return if ipfix { Ok((id, None, at + 4)) } else { Err(bad("no fields")) };
        }
        (count, 0, at + 4)
    } else if ipfix {
        let count = usize::from(body.u16(at + 2, "options template field count")?);
        if count == 0 {
            return Ok((id, None, at + 4));
        }
        let scope = usize::from(body.u16(at + 4, "options template scope count")?);
        if scope == 0 || scope > count {
            return Err(bad("scope field count 0 or over the field count"));
        }
        (count, scope, at + 6)
    } else {
        let scope_len = usize::from(body.u16(at + 2, "options scope length")?);
        let option_len = usize::from(body.u16(at + 4, "options length")?);
        if scope_len % 4 != 0 || option_len % 4 != 0 || scope_len + option_len == 0 {
            return Err(bad("scope/option lengths not multiples of 4"));
        }
        (scope_len / 4 + option_len / 4, scope_len / 4, at + 6)
    };
    if id < 256 {
        return Err(bad("template id under 256"));
    }
    if count > config.max_fields_per_template {
        return Err(FlowError::Limit { what: "fields per template", at: body.base + at });
    }
    let mut fields = Vec::with_capacity(count);
    let mut min_len = 0usize;
    for i in 0..count {
        let raw = body.u16(p, "field specifier")?;
        let len = body.u16(p + 2, "field specifier")?;
        p += 4;
        let enterprise = ipfix && raw & 0x8000 != 0;
        if enterprise {
            body.u32(p, "enterprise number")?;
            p += 4;
        }
        if len == 0 {
            return Err(bad("field of length 0"));
        }
        if len == VARIABLE && !ipfix {
            return Err(bad("field of length 65535 in NetFlow v9"));
        }
        // v9 scope fields are scope types (system, interface, …), not
        // elements; enterprise elements are not ours to read.
        let action = if enterprise || (!ipfix && i < scope) { Action::Skip } else { action(raw & 0x7fff, len) };
        min_len += if len == VARIABLE { 1 } else { usize::from(len) };
        fields.push(Field { len, action });
    }
    Ok((id, Some(Template::new(options, fields, min_len)), p))
}

/// Stores a template within the limits; false (and a template error) when
/// a limit refuses it.
fn install(id: u16, t: Template, at: usize, cx: &mut Context<'_>) -> bool {
    let old = cx.state.templates.get(&id).map_or(0, |o| o.fields.len());
    if old == 0 && cx.state.templates.len() >= cx.config.max_templates_per_source {
        cx.health.template_errors += 1;
        cx.problem(FlowError::Limit { what: "templates per exporter", at });
        return false;
    }
    let after = cx.budget.template_fields.saturating_sub(old) + t.fields.len();
    if after > cx.config.max_template_fields {
        cx.health.template_errors += 1;
        cx.problem(FlowError::Limit { what: "template fields", at });
        return false;
    }
    cx.budget.template_fields = after;
    cx.state.templates.insert(id, Arc::new(t));
    true
}

fn withdraw(h: &Header, id: u16, options: bool, cx: &mut Context<'_>) {
    let all = (!options && id == 2) || (options && id == 3);
    let before = cx.state.templates.len();
    let budget = &mut *cx.budget;
    cx.state.templates.retain(|&tid, t| {
        let gone = if all { t.options == options } else { tid == id };
        if gone {
            budget.template_fields = budget.template_fields.saturating_sub(t.fields.len());
        }
        !gone
    });
    cx.health.withdrawals += (before - cx.state.templates.len()) as u64;
    let _ = h;
}

/// Keeps a data set without template for a while, within the limits.
fn park(h: &Header, id: u16, body: Bytes<'_>, cx: &mut Context<'_>) {
    let fits_count = cx.state.pending.len() < cx.config.max_pending_sets;
    let fits_bytes = cx.budget.pending_bytes + body.len() <= cx.config.max_pending_bytes;
    if !(fits_count && fits_bytes) || cx.config.max_pending_sets == 0 {
        cx.health.dropped_sets += 1;
        return;
    }
    cx.budget.pending_bytes += body.len();
    cx.health.parked_sets += 1;
    cx.state.pending.push_back(Pending {
        template: id,
        set: body.data.to_vec(),
        base: body.base,
        header: *h,
        received: cx.received,
    });
}

/// Drops waiting data sets older than the configured age.
fn expire_pending(cx: &mut Context<'_>) {
    let max_age = i64::try_from(cx.config.pending_max_age.as_nanos()).unwrap_or(i64::MAX);
    while let Some(p) = cx.state.pending.front() {
        if cx.received.0.saturating_sub(p.received.0) <= max_age {
            break;
        }
        cx.budget.pending_bytes = cx.budget.pending_bytes.saturating_sub(p.set.len());
        cx.health.dropped_sets += 1;
        cx.state.pending.pop_front();
    }
}

/// The fields of one record as they are read.
struct Acc {
    rec: FlowRecord,
    bytes: Option<u64>,
    packets: Option<u64>,
    bytes_total: Option<u64>,
    packets_total: Option<u64>,
    icmp: Option<u16>,
    dport_seen: bool,
    start: Option<Timestamp>,
    end: Option<Timestamp>,
    start_uptime: Option<u32>,
    end_uptime: Option<u32>,
    sampler: Option<u64>,
    interval: Option<u64>,
    packet_interval: Option<u64>,
    packet_space: Option<u64>,
    size: Option<u64>,
    population: Option<u64>,
    system_init: Option<i64>,
}

/// Decodes the records of a data set with template `id`; returns the
/// number of records (flow or options).
fn data_set(
    h: &Header,
    id: u16,
    body: Bytes<'_>,
    cx: &mut Context<'_>,
    out: &mut impl FnMut(FlowRecord),
    flows: &mut u32,
) -> u32 {
    let Some(t) = cx.state.templates.get(&id).cloned() else { return 0 };
    let mut records = 0u32;
    let mut at = 0usize;
    while body.len().saturating_sub(at) >= t.min_len {
        let mut acc = Acc {
            rec: FlowRecord::empty(cx.exporter, h.version, h.domain, h.export),
            bytes: None,
            packets: None,
            bytes_total: None,
            packets_total: None,
            icmp: None,
            dport_seen: false,
            start: None,
            end: None,
            start_uptime: None,
            end_uptime: None,
            sampler: None,
            interval: None,
            packet_interval: None,
            packet_space: None,
            size: None,
            population: None,
            system_init: None,
        };
        let read = match &t.fixed {
            Some(placed) => fixed_record(placed, body.data.get(at..at + t.min_len).unwrap_or_default(), &mut acc)
                .then_some(at + t.min_len)
                .ok_or(FlowError::Truncated {
                    what: "data record",
                    at: body.base.saturating_add(at),
                    needed: t.min_len,
                    available: body.len().saturating_sub(at),
                }),
            None => record(&t, body, at, &mut acc),
        };
        match read {
            Ok(next) => at = next,
            Err(e) => {
                // A variable-length field running past the set: the rest of
                // the set is unreadable.
                cx.health.malformed += 1;
                cx.problem(e);
                break;
            }
        }
        records += 1;
        if t.options {
            cx.health.options_records += 1;
            apply_options(&acc, cx.state);
        } else {
            let rec = finish(acc, h, cx);
            *flows += 1;
            cx.health.flows += 1;
            out(rec);
        }
    }
    records
}

/// Reads one fixed-length record (`rec` is exactly the record: the loop
/// above checked its length once); false when it is short, which the
/// loop's condition rules out.
#[inline]
fn fixed_record(placed: &[Placed], rec: &[u8], acc: &mut Acc) -> bool {
    for p in placed {
        let Some(v) = rec.get(p.at..p.at + p.len) else { return false };
        apply(p.action, v, acc);
    }
    !rec.is_empty()
}

/// Reads one record at `at`; returns where the next starts.
fn record(t: &Template, body: Bytes<'_>, mut at: usize, acc: &mut Acc) -> Result<usize, FlowError> {
    for f in t.fields.iter() {
        let len = if f.len == VARIABLE {
            let short = body.u8(at, "variable-length field")?;
            if short < 255 {
                at += 1;
                usize::from(short)
            } else {
                let long = body.u16(at + 1, "variable-length field")?;
                at += 3;
                usize::from(long)
            }
        } else {
            usize::from(f.len)
        };
        let v = body.slice(at, len, "data record")?.data;
        at += len;
        apply(f.action, v, acc);
    }
    Ok(at)
}

#[inline]
fn apply(action: Action, v: &[u8], acc: &mut Acc) {
    use Action::*;
    let n = || uint(v).unwrap_or(0);
    let r = &mut acc.rec;
    match action {
        Skip => {}
        SrcV4 | DstV4 => {
            let a: [u8; 4] = v.try_into().unwrap_or_default();
            let ip = IpAddr::V4(Ipv4Addr::from(a));
            if action == SrcV4 { r.src = ip } else { r.dst = ip }
        }
        SrcV6 | DstV6 => {
            let a: [u8; 16] = v.try_into().unwrap_or_default();
            let ip = IpAddr::V6(Ipv6Addr::from(a));
            if action == SrcV6 { r.src = ip } else { r.dst = ip }
        }
        Sport => r.sport = n() as u16,
        Dport => {
            r.dport = n() as u16;
            acc.dport_seen = true;
        }
        Proto => r.proto = n() as u8,
        TcpFlags => r.tcp_flags = n() as u8,
        Bytes => acc.bytes = Some(n()),
        Packets => acc.packets = Some(n()),
        BytesTotal => acc.bytes_total = Some(n()),
        PacketsTotal => acc.packets_total = Some(n()),
        InIf => r.in_if = Some(n() as u32),
        OutIf => r.out_if = Some(n() as u32),
        IcmpTypeCode => acc.icmp = Some(n() as u16),
        StartUptime => acc.start_uptime = Some(n() as u32),
        EndUptime => acc.end_uptime = Some(n() as u32),
        StartSecs | EndSecs | StartMillis | EndMillis | StartNtp | EndNtp => {
            let t = match action {
                StartSecs | EndSecs => millis(i64::try_from(n()).unwrap_or(i64::MAX).saturating_mul(1000)),
                StartMillis | EndMillis => millis(i64::try_from(n()).unwrap_or(i64::MAX)),
                _ => ntp(n()),
            };
            if matches!(action, StartSecs | StartMillis | StartNtp) { acc.start = Some(t) } else { acc.end = Some(t) }
        }
        StartDeltaMicros | EndDeltaMicros => {
            let ago = i64::try_from(n()).unwrap_or(i64::MAX).saturating_mul(1000);
            let t = Timestamp(r.start.0.saturating_sub(ago)); // r.start is the export time here
            if action == StartDeltaMicros { acc.start = Some(t) } else { acc.end = Some(t) }
        }
        SamplerId => acc.sampler = Some(n()),
        SamplingInterval => acc.interval = Some(n()),
        PacketInterval => acc.packet_interval = Some(n()),
        PacketSpace => acc.packet_space = Some(n()),
        SamplingSize => acc.size = Some(n()),
        SamplingPopulation => acc.population = Some(n()),
        SystemInitMillis => acc.system_init = i64::try_from(n()).ok(),
    }
}

/// An NTP timestamp (seconds since 1900 and a binary fraction).
fn ntp(v: u64) -> Timestamp {
    let secs = i64::try_from(v >> 32).unwrap_or(0) - NTP_UNIX_OFFSET;
    let nanos = ((v & 0xffff_ffff) * 1_000_000_000) >> 32;
    Timestamp(secs.saturating_mul(1_000_000_000).saturating_add(i64::try_from(nanos).unwrap_or(0)))
}

/// The sampling rate an options record announces, if any: `1 in N`.
fn announced(acc: &Acc) -> Option<u32> {
    let rate = if let (Some(i), Some(s)) = (acc.packet_interval, acc.packet_space) {
        // Count-based: `interval` packets selected, then `space` skipped.
        (i > 0).then(|| (i + s) / i)
    } else if let (Some(size), Some(pop)) = (acc.size, acc.population) {
        (size > 0).then(|| pop / size)
    } else {
        acc.interval.or(acc.packet_interval)
    }?;
    Some(u32::try_from(rate).unwrap_or(u32::MAX).max(1))
}

fn apply_options(acc: &Acc, state: &mut TemplateState) {
    if let Some(ms) = acc.system_init {
        state.system_init = Some(millis(ms));
    }
    if let Some(rate) = announced(acc) {
        match acc.sampler {
            Some(id) => {
                if state.samplers.len() < MAX_SAMPLERS || state.samplers.contains_key(&id) {
                    state.samplers.insert(id, rate);
                }
            }
            None => state.rate = Some(rate),
        }
    }
}

/// Most sampler ids remembered per source.
const MAX_SAMPLERS: usize = 256;

fn finish(acc: Acc, h: &Header, cx: &Context<'_>) -> FlowRecord {
    let mut r = acc.rec;
    if !acc.dport_seen
        && let Some(icmp) = acc.icmp
    {
        r.dport = icmp;
    }
    let uptime = |ms: u32| match (h.uptime_ms, cx.state.system_init) {
        (Some(header_uptime), _) => uptime_to_time(h.export, header_uptime, ms),
        (None, Some(init)) => Timestamp(init.0.saturating_add(i64::from(ms) * 1_000_000)),
        // IPFIX sysUpTime before the exporter said when it started: the
        // export time is the best we have.
        (None, None) => h.export,
    };
    r.start = acc.start.or(acc.start_uptime.map(uptime)).unwrap_or(h.export);
    r.end = acc.end.or(acc.end_uptime.map(uptime)).unwrap_or(r.start);
    let rate = cx
        .rate_override
        .or_else(|| acc.sampler.and_then(|id| cx.state.samplers.get(&id).copied()))
        .or(cx.state.rate)
        .unwrap_or(1);
    r.set_counts(acc.packets.or(acc.packets_total).unwrap_or(0), acc.bytes.or(acc.bytes_total).unwrap_or(0), rate);
    r
}
