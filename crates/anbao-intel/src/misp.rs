//! MISP formats: events (`{"Event": {…}}`), a MISP feed directory's
//! `manifest.json` and `hashes.csv`, and the feed descriptions of MISP's
//! feed metadata (`defaults.json`) for freetext and CSV feeds.
//!
//! Events ([`read_event`]):
//!
//! - Accepted shapes: `{"Event": {…}}`, the bare event object, a list of
//!   those, and `{"response": […]}` (API search results). Locations are JSON
//!   paths into the input: `Event.Attribute[7]`,
//!   `Event.Object[2].Attribute[0]`, `response[1].Event.Attribute[0]`, or
//!   `Attribute[7]` for a bare event.
//! - Attributes come from `Attribute[]` and `Object[].Attribute[]`. Types we
//!   read: `domain`, `hostname` (Domain); `url` (Url); `ip-dst`, `ip-src`
//!   (Ipv4/Ipv6, or Cidr when written `addr/len`); `ip-dst|port`,
//!   `ip-src|port` (the address); `hostname|port` (the name); `domain|ip`
//!   (both: the domain keeps the attribute uuid as external id, the address
//!   gets `uuid|ip`); `md5`, `sha1`, `sha256`, `filename|md5|sha1|sha256`
//!   and `malware-sample` (the hash); `email`, `email-src`, `email-dst`,
//!   `email-reply-to` (Email; `target-email` is the victim, not an
//!   indicator); `ja3-fingerprint-md5` (Ja3); `x509-fingerprint-sha256`
//!   (CertSha256); `mobile-application-id` (AndroidPackage). `link` (a
//!   reference), `uri` (usually a bare path), `text`, `comment`, `filename`,
//!   `regkey` and every other type are skipped and counted by type in the
//!   [`MispSummary`].
//! - `to_ids: false` attributes are not indicators (counted in
//!   `not_to_ids`) unless [`MispOptions::include_non_ids`]; an absent
//!   `to_ids` counts as true (MISP's default for every type we read).
//!   Deleted attributes and attributes of deleted objects are skipped and
//!   counted. Each attribute counts in at most one of `deleted`,
//!   `skipped_by_type` and `not_to_ids`, checked in that order.
//! - Tags: the event's and the attribute's `Tag[]` names (also
//!   `EventTag[].Tag`, `AttributeTag[].Tag`) and galaxy clusters'
//!   `tag_name`s, in that order without repeats, at most
//!   [`MAX_TAGS`](crate::lists::MAX_TAGS) per indicator (category, TLP and
//!   confidence are derived from all of them). The context is cut to
//!   [`MAX_CONTEXT`](crate::lists::MAX_CONTEXT) bytes: an event copies its
//!   tags and title into every indicator, and a hostile one should not
//!   turn a megabyte into gigabytes.
//! - Category: from the attribute's tags, else the event's tags, else the
//!   attribute's MISP category. Tags (case-insensitive, MITRE ATT&CK
//!   galaxies ignored — techniques describe behaviour, not the indicator):
//!   Android, iOS, mobile malware → MobileMalware; command and control, C2,
//!   C&C, CnC, botnet → BotnetCc; phishing → Phishing; spam → Spam; scan…,
//!   brute-force → Scanner; malware, ransom…, trojan, backdoor, spyware,
//!   malpedia (and the words RAT, virus, worm, stealer, loader) → Trojan.
//!   Short words are matched as whole words of the tag, so `Spamhaus` is
//!   not spam and `virustotal` not a virus. When several apply, the first in
//!   that order wins; a file hash is never a C2 server, so BotnetCc becomes
//!   Trojan for hashes (the malware that talks to it). MISP categories:
//!   `Payload delivery` → MaliciousDownload (the file or where it is served
//!   from), `Payload installation` and `Artifacts dropped` → Trojan;
//!   `Network activity` and the others say nothing (`None`, the importer's
//!   default applies).
//! - TLP: `tlp:` tags, the attribute's if it has any, else the event's; the
//!   most restrictive when several.
//! - Confidence: `misp:confidence-level` (the taxonomy's numerical values:
//!   100, 75, 50, 25, 0) or `admiralty-scale:information-credibility` (1 →
//!   100, 2 → 80, 3 → 60, 4 → 40, 5 → 20; 6 = cannot be judged), the
//!   attribute's tags first; otherwise `None`.
//! - Times: `first_seen` is the attribute's (or its object's) `first_seen`,
//!   else the event `date`; `last_seen` is the attribute's (or object's)
//!   `last_seen`, else the attribute `timestamp` (when it was last
//!   asserted), else the event `timestamp`. A time that does not parse
//!   rejects the attribute; an event `date` or `timestamp` that does not
//!   parse makes the event unreadable ([`FeedError`]).
//! - Context: the event `info` and the attribute `comment`, joined with
//!   ` — `. External id: the attribute `uuid`.
//!
//! Feed directories: [`read_manifest`] checks every key is a UUID (callers
//! build `{uuid}.json` file names and URLs from them: `../` must not get
//! through). `hashes.csv` ([`read_hashes_csv`]) holds, per line, the MD5 of
//! an attribute *value* (each half of a composite value separately) and the
//! event uuid (PyMISP's `attributes_hashes('md5')`, used by MISP to
//! correlate against a feed without downloading it). These are not malware
//! hashes and give **no indicators**; the reader returns the pairs for a
//! caller that wants to know which events hold a value it has hashed.
//!
//! Freetext and CSV feeds ([`FeedDescription`], [`read_described`]): the
//! feed metadata MISP ships (`{"Feed": {…}}`, `settings` as an object or as
//! the JSON string MISP stores). Freetext feeds go through
//! [`crate::lists::read_freetext`]. CSV feeds: `settings.csv.value` lists the
//! value columns, **1-based**, comma-separated (empty: every column);
//! `delimiter` defaults to `,` (`\t` for tab); lines starting with `#` are
//! comments; each cell, trimmed of spaces and quotes, is typed like a
//! freetext token (MISP runs the same type detection). A cell in a listed
//! value column that is not an indicator is rejected (`line N column C`);
//! with every column read, non-indicators (dates, counters) are skipped.
//! `settings.common.excluderegex` (a PHP-style `/…/i` regex) drops matching
//! values. `input_source: local` means a path on the MISP server; fetching
//! it is the caller's decision, this crate only reads the description.

use std::collections::{BTreeMap, HashSet};

use serde_json::Value;
use time::OffsetDateTime;

use crate::compress::decode_text;
use crate::lists::{
    CsvEvent, CsvReader, MAX_CONTEXT, MAX_TAGS, Token, parse_time, read_freetext, reject, resolve_token,
};
use crate::normalize::{IndicatorKind, normalize};
use crate::record::{Category, FeedError, FeedItem, FeedSink, Indicator, Tlp, clip};

const EVENT: &str = "MISP event";

/// Reading choices.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MispOptions {
    /// Read attributes with `to_ids: false` as indicators too.
    pub include_non_ids: bool,
}

/// What [`read_event`] read and left out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MispSummary {
    pub events: u64,
    /// Every attribute looked at (top-level and in objects).
    pub attributes: u64,
    pub indicators: u64,
    pub rejected: u64,
    /// Attributes of types we do not read, by MISP type.
    pub skipped_by_type: BTreeMap<String, u64>,
    /// Attributes with `to_ids: false` (left out unless
    /// [`MispOptions::include_non_ids`]).
    pub not_to_ids: u64,
    /// Deleted attributes and attributes of deleted objects.
    pub deleted: u64,
}

// ---------------------------------------------------------------------------
// MISP attribute types

/// What part of an attribute value becomes which kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    Kind(IndicatorKind),
    /// IPv4, IPv6 or CIDR, by the value's shape.
    Ip,
}

/// One indicator-to-be from an attribute value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Part<'a> {
    pub(crate) target: Target,
    pub(crate) raw: &'a str,
    /// Appended to the attribute uuid for the external id.
    pub(crate) suffix: Option<&'static str>,
    /// The composite value did not have its `|`.
    pub(crate) malformed: bool,
}

/// The parts of a value of MISP type `t` (lower-case), `None` for types we
/// do not read.
pub(crate) fn attribute_parts<'a>(t: &str, value: &'a str) -> Option<Vec<Part<'a>>> {
    use IndicatorKind as K;
    let one = |target| Some(vec![Part { target, raw: value, suffix: None, malformed: false }]);
    let left = |target| {
        Some(vec![match value.rsplit_once('|') {
            Some((l, _)) => Part { target, raw: l, suffix: None, malformed: false },
            None => Part { target, raw: value, suffix: None, malformed: true },
        }])
    };
    let right = |target| {
        Some(vec![match value.rsplit_once('|') {
            Some((_, r)) => Part { target, raw: r, suffix: None, malformed: false },
            None => Part { target, raw: value, suffix: None, malformed: true },
        }])
    };
    match t {
        "domain" | "hostname" => one(Target::Kind(K::Domain)),
        "url" => one(Target::Kind(K::Url)),
        "ip-dst" | "ip-src" => one(Target::Ip),
        "ip-dst|port" | "ip-src|port" => left(Target::Ip),
        "hostname|port" => left(Target::Kind(K::Domain)),
        "domain|ip" => Some(match value.split_once('|') {
            Some((d, ip)) => vec![
                Part { target: Target::Kind(K::Domain), raw: d, suffix: None, malformed: false },
                Part { target: Target::Ip, raw: ip, suffix: Some("|ip"), malformed: false },
            ],
            None => vec![Part { target: Target::Kind(K::Domain), raw: value, suffix: None, malformed: true }],
        }),
        "md5" => one(Target::Kind(K::Md5)),
        "sha1" => one(Target::Kind(K::Sha1)),
        "sha256" => one(Target::Kind(K::Sha256)),
        "filename|md5" | "malware-sample" => right(Target::Kind(K::Md5)),
        "filename|sha1" => right(Target::Kind(K::Sha1)),
        "filename|sha256" => right(Target::Kind(K::Sha256)),
        "email" | "email-src" | "email-dst" | "email-reply-to" => one(Target::Kind(K::Email)),
        "ja3-fingerprint-md5" => one(Target::Kind(K::Ja3)),
        "x509-fingerprint-sha256" => one(Target::Kind(K::CertSha256)),
        "mobile-application-id" => one(Target::Kind(K::AndroidPackage)),
        _ => None,
    }
}

/// The kinds values of MISP type `t` can be compared as (warninglists'
/// `matching_attributes`); `None` for types without one.
pub(crate) fn misp_type_kinds(t: &str) -> Option<&'static [IndicatorKind]> {
    use IndicatorKind as K;
    const IP: &[IndicatorKind] = &[K::Ipv4, K::Ipv6, K::Cidr];
    Some(match t {
        "domain" | "hostname" | "hostname|port" => &[K::Domain],
        "domain|ip" => &[K::Domain, K::Ipv4, K::Ipv6, K::Cidr],
        "url" | "link" | "uri" => &[K::Url],
        "ip-dst" | "ip-src" | "ip-dst|port" | "ip-src|port" => IP,
        "md5" | "filename|md5" | "malware-sample" => &[K::Md5],
        "sha1" | "filename|sha1" => &[K::Sha1],
        "sha256" | "filename|sha256" => &[K::Sha256],
        "email" | "email-src" | "email-dst" | "email-reply-to" | "target-email" | "whois-registrant-email" => {
            &[K::Email]
        }
        "ja3-fingerprint-md5" => &[K::Ja3],
        "x509-fingerprint-sha256" => &[K::CertSha256],
        "mobile-application-id" => &[K::AndroidPackage],
        _ => return None,
    })
}

/// An address or network: Cidr when written with `/`, else Ipv4 or Ipv6.
pub(crate) fn resolve_ip(raw: &str) -> Result<(IndicatorKind, String), String> {
    let raw = raw.trim();
    let kind = if raw.contains('/') {
        IndicatorKind::Cidr
    } else if raw.contains(':') {
        IndicatorKind::Ipv6
    } else {
        IndicatorKind::Ipv4
    };
    normalize(kind, raw).map(|v| (kind, v)).map_err(|e| format!("{kind}: {}", e.reason))
}

pub(crate) fn resolve_part(p: &Part<'_>) -> Result<(IndicatorKind, String), String> {
    if p.malformed {
        return Err("composite value without its '|'".to_owned());
    }
    match p.target {
        Target::Ip => resolve_ip(p.raw),
        Target::Kind(k) => normalize(k, p.raw).map(|v| (k, v)).map_err(|e| format!("{k}: {}", e.reason)),
    }
}

// ---------------------------------------------------------------------------
// JSON helpers

fn str_field<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// MISP booleans: `true`, `1`, `"1"`, `"true"`.
fn flag(v: Option<&Value>) -> Option<bool> {
    match v? {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => Some(n.as_f64().is_some_and(|x| x != 0.0)),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" => Some(true),
            "0" | "false" | "no" | "" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// A Unix-seconds timestamp (string or number); `0`, empty and null are
/// absent.
fn unix_time(v: Option<&Value>) -> Result<Option<OffsetDateTime>, String> {
    let s = match v {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) => s.trim().to_owned(),
        Some(other) => return Err(format!("{other} is not a timestamp")),
    };
    if s.is_empty() || s == "0" {
        return Ok(None);
    }
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{s:?} is not Unix seconds"));
    }
    parse_time(&s).map(Some)
}

/// An RFC 3339 time field (`first_seen`), null and empty being absent.
fn time_field(v: Option<&Value>) -> Result<Option<OffsetDateTime>, String> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => parse_time(s).map(Some),
        Some(Value::Number(_)) => unix_time(v),
        Some(other) => Err(format!("{other} is not a time")),
    }
}

fn push_unique(out: &mut Vec<String>, seen: &mut HashSet<String>, s: &str) {
    let s = s.trim();
    if !s.is_empty() && seen.insert(s.to_owned()) {
        out.push(s.to_owned());
    }
}

/// Tag names of an event, object or attribute, without repeats.
fn tag_names(v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for key in ["Tag", "EventTag", "AttributeTag"] {
        let Some(tags) = v.get(key).and_then(Value::as_array) else {
            continue;
        };
        for t in tags {
            match t {
                Value::String(s) => push_unique(&mut out, &mut seen, s),
                Value::Object(_) => {
                    let name = str_field(t, "name").or_else(|| t.get("Tag").and_then(|x| str_field(x, "name")));
                    if let Some(n) = name {
                        push_unique(&mut out, &mut seen, n);
                    }
                }
                _ => {}
            }
        }
    }
    for g in v.get("Galaxy").and_then(Value::as_array).into_iter().flatten() {
        for c in g.get("GalaxyCluster").and_then(Value::as_array).into_iter().flatten() {
            if let Some(n) = str_field(c, "tag_name") {
                push_unique(&mut out, &mut seen, n);
            }
        }
    }
    out
}

/// The tags an indicator keeps: the event's, then the attribute's, without
/// repeats, at most [`MAX_TAGS`].
fn indicator_tags(event: &[String], attr: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in event.iter().chain(attr) {
        if out.len() >= MAX_TAGS {
            break;
        }
        if !out.contains(t) {
            out.push(t.clone());
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Tags → category, TLP, confidence

/// The category the tags state, if any (see the module doc).
pub(crate) fn category_from_tags(tags: &[String]) -> Option<Category> {
    const ORDER: [Category; 6] = [
        Category::MobileMalware,
        Category::BotnetCc,
        Category::Phishing,
        Category::Spam,
        Category::Scanner,
        Category::Trojan,
    ];
    let mut found = [false; 6];
    for tag in tags {
        let t = tag.to_ascii_lowercase();
        if t.starts_with("tlp:") || t.starts_with("misp-galaxy:mitre-") || t.starts_with("misp:confidence") {
            continue;
        }
        let words: Vec<&str> = t.split(|c: char| !(c.is_ascii_alphanumeric() || c == '&')).collect();
        let word = |w: &str| words.contains(&w);
        let word_starts = |p: &str| words.iter().any(|w| w.starts_with(p));
        if t.contains("android") || t.contains("mobile-malware") || t.contains("mobile malware") || word("ios") {
            found[0] = true;
        }
        if t.contains("command and control")
            || t.contains("command-and-control")
            || t.contains("botnet")
            || word("c2")
            || word("c&c")
            || word("cnc")
        {
            found[1] = true;
        }
        if t.contains("phishing") {
            found[2] = true;
        }
        if word("spam") || word("spammer") || word("spamming") {
            found[3] = true;
        }
        if word_starts("scan") || t.contains("brute-force") || t.contains("bruteforce") {
            found[4] = true;
        }
        if ["malware", "ransom", "trojan", "backdoor", "spyware", "malpedia"].iter().any(|w| t.contains(w))
            || ["rat", "virus", "worm", "stealer", "infostealer", "loader"].iter().any(|w| word(w))
        {
            found[5] = true;
        }
    }
    ORDER.iter().zip(found).find(|(_, f)| *f).map(|(c, _)| *c)
}

fn category_from_misp(misp_category: &str) -> Option<Category> {
    match misp_category.trim().to_ascii_lowercase().as_str() {
        "payload delivery" => Some(Category::MaliciousDownload),
        "payload installation" | "artifacts dropped" => Some(Category::Trojan),
        _ => None,
    }
}

fn tlp_from_tags(tags: &[String]) -> Option<Tlp> {
    tags.iter().filter(|t| t.to_ascii_lowercase().starts_with("tlp:")).filter_map(|t| t.parse::<Tlp>().ok()).max()
}

fn confidence_from_tags(tags: &[String]) -> Option<u8> {
    for t in tags {
        let lower = t.to_ascii_lowercase();
        let value = |prefix: &str| lower.strip_prefix(prefix).map(|v| v.trim_matches('"').to_owned());
        if let Some(v) = value("misp:confidence-level=") {
            let n = match v.as_str() {
                "completely-confident" => 100,
                "usually-confident" => 75,
                "fairly-confident" => 50,
                "rarely-confident" => 25,
                "unconfident" => 0,
                _ => continue,
            };
            return Some(n);
        }
        if let Some(v) = value("admiralty-scale:information-credibility=") {
            let n = match v.as_str() {
                "1" => 100,
                "2" => 80,
                "3" => 60,
                "4" => 40,
                "5" => 20,
                _ => continue,
            };
            return Some(n);
        }
    }
    None
}

// ---------------------------------------------------------------------------
// Events

struct EventCtx {
    info: String,
    tags: Vec<String>,
    date: Option<OffsetDateTime>,
    timestamp: Option<OffsetDateTime>,
}

/// Reads one MISP event (or several, see the module doc) into `sink`.
pub fn read_event(bytes: &[u8], opts: &MispOptions, sink: &mut dyn FeedSink) -> Result<MispSummary, FeedError> {
    let text = decode_text(bytes, EVENT)?;
    let root: Value = serde_json::from_str(&text)
        .map_err(|e| FeedError::new(EVENT, format!("line {} column {}", e.line(), e.column()), e.to_string()))?;
    let mut summary = MispSummary::default();
    let mut events: Vec<(String, &Value)> = Vec::new();
    match &root {
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                events.push(wrapped_event(format!("[{i}]."), v)?);
            }
        }
        Value::Object(o) if o.contains_key("Event") => events.push(wrapped_event(String::new(), &root)?),
        Value::Object(o) if o.get("response").is_some_and(Value::is_array) => {
            for (i, v) in o.get("response").and_then(Value::as_array).into_iter().flatten().enumerate() {
                events.push(wrapped_event(format!("response[{i}]."), v)?);
            }
        }
        Value::Object(o) if ["Attribute", "Object", "info", "uuid"].iter().any(|k| o.contains_key(*k)) => {
            events.push((String::new(), &root));
        }
        _ => return Err(FeedError::new(EVENT, "top level", "not a MISP event: no \"Event\" object")),
    }
    for (prefix, ev) in events {
        read_one_event(&prefix, ev, opts, &mut summary, sink)?;
    }
    Ok(summary)
}

/// The event in `v` (`{"Event": …}` or bare) and its location.
fn wrapped_event(prefix: String, v: &Value) -> Result<(String, &Value), FeedError> {
    match v.get("Event") {
        Some(e) => Ok((format!("{prefix}Event"), e)),
        None if v.is_object() => Ok((prefix.trim_end_matches('.').to_owned(), v)),
        None => Err(FeedError::new(EVENT, prefix.trim_end_matches('.').to_owned(), "not an event object")),
    }
}

fn join_loc(prefix: &str, rest: &str) -> String {
    if prefix.is_empty() { rest.to_owned() } else { format!("{prefix}.{rest}") }
}

fn read_one_event(
    prefix: &str,
    ev: &Value,
    opts: &MispOptions,
    summary: &mut MispSummary,
    sink: &mut dyn FeedSink,
) -> Result<(), FeedError> {
    let loc = if prefix.is_empty() { "event".to_owned() } else { prefix.to_owned() };
    if !ev.is_object() {
        return Err(FeedError::new(EVENT, loc, "the event is not an object"));
    }
    summary.events += 1;
    let tags = tag_names(ev);
    let date = match str_field(ev, "date").map(str::trim).filter(|d| !d.is_empty()) {
        Some(d) => Some(parse_time(d).map_err(|e| FeedError::new(EVENT, join_loc(prefix, "date"), e))?),
        None => None,
    };
    let timestamp =
        unix_time(ev.get("timestamp")).map_err(|e| FeedError::new(EVENT, join_loc(prefix, "timestamp"), e))?;
    let ctx = EventCtx { info: str_field(ev, "info").unwrap_or_default().trim().to_owned(), tags, date, timestamp };
    for (i, a) in ev.get("Attribute").and_then(Value::as_array).into_iter().flatten().enumerate() {
        read_attribute(&join_loc(prefix, &format!("Attribute[{i}]")), a, None, &ctx, opts, summary, sink);
    }
    for (j, o) in ev.get("Object").and_then(Value::as_array).into_iter().flatten().enumerate() {
        let attrs = o.get("Attribute").and_then(Value::as_array);
        if flag(o.get("deleted")) == Some(true) {
            let n = attrs.map_or(0, Vec::len);
            summary.attributes += n as u64;
            summary.deleted += n as u64;
            continue;
        }
        for (k, a) in attrs.into_iter().flatten().enumerate() {
            let loc = join_loc(prefix, &format!("Object[{j}].Attribute[{k}]"));
            read_attribute(&loc, a, Some(o), &ctx, opts, summary, sink);
        }
    }
    Ok(())
}

fn read_attribute(
    loc: &str,
    a: &Value,
    object: Option<&Value>,
    ev: &EventCtx,
    opts: &MispOptions,
    summary: &mut MispSummary,
    sink: &mut dyn FeedSink,
) {
    summary.attributes += 1;
    let rejected = |value: &str, reason: String, summary: &mut MispSummary, sink: &mut dyn FeedSink| {
        summary.rejected += 1;
        reject(sink, loc.to_owned(), value, reason);
    };
    if !a.is_object() {
        rejected(&a.to_string(), "not an attribute object".to_owned(), summary, sink);
        return;
    }
    if flag(a.get("deleted")) == Some(true) {
        summary.deleted += 1;
        return;
    }
    let Some(misp_type) = str_field(a, "type").map(|t| t.trim().to_ascii_lowercase()) else {
        rejected("", "no \"type\"".to_owned(), summary, sink);
        return;
    };
    if attribute_parts(&misp_type, "").is_none() {
        *summary.skipped_by_type.entry(misp_type).or_default() += 1;
        return;
    }
    if flag(a.get("to_ids")) == Some(false) {
        summary.not_to_ids += 1;
        if !opts.include_non_ids {
            return;
        }
    }
    let Some(value) = a.get("value").and_then(text_of) else {
        rejected("", format!("{misp_type}: no \"value\""), summary, sink);
        return;
    };
    let parts = attribute_parts(&misp_type, &value).unwrap_or_default();
    let attr_tags = tag_names(a);
    let tags = indicator_tags(&ev.tags, &attr_tags);
    let misp_category = str_field(a, "category").unwrap_or_default();
    let category = category_from_tags(&attr_tags)
        .or_else(|| category_from_tags(&ev.tags))
        .or_else(|| category_from_misp(misp_category));
    let tlp = tlp_from_tags(&attr_tags).or_else(|| tlp_from_tags(&ev.tags));
    let confidence = confidence_from_tags(&attr_tags).or_else(|| confidence_from_tags(&ev.tags));
    let times = (|| -> Result<(Option<OffsetDateTime>, Option<OffsetDateTime>), String> {
        let field = |key: &str| -> Result<Option<OffsetDateTime>, String> {
            let own = time_field(a.get(key)).map_err(|e| format!("{key}: {e}"))?;
            match (own, object) {
                (Some(t), _) => Ok(Some(t)),
                (None, Some(o)) => time_field(o.get(key)).map_err(|e| format!("object {key}: {e}")),
                (None, None) => Ok(None),
            }
        };
        let first = field("first_seen")?.or(ev.date);
        let stamp = unix_time(a.get("timestamp")).map_err(|e| format!("timestamp: {e}"))?;
        let last = field("last_seen")?.or(stamp).or(ev.timestamp);
        Ok((first, last))
    })();
    let (first_seen, last_seen) = match times {
        Ok(t) => t,
        Err(reason) => {
            rejected(&value, format!("{misp_type}: {reason}"), summary, sink);
            return;
        }
    };
    let comment = str_field(a, "comment").unwrap_or_default().trim();
    let context = match (ev.info.is_empty(), comment.is_empty()) {
        (false, false) => clip(&format!("{} — {comment}", ev.info), MAX_CONTEXT),
        (false, true) => clip(&ev.info, MAX_CONTEXT),
        _ => clip(comment, MAX_CONTEXT),
    };
    let uuid = str_field(a, "uuid").map(str::trim).filter(|u| !u.is_empty());
    for part in &parts {
        match resolve_part(part) {
            Ok((kind, v)) => {
                let mut ind = Indicator::new(kind, v);
                ind.category = match (category, kind) {
                    (Some(Category::BotnetCc), IndicatorKind::Md5 | IndicatorKind::Sha1 | IndicatorKind::Sha256) => {
                        Some(Category::Trojan)
                    }
                    (c, _) => c,
                };
                ind.confidence = confidence;
                ind.tlp = tlp;
                ind.first_seen = first_seen;
                ind.last_seen = last_seen;
                ind.tags.clone_from(&tags);
                ind.context.clone_from(&context);
                ind.external_id = uuid.map(|u| format!("{u}{}", part.suffix.unwrap_or_default()));
                summary.indicators += 1;
                sink.item(FeedItem::Indicator(ind));
            }
            Err(reason) => rejected(part.raw, format!("{misp_type}: {reason}"), summary, sink),
        }
    }
}

// ---------------------------------------------------------------------------
// Feed directories

/// One event of a MISP feed's `manifest.json`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManifestEntry {
    /// Lower-case, checked to be a UUID.
    pub uuid: String,
    pub info: String,
    pub date: Option<time::Date>,
    /// When the event last changed: fetch `{uuid}.json` again when newer
    /// than the copy we have.
    pub timestamp: Option<OffsetDateTime>,
    /// `Orgc.name`.
    pub org: Option<String>,
    pub tags: Vec<String>,
    pub threat_level_id: Option<u8>,
    pub analysis: Option<u8>,
}

/// `8-4-4-4-12` hexadecimal (the STIX module's check).
pub use crate::stix::is_uuid;

fn small_number(v: Option<&Value>) -> Option<u8> {
    v.and_then(text_of).and_then(|s| s.trim().parse::<u8>().ok())
}

/// Reads a MISP feed's `manifest.json` (`{uuid: {info, date, timestamp,
/// Orgc, Tag, …}}`), sorted by uuid.
pub fn read_manifest(bytes: &[u8]) -> Result<Vec<ManifestEntry>, FeedError> {
    const F: &str = "MISP manifest";
    let text = decode_text(bytes, F)?;
    let root: Value = serde_json::from_str(&text)
        .map_err(|e| FeedError::new(F, format!("line {} column {}", e.line(), e.column()), e.to_string()))?;
    let map = root.as_object().ok_or_else(|| FeedError::new(F, "top level", "not an object of events by uuid"))?;
    let mut out = Vec::with_capacity(map.len());
    for (uuid, e) in map {
        let loc = |field: &str| format!("{}{field}", clip(uuid, 64));
        if !is_uuid(uuid) {
            return Err(FeedError::new(F, loc(""), "key is not a UUID"));
        }
        if !e.is_object() {
            return Err(FeedError::new(F, loc(""), "entry is not an object"));
        }
        let timestamp = unix_time(e.get("timestamp")).map_err(|r| FeedError::new(F, loc(".timestamp"), r))?;
        let date = match str_field(e, "date").map(str::trim).filter(|d| !d.is_empty()) {
            Some(d) => Some(parse_time(d).map_err(|r| FeedError::new(F, loc(".date"), r))?.date()),
            None => None,
        };
        let tags = tag_names(e);
        out.push(ManifestEntry {
            uuid: uuid.to_ascii_lowercase(),
            info: str_field(e, "info").unwrap_or_default().to_owned(),
            date,
            timestamp,
            org: e.get("Orgc").and_then(|o| str_field(o, "name")).map(str::to_owned),
            tags,
            threat_level_id: small_number(e.get("threat_level_id")),
            analysis: small_number(e.get("analysis")),
        });
    }
    out.sort_by(|a, b| a.uuid.cmp(&b.uuid));
    Ok(out)
}

/// One line of a feed's `hashes.csv`: the hash of an attribute value and
/// the event holding it. Not an indicator (see the module doc).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValueHash {
    /// Lower-case hex (MD5 in feeds MISP and PyMISP generate).
    pub hash: String,
    pub event_uuid: String,
}

/// Reads `hashes.csv` (`hash,event_uuid` per line). A malformed line is an
/// error naming it: the file is machine-written, so a bad line means a
/// bad file.
pub fn read_hashes_csv(text: &str) -> Result<Vec<ValueHash>, FeedError> {
    const F: &str = "MISP hashes.csv";
    let mut out = Vec::new();
    for (i, line) in text.strip_prefix('\u{feff}').unwrap_or(text).lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let bad = |r: &str| FeedError::new(F, format!("line {}", i + 1), r);
        let (h, u) = line.split_once(',').ok_or_else(|| bad("expected hash,event_uuid"))?;
        let (h, u) = (h.trim(), u.trim());
        if !(32..=128).contains(&h.len()) || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad("the hash is not hexadecimal of 32 to 128 digits"));
        }
        if !is_uuid(u) {
            return Err(bad("the event uuid is not a UUID"));
        }
        out.push(ValueHash { hash: h.to_ascii_lowercase(), event_uuid: u.to_ascii_lowercase() });
    }
    Ok(out)
}

// ---------------------------------------------------------------------------
// Feed descriptions

/// MISP's `source_format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceFormat {
    /// A feed directory (manifest.json, events, hashes.csv).
    Misp,
    Freetext,
    Csv,
}

/// MISP's `input_source`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputSource {
    Network,
    /// A path on the MISP server.
    Local,
}

/// A feed as MISP's feed metadata describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeedDescription {
    pub name: String,
    pub provider: String,
    pub url: String,
    pub source_format: SourceFormat,
    pub input_source: InputSource,
    pub enabled: bool,
    /// MISP keeps the whole feed in one event.
    pub fixed_event: bool,
    /// MISP removes values that left the feed.
    pub delta_merge: bool,
    /// MISP clears `to_ids` on what it imports.
    pub override_ids: bool,
    /// CSV: value columns, 1-based; empty for every column.
    pub csv_value_columns: Vec<usize>,
    pub csv_delimiter: u8,
    /// `settings.common.excluderegex`, as written (checked to compile).
    pub exclude_regex: Option<String>,
}

impl FeedDescription {
    /// One feed: `{"Feed": {…}}` or the bare object.
    pub fn from_json(bytes: &[u8]) -> Result<FeedDescription, FeedError> {
        let root = feed_json(bytes)?;
        Self::from_value(&root, "")
    }

    /// Several: a list of feeds (MISP's `defaults.json`), or one.
    pub fn list_from_json(bytes: &[u8]) -> Result<Vec<FeedDescription>, FeedError> {
        let root = feed_json(bytes)?;
        match &root {
            Value::Array(items) => {
                items.iter().enumerate().map(|(i, v)| Self::from_value(v, &format!("[{i}]"))).collect()
            }
            _ => Ok(vec![Self::from_value(&root, "")?]),
        }
    }

    fn from_value(v: &Value, loc: &str) -> Result<FeedDescription, FeedError> {
        let (f, loc) = match v.get("Feed") {
            Some(f) => (f, format!("{loc}Feed")),
            None => (v, if loc.is_empty() { "feed".to_owned() } else { loc.to_owned() }),
        };
        let err = |field: &str, r: String| FeedError::new(FEED, format!("{loc}.{field}"), r);
        if !f.is_object() {
            return Err(FeedError::new(FEED, loc, "not an object"));
        }
        let text = |k: &str| f.get(k).and_then(text_of).unwrap_or_default().trim().to_owned();
        let source_format = match text("source_format").to_ascii_lowercase().as_str() {
            "" | "misp" => SourceFormat::Misp,
            "freetext" => SourceFormat::Freetext,
            "csv" => SourceFormat::Csv,
            other => return Err(err("source_format", format!("unknown source format {other:?}"))),
        };
        let input_source = match text("input_source").to_ascii_lowercase().as_str() {
            "" | "network" => InputSource::Network,
            "local" => InputSource::Local,
            other => return Err(err("input_source", format!("unknown input source {other:?}"))),
        };
        let settings = match f.get("settings") {
            None | Some(Value::Null) => Value::Null,
            Some(Value::String(s)) if s.trim().is_empty() => Value::Null,
            Some(Value::String(s)) => serde_json::from_str(s).map_err(|e| err("settings", format!("not JSON: {e}")))?,
            Some(o @ Value::Object(_)) => o.clone(),
            Some(_) => return Err(err("settings", "neither an object nor a JSON string".to_owned())),
        };
        let csv = settings.get("csv");
        let csv_value_columns = match csv.and_then(|c| c.get("value")) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .map(|x| column_number(&x.to_string().replace('"', "")))
                .collect::<Result<_, _>>()
                .map_err(|r| err("settings.csv.value", r))?,
            Some(x) => {
                let s = text_of(x).unwrap_or_default();
                s.split(',')
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .map(column_number)
                    .collect::<Result<_, _>>()
                    .map_err(|r| err("settings.csv.value", r))?
            }
        };
        let csv_delimiter = match csv.and_then(|c| str_field(c, "delimiter")).unwrap_or_default() {
            "" => b',',
            "\\t" | "\t" | "tab" => b'\t',
            d if d.len() == 1 && d.is_ascii() && !matches!(d, "\"" | "\n" | "\r") => d.bytes().next().unwrap_or(b','),
            d => return Err(err("settings.csv.delimiter", format!("{d:?} is not a single-character delimiter"))),
        };
        let exclude_regex = settings
            .get("common")
            .and_then(|c| str_field(c, "excluderegex"))
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_owned);
        if let Some(r) = &exclude_regex {
            crate::allowlist::php_regex(r).map_err(|e| err("settings.common.excluderegex", e))?;
        }
        Ok(FeedDescription {
            name: text("name"),
            provider: text("provider"),
            url: text("url"),
            source_format,
            input_source,
            enabled: flag(f.get("enabled")).unwrap_or(false),
            fixed_event: flag(f.get("fixed_event")).unwrap_or(false),
            delta_merge: flag(f.get("delta_merge")).unwrap_or(false),
            override_ids: flag(f.get("override_ids")).unwrap_or(false),
            csv_value_columns,
            csv_delimiter,
            exclude_regex,
        })
    }
}

const FEED: &str = "MISP feed description";

fn feed_json(bytes: &[u8]) -> Result<Value, FeedError> {
    let text = decode_text(bytes, FEED)?;
    serde_json::from_str(&text)
        .map_err(|e| FeedError::new(FEED, format!("line {} column {}", e.line(), e.column()), e.to_string()))
}

fn column_number(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("{s:?} is not a column number (they start at 1)")),
    }
}

/// Reads the text of a freetext or CSV feed as `desc` says (see the module
/// doc). MISP-format feeds are read with [`read_manifest`] and
/// [`read_event`] instead, which this says with an error.
pub fn read_described(text: &str, desc: &FeedDescription, sink: &mut dyn FeedSink) -> Result<(), FeedError> {
    let exclude = match &desc.exclude_regex {
        Some(r) => {
            Some(crate::allowlist::php_regex(r).map_err(|e| FeedError::new(FEED, "settings.common.excluderegex", e))?)
        }
        None => None,
    };
    match desc.source_format {
        SourceFormat::Misp => Err(FeedError::new(
            FEED,
            "source_format",
            "a MISP-format feed: read manifest.json with read_manifest and each event with read_event",
        )),
        SourceFormat::Freetext => {
            read_freetext(text, exclude.as_ref(), sink);
            Ok(())
        }
        SourceFormat::Csv => {
            read_described_csv(text, desc, exclude.as_ref(), sink);
            Ok(())
        }
    }
}

fn read_described_csv(text: &str, desc: &FeedDescription, exclude: Option<&regex::Regex>, sink: &mut dyn FeedSink) {
    let cols = &desc.csv_value_columns;
    for ev in CsvReader::new(text, desc.csv_delimiter) {
        let (line, fields) = match ev {
            CsvEvent::Comment(_) => continue,
            CsvEvent::Bad { line, raw, reason } => {
                reject(sink, format!("line {line}"), raw, reason);
                continue;
            }
            CsvEvent::Record { line, fields } => (line, fields),
        };
        for (i, f) in fields.iter().enumerate() {
            let col = i + 1;
            if !cols.is_empty() && !cols.contains(&col) {
                continue;
            }
            let cell = f.trim_matches(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '\0'));
            if cell.is_empty() || exclude.is_some_and(|re| re.is_match(cell)) {
                continue;
            }
            let loc = || format!("line {line} column {col}");
            match resolve_token(cell) {
                Token::Indicator(kind, value) => sink.item(FeedItem::Indicator(Indicator::new(kind, value))),
                Token::Invalid(reason) => reject(sink, loc(), cell, reason),
                Token::Nothing if !cols.is_empty() => reject(sink, loc(), cell, "not a recognised indicator"),
                Token::Nothing => {}
            }
        }
        for &c in cols {
            if c > fields.len() {
                reject(
                    sink,
                    format!("line {line}"),
                    &fields.join(","),
                    format!("the row has {} fields; value column {c} is missing", fields.len()),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cat(tags: &[&str]) -> Option<Category> {
        category_from_tags(&tags.iter().map(|t| (*t).to_owned()).collect::<Vec<_>>())
    }

    #[test]
    fn categories_from_tags() {
        assert_eq!(cat(&["tlp:white", "type:OSINT"]), None);
        assert_eq!(cat(&["circl:incident-classification=\"malware\""]), Some(Category::Trojan));
        assert_eq!(cat(&["malware_classification:malware-category=\"Botnet\""]), Some(Category::BotnetCc));
        assert_eq!(
            cat(&["kill-chain:Command and Control", "misp-galaxy:malpedia=\"Emotet\""]),
            Some(Category::BotnetCc)
        );
        assert_eq!(cat(&["ms-caro-malware:malware-platform=\"AndroidOS\""]), Some(Category::MobileMalware));
        assert_eq!(cat(&["rsit:fraud=\"phishing\""]), Some(Category::Phishing));
        assert_eq!(cat(&["circl:incident-classification=\"spam\""]), Some(Category::Spam));
        assert_eq!(cat(&["osint:source=\"spamhaus\""]), None);
        assert_eq!(cat(&["rsit:information-gathering=\"scanner\""]), Some(Category::Scanner));
        assert_eq!(cat(&["misp-galaxy:mitre-attack-pattern=\"Phishing - T1566\""]), None);
        assert_eq!(cat(&["misp:tool=\"virustotal\""]), None);
        assert_eq!(cat(&["misp-galaxy:malpedia=\"AsyncRAT\"", "misp-galaxy:rat=\"AsyncRAT\""]), Some(Category::Trojan));
    }

    #[test]
    fn confidence_and_tlp() {
        let t = |v: &[&str]| v.iter().map(|t| (*t).to_owned()).collect::<Vec<_>>();
        assert_eq!(confidence_from_tags(&t(&["misp:confidence-level=\"fairly-confident\""])), Some(50));
        assert_eq!(confidence_from_tags(&t(&["admiralty-scale:information-credibility=\"6\""])), None);
        assert_eq!(confidence_from_tags(&t(&["admiralty-scale:information-credibility=\"1\""])), Some(100));
        assert_eq!(tlp_from_tags(&t(&["TLP:GREEN", "tlp:amber+strict", "tlp:ex:chr"])), Some(Tlp::AmberStrict));
    }

    #[test]
    fn uuids() {
        assert!(is_uuid("5f0c2a11-7b3e-4c1d-9a55-0a1b2c3d4e01"));
        assert!(!is_uuid("5f0c2a11-7b3e-4c1d-9a55-0a1b2c3d4e0"));
        assert!(!is_uuid("../../../../etc/passwd/aaaaaaaaaaaaaaa"));
    }
}
