//! Compliance assessments (R1.2): a graded unit's applicable protection
//! requirements, each marked met / partly / not met / not applicable with
//! evidence (files stored content-addressed, or links); completing the
//! assessment turns findings into remediation tasks and restarts the
//! Order's assessment clock for the unit.

use anbao_model::validate::{self, Invalid};
use serde::Serialize;
use serde_json::json;
use sha2::Digest;
use sqlx::Row;
use sqlx::any::AnyRow;
use time::Date;

use crate::audit::append;
use crate::network_units::{date_text, parse_date};
use crate::sql::id_list;
use crate::{Actor, Result, Store, StoreError};

/// Largest evidence file accepted.
pub const MAX_EVIDENCE_BYTES: usize = 32 * 1024 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemResult {
    Unassessed,
    Met,
    Partly,
    NotMet,
    NotApplicable,
}

impl ItemResult {
    pub const ALL: [ItemResult; 5] =
        [ItemResult::Unassessed, ItemResult::Met, ItemResult::Partly, ItemResult::NotMet, ItemResult::NotApplicable];
    pub fn as_str(self) -> &'static str {
        match self {
            ItemResult::Unassessed => "unassessed",
            ItemResult::Met => "met",
            ItemResult::Partly => "partly",
            ItemResult::NotMet => "not_met",
            ItemResult::NotApplicable => "not_applicable",
        }
    }
    pub fn parse(s: &str) -> Option<ItemResult> {
        ItemResult::ALL.into_iter().find(|r| r.as_str() == s)
    }
    /// Whether this result is a finding that needs remediation.
    pub fn is_finding(self) -> bool {
        matches!(self, ItemResult::Partly | ItemResult::NotMet)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    pub id: i64,
    pub sha256: Option<String>,
    pub file_name: String,
    pub media_type: String,
    pub link: String,
    pub added_by: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AssessmentItem {
    pub id: i64,
    pub requirement_id: String,
    pub result: ItemResult,
    pub note: String,
    pub assessed_by: String,
    pub assessed_on: Option<String>,
    pub evidence: Vec<Evidence>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assessment {
    pub id: i64,
    pub network_unit_id: i64,
    pub level_tier: i64,
    pub assessor: String,
    /// `in_progress` or `completed`.
    pub status: String,
    pub started_on: String,
    pub completed_on: Option<String>,
    /// Filled by `get_assessment`.
    pub items: Vec<AssessmentItem>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RemediationTask {
    pub id: i64,
    pub assessment_id: i64,
    pub network_unit_id: i64,
    pub requirement_id: String,
    pub title: String,
    pub owner: String,
    pub due_on: String,
    /// `open` or `done`.
    pub status: String,
    pub closed_on: Option<String>,
}

fn assessment_of(r: &AnyRow) -> Result<Assessment> {
    Ok(Assessment {
        id: r.try_get("id")?,
        network_unit_id: r.try_get("network_unit_id")?,
        level_tier: r.try_get("level_tier")?,
        assessor: r.try_get("assessor")?,
        status: r.try_get("status")?,
        started_on: r.try_get("started_on")?,
        completed_on: r.try_get("completed_on")?,
        items: Vec::new(),
    })
}

fn task_of(r: &AnyRow) -> Result<RemediationTask> {
    Ok(RemediationTask {
        id: r.try_get("id")?,
        assessment_id: r.try_get("assessment_id")?,
        network_unit_id: r.try_get("network_unit_id")?,
        requirement_id: r.try_get("requirement_id")?,
        title: r.try_get("title")?,
        owner: r.try_get("owner")?,
        due_on: r.try_get("due_on")?,
        status: r.try_get("status")?,
        closed_on: r.try_get("closed_on")?,
    })
}

impl Store {
    /// Starts an assessment of a graded unit over `requirement_ids` (the
    /// catalogue items of its level, chosen by the caller).
    pub async fn start_assessment(
        &self,
        actor: &Actor,
        unit_id: i64,
        assessor: &str,
        requirement_ids: &[String],
    ) -> Result<Assessment> {
        validate::label("assessor", assessor)?;
        let unit = self.get_network_unit(unit_id).await?;
        let Some(level) = unit.level else {
            return Err(StoreError::Conflict("grade the unit before assessing it against its level".into()));
        };
        if requirement_ids.is_empty() {
            return Err(Invalid { field: "requirements", reason: "no requirements to assess".into() }.into());
        }
        let mut tx = self.write_tx().await?;
        let now = self.now_text();
        let today = date_text(self.now().date());
        let id: i64 = sqlx::query(
            "INSERT INTO assessments (network_unit_id, level_tier, assessor, status, started_on, created_at, updated_at) \
             VALUES ($1, $2, $3, 'in_progress', $4, $5, $5) RETURNING id",
        )
        .bind(unit_id)
        .bind(i64::from(level.order_tier()))
        .bind(assessor.trim())
        .bind(&today)
        .bind(&now)
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
        for r in requirement_ids {
            sqlx::query(
                "INSERT INTO assessment_items (assessment_id, requirement_id, result) VALUES ($1, $2, 'unassessed')",
            )
            .bind(id)
            .bind(r)
            .execute(&mut *tx)
            .await
            .map_err(|e| StoreError::unique_or(e, || format!("requirement {r} is listed twice")))?;
        }
        append(&mut tx, &now, actor, "assessment.start", "assessment", &id.to_string(), Some(unit.org_unit_id), None,
            Some(&json!({ "id": id, "network_unit_id": unit_id, "level_tier": level.order_tier(), "items": requirement_ids.len(), "assessor": assessor.trim() })))
            .await?;
        tx.commit().await?;
        self.get_assessment(id).await
    }

    pub async fn list_assessments(&self, unit_id: i64) -> Result<Vec<Assessment>> {
        let rows = sqlx::query("SELECT * FROM assessments WHERE network_unit_id = $1 ORDER BY id DESC")
            .bind(unit_id)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(assessment_of).collect()
    }

    pub async fn get_assessment(&self, id: i64) -> Result<Assessment> {
        let row = sqlx::query("SELECT * FROM assessments WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| StoreError::not_found("assessment", id))?;
        let mut a = assessment_of(&row)?;
        let items = sqlx::query("SELECT * FROM assessment_items WHERE assessment_id = $1 ORDER BY requirement_id")
            .bind(id)
            .fetch_all(self.pool())
            .await?;
        let evidence = sqlx::query(
            "SELECT e.* FROM item_evidence e JOIN assessment_items i ON i.id = e.item_id WHERE i.assessment_id = $1 ORDER BY e.id",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await?;
        for r in &items {
            let item_id: i64 = r.try_get("id")?;
            let result: String = r.try_get("result")?;
            let mut ev = Vec::new();
            for e in evidence.iter().filter(|e| e.try_get::<i64, _>("item_id").ok() == Some(item_id)) {
                ev.push(Evidence {
                    id: e.try_get("id")?,
                    sha256: e.try_get("sha256")?,
                    file_name: e.try_get("file_name")?,
                    media_type: e.try_get("media_type")?,
                    link: e.try_get("link")?,
                    added_by: e.try_get("added_by")?,
                });
            }
            a.items.push(AssessmentItem {
                id: item_id,
                requirement_id: r.try_get("requirement_id")?,
                result: ItemResult::parse(&result)
                    .ok_or_else(|| StoreError::Corrupt(format!("assessment result {result:?}")))?,
                note: r.try_get("note")?,
                assessed_by: r.try_get("assessed_by")?,
                assessed_on: r.try_get("assessed_on")?,
                evidence: ev,
            });
        }
        Ok(a)
    }

    /// Sets results (and notes) of items by requirement id; unchanged items
    /// are left alone. One audit entry lists what changed.
    pub async fn record_results(
        &self,
        actor: &Actor,
        id: i64,
        results: &[(String, ItemResult, String)],
    ) -> Result<Assessment> {
        let before = self.get_assessment(id).await?;
        if before.status != "in_progress" {
            return Err(StoreError::Conflict("the assessment is completed; start a new one".into()));
        }
        let unit = self.get_network_unit(before.network_unit_id).await?;
        let mut changes = Vec::new();
        for (req, result, note) in results {
            validate::optional_text("note", note)?;
            let Some(item) = before.items.iter().find(|i| &i.requirement_id == req) else {
                return Err(Invalid {
                    field: "requirement_id",
                    reason: format!("{req} is not part of this assessment"),
                }
                .into());
            };
            if item.result != *result || item.note != note.trim() {
                changes.push((item.id, req.clone(), *result, note.trim().to_owned(), item.result));
            }
        }
        if changes.is_empty() {
            return Ok(before);
        }
        let mut tx = self.write_tx().await?;
        let now = self.now_text();
        let today = date_text(self.now().date());
        for (item_id, _, result, note, _) in &changes {
            sqlx::query(
                "UPDATE assessment_items SET result = $1, note = $2, assessed_by = $3, assessed_on = $4 WHERE id = $5",
            )
            .bind(result.as_str())
            .bind(note)
            .bind(&actor.name)
            .bind(&today)
            .bind(item_id)
            .execute(&mut *tx)
            .await?;
        }
        let summary: Vec<serde_json::Value> = changes
            .iter()
            .map(|(_, req, result, _, old)| json!({ "requirement": req, "from": old, "to": result }))
            .collect();
        append(
            &mut tx,
            &now,
            actor,
            "assessment.results",
            "assessment",
            &id.to_string(),
            Some(unit.org_unit_id),
            None,
            Some(&json!({ "changes": summary })),
        )
        .await?;
        tx.commit().await?;
        self.get_assessment(id).await
    }

    /// Attaches a file (stored once per content) or a link to an item.
    pub async fn add_evidence(
        &self,
        actor: &Actor,
        assessment_id: i64,
        requirement_id: &str,
        file: Option<(&str, &str, &[u8])>,
        link: &str,
    ) -> Result<Evidence> {
        let a = self.get_assessment(assessment_id).await?;
        let item = a.items.iter().find(|i| i.requirement_id == requirement_id).ok_or_else(|| Invalid {
            field: "requirement_id",
            reason: format!("{requirement_id} is not part of this assessment"),
        })?;
        let link = link.trim();
        if file.is_none() && link.is_empty() {
            return Err(Invalid { field: "file", reason: "attach a file or give a link".into() }.into());
        }
        if !(link.is_empty() || link.starts_with("https://") || link.starts_with("http://")) {
            return Err(Invalid { field: "link", reason: "a link starts with https:// or http://".into() }.into());
        }
        validate::optional_text("link", link)?;
        if let Some((_, _, bytes)) = file
            && bytes.len() > MAX_EVIDENCE_BYTES
        {
            return Err(Invalid {
                field: "file",
                reason: format!("is {} bytes; at most {MAX_EVIDENCE_BYTES} are accepted", bytes.len()),
            }
            .into());
        }
        let unit = self.get_network_unit(a.network_unit_id).await?;
        let mut tx = self.write_tx().await?;
        let now = self.now_text();
        let (sha, name, media) = match file {
            Some((name, media, bytes)) => {
                let sha = hex::encode(sha2::Sha256::digest(bytes));
                let exists = sqlx::query("SELECT sha256 FROM evidence_blobs WHERE sha256 = $1")
                    .bind(&sha)
                    .fetch_optional(&mut *tx)
                    .await?;
                if exists.is_none() {
                    sqlx::query(
                        "INSERT INTO evidence_blobs (sha256, size, content, created_at) VALUES ($1, $2, $3, $4)",
                    )
                    .bind(&sha)
                    .bind(bytes.len() as i64)
                    .bind(bytes.to_vec())
                    .bind(&now)
                    .execute(&mut *tx)
                    .await?;
                }
                let clean: String =
                    name.chars().filter(|c| !c.is_control() && *c != '/' && *c != '\\').take(200).collect();
                (Some(sha), clean, media.chars().take(100).collect::<String>())
            }
            None => (None, String::new(), String::new()),
        };
        let id: i64 = sqlx::query(
            "INSERT INTO item_evidence (item_id, sha256, file_name, media_type, link, added_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(item.id)
        .bind(sha.as_deref())
        .bind(&name)
        .bind(&media)
        .bind(link)
        .bind(&actor.name)
        .bind(&now)
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
        append(
            &mut tx,
            &now,
            actor,
            "assessment.evidence",
            "assessment",
            &assessment_id.to_string(),
            Some(unit.org_unit_id),
            None,
            Some(&json!({ "requirement": requirement_id, "sha256": sha, "file_name": name, "link": link })),
        )
        .await?;
        tx.commit().await?;
        Ok(Evidence {
            id,
            sha256: sha,
            file_name: name,
            media_type: media,
            link: link.to_owned(),
            added_by: actor.name.clone(),
        })
    }

    /// An evidence file's bytes, by the assessment it belongs to (so access
    /// checks on the assessment cover it) and its evidence id.
    pub async fn evidence_file(&self, assessment_id: i64, evidence_id: i64) -> Result<(Evidence, Vec<u8>)> {
        let a = self.get_assessment(assessment_id).await?;
        let ev = a
            .items
            .iter()
            .flat_map(|i| i.evidence.iter())
            .find(|e| e.id == evidence_id)
            .cloned()
            .ok_or_else(|| StoreError::not_found("evidence", evidence_id))?;
        let Some(sha) = &ev.sha256 else { return Err(StoreError::not_found("evidence file", evidence_id)) };
        let row = sqlx::query("SELECT content FROM evidence_blobs WHERE sha256 = $1")
            .bind(sha)
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("evidence blob {sha} is missing")))?;
        let bytes: Vec<u8> = row.try_get("content")?;
        if hex::encode(sha2::Sha256::digest(&bytes)) != *sha {
            return Err(StoreError::Corrupt(format!("evidence blob {sha} does not match its hash")));
        }
        Ok((ev, bytes))
    }

    /// Completes an assessment: every item must have a result; findings
    /// (partly / not met) become remediation tasks for `owner` due on
    /// `due_on`; the unit's last compliance assessment becomes today.
    pub async fn complete_assessment(
        &self,
        actor: &Actor,
        id: i64,
        owner: &str,
        due_on: Date,
    ) -> Result<(Assessment, Vec<RemediationTask>)> {
        validate::label("owner", owner)?;
        let a = self.get_assessment(id).await?;
        if a.status != "in_progress" {
            return Err(StoreError::Conflict("the assessment is already completed".into()));
        }
        let open = a.items.iter().filter(|i| i.result == ItemResult::Unassessed).count();
        if open > 0 {
            return Err(StoreError::Conflict(format!("{open} requirements have no result yet")));
        }
        let today = self.now().date();
        if due_on < today {
            return Err(Invalid { field: "due_on", reason: "remediation cannot be due in the past".into() }.into());
        }
        let unit = self.get_network_unit(a.network_unit_id).await?;
        let mut tx = self.write_tx().await?;
        let now = self.now_text();
        let findings: Vec<&AssessmentItem> = a.items.iter().filter(|i| i.result.is_finding()).collect();
        for f in &findings {
            let title = if f.note.is_empty() {
                format!("{}: remediate ({})", f.requirement_id, f.result.as_str())
            } else {
                format!("{}: {}", f.requirement_id, f.note)
            };
            sqlx::query(
                "INSERT INTO remediation_tasks (assessment_id, item_id, title, owner, due_on, status, created_at) \
                 VALUES ($1, $2, $3, $4, $5, 'open', $6)",
            )
            .bind(id)
            .bind(f.id)
            .bind(title.chars().take(200).collect::<String>())
            .bind(owner.trim())
            .bind(date_text(due_on))
            .bind(&now)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("UPDATE assessments SET status = 'completed', completed_on = $1, updated_at = $2 WHERE id = $3")
            .bind(date_text(today))
            .bind(&now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE network_units SET last_compliance_assessment = $1, updated_at = $2 WHERE id = $3")
            .bind(date_text(today))
            .bind(&now)
            .bind(a.network_unit_id)
            .execute(&mut *tx)
            .await?;
        let tally = |r: ItemResult| a.items.iter().filter(|i| i.result == r).count();
        append(&mut tx, &now, actor, "assessment.complete", "assessment", &id.to_string(), Some(unit.org_unit_id), None,
            Some(&json!({ "met": tally(ItemResult::Met), "partly": tally(ItemResult::Partly), "not_met": tally(ItemResult::NotMet),
                          "not_applicable": tally(ItemResult::NotApplicable), "tasks": findings.len(), "owner": owner.trim(), "due_on": date_text(due_on) })))
            .await?;
        tx.commit().await?;
        let tasks = self.list_tasks(None).await?.into_iter().filter(|t| t.assessment_id == id).collect();
        Ok((self.get_assessment(id).await?, tasks))
    }

    /// Remediation tasks of units owned by `org_units` (`None`: all).
    pub async fn list_tasks(&self, org_units: Option<&[i64]>) -> Result<Vec<RemediationTask>> {
        let mut sql = String::from(
            "SELECT t.*, a.network_unit_id, i.requirement_id FROM remediation_tasks t \
             JOIN assessments a ON a.id = t.assessment_id JOIN assessment_items i ON i.id = t.item_id \
             JOIN network_units u ON u.id = a.network_unit_id",
        );
        if let Some(units) = org_units {
            sql.push_str(&format!(" WHERE u.org_unit_id IN {}", id_list(units.iter().copied())));
        }
        sql.push_str(" ORDER BY t.status DESC, t.due_on, t.id");
        sqlx::query(&sql).fetch_all(self.pool()).await?.iter().map(task_of).collect()
    }

    pub async fn close_task(&self, actor: &Actor, id: i64) -> Result<RemediationTask> {
        let task = self
            .list_tasks(None)
            .await?
            .into_iter()
            .find(|t| t.id == id)
            .ok_or_else(|| StoreError::not_found("task", id))?;
        if task.status == "done" {
            return Ok(task);
        }
        let unit = self.get_network_unit(task.network_unit_id).await?;
        let mut tx = self.write_tx().await?;
        let now = self.now_text();
        let today = date_text(self.now().date());
        sqlx::query("UPDATE remediation_tasks SET status = 'done', closed_on = $1 WHERE id = $2")
            .bind(&today)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        append(
            &mut tx,
            &now,
            actor,
            "task.close",
            "remediation_task",
            &id.to_string(),
            Some(unit.org_unit_id),
            None,
            Some(&json!({ "title": task.title, "closed_on": today })),
        )
        .await?;
        tx.commit().await?;
        Ok(RemediationTask { status: "done".into(), closed_on: Some(today), ..task })
    }
}

/// Parses a `YYYY-MM-DD` due date for callers.
pub fn parse_due(s: &str) -> Result<Date, Invalid> {
    parse_date("due_on", s)
}
