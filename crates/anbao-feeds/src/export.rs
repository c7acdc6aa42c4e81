//! Exports of stored indicators, shared by `anbao intel export` and the
//! API: STIX 2.1 (streamed, one object at a time), CSV, plain lists, an RPZ
//! zone and an Unbound local-zone file (disposal by NXDOMAIN or sinkhole).
//!
//! Expired indicators and those an enabled allowlist covers are left out
//! unless asked for: an export feeds blocking, and blocking `google.com`
//! because a feed listed it is the failure allowlists exist to prevent.
//! The non-STIX writers de-duplicate and check the whole set, so those
//! formats hold the selection in memory (about 200 bytes an indicator).

use std::io::Write;
use std::net::IpAddr;

use anbao_intel::allowlist::Allowlist;
use anbao_intel::export::{
    CsvOptions, ExportError as WriteError, ExportSummary as Summary, ListHeader, ListOptions, RpzAction, RpzOptions,
    Sinkhole, UnboundAction, UnboundOptions, write_csv, write_list, write_rpz, write_unbound,
};
use anbao_intel::stix::export::{BundleWriter, ExportOptions, IndicatorMeta};
use anbao_intel::stix::uuid4_from_bytes;
use anbao_intel::{Indicator, IndicatorKind, StixObject};
use anbao_model::Timestamp;
use anbao_store::{IndicatorFilter, Store, StoreError};
use serde::Serialize;

use crate::FeedsError;
use crate::live::load_allowlist;

/// An export format, as `--format` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    Stix,
    Csv,
    List,
    Rpz,
    Unbound,
}

impl ExportFormat {
    pub const ALL: [ExportFormat; 5] =
        [ExportFormat::Stix, ExportFormat::Csv, ExportFormat::List, ExportFormat::Rpz, ExportFormat::Unbound];

    pub fn as_str(self) -> &'static str {
        match self {
            ExportFormat::Stix => "stix",
            ExportFormat::Csv => "csv",
            ExportFormat::List => "list",
            ExportFormat::Rpz => "rpz",
            ExportFormat::Unbound => "unbound",
        }
    }

    /// The media type to serve it as.
    pub fn media_type(self) -> &'static str {
        match self {
            ExportFormat::Stix => "application/stix+json;version=2.1",
            ExportFormat::Csv => "text/csv; charset=utf-8",
            _ => "text/plain; charset=utf-8",
        }
    }

    pub fn file_name(self) -> &'static str {
        match self {
            ExportFormat::Stix => "anbao-indicators.json",
            ExportFormat::Csv => "anbao-indicators.csv",
            ExportFormat::List => "anbao-indicators.txt",
            ExportFormat::Rpz => "rpz.anbao.zone",
            ExportFormat::Unbound => "anbao-local-zones.conf",
        }
    }
}

impl std::str::FromStr for ExportFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        ExportFormat::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| format!("unknown export format {s:?} (stix, csv, list, rpz, unbound)"))
    }
}

/// What to export and how.
#[derive(Clone, Debug)]
pub struct ExportRequest {
    pub format: ExportFormat,
    pub filter: IndicatorFilter,
    pub include_expired: bool,
    pub include_allowlisted: bool,
    /// RPZ/Unbound: answer with this address instead of NXDOMAIN.
    pub sinkhole: Option<IpAddr>,
    /// RPZ zone name.
    pub zone: String,
    pub now: Timestamp,
    /// STIX: add a `sighting` of each exported indicator our detection saw
    /// (counts and first/last seen; no subscriber data), to share back (R8.5).
    pub sightings: bool,
}

impl ExportRequest {
    pub fn new(format: ExportFormat, now: Timestamp) -> ExportRequest {
        ExportRequest {
            format,
            filter: IndicatorFilter::default(),
            include_expired: false,
            include_allowlisted: false,
            sinkhole: None,
            zone: "rpz.anbao.".into(),
            now,
            sightings: false,
        }
    }
}

/// What an export wrote and left out.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ExportReport {
    pub written: u64,
    pub allowlisted: u64,
    /// Not representable in the format (e.g. hashes in an RPZ zone), or
    /// refused by its checks; by kind.
    pub skipped: u64,
}

/// Writes the export to `out`.
pub async fn export(
    store: &Store,
    req: &ExportRequest,
    out: &mut (dyn Write + Send),
) -> Result<ExportReport, FeedsError> {
    let allowlist = if req.include_allowlisted { None } else { Some(load_allowlist(store).await?.0) };
    let mut filter = req.filter.clone();
    if !req.include_expired {
        filter.valid_at = Some(req.now);
    }
    let sinkhole = req.sinkhole.map(|ip| match ip {
        IpAddr::V4(a) => Sinkhole { ipv4: Some(a), ipv6: None, cname: None },
        IpAddr::V6(a) => Sinkhole { ipv4: None, ipv6: Some(a), cname: None },
    });
    type Writer<'a> = Box<dyn FnOnce(&mut dyn Write, &[Indicator]) -> Result<Summary, WriteError> + Send + 'a>;
    let description = describe(&filter);
    let write: Writer = match req.format {
        ExportFormat::Stix => return export_stix(store, req, &filter, allowlist.as_ref(), out).await,
        ExportFormat::Csv => Box::new(|out, records| write_csv(out, records, &CsvOptions::default())),
        ExportFormat::List => Box::new(move |out, records| {
            write_list(out, records, &ListOptions { header: Some(ListHeader { description, generated: req.now }) })
        }),
        ExportFormat::Rpz => {
            let options = RpzOptions {
                zone_name: req.zone.clone(),
                soa_mname: "localhost.".into(),
                soa_rname: "hostmaster.localhost.".into(),
                // Seconds since 1970 fit a u32 until 2106 and grow with each export.
                serial: u32::try_from(req.now.unix_timestamp()).unwrap_or(u32::MAX),
                ttl: 300,
                action: sinkhole.map_or(RpzAction::Nxdomain, RpzAction::Sinkhole),
                include_subdomains: true,
            };
            Box::new(move |out, records| write_rpz(out, records, &options))
        }
        ExportFormat::Unbound => {
            let options = UnboundOptions {
                action: sinkhole.map_or(UnboundAction::Nxdomain, UnboundAction::Sinkhole),
                ttl: 300,
                server_clause: true,
            };
            Box::new(move |out, records| write_unbound(out, records, &options))
        }
    };
    let mut report = ExportReport::default();
    let mut records: Vec<Indicator> = Vec::new();
    store
        .intel_for_each_export(&filter, |e| {
            let record = e.to_record();
            if allowlist.as_ref().is_some_and(|a| a.allows(record.kind, &record.value).is_some()) {
                report.allowlisted += 1;
            } else {
                records.push(record);
            }
            Ok(())
        })
        .await?;
    let summary = write(&mut *out, &records).map_err(|e| FeedsError::Usage(e.to_string()))?;
    out.flush().map_err(|e| FeedsError::Internal(format!("writing the export: {e}")))?;
    report.written = summary.written as u64;
    report.skipped = summary.skipped() as u64;
    Ok(report)
}

/// STIX bundles stream: one indicator object at a time.
async fn export_stix(
    store: &Store,
    req: &ExportRequest,
    filter: &IndicatorFilter,
    allowlist: Option<&Allowlist>,
    out: &mut (dyn Write + Send),
) -> Result<ExportReport, FeedsError> {
    let mut report = ExportReport::default();
    let mut random = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut random);
    let options = ExportOptions::new(format!("bundle--{}", uuid4_from_bytes(random)), req.now);
    let mut writer = BundleWriter::new(&mut *out, options).map_err(|e| FeedsError::Internal(e.to_string()))?;
    let sightings = if req.sightings { store.alert_sightings().await? } else { Default::default() };
    let mut failure: Option<String> = None;
    let result = store
        .intel_for_each_export(filter, |e| {
            let record = e.to_record();
            if allowlist.is_some_and(|a| a.allows(record.kind, &record.value).is_some()) {
                report.allowlisted += 1;
                return Ok(());
            }
            let meta =
                IndicatorMeta { id: None, created: Some(e.stored.created_at), modified: Some(e.stored.updated_at) };
            match writer.indicator(&record, &meta) {
                Ok(Some(stix_id)) => {
                    report.written += 1;
                    if let Some(&(count, first, last)) = sightings.get(&e.stored.id) {
                        let sighting = sighting_of(&stix_id, count, first, last);
                        if let Err(err) = writer.object(&sighting) {
                            failure = Some(err.to_string());
                            return Err(StoreError::Conflict("export stopped".into()));
                        }
                    }
                }
                Ok(None) => report.skipped += 1,
                Err(err) => {
                    failure = Some(err.to_string());
                    return Err(StoreError::Conflict("export stopped".into()));
                }
            }
            Ok(())
        })
        .await;
    if let Some(f) = failure {
        return Err(FeedsError::Internal(f));
    }
    result?;
    writer.finish().map_err(|e| FeedsError::Internal(e.to_string()))?;
    Ok(report)
}

/// A STIX 2.1 `sighting` of the indicator `stix_id`. Its id is derived from
/// the indicator's, so each export carries the same sighting object, at a
/// new version (`modified` = last seen) once there are new detections.
pub(crate) fn sighting_of(stix_id: &str, count: i64, first: Timestamp, last: Timestamp) -> StixObject {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(format!("anbao-sighting:{stix_id}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(digest.get(..16).unwrap_or(&[0u8; 16]));
    let id = format!("sighting--{}", uuid4_from_bytes(bytes));
    let (first, last) = (anbao_model::clock::format_ts(first), anbao_model::clock::format_ts(last));
    let json = serde_json::json!({
        "type": "sighting",
        "spec_version": "2.1",
        "id": id,
        // Created at the first detection, a new version at each later one.
        "created": first,
        "modified": last,
        "sighting_of_ref": stix_id,
        // STIX caps count at 999,999,999.
        "count": count.clamp(0, 999_999_999),
        "first_seen": first,
        "last_seen": last,
    });
    StixObject { id, object_type: "sighting".into(), spec_version: "2.1".into(), version: last, json: json.to_string() }
}

fn describe(f: &IndicatorFilter) -> String {
    let mut parts = Vec::new();
    if let Some(k) = f.kind {
        parts.push(format!("kind={k}"));
    }
    if let Some(c) = f.category {
        parts.push(format!("category={c}"));
    }
    if let Some(s) = &f.source {
        parts.push(format!("source={s}"));
    }
    if parts.is_empty() { "all indicators".to_owned() } else { parts.join(" ") }
}

/// Kinds each format can hold (for the UI's hints).
pub fn exportable_kinds(format: ExportFormat) -> &'static [IndicatorKind] {
    use IndicatorKind as K;
    match format {
        ExportFormat::Rpz => &[K::Domain, K::Ipv4, K::Ipv6, K::Cidr],
        ExportFormat::Unbound => &[K::Domain],
        ExportFormat::Stix => {
            &[K::Domain, K::Url, K::Ipv4, K::Ipv6, K::Cidr, K::Md5, K::Sha1, K::Sha256, K::Email, K::CertSha256]
        }
        _ => &K::ALL,
    }
}
