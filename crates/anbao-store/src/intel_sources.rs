//! Remote intelligence sources (issue #4, R3.5): TAXII 2.1 collections,
//! MISP feeds and plain URLs that `anbao intel pull` and the scheduler
//! fetch, each remembering where its last pull left off (the cursor).
//!
//! A source's password is sealed with the secrets-file key like users'
//! contact data: it is never returned by [`Store::intel_sources`] (only
//! [`IntelSource::has_password`]), never written to the audit log (a
//! change shows as `"password": "changed"`), and only
//! [`Store::intel_source_password`] opens it, for the puller.
//!
//! Pulls are claimed by compare-and-set ([`Store::intel_source_claim`]):
//! the claim moves `last_pull_at` and `last_status` only if they still hold
//! what the claimer read, so of two nodes (or a node and the CLI) that see
//! the same source due, exactly one pulls it. A running pull renews its
//! claim every [`PULL_HEARTBEAT`]; a claim left unrenewed for [`PULL_LEASE`]
//! (the process died or was interrupted) no longer holds.

use anbao_intel::Category;
use anbao_model::Timestamp;
use anbao_model::clock::format_ts;
use anbao_model::validate::Invalid;
use serde::Serialize;
use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::audit::append;
use crate::sql::{Bind, Sql};
use crate::{Actor, Result, Store, StoreError, bool_col, opt_ts_col, ts_col};

/// Formats a source may name (CSV needs a column mapping, so it is not one).
pub const SOURCE_FORMATS: [&str; 5] = ["auto", "stix", "misp", "list", "hosts"];

/// Longest interval between scheduled pulls: a year.
pub const MAX_INTERVAL_MINUTES: i64 = 525_600;

/// How long a `running` claim holds without being renewed; a pull renews
/// it every [`PULL_HEARTBEAT`], so a claim older than this belongs to a
/// process that died (or was interrupted), and the source may be claimed
/// again.
pub const PULL_LEASE: time::Duration = time::Duration::minutes(5);

/// How often a running pull renews its claim ([`Store::intel_source_renew`]).
pub const PULL_HEARTBEAT: std::time::Duration = std::time::Duration::from_secs(60);

/// What kind of remote a source is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// A TAXII 2.1 collection: `url` is the API root, `collection_id` the collection.
    Taxii,
    /// A MISP feed: `url` is its base URL or its `manifest.json`.
    MispFeed,
    /// One document (list, STIX bundle, MISP event) at `url`.
    Url,
}

impl SourceKind {
    pub const ALL: [SourceKind; 3] = [SourceKind::Taxii, SourceKind::MispFeed, SourceKind::Url];

    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Taxii => "taxii",
            SourceKind::MispFeed => "misp_feed",
            SourceKind::Url => "url",
        }
    }
}

impl std::fmt::Display for SourceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for SourceKind {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        SourceKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unknown source kind {s:?} (taxii, misp_feed, url)"))
    }
}

/// A source as stored, without its password.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IntelSource {
    pub id: i64,
    pub name: String,
    pub kind: SourceKind,
    pub url: String,
    /// TAXII only; empty otherwise.
    pub collection_id: String,
    pub username: String,
    pub has_password: bool,
    pub format: String,
    /// For indicators whose feed names no category (`None`: other).
    #[serde(serialize_with = "opt_as_display")]
    pub category: Option<Category>,
    pub include_non_ids: bool,
    /// 0: pulled only on demand.
    pub interval_minutes: i64,
    pub enabled: bool,
    /// Where the last successful pull left off; see the migration.
    pub cursor: String,
    /// When the last pull ended; while one runs, when it last renewed its claim.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_pull_at: Option<Timestamp>,
    /// `running`, `ok`, `not_modified` or `failed: …` (empty: never pulled).
    pub last_status: String,
    pub last_import_id: Option<i64>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: Timestamp,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: Timestamp,
}

fn opt_as_display<T: std::fmt::Display, S: serde::Serializer>(
    v: &Option<T>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    match v {
        Some(v) => s.collect_str(v),
        None => s.serialize_none(),
    }
}

impl IntelSource {
    /// Whether a pull of it is under way at `now` (claimed less than
    /// [`PULL_LEASE`] ago and not finished).
    pub fn is_running(&self, now: Timestamp) -> bool {
        self.last_status == "running" && self.last_pull_at.is_some_and(|t| now - t < PULL_LEASE)
    }

    /// Whether the scheduler should pull it at `now`: enabled, on a
    /// schedule, its interval elapsed since the last pull ended, and not
    /// being pulled.
    pub fn is_due(&self, now: Timestamp) -> bool {
        if !self.enabled || self.interval_minutes <= 0 || self.is_running(now) {
            return false;
        }
        match self.last_pull_at {
            None => true,
            Some(t) => now - t >= time::Duration::minutes(self.interval_minutes),
        }
    }

    /// What the audit log records of it: no password, no cursor (which
    /// changes on every pull and may be large).
    fn audit_summary(&self) -> serde_json::Value {
        json!({
            "name": self.name,
            "kind": self.kind.as_str(),
            "url": self.url,
            "collection_id": self.collection_id,
            "username": self.username,
            "has_password": self.has_password,
            "format": self.format,
            "category": self.category.map(Category::as_str),
            "include_non_ids": self.include_non_ids,
            "interval_minutes": self.interval_minutes,
            "enabled": self.enabled,
        })
    }
}

/// A new source.
#[derive(Clone)]
pub struct IntelSourceDraft {
    pub name: String,
    pub kind: SourceKind,
    pub url: String,
    pub collection_id: String,
    pub username: String,
    /// Empty: none.
    pub password: String,
    pub format: String,
    pub category: Option<Category>,
    pub include_non_ids: bool,
    pub interval_minutes: i64,
    pub enabled: bool,
}

impl IntelSourceDraft {
    /// A source with defaults: auto format, no schedule, enabled.
    pub fn new(name: &str, kind: SourceKind, url: &str) -> IntelSourceDraft {
        IntelSourceDraft {
            name: name.to_owned(),
            kind,
            url: url.to_owned(),
            collection_id: String::new(),
            username: String::new(),
            password: String::new(),
            format: "auto".to_owned(),
            category: None,
            include_non_ids: false,
            interval_minutes: 0,
            enabled: true,
        }
    }
}

impl std::fmt::Debug for IntelSourceDraft {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntelSourceDraft")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("url", &self.url)
            .field("collection_id", &self.collection_id)
            .field("username", &self.username)
            .field("password", &if self.password.is_empty() { "" } else { "***" })
            .field("format", &self.format)
            .field("category", &self.category)
            .field("include_non_ids", &self.include_non_ids)
            .field("interval_minutes", &self.interval_minutes)
            .field("enabled", &self.enabled)
            .finish()
    }
}

/// Changes to a source; `None` leaves a field as it is. Changing the URL
/// or the collection clears the cursor (it belonged to the old remote).
#[derive(Clone, Default)]
pub struct IntelSourcePatch {
    pub name: Option<String>,
    pub url: Option<String>,
    pub collection_id: Option<String>,
    pub username: Option<String>,
    /// `Some("")` removes the password.
    pub password: Option<String>,
    pub format: Option<String>,
    pub category: Option<Option<Category>>,
    pub include_non_ids: Option<bool>,
    pub interval_minutes: Option<i64>,
    pub enabled: Option<bool>,
}

impl std::fmt::Debug for IntelSourcePatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntelSourcePatch")
            .field("name", &self.name)
            .field("url", &self.url)
            .field("collection_id", &self.collection_id)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("format", &self.format)
            .field("category", &self.category)
            .field("include_non_ids", &self.include_non_ids)
            .field("interval_minutes", &self.interval_minutes)
            .field("enabled", &self.enabled)
            .finish()
    }
}

fn source_of(row: &AnyRow) -> Result<IntelSource> {
    let kind: String = row.try_get("kind")?;
    let category: Option<String> = row.try_get("category")?;
    let sealed: String = row.try_get("password_sealed")?;
    Ok(IntelSource {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        kind: kind.parse().map_err(|e| StoreError::Corrupt(format!("intel_sources.kind: {e}")))?,
        url: row.try_get("url")?,
        collection_id: row.try_get("collection_id")?,
        username: row.try_get("username")?,
        has_password: !sealed.is_empty(),
        format: row.try_get("format")?,
        category: category
            .filter(|c| !c.is_empty())
            .map(|c| c.parse().map_err(|e| StoreError::Corrupt(format!("intel_sources.category: {e}"))))
            .transpose()?,
        include_non_ids: bool_col(row, "include_non_ids")?,
        interval_minutes: row.try_get("interval_minutes")?,
        enabled: bool_col(row, "enabled")?,
        cursor: row.try_get("cursor")?,
        last_pull_at: opt_ts_col(row, "last_pull_at")?,
        last_status: row.try_get("last_status")?,
        last_import_id: row.try_get("last_import_id")?,
        created_at: ts_col(row, "created_at")?,
        updated_at: ts_col(row, "updated_at")?,
    })
}

const SOURCE_COLS: &str = "id, name, kind, url, collection_id, username, password_sealed, format, category, \
    include_non_ids, interval_minutes, enabled, cursor, last_pull_at, last_status, last_import_id, created_at, \
    updated_at";

/// The fields a check looks at, after a patch is applied.
struct Fields<'a> {
    name: &'a str,
    kind: SourceKind,
    url: &'a str,
    collection_id: &'a str,
    username: &'a str,
    password: Option<&'a str>,
    format: &'a str,
    interval_minutes: i64,
}

fn check(f: &Fields<'_>) -> Result<()> {
    let name = f.name;
    if name.trim() != name || name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(Invalid::field(
            "name",
            "a name of 1–100 characters, without control characters or surrounding spaces",
        )
        .into());
    }
    check_url(f.url)?;
    match f.kind {
        SourceKind::Taxii => {
            let ok = !f.collection_id.is_empty()
                && f.collection_id.len() <= 200
                && f.collection_id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.~".contains(&b));
            if !ok {
                return Err(Invalid::field(
                    "collection_id",
                    "a TAXII source needs the collection's id (letters, digits, - _ . ~)",
                )
                .into());
            }
        }
        SourceKind::MispFeed | SourceKind::Url => {
            if !f.collection_id.is_empty() {
                return Err(Invalid::field("collection_id", "only TAXII sources have a collection").into());
            }
        }
    }
    if f.username.len() > 200 || f.username.contains(':') || f.username.chars().any(char::is_control) {
        return Err(Invalid::field("username", "up to 200 characters, no colon or control characters").into());
    }
    if let Some(p) = f.password
        && (p.len() > 1000 || p.contains(['\n', '\r', '\0']))
    {
        return Err(Invalid::field("password", "up to 1000 characters on one line").into());
    }
    let formats: &[&str] = match f.kind {
        SourceKind::Taxii => &["auto", "stix"],
        SourceKind::MispFeed => &["auto", "misp"],
        SourceKind::Url => &SOURCE_FORMATS,
    };
    if !formats.contains(&f.format) {
        return Err(
            Invalid::field("format", format!("a {} source reads {}", f.kind.as_str(), formats.join(", "))).into()
        );
    }
    if !(0..=MAX_INTERVAL_MINUTES).contains(&f.interval_minutes) {
        return Err(Invalid::field(
            "interval_minutes",
            format!("0 (on demand only) to {MAX_INTERVAL_MINUTES} minutes"),
        )
        .into());
    }
    Ok(())
}

/// `http(s)://…` without credentials or white space.
fn check_url(url: &str) -> Result<()> {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    let Some(rest) = rest else {
        return Err(Invalid::field("url", "an http:// or https:// URL").into());
    };
    if url.len() > 2000 || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Invalid::field("url", "a URL of up to 2000 characters without spaces").into());
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty() {
        return Err(Invalid::field("url", "the URL names no host").into());
    }
    if authority.contains('@') {
        return Err(Invalid::field(
            "url",
            "put no user name or password in the URL; give them as the source's username and password",
        )
        .into());
    }
    Ok(())
}

impl Store {
    /// Adds a source (audited, without its password).
    pub async fn intel_source_create(&self, actor: &Actor, draft: &IntelSourceDraft) -> Result<IntelSource> {
        check(&Fields {
            name: &draft.name,
            kind: draft.kind,
            url: &draft.url,
            collection_id: &draft.collection_id,
            username: &draft.username,
            password: Some(&draft.password),
            format: &draft.format,
            interval_minutes: draft.interval_minutes,
        })?;
        let sealed = self.sealer().seal(&draft.password)?;
        let now = self.now_text();
        let mut tx = self.write_tx().await?;
        let row = sqlx::query(
            "INSERT INTO intel_sources (name, kind, url, collection_id, username, password_sealed, format, \
             category, include_non_ids, interval_minutes, enabled, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) RETURNING id",
        )
        .bind(&draft.name)
        .bind(draft.kind.as_str())
        .bind(&draft.url)
        .bind(&draft.collection_id)
        .bind(&draft.username)
        .bind(&sealed)
        .bind(&draft.format)
        .bind(draft.category.map(|c| c.as_str().to_owned()))
        .bind(i64::from(draft.include_non_ids))
        .bind(draft.interval_minutes)
        .bind(i64::from(draft.enabled))
        .bind(&now)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| StoreError::unique_or(e, || format!("an intel source named {:?} exists", draft.name)))?;
        let id: i64 = row.try_get("id")?;
        let source = fetch(&mut tx, id).await?;
        append(
            &mut tx,
            &now,
            actor,
            "intel.source.create",
            "intel_source",
            &id.to_string(),
            None,
            None,
            Some(&source.audit_summary()),
        )
        .await?;
        tx.commit().await?;
        Ok(source)
    }

    /// Changes a source (audited, without its password).
    pub async fn intel_source_update(&self, actor: &Actor, id: i64, patch: &IntelSourcePatch) -> Result<IntelSource> {
        let now = self.now_text();
        let mut tx = self.write_tx().await?;
        let before = fetch(&mut tx, id).await?;
        let name = patch.name.clone().unwrap_or_else(|| before.name.clone());
        let url = patch.url.clone().unwrap_or_else(|| before.url.clone());
        let collection_id = patch.collection_id.clone().unwrap_or_else(|| before.collection_id.clone());
        let username = patch.username.clone().unwrap_or_else(|| before.username.clone());
        let format = patch.format.clone().unwrap_or_else(|| before.format.clone());
        let interval_minutes = patch.interval_minutes.unwrap_or(before.interval_minutes);
        check(&Fields {
            name: &name,
            kind: before.kind,
            url: &url,
            collection_id: &collection_id,
            username: &username,
            password: patch.password.as_deref(),
            format: &format,
            interval_minutes,
        })?;
        let mut sql = Sql::new("UPDATE intel_sources SET name = ");
        sql.bind(Bind::Text(name.clone()));
        sql.push(", url = ").bind(Bind::Text(url.clone()));
        sql.push(", collection_id = ").bind(Bind::Text(collection_id.clone()));
        sql.push(", username = ").bind(Bind::Text(username));
        sql.push(", format = ").bind(Bind::Text(format));
        sql.push(", interval_minutes = ").bind(Bind::Int(interval_minutes));
        sql.push(", include_non_ids = ")
            .bind(Bind::Int(i64::from(patch.include_non_ids.unwrap_or(before.include_non_ids))));
        sql.push(", enabled = ").bind(Bind::Int(i64::from(patch.enabled.unwrap_or(before.enabled))));
        match patch.category {
            Some(Some(c)) => {
                sql.push(", category = ").bind(Bind::Text(c.as_str().to_owned()));
            }
            Some(None) => {
                sql.push(", category = NULL");
            }
            None => {}
        }
        if let Some(p) = &patch.password {
            sql.push(", password_sealed = ").bind(Bind::Text(self.sealer().seal(p)?));
        }
        if url != before.url || collection_id != before.collection_id {
            sql.push(", cursor = ''");
        }
        sql.push(", updated_at = ").bind(Bind::Text(now.clone()));
        sql.push(" WHERE id = ").bind(Bind::Int(id));
        sql.query()
            .execute(&mut *tx)
            .await
            .map_err(|e| StoreError::unique_or(e, || format!("an intel source named {name:?} exists")))?;
        let after = fetch(&mut tx, id).await?;
        let mut after_json = after.audit_summary();
        if patch.password.is_some()
            && let Some(o) = after_json.as_object_mut()
        {
            o.insert("password".into(), json!("changed"));
        }
        append(
            &mut tx,
            &now,
            actor,
            "intel.source.update",
            "intel_source",
            &id.to_string(),
            None,
            Some(&before.audit_summary()),
            Some(&after_json),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Removes a source. What it imported stays (under its name).
    pub async fn intel_source_delete(&self, actor: &Actor, id: i64) -> Result<()> {
        let now = self.now_text();
        let mut tx = self.write_tx().await?;
        let before = fetch(&mut tx, id).await?;
        sqlx::query("DELETE FROM intel_sources WHERE id = $1").bind(id).execute(&mut *tx).await?;
        append(
            &mut tx,
            &now,
            actor,
            "intel.source.delete",
            "intel_source",
            &id.to_string(),
            None,
            Some(&before.audit_summary()),
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn intel_source(&self, id: i64) -> Result<IntelSource> {
        let row = sqlx::query(&format!("SELECT {SOURCE_COLS} FROM intel_sources WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        source_of(&row.ok_or_else(|| StoreError::not_found("intel source", id))?)
    }

    /// The source with this name, or else with this id.
    pub async fn intel_source_find(&self, name_or_id: &str) -> Result<IntelSource> {
        let row = sqlx::query(&format!("SELECT {SOURCE_COLS} FROM intel_sources WHERE name = $1"))
            .bind(name_or_id)
            .fetch_optional(self.pool())
            .await?;
        if let Some(row) = row {
            return source_of(&row);
        }
        match name_or_id.parse::<i64>() {
            Ok(id) => self.intel_source(id).await,
            Err(_) => Err(StoreError::not_found("intel source", name_or_id)),
        }
    }

    /// Every source, by name.
    pub async fn intel_sources(&self) -> Result<Vec<IntelSource>> {
        let rows = sqlx::query(&format!("SELECT {SOURCE_COLS} FROM intel_sources ORDER BY name"))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(source_of).collect()
    }

    /// The source's password, opened (empty: none). For the puller only.
    pub async fn intel_source_password(&self, id: i64) -> Result<String> {
        let row = sqlx::query("SELECT password_sealed FROM intel_sources WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        let sealed: String =
            row.ok_or_else(|| StoreError::not_found("intel source", id))?.try_get("password_sealed")?;
        Ok(self.sealer().open(&sealed)?)
    }

    /// Claims a pull of `seen` (the source as the caller read it): marks it
    /// `running` from now, if its last pull time and status are still those
    /// of `seen`. Returns the claimed source, or `None` when `seen` is being
    /// pulled or someone else changed it first (another node claimed it).
    pub async fn intel_source_claim(&self, seen: &IntelSource) -> Result<Option<IntelSource>> {
        if seen.is_running(self.now()) {
            return Ok(None);
        }
        let now = self.now_text();
        let old_at = seen.last_pull_at.map(format_ts).unwrap_or_default();
        let mut tx = self.write_tx().await?;
        let claimed = sqlx::query(
            "UPDATE intel_sources SET last_pull_at = $1, last_status = 'running' \
             WHERE id = $2 AND last_pull_at = $3 AND last_status = $4",
        )
        .bind(&now)
        .bind(seen.id)
        .bind(&old_at)
        .bind(&seen.last_status)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if claimed != 1 {
            return Ok(None);
        }
        let source = fetch(&mut tx, seen.id).await?;
        tx.commit().await?;
        Ok(Some(source))
    }

    /// Renews the claim of a running pull (`claimed` as last claimed or
    /// renewed); `None` when the claim was lost (it lapsed and another
    /// process claimed the source).
    pub async fn intel_source_renew(&self, claimed: &IntelSource) -> Result<Option<IntelSource>> {
        let now = self.now_text();
        let old_at = claimed.last_pull_at.map(format_ts).unwrap_or_default();
        let mut tx = self.write_tx().await?;
        let renewed = sqlx::query(
            "UPDATE intel_sources SET last_pull_at = $1 \
             WHERE id = $2 AND last_pull_at = $3 AND last_status = 'running'",
        )
        .bind(&now)
        .bind(claimed.id)
        .bind(&old_at)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if renewed != 1 {
            return Ok(None);
        }
        let source = fetch(&mut tx, claimed.id).await?;
        tx.commit().await?;
        Ok(Some(source))
    }

    /// Records how a pull ended (now): its status (`ok`, `not_modified`,
    /// `failed: …`), the new cursor (`None`: unchanged, as after a failure)
    /// and the import run it wrote (`None`: unchanged). Not audited: the
    /// import run has its own audit entry.
    pub async fn intel_source_record_pull(
        &self,
        id: i64,
        cursor: Option<&str>,
        status: &str,
        import_id: Option<i64>,
    ) -> Result<IntelSource> {
        let status: String = status.chars().filter(|c| !c.is_control()).take(1000).collect();
        let now = self.now_text();
        let mut tx = self.write_tx().await?;
        let mut sql = Sql::new("UPDATE intel_sources SET last_status = ");
        sql.bind(Bind::Text(status));
        sql.push(", last_pull_at = ").bind(Bind::Text(now));
        if let Some(c) = cursor {
            sql.push(", cursor = ").bind(Bind::Text(c.to_owned()));
        }
        if let Some(i) = import_id {
            sql.push(", last_import_id = ").bind(Bind::Int(i));
        }
        sql.push(" WHERE id = ").bind(Bind::Int(id));
        sql.query().execute(&mut *tx).await?;
        let source = fetch(&mut tx, id).await?;
        tx.commit().await?;
        Ok(source)
    }
}

async fn fetch(tx: &mut crate::WriteTx, id: i64) -> Result<IntelSource> {
    let row = sqlx::query(&format!("SELECT {SOURCE_COLS} FROM intel_sources WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    source_of(&row.ok_or_else(|| StoreError::not_found("intel source", id))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_with_credentials_or_other_schemes_are_refused() {
        assert!(check_url("https://taxii.example/api1/").is_ok());
        assert!(check_url("http://127.0.0.1:5000/api1/?x=a@b").is_ok());
        assert!(check_url("https://user:pw@taxii.example/api1/").is_err());
        assert!(check_url("ftp://taxii.example/").is_err());
        assert!(check_url("https:///path").is_err());
        assert!(check_url("https://a.example/ b").is_err());
    }

    #[test]
    fn drafts_do_not_print_passwords() {
        let mut d = IntelSourceDraft::new("x", SourceKind::Url, "https://a.example/");
        d.password = "hunter2".into();
        assert!(!format!("{d:?}").contains("hunter2"));
        let p = IntelSourcePatch { password: Some("hunter2".into()), ..IntelSourcePatch::default() };
        assert!(!format!("{p:?}").contains("hunter2"));
    }
}
