//! The JSON API under `/api/v1`. Request types reject unknown fields; every
//! handler is described in the OpenAPI document (see `openapi.rs`).

pub mod accountability;
pub mod alerts;
pub mod assessments;
pub mod asset_import;
pub mod assets;
pub mod audit;
pub mod detection;
pub mod domains;
pub mod flows;
pub mod health;
pub mod incident_evidence;
pub mod incident_leaks;
pub mod incident_tasks;
pub mod incidents;
pub mod intel;
pub mod intel_sources;
pub mod me;
pub mod mitigations;
pub mod network_units;
pub mod notifications;
pub mod org_units;
pub mod plans;
pub mod reports;
pub mod requirements;
pub mod risks;
pub mod samples;
pub mod tokens;
pub mod users;
pub mod warnings;

use serde::Deserialize;

/// Paging for list endpoints.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct Page {
    /// At most this many items (default 100, at most 1000).
    pub limit: Option<i64>,
    /// Skip this many items.
    pub offset: Option<i64>,
}

impl Page {
    pub fn limit(&self) -> i64 {
        self.limit.unwrap_or(100).clamp(1, 1000)
    }
    pub fn offset(&self) -> i64 {
        self.offset.unwrap_or(0).max(0)
    }
}
