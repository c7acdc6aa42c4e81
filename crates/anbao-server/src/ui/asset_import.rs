//! The asset import page: upload a CSV (UTF-8 or GBK), JSON or nmap XML
//! file, preview what would change (dry run), then import all or nothing.

use axum::extract::{Multipart, State};
use axum::response::Response;
use maud::{Markup, html};

use super::{Ctx, unit_options};
use crate::AppState;
use crate::api::asset_import::{ImportQuery, ImportResult, run_import};
use crate::auth::{ClientAddr, Principal};
use crate::error::ApiError;

fn form(ctx: &Ctx, p: &Principal, units: &[anbao_model::OrgUnit]) -> Markup {
    let csrf = p.csrf().to_owned();
    html! {
        form method="post" action={ "/govern/assets/import?_csrf=" (csrf) } enctype="multipart/form-data" id="asset-import" class="grid" {
            label class="wide" { (ctx.t("import.file")) input type="file" name="file" required; }
            label { (ctx.t("import.format")) select name="format" {
                option value="auto" { (ctx.t("import.auto")) } option value="csv" { "CSV" } option value="json" { "JSON" } option value="nmap" { "nmap XML" } } }
            label class="wide" { (ctx.t("import.mapping")) input name="mapping" placeholder=r#"{"name": "系统名称", "responsible_person": "负责人"}"#; }
            label { (ctx.t("import.nmap_unit")) select name="org_unit" { option value="" { "—" } (unit_options(units, &p.scope, None)) } }
            label { (ctx.t("field.responsible_department")) select name="responsible_department" { option value="" { "—" } (unit_options(units, &p.scope, None)) } }
            label { (ctx.t("field.responsible_person")) input name="responsible_person"; }
            label class="check" { input type="checkbox" name="dry_run" value="1" checked; (ctx.t("import.dry_run")) }
            button type="submit" { (ctx.t("import.run")) }
        }
    }
}

fn result_view(ctx: &Ctx, r: &ImportResult) -> Markup {
    let class = if !r.errors.is_empty() { "flash error" } else { "flash ok" };
    html! {
        div class=(class) id="import-result" {
            @if r.committed { (ctx.t("import.committed")) } @else if r.errors.is_empty() { (ctx.t("import.preview")) } @else { (ctx.t("import.rejected")) }
            " · " (r.format) " · " (r.encoding)
            " · " (ctx.t("import.created")) " " span id="import-created" { (r.created) }
            " · " (ctx.t("import.updated")) " " span id="import-updated" { (r.updated) }
            " · " (ctx.t("import.unchanged")) " " span id="import-unchanged" { (r.unchanged) }
        }
        @if !r.errors.is_empty() {
            table class="data" id="import-errors" {
                thead { tr { th { (ctx.t("import.line")) } th { (ctx.t("field.object")) } th { (ctx.t("import.problem")) } } }
                tbody { @for e in &r.errors { tr { td { (e.line) } td { code { (e.field.clone().unwrap_or_default()) } } td { (e.message) } } } }
            }
        }
        @if !r.ignored_columns.is_empty() {
            p class="small" { (ctx.t("import.ignored")) " " @for c in &r.ignored_columns { code { (c) } " " } }
        }
        @if !r.rows.is_empty() {
            table class="data" id="import-rows" {
                thead { tr { th { (ctx.t("import.line")) } th { (ctx.t("field.name")) } th { (ctx.t("field.action")) } } }
                tbody {
                    @for row in r.rows.iter().take(500) {
                        tr { td { (row["line"]) } td { (row["name"].as_str().unwrap_or_default()) } td { code { (row["action"].as_str().map(str::to_owned).unwrap_or_else(|| row["action"].to_string())) } } }
                    }
                }
            }
        }
    }
}

pub async fn page(State(state): State<AppState>, ctx: Ctx, p: Principal) -> Result<Response, ApiError> {
    let units = state.store.list_org_units().await?;
    let body = html! {
        p { (ctx.t("import.help")) " " a href="/api/v1/assets/export?format=csv" { (ctx.t("import.template")) } }
        section class="card" { (form(&ctx, &p, &units)) }
    };
    Ok(super::page(&ctx, ctx.t("nav.asset_import"), body))
}

pub async fn upload(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    mut multipart: Multipart,
) -> Result<Response, ApiError> {
    let mut file = Vec::new();
    let mut q = ImportQuery { dry_run: Some(false), ..ImportQuery::default() };
    let bad = |e: axum::extract::multipart::MultipartError| ApiError::bad_request(format!("upload: {e}"));
    while let Some(field) = multipart.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "file" {
            file = field.bytes().await.map_err(bad)?.to_vec();
            continue;
        }
        let text = field.text().await.map_err(bad)?;
        let value = Some(text.clone()).filter(|t| !t.trim().is_empty());
        match name.as_str() {
            "format" => q.format = value,
            "mapping" => q.mapping = value,
            "org_unit" => q.org_unit = value,
            "responsible_department" => q.responsible_department = value,
            "responsible_person" => q.responsible_person = value,
            "dry_run" => q.dry_run = Some(true),
            _ => {}
        }
    }
    let units = state.store.list_org_units().await?;
    let outcome = if file.is_empty() {
        html! { div class="flash error" { (ctx.t("import.no_file")) } }
    } else {
        match run_import(&state, &p, &client, &q, &file).await {
            Ok(r) => result_view(&ctx, &r),
            Err(e) => html! { div class="flash error" id="import-result" { (e.message) } },
        }
    };
    let body = html! {
        (outcome)
        section class="card" { (form(&ctx, &p, &units)) }
    };
    Ok(super::page(&ctx, ctx.t("nav.asset_import"), body))
}
