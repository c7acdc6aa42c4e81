//! The malware sample library (R3.5): samples stored by SHA-256 in the
//! database, so every node serves them and none sits on a disk where it
//! could be run; the hash is checked again on every read. Adding a sample
//! also states its MD5, SHA-1 and SHA-256 as indicators (source
//! `sample-library`) and links them, so traffic and app-store checks find
//! the file by any of its hashes.

use anbao_intel::sample::examine;
use anbao_intel::{Category, Indicator, IndicatorKind};
use anbao_model::Timestamp;
use anbao_model::validate::Invalid;
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::audit::append;
use crate::intel::ImportTotals;
use crate::{Actor, Result, Store, StoreError, sha256_bytes_hex, ts_col};

/// The provenance source of indicators made from samples.
pub const SAMPLE_SOURCE: &str = "sample-library";

/// Largest sample accepted.
pub const MAX_SAMPLE_BYTES: usize = 64 << 20;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Sample {
    pub id: i64,
    pub sha256: String,
    pub sha1: String,
    pub md5: String,
    pub size: i64,
    pub file_type: String,
    pub file_name: String,
    pub family: String,
    pub notes: String,
    pub created_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: Timestamp,
    /// Ids of the hash indicators made from it.
    pub indicator_ids: Vec<i64>,
}

/// What the uploader says about a sample.
#[derive(Clone, Debug, Default)]
pub struct SampleDraft {
    pub file_name: String,
    /// Malware family, e.g. `Mirai`, `Joker`.
    pub family: String,
    pub notes: String,
    /// For its hash indicators; default: mobile malware for APK/DEX, else trojan.
    pub category: Option<Category>,
}

fn sample_of(row: &AnyRow) -> Result<Sample> {
    Ok(Sample {
        id: row.try_get("id")?,
        sha256: row.try_get("sha256")?,
        sha1: row.try_get("sha1")?,
        md5: row.try_get("md5")?,
        size: row.try_get("size")?,
        file_type: row.try_get("file_type")?,
        file_name: row.try_get("file_name")?,
        family: row.try_get("family")?,
        notes: row.try_get("notes")?,
        created_by: row.try_get("created_by")?,
        created_at: ts_col(row, "created_at")?,
        indicator_ids: Vec::new(),
    })
}

const COLUMNS: &str = "id, sha256, sha1, md5, size, file_type, file_name, family, notes, created_by, created_at";

fn check_text(field: &'static str, s: &str, max: usize) -> Result<()> {
    if s.len() > max || s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(Invalid::field(field, format!("at most {max} characters, no control characters")).into());
    }
    Ok(())
}

impl Store {
    /// Adds a sample (or, when its SHA-256 is known, updates family and
    /// notes where given); returns it and whether it was new.
    pub async fn add_sample(&self, actor: &Actor, bytes: &[u8], draft: &SampleDraft) -> Result<(Sample, bool)> {
        if bytes.is_empty() {
            return Err(Invalid::field("file", "the file is empty").into());
        }
        if bytes.len() > MAX_SAMPLE_BYTES {
            return Err(Invalid::field("file", format!("larger than {MAX_SAMPLE_BYTES} bytes")).into());
        }
        check_text("file_name", &draft.file_name, 255)?;
        check_text("family", &draft.family, 100)?;
        check_text("notes", &draft.notes, 4000)?;
        let facts = examine(bytes);
        let now = self.now_text();
        let mut tx = self.write_tx().await?;
        let existing = sqlx::query(&format!("SELECT {COLUMNS} FROM intel_samples WHERE sha256 = $1"))
            .bind(&facts.sha256)
            .fetch_optional(&mut *tx)
            .await?;
        let (id, created) = match existing {
            Some(row) => {
                let old = sample_of(&row)?;
                let family = if draft.family.trim().is_empty() { old.family } else { draft.family.trim().to_owned() };
                let notes = if draft.notes.trim().is_empty() { old.notes } else { draft.notes.trim().to_owned() };
                sqlx::query("UPDATE intel_samples SET family = $1, notes = $2, updated_at = $3 WHERE id = $4")
                    .bind(family)
                    .bind(notes)
                    .bind(&now)
                    .bind(old.id)
                    .execute(&mut *tx)
                    .await?;
                (old.id, false)
            }
            None => {
                let row = sqlx::query(
                    "INSERT INTO intel_samples (sha256, sha1, md5, size, file_type, file_name, family, notes, content, \
                     created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) \
                     RETURNING id",
                )
                .bind(&facts.sha256)
                .bind(&facts.sha1)
                .bind(&facts.md5)
                .bind(i64::try_from(facts.size).unwrap_or(i64::MAX))
                .bind(facts.file_type)
                .bind(draft.file_name.trim())
                .bind(draft.family.trim())
                .bind(draft.notes.trim())
                .bind(bytes.to_vec())
                .bind(&actor.name)
                .bind(&now)
                .fetch_one(&mut *tx)
                .await?;
                (row.try_get::<i64, _>("id")?, true)
            }
        };
        let after = serde_json::json!({
            "sha256": facts.sha256, "size": facts.size, "file_type": facts.file_type,
            "file_name": draft.file_name.trim(), "family": draft.family.trim(),
        });
        append(
            &mut tx,
            &now,
            actor,
            if created { "intel.sample.add" } else { "intel.sample.update" },
            "sample",
            &id.to_string(),
            None,
            None,
            Some(&after),
        )
        .await?;
        tx.commit().await?;

        // Its hashes as indicators, through the ordinary import path (one
        // recorded run, provenance `sample-library`), then linked.
        let category = draft.category.unwrap_or(match facts.file_type {
            "apk" | "dex" => Category::MobileMalware,
            _ => Category::Trojan,
        });
        let mut context = format!("sample {}", facts.sha256);
        if !draft.family.trim().is_empty() {
            context = format!("{} ({context})", draft.family.trim());
        }
        let hashes = [
            (IndicatorKind::Md5, &facts.md5),
            (IndicatorKind::Sha1, &facts.sha1),
            (IndicatorKind::Sha256, &facts.sha256),
        ];
        let indicators: Vec<Indicator> = hashes
            .iter()
            .map(|(kind, value)| {
                let mut i = Indicator::new(*kind, value.as_str());
                i.category = Some(category);
                i.confidence = Some(100);
                i.context = context.clone();
                if !draft.family.trim().is_empty() {
                    i.tags = vec![format!("family:{}", draft.family.trim())];
                }
                i
            })
            .collect();
        let run = self.intel_import_begin(actor, SAMPLE_SOURCE, "sample", &facts.sha256).await?;
        let counts = self.intel_import_chunk(run, SAMPLE_SOURCE, category, indicators, &[]).await?;
        let totals = ImportTotals { accepted: counts.accepted, updated: counts.updated, ..ImportTotals::default() };
        self.intel_import_finish(actor, run, &totals, &[], None).await?;
        let mut ids = Vec::new();
        for (kind, value) in hashes {
            if let Some(i) = self.intel_indicator_by_value(kind, value).await? {
                ids.push(i.id);
            }
        }
        let mut tx = self.write_tx().await?;
        for indicator_id in &ids {
            sqlx::query(
                "INSERT INTO intel_sample_indicators (sample_id, indicator_id) VALUES ($1, $2) \
                 ON CONFLICT (sample_id, indicator_id) DO NOTHING",
            )
            .bind(id)
            .bind(*indicator_id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok((self.sample(id).await?, created))
    }

    /// A sample's record (not its bytes).
    pub async fn sample(&self, id: i64) -> Result<Sample> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM intel_samples WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        let mut s = sample_of(&row.ok_or_else(|| StoreError::not_found("sample", id))?)?;
        let links =
            sqlx::query("SELECT indicator_id FROM intel_sample_indicators WHERE sample_id = $1 ORDER BY indicator_id")
                .bind(id)
                .fetch_all(self.pool())
                .await?;
        s.indicator_ids = links.iter().map(|r| r.try_get("indicator_id")).collect::<Result<_, _>>()?;
        Ok(s)
    }

    /// Samples whose hash starts with `q`, or whose name or family contains
    /// it; newest first.
    /// Samples stored, and how many of them are mobile apps (APK, DEX).
    pub async fn sample_counts(&self) -> Result<(i64, i64)> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n, COALESCE(SUM(CASE WHEN file_type IN ('apk', 'dex') THEN 1 ELSE 0 END), 0) AS mobile \
             FROM intel_samples",
        )
        .fetch_one(self.pool())
        .await?;
        Ok((row.try_get("n")?, row.try_get("mobile")?))
    }

    pub async fn samples(&self, q: Option<&str>, limit: i64) -> Result<Vec<Sample>> {
        let limit = limit.clamp(1, 1000);
        let rows = match q.map(str::trim).filter(|q| !q.is_empty()) {
            Some(q) => {
                let lower = q.to_lowercase();
                let escaped = lower.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
                sqlx::query(&format!(
                    "SELECT {COLUMNS} FROM intel_samples WHERE sha256 LIKE $1 ESCAPE '\\' OR sha1 LIKE $1 ESCAPE '\\' \
                     OR md5 LIKE $1 ESCAPE '\\' OR LOWER(file_name) LIKE $2 ESCAPE '\\' OR LOWER(family) LIKE $2 ESCAPE '\\' \
                     ORDER BY id DESC LIMIT $3"
                ))
                .bind(format!("{escaped}%"))
                .bind(format!("%{escaped}%"))
                .bind(limit)
                .fetch_all(self.pool())
                .await?
            }
            None => {
                sqlx::query(&format!("SELECT {COLUMNS} FROM intel_samples ORDER BY id DESC LIMIT $1"))
                    .bind(limit)
                    .fetch_all(self.pool())
                    .await?
            }
        };
        rows.iter().map(sample_of).collect()
    }

    /// A sample's bytes, checked against its SHA-256. Audited: downloads of
    /// live malware are worth knowing about.
    pub async fn sample_content(&self, actor: &Actor, id: i64) -> Result<(Sample, Vec<u8>)> {
        let sample = self.sample(id).await?;
        let row =
            sqlx::query("SELECT content FROM intel_samples WHERE id = $1").bind(id).fetch_one(self.pool()).await?;
        let bytes: Vec<u8> = row.try_get("content")?;
        if sha256_bytes_hex(&bytes) != sample.sha256 {
            return Err(StoreError::Corrupt(format!("sample {id} does not match its SHA-256")));
        }
        let now = self.now_text();
        let mut tx = self.write_tx().await?;
        append(&mut tx, &now, actor, "intel.sample.download", "sample", &id.to_string(), None, None, None).await?;
        tx.commit().await?;
        Ok((sample, bytes))
    }

    /// Deletes a sample (its hash indicators stay: they are intelligence).
    pub async fn delete_sample(&self, actor: &Actor, id: i64) -> Result<()> {
        let sample = self.sample(id).await?;
        let now = self.now_text();
        let mut tx = self.write_tx().await?;
        sqlx::query("DELETE FROM intel_sample_indicators WHERE sample_id = $1").bind(id).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM intel_samples WHERE id = $1").bind(id).execute(&mut *tx).await?;
        let before =
            serde_json::json!({"sha256": sample.sha256, "file_name": sample.file_name, "family": sample.family});
        append(&mut tx, &now, actor, "intel.sample.delete", "sample", &id.to_string(), None, Some(&before), None)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Samples linked to an indicator.
    pub async fn samples_of_indicator(&self, indicator_id: i64) -> Result<Vec<Sample>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM intel_samples WHERE id IN \
             (SELECT sample_id FROM intel_sample_indicators WHERE indicator_id = $1) ORDER BY id"
        ))
        .bind(indicator_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(sample_of).collect()
    }
}
