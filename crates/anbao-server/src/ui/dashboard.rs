//! The dashboard: what is in the platform at a glance, and recent activity.

use anbao_model::Permission;
use anbao_model::incident::IncidentLevel;
use anbao_store::AuditFilter;
use axum::extract::State;
use axum::response::Response;
use maud::html;

use super::incidents::{human_duration, level_key};
use super::{Ctx, chart};
use crate::AppState;
use crate::auth::Principal;
use crate::error::ApiError;

/// Days of incident history the dashboard's figures and charts cover.
const DASHBOARD_DAYS: i64 = 182;

/// Incident handling at a glance: open incidents by level, MTTA / MTTC /
/// MTTR (mean and median), initial-report deadlines, incidents per week by
/// level and handling times per month. Exercises are not counted.
fn incident_metrics(ctx: &Ctx, m: &anbao_store::IncidentMetrics) -> maud::Markup {
    let levels: Vec<IncidentLevel> = IncidentLevel::ALL.iter().rev().copied().collect();
    let series: Vec<chart::Series> = levels
        .iter()
        .map(|l| chart::Series { key: l.as_str().to_owned(), label: ctx.t(level_key(*l)).to_owned() })
        .collect();
    let weekly: Vec<(String, Vec<i64>)> = m
        .weekly
        .iter()
        .map(|w| {
            let label = w.week.get(5..).unwrap_or(&w.week).to_owned();
            (label, levels.iter().map(|l| w.by_level.get(l.as_str()).copied().unwrap_or(0)).collect())
        })
        .collect();
    let step_series: Vec<chart::Series> = [("mtta", "dash.mtta"), ("mttc", "dash.mttc"), ("mttr", "dash.mttr")]
        .iter()
        .map(|(k, l)| chart::Series { key: (*k).to_owned(), label: ctx.t(l).to_owned() })
        .collect();
    let hours = |t: &anbao_store::HandlingTime| t.mean_seconds.map(|s| s / 3600.0);
    let monthly: Vec<(String, Vec<Option<f64>>)> = m
        .monthly
        .iter()
        .map(|mt| (mt.month.clone(), vec![hours(&mt.acknowledge), hours(&mt.contain), hours(&mt.resolve)]))
        .collect();
    let figure = |key: &str, label: &'static str, t: &anbao_store::HandlingTime| {
        html! {
            div class="card stat" data-metric=(key) data-count=(t.count) {
                span class="n" data-mean=[t.mean_seconds] { @match t.mean_seconds { Some(s) => (human_duration(s)), None => "—" } }
                span { (ctx.t(label)) }
                span class="small" data-median=[t.median_seconds] {
                    (ctx.t("dash.median")) " " @match t.median_seconds { Some(s) => (human_duration(s)), None => "—" }
                    " · n=" (t.count)
                }
            }
        }
    };
    let open_total: i64 = m.open_by_level.values().sum();
    html! {
        section class="card" id="incident-metrics" data-from=(m.from) data-to=(m.to) {
            h2 { (ctx.t("dash.incidents")) }
            p class="small" { (ctx.t("dash.incidents_window")) " · " (ctx.t("dash.exercises_excluded")) }
            div class="cards" {
                a class="card stat" href="/incidents?status=open" id="open-incidents" data-open=(open_total) {
                    span class="n" { (open_total) } span { (ctx.t("dash.open_incidents")) }
                    span class="small" {
                        @for l in &levels {
                            @let n = m.open_by_level.get(l.as_str()).copied().unwrap_or(0);
                            @if n > 0 { span data-open-level=(l.as_str()) { (ctx.t(level_key(*l))) " " (n) } " " }
                        }
                    }
                }
                (figure("mtta", "dash.mtta", &m.acknowledge))
                (figure("mttc", "dash.mttc", &m.contain))
                (figure("mttr", "dash.mttr", &m.resolve))
                div class="card stat" id="report-deadlines" data-met=(m.deadlines.met) data-missed=(m.deadlines.missed) data-pending=(m.deadlines.pending) {
                    span class="n" { (m.deadlines.met) " / " (m.deadlines.met + m.deadlines.missed) }
                    span { (ctx.t("dash.deadlines_met")) }
                    span class="small" { (ctx.t("dash.deadlines_missed")) " " (m.deadlines.missed) " · " (ctx.t("dash.deadlines_pending")) " " (m.deadlines.pending) }
                }
            }
            div id="incidents-per-week" {
                (chart::stacked_bars(ctx.t("dash.incidents_per_week"), &series, &weekly, 4))
            }
            div id="handling-per-month" {
                (chart::grouped_bars(ctx.t("dash.handling_per_month"), &step_series, &monthly, |h| format!("{h:.1} h")))
            }
        }
    }
}

pub async fn page(State(state): State<AppState>, ctx: Ctx, p: Principal) -> Result<Response, ApiError> {
    let store = &state.store;
    let units = store.list_org_units().await?;
    let users = store
        .list_users(&anbao_store::UserFilter { org_units: p.scope_filter(), limit: 10_000, ..Default::default() })
        .await?;
    let read_audit = p.role.allows(Permission::ReadAudit);
    let (activity, recent) = if read_audit {
        let per_day = store.audit_per_day(14).await?;
        let recent =
            store.list_audit(&AuditFilter { org_units: p.scope_filter(), limit: 8, ..Default::default() }).await?;
        (per_day, recent)
    } else {
        (Vec::new(), Vec::new())
    };
    let deadlines: Vec<crate::api::network_units::DueView> = if p.role.allows(Permission::ReadGovern) {
        crate::api::network_units::deadlines_for(&state, &p)
            .await?
            .iter()
            .map(|(u, d)| crate::api::network_units::due_view(u, d))
            .filter(|d| d.status != "upcoming")
            .collect()
    } else {
        Vec::new()
    };
    let overdue_tasks = if p.role.allows(Permission::ReadGovern) {
        let today = anbao_store::date_text(store.clock().now().date());
        store
            .list_tasks(p.scope_filter().as_deref())
            .await?
            .into_iter()
            .filter(|t| t.status == "open" && t.due_on < today)
            .count()
    } else {
        0
    };
    // Plans are readable by every signed-in role.
    let overdue_reviews = store.count_overdue_plan_reviews().await?;
    let incidents = if p.role.allows(Permission::ReadIncidents) {
        let now = store.clock().now();
        let from = now - time::Duration::days(DASHBOARD_DAYS);
        Some(incident_metrics(&ctx, &store.incident_metrics(p.scope_filter().as_deref(), from, now).await?))
    } else {
        None
    };
    let body = html! {
        @if overdue_reviews > 0 {
            div class="flash error" id="overdue-plan-reviews" {
                (ctx.t("dash.overdue_plan_reviews")) " " strong { (overdue_reviews) } " · " a href="/plans" { (ctx.t("nav.plans")) }
            }
        }
        @if overdue_tasks > 0 {
            div class="flash error" id="overdue-tasks" {
                (ctx.t("dash.overdue_tasks")) " " strong { (overdue_tasks) } " · " a href="/govern/tasks" { (ctx.t("nav.tasks")) }
            }
        }
        @if !deadlines.is_empty() {
            section class="card" id="dashboard-deadlines" {
                h2 { (ctx.t("dash.deadlines")) }
                (super::network_units::due_table(&ctx, &deadlines))
            }
        }
        div class="cards" {
            a class="card stat" href="/admin/org-units" { span class="n" { (units.iter().filter(|u| p.scope.contains(u.id)).count()) } span { (ctx.t("nav.org_units")) } }
            a class="card stat" href="/admin/users" { span class="n" { (users.len()) } span { (ctx.t("nav.users")) } }
            a class="card stat" href="/admin/users?role=admin" { span class="n" { (users.iter().filter(|u| u.role == anbao_model::Role::Admin && !u.disabled).count()) } span { (ctx.t("dash.active_admins")) } }
            @if read_audit {
                a class="card stat" href="/audit" { span class="n" { (store.count_audit().await?) } span { (ctx.t("dash.audit_entries")) } }
            }
        }
        @if let Some(m) = incidents { (m) }
        @if read_audit {
            section class="card" {
                h2 { (ctx.t("dash.activity")) }
                (chart::bars(ctx.t("dash.activity_caption"), &activity))
            }
            section class="card" {
                h2 { (ctx.t("dash.recent")) }
                table class="data" {
                    tbody {
                        @for e in &recent {
                            tr { td class="nowrap" title=(e.at) { (super::audit::readable_time(&e.at)) } td { (e.actor) } td { code { (e.action) } } td { (e.object_type) " " (e.object_id) } }
                        }
                    }
                }
            }
        }
        section class="card" {
            h2 { (ctx.t("dash.areas")) }
            ul class="modules" {
                li { a href="/areas/govern" { (ctx.t("area.govern")) } " — " (ctx.t("area.govern.desc")) }
                li { a href="/areas/detect" { (ctx.t("area.detect")) } " — " (ctx.t("area.detect.desc")) }
                li { a href="/areas/respond" { (ctx.t("area.respond")) } " — " (ctx.t("area.respond.desc")) }
                li { a href="/areas/protect" { (ctx.t("area.protect")) } " — " (ctx.t("area.protect.desc")) }
            }
        }
    };
    Ok(super::page(&ctx, ctx.t("nav.dashboard"), body))
}
