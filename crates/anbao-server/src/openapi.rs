//! The OpenAPI 3 document, generated from the handlers' annotations.

use axum::Json;
use axum::response::{IntoResponse, Response};
use utoipa::OpenApi;

use crate::api;

#[derive(OpenApi)]
#[openapi(
    info(title = "anbao API", description = "Cybersecurity assurance for telecom and internet operators (MIIT 2014-368). \
        Authenticate with a browser session (send X-CSRF-Token on changes) or `Authorization: Bearer TOKEN`."),
    paths(
        api::health::healthz,
        api::me::get,
        api::users::list, api::users::create, api::users::get, api::users::update, api::users::set_password,
        api::org_units::list, api::org_units::create, api::org_units::get, api::org_units::update, api::org_units::delete,
        api::tokens::list, api::tokens::create, api::tokens::revoke,
        api::notifications::list, api::notifications::channels, api::notifications::create_channel,
        api::notifications::update_channel, api::notifications::delete_channel, api::notifications::test_channel,
        api::notifications::rules, api::notifications::create_rule, api::notifications::update_rule,
        api::notifications::delete_rule,
        api::audit::list, api::audit::export, api::audit::verify,
        api::assets::list, api::assets::create, api::assets::get, api::assets::replace, api::assets::delete,
        api::assets::add_component, api::assets::delete_component, api::assets::set_domains,
        api::domains::list, api::domains::create, api::domains::delete,
        api::domains::list_boundaries, api::domains::create_boundary, api::domains::delete_boundary,
        api::accountability::list, api::accountability::set,
        api::network_units::list, api::network_units::create, api::network_units::get, api::network_units::replace,
        api::network_units::delete, api::network_units::set_assets, api::network_units::grade, api::network_units::review,
        api::network_units::file, api::network_units::record_assessment, api::network_units::filing_form,
        api::network_units::grading_rules, api::network_units::propose, api::network_units::deadlines,
        api::requirements::list, api::asset_import::import, api::asset_import::export,
        api::assessments::start, api::assessments::get, api::assessments::results, api::assessments::add_link,
        api::assessments::download, api::assessments::complete, api::assessments::tasks, api::assessments::close_task,
        api::risks::list, api::risks::create, api::risks::replace, api::risks::clearances, api::risks::clear,
        api::intel::lookup, api::intel::list, api::intel::get, api::intel::delete, api::intel::stats,
        api::intel::start, api::intel::runs, api::intel::run, api::intel::rejects, api::intel::export,
        api::intel::allowlists, api::intel::save_allowlist_route, api::intel::delete_allowlist,
        api::samples::list, api::samples::get, api::samples::upload, api::samples::download, api::samples::delete,
        api::intel_sources::list, api::intel_sources::create, api::intel_sources::delete, api::intel_sources::update, api::intel_sources::pull,
        api::alerts::list, api::alerts::get, api::alerts::set_status, api::alerts::add_action, api::alerts::victims,
        api::alerts::hours, api::alerts::assign, api::alerts::bulk, api::alerts::suppressions,
        api::alerts::create_suppression, api::alerts::delete_suppression, api::detection::status, api::flows::status, api::flows::traffic,
        api::flows::profile,
        api::mitigations::list, api::mitigations::get, api::mitigations::approve, api::mitigations::reject,
        api::mitigations::withdraw,
        api::incidents::grade, api::incidents::list, api::incidents::create, api::incidents::get,
        api::incidents::update_facts, api::incidents::override_level, api::incidents::set_status, api::incidents::add_entry,
        api::incidents::acknowledge, api::incidents::metrics,
        api::incident_tasks::list, api::incident_tasks::create, api::incident_tasks::update,
        api::incident_tasks::messages, api::incident_tasks::post_message,
        api::incident_evidence::list, api::incident_evidence::upload, api::incident_evidence::download,
        api::incident_evidence::delete, api::incident_evidence::observables, api::incident_evidence::add_observable,
        api::incident_evidence::from_alerts, api::incident_evidence::delete_observable, api::incident_evidence::lookup,
        api::incident_evidence::publish,
        api::incident_leaks::get, api::incident_leaks::update, api::incident_leaks::notified,
        api::warnings::list, api::warnings::create, api::warnings::get, api::warnings::adjust, api::warnings::lift,
        api::warnings::ack,
        api::plans::list, api::plans::create, api::plans::get, api::plans::update, api::plans::reviewed,
        api::plans::versions, api::plans::list_drills, api::plans::create_drill, api::plans::update_drill, api::plans::start_exercise,
        api::reports::create, api::reports::list, api::reports::review, api::reports::get, api::reports::submit,
        api::reports::signing_key_info, api::reports::inbound, api::reports::received, api::reports::received_get,
        api::reports::senders, api::reports::add_sender, api::reports::revoke_sender,
        crate::taxii::manage::list, crate::taxii::manage::create, crate::taxii::manage::update, crate::taxii::manage::delete, crate::taxii::manage::publish,
    ),
    tags(
        (name = "operations"), (name = "accounts"), (name = "organisation"), (name = "audit"), (name = "govern"), (name = "alerts"), (name = "respond"),
    )
)]
struct ApiDoc;

/// The document as JSON, e.g. for `anbao openapi` or tests.
pub fn openapi_json() -> serde_json::Value {
    serde_json::to_value(ApiDoc::openapi()).unwrap_or_default()
}

pub async fn serve() -> Response {
    Json(openapi_json()).into_response()
}
