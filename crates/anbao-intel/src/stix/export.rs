//! Writing indicators as a STIX 2.1 bundle, streamed to an
//! [`std::io::Write`] (a million indicators need no more memory than one).
//!
//! Per exportable [`Indicator`], one `indicator` object:
//!
//! - `pattern`: one comparison for the kind, printed by the pattern
//!   printer (so `'` and `\` are escaped): `domain-name:value`, `url:value`,
//!   `ipv4-addr:value` / `ipv6-addr:value` (by the address family of the
//!   value, CIDRs included), `email-addr:value`, `file:hashes.MD5`,
//!   `file:hashes.'SHA-1'`, `file:hashes.'SHA-256'`,
//!   `x509-certificate:hashes.'SHA-256'`. `pattern_type` `stix`,
//!   `pattern_version` `2.1`. Android packages, JA3 and JA4 have no STIX 2.1
//!   cyber-observable property: they are skipped and listed in
//!   [`ExportSummary::not_exportable`], as are values that do not
//!   normalise.
//! - `id`: the caller's ([`IndicatorMeta::id`]) or [`indicator_id`]: the
//!   UUIDv5 construction (SHA-1 over a 16-byte namespace, the kind name,
//!   `:` and the normalised value) with the version nibble set to 4, since
//!   STIX recommends version 4 for SDOs and the OASIS validator warns on
//!   others. The same indicator exported twice keeps its id, so consumers
//!   see a new version rather than a new object.
//! - `created`/`modified`: the caller's or [`ExportOptions::now`];
//!   `valid_from` = `first_seen`, else `created`; `valid_until` when it is
//!   after `valid_from` (STIX requires that).
//! - `name` = the value; `description` = `context` when not empty;
//!   `indicator_types` from the category (`anomalous-activity` for scanners,
//!   `malicious-activity` for the rest; none without a category); `labels`
//!   = the category's stable name, then the tags (so reading the bundle
//!   back gives the same category and tags); `confidence`; `object_marking_refs` with the
//!   TLP marking definition, whose object is appended to the bundle once
//!   (unless a passed-through object already is that definition).
//!
//! Kept [`StixObject`]s are passed through as they are.

use std::collections::{BTreeSet, HashSet};
use std::io::{self, Write};
use std::net::Ipv4Addr;

use serde::Serialize;
use time::OffsetDateTime;
use time::macros::format_description;

use super::pattern::{Comparison, ComparisonExpr, Constant, ObjectPath, ObservationExpr, Operator, PathStep, Pattern};
use super::{TlpVersion, is_stix_id, tlp_marking, uuid4_from_bytes};
use crate::normalize::{IndicatorKind, normalize};
use crate::record::{Category, Indicator, StixObject, Tlp};

/// The namespace [`ExportOptions::new`] uses for indicator ids (fixed, so
/// ids are stable across installations unless a caller picks its own).
pub const DEFAULT_ID_NAMESPACE: [u8; 16] =
    [0x5b, 0x1f, 0x4c, 0x0e, 0x8d, 0x2a, 0x47, 0x63, 0x9e, 0x51, 0xa0, 0x3b, 0x6c, 0xd4, 0x12, 0x77];

/// What the caller decides for a whole export.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportOptions {
    /// `bundle--<UUID>`; the caller generates it (a random UUIDv4:
    /// [`super::uuid4_from_bytes`] formats 16 random bytes).
    pub bundle_id: String,
    /// Default `created`/`modified` of the indicators.
    pub now: OffsetDateTime,
    /// Namespace of the derived indicator ids.
    pub id_namespace: [u8; 16],
    /// Which TLP marking definitions to reference.
    pub tlp: TlpVersion,
}

impl ExportOptions {
    pub fn new(bundle_id: impl Into<String>, now: OffsetDateTime) -> Self {
        ExportOptions {
            bundle_id: bundle_id.into(),
            now,
            id_namespace: DEFAULT_ID_NAMESPACE,
            tlp: TlpVersion::default(),
        }
    }
}

/// Per-indicator choices; all optional.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IndicatorMeta {
    /// `indicator--<UUID>`; derived from kind and value when `None`.
    pub id: Option<String>,
    pub created: Option<OffsetDateTime>,
    pub modified: Option<OffsetDateTime>,
}

/// An indicator that was not written, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotExportable {
    pub kind: IndicatorKind,
    pub value: String,
    pub reason: String,
}

/// What an export wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExportSummary {
    pub indicators: usize,
    /// Passed-through objects.
    pub objects: usize,
    /// TLP marking definitions appended.
    pub markings: usize,
    pub not_exportable: Vec<NotExportable>,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("writing the STIX bundle: {0}")]
    Io(#[from] io::Error),
    #[error("invalid STIX id {id:?}: expected {object_type}--<UUID>")]
    InvalidId { id: String, object_type: &'static str },
    #[error("STIX object {id:?} cannot be passed through: {reason}")]
    InvalidObject { id: String, reason: String },
}

/// Streams a bundle: [`BundleWriter::new`] writes the head,
/// [`BundleWriter::indicator`] and [`BundleWriter::object`] one object
/// each, [`BundleWriter::finish`] the TLP definitions and the tail.
#[derive(Debug)]
pub struct BundleWriter<W: Write> {
    out: W,
    opts: ExportOptions,
    first: bool,
    tlps: BTreeSet<Tlp>,
    written_markings: HashSet<String>,
    summary: ExportSummary,
}

#[derive(Serialize)]
struct StixIndicator<'a> {
    #[serde(rename = "type")]
    object_type: &'static str,
    spec_version: &'static str,
    id: &'a str,
    created: &'a str,
    modified: &'a str,
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    indicator_types: Vec<&'static str>,
    pattern: &'a str,
    pattern_type: &'static str,
    pattern_version: &'static str,
    valid_from: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    valid_until: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    labels: Vec<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    confidence: Option<u8>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    object_marking_refs: Vec<&'static str>,
}

#[derive(Serialize)]
struct Head<'a> {
    #[serde(rename = "type")]
    object_type: &'static str,
    id: &'a str,
}

/// STIX timestamps: UTC, millisecond precision, `Z`.
fn stix_time(t: OffsetDateTime) -> Option<String> {
    let t = t.to_offset(time::UtcOffset::UTC);
    if !(0..=9999).contains(&t.year()) {
        return None;
    }
    t.format(format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z")).ok()
}

fn indicator_type(c: Category) -> &'static str {
    match c {
        Category::Scanner => "anomalous-activity",
        _ => "malicious-activity",
    }
}

/// The pattern and normalised value for an indicator, or why there is none.
fn pattern_and_value(kind: IndicatorKind, value: &str) -> Result<(String, String), String> {
    if matches!(kind, IndicatorKind::AndroidPackage | IndicatorKind::Ja3 | IndicatorKind::Ja4) {
        return Err(format!("STIX 2.1 has no cyber-observable property for {kind}"));
    }
    let v = normalize(kind, value).map_err(|e| e.reason)?;
    let v4 = |v: &str| if v.parse::<Ipv4Addr>().is_ok() || !v.contains(':') { "ipv4-addr" } else { "ipv6-addr" };
    let (object_type, steps): (&str, &[&str]) = match kind {
        IndicatorKind::Domain => ("domain-name", &["value"]),
        IndicatorKind::Url => ("url", &["value"]),
        IndicatorKind::Ipv4 | IndicatorKind::Ipv6 | IndicatorKind::Cidr => (v4(&v), &["value"]),
        IndicatorKind::Email => ("email-addr", &["value"]),
        IndicatorKind::Md5 => ("file", &["hashes", "MD5"]),
        IndicatorKind::Sha1 => ("file", &["hashes", "SHA-1"]),
        IndicatorKind::Sha256 => ("file", &["hashes", "SHA-256"]),
        IndicatorKind::CertSha256 => ("x509-certificate", &["hashes", "SHA-256"]),
        IndicatorKind::AndroidPackage | IndicatorKind::Ja3 | IndicatorKind::Ja4 => return Err(String::new()),
    };
    let path = ObjectPath {
        object_type: object_type.to_owned(),
        steps: steps.iter().map(|s| PathStep::Key((*s).to_owned())).collect(),
    };
    let test = Comparison { path, negated: false, op: Operator::Eq(Constant::String(v.clone())) };
    let pattern = Pattern { expr: ObservationExpr::Observation(ComparisonExpr::Test(test)) };
    Ok((pattern.to_string(), v))
}

/// The STIX pattern for one indicator value (normalised first), or why it
/// has none.
pub fn pattern_for(kind: IndicatorKind, value: &str) -> Result<String, String> {
    pattern_and_value(kind, value).map(|(p, _)| p)
}

/// The derived id of an indicator: see the [module documentation](self).
/// `value` should be normalised.
pub fn indicator_id(namespace: &[u8; 16], kind: IndicatorKind, value: &str) -> String {
    let mut data = Vec::with_capacity(16 + 20 + value.len());
    data.extend_from_slice(namespace);
    data.extend_from_slice(kind.as_str().as_bytes());
    data.push(b':');
    data.extend_from_slice(value.as_bytes());
    let digest = sha1(&data);
    let mut b = [0u8; 16];
    for (dst, src) in b.iter_mut().zip(digest) {
        *dst = src;
    }
    format!("indicator--{}", uuid4_from_bytes(b))
}

/// SHA-1 (the `sha1` crate), for name-based ids only: nothing here depends on
/// its collision resistance against an attacker.
fn sha1(data: &[u8]) -> [u8; 20] {
    use sha1::Digest;
    sha1::Sha1::digest(data).into()
}

impl<W: Write> BundleWriter<W> {
    /// Checks the bundle id and writes the bundle's head.
    pub fn new(mut out: W, opts: ExportOptions) -> Result<Self, ExportError> {
        if !is_stix_id(&opts.bundle_id, "bundle") {
            return Err(ExportError::InvalidId { id: opts.bundle_id, object_type: "bundle" });
        }
        let head =
            serde_json::to_string(&Head { object_type: "bundle", id: &opts.bundle_id }).map_err(io::Error::from)?;
        // `{"type":"bundle","id":"…"` then the objects array.
        out.write_all(head.trim_end_matches('}').as_bytes())?;
        out.write_all(b",\"objects\":[")?;
        Ok(BundleWriter {
            out,
            opts,
            first: true,
            tlps: BTreeSet::new(),
            written_markings: HashSet::new(),
            summary: ExportSummary::default(),
        })
    }

    fn separator(&mut self) -> io::Result<()> {
        let sep: &[u8] = if self.first { b"\n" } else { b",\n" };
        self.first = false;
        self.out.write_all(sep)
    }

    fn not_exportable(&mut self, ind: &Indicator, reason: String) {
        self.summary.not_exportable.push(NotExportable { kind: ind.kind, value: ind.value.clone(), reason });
    }

    /// Writes one indicator; returns its STIX id, or `None` when it is not
    /// exportable (then it is listed in the summary).
    pub fn indicator(&mut self, ind: &Indicator, meta: &IndicatorMeta) -> Result<Option<String>, ExportError> {
        let (pattern, value) = match pattern_and_value(ind.kind, &ind.value) {
            Ok(pv) => pv,
            Err(reason) => {
                self.not_exportable(ind, reason);
                return Ok(None);
            }
        };
        let id = match &meta.id {
            Some(id) if is_stix_id(id, "indicator") => id.clone(),
            Some(id) => return Err(ExportError::InvalidId { id: id.clone(), object_type: "indicator" }),
            None => indicator_id(&self.opts.id_namespace, ind.kind, &value),
        };
        let created = meta.created.unwrap_or(self.opts.now);
        let modified = meta.modified.unwrap_or(created).max(created);
        let valid_from = ind.first_seen.unwrap_or(created);
        let valid_until = ind.valid_until.filter(|u| *u > valid_from);
        let (Some(created), Some(modified), Some(valid_from)) =
            (stix_time(created), stix_time(modified), stix_time(valid_from))
        else {
            self.not_exportable(ind, "a timestamp outside the years 0 to 9999".to_owned());
            return Ok(None);
        };
        let valid_until = valid_until.and_then(stix_time);
        let mut labels: Vec<&str> = Vec::with_capacity(ind.tags.len() + 1);
        // The category's name first: a reader taking the first label that
        // names a category gets this one back.
        for t in ind.category.map(Category::as_str).into_iter().chain(ind.tags.iter().map(String::as_str)) {
            if !t.is_empty() && !labels.contains(&t) {
                labels.push(t);
            }
        }
        let marking = ind.tlp.and_then(|t| tlp_marking(t, self.opts.tlp).map(|(id, _)| (t, id)));
        if let Some((t, _)) = marking {
            self.tlps.insert(t);
        }
        let obj = StixIndicator {
            object_type: "indicator",
            spec_version: "2.1",
            id: &id,
            created: &created,
            modified: &modified,
            name: &value,
            description: Some(ind.context.as_str()).filter(|c| !c.trim().is_empty()),
            indicator_types: ind.category.map(indicator_type).into_iter().collect(),
            pattern: &pattern,
            pattern_type: "stix",
            pattern_version: "2.1",
            valid_from: &valid_from,
            valid_until: valid_until.as_deref(),
            labels,
            confidence: ind.confidence.map(|c| c.min(100)),
            object_marking_refs: marking.map(|(_, id)| id).into_iter().collect(),
        };
        self.separator()?;
        serde_json::to_writer(&mut self.out, &obj).map_err(io::Error::from)?;
        self.summary.indicators += 1;
        Ok(Some(id))
    }

    /// Passes a kept object through unchanged. Its JSON must be one object.
    pub fn object(&mut self, obj: &StixObject) -> Result<(), ExportError> {
        let json = obj.json.trim();
        let invalid = |reason: &str| ExportError::InvalidObject { id: obj.id.clone(), reason: reason.to_owned() };
        if !json.starts_with('{') {
            return Err(invalid("its JSON is not an object"));
        }
        serde_json::from_str::<serde::de::IgnoredAny>(json).map_err(|e| invalid(&e.to_string()))?;
        if obj.object_type == "marking-definition" {
            self.written_markings.insert(obj.id.clone());
        }
        self.separator()?;
        self.out.write_all(json.as_bytes())?;
        self.summary.objects += 1;
        Ok(())
    }

    /// Appends the TLP marking definitions referenced, closes the bundle,
    /// flushes, and returns the writer and what was written.
    pub fn finish(mut self) -> Result<(W, ExportSummary), ExportError> {
        let tlps = std::mem::take(&mut self.tlps);
        for t in tlps {
            let Some((id, json)) = tlp_marking(t, self.opts.tlp) else { continue };
            if self.written_markings.insert(id.to_owned()) {
                self.separator()?;
                self.out.write_all(json.as_bytes())?;
                self.summary.markings += 1;
            }
        }
        self.out.write_all(b"\n]}\n")?;
        self.out.flush()?;
        Ok((self.out, self.summary))
    }
}

/// Writes a whole bundle: the indicators (with derived ids and `now` as
/// their timestamps), then the kept objects.
pub fn write_bundle<'a, W: Write>(
    out: W,
    opts: ExportOptions,
    indicators: impl IntoIterator<Item = &'a Indicator>,
    objects: impl IntoIterator<Item = &'a StixObject>,
) -> Result<(W, ExportSummary), ExportError> {
    let mut w = BundleWriter::new(out, opts)?;
    let meta = IndicatorMeta::default();
    for ind in indicators {
        w.indicator(ind, &meta)?;
    }
    for obj in objects {
        w.object(obj)?;
    }
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn sha1_vectors() {
        assert_eq!(hex(&sha1(b"")), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        assert_eq!(hex(&sha1(b"abc")), "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert_eq!(
            hex(&sha1(b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1"
        );
        assert_eq!(hex(&sha1(&[b'a'; 1000])), "291e9a6c66994949b57ba5e650361e98fc36b1ba");
    }
}
