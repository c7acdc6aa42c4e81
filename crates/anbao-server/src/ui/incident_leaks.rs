//! The personal-data leak banner on an incident page (issue #7, R5.4): the
//! reporting duties and whether each is met, the data categories and people
//! affected, and the forms that record them (`POST /incidents/{id}/leak`,
//! `POST /incidents/{id}/leak/notified`).

use anbao_model::clock::parse_ts;
use anbao_model::incident::{LeakCategory, LeakDuty};
use anbao_model::report::ReportedPersonalData;
use anbao_store::Incident;
use axum::extract::State;
use axum::response::Response;
use maud::{Markup, html};

use super::{Ctx, FormError, OrBounce, after_change, form_value, redirect_with, short_time};
use crate::AppState;
use crate::api::incidents::visible;
use crate::auth::{ClientAddr, Principal};
use crate::error::ApiError;
use crate::extract::{FormBody, Path};

/// The i18n key of a category's label.
pub(crate) fn category_key(c: LeakCategory) -> &'static str {
    match c {
        LeakCategory::Identity => "leak.cat.identity",
        LeakCategory::Contact => "leak.cat.contact",
        LeakCategory::AccountCredentials => "leak.cat.account_credentials",
        LeakCategory::FinancialAccount => "leak.cat.financial_account",
        LeakCategory::Location => "leak.cat.location",
        LeakCategory::Health => "leak.cat.health",
        LeakCategory::Biometric => "leak.cat.biometric",
        LeakCategory::Religious => "leak.cat.religious",
        LeakCategory::SpecificIdentity => "leak.cat.specific_identity",
        LeakCategory::MinorsUnder14 => "leak.cat.minors_under_14",
        LeakCategory::Communications => "leak.cat.communications",
        LeakCategory::DeviceIds => "leak.cat.device_ids",
        LeakCategory::Other => "leak.cat.other",
    }
}

/// The banner for a leak incident; nothing for any other.
pub(crate) async fn section(state: &AppState, ctx: &Ctx, i: &Incident, manage: bool) -> Result<Markup, ApiError> {
    let Some(l) = state.store.incident_leak(i.id).await? else { return Ok(html! {}) };
    let time = |t: &str| parse_ts(t).map(|t| short_time(&t)).unwrap_or_else(|_| t.to_owned());
    let duty = |id: &str, key: &'static str, met: &Option<String>| {
        html! {
            li id=(id) data-met=(met.is_some()) {
                (ctx.t(key)) " — "
                @match met {
                    Some(t) => { span class="badge green" { (ctx.t("leak.met")) } " " (time(t)) }
                    None => { span class="badge red" { (ctx.t("leak.not_met")) } }
                }
            }
        }
    };
    Ok(html! {
        section class="card leak-duty" id="leak-duty" role="alert" {
            h2 { (ctx.t("leak.banner")) }
            p class="small" { (ctx.t("leak.flagged_at")) ": " (time(&l.duty_flagged_at)) }
            ul {
                (duty("leak-duty-regulator", "leak.duty.regulator", &l.regulator_notified_at))
                (duty("leak-duty-individuals", "leak.duty.individuals", &l.individuals_notified_at))
            }
            dl {
                dt { (ctx.t("incident.records_leaked")) } dd id="leak-records" { (i.facts.records_leaked) }
                dt { (ctx.t("leak.affected_users")) } dd id="leak-affected" {
                    @match l.affected_users { Some(n) => { (n) } None => { (ctx.t("leak.unknown")) } }
                }
                dt { (ctx.t("leak.categories")) } dd id="leak-categories" {
                    @if l.data_categories.is_empty() { (ctx.t("leak.unknown")) }
                    @for (n, c) in l.data_categories.iter().enumerate() { @if n > 0 { ", " } (ctx.t(category_key(*c))) }
                    @if l.sensitive { " " span class="badge red" id="leak-sensitive" { (ctx.t("leak.sensitive")) } }
                }
            }
            @if manage {
                form method="post" action={ "/incidents/" (i.id) "/leak" } id="leak-form" class="grid" {
                    (ctx.csrf_field())
                    fieldset class="factor wide" {
                        legend { (ctx.t("leak.categories")) }
                        @for c in LeakCategory::ALL {
                            label class="check" {
                                input type="checkbox" name="data_categories" value=(c.as_str()) checked[l.data_categories.contains(c)];
                                " " (ctx.t(category_key(*c)))
                                @if c.is_sensitive() { " *" }
                            }
                        }
                        p class="small" { "* " (ctx.t("leak.sensitive")) }
                    }
                    label { (ctx.t("leak.affected_users"))
                        input type="number" name="affected_users" min="0" value=[l.affected_users]; }
                    button type="submit" { (ctx.t("action.save")) }
                }
                @for (who, key) in [(LeakDuty::Regulator, "leak.record.regulator"), (LeakDuty::Individuals, "leak.record.individuals")] {
                    form method="post" action={ "/incidents/" (i.id) "/leak/notified" } id={ "leak-notified-" (who.as_str()) } class="filters" {
                        (ctx.csrf_field())
                        input type="hidden" name="who" value=(who.as_str());
                        label { (ctx.t("incident.entry_at")) input name="at" placeholder=(ctx.t("leak.now")); }
                        button type="submit" { (ctx.t(key)) }
                    }
                }
            }
        }
    })
}

/// The personal-data section of a report (R5.4), as printed.
pub(crate) fn report_section(ctx: &Ctx, pd: &ReportedPersonalData) -> Markup {
    let time = |t: &str| parse_ts(t).map(|t| short_time(&t)).unwrap_or_else(|_| t.to_owned());
    let when = |t: &Option<String>| match t {
        Some(t) => time(t),
        None => ctx.t("leak.not_met").to_owned(),
    };
    let label = |code: &str| {
        code.parse::<LeakCategory>().map(|c| ctx.t(category_key(c)).to_owned()).unwrap_or_else(|_| code.to_owned())
    };
    html! {
        h2 { (ctx.t("leak.personal_data")) }
        table class="form" id="report-personal-data" {
            tr { th { (ctx.t("incident.records_leaked")) } td { (pd.records_leaked) } }
            tr { th { (ctx.t("leak.affected_users")) } td { @match pd.affected_users { Some(n) => { (n) } None => { (ctx.t("leak.unknown")) } } } }
            tr { th { (ctx.t("leak.categories")) } td {
                @if pd.data_categories.is_empty() { (ctx.t("leak.unknown")) }
                (pd.data_categories.iter().map(|c| label(c)).collect::<Vec<_>>().join(", "))
                @if pd.sensitive { " · " strong { (ctx.t("leak.sensitive")) } }
            } }
            tr { th { (ctx.t("leak.flagged_at")) } td { (time(&pd.duty_flagged_at)) } }
            tr { th { (ctx.t("leak.duty.regulator")) } td { (when(&pd.regulator_notified_at)) } }
            tr { th { (ctx.t("leak.duty.individuals")) } td { (when(&pd.individuals_notified_at)) } }
        }
    }
}

/// `POST /incidents/{id}/leak`: categories (checkboxes) and people affected.
pub async fn update(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    FormBody(raw): FormBody<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    visible(&state, &p, id).await?;
    let back = format!("/incidents/{id}");
    let categories: Vec<String> = raw.iter().filter(|(k, _)| k == "data_categories").map(|(_, v)| v.clone()).collect();
    let affected = match form_value(&raw, "affected_users").trim() {
        "" => None,
        s => match s.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                return Ok(redirect_with(&back, "error", &format!("affected_users: {s:?} is not a whole number")));
            }
        },
    };
    after_change(
        state.store.update_incident_leak(&p.actor(&client), id, &categories, affected).await,
        &back,
        ctx.t("saved"),
    )
}

/// `POST /incidents/{id}/leak/notified`: who was told, and when (default now).
pub async fn notified(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    Path(id): Path<i64>,
    FormBody(raw): FormBody<Vec<(String, String)>>,
) -> Result<Response, FormError> {
    visible(&state, &p, id).await?;
    let back = format!("/incidents/{id}");
    let who = form_value(&raw, "who").trim().parse::<LeakDuty>().map_err(|e| format!("who: {e}")).or_bounce(&back)?;
    let at = crate::api::incident_tasks::parse_due(form_value(&raw, "at"))
        .map_err(|_| "at: not an RFC 3339 time")
        .or_bounce(&back)?;
    after_change(state.store.record_leak_notified(&p.actor(&client), id, who, at).await, &back, ctx.t("saved"))
}
