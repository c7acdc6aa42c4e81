//! The evidence and observables sections of `/incidents/{id}` and their
//! forms (issue #7, R2.6): upload (multipart, the CSRF token in the action
//! URL as on the sample library), download as an attachment, delete; add an
//! observable, take them from the incident's alerts, look one up in the
//! intel store (shown inline, `?lookup=ID`) and publish it as an indicator.

use anbao_intel::{Category, IndicatorKind, Tlp};
use anbao_model::Permission;
use anbao_model::clock::parse_ts;
use anbao_store::{Incident, IncidentEvidence, IncidentObservable, ObservableDraft};
use axum::extract::{Request, State};
use axum::response::Response;
use maud::{Markup, html};

use super::intel::{category_key, lookup_table};
use super::{Ctx, FormError, OrBounce, after_change, form_value, redirect_with, short_time};
use crate::AppState;
use crate::api::incident_evidence::{
    DEFAULT_CONFIDENCE, DEFAULT_TLP, PublishRequest, add_evidence, download_response, lookup_observable, max_bytes,
    parse_kind, publish_observable, read_evidence_upload,
};
use crate::api::incidents::visible;
use crate::auth::{ClientAddr, Principal};
use crate::error::ApiError;
use crate::extract::{FormBody, Path};

fn back(id: i64, anchor: &str) -> String {
    format!("/incidents/{id}#{anchor}")
}

/// Where the form answers land: the incident page at the section.
fn redirect(id: i64, anchor: &str, key: &str, message: &str) -> Response {
    // The fragment must follow the query, so build the URL by hand.
    let mut r = redirect_with(&format!("/incidents/{id}"), key, message);
    if let Some(loc) = r.headers().get(axum::http::header::LOCATION).and_then(|v| v.to_str().ok()) {
        let with_anchor = format!("{loc}#{anchor}");
        if let Ok(v) = axum::http::HeaderValue::from_str(&with_anchor) {
            r.headers_mut().insert(axum::http::header::LOCATION, v);
        }
    }
    r
}

fn size_text(n: i64) -> String {
    match n {
        n if n >= 1 << 20 => format!("{:.1} MiB", n as f64 / f64::from(1u32 << 20)),
        n if n >= 1 << 10 => format!("{:.1} KiB", n as f64 / 1024.0),
        n => format!("{n} B"),
    }
}

/// The category an observable of `kind` most likely belongs to.
fn default_category(kind: &str) -> Category {
    match kind {
        "url" => Category::MaliciousUrl,
        "md5" | "sha1" | "sha256" => Category::Trojan,
        "email" => Category::Phishing,
        "android_package" | "cert_sha256" => Category::MobileMalware,
        _ => Category::BotnetCc,
    }
}

fn evidence_section(ctx: &Ctx, p: &Principal, state: &AppState, i: &Incident, files: &[IncidentEvidence]) -> Markup {
    let manage = ctx.can(Permission::ManageIncidents);
    let download = ctx.can(Permission::ReadSubscribers);
    let time = |t: &str| parse_ts(t).map(|t| short_time(&t)).unwrap_or_else(|_| t.to_owned());
    html! {
        section class="card" id="evidence" {
            h2 { (ctx.t("evidence.files")) }
            @if files.is_empty() { p class="small" id="evidence-empty" { (ctx.t("evidence.none")) } }
            @else {
                table class="data" id="evidence-table" {
                    thead { tr {
                        th { (ctx.t("evidence.file")) } th { (ctx.t("evidence.type")) } th { (ctx.t("evidence.size")) }
                        th { "SHA-256" } th { (ctx.t("field.description")) } th { (ctx.t("field.actor")) } th {}
                    } }
                    tbody {
                        @for e in files {
                            tr data-evidence=(e.id) data-sha256=(e.sha256) {
                                td { @if download { a href={ "/incidents/" (i.id) "/evidence/" (e.id) } class="evidence-download" download { (e.file_name) } } @else { (e.file_name) } }
                                td { (e.file_type) }
                                td class="nowrap" data-size=(e.size) { (size_text(e.size)) }
                                td { code class="small" title=(e.sha256) { (e.sha256[..16.min(e.sha256.len())]) "…" } }
                                td class="detail" { (e.description) }
                                td class="nowrap" { (e.created_by) " · " (time(&e.created_at)) }
                                td {
                                    @if manage {
                                        form method="post" action={ "/incidents/" (i.id) "/evidence/" (e.id) "/delete" } class="inline evidence-delete" {
                                            (ctx.csrf_field())
                                            button type="submit" class="danger" { (ctx.t("action.delete")) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if manage {
                form method="post" action={ "/incidents/" (i.id) "/evidence?_csrf=" (p.csrf()) } enctype="multipart/form-data" id="incident-evidence-upload" class="grid" {
                    label { (ctx.t("evidence.file")) input type="file" name="file" required; }
                    label class="wide" { (ctx.t("field.description")) input name="description" maxlength="1000"; }
                    p class="small wide" { (ctx.t("evidence.limit")) " " (size_text(i64::try_from(max_bytes(state)).unwrap_or(i64::MAX))) }
                    button type="submit" { (ctx.t("evidence.upload")) }
                }
            }
        }
    }
}

fn observables_section(
    ctx: &Ctx,
    i: &Incident,
    observables: &[IncidentObservable],
    lookup: Option<(i64, Markup)>,
    has_alerts: bool,
) -> Markup {
    let manage = ctx.can(Permission::ManageIncidents);
    let publish = ctx.can(Permission::ManageIntel);
    html! {
        section class="card" id="observables" {
            h2 { (ctx.t("observable.observables")) }
            @if observables.is_empty() { p class="small" id="observables-empty" { (ctx.t("observable.none")) } }
            @else {
                table class="data" id="observable-table" {
                    thead { tr {
                        th { (ctx.t("field.kind")) } th { (ctx.t("intel.value")) } th { "IOC" } th { (ctx.t("field.note")) }
                        th { (ctx.t("observable.origin")) } th { (ctx.t("observable.intel")) } th {}
                    } }
                    tbody {
                        @for o in observables {
                            tr data-observable=(o.id) data-kind=(o.kind) data-value=(o.value) data-published=(o.indicator_id.is_some()) {
                                td { (o.kind) }
                                td { code { (o.value) } }
                                td { @if o.ioc { span class="badge red" { "IOC" } } }
                                td class="detail" { (o.note) }
                                td class="small" { (o.origin) }
                                td {
                                    a href={ "/incidents/" (i.id) "?lookup=" (o.id) "#observables" } class="observable-lookup" { (ctx.t("intel.lookup")) }
                                    @if let Some(id) = o.indicator_id {
                                        " " a href={ "/intel/indicators/" (id) } class="badge green observable-published" { (ctx.t("observable.published")) " #" (id) }
                                    }
                                }
                                td {
                                    @if publish {
                                        details class="observable-publish" {
                                            summary { (ctx.t("observable.publish")) }
                                            form method="post" action={ "/incidents/" (i.id) "/observables/" (o.id) "/publish" } class="grid" {
                                                (ctx.csrf_field())
                                                @let guess = default_category(&o.kind);
                                                label { (ctx.t("intel.category")) select name="category" {
                                                    @for c in Category::ALL { option value=(c.as_str()) selected[c == guess] { (ctx.t(category_key(c))) } }
                                                } }
                                                label { "TLP" select name="tlp" {
                                                    @for t in Tlp::ALL { option value=(t.as_str()) selected[t == DEFAULT_TLP] { (t.as_str().to_uppercase()) } }
                                                } }
                                                label { (ctx.t("intel.confidence")) input type="number" name="confidence" min="0" max="100" value=(DEFAULT_CONFIDENCE); }
                                                button type="submit" { (ctx.t("observable.publish")) }
                                            }
                                        }
                                    }
                                    @if manage {
                                        form method="post" action={ "/incidents/" (i.id) "/observables/" (o.id) "/delete" } class="inline observable-delete" {
                                            (ctx.csrf_field())
                                            button type="submit" class="danger" { (ctx.t("action.delete")) }
                                        }
                                    }
                                }
                            }
                            @if let Some(result) = lookup.as_ref().filter(|(lid, _)| *lid == o.id).map(|(_, m)| m) {
                                tr class="lookup-row" { td colspan="7" id="observable-lookup-result" { (result) } }
                            }
                        }
                    }
                }
            }
            @if manage {
                form method="post" action={ "/incidents/" (i.id) "/observables" } id="observable-form" class="grid" {
                    (ctx.csrf_field())
                    label { (ctx.t("field.kind")) select name="kind" {
                        @for k in IndicatorKind::ALL { option value=(k.as_str()) { (k.as_str()) } }
                    } }
                    label class="wide" { (ctx.t("intel.value")) input name="value" required maxlength="8192"; }
                    label class="wide" { (ctx.t("field.note")) input name="note" maxlength="1000"; }
                    label { input type="checkbox" name="ioc" value="1" checked; " IOC" }
                    button type="submit" { (ctx.t("action.add")) }
                }
                @if has_alerts {
                    form method="post" action={ "/incidents/" (i.id) "/observables/from-alerts" } id="observables-from-alerts" class="inline" {
                        (ctx.csrf_field())
                        button type="submit" { (ctx.t("observable.from_alerts")) }
                    }
                }
            }
        }
    }
}

/// Both sections for the incident page; `lookup` is the observable whose
/// intel lookup is shown inline.
pub(crate) async fn sections(
    state: &AppState,
    ctx: &Ctx,
    p: &Principal,
    i: &Incident,
    lookup: Option<i64>,
) -> Result<Markup, ApiError> {
    let files = state.store.incident_evidence(i.id).await?;
    let observables = state.store.incident_observables(i.id).await?;
    let shown = match lookup.and_then(|id| observables.iter().find(|o| o.id == id)) {
        Some(o) if ctx.can(Permission::ReadIntel) => {
            let r = lookup_observable(state, o).await?;
            Some((o.id, lookup_table(ctx, std::slice::from_ref(&r))))
        }
        _ => None,
    };
    let has_alerts = !state.store.incident_alert_ids(i.id).await?.is_empty();
    Ok(html! {
        (evidence_section(ctx, p, state, i, &files))
        (observables_section(ctx, i, &observables, shown, has_alerts))
    })
}

pub async fn upload(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    req: Request,
) -> Result<Response, ApiError> {
    visible(&state, &p, id).await?;
    let form = match read_evidence_upload(&state, req).await {
        Ok(f) => f,
        Err(e) if e.status.is_client_error() => return Ok(redirect(id, "evidence", "error", &e.message)),
        Err(e) => return Err(e),
    };
    match add_evidence(&state, &p, &client, id, form).await {
        Ok(_) => Ok(redirect(id, "evidence", "ok", ctx.t("evidence.added"))),
        Err(e) if e.status.is_client_error() => Ok(redirect(id, "evidence", "error", &e.message)),
        Err(e) => Err(e),
    }
}

pub async fn download(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Path((id, evidence_id)): Path<(i64, i64)>,
) -> Result<Response, ApiError> {
    download_response(&state, &p, &client, id, evidence_id).await
}

pub async fn delete(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path((id, evidence_id)): Path<(i64, i64)>,
) -> Result<Response, ApiError> {
    visible(&state, &p, id).await?;
    after_change(
        state.store.delete_incident_evidence(&p.actor(&client), id, evidence_id).await,
        &back(id, "evidence"),
        ctx.t("saved"),
    )
}

pub async fn add_observable(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    FormBody(raw): FormBody<Vec<(String, String)>>,
) -> Result<Response, FormError> {
    visible(&state, &p, id).await?;
    let kind = parse_kind(form_value(&raw, "kind")).or_bounce_with(|m| redirect(id, "observables", "error", m))?;
    let d = ObservableDraft {
        kind,
        value: form_value(&raw, "value").to_owned(),
        note: form_value(&raw, "note").to_owned(),
        ioc: !form_value(&raw, "ioc").is_empty(),
    };
    match state.store.add_incident_observable(&p.actor(&client), id, &d).await {
        Ok(_) => Ok(redirect(id, "observables", "ok", ctx.t("saved"))),
        Err(e) => Ok(redirect(id, "observables", "error", &super::user_message(e)?)),
    }
}

pub async fn from_alerts(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    visible(&state, &p, id).await?;
    match state.store.add_observables_from_alerts(&p.actor(&client), id).await {
        Ok(added) => {
            let message = format!("{} {}", ctx.t("observable.added_from_alerts"), added.len());
            Ok(redirect(id, "observables", "ok", &message))
        }
        Err(e) => Ok(redirect(id, "observables", "error", &super::user_message(e)?)),
    }
}

pub async fn delete_observable(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path((id, observable_id)): Path<(i64, i64)>,
) -> Result<Response, ApiError> {
    visible(&state, &p, id).await?;
    after_change(
        state.store.delete_incident_observable(&p.actor(&client), id, observable_id).await,
        &back(id, "observables"),
        ctx.t("saved"),
    )
}

pub async fn publish(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path((id, observable_id)): Path<(i64, i64)>,
    FormBody(raw): FormBody<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let confidence = match form_value(&raw, "confidence").trim() {
        "" => None,
        s => match s.parse::<u8>() {
            Ok(c) if c <= 100 => Some(c),
            _ => return Ok(redirect(id, "observables", "error", &format!("confidence: {s:?} is not 0–100"))),
        },
    };
    let req = PublishRequest { category: form_value(&raw, "category"), tlp: Some(form_value(&raw, "tlp")), confidence };
    let result = publish_observable(&state, &p, &client, (id, observable_id), &req).await;
    match result {
        Ok(o) => {
            let message = format!("{} #{}", ctx.t("observable.published"), o.indicator_id.unwrap_or_default());
            Ok(redirect(id, "observables", "ok", &message))
        }
        Err(e) if e.status.is_client_error() => Ok(redirect(id, "observables", "error", &e.message)),
        Err(e) => Err(e),
    }
}
