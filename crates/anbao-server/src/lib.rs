//! anbao's HTTP surface: the JSON API under `/api/v1` (with its OpenAPI
//! document), the server-rendered web UI, authentication (passwords, TOTP,
//! sessions, API tokens), authorisation, CSRF protection, security headers,
//! `/healthz` and Prometheus `/metrics`.
//!
//! Every route is declared once in [`routes::table`] with the access rule it
//! needs; the router is built only from that table, so a route cannot exist
//! without a rule. Request and response types live here, apart from the
//! domain types. This crate must not parse packets or intel formats, and
//! keeps no state in memory that a second node would need to see: sessions,
//! lockouts and everything else live in the store. The one in-memory
//! piece, the boards' wake-up channels (`board`), only speeds up what each
//! board also learns by polling the store.

mod api;
mod assets;
mod auth;
pub mod board;
pub mod compliance;
mod error;
mod extract;
mod headers;
pub mod i18n;
mod metrics;
pub mod notify;
mod openapi;
mod pdf;
pub mod routes;
pub mod signing;
pub mod taxii;
mod ui;

use std::sync::Arc;

use anbao_store::{LoginPolicy, SessionPolicy, Store};
use axum::Router;
use axum::extract::DefaultBodyLimit;

pub use auth::{ClientAddr, Principal};
pub use error::ApiError;
pub use i18n::Lang;
pub use openapi::openapi_json;

/// Largest request body accepted anywhere, in bytes.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// Server settings that requests depend on.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Mark cookies `Secure` (set when serving TLS or behind a TLS proxy).
    pub secure_cookies: bool,
    /// Language for visitors who have not chosen one.
    pub default_lang: Lang,
    pub login: LoginPolicy,
    pub session: SessionPolicy,
    /// Shown in the page header, e.g. the operator's name.
    pub instance_name: String,
    /// How risk scores band into levels.
    pub risk_method: anbao_model::risk::RiskMethod,
    /// The operator's grading rules, when they replace the shipped ones.
    pub grading_rules: Option<&'static anbao_model::grading::GradingRules>,
    /// The shipped requirement catalogue merged with the operator's own
    /// requirements, when there are any.
    pub catalogue: Option<&'static anbao_model::catalogue::Catalogue>,
    /// The operator's incident grading rules (with their reporting minutes
    /// from `anbao.toml`), when they differ from the shipped ones.
    pub incident_rules: Option<&'static anbao_model::incident::IncidentRules>,
    /// Which reporting clock applies to this operator (CAC measures art. 4).
    pub operator_category: anbao_model::incident::OperatorCategory,
    /// Chromium to print PDFs with; `None`: the first found on PATH.
    pub pdf_renderer: Option<std::path::PathBuf>,
    /// Largest TAXII envelope accepted (advertised as `max_content_length`).
    pub taxii_max_content_length: usize,
    /// Largest evidence file attached to an incident (bytes; 413 above).
    pub incident_evidence_max_bytes: usize,
    /// Where `submit` POSTs signed incident reports; `None`: submission off.
    pub report_submission_url: Option<String>,
    /// The Ed25519 key file that signs reports (created on first use);
    /// `None`: reports cannot be signed or submitted.
    pub report_signing_key: Option<std::path::PathBuf>,
    /// Inbound reports: how far the signed sending time may be from this
    /// server's clock, either way, before the report is refused as a
    /// replay (or a sender with a wrong clock).
    pub report_inbound_max_skew: std::time::Duration,
    /// Inbound reports accepted per sender key and minute (a token bucket
    /// in the database, shared by the nodes); 0: no limit.
    pub report_inbound_per_minute: u32,
    /// How often an open command-and-dispatch board checks the database for
    /// changes this process was not told about (made on another node or by
    /// the command line).
    pub board_poll_interval: std::time::Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            secure_cookies: false,
            default_lang: Lang::Zh,
            login: LoginPolicy::default(),
            session: SessionPolicy::default(),
            instance_name: String::new(),
            risk_method: anbao_model::risk::RiskMethod::default(),
            grading_rules: None,
            catalogue: None,
            incident_rules: None,
            operator_category: anbao_model::incident::OperatorCategory::Other,
            pdf_renderer: None,
            taxii_max_content_length: taxii::DEFAULT_MAX_CONTENT_LENGTH,
            incident_evidence_max_bytes: anbao_store::INCIDENT_EVIDENCE_MAX_DEFAULT,
            report_submission_url: None,
            report_signing_key: None,
            report_inbound_max_skew: api::reports::DEFAULT_INBOUND_MAX_SKEW,
            report_inbound_per_minute: api::reports::DEFAULT_INBOUND_PER_MINUTE,
            board_poll_interval: board::POLL_INTERVAL,
        }
    }
}

/// What every handler can reach.
#[derive(Clone, Debug)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<ServerConfig>,
    pub metrics: Arc<metrics::Metrics>,
    /// The threat-intelligence match index (rebuilt in the background by
    /// `LiveIndex::spawn_refresher`; handlers may refresh it on demand).
    pub intel: Arc<anbao_feeds::LiveIndex>,
    /// The embedded detection pipeline's inputs and counters (empty when
    /// `anbao serve` runs none).
    pub detection: Arc<anbao_detect::PipelineStatus>,
    /// The embedded flow collector's exporters, group rates and active
    /// attacks (`enabled: false` when `anbao serve` runs none); merged with
    /// the other flow nodes' by `api::flows::view`.
    pub flows: Arc<anbao_flow::FlowStatus>,
    /// Wakes the open command-and-dispatch boards of an incident that
    /// changed (in-process; see `board` for several nodes).
    pub board: Arc<board::BoardHub>,
    /// The report signing key once read (`api::reports::signing_key`):
    /// read from disk once per process, not on every incident page.
    pub report_key: Arc<std::sync::OnceLock<Arc<signing::SigningKey>>>,
}

impl AppState {
    pub fn new(store: Store, config: ServerConfig) -> AppState {
        let detection = Arc::new(anbao_detect::PipelineStatus::new());
        let flows = Arc::new(anbao_flow::FlowStatus::new());
        AppState {
            store,
            config: Arc::new(config),
            metrics: Arc::new(metrics::Metrics::new(detection.clone())),
            intel: Arc::new(anbao_feeds::LiveIndex::new()),
            detection,
            flows,
            board: Arc::new(board::BoardHub::default()),
            report_key: Arc::default(),
        }
    }
}

/// The whole application as a router, ready to serve or to test with
/// `oneshot` requests.
pub fn router(state: AppState) -> Router {
    let mut router: Router<AppState> = Router::new();
    for route in routes::table() {
        router = router.route(route.path, route.into_method_router());
    }
    router
        .fallback(error::not_found)
        .layer(axum::middleware::from_fn_with_state(state.board.clone(), board::publish_changes))
        .layer(axum::middleware::from_fn_with_state(state.clone(), auth::authenticate))
        .merge(taxii::router(state.clone(), state.config.taxii_max_content_length))
        .layer(axum::middleware::from_fn_with_state(state.metrics.clone(), metrics::track))
        .layer(axum::middleware::from_fn_with_state(state.config.clone(), headers::security_headers))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}
