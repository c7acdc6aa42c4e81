//! Threat-intelligence pages (R3.5, R3.6, R8.5): search and look up
//! indicators, their provenance, feed imports with a live run page,
//! allowlists and exports. The JSON API (`api::intel`) does the work; these
//! pages render it and post plain forms.

use anbao_feeds::{ExportFormat, Format, Input, exportable_kinds};
use anbao_intel::{Category, IndicatorKind};
use anbao_model::Permission;
use axum::extract::{Multipart, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::{Ctx, Flash, FormError, OrBounce, after_change, flash, redirect_with, short_time, urlencode, user_message};
use crate::AppState;
use crate::api::intel::{
    AllowlistBody, ImportRunView, LookupResult, indicator_filter, indicator_page, lookup_list, lookup_values,
    read_upload, run_view, save_allowlist, start_import, stats_of,
};
use crate::auth::{ClientAddr, Principal};
use crate::error::ApiError;
use crate::extract::{FormBody, Path, Query};

const BACK: &str = "/intel";
const PAGE: i64 = 100;

pub fn category_key(c: Category) -> &'static str {
    match c {
        Category::BotnetCc => "intel.cat.botnet_cc",
        Category::Trojan => "intel.cat.trojan",
        Category::MobileMalware => "intel.cat.mobile_malware",
        Category::Phishing => "intel.cat.phishing",
        Category::MaliciousUrl => "intel.cat.malicious_url",
        Category::MaliciousDownload => "intel.cat.malicious_download",
        Category::Scanner => "intel.cat.scanner",
        Category::Spam => "intel.cat.spam",
        Category::Other => "intel.cat.other",
    }
}

fn match_key(how: &str) -> &'static str {
    match how {
        "exact" => "intel.match.exact",
        "parent_domain" => "intel.match.parent_domain",
        "covering_cidr" => "intel.match.covering_cidr",
        _ => "intel.match.url_prefix",
    }
}

fn status_key(status: &str) -> &'static str {
    match status {
        "running" => "intel.status.running",
        "done" => "intel.status.done",
        "interrupted" => "intel.status.interrupted",
        _ => "intel.status.failed",
    }
}

pub(crate) fn status_badge(ctx: &Ctx, status: &str) -> Markup {
    let class = match status {
        "running" => "badge",
        "done" => "badge green",
        "interrupted" => "badge amber",
        _ => "badge red",
    };
    html! { span class=(class) data-status=(status) { (ctx.t(status_key(status))) } }
}

pub(crate) fn time_or_dash(t: Option<time::OffsetDateTime>) -> String {
    t.map(|t| short_time(&t)).unwrap_or_else(|| "—".into())
}

/// Links between the intel pages (Sources only for those who manage intel:
/// the page shows feed user names and URLs).
pub(crate) fn intel_nav(ctx: &Ctx) -> Markup {
    html! {
        p class="actions" id="intel-nav" {
            a href="/intel" id="intel-indicators-link" { (ctx.t("nav.intel_indicators")) } " · "
            a href="/intel/import" id="intel-import-link" { (ctx.t("nav.intel_import")) } " · "
            a href="/intel/samples" id="intel-samples-link" { (ctx.t("nav.intel_samples")) } " · "
            a href="/intel/allowlists" id="intel-allowlists-link" { (ctx.t("nav.intel_allowlists")) } " · "
            @if ctx.can(Permission::ManageIntel) {
                a href="/intel/sources" id="intel-sources-link" { (ctx.t("nav.intel_sources")) } " · "
            }
            a href="/intel/taxii" id="intel-taxii-link" { (ctx.t("nav.intel_taxii")) } " · "
            a href="/intel/export" id="intel-export-link" { (ctx.t("nav.intel_export")) }
        }
    }
}

// ---------------------------------------------------------------------------
// /intel: search, statistics, lookup.

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    q: Option<String>,
    kind: Option<String>,
    category: Option<String>,
    source: Option<String>,
    valid: Option<String>,
    before: Option<i64>,
    /// Values to look up, one per line.
    lookup: Option<String>,
    ok: Option<String>,
    error: Option<String>,
}

pub(crate) fn lookup_table(ctx: &Ctx, results: &[LookupResult]) -> Markup {
    html! {
        table class="data" id="lookup-results" {
            thead { tr { th { (ctx.t("intel.value")) } th { (ctx.t("field.kind")) } th { (ctx.t("field.result")) } th { (ctx.t("intel.indicators")) } } }
            tbody {
                @for r in results {
                    @let outcome = if r.allowlisted { "allowlisted" } else if r.kind.is_none() { "unknown" } else if r.matched { "matched" } else { "none" };
                    tr data-value=(r.value) data-result=(outcome) {
                        td { code { (r.value) } }
                        td { (r.kind.clone().unwrap_or_else(|| "—".into())) }
                        td {
                            @if let Some(a) = &r.allowed_by {
                                span class="badge green" data-match="allowlisted" { (ctx.t("intel.allowlisted")) }
                                " " span class="small" { (a.list) ": " code { (a.entry) } }
                            } @else if r.kind.is_none() {
                                span class="badge" data-match="unknown" { (ctx.t("intel.not_indicator")) }
                            } @else if r.hits.is_empty() {
                                span class="badge" data-match="none" { (ctx.t("intel.no_match")) }
                            } @else {
                                @for h in &r.hits {
                                    div {
                                        span class="badge red" data-match=(h.how) { (ctx.t(match_key(&h.how))) }
                                        " " code { (h.listed) }
                                    }
                                }
                            }
                        }
                        td {
                            @for h in &r.hits {
                                @for i in &h.indicators {
                                    div {
                                        a href={ "/intel/indicators/" (i.indicator.id) } { (i.indicator.value) }
                                        " · " (category_label(ctx, &i.indicator.category))
                                        @if let Some(c) = i.indicator.confidence { " · " (ctx.t("intel.confidence")) " " (c) }
                                        " · " span class="small" { (i.source_names.join(", ")) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn category_label(ctx: &Ctx, name: &str) -> &'static str {
    name.parse::<Category>().map(|c| ctx.t(category_key(c))).unwrap_or("—")
}

pub async fn list(State(state): State<AppState>, ctx: Ctx, Query(q): Query<ListQuery>) -> Result<Response, ApiError> {
    let mut f = Flash { ok: q.ok.clone(), error: q.error.clone() };
    let now = crate::api::intel::now(&state);
    let valid_only = q.valid.as_deref().is_some_and(|v| !v.is_empty() && v != "false");
    let filter = match indicator_filter(
        q.q.as_deref(),
        q.kind.as_deref(),
        q.category.as_deref(),
        q.source.as_deref(),
        valid_only,
        now,
    ) {
        Ok(filter) => filter,
        Err(e) => {
            f.error = Some(e.message);
            anbao_store::IndicatorFilter::default()
        }
    };
    let (items, next) = indicator_page(&state, &filter, q.before, PAGE).await?;
    let stats = stats_of(&state).await?;
    let lookup = match q.lookup.as_deref().filter(|l| !l.trim().is_empty()) {
        None => None,
        Some(text) => match lookup_list(text.lines()) {
            Ok(values) => Some(lookup_values(&state, &values).await?.results),
            Err(e) => {
                f.error = Some(e.message);
                None
            }
        },
    };
    let chart: Vec<(String, i64)> = Category::ALL
        .iter()
        .filter_map(|c| stats.by_category.get(c.as_str()).map(|n| (ctx.t(category_key(*c)).to_owned(), *n)))
        .collect();
    let page_link = |before: Option<i64>| {
        let mut s = format!(
            "/intel?q={}&kind={}&category={}&source={}&valid={}",
            urlencode(filter.q.as_deref().unwrap_or_default()),
            filter.kind.map(|k| k.as_str()).unwrap_or_default(),
            filter.category.map(|c| c.as_str()).unwrap_or_default(),
            urlencode(filter.source.as_deref().unwrap_or_default()),
            if valid_only { "true" } else { "" },
        );
        if let Some(b) = before {
            s.push_str(&format!("&before={b}"));
        }
        s
    };
    let body = html! {
        (flash(&f))
        (intel_nav(&ctx))
        section class="card" id="intel-stats" {
            p { (ctx.t("intel.total")) " " strong id="intel-total" { (stats.total) } }
            @if !chart.is_empty() { (super::chart::hbars(ctx.t("intel.by_category"), &chart)) }
            p class="small" id="intel-index" {
                (ctx.t("intel.index")) ": " (ctx.t("intel.index_indicators")) " " (stats.index.indicators)
                " · " (ctx.t("intel.index_allowlisted")) " " (stats.index.allowlisted)
                " · " (ctx.t("intel.generation")) " " (stats.index.generation) " / " (stats.index.store_generation)
                " · " (ctx.t("intel.build_ms")) " " (stats.index.build_ms)
                " · " (ctx.t("intel.heap")) " " (stats.index.heap_bytes / 1024) " KiB"
            }
        }
        section class="card" id="intel-lookup" {
            h2 { (ctx.t("intel.lookup")) }
            form method="get" action=(BACK) id="lookup-form" {
                label { (ctx.t("intel.lookup_help"))
                    textarea name="lookup" rows="4" placeholder="www.example.com\n203.0.113.7\nhttp://example.net/login" { (q.lookup.clone().unwrap_or_default()) } }
                button type="submit" { (ctx.t("intel.lookup")) }
            }
            @if let Some(results) = &lookup { (lookup_table(&ctx, results)) }
        }
        form method="get" action=(BACK) class="filters" id="intel-filters" {
            input name="q" value=(filter.q.clone().unwrap_or_default()) placeholder=(ctx.t("intel.search"));
            select name="kind" { option value="" { (ctx.t("intel.any_kind")) }
                @for k in IndicatorKind::ALL { option value=(k.as_str()) selected[filter.kind == Some(k)] { (k.as_str()) } } }
            select name="category" { option value="" { (ctx.t("intel.any_category")) }
                @for c in Category::ALL { option value=(c.as_str()) selected[filter.category == Some(c)] { (ctx.t(category_key(c))) } } }
            input name="source" value=(filter.source.clone().unwrap_or_default()) placeholder=(ctx.t("intel.source"));
            label class="check" { input type="checkbox" name="valid" value="true" checked[valid_only]; (ctx.t("intel.valid_only")) }
            button type="submit" { (ctx.t("action.filter")) }
        }
        table class="data" id="indicators" {
            thead { tr {
                th { (ctx.t("intel.value")) } th { (ctx.t("field.kind")) } th { (ctx.t("intel.category")) }
                th { (ctx.t("intel.confidence")) } th { "TLP" } th { (ctx.t("intel.sources")) }
                th { (ctx.t("intel.last_seen")) } th { (ctx.t("intel.valid_until")) }
            } }
            tbody {
                @for i in &items {
                    tr data-indicator=(i.id) data-value=(i.value) {
                        td { a href={ "/intel/indicators/" (i.id) } { code { (i.value) } } }
                        td { (i.kind.as_str()) }
                        td { (ctx.t(category_key(i.category))) }
                        td { (i.confidence.map(|c| c.to_string()).unwrap_or_else(|| "—".into())) }
                        td { (i.tlp.map(|t| t.as_str()).unwrap_or("—")) }
                        td { (i.sources) }
                        td class="nowrap" { (time_or_dash(i.last_seen)) }
                        td class="nowrap" {
                            @match i.valid_until {
                                None => { (ctx.t("intel.no_end")) }
                                Some(t) => {
                                    (short_time(&t))
                                    @if !i.is_valid_at(now) { " " span class="badge red" { (ctx.t("intel.expired")) } }
                                }
                            }
                        }
                    }
                }
            }
        }
        p class="pager" {
            @if q.before.is_some() { a href=(page_link(None)) id="first-page" { "« " (ctx.t("intel.first_page")) } }
            @if let Some(n) = next { a href=(page_link(Some(n))) id="next-page" { (ctx.t("action.next")) " →" } }
        }
    };
    Ok(super::page(&ctx, ctx.t("nav.intel"), body))
}

// ---------------------------------------------------------------------------
// /intel/indicators/{id}

pub async fn detail(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(f): Query<Flash>,
) -> Result<Response, ApiError> {
    let i = state.store.intel_indicator(id).await?;
    let provenance = state.store.intel_provenance(id).await?;
    let samples = state.store.samples_of_indicator(id).await?;
    let now = crate::api::intel::now(&state);
    let body = html! {
        (flash(&f))
        (intel_nav(&ctx))
        section class="card" id="indicator-detail" {
            dl {
                dt { (ctx.t("intel.value")) } dd { code id="indicator-value" { (i.value) } }
                dt { (ctx.t("field.kind")) } dd { (i.kind.as_str()) }
                dt { (ctx.t("intel.category")) } dd id="indicator-category" { (ctx.t(category_key(i.category))) }
                dt { (ctx.t("intel.confidence")) } dd { (i.confidence.map(|c| c.to_string()).unwrap_or_else(|| "—".into())) }
                dt { "TLP" } dd { (i.tlp.map(|t| t.as_str()).unwrap_or("—")) }
                dt { (ctx.t("intel.first_seen")) } dd { (time_or_dash(i.first_seen)) }
                dt { (ctx.t("intel.last_seen")) } dd { (time_or_dash(i.last_seen)) }
                dt { (ctx.t("intel.valid_until")) } dd {
                    @match i.valid_until { None => { (ctx.t("intel.no_end")) } Some(t) => { (short_time(&t)) } }
                    @if !i.is_valid_at(now) { " " span class="badge red" { (ctx.t("intel.expired")) } }
                }
                dt { (ctx.t("intel.sources")) } dd { (i.sources) }
            }
            p {
                a href={ "/intel?lookup=" (urlencode(&i.value)) } { (ctx.t("intel.lookup")) }
                @if ctx.can(Permission::ReadAudit) {
                    " · " a href={ "/audit?object_type=indicator&object_id=" (i.id) } { (ctx.t("audit.history")) }
                }
            }
        }
        section class="card" {
            h2 { (ctx.t("intel.provenance")) }
            table class="data" id="provenance" {
                thead { tr {
                    th { (ctx.t("intel.source")) } th { (ctx.t("intel.external_id")) } th { (ctx.t("intel.category")) }
                    th { (ctx.t("intel.confidence")) } th { "TLP" } th { (ctx.t("intel.first_seen")) } th { (ctx.t("intel.last_seen")) }
                    th { (ctx.t("intel.valid_until")) } th { (ctx.t("intel.tags")) } th { (ctx.t("intel.context")) }
                } }
                tbody {
                    @for p in &provenance {
                        tr data-source=(p.source) {
                            td {
                                a href={ "/intel?source=" (urlencode(&p.source)) } { (p.source) }
                                @if let Some(run) = p.import_id { " " a class="small" href={ "/intel/imports/" (run) } { "#" (run) } }
                            }
                            td class="small" { code { (p.external_id) } }
                            td { (ctx.t(category_key(p.category))) }
                            td { (p.confidence.map(|c| c.to_string()).unwrap_or_else(|| "—".into())) }
                            td { (p.tlp.map(|t| t.as_str()).unwrap_or("—")) }
                            td class="nowrap" { (time_or_dash(p.first_seen)) }
                            td class="nowrap" { (time_or_dash(p.last_seen)) }
                            td class="nowrap" { @match p.valid_until { None => { (ctx.t("intel.no_end")) } Some(t) => { (short_time(&t)) } } }
                            td { @for t in &p.tags { span class="badge" { (t) } " " } }
                            td class="small" { (p.context) }
                        }
                    }
                }
            }
        }
        @if !samples.is_empty() {
            section class="card" id="indicator-samples" {
                h2 { (ctx.t("intel.linked_samples")) }
                ul {
                    @for s in &samples {
                        li data-sample=(s.id) {
                            a href={ "/intel/samples/" (s.id) } { code { (s.sha256) } }
                            " · " (s.file_type)
                            @if !s.file_name.is_empty() { " · " (s.file_name) }
                            @if !s.family.is_empty() { " · " span class="badge" { (s.family) } }
                        }
                    }
                }
            }
        }
        @if ctx.can(Permission::ManageIntel) {
            form method="post" action={ "/intel/indicators/" (i.id) "/delete" } id="delete-indicator" data-confirm=(ctx.t("confirm.delete")) {
                (ctx.csrf_field()) button type="submit" class="danger" { (ctx.t("action.delete")) }
            }
        }
    };
    Ok(super::page(&ctx, &format!("{} · {}", ctx.t("nav.intel"), i.value), body))
}

pub async fn delete(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    after_change(state.store.intel_delete_indicator(&p.actor(&client), id).await, BACK, ctx.t("deleted"))
}

// ---------------------------------------------------------------------------
// Imports.

fn import_form(ctx: &Ctx, p: &Principal) -> Markup {
    html! {
        form method="post" action={ "/intel/import?_csrf=" (p.csrf()) } enctype="multipart/form-data" id="intel-import" class="grid" {
            label class="wide" { (ctx.t("intel.import_file")) input type="file" name="file" required; }
            label { (ctx.t("import.format")) select name="format" {
                @for f in Format::ALL {
                    option value=(f.as_str()) { @if f == Format::Auto { (ctx.t("import.auto")) } @else { (f.as_str()) } }
                } } }
            label { (ctx.t("intel.default_category")) select name="category" {
                option value="" { "—" }
                @for c in Category::ALL { option value=(c.as_str()) { (ctx.t(category_key(c))) } } } }
            label { (ctx.t("intel.source_name")) input name="source" maxlength="200"; }
            label { (ctx.t("intel.value_column")) input name="value_column" placeholder="1 / url"; }
            label class="check" { input type="checkbox" name="include_non_ids" value="true"; (ctx.t("intel.include_non_ids")) }
            button type="submit" { (ctx.t("import.run")) }
        }
    }
}

fn runs_table(ctx: &Ctx, runs: &[ImportRunView]) -> Markup {
    html! {
        table class="data" id="import-runs" {
            thead { tr {
                th { "#" } th { (ctx.t("intel.source")) } th { (ctx.t("import.format")) } th { (ctx.t("intel.inputs")) }
                th { (ctx.t("field.actor")) } th { (ctx.t("field.status")) } th { (ctx.t("intel.started")) }
                th { (ctx.t("intel.accepted")) } th { (ctx.t("intel.updated")) } th { (ctx.t("intel.rejected")) }
            } }
            tbody {
                @for r in runs {
                    tr data-import=(r.id) {
                        td { a href={ "/intel/imports/" (r.id) } { "#" (r.id) } }
                        td { (r.source) } td { (r.format) } td class="small" { (r.inputs) } td { (r.actor) }
                        td { (status_badge(ctx, &r.status)) }
                        td class="nowrap" { (r.started_at) }
                        td { (r.accepted) } td { (r.updated) } td { (r.rejected) }
                    }
                }
            }
        }
    }
}

pub async fn import_page(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Query(f): Query<Flash>,
) -> Result<Response, ApiError> {
    let runs: Vec<ImportRunView> = state.store.intel_import_runs(50).await?.iter().map(ImportRunView::new).collect();
    let body = html! {
        (flash(&f))
        (intel_nav(&ctx))
        @if ctx.can(Permission::ManageIntel) {
            p { (ctx.t("intel.import_help")) }
            section class="card" { (import_form(&ctx, &p)) }
        }
        h2 { (ctx.t("intel.recent_imports")) }
        (runs_table(&ctx, &runs))
    };
    Ok(super::page(&ctx, ctx.t("nav.intel_import"), body))
}

pub async fn upload(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    multipart: Multipart,
) -> Result<Response, FormError> {
    const FORM: &str = "/intel/import";
    let (file, body) = read_upload(multipart).await.or_bounce(FORM)?;
    let options = body.options().or_bounce(FORM)?;
    let Some((name, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        return Ok(redirect_with(FORM, "error", "file: choose a non-empty feed file"));
    };
    match start_import(&state, p.actor(&client), vec![Input::Bytes { name, bytes }], options).await {
        Ok(id) => Ok(Redirect::to(&format!("/intel/imports/{id}")).into_response()),
        Err(e) if e.status.is_client_error() => Ok(redirect_with(FORM, "error", &e.message)),
        Err(e) => Err(e.into()),
    }
}

pub async fn run_page(State(state): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> Result<Response, ApiError> {
    let r = run_view(&state, id).await?;
    let running = r.status == "running";
    let here = format!("/intel/imports/{id}");
    let count = |key: &'static str, label: &'static str, value: u64| {
        html! { dt { (ctx.t(label)) } dd data-count=(key) id={ "run-" (key) } { (value) } }
    };
    let body = html! {
        (intel_nav(&ctx))
        @if running { noscript { meta http-equiv="refresh" content="2"; } }
        section class="card" id="import-run" data-import-poll={ "/api/v1/intel/imports/" (id) } data-status=(r.status) {
            p { span id="import-status" data-status=(r.status) { (status_badge(&ctx, &r.status)) } }
            @if running {
                progress id="import-progress" {}
            } @else {
                progress id="import-progress" max="1" value="1" {}
            }
            dl {
                dt { (ctx.t("intel.source")) } dd { a href={ "/intel?source=" (urlencode(&r.source)) } id="run-source" { (r.source) } }
                dt { (ctx.t("import.format")) } dd { (r.format) }
                dt { (ctx.t("intel.inputs")) } dd class="small" { (r.inputs) }
                dt { (ctx.t("field.actor")) } dd { (r.actor) }
                dt { (ctx.t("intel.started")) } dd { (r.started_at) }
                dt { (ctx.t("intel.finished")) } dd { (r.finished_at.clone().unwrap_or_else(|| "—".into())) }
                (count("accepted", "intel.accepted", r.accepted))
                (count("updated", "intel.updated", r.updated))
                (count("rejected", "intel.rejected", r.rejected))
                (count("not_matchable", "intel.not_matchable", r.not_matchable))
                (count("skipped", "intel.skipped", r.skipped))
                (count("objects", "intel.objects", r.objects))
                (count("unreadable", "intel.unreadable", r.unreadable.unwrap_or(0)))
            }
            @if !r.failure.is_empty() { div class="flash error" id="import-failure" { (ctx.t("intel.failure")) ": " (r.failure) } }
            p {
                @if running { a href=(here) id="refresh" { (ctx.t("intel.refresh")) } " · " }
                a href={ "/api/v1/intel/imports/" (id) "/rejects.csv" } id="rejects-csv" { (ctx.t("intel.rejects_csv")) }
                " (" (r.kept_rejects.unwrap_or(0)) ")"
            }
        }
    };
    Ok(super::page(&ctx, &format!("{} #{id}", ctx.t("intel.run")), body))
}

// ---------------------------------------------------------------------------
// Allowlists.

#[derive(Debug, Default, Deserialize)]
pub struct AllowlistPageQuery {
    /// Prefill the form with this list.
    edit: Option<i64>,
    ok: Option<String>,
    error: Option<String>,
}

const LIST_TYPES: [&str; 5] = anbao_store::ALLOWLIST_TYPES;

pub async fn allowlists(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<AllowlistPageQuery>,
) -> Result<Response, ApiError> {
    let lists = state.store.intel_allowlists().await?;
    let editing = q.edit.and_then(|id| lists.iter().find(|l| l.id == id));
    let manage = ctx.can(Permission::ManageIntel);
    let f = Flash { ok: q.ok, error: q.error };
    let body = html! {
        (flash(&f))
        (intel_nav(&ctx))
        p { (ctx.t("intel.allowlist_help")) }
        table class="data" id="allowlists" {
            thead { tr {
                th { (ctx.t("field.name")) } th { (ctx.t("intel.list_type")) } th { (ctx.t("intel.entry_count")) }
                th { (ctx.t("field.status")) } th { (ctx.t("field.description")) } th {}
            } }
            tbody {
                @for l in &lists {
                    tr data-allowlist=(l.id) data-name=(l.name) {
                        td { (l.name) }
                        td { code { (l.list_type) } }
                        td { (l.entries.len())
                            span class="small" { " " @for e in l.entries.iter().take(5) { code { (e) } " " } @if l.entries.len() > 5 { "…" } } }
                        td { @if l.enabled { span class="badge green" { (ctx.t("status.active")) } } @else { span class="badge" { (ctx.t("status.disabled")) } } }
                        td class="small" { (l.description) }
                        td class="nowrap" { @if manage {
                            a href={ "/intel/allowlists?edit=" (l.id) } { (ctx.t("action.edit")) } " "
                            form method="post" action={ "/intel/allowlists/" (l.id) "/delete" } class="inline" data-confirm=(ctx.t("confirm.delete")) {
                                (ctx.csrf_field()) button type="submit" class="danger" { (ctx.t("action.delete")) }
                            }
                        } }
                    }
                }
            }
        }
        @if manage {
            section class="card" {
                h2 { (ctx.t("intel.allowlist_create")) }
                form method="post" action="/intel/allowlists" id="allowlist-form" class="grid" {
                    (ctx.csrf_field())
                    label { (ctx.t("field.name")) input name="name" required maxlength="200" value=[editing.map(|l| l.name.as_str())]; }
                    label { (ctx.t("intel.list_type")) select name="list_type" {
                        @for t in LIST_TYPES { option value=(t) selected[editing.is_some_and(|l| l.list_type == t)] { (t) } } } }
                    label { (ctx.t("field.description")) input name="description" value=[editing.map(|l| l.description.as_str())]; }
                    label class="check" { input type="checkbox" name="enabled" value="true" checked[editing.is_none_or(|l| l.enabled)]; (ctx.t("intel.enabled")) }
                    label class="wide" { (ctx.t("intel.entries"))
                        textarea name="entries" rows="8" placeholder="example.com\n192.0.2.0/24" { (editing.map(|l| l.entries.join("\n")).unwrap_or_default()) } }
                    button type="submit" { (ctx.t("action.save")) }
                }
            }
        }
    };
    Ok(super::page(&ctx, ctx.t("nav.intel_allowlists"), body))
}

pub async fn save_allowlist_form(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    FormBody(raw): FormBody<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    const FORM: &str = "/intel/allowlists";
    let one = |k: &str| super::form_value(&raw, k).to_owned();
    let body = AllowlistBody {
        name: one("name"),
        list_type: Some(one("list_type")),
        description: one("description"),
        entries: one("entries").lines().map(str::to_owned).collect(),
        enabled: !one("enabled").is_empty(),
    };
    match save_allowlist(&state, &p.actor(&client), body).await {
        Ok(saved) if saved.bad_entries.is_empty() => Ok(redirect_with(FORM, "ok", ctx.t("saved"))),
        Ok(saved) => {
            let bad: Vec<String> = saved.bad_entries.iter().map(|b| format!("{} ({})", b.entry, b.reason)).collect();
            let message = format!("{} {}", ctx.t("intel.bad_entries"), bad.join("; "));
            Ok(redirect_with(&format!("{FORM}?edit={}", saved.allowlist.id), "error", &message))
        }
        Err(e) if e.status.is_client_error() => Ok(redirect_with(FORM, "error", &e.message)),
        Err(e) => Err(e),
    }
}

pub async fn delete_allowlist(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let result = state.store.intel_delete_allowlist(&p.actor(&client), id).await;
    match result {
        Ok(()) => Ok(redirect_with("/intel/allowlists", "ok", ctx.t("deleted"))),
        Err(e) => Ok(redirect_with("/intel/allowlists", "error", &user_message(e)?)),
    }
}

// ---------------------------------------------------------------------------
// Export.

pub async fn export_page(ctx: Ctx) -> Result<Response, ApiError> {
    let body = html! {
        (intel_nav(&ctx))
        section class="card" {
            form method="get" action="/api/v1/intel/export" id="intel-export" class="grid" {
                label { (ctx.t("intel.export_format")) select name="format" {
                    @for f in ExportFormat::ALL { option value=(f.as_str()) { (f.as_str()) } } } }
                label { (ctx.t("field.kind")) select name="kind" { option value="" { (ctx.t("intel.any_kind")) }
                    @for k in IndicatorKind::ALL { option value=(k.as_str()) { (k.as_str()) } } } }
                label { (ctx.t("intel.category")) select name="category" { option value="" { (ctx.t("intel.any_category")) }
                    @for c in Category::ALL { option value=(c.as_str()) { (ctx.t(category_key(c))) } } } }
                label { (ctx.t("intel.source")) input name="source"; }
                label { (ctx.t("intel.sinkhole")) input name="sinkhole" placeholder="0.0.0.0"; }
                label class="check" { input type="checkbox" name="include_expired" value="true"; (ctx.t("intel.include_expired")) }
                label class="check" { input type="checkbox" name="include_allowlisted" value="true"; (ctx.t("intel.include_allowlisted")) }
                button type="submit" { (ctx.t("intel.download")) }
            }
        }
        section class="card" {
            h2 { (ctx.t("intel.export_kinds")) }
            table class="data" id="export-kinds" {
                tbody {
                    @for f in ExportFormat::ALL {
                        tr { th { (f.as_str()) } td { @for k in exportable_kinds(f) { code { (k.as_str()) } " " } } }
                    }
                }
            }
        }
    };
    Ok(super::page(&ctx, ctx.t("nav.intel_export"), body))
}
