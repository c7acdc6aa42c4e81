//! Remote intelligence sources (issue #4, R3.5): the TAXII collections,
//! MISP feeds and URLs pulled on a schedule, with their last pull, status
//! and cursor; "pull now", delete, and a form to add one (admins only, see
//! `api::intel_sources`). Passwords go in and never come out.

use anbao_intel::Category;
use anbao_model::Role;
use anbao_store::{IntelSource, SOURCE_FORMATS, SourceKind};
use axum::extract::State;
use axum::response::Response;
use maud::{Markup, html};

use super::intel::{category_key, intel_nav, time_or_dash};
use super::{Ctx, Flash, FormError, OrBounce, after_change, flash, form_value, redirect_with};
use crate::AppState;
use crate::api::intel_sources::{CreateSource, UpdateSource, may_create, start_pull};
use crate::auth::{ClientAddr, Principal};
use crate::error::ApiError;
use crate::extract::{FormBody, Path, Query};

const PAGE: &str = "/intel/sources";

const INTERVAL_ERROR: &str = "interval_minutes: a whole number of minutes";

/// The form's interval: empty is 0 (on demand only); `None` when it is no number.
fn interval_of(text: &str) -> Option<i64> {
    match text.trim() {
        "" => Some(0),
        text => text.parse().ok(),
    }
}

fn status_badge(ctx: &Ctx, source: &IntelSource) -> Markup {
    let s = source.last_status.as_str();
    let (class, key) = if s.is_empty() {
        ("badge", "intel.pull_never")
    } else if s == "running" {
        ("badge", "intel.status.running")
    } else if s == "ok" {
        ("badge green", "intel.pull_ok")
    } else if s == "not_modified" {
        ("badge green", "intel.pull_not_modified")
    } else if s.starts_with("partial") {
        ("badge", "intel.pull_partial")
    } else {
        ("badge red", "intel.status.failed")
    };
    html! {
        span class=(class) data-status=(s.split(':').next().unwrap_or_default()) { (ctx.t(key)) }
        @if s.contains(':') { div class="small pull-detail" { (s) } }
    }
}

fn create_form(ctx: &Ctx) -> Markup {
    html! {
        form method="post" action=(PAGE) id="source-form" class="grid" autocomplete="off" {
            (ctx.csrf_field())
            label { (ctx.t("field.name")) input name="name" required maxlength="100"; }
            label { (ctx.t("intel.source_kind")) select name="kind" {
                @for k in SourceKind::ALL { option value=(k.as_str()) { (ctx.t(kind_key(k))) } } } }
            label class="wide" { "URL" input name="url" required type="url" placeholder="https://taxii.example/api1/"; }
            label { (ctx.t("intel.collection_id")) input name="collection_id" maxlength="200"; }
            label { (ctx.t("intel.username")) input name="username" maxlength="200" autocomplete="off"; }
            label { (ctx.t("intel.password")) input name="password" type="password" maxlength="1000" autocomplete="new-password"; }
            label { (ctx.t("intel.interval_minutes")) input name="interval_minutes" type="number" min="0" value="0"; }
            label { (ctx.t("intel.default_category")) select name="category" {
                option value="" { "—" }
                @for c in Category::ALL { option value=(c.as_str()) { (ctx.t(category_key(c))) } } } }
            label { (ctx.t("import.format")) select name="format" {
                @for f in SOURCE_FORMATS { option value=(f) { (f) } } } }
            label class="check" { input type="checkbox" name="include_non_ids" value="true"; (ctx.t("intel.include_non_ids")) }
            label class="check" { input type="checkbox" name="enabled" value="true" checked; (ctx.t("intel.enabled")) }
            p class="small wide" { (ctx.t("intel.source_help")) }
            button type="submit" { (ctx.t("action.create")) }
        }
    }
}

fn kind_key(k: SourceKind) -> &'static str {
    match k {
        SourceKind::Taxii => "intel.kind.taxii",
        SourceKind::MispFeed => "intel.kind.misp_feed",
        SourceKind::Url => "intel.kind.url",
    }
}

pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Query(f): Query<Flash>,
) -> Result<Response, ApiError> {
    let sources = state.store.intel_sources().await?;
    let body = html! {
        (flash(&f))
        (intel_nav(&ctx))
        table class="data" id="intel-sources" {
            thead { tr {
                th { (ctx.t("field.name")) } th { (ctx.t("intel.source_kind")) } th { "URL" }
                th { (ctx.t("intel.interval_minutes")) } th { (ctx.t("intel.last_pull")) } th { (ctx.t("field.status")) }
                th { (ctx.t("intel.cursor")) } th { (ctx.t("intel.last_import")) } th {}
            } }
            tbody {
                @for s in &sources {
                    tr data-source=(s.id) data-name=(s.name) {
                        td { (s.name) @if !s.enabled { " " span class="badge" { (ctx.t("status.disabled")) } } }
                        td { (ctx.t(kind_key(s.kind))) }
                        td class="small" {
                            code { (s.url) }
                            @if !s.collection_id.is_empty() { div { (ctx.t("intel.collection_id")) ": " code { (s.collection_id) } } }
                            @if !s.username.is_empty() || s.has_password {
                                div { (ctx.t("intel.username")) ": " (s.username)
                                    @if s.has_password { " · " span class="badge" data-has-password="true" { (ctx.t("intel.has_password")) } } }
                            }
                        }
                        td { @if s.interval_minutes == 0 { (ctx.t("intel.on_demand")) } @else { (s.interval_minutes) } }
                        td class="nowrap" { (time_or_dash(s.last_pull_at)) }
                        td class="source-status" { (status_badge(&ctx, s)) }
                        td class="small" { code class="cursor" { (s.cursor.chars().take(80).collect::<String>()) @if s.cursor.chars().count() > 80 { "…" } } }
                        td { @if let Some(run) = s.last_import_id { a href={ "/intel/imports/" (run) } { "#" (run) } } @else { "—" } }
                        td class="nowrap" {
                            a href={ (PAGE) "/" (s.id) } class="edit-source" { (ctx.t("action.edit")) } " "
                            form method="post" action={ (PAGE) "/" (s.id) "/pull" } class="inline pull-source" {
                                (ctx.csrf_field()) button type="submit" { (ctx.t("intel.pull_now")) }
                            }
                            " "
                            form method="post" action={ (PAGE) "/" (s.id) "/delete" } class="inline delete-source" data-confirm=(ctx.t("confirm.delete")) {
                                (ctx.csrf_field()) button type="submit" class="danger" { (ctx.t("action.delete")) }
                            }
                        }
                    }
                }
            }
        }
        section class="card" {
            h2 { (ctx.t("intel.source_create")) }
            @if p.role == Role::Admin { (create_form(&ctx)) } @else { p { (ctx.t("intel.source_admin_only")) } }
        }
    };
    Ok(super::page(&ctx, ctx.t("nav.intel_sources"), body))
}

pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    FormBody(raw): FormBody<Vec<(String, String)>>,
) -> Result<Response, FormError> {
    may_create(&p).or_bounce(PAGE)?;
    let one = |k: &str| form_value(&raw, k).to_owned();
    let Some(interval_minutes) = interval_of(&one("interval_minutes")) else {
        return Ok(redirect_with(PAGE, "error", INTERVAL_ERROR));
    };
    let body = CreateSource {
        name: one("name"),
        kind: one("kind"),
        url: one("url"),
        collection_id: one("collection_id"),
        username: one("username"),
        password: one("password"),
        format: one("format"),
        category: Some(one("category")),
        include_non_ids: !one("include_non_ids").is_empty(),
        interval_minutes,
        enabled: !one("enabled").is_empty(),
    };
    let draft = body.draft().or_bounce(PAGE)?;
    after_change(state.store.intel_source_create(&p.actor(&client), &draft).await, PAGE, ctx.t("saved"))
}

pub async fn pull(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    match start_pull(&state, &p, &client, id).await {
        Ok(()) => Ok(redirect_with(PAGE, "ok", ctx.t("intel.pull_started"))),
        Err(e) if e.status.is_client_error() => Ok(redirect_with(PAGE, "error", &e.message)),
        Err(e) => Err(e),
    }
}

pub async fn delete(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    after_change(state.store.intel_source_delete(&p.actor(&client), id).await, PAGE, ctx.t("deleted"))
}

/// `/intel/sources/{id}`: the source's settings in a form. Where and as whom
/// it fetches (URL, collection, user name, password) only an admin changes.
pub async fn edit(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Path(id): Path<i64>,
    Query(f): Query<Flash>,
) -> Result<Response, ApiError> {
    let s = state.store.intel_source(id).await?;
    let admin = p.role == Role::Admin;
    let body = html! {
        (flash(&f))
        (intel_nav(&ctx))
        form method="post" action={ (PAGE) "/" (s.id) } id="source-edit" class="grid" autocomplete="off" {
            (ctx.csrf_field())
            label { (ctx.t("field.name")) input name="name" required maxlength="100" value=(s.name); }
            label { (ctx.t("intel.source_kind")) input value=(ctx.t(kind_key(s.kind))) disabled; }
            label class="wide" { "URL" input name="url" required type="url" value=(s.url) disabled[!admin]; }
            label { (ctx.t("intel.collection_id")) input name="collection_id" maxlength="200" value=(s.collection_id) disabled[!admin]; }
            label { (ctx.t("intel.username")) input name="username" maxlength="200" value=(s.username) autocomplete="off" disabled[!admin]; }
            label { (ctx.t("intel.password"))
                input name="password" type="password" maxlength="1000" autocomplete="new-password" disabled[!admin]
                    placeholder=(if s.has_password { ctx.t("intel.password_keep") } else { "" }); }
            @if admin && s.has_password {
                label class="check" { input type="checkbox" name="remove_password" value="true"; (ctx.t("intel.password_remove")) }
            }
            label { (ctx.t("intel.interval_minutes")) input name="interval_minutes" type="number" min="0" value=(s.interval_minutes); }
            label { (ctx.t("intel.default_category")) select name="category" {
                option value="" { "—" }
                @for c in Category::ALL { option value=(c.as_str()) selected[s.category == Some(c)] { (ctx.t(category_key(c))) } } } }
            label { (ctx.t("import.format")) select name="format" {
                @for f in SOURCE_FORMATS { option value=(f) selected[s.format == f] { (f) } } } }
            label class="check" { input type="checkbox" name="include_non_ids" value="true" checked[s.include_non_ids]; (ctx.t("intel.include_non_ids")) }
            label class="check" { input type="checkbox" name="enabled" value="true" checked[s.enabled]; (ctx.t("intel.enabled")) }
            @if !admin { p class="small wide" { (ctx.t("intel.source_fetch_admin_only")) } }
            button type="submit" { (ctx.t("action.save")) }
        }
    };
    Ok(super::page(&ctx, &s.name, body))
}

pub async fn save(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    FormBody(raw): FormBody<Vec<(String, String)>>,
) -> Result<Response, FormError> {
    let here = format!("{PAGE}/{id}");
    let one = |k: &str| form_value(&raw, k).to_owned();
    let Some(interval_minutes) = interval_of(&one("interval_minutes")) else {
        return Ok(redirect_with(&here, "error", INTERVAL_ERROR));
    };
    let admin = p.role == Role::Admin;
    let password = if !admin {
        None
    } else if !one("remove_password").is_empty() {
        Some(String::new())
    } else {
        Some(one("password")).filter(|p| !p.is_empty())
    };
    let body = UpdateSource {
        name: Some(one("name")),
        url: admin.then(|| one("url")),
        collection_id: admin.then(|| one("collection_id")),
        username: admin.then(|| one("username")),
        password,
        format: Some(one("format")),
        category: Some(one("category")),
        include_non_ids: Some(!one("include_non_ids").is_empty()),
        interval_minutes: Some(interval_minutes),
        enabled: Some(!one("enabled").is_empty()),
    };
    let patch = body.patch(&p).or_bounce(&here)?;
    after_change(state.store.intel_source_update(&p.actor(&client), id, &patch).await, PAGE, ctx.t("saved"))
}
