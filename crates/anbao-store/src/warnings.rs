//! Warnings (issue #7, R2.4): red / orange / yellow / blue warnings that are
//! issued, adjusted (level or content) and lifted, with a scope (regions,
//! asset types), required actions and recipients (users or org units) whose
//! acknowledgements are tracked one by one. Every issue, adjustment and lift
//! is a history row and an audit entry, and queues the matching
//! notification event in the same transaction.

use std::fmt;
use std::str::FromStr;

use anbao_model::asset::AssetType;
use anbao_model::validate::{self, Invalid};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::audit::append;
use crate::incidents::long_text;
use crate::notifications::{self, WarningEvent};
use crate::{Actor, Result, Store, StoreError, WriteTx};

/// How grave a warning is, red the gravest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WarningLevel {
    Blue,
    Yellow,
    Orange,
    Red,
}

impl WarningLevel {
    pub const ALL: [WarningLevel; 4] =
        [WarningLevel::Red, WarningLevel::Orange, WarningLevel::Yellow, WarningLevel::Blue];

    pub fn as_str(self) -> &'static str {
        match self {
            WarningLevel::Red => "red",
            WarningLevel::Orange => "orange",
            WarningLevel::Yellow => "yellow",
            WarningLevel::Blue => "blue",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            WarningLevel::Red => "红色",
            WarningLevel::Orange => "橙色",
            WarningLevel::Yellow => "黄色",
            WarningLevel::Blue => "蓝色",
        }
    }
}

impl fmt::Display for WarningLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for WarningLevel {
    type Err = Invalid;
    fn from_str(s: &str) -> std::result::Result<Self, Invalid> {
        WarningLevel::ALL
            .into_iter()
            .find(|l| l.as_str() == s)
            .ok_or_else(|| Invalid::field("level", "use one of red, orange, yellow, blue"))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    pub id: i64,
    pub level: WarningLevel,
    pub title: String,
    pub description: String,
    pub scope_regions: Vec<String>,
    pub scope_asset_types: Vec<AssetType>,
    pub required_actions: String,
    /// `issued` or `lifted`.
    pub status: String,
    pub issued_by: String,
    pub issued_at: String,
    pub updated_at: String,
    pub lifted_by: Option<String>,
    pub lifted_at: Option<String>,
    pub lift_reason: String,
    /// Recipients that have acknowledged, and all recipients.
    pub acked: i64,
    pub recipients: i64,
}

impl Warning {
    pub fn is_active(&self) -> bool {
        self.status == "issued"
    }
}

/// One issue / adjust / lift.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WarningHistoryEntry {
    pub id: i64,
    /// `issued`, `adjusted` or `lifted`.
    pub action: String,
    /// The level after this step.
    pub level: WarningLevel,
    /// What changed, readable (`level yellow → red`), empty for issue/lift.
    pub changes: String,
    pub reason: String,
    pub actor: String,
    pub at: String,
}

/// A user or an org unit the warning is addressed to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WarningRecipient {
    pub id: i64,
    pub user_id: Option<i64>,
    pub org_unit_id: Option<i64>,
    /// The user's or unit's name.
    pub name: String,
    pub acked_at: Option<String>,
    pub acked_by: Option<String>,
}

/// A warning as issued.
#[derive(Debug, Clone, Default)]
pub struct WarningDraft {
    pub level: Option<WarningLevel>,
    pub title: String,
    pub description: String,
    pub scope_regions: Vec<String>,
    pub scope_asset_types: Vec<AssetType>,
    pub required_actions: String,
    pub recipient_users: Vec<i64>,
    pub recipient_units: Vec<i64>,
}

/// An adjustment; `None` leaves a field as it is. The reason is required.
#[derive(Debug, Clone, Default)]
pub struct WarningPatch {
    pub level: Option<WarningLevel>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub scope_regions: Option<Vec<String>>,
    pub scope_asset_types: Option<Vec<AssetType>>,
    pub required_actions: Option<String>,
    pub reason: String,
}

const WARNING_SELECT: &str = "SELECT w.*, \
    (SELECT COUNT(*) FROM warning_recipients r WHERE r.warning_id = w.id AND r.acked_at IS NOT NULL) AS acked_n, \
    (SELECT COUNT(*) FROM warning_recipients r WHERE r.warning_id = w.id) AS recipients_n \
    FROM warnings w";

fn corrupt(what: &str, e: impl fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("warning {what}: {e}"))
}

fn warning_of(r: &AnyRow) -> Result<Warning> {
    let level: String = r.try_get("level")?;
    let regions: String = r.try_get("scope_regions")?;
    let types: String = r.try_get("scope_asset_types")?;
    Ok(Warning {
        id: r.try_get("id")?,
        level: level.parse().map_err(|e| corrupt("level", e))?,
        title: r.try_get("title")?,
        description: r.try_get("description")?,
        scope_regions: serde_json::from_str(&regions).map_err(|e| corrupt("regions", e))?,
        scope_asset_types: serde_json::from_str(&types).map_err(|e| corrupt("asset types", e))?,
        required_actions: r.try_get("required_actions")?,
        status: r.try_get("status")?,
        issued_by: r.try_get("issued_by")?,
        issued_at: r.try_get("issued_at")?,
        updated_at: r.try_get("updated_at")?,
        lifted_by: r.try_get("lifted_by")?,
        lifted_at: r.try_get("lifted_at")?,
        lift_reason: r.try_get("lift_reason")?,
        acked: r.try_get("acked_n")?,
        recipients: r.try_get("recipients_n")?,
    })
}

fn history_of(r: &AnyRow) -> Result<WarningHistoryEntry> {
    let level: String = r.try_get("level")?;
    Ok(WarningHistoryEntry {
        id: r.try_get("id")?,
        action: r.try_get("action")?,
        level: level.parse().map_err(|e| corrupt("history level", e))?,
        changes: r.try_get("changes")?,
        reason: r.try_get("reason")?,
        actor: r.try_get("actor")?,
        at: r.try_get("at")?,
    })
}

fn recipient_of(r: &AnyRow) -> Result<WarningRecipient> {
    Ok(WarningRecipient {
        id: r.try_get("id")?,
        user_id: r.try_get("user_id")?,
        org_unit_id: r.try_get("org_unit_id")?,
        name: r.try_get("name")?,
        acked_at: r.try_get("acked_at")?,
        acked_by: r.try_get("acked_by")?,
    })
}

fn to_json<T: Serialize>(v: &T) -> Result<serde_json::Value> {
    serde_json::to_value(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn list_json<T: Serialize>(v: &[T]) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Trimmed, non-empty, unique regions, each a short label.
fn clean_regions(regions: &[String]) -> Result<Vec<String>, Invalid> {
    let mut out: Vec<String> = Vec::new();
    for r in regions.iter().map(|r| r.trim()).filter(|r| !r.is_empty()) {
        validate::label("scope_regions", r)?;
        if !out.iter().any(|o| o == r) {
            out.push(r.to_owned());
        }
    }
    Ok(out)
}

fn dedup_types(types: &[AssetType]) -> Vec<AssetType> {
    let mut out: Vec<AssetType> = Vec::new();
    for t in types {
        if !out.contains(t) {
            out.push(*t);
        }
    }
    out
}

async fn read_warning(tx: &mut WriteTx, id: i64) -> Result<Warning> {
    let row = sqlx::query(&format!("{WARNING_SELECT} WHERE w.id = $1"))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::not_found("warning", id))?;
    warning_of(&row)
}

#[allow(clippy::too_many_arguments)]
async fn add_history(
    tx: &mut WriteTx,
    warning_id: i64,
    action: &str,
    level: WarningLevel,
    changes: &str,
    reason: &str,
    actor: &Actor,
    now: &str,
) -> Result<i64> {
    let row = sqlx::query(
        "INSERT INTO warning_history (warning_id, action, level, changes, reason, actor, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(warning_id)
    .bind(action.to_owned())
    .bind(level.as_str())
    .bind(changes.to_owned())
    .bind(reason.to_owned())
    .bind(actor.name.clone())
    .bind(now.to_owned())
    .fetch_one(&mut **tx)
    .await?;
    Ok(row.try_get("id")?)
}

async fn exists(tx: &mut WriteTx, table: &str, id: i64) -> Result<bool> {
    let sql = match table {
        "users" => "SELECT id FROM users WHERE id = $1",
        _ => "SELECT id FROM org_units WHERE id = $1",
    };
    Ok(sqlx::query(sql).bind(id).fetch_optional(&mut **tx).await?.is_some())
}

impl Store {
    /// Every warning, active (issued) first, then newest first.
    pub async fn list_warnings(&self) -> Result<Vec<Warning>> {
        let rows =
            sqlx::query(&format!("{WARNING_SELECT} ORDER BY CASE w.status WHEN 'issued' THEN 0 ELSE 1 END, w.id DESC"))
                .fetch_all(self.pool())
                .await?;
        rows.iter().map(warning_of).collect()
    }

    pub async fn get_warning(&self, id: i64) -> Result<Warning> {
        let row = sqlx::query(&format!("{WARNING_SELECT} WHERE w.id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| StoreError::not_found("warning", id))?;
        warning_of(&row)
    }

    /// The warning's issue, adjustments and lift, oldest first.
    pub async fn warning_history(&self, id: i64) -> Result<Vec<WarningHistoryEntry>> {
        let rows = sqlx::query("SELECT * FROM warning_history WHERE warning_id = $1 ORDER BY id")
            .bind(id)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(history_of).collect()
    }

    /// The recipients: units first, then users, with their names.
    pub async fn warning_recipients(&self, id: i64) -> Result<Vec<WarningRecipient>> {
        let rows = sqlx::query(
            "SELECT r.*, COALESCE(o.name, u.username) AS name FROM warning_recipients r \
             LEFT JOIN org_units o ON o.id = r.org_unit_id LEFT JOIN users u ON u.id = r.user_id \
             WHERE r.warning_id = $1 ORDER BY CASE WHEN r.org_unit_id IS NULL THEN 1 ELSE 0 END, r.id",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(recipient_of).collect()
    }

    /// Issues a warning to its recipients (at least one user or unit).
    pub async fn issue_warning(&self, actor: &Actor, d: &WarningDraft) -> Result<Warning> {
        let level = d.level.ok_or_else(|| Invalid::field("level", "use one of red, orange, yellow, blue"))?;
        let title = d.title.trim();
        validate::label("title", title)?;
        long_text("description", &d.description, false)?;
        long_text("required_actions", &d.required_actions, false)?;
        let regions = clean_regions(&d.scope_regions)?;
        let types = dedup_types(&d.scope_asset_types);
        let mut users = d.recipient_users.clone();
        users.sort_unstable();
        users.dedup();
        let mut units = d.recipient_units.clone();
        units.sort_unstable();
        units.dedup();
        if users.is_empty() && units.is_empty() {
            return Err(Invalid::field("recipients", "name at least one user or org unit").into());
        }
        let now = self.now_text();
        let mut tx = self.write_tx().await?;
        for u in &users {
            if !exists(&mut tx, "users", *u).await? {
                return Err(Invalid::field("recipient_users", format!("no user {u}")).into());
            }
        }
        for o in &units {
            if !exists(&mut tx, "org_units", *o).await? {
                return Err(Invalid::field("recipient_units", format!("no org unit {o}")).into());
            }
        }
        let id: i64 = sqlx::query(
            "INSERT INTO warnings (level, title, description, scope_regions, scope_asset_types, required_actions, \
             status, issued_by, issued_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'issued', $7, $8, $8) \
             RETURNING id",
        )
        .bind(level.as_str())
        .bind(title.to_owned())
        .bind(d.description.trim().to_owned())
        .bind(list_json(&regions)?)
        .bind(list_json(&types)?)
        .bind(d.required_actions.trim().to_owned())
        .bind(actor.name.clone())
        .bind(now.clone())
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
        for u in &users {
            sqlx::query("INSERT INTO warning_recipients (warning_id, user_id) VALUES ($1, $2)")
                .bind(id)
                .bind(*u)
                .execute(&mut *tx)
                .await?;
        }
        for o in &units {
            sqlx::query("INSERT INTO warning_recipients (warning_id, org_unit_id) VALUES ($1, $2)")
                .bind(id)
                .bind(*o)
                .execute(&mut *tx)
                .await?;
        }
        let step = add_history(&mut tx, id, "issued", level, "", "", actor, &now).await?;
        let w = read_warning(&mut tx, id).await?;
        let after = serde_json::json!({ "warning": to_json(&w)?, "recipient_users": users, "recipient_units": units });
        append(&mut tx, &now, actor, "warning.issue", "warning", &id.to_string(), None, None, Some(&after)).await?;
        notifications::warning_event(&mut tx, WarningEvent::Issued, step, &w, "", &now).await?;
        tx.commit().await?;
        Ok(w)
    }

    /// Changes an active warning's level or content, with a reason; the
    /// change is a history row. A change that changes nothing writes nothing.
    pub async fn adjust_warning(&self, actor: &Actor, id: i64, p: &WarningPatch) -> Result<Warning> {
        let reason = p.reason.trim();
        long_text("reason", reason, true)?;
        if let Some(t) = &p.title {
            validate::label("title", t.trim())?;
        }
        if let Some(s) = &p.description {
            long_text("description", s, false)?;
        }
        if let Some(s) = &p.required_actions {
            long_text("required_actions", s, false)?;
        }
        let regions = p.scope_regions.as_deref().map(clean_regions).transpose()?;
        let now = self.now_text();
        let mut tx = self.write_tx().await?;
        let before = read_warning(&mut tx, id).await?;
        if !before.is_active() {
            return Err(StoreError::Conflict(format!("warning {id} is lifted; issue a new one")));
        }
        let mut after = before.clone();
        if let Some(l) = p.level {
            after.level = l;
        }
        if let Some(t) = &p.title {
            after.title = t.trim().to_owned();
        }
        if let Some(s) = &p.description {
            after.description = s.trim().to_owned();
        }
        if let Some(r) = regions {
            after.scope_regions = r;
        }
        if let Some(t) = &p.scope_asset_types {
            after.scope_asset_types = dedup_types(t);
        }
        if let Some(s) = &p.required_actions {
            after.required_actions = s.trim().to_owned();
        }
        let mut changes = Vec::new();
        if after.level != before.level {
            changes.push(format!("level {} → {}", before.level, after.level));
        }
        if after.title != before.title {
            changes.push(format!("title \"{}\" → \"{}\"", before.title, after.title));
        }
        if after.description != before.description {
            changes.push("description".to_owned());
        }
        if after.scope_regions != before.scope_regions {
            changes.push(format!(
                "regions [{}] → [{}]",
                before.scope_regions.join(", "),
                after.scope_regions.join(", ")
            ));
        }
        if after.scope_asset_types != before.scope_asset_types {
            let names = |t: &[AssetType]| t.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
            changes.push(format!(
                "asset types [{}] → [{}]",
                names(&before.scope_asset_types),
                names(&after.scope_asset_types)
            ));
        }
        if after.required_actions != before.required_actions {
            changes.push("required actions".to_owned());
        }
        if changes.is_empty() {
            return Ok(before);
        }
        sqlx::query(
            "UPDATE warnings SET level = $1, title = $2, description = $3, scope_regions = $4, \
             scope_asset_types = $5, required_actions = $6, updated_at = $7 WHERE id = $8",
        )
        .bind(after.level.as_str())
        .bind(after.title.clone())
        .bind(after.description.clone())
        .bind(list_json(&after.scope_regions)?)
        .bind(list_json(&after.scope_asset_types)?)
        .bind(after.required_actions.clone())
        .bind(now.clone())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let changes = changes.join("; ");
        let step = add_history(&mut tx, id, "adjusted", after.level, &changes, reason, actor, &now).await?;
        let w = read_warning(&mut tx, id).await?;
        let mut after_json = to_json(&w)?;
        after_json["reason"] = serde_json::Value::String(reason.to_owned());
        append(
            &mut tx,
            &now,
            actor,
            "warning.adjust",
            "warning",
            &id.to_string(),
            None,
            Some(&to_json(&before)?),
            Some(&after_json),
        )
        .await?;
        notifications::warning_event(&mut tx, WarningEvent::Adjusted, step, &w, &changes, &now).await?;
        tx.commit().await?;
        Ok(w)
    }

    /// Lifts an active warning, with a reason.
    pub async fn lift_warning(&self, actor: &Actor, id: i64, reason: &str) -> Result<Warning> {
        let reason = reason.trim();
        long_text("reason", reason, true)?;
        let now = self.now_text();
        let mut tx = self.write_tx().await?;
        let before = read_warning(&mut tx, id).await?;
        if !before.is_active() {
            return Err(StoreError::Conflict(format!("warning {id} is already lifted")));
        }
        sqlx::query(
            "UPDATE warnings SET status = 'lifted', lifted_by = $1, lifted_at = $2, lift_reason = $3, updated_at = $2 \
             WHERE id = $4",
        )
        .bind(actor.name.clone())
        .bind(now.clone())
        .bind(reason.to_owned())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let step = add_history(&mut tx, id, "lifted", before.level, "", reason, actor, &now).await?;
        let w = read_warning(&mut tx, id).await?;
        append(
            &mut tx,
            &now,
            actor,
            "warning.lift",
            "warning",
            &id.to_string(),
            None,
            Some(&to_json(&before)?),
            Some(&to_json(&w)?),
        )
        .await?;
        notifications::warning_event(&mut tx, WarningEvent::Lifted, step, &w, reason, &now).await?;
        tx.commit().await?;
        Ok(w)
    }

    /// Acknowledges an active warning for the caller: their own recipient
    /// row (`user_id`) and their unit's (`org_unit_id`), those not yet
    /// acknowledged. Returns how many rows were acknowledged; a caller who is
    /// not a recipient, or has nothing left to acknowledge, gets a conflict.
    pub async fn ack_warning(&self, actor: &Actor, id: i64, user_id: Option<i64>, org_unit_id: i64) -> Result<u64> {
        let now = self.now_text();
        let mut tx = self.write_tx().await?;
        let w = read_warning(&mut tx, id).await?;
        if !w.is_active() {
            return Err(StoreError::Conflict(format!("warning {id} is lifted")));
        }
        // -1 matches no user id: a token acknowledges for its unit only.
        let user = user_id.unwrap_or(-1);
        let mine = sqlx::query(
            "SELECT COUNT(*) AS n FROM warning_recipients WHERE warning_id = $1 AND (user_id = $2 OR org_unit_id = $3)",
        )
        .bind(id)
        .bind(user)
        .bind(org_unit_id)
        .fetch_one(&mut *tx)
        .await?
        .try_get::<i64, _>("n")?;
        if mine == 0 {
            return Err(StoreError::Conflict(format!("you are not a recipient of warning {id}")));
        }
        let done = sqlx::query(
            "UPDATE warning_recipients SET acked_at = $1, acked_by = $2 \
             WHERE warning_id = $3 AND (user_id = $4 OR org_unit_id = $5) AND acked_at IS NULL",
        )
        .bind(now.clone())
        .bind(actor.name.clone())
        .bind(id)
        .bind(user)
        .bind(org_unit_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if done == 0 {
            return Err(StoreError::Conflict(format!("warning {id} is already acknowledged")));
        }
        let after = serde_json::json!({ "acknowledged": done, "user_id": user_id, "org_unit_id": org_unit_id });
        append(&mut tx, &now, actor, "warning.ack", "warning", &id.to_string(), None, None, Some(&after)).await?;
        tx.commit().await?;
        Ok(done)
    }

    /// Whether the caller (user and unit) still has an acknowledgement to give.
    pub async fn warning_ack_pending(&self, id: i64, user_id: Option<i64>, org_unit_id: i64) -> Result<bool> {
        let n: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM warning_recipients WHERE warning_id = $1 AND (user_id = $2 OR org_unit_id = $3) \
             AND acked_at IS NULL",
        )
        .bind(id)
        .bind(user_id.unwrap_or(-1))
        .bind(org_unit_id)
        .fetch_one(self.pool())
        .await?
        .try_get("n")?;
        Ok(n > 0)
    }
}
