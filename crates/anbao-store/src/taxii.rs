//! TAXII 2.1 collections and what they hold (issue #4): each collection's
//! title, alias, read and write roles and publish filter; the STIX objects
//! added to it, one row per object id and version; and the status resource
//! of every add-objects request.
//!
//! `date_added` is microsecond RFC 3339 text, strictly increasing within a
//! collection: every add takes the write lock, so each new row is stamped
//! after every row already committed, and a per-collection high-water mark
//! keeps that true after the newest object is deleted or the clock steps
//! back. Paging by "date_added after the last one seen" therefore never
//! skips or repeats an object.
//!
//! Objects are checked here, not by callers, so no path can store one
//! without an id, a type matching it, or in a STIX version other than 2.1;
//! a bad object becomes a failure in the status, not an error of the
//! request. Each add, delete and collection change appends one audit entry
//! (per envelope, not per object).

use std::collections::HashSet;

use anbao_intel::{Category, Tlp};
use anbao_model::Role;
use anbao_model::Timestamp;
use anbao_model::validate::{self, Invalid};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sqlx::Row;
use sqlx::any::AnyRow;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime, UtcOffset};

use crate::audit::append;
use crate::sql::{Bind, Sql, id_list};
use crate::{Actor, Result, Store, StoreError, random_hex, ts_col};

/// The only STIX version collections hold.
pub const STIX_SPEC_VERSION: &str = "2.1";

/// Most values one filter (`match[id]`, …) may list.
pub const MAX_FILTER_VALUES: usize = 1000;

/// How long status resources are kept after their request.
pub const STATUS_RETENTION: Duration = Duration::days(7);

/// Rows per INSERT: 8 values each, well under both backends' limits.
const ROWS_PER_STATEMENT: usize = 500;

/// STIX 2.1 cyber-observable types, for which `spec_version` is optional.
const OBSERVABLE_TYPES: &[&str] = &[
    "artifact",
    "autonomous-system",
    "directory",
    "domain-name",
    "email-addr",
    "email-message",
    "file",
    "ipv4-addr",
    "ipv6-addr",
    "mac-addr",
    "mutex",
    "network-traffic",
    "process",
    "software",
    "url",
    "user-account",
    "windows-registry-key",
    "x509-certificate",
];

/// Which indicators a collection publishes (stored now, used by the
/// publisher later).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PublishFilter {
    /// Categories published; empty means every category.
    pub categories: Vec<Category>,
    /// The most restrictive marking published; `None` publishes any.
    pub max_tlp: Option<Tlp>,
}

impl PublishFilter {
    /// From the names people and the API use; names the bad field.
    pub fn parse(categories: &[String], max_tlp: Option<&str>) -> Result<PublishFilter, Invalid> {
        let mut parsed = Vec::with_capacity(categories.len());
        for c in categories {
            let category: Category = c.parse().map_err(|e: String| Invalid::field("publish.categories", e))?;
            if !parsed.contains(&category) {
                parsed.push(category);
            }
        }
        parsed.sort_unstable();
        let max_tlp = match max_tlp {
            None => None,
            Some(t) => Some(t.parse::<Tlp>().map_err(|e| Invalid::field("publish.max_tlp", e))?),
        };
        Ok(PublishFilter { categories: parsed, max_tlp })
    }

    /// Whether an indicator of `category` marked `tlp` (none: clear) is
    /// published.
    pub fn admits(&self, category: Category, tlp: Option<Tlp>) -> bool {
        let category_ok = self.categories.is_empty() || self.categories.contains(&category);
        let tlp_ok = match (self.max_tlp, tlp) {
            (None, _) => true,
            (Some(max), Some(t)) => t.rank() <= max.rank(),
            (Some(_), None) => true,
        };
        category_ok && tlp_ok
    }

    fn summary(&self) -> Value {
        json!({
            "categories": self.categories.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
            "max_tlp": self.max_tlp.map(|t| t.as_str()),
        })
    }
}

/// A TAXII collection as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaxiiCollection {
    /// A UUID.
    pub id: String,
    pub title: String,
    pub description: String,
    pub alias: Option<String>,
    /// Roles that may read objects.
    pub can_read: Vec<Role>,
    /// Roles that may add (and delete) objects; never a read-only role.
    pub can_write: Vec<Role>,
    /// Whether and which indicators are published into it.
    pub publish: Option<PublishFilter>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl TaxiiCollection {
    pub fn readable_by(&self, role: Role) -> bool {
        self.can_read.contains(&role)
    }

    pub fn writable_by(&self, role: Role) -> bool {
        !role.is_read_only() && self.can_write.contains(&role)
    }

    fn summary(&self) -> Value {
        json!({
            "id": self.id,
            "title": self.title,
            "alias": self.alias,
            "can_read": roles_text(&self.can_read),
            "can_write": roles_text(&self.can_write),
            "publish": self.publish.as_ref().map(PublishFilter::summary),
        })
    }
}

/// What a new collection needs.
#[derive(Clone, Debug, Default)]
pub struct CollectionDraft {
    pub title: String,
    pub description: String,
    pub alias: Option<String>,
    pub can_read: Vec<Role>,
    pub can_write: Vec<Role>,
    pub publish: Option<PublishFilter>,
}

/// A change to a collection; `None` leaves a field as it is. `alias` and
/// `publish` are cleared with `Some(None)`.
#[derive(Clone, Debug, Default)]
pub struct CollectionPatch {
    pub title: Option<String>,
    pub description: Option<String>,
    pub alias: Option<Option<String>>,
    pub can_read: Option<Vec<Role>>,
    pub can_write: Option<Vec<Role>>,
    pub publish: Option<Option<PublishFilter>>,
}

/// A stored object version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaxiiObject {
    pub stix_id: String,
    pub object_type: String,
    pub spec_version: String,
    /// As the object states it (`modified`, else `created`), or the date it
    /// was added for objects with neither.
    pub version: String,
    /// RFC 3339 UTC with microseconds.
    pub date_added: String,
    /// The object's JSON; empty when the query asked for metadata only.
    pub body: String,
}

/// One `match[version]` value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VersionMatch {
    First,
    Last,
    All,
    At(Timestamp),
}

/// Which object versions a query wants; empty lists do not filter.
#[derive(Clone, Debug, Default)]
pub struct ObjectFilter {
    /// Only versions added strictly after this instant.
    pub added_after: Option<Timestamp>,
    pub ids: Vec<String>,
    pub types: Vec<String>,
    /// Which versions of each object; empty means the last.
    pub versions: Vec<VersionMatch>,
    pub spec_versions: Vec<String>,
}

/// One page of a query in `date_added` order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaxiiPage {
    pub objects: Vec<TaxiiObject>,
    /// Whether more match after the last one returned.
    pub more: bool,
}

/// One object's outcome in a status resource.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusDetail {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// The status of one add-objects request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaxiiStatus {
    /// A UUID.
    pub id: String,
    pub collection_id: String,
    /// `complete` or `pending`.
    pub status: String,
    /// RFC 3339 UTC with microseconds.
    pub request_timestamp: String,
    pub total_count: u64,
    pub success_count: u64,
    pub failure_count: u64,
    pub pending_count: u64,
    pub successes: Vec<StatusDetail>,
    pub failures: Vec<StatusDetail>,
    pub pendings: Vec<StatusDetail>,
}

/// An instant as stored in `date_added`: `2026-11-25T09:00:00.000000Z`.
pub fn micros_text(t: Timestamp) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.microsecond()
    )
}

/// An instant as stored in `version_key`: nine fractional digits.
fn nanos_text(t: Timestamp) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.nanosecond()
    )
}

/// Parses a STIX/TAXII timestamp (RFC 3339, any precision); years outside
/// 0000–9999 do not parse.
pub fn parse_timestamp(s: &str) -> Option<Timestamp> {
    OffsetDateTime::parse(s, &Rfc3339).ok().map(|t| t.to_offset(UtcOffset::UTC))
}

fn floor_micros(t: Timestamp) -> Timestamp {
    let micros = t.nanosecond() / 1000 * 1000;
    t.replace_nanosecond(micros).unwrap_or(t)
}

/// A random (version 4) UUID.
fn new_uuid() -> String {
    let hex = random_hex(16);
    let mut chars: Vec<char> = hex.chars().collect();
    chars[12] = '4';
    let variant = chars[16].to_digit(16).unwrap_or(0);
    chars[16] = std::char::from_digit((variant & 0x3) | 0x8, 16).unwrap_or('8');
    let s: String = chars.into_iter().collect();
    format!("{}-{}-{}-{}-{}", &s[0..8], &s[8..12], &s[12..16], &s[16..20], &s[20..32])
}

fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// A STIX type name: 3–250 of `a-z 0-9 -`, no `--`, not starting or ending
/// with `-`.
fn is_stix_type(s: &str) -> bool {
    (3..=250).contains(&s.len())
        && s.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
}

fn roles_text(roles: &[Role]) -> String {
    Role::ALL.iter().filter(|r| roles.contains(r)).map(|r| r.as_str()).collect::<Vec<_>>().join(",")
}

fn roles_of(text: &str) -> Result<Vec<Role>> {
    text.split(',')
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<Role>().map_err(|e| StoreError::Corrupt(format!("taxii collection roles: {e}"))))
        .collect()
}

fn collection_of(row: &AnyRow) -> Result<TaxiiCollection> {
    let can_read: String = row.try_get("can_read")?;
    let can_write: String = row.try_get("can_write")?;
    let publish = if crate::bool_col(row, "publish")? {
        let categories: String = row.try_get("publish_categories")?;
        let categories = categories
            .split(',')
            .filter(|s| !s.is_empty())
            .map(|s| s.parse::<Category>().map_err(|e| StoreError::Corrupt(format!("publish_categories: {e}"))))
            .collect::<Result<Vec<_>>>()?;
        let rank: Option<i64> = row.try_get("publish_max_tlp")?;
        Some(PublishFilter { categories, max_tlp: rank.and_then(Tlp::from_rank) })
    } else {
        None
    };
    Ok(TaxiiCollection {
        id: row.try_get("id")?,
        title: row.try_get("title")?,
        description: row.try_get("description")?,
        alias: row.try_get("alias")?,
        can_read: roles_of(&can_read)?,
        can_write: roles_of(&can_write)?,
        publish,
        created_at: ts_col(row, "created_at")?,
        updated_at: ts_col(row, "updated_at")?,
    })
}

fn object_of(row: &AnyRow, with_body: bool) -> Result<TaxiiObject> {
    Ok(TaxiiObject {
        stix_id: row.try_get("stix_id")?,
        object_type: row.try_get("object_type")?,
        spec_version: row.try_get("spec_version")?,
        version: row.try_get("version")?,
        date_added: row.try_get("date_added")?,
        body: if with_body { row.try_get("body")? } else { String::new() },
    })
}

fn count_of(row: &AnyRow, col: &str) -> Result<u64> {
    Ok(u64::try_from(row.try_get::<i64, _>(col)?).unwrap_or(0))
}

fn details_of(row: &AnyRow, col: &str) -> Result<Vec<StatusDetail>> {
    let text: String = row.try_get(col)?;
    serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(format!("taxii status {col}: {e}")))
}

fn status_of(row: &AnyRow) -> Result<TaxiiStatus> {
    Ok(TaxiiStatus {
        id: row.try_get("id")?,
        collection_id: row.try_get("collection_id")?,
        status: row.try_get("status")?,
        request_timestamp: row.try_get("request_timestamp")?,
        total_count: count_of(row, "total_count")?,
        success_count: count_of(row, "success_count")?,
        failure_count: count_of(row, "failure_count")?,
        pending_count: count_of(row, "pending_count")?,
        successes: details_of(row, "successes")?,
        failures: details_of(row, "failures")?,
        pendings: details_of(row, "pendings")?,
    })
}

fn check_roles(field: &'static str, roles: &[Role], writable: bool) -> Result<Vec<Role>, Invalid> {
    if writable && let Some(r) = roles.iter().find(|r| r.is_read_only()) {
        return Err(Invalid::field(field, format!("{r} is a read-only role and cannot write")));
    }
    Ok(Role::ALL.into_iter().filter(|r| roles.contains(r)).collect())
}

fn check_description(s: &str) -> Result<(), Invalid> {
    if s.chars().count() > 5000 {
        return Err(Invalid::field("description", "at most 5000 characters"));
    }
    if s.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        return Err(Invalid::field("description", "must not contain control characters other than line breaks"));
    }
    Ok(())
}

/// Aliases stand in for the id in URLs: 1–100 of `A-Z a-z 0-9 . _ ~ -`,
/// and not shaped like a collection id.
fn check_alias(alias: &str) -> Result<(), Invalid> {
    let ok = (1..=100).contains(&alias.len())
        && alias.bytes().all(|c| c.is_ascii_alphanumeric() || b"._~-".contains(&c))
        && alias != "."
        && alias != "..";
    if !ok {
        return Err(Invalid::field("alias", "use 1 to 100 characters A-Z, a-z, 0-9, '.', '_', '~' or '-'"));
    }
    if is_uuid(alias) {
        return Err(Invalid::field("alias", "must not look like a collection id (a UUID)"));
    }
    Ok(())
}

fn clean_alias(alias: Option<&str>) -> Result<Option<String>, Invalid> {
    match alias.map(str::trim) {
        None | Some("") => Ok(None),
        Some(a) => {
            check_alias(a)?;
            Ok(Some(a.to_owned()))
        }
    }
}

/// An object that passed the checks, ready to store.
struct Checked {
    stix_id: String,
    object_type: String,
    spec_version: String,
    /// The stated version and its key; `None` for objects versioned by the
    /// date they are added.
    version: Option<(String, String)>,
    body: String,
}

/// The checks every added object must pass; the error is the message of
/// its failure in the status.
fn check_object(value: &Value) -> std::result::Result<Checked, String> {
    let Value::Object(map) = value else { return Err("not a JSON object".into()) };
    let Some(object_type) = map.get("type").and_then(Value::as_str) else {
        return Err("no \"type\" (a string) in the object".into());
    };
    if !is_stix_type(object_type) {
        return Err(format!("\"type\" {object_type:?} is not a STIX type name"));
    }
    let Some(stix_id) = map.get("id").and_then(Value::as_str) else {
        return Err("no \"id\" (a string) in the object".into());
    };
    let Some((prefix, uuid)) = stix_id.split_once("--") else {
        return Err(format!("\"id\" {stix_id:?} is not TYPE--UUID"));
    };
    if prefix != object_type || !is_uuid(uuid) {
        return Err(format!("\"id\" {stix_id:?} is not {object_type}--UUID"));
    }
    let spec_version = match map.get("spec_version") {
        Some(Value::String(v)) if v == STIX_SPEC_VERSION => STIX_SPEC_VERSION,
        Some(Value::String(v)) => {
            return Err(format!("spec_version {v:?} is not accepted: this collection holds STIX {STIX_SPEC_VERSION}"));
        }
        Some(_) => return Err("\"spec_version\" is not a string".into()),
        None if OBSERVABLE_TYPES.contains(&object_type) => STIX_SPEC_VERSION,
        None => {
            return Err(format!("no \"spec_version\": this collection holds STIX {STIX_SPEC_VERSION} objects"));
        }
    };
    let mut version = None;
    for field in ["modified", "created"] {
        match map.get(field) {
            None => {}
            Some(Value::String(s)) => {
                let Some(t) = parse_timestamp(s) else {
                    return Err(format!("\"{field}\" {s:?} is not a timestamp"));
                };
                if version.is_none() {
                    version = Some((s.clone(), nanos_text(t)));
                }
            }
            Some(_) => return Err(format!("\"{field}\" is not a timestamp string")),
        }
    }
    let body = serde_json::to_string(value).map_err(|e| format!("cannot serialise the object: {e}"))?;
    Ok(Checked {
        stix_id: stix_id.to_owned(),
        object_type: object_type.to_owned(),
        spec_version: spec_version.to_owned(),
        version,
        body,
    })
}

fn push_list(sql: &mut Sql, column: &str, values: &[String]) {
    sql.push(" AND ").push(column).push(" IN (");
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.bind(Bind::Text(v.clone()));
    }
    sql.push(")");
}

/// `SELECT {columns}` of the object rows `filter` selects in a collection,
/// in `date_added` order.
fn object_query(collection_id: &str, filter: &ObjectFilter, columns: &str, limit: Option<i64>) -> Sql {
    let mut sql = Sql::new(&format!("SELECT {columns} FROM taxii_objects o WHERE o.collection_id = "));
    sql.bind(Bind::Text(collection_id.to_owned()));
    if !filter.ids.is_empty() {
        push_list(&mut sql, "o.stix_id", &filter.ids);
    }
    if !filter.types.is_empty() {
        push_list(&mut sql, "o.object_type", &filter.types);
    }
    if !filter.spec_versions.is_empty() {
        push_list(&mut sql, "o.spec_version", &filter.spec_versions);
    }
    if let Some(after) = filter.added_after {
        // Rows sit on the microsecond grid, so "after t" is "after t
        // rounded down to the microsecond".
        sql.push(" AND o.date_added > ").bind(Bind::Text(micros_text(floor_micros(after))));
    }
    let versions: &[VersionMatch] = if filter.versions.is_empty() { &[VersionMatch::Last] } else { &filter.versions };
    if !versions.contains(&VersionMatch::All) {
        sql.push(" AND (");
        for (i, v) in versions.iter().enumerate() {
            if i > 0 {
                sql.push(" OR ");
            }
            match v {
                VersionMatch::First | VersionMatch::Last => {
                    let f = if *v == VersionMatch::First { "MIN" } else { "MAX" };
                    sql.push(&format!(
                        "o.version_key = (SELECT {f}(v.version_key) FROM taxii_objects v \
                         WHERE v.collection_id = o.collection_id AND v.stix_id = o.stix_id"
                    ));
                    if !filter.spec_versions.is_empty() {
                        push_list(&mut sql, "v.spec_version", &filter.spec_versions);
                    }
                    sql.push(")");
                }
                VersionMatch::At(t) => {
                    sql.push("o.version_key = ").bind(Bind::Text(nanos_text(*t)));
                }
                VersionMatch::All => {
                    sql.push("1 = 1");
                }
            }
        }
        sql.push(")");
    }
    sql.push(" ORDER BY o.date_added");
    if let Some(n) = limit {
        sql.push(" LIMIT ").bind(Bind::Int(n));
    }
    sql
}

impl Store {
    /// Creates a collection with a new UUID.
    pub async fn taxii_create_collection(&self, actor: &Actor, draft: &CollectionDraft) -> Result<TaxiiCollection> {
        validate::label("title", &draft.title)?;
        check_description(&draft.description)?;
        let alias = clean_alias(draft.alias.as_deref())?;
        let can_read = check_roles("can_read", &draft.can_read, false)?;
        let can_write = check_roles("can_write", &draft.can_write, true)?;
        let id = new_uuid();
        let now = self.now_text();
        let mut tx = self.write_tx().await?;
        let (publish, categories, max_tlp) = publish_columns(draft.publish.as_ref());
        sqlx::query(
            "INSERT INTO taxii_collections (id, title, description, alias, can_read, can_write, publish, \
             publish_categories, publish_max_tlp, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
        )
        .bind(&id)
        .bind(draft.title.trim())
        .bind(&draft.description)
        .bind(alias.as_deref())
        .bind(roles_text(&can_read))
        .bind(roles_text(&can_write))
        .bind(publish)
        .bind(categories)
        .bind(max_tlp)
        .bind(&now)
        .execute(&mut *tx)
        .await
        .map_err(|e| alias_taken(e, alias.as_deref()))?;
        let collection = select_collection(&mut tx, &id).await?;
        append(
            &mut tx,
            &now,
            actor,
            "taxii.collection.create",
            "taxii_collection",
            &id,
            None,
            None,
            Some(&collection.summary()),
        )
        .await?;
        tx.commit().await?;
        Ok(collection)
    }

    /// Changes a collection's description, roles or publish filter.
    pub async fn taxii_update_collection(
        &self,
        actor: &Actor,
        id: &str,
        patch: &CollectionPatch,
    ) -> Result<TaxiiCollection> {
        if let Some(t) = &patch.title {
            validate::label("title", t)?;
        }
        if let Some(d) = &patch.description {
            check_description(d)?;
        }
        let alias = match &patch.alias {
            None => None,
            Some(a) => Some(clean_alias(a.as_deref())?),
        };
        let can_read = patch.can_read.as_deref().map(|r| check_roles("can_read", r, false)).transpose()?;
        let can_write = patch.can_write.as_deref().map(|r| check_roles("can_write", r, true)).transpose()?;
        let now = self.now_text();
        let mut tx = self.write_tx().await?;
        let before = select_collection(&mut tx, id).await?;
        let publish = match &patch.publish {
            None => before.publish.clone(),
            Some(p) => p.clone(),
        };
        let (publish_flag, categories, max_tlp) = publish_columns(publish.as_ref());
        let alias = match alias {
            None => before.alias.clone(),
            Some(a) => a,
        };
        sqlx::query(
            "UPDATE taxii_collections SET title = $1, description = $2, alias = $3, can_read = $4, can_write = $5, \
             publish = $6, publish_categories = $7, publish_max_tlp = $8, updated_at = $9 WHERE id = $10",
        )
        .bind(patch.title.as_deref().map(str::trim).unwrap_or(&before.title))
        .bind(patch.description.as_deref().unwrap_or(&before.description))
        .bind(alias.as_deref())
        .bind(roles_text(can_read.as_deref().unwrap_or(&before.can_read)))
        .bind(roles_text(can_write.as_deref().unwrap_or(&before.can_write)))
        .bind(publish_flag)
        .bind(categories)
        .bind(max_tlp)
        .bind(&now)
        .bind(&before.id)
        .execute(&mut *tx)
        .await
        .map_err(|e| alias_taken(e, alias.as_deref()))?;
        let after = select_collection(&mut tx, &before.id).await?;
        append(
            &mut tx,
            &now,
            actor,
            "taxii.collection.update",
            "taxii_collection",
            &before.id,
            None,
            Some(&before.summary()),
            Some(&after.summary()),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Deletes a collection with its objects and statuses.
    pub async fn taxii_delete_collection(&self, actor: &Actor, id: &str) -> Result<()> {
        let now = self.now_text();
        let mut tx = self.write_tx().await?;
        let before = select_collection(&mut tx, id).await?;
        let objects: i64 = sqlx::query("SELECT COUNT(*) AS n FROM taxii_objects WHERE collection_id = $1")
            .bind(&before.id)
            .fetch_one(&mut *tx)
            .await?
            .try_get("n")?;
        for table in ["taxii_objects", "taxii_statuses", "taxii_collections"] {
            let column = if table == "taxii_collections" { "id" } else { "collection_id" };
            sqlx::query(&format!("DELETE FROM {table} WHERE {column} = $1")).bind(&before.id).execute(&mut *tx).await?;
        }
        let mut summary = before.summary();
        summary["objects"] = json!(objects);
        append(
            &mut tx,
            &now,
            actor,
            "taxii.collection.delete",
            "taxii_collection",
            &before.id,
            None,
            Some(&summary),
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every collection, oldest first.
    pub async fn taxii_collections(&self) -> Result<Vec<TaxiiCollection>> {
        let rows =
            sqlx::query("SELECT * FROM taxii_collections ORDER BY created_at, id").fetch_all(self.pool()).await?;
        rows.iter().map(collection_of).collect()
    }

    /// The collection with this id or alias.
    pub async fn taxii_collection(&self, id_or_alias: &str) -> Result<TaxiiCollection> {
        let row = sqlx::query("SELECT * FROM taxii_collections WHERE id = $1 OR alias = $1")
            .bind(id_or_alias)
            .fetch_optional(self.pool())
            .await?;
        collection_of(&row.ok_or_else(|| StoreError::not_found("TAXII collection", id_or_alias))?)
    }

    /// How many object versions each collection holds (collections without
    /// any are left out).
    pub async fn taxii_object_counts(&self) -> Result<Vec<(String, i64)>> {
        let rows = sqlx::query("SELECT collection_id, COUNT(*) AS n FROM taxii_objects GROUP BY collection_id")
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(|r| Ok((r.try_get("collection_id")?, r.try_get("n")?))).collect()
    }

    /// Up to `limit` object versions of a collection matching `filter`, in
    /// `date_added` order; `with_body: false` leaves the JSON out (for
    /// manifests and version lists).
    pub async fn taxii_objects(
        &self,
        collection_id: &str,
        filter: &ObjectFilter,
        limit: usize,
        with_body: bool,
    ) -> Result<TaxiiPage> {
        check_filter(filter)?;
        let limit = limit.clamp(1, 10_000);
        let columns = if with_body {
            "o.stix_id, o.object_type, o.spec_version, o.version, o.date_added, o.body"
        } else {
            "o.stix_id, o.object_type, o.spec_version, o.version, o.date_added"
        };
        let fetch = i64::try_from(limit + 1).unwrap_or(i64::MAX);
        let sql = object_query(collection_id, filter, columns, Some(fetch));
        let rows = sql.query().fetch_all(self.pool()).await?;
        let more = rows.len() > limit;
        let objects = rows.iter().take(limit).map(|r| object_of(r, with_body)).collect::<Result<Vec<_>>>()?;
        Ok(TaxiiPage { objects, more })
    }

    /// Whether a collection holds any version of `stix_id`.
    pub async fn taxii_object_exists(&self, collection_id: &str, stix_id: &str) -> Result<bool> {
        let row = sqlx::query("SELECT 1 AS one FROM taxii_objects WHERE collection_id = $1 AND stix_id = $2 LIMIT 1")
            .bind(collection_id)
            .bind(stix_id)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.is_some())
    }

    /// Adds an envelope's objects to a collection and records the status:
    /// objects that fail the checks are failures with the reason, versions
    /// the collection already holds succeed without being stored twice, and
    /// the rest are stored with increasing `date_added`. One audit entry.
    pub async fn taxii_add_objects(
        &self,
        actor: &Actor,
        collection_id: &str,
        objects: &[Value],
    ) -> Result<TaxiiStatus> {
        let request_time = self.now();
        let request_timestamp = micros_text(request_time);
        let status_id = new_uuid();
        let mut successes = Vec::new();
        let mut failures = Vec::new();
        let mut checked: Vec<(usize, Checked)> = Vec::with_capacity(objects.len());
        for (i, value) in objects.iter().enumerate() {
            match check_object(value) {
                Ok(c) => checked.push((i, c)),
                Err(message) => {
                    let id = value.get("id").and_then(Value::as_str).map(str::to_owned);
                    failures.push(StatusDetail {
                        id: id.unwrap_or_else(|| format!("objects[{i}]")),
                        version: None,
                        message: Some(message),
                    });
                }
            }
        }
        let mut tx = self.write_tx().await?;
        let collection = select_collection(&mut tx, collection_id).await?;
        let last: String = sqlx::query("SELECT last_date_added FROM taxii_collections WHERE id = $1")
            .bind(&collection.id)
            .fetch_one(&mut *tx)
            .await?
            .try_get("last_date_added")?;
        // Versions already held, so that adding one again is a no-op.
        let mut held: HashSet<(String, String)> = HashSet::new();
        let versioned: Vec<&str> = checked
            .iter()
            .filter(|(_, c)| c.version.is_some())
            .map(|(_, c)| c.stix_id.as_str())
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        for part in versioned.chunks(1000) {
            let mut sql = Sql::new("SELECT o.stix_id, o.version_key FROM taxii_objects o WHERE o.collection_id = ");
            sql.bind(Bind::Text(collection.id.clone()));
            push_list(&mut sql, "o.stix_id", &part.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>());
            for row in sql.query().fetch_all(&mut *tx).await? {
                held.insert((row.try_get("stix_id")?, row.try_get("version_key")?));
            }
        }
        let mut next_added = floor_micros(self.now());
        if let Some(last) = parse_timestamp(&last)
            && next_added <= last
        {
            next_added = last + Duration::microseconds(1);
        }
        // (stix_id, type, spec_version, version, version_key, date_added, body)
        let mut rows: Vec<[String; 7]> = Vec::with_capacity(checked.len());
        for (_, c) in checked {
            let date_added = micros_text(next_added);
            let (version, key) = match c.version {
                Some((version, key)) => {
                    if !held.insert((c.stix_id.clone(), key.clone())) {
                        successes.push(StatusDetail {
                            id: c.stix_id,
                            version: Some(version),
                            message: Some("this version is already in the collection".into()),
                        });
                        continue;
                    }
                    (version, key)
                }
                None => (date_added.clone(), nanos_text(next_added)),
            };
            successes.push(StatusDetail { id: c.stix_id.clone(), version: Some(version.clone()), message: None });
            rows.push([c.stix_id, c.object_type, c.spec_version, version, key, date_added, c.body]);
            next_added += Duration::microseconds(1);
        }
        for part in rows.chunks(ROWS_PER_STATEMENT) {
            let mut sql = Sql::new(
                "INSERT INTO taxii_objects (collection_id, stix_id, object_type, spec_version, version, version_key, \
                 date_added, body) VALUES ",
            );
            for (i, row) in part.iter().enumerate() {
                sql.push(if i == 0 { "(" } else { ", (" });
                sql.bind(Bind::Text(collection.id.clone()));
                for value in row {
                    sql.push(", ").bind(Bind::Text(value.clone()));
                }
                sql.push(")");
            }
            sql.query().execute(&mut *tx).await?;
        }
        if let Some(last_row) = rows.last() {
            sqlx::query("UPDATE taxii_collections SET last_date_added = $1 WHERE id = $2")
                .bind(&last_row[5])
                .bind(&collection.id)
                .execute(&mut *tx)
                .await?;
        }
        let status = TaxiiStatus {
            id: status_id,
            collection_id: collection.id.clone(),
            status: "complete".into(),
            request_timestamp,
            total_count: objects.len() as u64,
            success_count: successes.len() as u64,
            failure_count: failures.len() as u64,
            pending_count: 0,
            successes,
            failures,
            pendings: Vec::new(),
        };
        let json_of = |d: &[StatusDetail]| serde_json::to_string(d).map_err(|e| StoreError::Corrupt(e.to_string()));
        let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        sqlx::query(
            "INSERT INTO taxii_statuses (id, collection_id, status, request_timestamp, total_count, success_count, \
             failure_count, pending_count, successes, failures, pendings, created_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(&status.id)
        .bind(&status.collection_id)
        .bind(&status.status)
        .bind(&status.request_timestamp)
        .bind(n(status.total_count))
        .bind(n(status.success_count))
        .bind(n(status.failure_count))
        .bind(n(status.pending_count))
        .bind(json_of(&status.successes)?)
        .bind(json_of(&status.failures)?)
        .bind(json_of(&status.pendings)?)
        .bind(&actor.name)
        .execute(&mut *tx)
        .await?;
        let after = json!({
            "status_id": status.id,
            "total_count": status.total_count,
            "success_count": status.success_count,
            "failure_count": status.failure_count,
            "stored": rows.len(),
        });
        // Old statuses go: clients poll a status for minutes, not weeks.
        sqlx::query("DELETE FROM taxii_statuses WHERE request_timestamp < $1")
            .bind(micros_text(request_time - STATUS_RETENTION))
            .execute(&mut *tx)
            .await?;
        append(
            &mut tx,
            &self.now_text(),
            actor,
            "taxii.objects.add",
            "taxii_collection",
            &collection.id,
            None,
            None,
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(status)
    }

    /// Deletes the versions of `stix_id` that `versions` and
    /// `spec_versions` select (empty `versions`: all of them); returns how
    /// many were deleted. One audit entry when any were.
    pub async fn taxii_delete_object(
        &self,
        actor: &Actor,
        collection_id: &str,
        stix_id: &str,
        versions: &[VersionMatch],
        spec_versions: &[String],
    ) -> Result<u64> {
        let filter = ObjectFilter {
            ids: vec![stix_id.to_owned()],
            versions: if versions.is_empty() { vec![VersionMatch::All] } else { versions.to_vec() },
            spec_versions: spec_versions.to_vec(),
            ..ObjectFilter::default()
        };
        check_filter(&filter)?;
        let now = self.now_text();
        let mut tx = self.write_tx().await?;
        let collection = select_collection(&mut tx, collection_id).await?;
        let sql = object_query(&collection.id, &filter, "o.id, o.version", None);
        let rows = sql.query().fetch_all(&mut *tx).await?;
        if rows.is_empty() {
            return Ok(0);
        }
        let mut ids = Vec::with_capacity(rows.len());
        let mut deleted_versions = Vec::with_capacity(rows.len());
        for row in &rows {
            ids.push(row.try_get::<i64, _>("id")?);
            deleted_versions.push(row.try_get::<String, _>("version")?);
        }
        for part in ids.chunks(1000) {
            sqlx::query(&format!("DELETE FROM taxii_objects WHERE id IN {}", id_list(part.iter().copied())))
                .execute(&mut *tx)
                .await?;
        }
        let before = json!({"stix_id": stix_id, "versions": deleted_versions});
        append(
            &mut tx,
            &now,
            actor,
            "taxii.object.delete",
            "taxii_collection",
            &collection.id,
            None,
            Some(&before),
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(ids.len() as u64)
    }

    /// A status resource by id.
    pub async fn taxii_status(&self, id: &str) -> Result<TaxiiStatus> {
        let row =
            sqlx::query("SELECT * FROM taxii_statuses WHERE id = $1").bind(id).fetch_optional(self.pool()).await?;
        status_of(&row.ok_or_else(|| StoreError::not_found("TAXII status", id))?)
    }
}

fn check_filter(filter: &ObjectFilter) -> Result<(), Invalid> {
    let lists = [("match[id]", filter.ids.len()), ("match[type]", filter.types.len())];
    for (field, n) in lists {
        if n > MAX_FILTER_VALUES {
            return Err(Invalid::field(field, format!("at most {MAX_FILTER_VALUES} values")));
        }
    }
    if filter.spec_versions.len() > 10 || filter.versions.len() > MAX_FILTER_VALUES {
        return Err(Invalid::field("match", "too many values"));
    }
    Ok(())
}

/// The publish columns: flag, categories, TLP rank.
fn publish_columns(p: Option<&PublishFilter>) -> (i64, String, Option<i64>) {
    match p {
        None => (0, String::new(), None),
        Some(p) => (
            1,
            p.categories.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(","),
            p.max_tlp.map(|t| i64::from(t.rank())),
        ),
    }
}

fn alias_taken(e: sqlx::Error, alias: Option<&str>) -> StoreError {
    StoreError::unique_or(e, || format!("the alias {:?} is taken by another collection", alias.unwrap_or_default()))
}

async fn select_collection(tx: &mut crate::WriteTx, id_or_alias: &str) -> Result<TaxiiCollection> {
    let row = sqlx::query("SELECT * FROM taxii_collections WHERE id = $1 OR alias = $1")
        .bind(id_or_alias)
        .fetch_optional(&mut **tx)
        .await?;
    collection_of(&row.ok_or_else(|| StoreError::not_found("TAXII collection", id_or_alias))?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn timestamps_are_fixed_width_and_sort_as_text() {
        let t = datetime!(2026-11-25 09:00:00.123456789 UTC);
        assert_eq!(micros_text(t), "2026-11-25T09:00:00.123456Z");
        assert_eq!(nanos_text(t), "2026-11-25T09:00:00.123456789Z");
        assert_eq!(micros_text(floor_micros(t)), "2026-11-25T09:00:00.123456Z");
        let later = t + Duration::microseconds(1);
        assert!(micros_text(t) < micros_text(later));
        assert_eq!(parse_timestamp("2026-11-25T10:00:00+01:00"), Some(datetime!(2026-11-25 09:00 UTC)));
        assert_eq!(parse_timestamp("yesterday"), None);
    }

    #[test]
    fn uuids_are_version_4() {
        let u = new_uuid();
        assert!(is_uuid(&u), "{u}");
        assert_eq!(&u[14..15], "4");
        assert!("89ab".contains(&u[19..20]), "{u}");
        assert_ne!(u, new_uuid());
    }

    #[test]
    fn objects_need_an_id_matching_their_type_and_stix_2_1() {
        let good = json!({"type": "indicator", "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
            "spec_version": "2.1", "created": "2026-01-01T00:00:00.000Z", "modified": "2026-02-01T00:00:00.000Z"});
        let c = check_object(&good).expect("valid");
        assert_eq!(c.version.map(|v| v.0).as_deref(), Some("2026-02-01T00:00:00.000Z"));
        let ip = json!({"type": "ipv4-addr", "id": "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd", "value": "198.51.100.3"});
        assert!(check_object(&ip).is_ok_and(|c| c.version.is_none()), "observables may omit spec_version");
        for (bad, why) in [
            (json!([1, 2]), "not a JSON object"),
            (json!({"id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"}), "type"),
            (json!({"type": "indicator", "spec_version": "2.1"}), "id"),
            (
                json!({"type": "malware", "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "spec_version": "2.1"}),
                "malware--UUID",
            ),
            (json!({"type": "indicator", "id": "indicator--nope", "spec_version": "2.1"}), "indicator--UUID"),
            (
                json!({"type": "indicator", "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "spec_version": "2.0"}),
                "2.0",
            ),
            (json!({"type": "indicator", "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"}), "spec_version"),
            (
                json!({"type": "indicator", "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "spec_version": "2.1", "modified": "soon"}),
                "modified",
            ),
            (json!({"type": "Bad Type", "id": "x"}), "STIX type"),
        ] {
            let message = check_object(&bad).err().unwrap_or_default();
            assert!(message.contains(why), "{bad}: {message:?} should mention {why:?}");
        }
    }

    #[test]
    fn publish_filters_parse_names_and_admit_by_category_and_tlp() {
        let f = PublishFilter::parse(&["c2".into(), "phishing".into()], Some("amber")).expect("valid");
        assert_eq!(f.categories, vec![Category::BotnetCc, Category::Phishing]);
        assert!(f.admits(Category::BotnetCc, Some(Tlp::Green)));
        assert!(!f.admits(Category::BotnetCc, Some(Tlp::Red)));
        assert!(!f.admits(Category::Spam, None));
        assert_eq!(PublishFilter::parse(&["nonsense".into()], None).err().map(|e| e.field), Some("publish.categories"));
        assert_eq!(PublishFilter::parse(&[], Some("purple")).err().map(|e| e.field), Some("publish.max_tlp"));
    }

    #[test]
    fn aliases_are_url_safe_and_not_uuids() {
        assert!(check_alias("high-confidence_c2").is_ok());
        assert!(check_alias("has space").is_err());
        assert!(check_alias("..").is_err());
        assert!(check_alias("8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f").is_err());
    }
}
