//! Case work on an incident (issue #7, R2.6): tasks with an assignee, a due
//! time and a status, and short messages for the command-and-dispatch
//! board. Every change is audited against the incident and bumps its
//! `updated_at` (what a board on another node can poll); task changes also
//! write an automatic timeline entry.

use anbao_model::Timestamp;
use anbao_model::clock::format_ts;
use anbao_model::incident::{TaskKind, TaskStatus};
use anbao_model::validate::{self, Invalid};
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::alerts::check_assignee;
use crate::audit::append;
use crate::incidents::{add_timeline, imply_acknowledged, long_text};
use crate::{Actor, Result, Store, StoreError, WriteTx, opt_ts_col};

/// Longest message, in characters: a line or two, not a report.
pub const MESSAGE_MAX: usize = 1000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IncidentTask {
    pub id: i64,
    pub incident_id: i64,
    pub title: String,
    /// An active user's name; empty: nobody yet.
    pub assignee: String,
    /// RFC 3339; `None`: no due time.
    pub due_at: Option<String>,
    pub status: TaskStatus,
    /// Case work, or a follow-up action from the post-incident review.
    pub kind: TaskKind,
    pub created_by: String,
    pub created_at: String,
    pub updated_by: String,
    pub updated_at: String,
}

impl IncidentTask {
    /// Still to be done and past its due time at `now`.
    pub fn is_overdue(&self, now: Timestamp) -> bool {
        let due = self.due_at.as_deref().and_then(|d| anbao_model::clock::parse_ts(d).ok());
        self.status.is_pending() && due.is_some_and(|d| d < now)
    }
}

/// A task as created.
#[derive(Debug, Clone, Default)]
pub struct TaskDraft {
    pub title: String,
    pub assignee: String,
    pub due_at: Option<Timestamp>,
    pub kind: TaskKind,
}

/// What to change of a task; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct TaskPatch {
    pub title: Option<String>,
    /// Empty unassigns.
    pub assignee: Option<String>,
    /// `Some(None)` removes the due time.
    pub due_at: Option<Option<Timestamp>>,
    pub status: Option<TaskStatus>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IncidentMessage {
    pub id: i64,
    pub incident_id: i64,
    pub body: String,
    pub author: String,
    pub created_at: String,
}

fn task_of(r: &AnyRow) -> Result<IncidentTask> {
    let status: String = r.try_get("status")?;
    Ok(IncidentTask {
        id: r.try_get("id")?,
        incident_id: r.try_get("incident_id")?,
        title: r.try_get("title")?,
        assignee: r.try_get("assignee")?,
        due_at: opt_ts_col(r, "due_at")?.map(format_ts),
        status: status.parse().map_err(|e| StoreError::Corrupt(format!("incident task status: {e}")))?,
        kind: r
            .try_get::<String, _>("kind")?
            .parse()
            .map_err(|e| StoreError::Corrupt(format!("incident task kind: {e}")))?,
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
        updated_by: r.try_get("updated_by")?,
        updated_at: r.try_get("updated_at")?,
    })
}

fn message_of(r: &AnyRow) -> Result<IncidentMessage> {
    Ok(IncidentMessage {
        id: r.try_get("id")?,
        incident_id: r.try_get("incident_id")?,
        body: r.try_get("body")?,
        author: r.try_get("author")?,
        created_at: r.try_get("created_at")?,
    })
}

fn to_json<T: Serialize>(v: &T) -> Result<serde_json::Value> {
    serde_json::to_value(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// How a task reads in the timeline: `#3 "Block the C2 domain" → alice, due …`.
fn describe(t: &IncidentTask) -> String {
    let mut s = match t.kind {
        TaskKind::Task => format!("#{} \"{}\"", t.id, t.title),
        TaskKind::FollowUp => format!("#{} (follow-up) \"{}\"", t.id, t.title),
    };
    if !t.assignee.is_empty() {
        s.push_str(&format!(" → {}", t.assignee));
    }
    if let Some(d) = &t.due_at {
        s.push_str(&format!(", due {d}"));
    }
    s
}

pub(crate) async fn org_unit_of(tx: &mut WriteTx, incident_id: i64) -> Result<i64> {
    let row = sqlx::query("SELECT org_unit_id FROM incidents WHERE id = $1")
        .bind(incident_id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::not_found("incident", incident_id))?;
    Ok(row.try_get("org_unit_id")?)
}

pub(crate) async fn touch(tx: &mut WriteTx, incident_id: i64, now: &str) -> Result<()> {
    sqlx::query("UPDATE incidents SET updated_at = $1 WHERE id = $2")
        .bind(now.to_owned())
        .bind(incident_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn read_task(tx: &mut WriteTx, incident_id: i64, task_id: i64) -> Result<IncidentTask> {
    let row = sqlx::query("SELECT * FROM incident_tasks WHERE id = $1 AND incident_id = $2")
        .bind(task_id)
        .bind(incident_id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::not_found("task", task_id))?;
    task_of(&row)
}

impl Store {
    /// The incident's tasks in the order they were created.
    pub async fn incident_tasks(&self, incident_id: i64) -> Result<Vec<IncidentTask>> {
        let rows = sqlx::query("SELECT * FROM incident_tasks WHERE incident_id = $1 ORDER BY id")
            .bind(incident_id)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(task_of).collect()
    }

    /// The incident's follow-up actions (from the post-incident review), in
    /// the order they were created.
    pub async fn incident_follow_ups(&self, incident_id: i64) -> Result<Vec<IncidentTask>> {
        let rows =
            sqlx::query("SELECT * FROM incident_tasks WHERE incident_id = $1 AND kind = 'follow_up' ORDER BY id")
                .bind(incident_id)
                .fetch_all(self.pool())
                .await?;
        rows.iter().map(task_of).collect()
    }

    /// Adds a task; the assignee (if any) must be an active user. Assigning
    /// someone acknowledges an incident nobody acknowledged yet.
    pub async fn create_incident_task(&self, actor: &Actor, incident_id: i64, d: &TaskDraft) -> Result<IncidentTask> {
        let title = d.title.trim();
        validate::label("title", title)?;
        let assignee = d.assignee.trim();
        let now = self.now_text();
        let mut tx = self.write_tx().await?;
        let org_unit = org_unit_of(&mut tx, incident_id).await?;
        check_assignee(&mut tx, assignee).await?;
        let id: i64 = sqlx::query(
            "INSERT INTO incident_tasks (incident_id, title, assignee, due_at, status, created_by, created_at, \
             updated_by, updated_at, kind) VALUES ($1, $2, $3, $4, 'open', $5, $6, $5, $6, $7) RETURNING id",
        )
        .bind(incident_id)
        .bind(title.to_owned())
        .bind(assignee.to_owned())
        .bind(d.due_at.map(format_ts))
        .bind(actor.name.clone())
        .bind(now.clone())
        .bind(d.kind.as_str())
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
        if !assignee.is_empty() {
            imply_acknowledged(&mut tx, incident_id, actor, &now).await?;
        }
        let task = read_task(&mut tx, incident_id, id).await?;
        add_timeline(&mut tx, incident_id, &now, "auto", &format!("task {} added", describe(&task)), actor, &now)
            .await?;
        touch(&mut tx, incident_id, &now).await?;
        append(
            &mut tx,
            &now,
            actor,
            "incident.task_create",
            "incident",
            &incident_id.to_string(),
            Some(org_unit),
            None,
            Some(&to_json(&task)?),
        )
        .await?;
        tx.commit().await?;
        Ok(task)
    }

    /// Changes a task; a change that changes nothing writes nothing.
    pub async fn update_incident_task(
        &self,
        actor: &Actor,
        incident_id: i64,
        task_id: i64,
        patch: &TaskPatch,
    ) -> Result<IncidentTask> {
        if let Some(t) = &patch.title {
            validate::label("title", t.trim())?;
        }
        let now = self.now_text();
        let mut tx = self.write_tx().await?;
        let org_unit = org_unit_of(&mut tx, incident_id).await?;
        let before = read_task(&mut tx, incident_id, task_id).await?;
        let mut after = before.clone();
        if let Some(t) = &patch.title {
            after.title = t.trim().to_owned();
        }
        if let Some(a) = &patch.assignee {
            let a = a.trim();
            if a != before.assignee {
                check_assignee(&mut tx, a).await?;
            }
            after.assignee = a.to_owned();
        }
        if let Some(d) = patch.due_at {
            after.due_at = d.map(format_ts);
        }
        if let Some(s) = patch.status {
            after.status = s;
        }
        let mut changes = Vec::new();
        if after.title != before.title {
            changes.push(format!("title \"{}\" → \"{}\"", before.title, after.title));
        }
        if after.assignee != before.assignee {
            let who = |a: &str| if a.is_empty() { "nobody".to_owned() } else { a.to_owned() };
            changes.push(format!("assignee {} → {}", who(&before.assignee), who(&after.assignee)));
        }
        if after.due_at != before.due_at {
            let due = |d: &Option<String>| d.clone().unwrap_or_else(|| "none".to_owned());
            changes.push(format!("due {} → {}", due(&before.due_at), due(&after.due_at)));
        }
        if after.status != before.status {
            changes.push(format!("status {} → {}", before.status, after.status));
        }
        if changes.is_empty() {
            return Ok(before);
        }
        sqlx::query(
            "UPDATE incident_tasks SET title = $1, assignee = $2, due_at = $3, status = $4, updated_by = $5, \
             updated_at = $6 WHERE id = $7",
        )
        .bind(after.title.clone())
        .bind(after.assignee.clone())
        .bind(after.due_at.clone())
        .bind(after.status.as_str())
        .bind(actor.name.clone())
        .bind(now.clone())
        .bind(task_id)
        .execute(&mut *tx)
        .await?;
        if after.assignee != before.assignee && !after.assignee.is_empty() {
            imply_acknowledged(&mut tx, incident_id, actor, &now).await?;
        }
        let after = read_task(&mut tx, incident_id, task_id).await?;
        let text = format!("task #{} \"{}\": {}", after.id, after.title, changes.join("; "));
        add_timeline(&mut tx, incident_id, &now, "auto", &text, actor, &now).await?;
        touch(&mut tx, incident_id, &now).await?;
        append(
            &mut tx,
            &now,
            actor,
            "incident.task_update",
            "incident",
            &incident_id.to_string(),
            Some(org_unit),
            Some(&to_json(&before)?),
            Some(&to_json(&after)?),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// The newest `limit` messages, oldest first.
    pub async fn incident_messages(&self, incident_id: i64, limit: i64) -> Result<Vec<IncidentMessage>> {
        let rows = sqlx::query("SELECT * FROM incident_messages WHERE incident_id = $1 ORDER BY id DESC LIMIT $2")
            .bind(incident_id)
            .bind(limit)
            .fetch_all(self.pool())
            .await?;
        let mut out = rows.iter().map(message_of).collect::<Result<Vec<_>>>()?;
        out.reverse();
        Ok(out)
    }

    /// Posts a message (up to [`MESSAGE_MAX`] characters) on the incident.
    pub async fn post_incident_message(&self, actor: &Actor, incident_id: i64, body: &str) -> Result<IncidentMessage> {
        let body = body.trim();
        long_text("body", body, true)?;
        if body.chars().count() > MESSAGE_MAX {
            return Err(Invalid::field("body", format!("at most {MESSAGE_MAX} characters")).into());
        }
        let now = self.now_text();
        let mut tx = self.write_tx().await?;
        let org_unit = org_unit_of(&mut tx, incident_id).await?;
        let id: i64 = sqlx::query(
            "INSERT INTO incident_messages (incident_id, body, author, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(incident_id)
        .bind(body.to_owned())
        .bind(actor.name.clone())
        .bind(now.clone())
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
        let row = sqlx::query("SELECT * FROM incident_messages WHERE id = $1").bind(id).fetch_one(&mut *tx).await?;
        let message = message_of(&row)?;
        touch(&mut tx, incident_id, &now).await?;
        append(
            &mut tx,
            &now,
            actor,
            "incident.message",
            "incident",
            &incident_id.to_string(),
            Some(org_unit),
            None,
            Some(&to_json(&message)?),
        )
        .await?;
        tx.commit().await?;
        Ok(message)
    }
}
