//! `/api/v1/flows`: the flow collector of `anbao serve` (issue #6; R2.2,
//! R8.2) as it runs: per exporter its health (packets, flows, sequence
//! gaps, template errors, last seen), per group the current pps/bps and
//! the last minute of pps, and the attacks in progress. Read-only; the
//! same numbers are in `/metrics`.

use anbao_flow::FlowSnapshot;
use axum::Json;
use axum::extract::State;
use serde::Serialize;

use crate::AppState;

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct FlowsStatus {
    /// `enabled` (a collector runs), `listen`, `updated` (unix seconds),
    /// `counters` (datagrams, not_flow, decode_errors, receive_errors),
    /// `detector`, `exporters` (exporter, packets, flows, sequence_gaps,
    /// sequence_lost, template_errors, malformed, …, last_seen),
    /// `groups` (name, pps, bps, flows, baseline_pps, baseline_bps,
    /// baseline_ready, history: [unix second, pps]), `attacks` (id, key,
    /// victim, group, class, service, reason, started, updated, pps, bps,
    /// peak_pps, peak_bps).
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub flows: FlowSnapshot,
}

#[utoipa::path(get, path = "/api/v1/flows", tag = "alerts",
    responses((status = 200, body = FlowsStatus)))]
pub async fn status(State(state): State<AppState>) -> Json<FlowsStatus> {
    Json(FlowsStatus { flows: state.flows.snapshot() })
}
