//! The detection status page (issue #5; R3.1–R3.3, R8.1–R8.4): what the
//! embedded pipeline of `anbao serve` reads (each `detect_inputs` entry:
//! a followed log, a spool directory or a live interface), whether each is
//! running, idle or failed and why, how much went through, the alerts
//! written, and the intel index it matches against. The numbers come from
//! `api::detection`, the same as `/api/v1/detection` and `/metrics`.

use axum::extract::State;
use axum::response::Response;
use maud::html;

use super::Ctx;
use super::alerts::alerts_nav;
use crate::AppState;
use crate::api::detection::detection_status;
use crate::error::ApiError;

fn unix_time(secs: Option<i64>) -> String {
    secs.and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
        .map(|t| super::short_time(&t))
        .unwrap_or_else(|| "—".to_owned())
}

fn state_key(state: &str) -> &'static str {
    match state {
        "running" => "detection.state.running",
        "idle" => "detection.state.idle",
        "failed" => "detection.state.failed",
        "finished" => "detection.state.finished",
        _ => "detection.state.starting",
    }
}

fn kind_key(kind: &str) -> &'static str {
    match kind {
        "spool" => "detection.kind.spool",
        "interface" => "detection.kind.interface",
        _ => "detection.kind.log",
    }
}

pub async fn page(State(state): State<AppState>, ctx: Ctx) -> Result<Response, ApiError> {
    let status = detection_status(&state);
    let p = &status.pipeline;
    let body = html! {
        (alerts_nav(&ctx))
        p { (ctx.t("detection.help")) }
        section class="cards" id="detection-counters" {
            div class="card" { strong data-count="indicators" { (status.index.indicators) } " " (ctx.t("detection.indicators")) }
            div class="card" { strong data-count="detections" { (p.detections) } " " (ctx.t("detection.detections")) }
            div class="card" { strong data-count="alerts-written" { (p.flushed_alerts) } " " (ctx.t("detection.alerts_written")) }
            div class="card" { strong data-count="dropped" { (p.dropped) } " " (ctx.t("detection.dropped")) }
            div class="card" { strong data-count="flush-failures" { (p.flush_failures) } " " (ctx.t("detection.flush_failures")) }
            div class="card" { (ctx.t("detection.last_flush")) " " strong { (unix_time(p.last_flush_at)) } }
        }
        h2 { (ctx.t("detection.inputs")) }
        @if p.inputs.is_empty() {
            p id="no-inputs" { (ctx.t("detection.no_inputs")) }
            pre { "detect_inputs = [\"/var/log/unbound/queries.log\", \"/var/spool/anbao/pcap\", \"iface:eth1\"]" }
        } @else {
            table class="data" id="inputs" {
                thead { tr {
                    th { (ctx.t("detection.input")) } th { (ctx.t("detection.kind")) } th { (ctx.t("detection.state")) }
                    th { (ctx.t("detection.events")) } th { (ctx.t("detection.packets")) } th { (ctx.t("detection.files")) }
                    th { (ctx.t("detection.problems")) } th { (ctx.t("detection.last_event")) }
                } }
                tbody {
                    @for i in &p.inputs {
                        @let state_name = i.state.as_str();
                        tr data-input=(i.name) data-state=(state_name) {
                            td { code { (i.name) } }
                            td { (ctx.t(kind_key(i.kind.as_str()))) }
                            td {
                                span class={ "badge" @if state_name == "failed" { " red" } @else if state_name == "running" { " green" } } { (ctx.t(state_key(state_name))) }
                                @if let anbao_detect::InputState::Failed(reason) = &i.state { div class="small" data-reason { (reason) } }
                            }
                            td data-count="events" { (i.events) }
                            td data-count="packets" { (i.packets) }
                            td data-count="files" { (i.files) }
                            td data-count="problems" {
                                (i.problems)
                                @if let Some(last) = &i.last_problem { div class="small" { (last) } }
                            }
                            td class="nowrap" { (unix_time(i.last_event_at)) }
                        }
                    }
                }
            }
        }
        p class="small" { (ctx.t("detection.metrics_hint")) }
    };
    Ok(super::page(&ctx, ctx.t("nav.detection"), body))
}
