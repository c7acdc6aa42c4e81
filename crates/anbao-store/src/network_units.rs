//! Network units and their grading and filing under MIIT Order No. 11
//! (R1.1): the unit and the assets in it, the wizard's proposal with its
//! reasoning, the expert review, the filing, and the dates from which the
//! Order's deadlines are computed (`anbao_model::deadlines`).

use anbao_model::Timestamp;
use anbao_model::deadlines::UnitDates;
use anbao_model::grading::{GradeLevel, GradingProposal, MlpsLevel};
use anbao_model::validate::{self, Invalid};
use serde::Serialize;
use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;
use time::Date;

use crate::audit::append;
use crate::sql::id_list;
use crate::{Actor, Result, Store, StoreError, ts_col};

/// Where a unit is in the Order's procedure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitStatus {
    Draft,
    Graded,
    Reviewed,
    Filed,
}

impl UnitStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            UnitStatus::Draft => "draft",
            UnitStatus::Graded => "graded",
            UnitStatus::Reviewed => "reviewed",
            UnitStatus::Filed => "filed",
        }
    }
    fn parse(s: &str) -> Result<UnitStatus> {
        match s {
            "draft" => Ok(UnitStatus::Draft),
            "graded" => Ok(UnitStatus::Graded),
            "reviewed" => Ok(UnitStatus::Reviewed),
            "filed" => Ok(UnitStatus::Filed),
            other => Err(StoreError::Corrupt(format!("network unit status {other:?}"))),
        }
    }
}

/// The descriptive part of a unit, as a person enters it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetworkUnitDraft {
    pub org_unit_id: i64,
    pub name: String,
    pub main_function: String,
    pub responsible_person: String,
    pub topology: String,
    pub boundary: String,
    pub key_facilities: String,
    pub mlps_level: Option<MlpsLevel>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NetworkUnit {
    pub id: i64,
    pub org_unit_id: i64,
    pub name: String,
    pub main_function: String,
    pub responsible_person: String,
    pub topology: String,
    pub boundary: String,
    pub key_facilities: String,
    pub mlps_level: Option<MlpsLevel>,
    pub status: UnitStatus,
    pub level: Option<GradeLevel>,
    pub grading: Option<GradingProposal>,
    pub level_override_reason: String,
    pub review_passed: Option<Date>,
    pub reviewers: String,
    pub review_opinion: String,
    pub filed: Option<Date>,
    pub filing_number: String,
    pub last_change: Option<Date>,
    pub last_compliance_assessment: Option<Date>,
    pub last_risk_assessment: Option<Date>,
    pub asset_ids: Vec<i64>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: Timestamp,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: Timestamp,
}

impl NetworkUnit {
    /// The dates the deadline rules need; none before the unit is graded.
    pub fn dates(&self) -> Option<UnitDates> {
        Some(UnitDates {
            grade: self.level?,
            review_passed: self.review_passed,
            filed: self.filed,
            last_compliance_assessment: self.last_compliance_assessment,
            last_risk_assessment: self.last_risk_assessment,
            last_change: self.last_change,
        })
    }

    fn audit_json(&self) -> serde_json::Value {
        json!({
            "id": self.id, "org_unit_id": self.org_unit_id, "name": self.name, "main_function": self.main_function,
            "responsible_person": self.responsible_person, "topology": self.topology, "boundary": self.boundary,
            "key_facilities": self.key_facilities, "mlps_level": self.mlps_level, "status": self.status,
            "level": self.level, "review_passed": self.review_passed.map(date_text),
            "filed": self.filed.map(date_text), "filing_number": self.filing_number,
        })
    }
}

/// Which periodic assessment was completed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AssessmentKind {
    Compliance,
    Risk,
}

pub fn date_text(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

pub fn parse_date(field: &'static str, s: &str) -> Result<Date, Invalid> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s.trim(), &format).map_err(|_| Invalid { field, reason: format!("{s:?} is not a YYYY-MM-DD date") })
}

fn date_col(row: &AnyRow, col: &str) -> Result<Option<Date>> {
    let s: Option<String> = row.try_get(col)?;
    match s.filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => parse_date("date", &s).map(Some).map_err(|e| StoreError::Corrupt(format!("{col}: {e}"))),
    }
}

fn unit_of(row: &AnyRow, asset_ids: Vec<i64>) -> Result<NetworkUnit> {
    let level: String = row.try_get("level")?;
    let mlps: String = row.try_get("mlps_level")?;
    let grading: String = row.try_get("grading")?;
    let corrupt = |what: &str, e: String| StoreError::Corrupt(format!("network unit {what}: {e}"));
    Ok(NetworkUnit {
        id: row.try_get("id")?,
        org_unit_id: row.try_get("org_unit_id")?,
        name: row.try_get("name")?,
        main_function: row.try_get("main_function")?,
        responsible_person: row.try_get("responsible_person")?,
        topology: row.try_get("topology")?,
        boundary: row.try_get("boundary")?,
        key_facilities: row.try_get("key_facilities")?,
        mlps_level: if mlps.is_empty() {
            None
        } else {
            Some(mlps.parse().map_err(|e| corrupt("mlps_level", format!("{e:?}")))?)
        },
        status: UnitStatus::parse(&row.try_get::<String, _>("status")?)?,
        level: if level.is_empty() {
            None
        } else {
            Some(level.parse().map_err(|e| corrupt("level", format!("{e:?}")))?)
        },
        grading: if grading.is_empty() {
            None
        } else {
            Some(serde_json::from_str(&grading).map_err(|e| corrupt("grading", e.to_string()))?)
        },
        level_override_reason: row.try_get("level_override_reason")?,
        review_passed: date_col(row, "review_passed")?,
        reviewers: row.try_get("reviewers")?,
        review_opinion: row.try_get("review_opinion")?,
        filed: date_col(row, "filed")?,
        filing_number: row.try_get("filing_number")?,
        last_change: date_col(row, "last_change")?,
        last_compliance_assessment: date_col(row, "last_compliance_assessment")?,
        last_risk_assessment: date_col(row, "last_risk_assessment")?,
        asset_ids,
        created_at: ts_col(row, "created_at")?,
        updated_at: ts_col(row, "updated_at")?,
    })
}

fn check_draft(d: &NetworkUnitDraft) -> Result<(), Invalid> {
    validate::label("name", &d.name)?;
    validate::label("responsible_person", &d.responsible_person)?;
    for (field, v) in [("main_function", &d.main_function), ("key_facilities", &d.key_facilities)] {
        validate::optional_text(field, v)?;
    }
    for (field, v) in [("topology", &d.topology), ("boundary", &d.boundary)] {
        if v.chars().count() > 20_000 {
            return Err(Invalid { field, reason: "is longer than 20000 characters".into() });
        }
    }
    Ok(())
}

impl Store {
    pub(crate) fn today(&self) -> Date {
        self.now().date()
    }

    pub async fn list_network_units(&self, org_units: Option<&[i64]>) -> Result<Vec<NetworkUnit>> {
        let mut sql = String::from("SELECT * FROM network_units");
        if let Some(units) = org_units {
            sql.push_str(&format!(" WHERE org_unit_id IN {}", id_list(units.iter().copied())));
        }
        sql.push_str(" ORDER BY name, id");
        let rows = sqlx::query(&sql).fetch_all(self.pool()).await?;
        let links = sqlx::query("SELECT network_unit_id, asset_id FROM network_unit_assets ORDER BY asset_id")
            .fetch_all(self.pool())
            .await?;
        let mut by_unit: std::collections::HashMap<i64, Vec<i64>> = std::collections::HashMap::new();
        for l in links {
            by_unit.entry(l.try_get("network_unit_id")?).or_default().push(l.try_get("asset_id")?);
        }
        rows.iter()
            .map(|r| {
                let id: i64 = r.try_get("id")?;
                unit_of(r, by_unit.remove(&id).unwrap_or_default())
            })
            .collect()
    }

    pub async fn get_network_unit(&self, id: i64) -> Result<NetworkUnit> {
        let row = sqlx::query("SELECT * FROM network_units WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| StoreError::not_found("network unit", id))?;
        let assets =
            sqlx::query("SELECT asset_id FROM network_unit_assets WHERE network_unit_id = $1 ORDER BY asset_id")
                .bind(id)
                .fetch_all(self.pool())
                .await?
                .iter()
                .map(|r| r.try_get("asset_id"))
                .collect::<Result<Vec<i64>, _>>()?;
        unit_of(&row, assets)
    }

    pub async fn create_network_unit(&self, actor: &Actor, d: &NetworkUnitDraft) -> Result<NetworkUnit> {
        check_draft(d)?;
        let mut tx = self.write_tx().await?;
        let now = self.now_text();
        let id: i64 = sqlx::query(
            "INSERT INTO network_units (org_unit_id, name, main_function, responsible_person, topology, boundary, \
             key_facilities, mlps_level, status, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'draft', $9, $9) RETURNING id",
        )
        .bind(d.org_unit_id)
        .bind(d.name.trim())
        .bind(d.main_function.trim())
        .bind(d.responsible_person.trim())
        .bind(&d.topology)
        .bind(&d.boundary)
        .bind(d.key_facilities.trim())
        .bind(d.mlps_level.map(|m| m.as_str()).unwrap_or_default())
        .bind(&now)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| {
            StoreError::unique_or(e, || {
                format!("a network unit named {:?} already exists in that organisation unit", d.name.trim())
            })
        })?
        .try_get("id")?;
        append(
            &mut tx,
            &now,
            actor,
            "network_unit.create",
            "network_unit",
            &id.to_string(),
            Some(d.org_unit_id),
            None,
            Some(&json!({ "id": id, "name": d.name.trim(), "org_unit_id": d.org_unit_id })),
        )
        .await?;
        tx.commit().await?;
        self.get_network_unit(id).await
    }

    /// Changes the description. A change to a filed unit starts the
    /// Order's re-filing clock.
    pub async fn update_network_unit(&self, actor: &Actor, id: i64, d: &NetworkUnitDraft) -> Result<NetworkUnit> {
        check_draft(d)?;
        let before = self.get_network_unit(id).await?;
        let changed = before.name != d.name.trim()
            || before.main_function != d.main_function.trim()
            || before.responsible_person != d.responsible_person.trim()
            || before.topology != d.topology
            || before.boundary != d.boundary
            || before.key_facilities != d.key_facilities.trim()
            || before.mlps_level != d.mlps_level
            || before.org_unit_id != d.org_unit_id;
        if !changed {
            return Ok(before);
        }
        let last_change = if before.status == UnitStatus::Filed {
            Some(date_text(self.today()))
        } else {
            before.last_change.map(date_text)
        };
        let mut tx = self.write_tx().await?;
        let now = self.now_text();
        sqlx::query(
            "UPDATE network_units SET org_unit_id = $1, name = $2, main_function = $3, responsible_person = $4, topology = $5, \
             boundary = $6, key_facilities = $7, mlps_level = $8, last_change = $9, updated_at = $10 WHERE id = $11",
        )
        .bind(d.org_unit_id)
        .bind(d.name.trim())
        .bind(d.main_function.trim())
        .bind(d.responsible_person.trim())
        .bind(&d.topology)
        .bind(&d.boundary)
        .bind(d.key_facilities.trim())
        .bind(d.mlps_level.map(|m| m.as_str()).unwrap_or_default())
        .bind(last_change)
        .bind(&now)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(|e| StoreError::unique_or(e, || format!("a network unit named {:?} already exists in that organisation unit", d.name.trim())))?;
        let row = sqlx::query("SELECT * FROM network_units WHERE id = $1").bind(id).fetch_one(&mut *tx).await?;
        let after = unit_of(&row, before.asset_ids.clone())?;
        append(
            &mut tx,
            &now,
            actor,
            "network_unit.update",
            "network_unit",
            &id.to_string(),
            Some(after.org_unit_id),
            Some(&before.audit_json()),
            Some(&after.audit_json()),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Runs `change` on the unit's row and audits it, in one transaction.
    async fn change_unit(
        &self,
        actor: &Actor,
        id: i64,
        action: &str,
        sql: &str,
        binds: Vec<Option<String>>,
    ) -> Result<NetworkUnit> {
        let before = self.get_network_unit(id).await?;
        let mut tx = self.write_tx().await?;
        let now = self.now_text();
        let mut q = sqlx::query(sql);
        for b in &binds {
            q = q.bind(b.as_deref());
        }
        q.bind(&now).bind(id).execute(&mut *tx).await?;
        let row = sqlx::query("SELECT * FROM network_units WHERE id = $1").bind(id).fetch_one(&mut *tx).await?;
        let after = unit_of(&row, before.asset_ids.clone())?;
        let mut after_json = after.audit_json();
        if let Some(g) = &after.grading
            && action == "network_unit.grade"
        {
            after_json["grading"] = serde_json::to_value(g).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            after_json["level_override_reason"] = after.level_override_reason.clone().into();
        }
        append(
            &mut tx,
            &now,
            actor,
            action,
            "network_unit",
            &id.to_string(),
            Some(after.org_unit_id),
            Some(&before.audit_json()),
            Some(&after_json),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Records the wizard's proposal and the level decided. A level other
    /// than the proposal needs a reason. Regrading sends the unit back to
    /// review (a new grade needs a new expert review and filing).
    pub async fn record_grading(
        &self,
        actor: &Actor,
        id: i64,
        proposal: &GradingProposal,
        level: GradeLevel,
        override_reason: &str,
    ) -> Result<NetworkUnit> {
        if level != proposal.level && override_reason.trim().is_empty() {
            return Err(Invalid {
                field: "override_reason",
                reason: format!("the proposal is level {}; choosing {level} needs a reason", proposal.level),
            }
            .into());
        }
        validate::optional_text("override_reason", override_reason)?;
        let grading = serde_json::to_string(proposal).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let reason = if level == proposal.level { String::new() } else { override_reason.trim().to_owned() };
        self.change_unit(
            actor,
            id,
            "network_unit.grade",
            "UPDATE network_units SET status = 'graded', level = $1, grading = $2, level_override_reason = $3, \
             review_passed = NULL, reviewers = '', review_opinion = '', updated_at = $4 WHERE id = $5",
            vec![Some(level.as_str().to_owned()), Some(grading), Some(reason)],
        )
        .await
    }

    /// Records that the expert review passed.
    pub async fn record_review(
        &self,
        actor: &Actor,
        id: i64,
        passed_on: Date,
        reviewers: &str,
        opinion: &str,
    ) -> Result<NetworkUnit> {
        let unit = self.get_network_unit(id).await?;
        if unit.level.is_none() {
            return Err(StoreError::Conflict("grade the unit before its expert review".into()));
        }
        validate::label("reviewers", reviewers)?;
        if passed_on > self.today() {
            return Err(Invalid { field: "passed_on", reason: "the review cannot pass in the future".into() }.into());
        }
        validate::optional_text("opinion", opinion)?;
        let status = if unit.filed.is_some_and(|f| f >= passed_on) { "filed" } else { "reviewed" };
        self.change_unit(
            actor,
            id,
            "network_unit.review",
            &format!(
                "UPDATE network_units SET status = '{status}', review_passed = $1, reviewers = $2, review_opinion = $3, \
                 updated_at = $4 WHERE id = $5"
            ),
            vec![Some(date_text(passed_on)), Some(reviewers.trim().to_owned()), Some(opinion.trim().to_owned())],
        )
        .await
    }

    /// Records the filing with the regulator (and its filing number).
    pub async fn record_filing(&self, actor: &Actor, id: i64, filed_on: Date, number: &str) -> Result<NetworkUnit> {
        let unit = self.get_network_unit(id).await?;
        let Some(review) = unit.review_passed else {
            return Err(StoreError::Conflict("a unit is filed after its expert review passes".into()));
        };
        if filed_on > self.today() {
            return Err(Invalid { field: "filed", reason: "a filing cannot be dated in the future".into() }.into());
        }
        if filed_on < review {
            return Err(Invalid {
                field: "filed",
                reason: format!("the filing date precedes the review ({})", date_text(review)),
            }
            .into());
        }
        validate::optional_text("filing_number", number)?;
        self.change_unit(
            actor,
            id,
            "network_unit.file",
            "UPDATE network_units SET status = 'filed', filed = $1, filing_number = $2, updated_at = $3 WHERE id = $4",
            vec![Some(date_text(filed_on)), Some(number.trim().to_owned())],
        )
        .await
    }

    /// Records a completed compliance or risk assessment (one carried out
    /// by a third-party assessor, or completed in anbao).
    pub async fn record_assessment(
        &self,
        actor: &Actor,
        id: i64,
        kind: AssessmentKind,
        on: Date,
    ) -> Result<NetworkUnit> {
        let (col, action) = match kind {
            AssessmentKind::Compliance => ("last_compliance_assessment", "network_unit.compliance_assessed"),
            AssessmentKind::Risk => ("last_risk_assessment", "network_unit.risk_assessed"),
        };
        if on > self.today() {
            return Err(
                Invalid { field: "date", reason: "an assessment cannot be completed in the future".into() }.into()
            );
        }
        self.change_unit(
            actor,
            id,
            action,
            &format!("UPDATE network_units SET {col} = $1, updated_at = $2 WHERE id = $3"),
            vec![Some(date_text(on))],
        )
        .await
    }

    /// Puts exactly these assets in the unit.
    pub async fn set_network_unit_assets(&self, actor: &Actor, id: i64, asset_ids: &[i64]) -> Result<NetworkUnit> {
        let before = self.get_network_unit(id).await?;
        let mut wanted = asset_ids.to_vec();
        wanted.sort_unstable();
        wanted.dedup();
        if wanted == before.asset_ids {
            return Ok(before);
        }
        let mut tx = self.write_tx().await?;
        let now = self.now_text();
        sqlx::query("DELETE FROM network_unit_assets WHERE network_unit_id = $1").bind(id).execute(&mut *tx).await?;
        for a in &wanted {
            let exists = sqlx::query("SELECT id FROM assets WHERE id = $1").bind(a).fetch_optional(&mut *tx).await?;
            if exists.is_none() {
                return Err(Invalid { field: "asset_ids", reason: format!("asset {a} does not exist") }.into());
            }
            sqlx::query("INSERT INTO network_unit_assets (network_unit_id, asset_id) VALUES ($1, $2)")
                .bind(id)
                .bind(a)
                .execute(&mut *tx)
                .await?;
        }
        if before.status == UnitStatus::Filed {
            sqlx::query("UPDATE network_units SET last_change = $1 WHERE id = $2")
                .bind(date_text(self.today()))
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        append(
            &mut tx,
            &now,
            actor,
            "network_unit.assets",
            "network_unit",
            &id.to_string(),
            Some(before.org_unit_id),
            Some(&json!({ "asset_ids": before.asset_ids })),
            Some(&json!({ "asset_ids": wanted })),
        )
        .await?;
        tx.commit().await?;
        self.get_network_unit(id).await
    }

    pub async fn delete_network_unit(&self, actor: &Actor, id: i64) -> Result<()> {
        let before = self.get_network_unit(id).await?;
        let mut tx = self.write_tx().await?;
        let now = self.now_text();
        sqlx::query("DELETE FROM network_units WHERE id = $1").bind(id).execute(&mut *tx).await?;
        append(
            &mut tx,
            &now,
            actor,
            "network_unit.delete",
            "network_unit",
            &id.to_string(),
            Some(before.org_unit_id),
            Some(&before.audit_json()),
            None,
        )
        .await?;
        tx.commit().await
    }
}
