//! The flow monitoring page (issue #6; R2.2, R8.2): the flow collector of
//! `anbao serve` (`flow_listen`): each exporter with its health, each host
//! group with its current pps/bps and a chart of the last minute, and the
//! attacks in progress. The numbers come from the shared
//! `anbao_flow::FlowStatus` merged with the other flow nodes' in the store
//! (bus mode: collectors and workers elsewhere; `api::flows::view`), the
//! same as `/api/v1/flows` and `/metrics`. With other nodes, a table lists
//! each (stale ones marked) and the rows name their node.

use axum::extract::State;
use axum::response::Response;
use maud::html;

use super::Ctx;
use super::alerts::alerts_nav;
use crate::AppState;
use crate::error::ApiError;

fn unix_time(secs: Option<i64>) -> String {
    secs.and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
        .map(|t| format!("{} {:02}:{:02}:{:02} UTC", t.date(), t.hour(), t.minute(), t.second()))
        .unwrap_or_else(|| "—".to_owned())
}

/// An exporter silent for this long is flagged.
const SILENT_SECS: i64 = 60;

/// `ok`, `lossy` (sequence gaps), `errors` (template errors) or `silent`.
fn health(h: &anbao_flow::Health, now: Option<i64>) -> &'static str {
    let last = h.last_seen.map(|t| t.secs());
    if let (Some(now), Some(last)) = (now, last)
        && now - last > SILENT_SECS
    {
        "silent"
    } else if h.template_errors > 0 {
        "errors"
    } else if h.sequence_gaps > 0 {
        "lossy"
    } else {
        "ok"
    }
}

fn health_key(h: &str) -> &'static str {
    match h {
        "silent" => "flows.health.silent",
        "errors" => "flows.health.errors",
        "lossy" => "flows.health.lossy",
        _ => "flows.health.ok",
    }
}

pub async fn page(State(state): State<AppState>, ctx: Ctx) -> Result<Response, ApiError> {
    let s = crate::api::flows::view(&state).await;
    let multi = !s.nodes.is_empty();
    let body = html! {
        (alerts_nav(&ctx))
        p { (ctx.t("flows.help")) }
        // Stale nodes too, when no node reports.
        @if multi {
            h2 { (ctx.t("flows.nodes")) }
            table class="data" id="nodes" {
                thead { tr {
                    th { (ctx.t("flows.node")) } th { (ctx.t("flows.role")) } th { (ctx.t("flows.partition")) }
                    th { (ctx.t("flows.listen")) } th { (ctx.t("flows.seen")) } th { (ctx.t("flows.datagrams")) }
                    th { (ctx.t("flows.records")) } th { (ctx.t("flows.groups")) } th { (ctx.t("flows.attacks")) }
                } }
                tbody {
                    @for n in &s.nodes {
                        tr data-node=(n.info.id) data-stale=(n.stale) {
                            td { (n.info.name) }
                            td { (n.info.role) }
                            td { @if let Some(p) = n.info.partition { (p) } @else { "—" } }
                            td { @for (i, l) in n.listen.iter().enumerate() { @if i > 0 { ", " } code { (l) } } }
                            td class="nowrap" {
                                (unix_time(Some(n.seen))) " "
                                @if n.stale { span class="badge red" { (ctx.t("flows.node_stale")) } }
                                @else { span class="badge green" { (ctx.t("flows.node_ok")) } }
                            }
                            td data-count="datagrams" { (n.counters.datagrams) }
                            td data-count="records" { (n.records) }
                            td data-count="groups" { (n.groups) }
                            td data-count="attacks" { (n.attacks) }
                        }
                    }
                }
            }
        }
        @if !s.enabled {
            p id="flows-disabled" { (ctx.t("flows.disabled")) }
            pre { "flow_listen = [\"0.0.0.0:2055\", \"0.0.0.0:4739\", \"0.0.0.0:6343\"]\nflow_groups_file = \"/etc/anbao/flow-groups.toml\"" }
        } @else {
            section class="cards" id="flow-counters" {
                div class="card" { (ctx.t("flows.listen")) " " @for (i, l) in s.listen.iter().enumerate() { @if i > 0 { ", " } code { (l) } } }
                div class="card" { strong data-count="datagrams" { (s.counters.datagrams) } " " (ctx.t("flows.datagrams")) }
                div class="card" { strong data-count="decode-errors" { (s.counters.decode_errors) } " " (ctx.t("flows.decode_errors")) }
                div class="card" { strong data-count="attacks" { (s.attacks.len()) } " " (ctx.t("flows.attacks")) }
                div class="card" { (ctx.t("flows.updated")) " " strong { (unix_time(s.updated)) } }
            }
            h2 { (ctx.t("flows.attacks")) }
            @if s.attacks.is_empty() {
                p id="no-attacks" { (ctx.t("flows.no_attacks")) }
            } @else {
                table class="data" id="attacks" {
                    thead { tr {
                        th { (ctx.t("flows.victim")) } th { (ctx.t("flows.group")) } th { (ctx.t("flows.class")) }
                        th { (ctx.t("flows.started")) } th { (ctx.t("flows.pps")) } th { (ctx.t("flows.bps")) }
                        th { (ctx.t("flows.peak")) }
                        @if multi { th { (ctx.t("flows.node")) } }
                    } }
                    tbody {
                        @for a in &s.attacks {
                            tr data-attack=(a.key) {
                                td { code { (a.victim) } }
                                td { (a.group) }
                                td { span class="badge red" { (a.class) @if let Some(svc) = &a.service { " (" (svc) ")" } } div class="small" { (a.reason) } }
                                td class="nowrap" { (unix_time(Some(a.started))) }
                                td data-count="pps" { (a.pps) }
                                td data-count="bps" { (a.bps) }
                                td { (a.peak_pps) " pps, " (a.peak_bps) " bps" }
                                @if multi { td { (a.node.as_deref().unwrap_or("")) } }
                            }
                        }
                    }
                }
            }
            h2 { (ctx.t("flows.groups")) }
            table class="data" id="groups" {
                thead { tr {
                    th { (ctx.t("flows.group")) } th { (ctx.t("flows.pps")) } th { (ctx.t("flows.bps")) }
                    th { (ctx.t("flows.baseline")) }
                    @if multi { th { (ctx.t("flows.node")) } }
                } }
                tbody {
                    @for g in &s.groups {
                        tr data-group=(g.name) {
                            td { (g.name) }
                            td data-count="pps" { (g.pps) }
                            td data-count="bps" { (g.bps) }
                            td { @if g.baseline_ready { (format!("{:.0}", g.baseline_pps)) } @else { "—" } }
                            @if multi { td { (g.node.as_deref().unwrap_or("")) } }
                        }
                    }
                }
            }
            @for g in &s.groups {
                (super::chart::line(&format!("{} — {}", g.name, ctx.t("flows.chart")), &g.history, s.updated.unwrap_or(0), anbao_flow::status::HISTORY_SECS as i64))
            }
            h2 { (ctx.t("flows.exporters")) }
            @if s.exporters.is_empty() {
                p id="no-exporters" { (ctx.t("flows.no_exporters")) }
            } @else {
                table class="data" id="exporters" {
                    thead { tr {
                        th { (ctx.t("flows.exporter")) } th { (ctx.t("flows.health")) } th { (ctx.t("flows.packets")) }
                        th { (ctx.t("flows.flows")) } th { (ctx.t("flows.sequence_gaps")) } th { (ctx.t("flows.template_errors")) }
                        th { (ctx.t("flows.sampling")) } th { (ctx.t("flows.last_seen")) }
                        @if multi { th { (ctx.t("flows.node")) } }
                    } }
                    tbody {
                        @for e in &s.exporters {
                            @let h = health(&e.health, s.updated);
                            tr data-exporter=(e.exporter) data-health=(h) {
                                td { code { (e.exporter) } }
                                td { span class={ "badge" @if h == "ok" { " green" } @else { " red" } } { (ctx.t(health_key(h))) } }
                                td data-count="packets" { (e.health.packets) }
                                td data-count="flows" { (e.health.flows) }
                                td data-count="sequence-gaps" { (e.health.sequence_gaps) }
                                td data-count="template-errors" { (e.health.template_errors) }
                                td { @if let Some(r) = e.health.announced_sampling_rate { "1:" (r) } @else { "—" } }
                                td class="nowrap" { (unix_time(e.health.last_seen.map(|t| t.secs()))) }
                                @if multi { td { (e.node.as_deref().unwrap_or("")) } }
                            }
                        }
                    }
                }
            }
        }
        p class="small" { (ctx.t("flows.metrics_hint")) }
    };
    Ok(super::page(&ctx, ctx.t("nav.flows"), body))
}
