//! `/flows/mitigations` (issue #6): the BGP rules the flow pipeline asked
//! for, by state. Rules of groups in manual mode wait here for a triager
//! (admin, analyst, responder) to approve or reject them; announced (or
//! failed) rules can be withdrawn by hand. Each button is a form with the
//! CSRF field; the store audits each change, and the mitigation executor
//! carries approvals and withdrawals out within a second or two. A failed
//! announcement or withdrawal shows its error, how many times it failed and
//! when the executor tries again (or that an announcement is no longer
//! tried because its attack has ended).

use anbao_model::Permission;
use anbao_store::{MITIGATION_STATES, Mitigation, MitigationChange};
use axum::extract::State;
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;

use super::alerts::alerts_nav;
use super::{Ctx, Flash, after_change, flash};
use crate::AppState;
use crate::api::mitigations::state_param;
use crate::auth::{ClientAddr, Principal};
use crate::error::ApiError;
use crate::extract::{FormBody, Path, Query};

const LIST: &str = "/flows/mitigations";

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    state: Option<String>,
    ok: Option<String>,
    error: Option<String>,
}

fn state_key(s: &str) -> &'static str {
    match s {
        "proposed" => "mitigations.state.proposed",
        "announced" => "mitigations.state.announced",
        "failed" => "mitigations.state.failed",
        "withdrawn" => "mitigations.state.withdrawn",
        _ => "mitigations.state.rejected",
    }
}

fn change_of(failed_change: &str) -> MitigationChange {
    if failed_change == "withdraw" { MitigationChange::Withdraw } else { MitigationChange::Announce }
}

fn failures_key(failed_change: &str) -> &'static str {
    match change_of(failed_change) {
        MitigationChange::Announce => "mitigations.announce_failures",
        MitigationChange::Withdraw => "mitigations.withdraw_failures",
    }
}

fn row(ctx: &Ctx, m: &Mitigation, triage: bool) -> Markup {
    html! {
        tr data-mitigation=(m.id) data-state=(m.state) data-pending=(m.pending) {
            td { (m.id) }
            td { code { (m.victim) } br; @if let Some(a) = m.alert_id { a href={ "/alerts/" (a) } { "#" (a) } } }
            td { (m.group_name) }
            td { (m.kind) " · " (m.mode) }
            td { code class="rule" { (m.announce_line) } }
            td class="state" {
                (ctx.t(state_key(&m.state)))
                @if !m.pending.is_empty() { " (" (ctx.t("mitigations.pending")) " " (m.pending) ")" }
                @if !m.error.is_empty() { br; small class="error" { (m.error) } }
                @if let Some(at) = &m.retry_at {
                    br; small class="retry" data-failures=(m.failures(change_of(&m.failed_change))) {
                        (m.failures(change_of(&m.failed_change))) " " (ctx.t(failures_key(&m.failed_change))) " " (at)
                    }
                } @else if m.announce_retry_stopped() {
                    br; small class="retry" data-failures=(m.announce_failures) {
                        (m.announce_failures) " " (ctx.t("mitigations.announce_retry_stopped"))
                    }
                }
            }
            td {
                small {
                    (m.proposed_at)
                    @if let Some(by) = &m.approved_by { br; (ctx.t("mitigations.approved_by")) " " (by) }
                    @if let Some(at) = &m.withdraw_at { br; (ctx.t("mitigations.withdraw_at")) " " (at) }
                    @if let Some(by) = &m.withdrawn_by { br; (ctx.t("mitigations.withdrawn_by")) " " (by) " (" (m.withdraw_reason) ")" }
                    @if let Some(by) = &m.rejected_by { br; (ctx.t("mitigations.rejected_by")) " " (by) @if !m.reject_reason.is_empty() { ": " (m.reject_reason) } }
                }
            }
            td class="actions" {
                @if triage && m.approvable() {
                    form method="post" action={ (LIST) "/" (m.id) "/approve" } {
                        (ctx.csrf_field())
                        button type="submit" class="approve" { (ctx.t("mitigations.approve")) }
                    }
                }
                @if triage && m.awaits_approval() {
                    form method="post" action={ (LIST) "/" (m.id) "/reject" } {
                        (ctx.csrf_field())
                        input type="text" name="reason" placeholder=(ctx.t("mitigations.reason")) maxlength="2000";
                        button type="submit" class="reject" { (ctx.t("mitigations.reject")) }
                    }
                }
                @if triage && m.withdrawable() {
                    form method="post" action={ (LIST) "/" (m.id) "/withdraw" } {
                        (ctx.csrf_field())
                        button type="submit" class="withdraw" { (ctx.t("mitigations.withdraw")) }
                    }
                }
            }
        }
    }
}

pub async fn list(State(state): State<AppState>, ctx: Ctx, Query(q): Query<ListQuery>) -> Result<Response, ApiError> {
    let mut f = Flash { ok: q.ok.clone(), error: q.error.clone() };
    let filter = match state_param(q.state.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            f.error = Some(e.message);
            None
        }
    };
    let rows = state.store.list_mitigations(filter, None, 500).await?;
    let triage = ctx.can(Permission::TriageAlerts);
    let body = html! {
        (alerts_nav(&ctx))
        (flash(&f))
        p { (ctx.t("mitigations.help")) }
        p class="actions" id="mitigation-states" {
            a href=(LIST) { (ctx.t("mitigations.all")) }
            @for s in MITIGATION_STATES { " · " a href={ (LIST) "?state=" (s) } { (ctx.t(state_key(s))) } }
        }
        @if rows.is_empty() {
            p id="no-mitigations" { (ctx.t("mitigations.none")) }
        } @else {
            table class="data" id="mitigations" {
                thead { tr {
                    th { "#" } th { (ctx.t("flows.victim")) } th { (ctx.t("flows.group")) } th { (ctx.t("mitigations.kind")) }
                    th { (ctx.t("mitigations.rule")) } th { (ctx.t("mitigations.state")) } th { (ctx.t("mitigations.history")) } th {}
                } }
                tbody { @for m in &rows { (row(&ctx, m, triage)) } }
            }
        }
    };
    Ok(super::page(&ctx, ctx.t("mitigations.title"), body))
}

pub async fn approve(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let result = state.store.approve_mitigation(&p.actor(&client), id).await;
    after_change(result, LIST, ctx.t("mitigations.approved"))
}

pub async fn reject(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    FormBody(raw): FormBody<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let reason = super::form_value(&raw, "reason");
    let result = state.store.reject_mitigation(&p.actor(&client), id, reason).await;
    after_change(result, LIST, ctx.t("saved"))
}

pub async fn withdraw(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let result = state.store.withdraw_mitigation(&p.actor(&client), id).await;
    after_change(result, LIST, ctx.t("mitigations.withdrawing"))
}
