//! Organisation units: the tree every record is scoped to.

use anbao_model::org::would_create_cycle;
use anbao_model::validate::{self, Invalid};
use anbao_model::{OrgKind, OrgScope, OrgUnit};
use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::audit::append;
use crate::sql::id_list;
use crate::{Actor, Result, Store, StoreError};

#[derive(Debug, Clone)]
pub struct NewOrgUnit {
    pub parent_id: Option<i64>,
    pub name: String,
    pub kind: OrgKind,
    pub code: String,
}

/// A partial update; `None` leaves the field as it is.
#[derive(Debug, Clone, Default)]
pub struct OrgUnitPatch {
    pub name: Option<String>,
    pub kind: Option<OrgKind>,
    pub code: Option<String>,
    /// Moves the unit under another parent (not to the root).
    pub parent_id: Option<i64>,
}

fn unit_of(row: &AnyRow) -> Result<OrgUnit> {
    let kind: String = row.try_get("kind")?;
    Ok(OrgUnit {
        id: row.try_get("id")?,
        parent_id: row.try_get("parent_id")?,
        name: row.try_get("name")?,
        kind: kind.parse().map_err(StoreError::Corrupt)?,
        code: row.try_get("code")?,
    })
}

pub(crate) fn unit_json(u: &OrgUnit) -> serde_json::Value {
    json!({ "id": u.id, "parent_id": u.parent_id, "name": u.name, "kind": u.kind, "code": u.code })
}

impl Store {
    /// All units, parents before children where ids allow; the tree is small
    /// (thousands at most), so callers scope in memory.
    pub async fn list_org_units(&self) -> Result<Vec<OrgUnit>> {
        let rows = sqlx::query("SELECT id, parent_id, name, kind, code FROM org_units ORDER BY id")
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(unit_of).collect()
    }

    /// The scope given by `roots` and their subtrees, computed in the
    /// database: a principal at the root sees everything without listing it,
    /// and a provincial one costs a walk of its own subtree only.
    pub async fn scope_of(&self, roots: &[i64]) -> Result<OrgScope> {
        if roots.is_empty() {
            return Ok(OrgScope::Units(Default::default()));
        }
        let list = id_list(roots.iter().copied());
        let at_root = sqlx::query(&format!("SELECT id FROM org_units WHERE parent_id IS NULL AND id IN {list}"))
            .fetch_optional(self.pool())
            .await?;
        if at_root.is_some() {
            return Ok(OrgScope::All);
        }
        let rows = sqlx::query(&format!(
            "WITH RECURSIVE sub(id) AS (SELECT id FROM org_units WHERE id IN {list} \
             UNION SELECT o.id FROM org_units o JOIN sub ON o.parent_id = sub.id) SELECT id FROM sub"
        ))
        .fetch_all(self.pool())
        .await?;
        Ok(OrgScope::Units(rows.iter().map(|r| r.try_get::<i64, _>("id")).collect::<Result<_, _>>()?))
    }

    pub async fn get_org_unit(&self, id: i64) -> Result<OrgUnit> {
        let row = sqlx::query("SELECT id, parent_id, name, kind, code FROM org_units WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| StoreError::not_found("organisation unit", id))?;
        unit_of(&row)
    }

    /// The root unit (the group company), if the tree has been started.
    pub async fn root_org_unit(&self) -> Result<Option<OrgUnit>> {
        let row = sqlx::query(
            "SELECT id, parent_id, name, kind, code FROM org_units WHERE parent_id IS NULL ORDER BY id LIMIT 1",
        )
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(unit_of).transpose()
    }

    pub async fn create_org_unit(&self, actor: &Actor, new: &NewOrgUnit) -> Result<OrgUnit> {
        validate::label("name", &new.name)?;
        validate::optional_text("code", &new.code)?;
        let mut tx = self.write_tx().await?;
        match new.parent_id {
            Some(p) => {
                let exists =
                    sqlx::query("SELECT id FROM org_units WHERE id = $1").bind(p).fetch_optional(&mut *tx).await?;
                if exists.is_none() {
                    return Err(Invalid {
                        field: "parent_id",
                        reason: format!("organisation unit {p} does not exist"),
                    }
                    .into());
                }
            }
            None => {
                let root =
                    sqlx::query("SELECT id FROM org_units WHERE parent_id IS NULL").fetch_optional(&mut *tx).await?;
                if root.is_some() {
                    return Err(Invalid {
                        field: "parent_id",
                        reason: "the tree already has a root; name the parent unit".into(),
                    }
                    .into());
                }
            }
        }
        let now = self.now_text();
        let row = sqlx::query(
            "INSERT INTO org_units (parent_id, name, kind, code, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5) \
             RETURNING id, parent_id, name, kind, code",
        )
        .bind(new.parent_id)
        .bind(new.name.trim())
        .bind(new.kind.as_str())
        .bind(new.code.trim())
        .bind(&now)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| StoreError::unique_or(e, || format!("a unit named {:?} already exists under that parent", new.name.trim())))?;
        let unit = unit_of(&row)?;
        append(
            &mut tx,
            &now,
            actor,
            "org_unit.create",
            "org_unit",
            &unit.id.to_string(),
            Some(unit.id),
            None,
            Some(&unit_json(&unit)),
        )
        .await?;
        tx.commit().await?;
        Ok(unit)
    }

    pub async fn update_org_unit(&self, actor: &Actor, id: i64, patch: &OrgUnitPatch) -> Result<OrgUnit> {
        if let Some(n) = &patch.name {
            validate::label("name", n)?;
        }
        if let Some(c) = &patch.code {
            validate::optional_text("code", c)?;
        }
        let mut tx = self.write_tx().await?;
        let rows = sqlx::query("SELECT id, parent_id, name, kind, code FROM org_units ORDER BY id")
            .fetch_all(&mut *tx)
            .await?;
        let units: Vec<OrgUnit> = rows.iter().map(unit_of).collect::<Result<_>>()?;
        let before =
            units.iter().find(|u| u.id == id).cloned().ok_or_else(|| StoreError::not_found("organisation unit", id))?;
        let mut after = before.clone();
        if let Some(p) = patch.parent_id {
            if before.parent_id.is_none() {
                return Err(Invalid { field: "parent_id", reason: "the root unit cannot be moved".into() }.into());
            }
            if !units.iter().any(|u| u.id == p) {
                return Err(
                    Invalid { field: "parent_id", reason: format!("organisation unit {p} does not exist") }.into()
                );
            }
            if would_create_cycle(&units, id, p) {
                return Err(Invalid {
                    field: "parent_id",
                    reason: "a unit cannot be moved under itself or its own sub-unit".into(),
                }
                .into());
            }
            after.parent_id = Some(p);
        }
        if let Some(n) = &patch.name {
            after.name = n.trim().to_owned();
        }
        if let Some(k) = patch.kind {
            after.kind = k;
        }
        if let Some(c) = &patch.code {
            after.code = c.trim().to_owned();
        }
        if after == before {
            return Ok(before);
        }
        let now = self.now_text();
        sqlx::query(
            "UPDATE org_units SET parent_id = $1, name = $2, kind = $3, code = $4, updated_at = $5 WHERE id = $6",
        )
        .bind(after.parent_id)
        .bind(&after.name)
        .bind(after.kind.as_str())
        .bind(&after.code)
        .bind(&now)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            StoreError::unique_or(e, || format!("a unit named {:?} already exists under that parent", after.name))
        })?;
        append(
            &mut tx,
            &now,
            actor,
            "org_unit.update",
            "org_unit",
            &id.to_string(),
            Some(id),
            Some(&unit_json(&before)),
            Some(&unit_json(&after)),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Deletes an empty unit: no sub-units, users, tokens or grants.
    pub async fn delete_org_unit(&self, actor: &Actor, id: i64) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let row = sqlx::query("SELECT id, parent_id, name, kind, code FROM org_units WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::not_found("organisation unit", id))?;
        let unit = unit_of(&row)?;
        for (table, col, what) in [
            ("org_units", "parent_id", "sub-units"),
            ("users", "org_unit_id", "users"),
            ("api_tokens", "org_unit_id", "API tokens"),
            ("user_org_grants", "org_unit_id", "regulator grants"),
            ("assets", "org_unit_id", "assets"),
            ("assets", "responsible_department_id", "assets it is responsible for"),
            ("security_domains", "org_unit_id", "security domains"),
            ("network_units", "org_unit_id", "network units"),
            ("accountability", "org_unit_id", "accountability records"),
            ("accountability", "security_department_id", "accountability records naming it"),
        ] {
            let n: i64 = sqlx::query(&format!("SELECT COUNT(*) AS n FROM {table} WHERE {col} = $1"))
                .bind(id)
                .fetch_one(&mut *tx)
                .await?
                .try_get("n")?;
            if n > 0 {
                return Err(StoreError::Conflict(format!(
                    "organisation unit {id} still has {n} {what}; move or remove them first"
                )));
            }
        }
        sqlx::query("DELETE FROM org_units WHERE id = $1").bind(id).execute(&mut *tx).await?;
        let now = self.now_text();
        append(
            &mut tx,
            &now,
            actor,
            "org_unit.delete",
            "org_unit",
            &id.to_string(),
            Some(id),
            Some(&unit_json(&unit)),
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
