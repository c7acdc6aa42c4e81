//! The risk register (R1.2) and the pre-launch gate (R1.7): risks rated
//! value × likelihood × severity with their treatment and residual risk;
//! an asset goes from planned to live only after its pre-launch risk
//! assessment is complete (every risk on it has a treatment decided) or a
//! named person approved an exception.

use anbao_model::risk::{RiskLevel, RiskMethod, Treatment, check_rating};
use anbao_model::validate::{self, Invalid};
use serde::Serialize;
use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::audit::append;
use crate::network_units::{date_text, parse_date};
use crate::sql::id_list;
use crate::{Actor, Result, Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Risk {
    pub id: i64,
    pub org_unit_id: i64,
    pub asset_id: Option<i64>,
    pub title: String,
    pub threat: String,
    pub vulnerability: String,
    pub asset_value: i64,
    pub likelihood: i64,
    pub severity: i64,
    pub score: i64,
    pub level: RiskLevel,
    pub treatment: Treatment,
    pub treatment_plan: String,
    pub residual_level: Option<RiskLevel>,
    pub owner: String,
    pub review_on: Option<String>,
}

/// A risk as entered; the score and level are computed.
#[derive(Debug, Clone, Default)]
pub struct RiskDraft {
    pub org_unit_id: i64,
    pub asset_id: Option<i64>,
    pub title: String,
    pub threat: String,
    pub vulnerability: String,
    pub asset_value: i64,
    pub likelihood: i64,
    pub severity: i64,
    pub treatment: String,
    pub treatment_plan: String,
    pub residual_level: String,
    pub owner: String,
    /// YYYY-MM-DD or empty.
    pub review_on: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Clearance {
    pub id: i64,
    /// `assessment` or `exception`.
    pub kind: String,
    pub approved_by: String,
    pub reason: String,
    pub created_at: String,
}

fn risk_of(r: &AnyRow) -> Result<Risk> {
    let corrupt = |c: &str, e: String| StoreError::Corrupt(format!("risk {c}: {e}"));
    let residual: String = r.try_get("residual_level")?;
    Ok(Risk {
        id: r.try_get("id")?,
        org_unit_id: r.try_get("org_unit_id")?,
        asset_id: r.try_get("asset_id")?,
        title: r.try_get("title")?,
        threat: r.try_get("threat")?,
        vulnerability: r.try_get("vulnerability")?,
        asset_value: r.try_get("asset_value")?,
        likelihood: r.try_get("likelihood")?,
        severity: r.try_get("severity")?,
        score: r.try_get("score")?,
        level: r.try_get::<String, _>("level")?.parse().map_err(|e| corrupt("level", e))?,
        treatment: r.try_get::<String, _>("treatment")?.parse().map_err(|e| corrupt("treatment", e))?,
        treatment_plan: r.try_get("treatment_plan")?,
        residual_level: if residual.is_empty() {
            None
        } else {
            Some(residual.parse().map_err(|e| corrupt("residual_level", e))?)
        },
        owner: r.try_get("owner")?,
        review_on: r.try_get("review_on")?,
    })
}

struct Checked {
    value: u32,
    likelihood: u32,
    severity: u32,
    treatment: Treatment,
    residual: Option<RiskLevel>,
    review_on: Option<String>,
}

fn check(d: &RiskDraft) -> Result<Checked, Invalid> {
    validate::label("title", &d.title)?;
    validate::label("owner", &d.owner)?;
    for (f, v) in [("threat", &d.threat), ("vulnerability", &d.vulnerability), ("treatment_plan", &d.treatment_plan)] {
        validate::optional_text(f, v)?;
    }
    let treatment = if d.treatment.trim().is_empty() {
        Treatment::Undecided
    } else {
        d.treatment.trim().parse().map_err(|reason| Invalid { field: "treatment", reason })?
    };
    let residual = match d.residual_level.trim() {
        "" => None,
        s => Some(s.parse().map_err(|reason| Invalid { field: "residual_level", reason })?),
    };
    let review_on = match d.review_on.trim() {
        "" => None,
        s => Some(date_text(parse_date("review_on", s)?)),
    };
    Ok(Checked {
        value: check_rating("asset_value", d.asset_value)?,
        likelihood: check_rating("likelihood", d.likelihood)?,
        severity: check_rating("severity", d.severity)?,
        treatment,
        residual,
        review_on,
    })
}

impl Store {
    pub async fn list_risks(&self, org_units: Option<&[i64]>, asset_id: Option<i64>) -> Result<Vec<Risk>> {
        let mut sql = String::from("SELECT * FROM risks WHERE 1 = 1");
        if let Some(units) = org_units {
            sql.push_str(&format!(" AND org_unit_id IN {}", id_list(units.iter().copied())));
        }
        if let Some(a) = asset_id {
            sql.push_str(&format!(" AND asset_id = {a}"));
        }
        sql.push_str(" ORDER BY score DESC, id");
        sqlx::query(&sql).fetch_all(self.pool()).await?.iter().map(risk_of).collect()
    }

    pub async fn get_risk(&self, id: i64) -> Result<Risk> {
        let row = sqlx::query("SELECT * FROM risks WHERE id = $1").bind(id).fetch_optional(self.pool()).await?;
        risk_of(&row.ok_or_else(|| StoreError::not_found("risk", id))?)
    }

    /// Creates (`id` None) or replaces a risk, scoring it with `method`.
    pub async fn save_risk(&self, actor: &Actor, id: Option<i64>, d: &RiskDraft, method: &RiskMethod) -> Result<Risk> {
        let c = check(d)?;
        let before = match id {
            Some(id) => Some(self.get_risk(id).await?),
            None => None,
        };
        let score = RiskMethod::score(c.value, c.likelihood, c.severity);
        let level = method.level(score);
        let mut tx = self.write_tx().await?;
        let now = self.now_text();
        if let Some(a) = d.asset_id {
            let found = sqlx::query("SELECT id FROM assets WHERE id = $1").bind(a).fetch_optional(&mut *tx).await?;
            if found.is_none() {
                return Err(Invalid { field: "asset_id", reason: format!("asset {a} does not exist") }.into());
            }
        }
        fn bind_all<'q>(
            q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
            d: &RiskDraft,
            c: &Checked,
            score: u32,
            level: RiskLevel,
            now: &str,
        ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
            q.bind(d.org_unit_id)
                .bind(d.asset_id)
                .bind(d.title.trim().to_owned())
                .bind(d.threat.trim().to_owned())
                .bind(d.vulnerability.trim().to_owned())
                .bind(i64::from(c.value))
                .bind(i64::from(c.likelihood))
                .bind(i64::from(c.severity))
                .bind(i64::from(score))
                .bind(level.as_str())
                .bind(c.treatment.as_str())
                .bind(d.treatment_plan.trim().to_owned())
                .bind(c.residual.map(|r| r.as_str()).unwrap_or_default())
                .bind(d.owner.trim().to_owned())
                .bind(c.review_on.clone())
                .bind(now.to_owned())
        }
        let binds = |q| bind_all(q, d, &c, score, level, &now);
        let id = match id {
            None => binds(sqlx::query(
                "INSERT INTO risks (org_unit_id, asset_id, title, threat, vulnerability, asset_value, likelihood, severity, score, \
                 level, treatment, treatment_plan, residual_level, owner, review_on, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16) RETURNING id",
            ))
            .fetch_one(&mut *tx)
            .await?
            .try_get("id")?,
            Some(id) => {
                binds(sqlx::query(
                    "UPDATE risks SET org_unit_id = $1, asset_id = $2, title = $3, threat = $4, vulnerability = $5, asset_value = $6, \
                     likelihood = $7, severity = $8, score = $9, level = $10, treatment = $11, treatment_plan = $12, \
                     residual_level = $13, owner = $14, review_on = $15, updated_at = $16 WHERE id = $17",
                ))
                .bind(id)
                .execute(&mut *tx)
                .await?;
                id
            }
        };
        let row = sqlx::query("SELECT * FROM risks WHERE id = $1").bind(id).fetch_one(&mut *tx).await?;
        let risk = risk_of(&row)?;
        let to_json = |r: &Risk| serde_json::to_value(r).map_err(|e| StoreError::Corrupt(e.to_string()));
        let before_json = before.as_ref().map(to_json).transpose()?;
        let action = if before.is_some() { "risk.update" } else { "risk.create" };
        append(
            &mut tx,
            &now,
            actor,
            action,
            "risk",
            &id.to_string(),
            Some(risk.org_unit_id),
            before_json.as_ref(),
            Some(&to_json(&risk)?),
        )
        .await?;
        tx.commit().await?;
        Ok(risk)
    }

    pub async fn prelaunch_clearances(&self, asset_id: i64) -> Result<Vec<Clearance>> {
        let rows = sqlx::query("SELECT * FROM prelaunch_clearances WHERE asset_id = $1 ORDER BY id")
            .bind(asset_id)
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| {
                Ok(Clearance {
                    id: r.try_get("id")?,
                    kind: r.try_get("kind")?,
                    approved_by: r.try_get("approved_by")?,
                    reason: r.try_get("reason")?,
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect()
    }

    /// Records that an asset passed the gate: `assessment` (its risks are
    /// assessed: at least one, each with a treatment decided) or
    /// `exception` (a named approver and a reason).
    pub async fn clear_for_launch(
        &self,
        actor: &Actor,
        asset_id: i64,
        kind: &str,
        approved_by: &str,
        reason: &str,
    ) -> Result<Clearance> {
        let asset = self.get_asset(asset_id).await?;
        validate::label("approved_by", approved_by)?;
        match kind {
            "assessment" => {
                let risks = self.list_risks(None, Some(asset_id)).await?;
                if risks.is_empty() {
                    return Err(StoreError::Conflict(
                        "the pre-launch risk assessment has no risks recorded for this asset".into(),
                    ));
                }
                let undecided = risks.iter().filter(|r| r.treatment == Treatment::Undecided).count();
                if undecided > 0 {
                    return Err(StoreError::Conflict(format!(
                        "{undecided} risks of this asset have no treatment decided"
                    )));
                }
            }
            "exception" => validate::label("reason", reason)?,
            other => {
                return Err(
                    Invalid { field: "kind", reason: format!("{other:?} is not assessment or exception") }.into()
                );
            }
        }
        let mut tx = self.write_tx().await?;
        let now = self.now_text();
        let id: i64 = sqlx::query(
            "INSERT INTO prelaunch_clearances (asset_id, kind, approved_by, reason, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(asset_id)
        .bind(kind)
        .bind(approved_by.trim())
        .bind(reason.trim())
        .bind(&now)
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
        append(
            &mut tx,
            &now,
            actor,
            &format!("asset.prelaunch_{kind}"),
            "asset",
            &asset_id.to_string(),
            Some(asset.org_unit_id),
            None,
            Some(&json!({ "approved_by": approved_by.trim(), "reason": reason.trim() })),
        )
        .await?;
        tx.commit().await?;
        Ok(Clearance {
            id,
            kind: kind.to_owned(),
            approved_by: approved_by.trim().to_owned(),
            reason: reason.trim().to_owned(),
            created_at: now,
        })
    }
}
