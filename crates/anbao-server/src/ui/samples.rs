//! The malware sample library's pages (R3.5): search and list samples,
//! upload a file or an "infected" zip (managers), a sample's hashes, type,
//! family and linked indicators, download (only for roles that may) and
//! delete. The work is `api::samples`'s.

use anbao_intel::Category;
use anbao_intel::sample::CONVENTIONAL_PASSWORD;
use anbao_model::Permission;
use axum::extract::{Multipart, State};
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;

use super::intel::{category_key, intel_nav};
use super::{Ctx, Flash, FormError, OrBounce, after_change, flash, redirect_with, short_time};
use crate::AppState;
use crate::api::samples::{add_upload, read_sample_upload};
use crate::auth::{ClientAddr, Principal};
use crate::error::ApiError;
use crate::extract::{Path, Query};

const LIST: &str = "/intel/samples";

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    q: Option<String>,
    ok: Option<String>,
    error: Option<String>,
}

/// A byte count for people: `1.2 MiB`.
fn size_text(n: i64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{n} B") } else { format!("{v:.1} {}", UNITS[unit]) }
}

fn upload_form(ctx: &Ctx, p: &Principal) -> Markup {
    html! {
        form method="post" action={ "/intel/samples?_csrf=" (p.csrf()) } enctype="multipart/form-data" id="sample-upload" class="grid" {
            label class="wide" { (ctx.t("intel.sample_file")) input type="file" name="file" required; }
            label { (ctx.t("intel.family")) input name="family" maxlength="100" placeholder="Mirai"; }
            label { (ctx.t("intel.category")) select name="category" {
                option value="" { (ctx.t("intel.sample_default_category")) }
                @for c in Category::ALL { option value=(c.as_str()) { (ctx.t(category_key(c))) } } } }
            label { (ctx.t("intel.zip_password")) input name="zip_password" placeholder=(CONVENTIONAL_PASSWORD) autocomplete="off"; }
            label class="check" { input type="checkbox" name="keep_zip" value="true"; (ctx.t("intel.keep_zip")) }
            label class="wide" { (ctx.t("intel.notes")) textarea name="notes" rows="2" maxlength="4000" {} }
            button type="submit" { (ctx.t("intel.upload_sample")) }
        }
    }
}

pub async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Query(q): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let samples = state.store.samples(q.q.as_deref(), 200).await?;
    let f = Flash { ok: q.ok.clone(), error: q.error.clone() };
    let body = html! {
        (flash(&f))
        (intel_nav(&ctx))
        p { (ctx.t("intel.samples_help")) }
        @if ctx.can(Permission::ManageIntel) {
            section class="card" { (upload_form(&ctx, &p)) }
        }
        form method="get" action=(LIST) class="filters" id="sample-search" {
            input name="q" value=(q.q.clone().unwrap_or_default()) placeholder=(ctx.t("intel.sample_search"));
            button type="submit" { (ctx.t("action.filter")) }
        }
        table class="data" id="samples" {
            thead { tr {
                th { "SHA-256" } th { (ctx.t("intel.file_type")) } th { (ctx.t("intel.size")) }
                th { (ctx.t("intel.family")) } th { (ctx.t("intel.file_name")) } th { (ctx.t("intel.added")) }
            } }
            tbody {
                @for s in &samples {
                    tr data-sample=(s.id) data-sha256=(s.sha256) {
                        td { a href={ "/intel/samples/" (s.id) } { code class="small" { (s.sha256) } } }
                        td { code { (s.file_type) } }
                        td class="nowrap" { (size_text(s.size)) }
                        td { (s.family) }
                        td class="small" { (s.file_name) }
                        td class="nowrap" { (short_time(&s.created_at)) }
                    }
                }
            }
        }
    };
    Ok(super::page(&ctx, ctx.t("nav.intel_samples"), body))
}

pub async fn upload(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    multipart: Multipart,
) -> Result<Response, FormError> {
    let form = read_sample_upload(multipart).await.or_bounce(LIST)?;
    match add_upload(&state, &p, &client, form).await.as_deref() {
        Ok([one]) => {
            let key = if one.created { "intel.sample_added" } else { "intel.sample_known" };
            Ok(redirect_with(&format!("/intel/samples/{}", one.sample.sample.id), "ok", ctx.t(key)))
        }
        Ok(added) => {
            let new = added.iter().filter(|a| a.created).count();
            let message = format!("{} {new} / {}", ctx.t("intel.samples_added"), added.len());
            Ok(redirect_with(LIST, "ok", &message))
        }
        Err(e) if e.status.is_client_error() => Ok(redirect_with(LIST, "error", &e.message)),
        Err(e) => Err(ApiError { status: e.status, message: e.message.clone(), field: e.field.clone() }.into()),
    }
}

pub async fn detail(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(f): Query<Flash>,
) -> Result<Response, ApiError> {
    let s = state.store.sample(id).await?;
    let indicators = state.store.intel_indicators_by_ids(&s.indicator_ids).await?;
    let body = html! {
        (flash(&f))
        (intel_nav(&ctx))
        section class="card" id="sample-detail" data-sample=(s.id) {
            dl {
                dt { "SHA-256" } dd { code id="sample-sha256" { (s.sha256) } }
                dt { "SHA-1" } dd { code id="sample-sha1" { (s.sha1) } }
                dt { "MD5" } dd { code id="sample-md5" { (s.md5) } }
                dt { (ctx.t("intel.file_type")) } dd { code id="sample-type" { (s.file_type) } }
                dt { (ctx.t("intel.size")) } dd id="sample-size" data-bytes=(s.size) { (size_text(s.size)) @if s.size >= 1024 { " (" (s.size) " B)" } }
                dt { (ctx.t("intel.file_name")) } dd id="sample-name" { (s.file_name) }
                dt { (ctx.t("intel.family")) } dd id="sample-family" { (s.family) }
                dt { (ctx.t("intel.notes")) } dd id="sample-notes" class="pre" { (s.notes) }
                dt { (ctx.t("intel.added")) } dd { (short_time(&s.created_at)) " · " (s.created_by) }
            }
            p {
                @if ctx.can(Permission::DownloadSamples) {
                    a class="button" id="sample-download" href={ "/api/v1/intel/samples/" (s.id) "/download" } download { (ctx.t("intel.download_sample")) }
                    " " span class="small" { (ctx.t("intel.download_help")) }
                }
                @if ctx.can(Permission::ReadAudit) {
                    " · " a href={ "/audit?object_type=sample&object_id=" (s.id) } { (ctx.t("audit.history")) }
                }
            }
        }
        section class="card" {
            h2 { (ctx.t("intel.linked_indicators")) }
            table class="data" id="sample-indicators" {
                thead { tr { th { (ctx.t("intel.value")) } th { (ctx.t("field.kind")) } th { (ctx.t("intel.category")) } } }
                tbody {
                    @for i in &indicators {
                        tr data-indicator=(i.id) {
                            td { a href={ "/intel/indicators/" (i.id) } { code { (i.value) } } }
                            td { (i.kind.as_str()) }
                            td { (ctx.t(category_key(i.category))) }
                        }
                    }
                }
            }
        }
        @if ctx.can(Permission::ManageIntel) {
            form method="post" action={ "/intel/samples/" (s.id) "/delete" } id="delete-sample" data-confirm=(ctx.t("confirm.delete")) {
                (ctx.csrf_field()) button type="submit" class="danger" { (ctx.t("action.delete")) }
            }
        }
    };
    Ok(super::page(
        &ctx,
        &format!("{} · {}", ctx.t("intel.sample"), s.sha256.chars().take(16).collect::<String>()),
        body,
    ))
}

pub async fn delete(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    match state.store.delete_sample(&p.actor(&client), id).await {
        Ok(()) => Ok(redirect_with(LIST, "ok", ctx.t("deleted"))),
        result @ Err(_) => after_change(result, LIST, ""),
    }
}
