//! Evidence files and observables on an incident (issue #7, R2.6).
//!
//! Files are kept content-addressed in `evidence_blobs` (shared with
//! assessment evidence): one copy per SHA-256 however many incidents attach
//! it, checked against its hash on every read, removed only when nothing
//! refers to it any more. Each upload writes an automatic timeline entry;
//! every change and every download is audited against the incident.
//!
//! Observables are values of the intel store's indicator kinds, normalised
//! by `anbao_intel::normalize` (an invalid value is refused with the
//! reason), with a note and an IOC flag. They are added by hand or taken
//! from the incident's alerts, and published as indicators through the
//! ordinary import path (source `incident #N`), after which the observable
//! keeps the indicator's id.

use anbao_intel::{Category, Indicator, IndicatorKind, Tlp, detect_kind, normalize};
use anbao_model::validate::Invalid;
use serde::Serialize;
use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::audit::append;
use crate::incident_tasks::{org_unit_of, touch};
use crate::incidents::{add_timeline, long_text};
use crate::intel::ImportTotals;
use crate::{Actor, Result, Store, StoreError, WriteTx, sha256_bytes_hex};

/// Default largest evidence file (bytes); `anbao.toml` may change it.
pub const INCIDENT_EVIDENCE_MAX_DEFAULT: usize = 32 << 20;

/// The most any configuration may allow: blobs live in one database row.
pub const INCIDENT_EVIDENCE_MAX_CEILING: usize = 256 << 20;

/// Longest description or note, in characters.
pub const EVIDENCE_NOTE_MAX: usize = 1000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IncidentEvidence {
    pub id: i64,
    pub incident_id: i64,
    pub sha256: String,
    /// As uploaded, without any path.
    pub file_name: String,
    /// Bytes.
    pub size: i64,
    /// From the content's magic numbers ([`evidence_type`]).
    pub file_type: String,
    pub description: String,
    pub created_by: String,
    pub created_at: String,
}

/// What the uploader says about a file.
#[derive(Debug, Clone, Default)]
pub struct EvidenceDraft {
    pub file_name: String,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IncidentObservable {
    pub id: i64,
    pub incident_id: i64,
    /// An intel indicator kind: domain, url, ipv4, …
    pub kind: String,
    /// Normalised as the intel store normalises it.
    pub value: String,
    pub note: String,
    /// An indicator of compromise (rather than context, e.g. a victim's server).
    pub ioc: bool,
    /// `manual`, or `alert #N` when taken from an alert.
    pub origin: String,
    /// The indicator it was published as; `None`: not published.
    pub indicator_id: Option<i64>,
    pub published_by: String,
    pub published_at: Option<String>,
    pub created_by: String,
    pub created_at: String,
}

/// An observable as added.
#[derive(Debug, Clone)]
pub struct ObservableDraft {
    pub kind: IndicatorKind,
    /// As typed; normalised before it is stored.
    pub value: String,
    pub note: String,
    pub ioc: bool,
}

/// How an observable is published as an indicator.
#[derive(Debug, Clone, Copy)]
pub struct PublishDraft {
    pub category: Category,
    pub tlp: Tlp,
    /// 0–100.
    pub confidence: u8,
}

/// The basic type of an evidence file from its first bytes: the sample
/// library's types (pe-exe, elf, apk, zip, pdf, …) plus what incident
/// evidence often is: png, jpeg, gif, pcap, pcapng, and text (UTF-8
/// without NUL); else `data`.
pub fn evidence_type(b: &[u8]) -> &'static str {
    const PCAP: [&[u8]; 4] = [b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d"];
    if b.starts_with(b"\x89PNG\r\n\x1a\n") {
        return "png";
    }
    if b.starts_with(b"\xff\xd8\xff") {
        return "jpeg";
    }
    if b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a") {
        return "gif";
    }
    if PCAP.iter().any(|m| b.starts_with(m)) {
        return "pcap";
    }
    if b.starts_with(b"\x0a\x0d\x0d\x0a") {
        return "pcapng";
    }
    match anbao_intel::sample::file_type(b) {
        "data" if !b.contains(&0) && std::str::from_utf8(b).is_ok() => "text",
        t => t,
    }
}

/// A file name as kept: no path, no control characters, at most 200
/// characters; empty becomes `evidence`.
fn clean_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let clean: String = base.chars().filter(|c| !c.is_control()).take(200).collect();
    let clean = clean.trim();
    if clean.is_empty() || clean.chars().all(|c| c == '.') { "evidence".to_owned() } else { clean.to_owned() }
}

fn short_text(field: &'static str, s: &str) -> Result<(), Invalid> {
    long_text(field, s, false)?;
    if s.chars().count() > EVIDENCE_NOTE_MAX {
        return Err(Invalid::field(field, format!("at most {EVIDENCE_NOTE_MAX} characters")));
    }
    Ok(())
}

fn evidence_of(r: &AnyRow) -> Result<IncidentEvidence> {
    Ok(IncidentEvidence {
        id: r.try_get("id")?,
        incident_id: r.try_get("incident_id")?,
        sha256: r.try_get("sha256")?,
        file_name: r.try_get("file_name")?,
        size: r.try_get("size")?,
        file_type: r.try_get("file_type")?,
        description: r.try_get("description")?,
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
    })
}

fn observable_of(r: &AnyRow) -> Result<IncidentObservable> {
    Ok(IncidentObservable {
        id: r.try_get("id")?,
        incident_id: r.try_get("incident_id")?,
        kind: r.try_get("kind")?,
        value: r.try_get("value")?,
        note: r.try_get("note")?,
        ioc: r.try_get::<i64, _>("ioc")? != 0,
        origin: r.try_get("origin")?,
        indicator_id: r.try_get("indicator_id")?,
        published_by: r.try_get("published_by")?,
        published_at: r.try_get("published_at")?,
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
    })
}

fn to_json<T: Serialize>(v: &T) -> Result<serde_json::Value> {
    serde_json::to_value(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

impl IncidentObservable {
    /// The kind as the intel store's enum.
    pub fn indicator_kind(&self) -> Result<IndicatorKind> {
        self.kind.parse().map_err(|e| StoreError::Corrupt(format!("observable {} kind: {e}", self.id)))
    }
}

async fn read_evidence(tx: &mut WriteTx, incident_id: i64, evidence_id: i64) -> Result<IncidentEvidence> {
    let row = sqlx::query("SELECT * FROM incident_evidence WHERE id = $1 AND incident_id = $2")
        .bind(evidence_id)
        .bind(incident_id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::not_found("evidence", evidence_id))?;
    evidence_of(&row)
}

async fn read_observable(tx: &mut WriteTx, incident_id: i64, observable_id: i64) -> Result<IncidentObservable> {
    let row = sqlx::query("SELECT * FROM incident_observables WHERE id = $1 AND incident_id = $2")
        .bind(observable_id)
        .bind(incident_id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::not_found("observable", observable_id))?;
    observable_of(&row)
}

/// An observable about to be inserted, its value already normalised.
struct NewObservable<'a> {
    kind: IndicatorKind,
    value: &'a str,
    note: &'a str,
    ioc: bool,
    origin: &'a str,
}

/// Inserts an observable unless the incident has it already; `None` then.
async fn insert_observable(
    tx: &mut WriteTx,
    actor: &Actor,
    incident_id: i64,
    o: &NewObservable<'_>,
    now: &str,
) -> Result<Option<IncidentObservable>> {
    let NewObservable { kind, value, note, ioc, origin } = *o;
    let exists = sqlx::query("SELECT id FROM incident_observables WHERE incident_id = $1 AND kind = $2 AND value = $3")
        .bind(incident_id)
        .bind(kind.as_str())
        .bind(value.to_owned())
        .fetch_optional(&mut **tx)
        .await?;
    if exists.is_some() {
        return Ok(None);
    }
    let id: i64 = sqlx::query(
        "INSERT INTO incident_observables (incident_id, kind, value, note, ioc, origin, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(incident_id)
    .bind(kind.as_str())
    .bind(value.to_owned())
    .bind(note.to_owned())
    .bind(i64::from(ioc))
    .bind(origin.to_owned())
    .bind(actor.name.clone())
    .bind(now.to_owned())
    .fetch_one(&mut **tx)
    .await?
    .try_get("id")?;
    Ok(Some(read_observable(tx, incident_id, id).await?))
}

/// The observable values an alert holds: the listed value it matched and
/// the value seen in traffic, each read as the kind its field says (a JA3
/// or JA4 field) or as its shape says. Never the victim: that is a
/// subscriber, not an indicator.
fn alert_values(field: &str, indicator: &str, observed: &str, victim: &str) -> Vec<(IndicatorKind, String)> {
    let field = field.to_ascii_lowercase();
    let mut out: Vec<(IndicatorKind, String)> = Vec::new();
    for raw in [indicator, observed] {
        let kind = if field.contains("ja4") {
            Some(IndicatorKind::Ja4)
        } else if field.contains("ja3") {
            Some(IndicatorKind::Ja3)
        } else {
            detect_kind(raw)
        };
        if let Some(kind) = kind
            && let Ok(value) = normalize(kind, raw)
            && value != victim.trim()
            && !out.iter().any(|(k, v)| *k == kind && *v == value)
        {
            out.push((kind, value));
        }
    }
    out
}

impl Store {
    /// The incident's evidence files, oldest first.
    pub async fn incident_evidence(&self, incident_id: i64) -> Result<Vec<IncidentEvidence>> {
        let rows = sqlx::query("SELECT * FROM incident_evidence WHERE incident_id = $1 ORDER BY id")
            .bind(incident_id)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(evidence_of).collect()
    }

    /// Attaches a file of 1 to `max_bytes` bytes. Returns the record and
    /// whether its content was new to the store (false: the blob is shared).
    pub async fn add_incident_evidence(
        &self,
        actor: &Actor,
        incident_id: i64,
        bytes: &[u8],
        draft: &EvidenceDraft,
        max_bytes: usize,
    ) -> Result<(IncidentEvidence, bool)> {
        if bytes.is_empty() {
            return Err(Invalid::field("file", "the file is empty").into());
        }
        if bytes.len() > max_bytes {
            return Err(StoreError::TooLarge {
                what: "evidence file",
                size: bytes.len() as u64,
                max: max_bytes as u64,
            });
        }
        let description = draft.description.trim();
        short_text("description", description)?;
        let name = clean_name(&draft.file_name);
        let sha = sha256_bytes_hex(bytes);
        let file_type = evidence_type(bytes);
        let size = i64::try_from(bytes.len()).unwrap_or(i64::MAX);
        let now = self.now_text();
        let mut tx = self.write_tx().await?;
        let org_unit = org_unit_of(&mut tx, incident_id).await?;
        let known = sqlx::query("SELECT sha256 FROM evidence_blobs WHERE sha256 = $1")
            .bind(sha.clone())
            .fetch_optional(&mut *tx)
            .await?
            .is_some();
        if !known {
            sqlx::query("INSERT INTO evidence_blobs (sha256, size, content, created_at) VALUES ($1, $2, $3, $4)")
                .bind(sha.clone())
                .bind(size)
                .bind(bytes.to_vec())
                .bind(now.clone())
                .execute(&mut *tx)
                .await?;
        }
        let id: i64 = sqlx::query(
            "INSERT INTO incident_evidence (incident_id, sha256, file_name, size, file_type, description, \
             created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(incident_id)
        .bind(sha.clone())
        .bind(name.clone())
        .bind(size)
        .bind(file_type)
        .bind(description.to_owned())
        .bind(actor.name.clone())
        .bind(now.clone())
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
        let evidence = read_evidence(&mut tx, incident_id, id).await?;
        let entry = format!("evidence #{id} \"{name}\" added ({file_type}, {size} bytes, SHA-256 {sha})");
        add_timeline(&mut tx, incident_id, &now, "auto", &entry, actor, &now).await?;
        touch(&mut tx, incident_id, &now).await?;
        append(
            &mut tx,
            &now,
            actor,
            "incident.evidence_add",
            "incident",
            &incident_id.to_string(),
            Some(org_unit),
            None,
            Some(&to_json(&evidence)?),
        )
        .await?;
        tx.commit().await?;
        Ok((evidence, !known))
    }

    /// An evidence file's bytes, checked against its SHA-256. Audited.
    pub async fn incident_evidence_content(
        &self,
        actor: &Actor,
        incident_id: i64,
        evidence_id: i64,
    ) -> Result<(IncidentEvidence, Vec<u8>)> {
        let now = self.now_text();
        let mut tx = self.write_tx().await?;
        let org_unit = org_unit_of(&mut tx, incident_id).await?;
        let evidence = read_evidence(&mut tx, incident_id, evidence_id).await?;
        let row = sqlx::query("SELECT content FROM evidence_blobs WHERE sha256 = $1")
            .bind(evidence.sha256.clone())
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("evidence blob {} is missing", evidence.sha256)))?;
        let bytes: Vec<u8> = row.try_get("content")?;
        if sha256_bytes_hex(&bytes) != evidence.sha256 {
            return Err(StoreError::Corrupt(format!("evidence blob {} does not match its SHA-256", evidence.sha256)));
        }
        append(
            &mut tx,
            &now,
            actor,
            "incident.evidence_download",
            "incident",
            &incident_id.to_string(),
            Some(org_unit),
            None,
            Some(&json!({ "evidence": evidence.id, "sha256": evidence.sha256, "file_name": evidence.file_name })),
        )
        .await?;
        tx.commit().await?;
        Ok((evidence, bytes))
    }

    /// Removes an evidence file from the incident; its bytes go too unless
    /// another incident (or an assessment) still refers to them. Returns
    /// whether the bytes were removed.
    pub async fn delete_incident_evidence(&self, actor: &Actor, incident_id: i64, evidence_id: i64) -> Result<bool> {
        let now = self.now_text();
        let mut tx = self.write_tx().await?;
        let org_unit = org_unit_of(&mut tx, incident_id).await?;
        let evidence = read_evidence(&mut tx, incident_id, evidence_id).await?;
        sqlx::query("DELETE FROM incident_evidence WHERE id = $1").bind(evidence_id).execute(&mut *tx).await?;
        let refs: i64 = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM incident_evidence WHERE sha256 = $1) \
             + (SELECT COUNT(*) FROM item_evidence WHERE sha256 = $1) AS n",
        )
        .bind(evidence.sha256.clone())
        .fetch_one(&mut *tx)
        .await?
        .try_get("n")?;
        if refs == 0 {
            sqlx::query("DELETE FROM evidence_blobs WHERE sha256 = $1")
                .bind(evidence.sha256.clone())
                .execute(&mut *tx)
                .await?;
        }
        let entry = format!("evidence #{} \"{}\" removed", evidence.id, evidence.file_name);
        add_timeline(&mut tx, incident_id, &now, "auto", &entry, actor, &now).await?;
        touch(&mut tx, incident_id, &now).await?;
        append(
            &mut tx,
            &now,
            actor,
            "incident.evidence_delete",
            "incident",
            &incident_id.to_string(),
            Some(org_unit),
            Some(&to_json(&evidence)?),
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(refs == 0)
    }

    /// The incident's observables, oldest first.
    pub async fn incident_observables(&self, incident_id: i64) -> Result<Vec<IncidentObservable>> {
        let rows = sqlx::query("SELECT * FROM incident_observables WHERE incident_id = $1 ORDER BY id")
            .bind(incident_id)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(observable_of).collect()
    }

    pub async fn incident_observable(&self, incident_id: i64, observable_id: i64) -> Result<IncidentObservable> {
        let row = sqlx::query("SELECT * FROM incident_observables WHERE id = $1 AND incident_id = $2")
            .bind(observable_id)
            .bind(incident_id)
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| StoreError::not_found("observable", observable_id))?;
        observable_of(&row)
    }

    /// Adds an observable; its value is normalised as the intel store does
    /// (refused with the reason when invalid), and an incident holds each
    /// (kind, value) once.
    pub async fn add_incident_observable(
        &self,
        actor: &Actor,
        incident_id: i64,
        d: &ObservableDraft,
    ) -> Result<IncidentObservable> {
        let value = normalize(d.kind, &d.value).map_err(|e| Invalid::field("value", e.to_string()))?;
        let note = d.note.trim();
        short_text("note", note)?;
        let now = self.now_text();
        let mut tx = self.write_tx().await?;
        let org_unit = org_unit_of(&mut tx, incident_id).await?;
        let Some(observable) = insert_observable(
            &mut tx,
            actor,
            incident_id,
            &NewObservable { kind: d.kind, value: &value, note, ioc: d.ioc, origin: "manual" },
            &now,
        )
        .await?
        else {
            return Err(StoreError::Conflict(format!("the incident already has the {} {value}", d.kind)));
        };
        touch(&mut tx, incident_id, &now).await?;
        append(
            &mut tx,
            &now,
            actor,
            "incident.observable_add",
            "incident",
            &incident_id.to_string(),
            Some(org_unit),
            None,
            Some(&to_json(&observable)?),
        )
        .await?;
        tx.commit().await?;
        Ok(observable)
    }

    /// Adds the values the incident's alerts matched (listed and observed
    /// domain, URL, address, hash…) as IOC observables; values already
    /// there are skipped. Returns those added (one audit entry for all).
    pub async fn add_observables_from_alerts(
        &self,
        actor: &Actor,
        incident_id: i64,
    ) -> Result<Vec<IncidentObservable>> {
        let mut values: Vec<(IndicatorKind, String, i64)> = Vec::new();
        for a in self.incident_alerts(incident_id, i64::MAX).await? {
            for (kind, value) in alert_values(&a.field, &a.indicator, &a.observed, &a.victim) {
                if !values.iter().any(|(k, v, _)| *k == kind && *v == value) {
                    values.push((kind, value, a.id));
                }
            }
        }
        let now = self.now_text();
        let mut tx = self.write_tx().await?;
        let org_unit = org_unit_of(&mut tx, incident_id).await?;
        let mut added = Vec::new();
        for (kind, value, alert_id) in values {
            let origin = format!("alert #{alert_id}");
            let new = NewObservable { kind, value: &value, note: "", ioc: true, origin: &origin };
            if let Some(o) = insert_observable(&mut tx, actor, incident_id, &new, &now).await? {
                added.push(o);
            }
        }
        if added.is_empty() {
            return Ok(added);
        }
        touch(&mut tx, incident_id, &now).await?;
        append(
            &mut tx,
            &now,
            actor,
            "incident.observable_add",
            "incident",
            &incident_id.to_string(),
            Some(org_unit),
            None,
            Some(&json!({ "from_alerts": to_json(&added)? })),
        )
        .await?;
        tx.commit().await?;
        Ok(added)
    }

    /// Removes an observable (an indicator published from it stays: it is
    /// intelligence now, with its own provenance).
    pub async fn delete_incident_observable(&self, actor: &Actor, incident_id: i64, observable_id: i64) -> Result<()> {
        let now = self.now_text();
        let mut tx = self.write_tx().await?;
        let org_unit = org_unit_of(&mut tx, incident_id).await?;
        let observable = read_observable(&mut tx, incident_id, observable_id).await?;
        sqlx::query("DELETE FROM incident_observables WHERE id = $1").bind(observable_id).execute(&mut *tx).await?;
        touch(&mut tx, incident_id, &now).await?;
        append(
            &mut tx,
            &now,
            actor,
            "incident.observable_delete",
            "incident",
            &incident_id.to_string(),
            Some(org_unit),
            Some(&to_json(&observable)?),
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Publishes an observable as an indicator through the ordinary import
    /// path (one recorded run, source `incident #N`, audited as an import),
    /// then links the observable to the indicator and notes it in the
    /// timeline. Publishing again restates it (new category, TLP or
    /// confidence from this source).
    pub async fn publish_incident_observable(
        &self,
        actor: &Actor,
        incident_id: i64,
        observable_id: i64,
        p: &PublishDraft,
    ) -> Result<IncidentObservable> {
        if p.confidence > 100 {
            return Err(Invalid::field("confidence", "0 to 100").into());
        }
        let incident = self.get_incident(incident_id).await?;
        let observable = self.incident_observable(incident_id, observable_id).await?;
        let kind = observable.indicator_kind()?;
        let source = format!("incident #{incident_id}");
        let mut indicator = Indicator::new(kind, observable.value.clone());
        indicator.category = Some(p.category);
        indicator.tlp = Some(p.tlp);
        indicator.confidence = Some(p.confidence);
        indicator.context = if observable.note.is_empty() {
            format!("incident #{incident_id}: {}", incident.title)
        } else {
            format!("incident #{incident_id}: {} ({})", incident.title, observable.note)
        };
        indicator.external_id = Some(format!("incident-{incident_id}-observable-{observable_id}"));
        let inputs = format!("observable #{observable_id}");
        let run = self.intel_import_begin(actor, &source, "incident", &inputs).await?;
        let counts = match self.intel_import_chunk(run, &source, p.category, vec![indicator], &[]).await {
            Ok(c) => c,
            Err(e) => {
                let failure = e.to_string();
                self.intel_import_finish(actor, run, &ImportTotals::default(), &[], Some(&failure)).await?;
                return Err(e);
            }
        };
        let totals = ImportTotals { accepted: counts.accepted, updated: counts.updated, ..ImportTotals::default() };
        self.intel_import_finish(actor, run, &totals, &[], None).await?;
        let stored = self.intel_indicator_by_value(kind, &observable.value).await?.ok_or_else(|| {
            StoreError::Corrupt(format!("indicator {kind} {} missing after import", observable.value))
        })?;

        let now = self.now_text();
        let mut tx = self.write_tx().await?;
        let org_unit = org_unit_of(&mut tx, incident_id).await?;
        let before = read_observable(&mut tx, incident_id, observable_id).await?;
        sqlx::query(
            "UPDATE incident_observables SET indicator_id = $1, published_by = $2, published_at = $3 WHERE id = $4",
        )
        .bind(stored.id)
        .bind(actor.name.clone())
        .bind(now.clone())
        .bind(observable_id)
        .execute(&mut *tx)
        .await?;
        let after = read_observable(&mut tx, incident_id, observable_id).await?;
        let entry = format!(
            "observable {} {} published as indicator #{} ({}, TLP:{}, confidence {})",
            after.kind,
            after.value,
            stored.id,
            p.category.as_str(),
            p.tlp.as_str(),
            p.confidence
        );
        add_timeline(&mut tx, incident_id, &now, "auto", &entry, actor, &now).await?;
        touch(&mut tx, incident_id, &now).await?;
        append(
            &mut tx,
            &now,
            actor,
            "incident.observable_publish",
            "incident",
            &incident_id.to_string(),
            Some(org_unit),
            Some(&to_json(&before)?),
            Some(&json!({ "observable": to_json(&after)?, "import": run })),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_types_come_from_content() {
        assert_eq!(evidence_type(b"\x89PNG\r\n\x1a\n...."), "png");
        assert_eq!(evidence_type(b"\xff\xd8\xff\xe0JFIF"), "jpeg");
        assert_eq!(evidence_type(b"\xd4\xc3\xb2\xa1\x02\x00"), "pcap");
        assert_eq!(evidence_type(b"\x0a\x0d\x0d\x0a\x1c\x00"), "pcapng");
        assert_eq!(evidence_type(b"%PDF-1.7"), "pdf");
        assert_eq!(evidence_type(b"\x7fELF\x02"), "elf");
        assert_eq!(evidence_type("日志 line\n".as_bytes()), "text");
        assert_eq!(evidence_type(b"\x00\x01\x02"), "data");
    }

    #[test]
    fn file_names_lose_their_paths() {
        assert_eq!(clean_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_name("C:\\Users\\x\\报告.pdf"), "报告.pdf");
        assert_eq!(clean_name("a\u{7}b"), "ab");
        assert_eq!(clean_name(".."), "evidence");
        assert_eq!(clean_name(""), "evidence");
    }

    #[test]
    fn alert_values_are_typed_by_field_or_shape() {
        assert_eq!(
            alert_values("dns.query", "evil.example", "cdn.evil.example", "10.0.0.7"),
            vec![
                (IndicatorKind::Domain, "evil.example".to_owned()),
                (IndicatorKind::Domain, "cdn.evil.example".to_owned())
            ]
        );
        let ja3 = "e7d705a3286e19ea42f587b344ee6865";
        assert_eq!(alert_values("tls.ja3", ja3, ja3, "10.0.0.7"), vec![(IndicatorKind::Ja3, ja3.to_owned())]);
        assert_eq!(
            alert_values("ip.dst", "203.0.113.9", "not a value", "10.0.0.7"),
            vec![(IndicatorKind::Ipv4, "203.0.113.9".into())]
        );
        // A DDoS alert observes the attacked host: the victim is no indicator.
        assert_eq!(alert_values("dst", "syn_flood", "192.0.2.10", "192.0.2.10"), vec![]);
    }
}
