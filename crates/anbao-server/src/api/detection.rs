//! `/api/v1/detection`: the embedded detection pipeline of `anbao serve`
//! (issue #5; R3.1–R3.3, R8.1–R8.4) as it runs: each input's state and
//! counters, the alerts written, and the intel index it matches against.
//! Read-only; the same numbers are in `/metrics`.

use anbao_detect::StatusSnapshot;
use axum::Json;
use axum::extract::State;
use serde::Serialize;

use crate::AppState;

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct IndexInfo {
    /// Indicators in the live match index.
    pub indicators: u64,
    /// Stored indicators left out by allowlists.
    pub allowlisted: u64,
    /// Store generation the index reflects.
    pub generation: i64,
    /// Memory the index owns.
    pub heap_bytes: u64,
    pub build_seconds: f64,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct DetectionStatus {
    pub index: IndexInfo,
    /// `inputs` (name, kind: log/spool/interface, state: starting/running/
    /// idle/failed/finished with a `reason` when failed, packets, events,
    /// files, problems, last_problem, last_event_at), `detections`,
    /// `dropped`, `flushed_alerts`, `flush_failures`, `last_flush_at`
    /// (unix seconds).
    #[schema(value_type = Object)]
    pub pipeline: StatusSnapshot,
}

pub(crate) fn detection_status(state: &AppState) -> DetectionStatus {
    let snapshot = state.intel.current();
    DetectionStatus {
        index: IndexInfo {
            indicators: snapshot.indicators,
            allowlisted: snapshot.allowlisted,
            generation: snapshot.generation,
            heap_bytes: snapshot.index.heap_bytes() as u64,
            build_seconds: snapshot.build_time.as_secs_f64(),
        },
        pipeline: state.detection.snapshot(),
    }
}

#[utoipa::path(get, path = "/api/v1/detection", tag = "alerts",
    responses((status = 200, body = DetectionStatus)))]
pub async fn status(State(state): State<AppState>) -> Json<DetectionStatus> {
    Json(detection_status(&state))
}
