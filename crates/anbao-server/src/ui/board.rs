//! The command-and-dispatch board of an incident (issue #7, R2.6):
//! `/incidents/{id}/board` shows the situation, level and reporting clock,
//! the people involved, tasks in columns by status, the latest timeline
//! entries and the messages, with forms to add a task and post a message.
//! `/incidents/{id}/board/events` is a server-sent-events stream that says
//! "changed" whenever the incident, its tasks, timeline or messages change;
//! the page script then fetches the board again and swaps its live parts
//! (`[data-board-part]`), leaving the forms as they are.
//!
//! The task and message forms post to `/incidents/{id}/tasks[/{task}]` and
//! `/incidents/{id}/messages` and return to the board or the incident page.

use std::collections::BTreeSet;
use std::convert::Infallible;
use std::time::Duration;

use anbao_model::Permission;
use anbao_model::clock::parse_ts;
use anbao_model::incident::{IncidentStatus, TaskStatus};
use anbao_store::{IncidentTask, Store, StoreError, TaskDraft, TaskPatch, UserFilter};
use axum::extract::State;
use axum::http::HeaderValue;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use tokio::sync::broadcast::error::RecvError;

use super::incidents::{countdown, level_badge, status_key};
use super::{Ctx, Flash, FormError, OrBounce, after_change, flash, form_value, short_time};
use crate::AppState;
use crate::api::incident_tasks::{MESSAGES_SHOWN, parse_due};
use crate::api::incidents::visible;
use crate::auth::{ClientAddr, Principal};
use crate::error::ApiError;
use crate::extract::{FormBody, Path, Query};

/// Timeline entries on the board (the newest).
const TIMELINE_SHOWN: usize = 20;

pub(crate) fn task_status_key(s: TaskStatus) -> &'static str {
    match s {
        TaskStatus::Open => "itask.status.open",
        TaskStatus::InProgress => "itask.status.in_progress",
        TaskStatus::Done => "itask.status.done",
        TaskStatus::Cancelled => "itask.status.cancelled",
    }
}

fn time(t: &str) -> String {
    parse_ts(t).map(|t| short_time(&t)).unwrap_or_else(|_| t.to_owned())
}

/// Where a task or message form returns to: the board or the incident page.
fn back_to(id: i64, raw: &[(String, String)]) -> String {
    match form_value(raw, "back") {
        "board" => format!("/incidents/{id}/board"),
        _ => format!("/incidents/{id}"),
    }
}

/// One task: title, assignee, due time (marked when overdue) and, for
/// those who manage incidents, a form to move it to another status.
fn task_card(ctx: &Ctx, t: &IncidentTask, now: anbao_model::Timestamp, back: &str) -> Markup {
    let overdue = t.is_overdue(now);
    html! {
        article class={ "task" @if overdue { " overdue" } } data-task=(t.id) data-status=(t.status.as_str()) data-assignee=(t.assignee) {
            strong class="task-title" { (t.title) }
            div class="small" {
                span class="task-assignee" { @if t.assignee.is_empty() { (ctx.t("itask.unassigned")) } @else { (t.assignee) } }
                @if let Some(d) = &t.due_at { " · " (ctx.t("itask.due")) " " span class="task-due" { (time(d)) } }
                @if overdue { " " span class="badge red" data-task-overdue { (ctx.t("itask.overdue")) } }
            }
            @if ctx.can(Permission::ManageIncidents) {
                form method="post" action={ "/incidents/" (t.incident_id) "/tasks/" (t.id) } class="inline task-move" {
                    (ctx.csrf_field())
                    input type="hidden" name="back" value=(back);
                    select name="status" aria-label=(ctx.t("field.status")) {
                        @for s in TaskStatus::ALL { option value=(s.as_str()) selected[t.status == *s] { (ctx.t(task_status_key(*s))) } }
                    }
                    button type="submit" { (ctx.t("itask.move")) }
                }
            }
        }
    }
}

/// Tasks as a table, for the incident page.
pub(crate) fn tasks_table(ctx: &Ctx, tasks: &[IncidentTask], now: anbao_model::Timestamp) -> Markup {
    html! {
        table class="data" id="incident-tasks" {
            thead { tr { th { (ctx.t("itask.title")) } th { (ctx.t("itask.assignee")) } th { (ctx.t("itask.due")) } th { (ctx.t("field.status")) } } }
            tbody {
                @for t in tasks {
                    @let overdue = t.is_overdue(now);
                    tr data-task=(t.id) data-status=(t.status.as_str()) class=[overdue.then_some("overdue")] {
                        td { (t.title) }
                        td { (t.assignee) }
                        td class="nowrap" { @if let Some(d) = &t.due_at { (time(d)) } @if overdue { " " span class="badge red" data-task-overdue { (ctx.t("itask.overdue")) } } }
                        td {
                            @if ctx.can(Permission::ManageIncidents) {
                                form method="post" action={ "/incidents/" (t.incident_id) "/tasks/" (t.id) } class="inline task-move" {
                                    (ctx.csrf_field())
                                    input type="hidden" name="back" value="incident";
                                    select name="status" aria-label=(ctx.t("field.status")) {
                                        @for s in TaskStatus::ALL { option value=(s.as_str()) selected[t.status == *s] { (ctx.t(task_status_key(*s))) } }
                                    }
                                    button type="submit" { (ctx.t("itask.move")) }
                                }
                            } @else { (ctx.t(task_status_key(t.status))) }
                        }
                    }
                }
            }
        }
    }
}

/// The form that adds a task; assignees offered from the active users the
/// principal can see (any active user's name is accepted).
pub(crate) async fn task_form(
    state: &AppState,
    ctx: &Ctx,
    p: &Principal,
    id: i64,
    back: &str,
) -> Result<Markup, ApiError> {
    let filter = UserFilter { org_units: p.scope_filter(), limit: 1000, ..Default::default() };
    let users: Vec<String> =
        state.store.list_users(&filter).await?.into_iter().filter(|u| !u.disabled).map(|u| u.username).collect();
    Ok(html! {
        form method="post" action={ "/incidents/" (id) "/tasks" } id={ (back) "-task-form" } class="grid task-form" {
            (ctx.csrf_field())
            input type="hidden" name="back" value=(back);
            label class="wide" { (ctx.t("itask.title")) input name="title" required maxlength="200"; }
            label { (ctx.t("itask.assignee")) input name="assignee" list={ (back) "-assignees" } autocomplete="off"; }
            datalist id={ (back) "-assignees" } { @for u in &users { option value=(u) {} } }
            label { (ctx.t("itask.due")) " (UTC)" input name="due_at" type="datetime-local"; }
            button type="submit" { (ctx.t("itask.add")) }
        }
    })
}

pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Path(id): Path<i64>,
    Query(f): Query<Flash>,
) -> Result<Response, ApiError> {
    let i = visible(&state, &p, id).await?;
    let tasks = state.store.incident_tasks(id).await?;
    let timeline = state.store.incident_timeline(id).await?;
    let messages = state.store.incident_messages(id, MESSAGES_SHOWN).await?;
    let now = state.store.clock().now();
    let manage = ctx.can(Permission::ManageIncidents);
    let back = "board";
    // People involved: who is assigned a task, and who posted.
    let people: BTreeSet<&str> = tasks
        .iter()
        .map(|t| t.assignee.as_str())
        .chain(messages.iter().map(|m| m.author.as_str()))
        .filter(|n| !n.is_empty())
        .collect();
    let lines = |s: &str| html! { @for (n, line) in s.lines().enumerate() { @if n > 0 { br; } (line) } };
    let body = html! {
        (flash(&f))
        p class="actions" { a href={ "/incidents/" (id) } id="board-incident-link" { (ctx.t("incident.incident")) " #" (id) } }
        div id="board" data-board-events={ "/incidents/" (id) "/board/events" } {
            section class="card" id="board-situation" data-board-part {
                h2 { (i.title) }
                dl {
                    dt { (ctx.t("incident.level")) } dd id="board-level" { (level_badge(&ctx, i.level)) }
                    dt { (ctx.t("field.status")) } dd id="board-status" data-status=(i.status.as_str()) { (ctx.t(status_key(i.status))) }
                    dt { (ctx.t("incident.report_by")) } dd id="board-clock" {
                        (countdown(&ctx, now, i.report_by.as_deref(), i.status == IncidentStatus::Closed))
                        @if i.report_immediately { " " span class="badge red" { (ctx.t("incident.immediately")) } }
                    }
                    @if !i.summary.is_empty() { dt { (ctx.t("incident.summary")) } dd id="board-summary" { (lines(&i.summary)) } }
                    dt { (ctx.t("board.updated")) } dd id="board-updated" { (time(&i.updated_at)) }
                }
            }
            div class="board-grid" {
                section class="card" id="board-people" data-board-part {
                    h2 { (ctx.t("board.people")) }
                    @if people.is_empty() { p class="small" { "—" } }
                    ul { @for name in &people { li data-person=(name) { (name) } } }
                }
                section class="card wide" id="board-tasks" data-board-part {
                    h2 { (ctx.t("board.tasks")) }
                    div class="board-columns" {
                        @for s in TaskStatus::ALL {
                            @let column: Vec<&IncidentTask> = tasks.iter().filter(|t| t.status == *s).collect();
                            div class="board-column" data-status=(s.as_str()) {
                                h3 { (ctx.t(task_status_key(*s))) " " span class="small count" { (column.len()) } }
                                @for t in column { (task_card(&ctx, t, now, back)) }
                            }
                        }
                    }
                }
                @if manage {
                    section class="card" id="board-task-new" {
                        h2 { (ctx.t("itask.add")) }
                        (task_form(&state, &ctx, &p, id, back).await?)
                    }
                }
                section class="card" id="board-messages" data-board-part {
                    h2 { (ctx.t("board.messages")) }
                    ol class="messages" {
                        @for m in &messages {
                            li data-message=(m.id) {
                                span class="small" { (time(&m.created_at)) " · " strong class="author" { (m.author) } }
                                div class="body" { (lines(&m.body)) }
                            }
                        }
                    }
                }
                @if manage {
                    section class="card" id="board-message-new" {
                        form method="post" action={ "/incidents/" (id) "/messages" } id="board-message-form" class="grid" {
                            (ctx.csrf_field())
                            input type="hidden" name="back" value=(back);
                            label class="wide" { (ctx.t("board.message")) textarea name="body" rows="2" required maxlength="1000" {} }
                            button type="submit" { (ctx.t("board.post")) }
                        }
                    }
                }
                section class="card wide" id="board-timeline" data-board-part {
                    h2 { (ctx.t("board.latest_timeline")) }
                    table class="data" {
                        thead { tr { th { (ctx.t("field.time")) } th { (ctx.t("incident.entry")) } th { (ctx.t("field.actor")) } } }
                        tbody {
                            @for e in timeline.iter().rev().take(TIMELINE_SHOWN) {
                                tr data-kind=(e.kind) { td class="nowrap" { (time(&e.at)) } td class="detail" { (lines(&e.entry)) } td { (e.actor) } }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(super::page(&ctx, &format!("{} · #{} {}", ctx.t("board.board"), i.id, i.title), body))
}

/// What an open board's stream waits on.
struct BoardWatch {
    store: Store,
    id: i64,
    wake: tokio::sync::broadcast::Receiver<()>,
    closing: tokio::sync::watch::Receiver<bool>,
    /// The incident's `updated_at` as last seen, to notice changes this
    /// process was not told about.
    seen: String,
    poll: Duration,
}

impl BoardWatch {
    /// Waits for the next change; `None` ends the stream (shutdown, or the
    /// incident is gone).
    async fn next_change(&mut self) -> Option<()> {
        loop {
            if *self.closing.borrow() {
                return None;
            }
            tokio::select! {
                woken = self.wake.recv() => match woken {
                    Ok(()) | Err(RecvError::Lagged(_)) => {
                        if let Ok(i) = self.store.get_incident(self.id).await {
                            self.seen = i.updated_at;
                        }
                        return Some(());
                    }
                    Err(RecvError::Closed) => return None,
                },
                _ = self.closing.changed() => return None,
                _ = tokio::time::sleep(self.poll) => match self.store.get_incident(self.id).await {
                    Ok(i) if i.updated_at != self.seen => {
                        self.seen = i.updated_at;
                        return Some(());
                    }
                    Ok(_) => {}
                    Err(StoreError::NotFound { .. }) => return None,
                    Err(e) => tracing::warn!(incident = self.id, error = %e, "board poll"),
                },
            }
        }
    }
}

/// `GET /incidents/{id}/board/events`: one `change` event per change of the
/// incident (the data names nothing: the page fetches what it may see),
/// with a comment every 15 s to keep proxies from closing the stream.
pub async fn events(State(state): State<AppState>, p: Principal, Path(id): Path<i64>) -> Result<Response, ApiError> {
    let i = visible(&state, &p, id).await?;
    let (wake, closing) = state.board.subscribe(id);
    let poll = state.config.board_poll_interval;
    let watch = BoardWatch { store: state.store.clone(), id, wake, closing, seen: i.updated_at, poll };
    let stream = futures_util::stream::unfold(watch, |mut w| async move {
        w.next_change().await?;
        Some((Ok::<_, Infallible>(Event::default().event("change").data("incident")), w))
    });
    let mut res = Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))).into_response();
    // Reverse proxies (nginx) would otherwise hold events back in a buffer.
    res.headers_mut().insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(res)
}

pub async fn create_task(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    FormBody(raw): FormBody<Vec<(String, String)>>,
) -> Result<Response, FormError> {
    visible(&state, &p, id).await?;
    let back = back_to(id, &raw);
    let due_at = parse_due(form_value(&raw, "due_at")).or_bounce(&back)?;
    let kind = match form_value(&raw, "kind").trim() {
        "" => anbao_model::incident::TaskKind::Task,
        s => s.parse::<anbao_model::incident::TaskKind>().map_err(|e| format!("kind: {e}")).or_bounce(&back)?,
    };
    let draft = TaskDraft {
        title: form_value(&raw, "title").to_owned(),
        assignee: form_value(&raw, "assignee").to_owned(),
        due_at,
        kind,
    };
    after_change(state.store.create_incident_task(&p.actor(&client), id, &draft).await, &back, ctx.t("saved"))
}

pub async fn update_task(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path((id, task_id)): Path<(i64, i64)>,
    FormBody(raw): FormBody<Vec<(String, String)>>,
) -> Result<Response, FormError> {
    visible(&state, &p, id).await?;
    let back = back_to(id, &raw);
    let status =
        form_value(&raw, "status").trim().parse::<TaskStatus>().map_err(|e| format!("status: {e}")).or_bounce(&back)?;
    let patch = TaskPatch { status: Some(status), ..Default::default() };
    after_change(state.store.update_incident_task(&p.actor(&client), id, task_id, &patch).await, &back, ctx.t("saved"))
}

pub async fn post_message(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    FormBody(raw): FormBody<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    visible(&state, &p, id).await?;
    let back = back_to(id, &raw);
    let body = form_value(&raw, "body").replace("\r\n", "\n");
    after_change(state.store.post_incident_message(&p.actor(&client), id, &body).await, &back, ctx.t("saved"))
}
