//! The audit page: filters, the entries with before/after, paging, export
//! links and an on-demand check of the whole chain.

use anbao_store::AuditFilter;
use axum::extract::State;
use axum::response::Response;
use maud::html;
use serde::Deserialize;

use super::{Ctx, urlencode};
use crate::AppState;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::extract::Query;

/// Filters shared by the page and the API.
#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Exact actor name, e.g. `admin` or `token:ci-bot`.
    pub actor: Option<String>,
    /// Action, or a prefix ending in '.', e.g. `user.`.
    pub action: Option<String>,
    pub object_type: Option<String>,
    pub object_id: Option<String>,
    /// From this instant (RFC 3339 or a date, inclusive).
    pub since: Option<String>,
    /// Before this instant (RFC 3339 or a date, exclusive).
    pub until: Option<String>,
    /// Entries older than this sequence number (paging).
    pub before_seq: Option<i64>,
    /// At most this many entries (default 100, at most 10000 on lists).
    pub limit: Option<i64>,
    /// Export format: `csv` or `json` (export only).
    pub format: Option<String>,
    /// Run the chain check (page only).
    pub verify: Option<String>,
}

fn non_empty(s: &Option<String>) -> Option<String> {
    s.as_ref().map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

impl AuditQuery {
    pub fn to_filter(&self, p: &Principal, default_limit: i64) -> Result<AuditFilter, ApiError> {
        for (field, value) in [("since", &self.since), ("until", &self.until)] {
            if let Some(v) = non_empty(value) {
                let ok = anbao_model::clock::parse_ts(&v).is_ok()
                    || (v.len() == 10 && v.as_bytes().get(4) == Some(&b'-') && v.as_bytes().get(7) == Some(&b'-'));
                if !ok {
                    return Err(ApiError::field(
                        field,
                        format!("{field}: {v:?} is not an RFC 3339 time or a YYYY-MM-DD date"),
                    ));
                }
            }
        }
        Ok(AuditFilter {
            actor: non_empty(&self.actor),
            action: non_empty(&self.action),
            object_type: non_empty(&self.object_type),
            object_id: non_empty(&self.object_id),
            since: non_empty(&self.since),
            until: non_empty(&self.until),
            org_units: p.scope_filter(),
            before_seq: self.before_seq,
            limit: self.limit.unwrap_or(default_limit),
        })
    }

    fn query_string(&self) -> String {
        let mut parts = Vec::new();
        for (k, v) in [
            ("actor", &self.actor),
            ("action", &self.action),
            ("object_type", &self.object_type),
            ("object_id", &self.object_id),
            ("since", &self.since),
            ("until", &self.until),
        ] {
            if let Some(v) = non_empty(v) {
                parts.push(format!("{k}={}", urlencode(&v)));
            }
        }
        parts.join("&")
    }
}

/// `2026-11-25T10:58:13.721Z` → `2026-11-25 10:58:13` (UTC; the exact
/// value is in the cell's title).
pub fn readable_time(at: &str) -> String {
    at.get(..19).map(|s| s.replace('T', " ")).unwrap_or_else(|| at.to_owned())
}

/// The fields to show for one side of a change: for an update only the
/// fields that changed, otherwise all of them, as `key: value` lines.
fn fields(this: &Option<serde_json::Value>, other: &Option<serde_json::Value>) -> Vec<(String, String)> {
    let Some(v) = this else { return Vec::new() };
    let serde_json::Value::Object(map) = v else { return vec![(String::new(), v.to_string())] };
    let other = other.as_ref().and_then(|o| o.as_object());
    map.iter()
        .filter(|(k, val)| other.is_none_or(|o| o.get(*k) != Some(*val)))
        .map(|(k, val)| {
            let text = val.to_string();
            let text = if text.chars().count() > 160 {
                format!("{}…", text.chars().take(160).collect::<String>())
            } else {
                text
            };
            (k.clone(), text)
        })
        .collect()
}

fn change_cell(class: &str, this: &Option<serde_json::Value>, other: &Option<serde_json::Value>) -> maud::Markup {
    html! {
        td class={ "json " (class) } {
            @for (k, v) in fields(this, other) {
                div { @if !k.is_empty() { span class="k" { (k) ": " } } (v) }
            }
        }
    }
}

pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Query(q): Query<AuditQuery>,
) -> Result<Response, ApiError> {
    let filter = q.to_filter(&p, 100)?;
    let entries = state.store.list_audit(&filter).await?;
    let verification = if q.verify.is_some() { Some(state.store.verify_audit().await?) } else { None };
    let qs = q.query_string();
    let body = html! {
        form method="get" action="/audit" class="filters" id="audit-filters" {
            input name="actor" value=(q.actor.clone().unwrap_or_default()) placeholder=(ctx.t("field.actor"));
            input name="action" value=(q.action.clone().unwrap_or_default()) placeholder=(ctx.t("field.action"));
            input name="object_type" value=(q.object_type.clone().unwrap_or_default()) placeholder=(ctx.t("field.object_type"));
            input name="object_id" value=(q.object_id.clone().unwrap_or_default()) placeholder=(ctx.t("field.object_id"));
            input name="since" type="date" value=(q.since.clone().unwrap_or_default()) title=(ctx.t("field.since"));
            input name="until" type="date" value=(q.until.clone().unwrap_or_default()) title=(ctx.t("field.until"));
            button type="submit" { (ctx.t("action.filter")) }
        }
        p class="actions" {
            a href={ "/api/v1/audit/export?format=csv&" (qs) } download { (ctx.t("audit.export_csv")) } " · "
            a href={ "/api/v1/audit/export?format=json&" (qs) } download { (ctx.t("audit.export_json")) } " · "
            a href={ "/audit?verify=1&" (qs) } id="verify" { (ctx.t("audit.verify")) }
        }
        @if let Some(v) = &verification {
            @match &v.first_break {
                None => div class="flash ok" id="verify-result" { (ctx.t("audit.intact")) " (" (v.checked) ")" },
                Some(b) => div class="flash error" id="verify-result" { (ctx.t("audit.broken")) " " (b.to_string()) },
            }
        }
        table class="data" id="audit" {
            thead { tr {
                th { "#" } th { (ctx.t("field.time")) } th { (ctx.t("field.actor")) } th { (ctx.t("field.channel")) } th { (ctx.t("field.source_ip")) }
                th { (ctx.t("field.action")) } th { (ctx.t("field.object")) } th { (ctx.t("field.before")) } th { (ctx.t("field.after")) }
            } }
            tbody {
                @for e in &entries {
                    tr data-seq=(e.seq) data-action=(e.action) {
                        td { (e.seq) }
                        td class="nowrap" title=(e.at) { (readable_time(&e.at)) }
                        td { (e.actor) @if !e.actor_role.is_empty() && e.actor_role != e.actor { " (" (e.actor_role) ")" } }
                        td { (e.channel) }
                        td { (e.source_ip) }
                        td { code { (e.action) } }
                        td { (e.object_type) " " (e.object_id) }
                        (change_cell("before", &e.before, &e.after))
                        (change_cell("after", &e.after, &e.before))
                    }
                }
            }
        }
        @if let Some(last) = entries.last() {
            @if entries.len() as i64 == filter.limit {
                p { a href={ "/audit?" (qs) "&before_seq=" (last.seq) } { (ctx.t("action.older")) } }
            }
        }
    };
    Ok(super::page(&ctx, ctx.t("nav.audit"), body))
}
