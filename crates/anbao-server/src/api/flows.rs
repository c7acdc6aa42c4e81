//! `/api/v1/flows`: the flow collector of `anbao serve` (issue #6; R2.2,
//! R8.2) as it runs: per exporter its health (packets, flows, sequence
//! gaps, template errors, last seen), per group the current pps/bps and
//! the last minute of pps, and the attacks in progress. Read-only; the
//! same numbers are in `/metrics`.
//!
//! In bus mode the collectors and workers are other processes: each writes
//! its status to the store's `flow_nodes`, and [`view`] merges them with
//! this process's (anbao-flow's `status::merge`): `nodes` lists every node
//! (stale ones too), the rows carry their node's name.

use anbao_flow::FlowSnapshot;
use anbao_flow::status::{RemoteNode, merge};
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
    /// peak_pps, peak_bps); with other flow nodes in the store, `nodes`
    /// (id, role, name, partition, seen, stale, listen, counters, records,
    /// exporters, groups, attacks) and each row's `node`.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub flows: FlowSnapshot,
}

#[utoipa::path(get, path = "/api/v1/flows", tag = "alerts",
    responses((status = 200, body = FlowsStatus)))]
pub async fn status(State(state): State<AppState>) -> Json<FlowsStatus> {
    Json(FlowsStatus { flows: view(&state).await })
}

/// This process's flow status merged with the other flow nodes' in the
/// store. The store unreachable, or a node's snapshot unreadable: logged,
/// left out.
pub async fn view(state: &AppState) -> FlowSnapshot {
    let local = state.flows.snapshot();
    let rows = match state.store.flow_nodes().await {
        Ok(rows) => rows,
        Err(e) => {
            tracing::warn!(error = %e, "reading the flow nodes");
            return local;
        }
    };
    let mut remote = Vec::with_capacity(rows.len());
    for row in rows {
        match serde_json::from_str::<FlowSnapshot>(&row.snapshot) {
            Ok(snapshot) => remote.push(RemoteNode {
                info: anbao_flow::status::NodeInfo {
                    id: row.node_id,
                    role: row.role,
                    name: row.name,
                    partition: row.partition,
                },
                seen: row.updated_at.unix_timestamp(),
                snapshot,
            }),
            Err(e) => tracing::warn!(node = %row.node_id, error = %e, "a flow node's status could not be read"),
        }
    }
    merge(local, remote, state.store.clock().now().unix_timestamp())
}
