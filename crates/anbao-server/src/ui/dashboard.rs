//! The dashboard: what is in the platform at a glance, and recent activity.

use anbao_model::Permission;
use anbao_store::AuditFilter;
use axum::extract::State;
use axum::response::Response;
use maud::html;

use super::{Ctx, chart};
use crate::AppState;
use crate::auth::Principal;
use crate::error::ApiError;

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
