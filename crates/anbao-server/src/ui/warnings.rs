//! Warning pages (issue #7, R2.4): `/warnings` (active first, a colour badge
//! per level, acknowledgement progress), `/warnings/new` and
//! `/warnings/{id}` (detail, history, recipients with their
//! acknowledgements, the caller's ack button, adjust and lift forms).

use anbao_model::Permission;
use anbao_model::asset::AssetType;
use anbao_model::clock::parse_ts;
use anbao_store::{UserFilter, WarningDraft, WarningLevel, WarningPatch};
use axum::extract::State;
use axum::response::Response;
use maud::{Markup, html};

use super::assets::type_key;
use super::{
    Ctx, Flash, FormError, OrBounce, after_change, flash, form_value, redirect_with, short_time, unit_options,
};
use crate::AppState;
use crate::api::warnings::warning_out;
use crate::auth::{ClientAddr, Principal};
use crate::error::ApiError;
use crate::extract::{FormBody, Path, Query};

const LIST: &str = "/warnings";

fn level_key(l: WarningLevel) -> &'static str {
    match l {
        WarningLevel::Red => "warning.level.red",
        WarningLevel::Orange => "warning.level.orange",
        WarningLevel::Yellow => "warning.level.yellow",
        WarningLevel::Blue => "warning.level.blue",
    }
}

fn level_badge(ctx: &Ctx, l: WarningLevel) -> Markup {
    html! { span class={ "badge " (l.as_str()) } data-level=(l.as_str()) { (ctx.t(level_key(l))) } }
}

fn status_badge(ctx: &Ctx, active: bool) -> Markup {
    if active {
        html! { span class="badge amber" data-status="issued" { (ctx.t("warning.status.issued")) } }
    } else {
        html! { span class="badge green" data-status="lifted" { (ctx.t("warning.status.lifted")) } }
    }
}

fn when(s: &str) -> String {
    parse_ts(s).map(|t| short_time(&t)).unwrap_or_else(|_| s.to_owned())
}

fn all_values<'a>(raw: &'a [(String, String)], key: &str) -> Vec<&'a str> {
    raw.iter().filter(|(k, _)| k == key).map(|(_, v)| v.trim()).filter(|v| !v.is_empty()).collect()
}

/// Regions typed as one text, separated by commas (either width) or lines.
fn regions_of(s: &str) -> Vec<String> {
    s.split([',', '，', '、', '\n']).map(|r| r.trim().to_owned()).filter(|r| !r.is_empty()).collect()
}

fn asset_types_of(raw: &[(String, String)]) -> Result<Vec<AssetType>, String> {
    all_values(raw, "scope_asset_types")
        .into_iter()
        .map(|v| v.parse::<AssetType>().map_err(|e| format!("scope_asset_types: {e}")))
        .collect()
}

fn ids_of(raw: &[(String, String)], key: &'static str) -> Result<Vec<i64>, String> {
    all_values(raw, key)
        .into_iter()
        .map(|v| v.parse::<i64>().map_err(|_| format!("{key}: {v:?} is not an id")))
        .collect()
}

fn level_select(ctx: &Ctx, current: Option<WarningLevel>) -> Markup {
    html! {
        select name="level" required {
            @for l in WarningLevel::ALL { option value=(l.as_str()) selected[current == Some(l)] { (ctx.t(level_key(l))) } }
        }
    }
}

fn asset_type_boxes(ctx: &Ctx, checked: &[AssetType]) -> Markup {
    html! {
        fieldset class="wide" { legend { (ctx.t("warning.scope_asset_types")) }
            @for t in AssetType::ALL {
                label class="check" { input type="checkbox" name="scope_asset_types" value=(t.to_string()) checked[checked.contains(t)]; " " (ctx.t(type_key(*t))) }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// /warnings

pub async fn list(State(state): State<AppState>, ctx: Ctx, Query(f): Query<Flash>) -> Result<Response, ApiError> {
    let warnings = state.store.list_warnings().await?;
    let body = html! {
        (flash(&f))
        @if ctx.can(Permission::ManageIncidents) {
            p class="actions" { a href="/warnings/new" id="new-warning" { (ctx.t("warning.new")) } }
        }
        @if warnings.is_empty() {
            p class="small" id="no-warnings" { (ctx.t("warning.none_yet")) }
        } @else {
            table class="data" id="warnings" {
                thead { tr {
                    th { "#" } th { (ctx.t("warning.level")) } th { (ctx.t("warning.title")) } th { (ctx.t("field.status")) }
                    th { (ctx.t("warning.issued_at")) } th { (ctx.t("warning.acks")) }
                } }
                tbody {
                    @for w in &warnings {
                        tr data-warning=(w.id) data-status=(w.status) {
                            td { (w.id) }
                            td { (level_badge(&ctx, w.level)) }
                            td { a href={ "/warnings/" (w.id) } { (w.title) } }
                            td { (status_badge(&ctx, w.is_active())) }
                            td class="nowrap" { (when(&w.issued_at)) }
                            td class="ack-progress" { (w.acked) "/" (w.recipients) }
                        }
                    }
                }
            }
        }
    };
    Ok(super::page(&ctx, ctx.t("nav.warnings"), body))
}

// ---------------------------------------------------------------------------
// /warnings/new

pub async fn new_form(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Query(f): Query<Flash>,
) -> Result<Response, ApiError> {
    let units = state.store.list_org_units().await?;
    let users = state.store.list_users(&UserFilter { limit: 1000, ..UserFilter::default() }).await?;
    let body = html! {
        (flash(&f))
        form method="post" action=(LIST) id="warning-form" class="grid" {
            (ctx.csrf_field())
            label { (ctx.t("warning.level")) (level_select(&ctx, Some(WarningLevel::Yellow))) }
            label class="wide" { (ctx.t("warning.title")) input name="title" required maxlength="200"; }
            label class="wide" { (ctx.t("warning.description")) textarea name="description" rows="3" maxlength="4000" {} }
            label class="wide" { (ctx.t("warning.scope_regions")) input name="scope_regions" placeholder=(ctx.t("warning.regions_hint")); }
            (asset_type_boxes(&ctx, &[]))
            label class="wide" { (ctx.t("warning.required_actions")) textarea name="required_actions" rows="3" maxlength="4000" {} }
            label { (ctx.t("warning.recipient_units")) select name="recipient_units" multiple size="6" { (unit_options(&units, &p.scope, None)) } }
            label { (ctx.t("warning.recipient_users")) select name="recipient_users" multiple size="6" {
                @for u in users.iter().filter(|u| !u.disabled) { option value=(u.id) { (u.username) " (" (u.display_name) ")" } }
            } }
            button type="submit" id="issue-warning" { (ctx.t("warning.issue")) }
        }
    };
    Ok(super::page(&ctx, ctx.t("warning.new"), body))
}

pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    FormBody(raw): FormBody<Vec<(String, String)>>,
) -> Result<Response, FormError> {
    let back = "/warnings/new";
    let one = |k: &str| form_value(&raw, k).trim().replace("\r\n", "\n");
    let parsed = (|| -> Result<WarningDraft, String> {
        Ok(WarningDraft {
            level: Some(one("level").parse().map_err(|e| format!("level: {e}"))?),
            title: one("title"),
            description: one("description"),
            scope_regions: regions_of(&one("scope_regions")),
            scope_asset_types: asset_types_of(&raw)?,
            required_actions: one("required_actions"),
            recipient_users: ids_of(&raw, "recipient_users")?,
            recipient_units: ids_of(&raw, "recipient_units")?,
        })
    })();
    let draft = parsed.or_bounce(back)?;
    match state.store.issue_warning(&p.actor(&client), &draft).await {
        Ok(w) => Ok(redirect_with(&format!("/warnings/{}", w.id), "ok", ctx.t("saved"))),
        Err(e) => Ok(redirect_with(back, "error", &super::user_message(e)?)),
    }
}

// ---------------------------------------------------------------------------
// /warnings/{id}

pub async fn detail(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Path(id): Path<i64>,
    Query(f): Query<Flash>,
) -> Result<Response, ApiError> {
    let w = state.store.get_warning(id).await?;
    let out = warning_out(&state, &p, w).await?;
    let w = &out.warning;
    let manage = ctx.can(Permission::ManageIncidents) && w.is_active();
    let base = format!("/warnings/{id}");
    let body = html! {
        (flash(&f))
        section class="card" id="warning" data-level=(w.level.as_str()) data-status=(w.status) {
            p { (level_badge(&ctx, w.level)) " " (status_badge(&ctx, w.is_active())) }
            dl {
                dt { (ctx.t("warning.description")) } dd { (w.description) }
                dt { (ctx.t("warning.scope_regions")) } dd id="scope-regions" { (w.scope_regions.join(", ")) }
                dt { (ctx.t("warning.scope_asset_types")) } dd id="scope-asset-types" {
                    @for (i, t) in w.scope_asset_types.iter().enumerate() { @if i > 0 { ", " } (ctx.t(type_key(*t))) }
                }
                dt { (ctx.t("warning.required_actions")) } dd id="required-actions" { (w.required_actions) }
                dt { (ctx.t("warning.issued_at")) } dd { (when(&w.issued_at)) " · " (w.issued_by) }
                @if let (Some(at), Some(by)) = (&w.lifted_at, &w.lifted_by) {
                    dt { (ctx.t("warning.lifted_at")) } dd id="lifted" { (when(at)) " · " (by) " · " (w.lift_reason) }
                }
            }
        }
        @if out.ack_pending {
            form method="post" action={ (base) "/ack" } id="ack-form" {
                (ctx.csrf_field())
                button type="submit" id="ack-warning" { (ctx.t("warning.ack")) }
            }
        }
        section class="card" {
            h2 { (ctx.t("warning.recipients")) " " span class="ack-progress" { (w.acked) "/" (w.recipients) } }
            table class="data" id="recipients" {
                thead { tr { th { (ctx.t("warning.recipient")) } th { (ctx.t("warning.acked_at")) } th { (ctx.t("warning.acked_by")) } } }
                tbody {
                    @for r in &out.recipient_list {
                        tr data-acked=(r.acked_at.is_some()) {
                            td { @if r.org_unit_id.is_some() { (ctx.t("warning.unit")) ": " } (r.name) }
                            td class="nowrap" { (r.acked_at.as_deref().map(when).unwrap_or_else(|| "—".to_owned())) }
                            td { (r.acked_by.clone().unwrap_or_default()) }
                        }
                    }
                }
            }
        }
        section class="card" {
            h2 { (ctx.t("warning.history")) }
            table class="data" id="history" {
                thead { tr { th { (ctx.t("warning.at")) } th { (ctx.t("warning.action")) } th { (ctx.t("warning.level")) }
                    th { (ctx.t("warning.changes")) } th { (ctx.t("warning.reason")) } th { (ctx.t("warning.by")) } } }
                tbody {
                    @for h in &out.history {
                        tr data-action=(h.action) {
                            td class="nowrap" { (when(&h.at)) }
                            td { (h.action) }
                            td { (level_badge(&ctx, h.level)) }
                            td { (h.changes) }
                            td { (h.reason) }
                            td { (h.actor) }
                        }
                    }
                }
            }
        }
        @if manage {
            section class="card" {
                h2 { (ctx.t("warning.adjust")) }
                form method="post" action={ (base) "/adjust" } id="adjust-form" class="grid" {
                    (ctx.csrf_field())
                    label { (ctx.t("warning.level")) (level_select(&ctx, Some(w.level))) }
                    label class="wide" { (ctx.t("warning.title")) input name="title" required maxlength="200" value=(w.title); }
                    label class="wide" { (ctx.t("warning.description")) textarea name="description" rows="3" maxlength="4000" { (w.description) } }
                    label class="wide" { (ctx.t("warning.scope_regions")) input name="scope_regions" value=(w.scope_regions.join(", ")); }
                    (asset_type_boxes(&ctx, &w.scope_asset_types))
                    label class="wide" { (ctx.t("warning.required_actions")) textarea name="required_actions" rows="3" maxlength="4000" { (w.required_actions) } }
                    label class="wide" { (ctx.t("warning.reason")) input name="reason" required maxlength="4000"; }
                    button type="submit" id="adjust-warning" { (ctx.t("warning.adjust")) }
                }
            }
            section class="card" {
                h2 { (ctx.t("warning.lift")) }
                form method="post" action={ (base) "/lift" } id="lift-form" {
                    (ctx.csrf_field())
                    label { (ctx.t("warning.reason")) input name="reason" required maxlength="4000"; }
                    button type="submit" id="lift-warning" { (ctx.t("warning.lift")) }
                }
            }
        }
        p { a href=(LIST) { (ctx.t("warning.back")) } }
    };
    Ok(super::page(&ctx, &format!("{} #{} {}", ctx.t("nav.warnings"), w.id, w.title), body))
}

pub async fn adjust(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    FormBody(raw): FormBody<Vec<(String, String)>>,
) -> Result<Response, FormError> {
    let back = format!("/warnings/{id}");
    let one = |k: &str| form_value(&raw, k).trim().replace("\r\n", "\n");
    let parsed = (|| -> Result<WarningPatch, String> {
        Ok(WarningPatch {
            level: Some(one("level").parse().map_err(|e| format!("level: {e}"))?),
            title: Some(one("title")),
            description: Some(one("description")),
            scope_regions: Some(regions_of(&one("scope_regions"))),
            scope_asset_types: Some(asset_types_of(&raw)?),
            required_actions: Some(one("required_actions")),
            reason: one("reason"),
        })
    })();
    let patch = parsed.or_bounce(&back)?;
    after_change(state.store.adjust_warning(&p.actor(&client), id, &patch).await, &back, ctx.t("saved"))
}

pub async fn lift(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    FormBody(raw): FormBody<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let back = format!("/warnings/{id}");
    let reason = form_value(&raw, "reason").trim().to_owned();
    after_change(state.store.lift_warning(&p.actor(&client), id, &reason).await, &back, ctx.t("saved"))
}

pub async fn ack(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let back = format!("/warnings/{id}");
    let done = state.store.ack_warning(&p.actor(&client), id, p.user_id, p.home_unit).await;
    after_change(done, &back, ctx.t("warning.acked"))
}
