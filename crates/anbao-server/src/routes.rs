//! The route table: every path, its method, what it needs, and whether it
//! answers as API (JSON, 401) or page (HTML, redirect to login). The router
//! is built from this table and nothing else, and the authorisation matrix
//! test walks it.

use anbao_model::Permission;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::MethodRouter;

use crate::{AppState, api, assets, auth, taxii, ui};

/// What a route requires of the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone, logged in or not.
    Public,
    /// Password accepted but the second factor still owed.
    MfaPending,
    /// Any logged-in principal.
    Authenticated,
    /// A logged-in principal whose role holds this permission.
    Permission(Permission),
}

/// How a refusal is answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Api,
    Page,
}

pub struct Route {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
    pub kind: Kind,
    /// A larger body limit than the default, for uploads.
    body_limit: Option<usize>,
    handler: MethodRouter<AppState>,
}

impl std::fmt::Debug for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} {:?} {:?}", self.method, self.path, self.access, self.kind)
    }
}

impl Route {
    fn new<H, T>(method: Method, path: &'static str, access: Access, kind: Kind, handler: H) -> Route
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let filter = match method.as_str() {
            "GET" => axum::routing::get(handler),
            "POST" => axum::routing::post(handler),
            "PATCH" => axum::routing::patch(handler),
            "PUT" => axum::routing::put(handler),
            "DELETE" => axum::routing::delete(handler),
            other => unreachable!("route table uses method {other}"),
        };
        Route { method, path, access, kind, body_limit: None, handler: filter }
    }

    fn body_limit(mut self, bytes: usize) -> Route {
        self.body_limit = Some(bytes);
        self
    }

    pub(crate) fn into_method_router(self) -> MethodRouter<AppState> {
        let rule = auth::Rule { access: self.access, kind: self.kind };
        let handler = match self.body_limit {
            Some(n) => self.handler.layer(axum::extract::DefaultBodyLimit::max(n)),
            None => self.handler,
        };
        handler.route_layer(axum::middleware::from_fn_with_state(rule, auth::enforce))
    }
}

use Access::{Authenticated, MfaPending, Public};
use Kind::{Api, Page};
use Permission::{ManageGovern, ManageOrgUnits, ManageTokens, ManageUsers, ReadAudit, ReadDirectory, ReadGovern};
use Permission::{ManageIncidents, ReadAlerts, ReadIncidents, TriageAlerts};
use Permission::{ManageNotifications, ManageReportSenders, ReadReceivedReports};

fn perm(p: Permission) -> Access {
    Access::Permission(p)
}

/// Every route of the application.
pub fn table() -> Vec<Route> {
    let (get, post, put, patch, delete) = (Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE);
    vec![
        // Operations.
        Route::new(get.clone(), "/healthz", Public, Api, api::health::healthz),
        Route::new(get.clone(), "/metrics", Public, Api, crate::metrics::render),
        Route::new(get.clone(), "/static/{file}", Public, Page, assets::serve),
        Route::new(get.clone(), "/favicon.ico", Public, Page, assets::favicon),
        // Sign-in.
        Route::new(get.clone(), "/login", Public, Page, ui::login::form),
        Route::new(post.clone(), "/login", Public, Page, ui::login::submit),
        Route::new(get.clone(), "/login/totp", MfaPending, Page, ui::login::totp_form),
        Route::new(post.clone(), "/login/totp", MfaPending, Page, ui::login::totp_submit),
        Route::new(post.clone(), "/logout", Authenticated, Page, ui::login::logout),
        Route::new(get.clone(), "/lang", Public, Page, ui::lang::set),
        // Pages.
        Route::new(get.clone(), "/", Authenticated, Page, ui::dashboard::page),
        Route::new(get.clone(), "/areas/{area}", Authenticated, Page, ui::areas::page),
        Route::new(get.clone(), "/account", Authenticated, Page, ui::account::page),
        Route::new(post.clone(), "/account/password", Authenticated, Page, ui::account::change_password),
        Route::new(post.clone(), "/account/totp", Authenticated, Page, ui::account::enable_totp),
        Route::new(post.clone(), "/account/totp/disable", Authenticated, Page, ui::account::disable_totp),
        Route::new(get.clone(), "/admin/users", perm(ReadDirectory), Page, ui::users::list),
        Route::new(post.clone(), "/admin/users", perm(ManageUsers), Page, ui::users::create),
        Route::new(get.clone(), "/admin/users/{id}", perm(ReadDirectory), Page, ui::users::detail),
        Route::new(post.clone(), "/admin/users/{id}", perm(ManageUsers), Page, ui::users::update),
        Route::new(post.clone(), "/admin/users/{id}/password", perm(ManageUsers), Page, ui::users::reset_password),
        Route::new(get.clone(), "/admin/org-units", perm(ReadDirectory), Page, ui::org_units::list),
        Route::new(post.clone(), "/admin/org-units", perm(ManageOrgUnits), Page, ui::org_units::create),
        Route::new(post.clone(), "/admin/org-units/{id}", perm(ManageOrgUnits), Page, ui::org_units::update),
        Route::new(post.clone(), "/admin/org-units/{id}/delete", perm(ManageOrgUnits), Page, ui::org_units::delete),
        Route::new(get.clone(), "/admin/tokens", perm(ManageTokens), Page, ui::tokens::list),
        Route::new(post.clone(), "/admin/tokens", perm(ManageTokens), Page, ui::tokens::create),
        Route::new(post.clone(), "/admin/tokens/{id}/revoke", perm(ManageTokens), Page, ui::tokens::revoke),
        Route::new(get.clone(), "/audit", perm(ReadAudit), Page, ui::audit::page),
        Route::new(get.clone(), "/govern/assets", perm(ReadGovern), Page, ui::assets::list),
        Route::new(post.clone(), "/govern/assets", perm(ManageGovern), Page, ui::assets::create),
        Route::new(get.clone(), "/govern/assets/import", perm(ManageGovern), Page, ui::asset_import::page),
        Route::new(post.clone(), "/govern/assets/import", perm(ManageGovern), Page, ui::asset_import::upload)
            .body_limit(api::asset_import::IMPORT_LIMIT),
        Route::new(get.clone(), "/govern/assets/{id}", perm(ReadGovern), Page, ui::assets::detail),
        Route::new(post.clone(), "/govern/assets/{id}", perm(ManageGovern), Page, ui::assets::update),
        Route::new(post.clone(), "/govern/assets/{id}/delete", perm(ManageGovern), Page, ui::assets::delete),
        Route::new(post.clone(), "/govern/assets/{id}/components", perm(ManageGovern), Page, ui::assets::add_component),
        Route::new(
            post.clone(),
            "/govern/assets/{id}/components/{component_id}/delete",
            perm(ManageGovern),
            Page,
            ui::assets::delete_component,
        ),
        Route::new(post.clone(), "/govern/assets/{id}/domains", perm(ManageGovern), Page, ui::assets::set_domains),
        Route::new(get.clone(), "/govern/domains", perm(ReadGovern), Page, ui::domains::page),
        Route::new(post.clone(), "/govern/domains", perm(ManageGovern), Page, ui::domains::create),
        Route::new(post.clone(), "/govern/domains/{id}/delete", perm(ManageGovern), Page, ui::domains::delete),
        Route::new(post.clone(), "/govern/boundaries", perm(ManageGovern), Page, ui::domains::create_boundary),
        Route::new(
            post.clone(),
            "/govern/boundaries/{id}/delete",
            perm(ManageGovern),
            Page,
            ui::domains::delete_boundary,
        ),
        Route::new(get.clone(), "/govern/accountability", perm(ReadGovern), Page, ui::accountability::page),
        Route::new(get.clone(), "/govern/units", perm(ReadGovern), Page, ui::network_units::list),
        Route::new(post.clone(), "/govern/units", perm(ManageGovern), Page, ui::network_units::create),
        Route::new(get.clone(), "/govern/units/{id}", perm(ReadGovern), Page, ui::network_units::detail),
        Route::new(post.clone(), "/govern/units/{id}", perm(ManageGovern), Page, ui::network_units::update),
        Route::new(post.clone(), "/govern/units/{id}/delete", perm(ManageGovern), Page, ui::network_units::delete),
        Route::new(post.clone(), "/govern/units/{id}/grading", perm(ManageGovern), Page, ui::network_units::grade),
        Route::new(post.clone(), "/govern/units/{id}/review", perm(ManageGovern), Page, ui::network_units::review),
        Route::new(post.clone(), "/govern/units/{id}/filing", perm(ManageGovern), Page, ui::network_units::file),
        Route::new(
            post.clone(),
            "/govern/units/{id}/assessments",
            perm(ManageGovern),
            Page,
            ui::network_units::record_assessment,
        ),
        Route::new(post.clone(), "/govern/units/{id}/assets", perm(ManageGovern), Page, ui::network_units::set_assets),
        Route::new(
            get.clone(),
            "/govern/units/{id}/filing-form",
            perm(ReadGovern),
            Page,
            ui::network_units::filing_form,
        ),
        Route::new(
            get.clone(),
            "/govern/units/{id}/filing-form.pdf",
            perm(ReadGovern),
            Page,
            ui::network_units::filing_form_pdf,
        ),
        Route::new(get.clone(), "/govern/deadlines", perm(ReadGovern), Page, ui::network_units::deadlines),
        Route::new(post.clone(), "/govern/units/{id}/compliance", perm(ManageGovern), Page, ui::assessments::start),
        Route::new(get.clone(), "/govern/assessments/{id}", perm(ReadGovern), Page, ui::assessments::page),
        Route::new(
            post.clone(),
            "/govern/assessments/{id}/results",
            perm(ManageGovern),
            Page,
            ui::assessments::results,
        ),
        Route::new(
            post.clone(),
            "/govern/assessments/{id}/evidence",
            perm(ManageGovern),
            Page,
            ui::assessments::evidence,
        )
        .body_limit(anbao_store::MAX_EVIDENCE_BYTES + 64 * 1024),
        Route::new(
            post.clone(),
            "/govern/assessments/{id}/complete",
            perm(ManageGovern),
            Page,
            ui::assessments::complete,
        ),
        Route::new(get.clone(), "/govern/tasks", perm(ReadGovern), Page, ui::assessments::tasks),
        Route::new(get.clone(), "/govern/risks", perm(ReadGovern), Page, ui::risks::page),
        Route::new(post.clone(), "/govern/risks", perm(ManageGovern), Page, ui::risks::create),
        Route::new(post.clone(), "/govern/assets/{id}/prelaunch", perm(ManageGovern), Page, ui::risks::clear),
        Route::new(post.clone(), "/govern/tasks/{id}/close", perm(ManageGovern), Page, ui::assessments::close_task),
        Route::new(get.clone(), "/govern/requirements", perm(ReadGovern), Page, ui::requirements::page),
        Route::new(post.clone(), "/govern/accountability", perm(ManageGovern), Page, ui::accountability::set),
        // Threat intelligence pages (issue #4; R3.5, R3.6, R8.5).
        Route::new(get.clone(), "/intel", perm(Permission::ReadIntel), Page, ui::intel::list),
        Route::new(get.clone(), "/intel/indicators/{id}", perm(Permission::ReadIntel), Page, ui::intel::detail),
        Route::new(
            post.clone(),
            "/intel/indicators/{id}/delete",
            perm(Permission::ManageIntel),
            Page,
            ui::intel::delete,
        ),
        Route::new(get.clone(), "/intel/import", perm(Permission::ReadIntel), Page, ui::intel::import_page),
        Route::new(post.clone(), "/intel/import", perm(Permission::ManageIntel), Page, ui::intel::upload)
            .body_limit(api::intel::IMPORT_LIMIT),
        Route::new(get.clone(), "/intel/imports/{id}", perm(Permission::ReadIntel), Page, ui::intel::run_page),
        Route::new(get.clone(), "/intel/allowlists", perm(Permission::ReadIntel), Page, ui::intel::allowlists),
        Route::new(
            post.clone(),
            "/intel/allowlists",
            perm(Permission::ManageIntel),
            Page,
            ui::intel::save_allowlist_form,
        ),
        Route::new(
            post.clone(),
            "/intel/allowlists/{id}/delete",
            perm(Permission::ManageIntel),
            Page,
            ui::intel::delete_allowlist,
        ),
        Route::new(get.clone(), "/intel/export", perm(Permission::ReadIntel), Page, ui::intel::export_page),
        Route::new(get.clone(), "/intel/samples", perm(Permission::ReadIntel), Page, ui::samples::list),
        Route::new(post.clone(), "/intel/samples", perm(Permission::ManageIntel), Page, ui::samples::upload)
            .body_limit(api::samples::UPLOAD_LIMIT),
        Route::new(get.clone(), "/intel/samples/{id}", perm(Permission::ReadIntel), Page, ui::samples::detail),
        Route::new(
            post.clone(),
            "/intel/samples/{id}/delete",
            perm(Permission::ManageIntel),
            Page,
            ui::samples::delete,
        ),
        Route::new(get.clone(), "/intel/taxii", perm(Permission::ReadIntel), Page, ui::taxii::page),
        Route::new(post.clone(), "/intel/taxii", perm(Permission::ManageIntel), Page, ui::taxii::create),
        Route::new(post.clone(), "/intel/taxii/{id}", perm(Permission::ManageIntel), Page, ui::taxii::update),
        Route::new(post.clone(), "/intel/taxii/{id}/delete", perm(Permission::ManageIntel), Page, ui::taxii::delete),
        Route::new(post.clone(), "/intel/taxii/{id}/publish", perm(Permission::ManageIntel), Page, ui::taxii::publish),
        Route::new(get.clone(), "/intel/sources", perm(Permission::ManageIntel), Page, ui::intel_sources::page),
        Route::new(post.clone(), "/intel/sources", perm(Permission::ManageIntel), Page, ui::intel_sources::create),
        Route::new(get.clone(), "/intel/sources/{id}", perm(Permission::ManageIntel), Page, ui::intel_sources::edit),
        Route::new(post.clone(), "/intel/sources/{id}", perm(Permission::ManageIntel), Page, ui::intel_sources::save),
        Route::new(
            post.clone(),
            "/intel/sources/{id}/pull",
            perm(Permission::ManageIntel),
            Page,
            ui::intel_sources::pull,
        ),
        Route::new(
            post.clone(),
            "/intel/sources/{id}/delete",
            perm(Permission::ManageIntel),
            Page,
            ui::intel_sources::delete,
        ),
        // Detection alerts (issue #5; R3.1–R3.3, R3.8): everyone reads, triagers change.
        Route::new(get.clone(), "/alerts", perm(ReadAlerts), Page, ui::alerts::list),
        Route::new(get.clone(), "/alerts/victims", perm(ReadAlerts), Page, ui::alerts::victims),
        Route::new(get.clone(), "/detection", perm(ReadAlerts), Page, ui::detection::page),
        Route::new(get.clone(), "/flows", perm(ReadAlerts), Page, ui::flows::page),
        Route::new(get.clone(), "/alerts/{id}", perm(ReadAlerts), Page, ui::alerts::detail),
        Route::new(post.clone(), "/alerts/{id}/status", perm(TriageAlerts), Page, ui::alerts::set_status),
        Route::new(post.clone(), "/alerts/{id}/actions", perm(TriageAlerts), Page, ui::alerts::add_action),
        Route::new(post.clone(), "/alerts/{id}/assign", perm(TriageAlerts), Page, ui::alerts::assign),
        Route::new(post.clone(), "/alerts/bulk", perm(TriageAlerts), Page, ui::alerts::bulk),
        Route::new(get.clone(), "/alerts/suppressions", perm(ReadAlerts), Page, ui::alerts::suppressions),
        Route::new(post.clone(), "/alerts/suppressions", perm(TriageAlerts), Page, ui::alerts::create_suppression),
        Route::new(
            post.clone(),
            "/alerts/suppressions/{id}/delete",
            perm(TriageAlerts),
            Page,
            ui::alerts::delete_suppression,
        ),
        // Incidents (issue #7; R2.5): everyone reads, the working roles manage.
        Route::new(get.clone(), "/incidents", perm(ReadIncidents), Page, ui::incidents::list),
        Route::new(post.clone(), "/incidents", perm(ManageIncidents), Page, ui::incidents::create),
        Route::new(get.clone(), "/incidents/new", perm(ManageIncidents), Page, ui::incidents::new_form),
        Route::new(get.clone(), "/incidents/{id}", perm(ReadIncidents), Page, ui::incidents::detail),
        Route::new(post.clone(), "/incidents/{id}/facts", perm(ManageIncidents), Page, ui::incidents::update_facts),
        Route::new(post.clone(), "/incidents/{id}/level", perm(ManageIncidents), Page, ui::incidents::override_level),
        Route::new(post.clone(), "/incidents/{id}/status", perm(ManageIncidents), Page, ui::incidents::set_status),
        Route::new(post.clone(), "/incidents/{id}/timeline", perm(ManageIncidents), Page, ui::incidents::add_entry),
        Route::new(post.clone(), "/incidents/{id}/leak", perm(ManageIncidents), Page, ui::incident_leaks::update),
        Route::new(
            post.clone(),
            "/incidents/{id}/leak/notified",
            perm(ManageIncidents),
            Page,
            ui::incident_leaks::notified,
        ),
        Route::new(post.clone(), "/incidents/{id}/tasks", perm(ManageIncidents), Page, ui::board::create_task),
        Route::new(post.clone(), "/incidents/{id}/tasks/{task}", perm(ManageIncidents), Page, ui::board::update_task),
        Route::new(post.clone(), "/incidents/{id}/messages", perm(ManageIncidents), Page, ui::board::post_message),
        Route::new(get.clone(), "/incidents/{id}/board", perm(ReadIncidents), Page, ui::board::page),
        Route::new(get.clone(), "/incidents/{id}/board/events", perm(ReadIncidents), Page, ui::board::events),
        Route::new(post.clone(), "/alerts/{id}/incident", perm(ManageIncidents), Page, ui::incidents::escalate_alert),
        // Warnings (issue #7; R2.4): every signed-in caller reads and, as a
        // recipient, acknowledges; the roles that manage incidents issue,
        // adjust and lift.
        Route::new(get.clone(), "/warnings", Authenticated, Page, ui::warnings::list),
        Route::new(post.clone(), "/warnings", perm(ManageIncidents), Page, ui::warnings::create),
        Route::new(get.clone(), "/warnings/new", perm(ManageIncidents), Page, ui::warnings::new_form),
        Route::new(get.clone(), "/warnings/{id}", Authenticated, Page, ui::warnings::detail),
        Route::new(post.clone(), "/warnings/{id}/adjust", perm(ManageIncidents), Page, ui::warnings::adjust),
        Route::new(post.clone(), "/warnings/{id}/lift", perm(ManageIncidents), Page, ui::warnings::lift),
        Route::new(post.clone(), "/warnings/{id}/ack", Authenticated, Page, ui::warnings::ack),
        Route::new(get.clone(), "/plans", Authenticated, Page, ui::plans::list),
        Route::new(post.clone(), "/plans", perm(ManageIncidents), Page, ui::plans::create),
        Route::new(get.clone(), "/plans/new", perm(ManageIncidents), Page, ui::plans::new_form),
        Route::new(get.clone(), "/plans/{id}", Authenticated, Page, ui::plans::detail),
        Route::new(post.clone(), "/plans/{id}", perm(ManageIncidents), Page, ui::plans::update),
        Route::new(post.clone(), "/plans/{id}/reviewed", perm(ManageIncidents), Page, ui::plans::reviewed),
        Route::new(get.clone(), "/plans/{id}/versions/{version}/document", Authenticated, Page, ui::plans::document),
        Route::new(post.clone(), "/drills", perm(ManageIncidents), Page, ui::plans::create_drill),
        Route::new(get.clone(), "/drills/new", perm(ManageIncidents), Page, ui::plans::new_drill_form),
        Route::new(get.clone(), "/drills/{id}", Authenticated, Page, ui::plans::drill_detail),
        Route::new(post.clone(), "/drills/{id}", perm(ManageIncidents), Page, ui::plans::update_drill),
        Route::new(post.clone(), "/drills/{id}/exercise", perm(ManageIncidents), Page, ui::plans::start_exercise),
        // Regulator reports (issue #7; R2.4, R8.5, S1).
        Route::new(post.clone(), "/incidents/{id}/reports", perm(ManageIncidents), Page, ui::reports::generate),
        Route::new(post.clone(), "/incidents/{id}/review", perm(ManageIncidents), Page, ui::reports::review),
        Route::new(get.clone(), "/reports/received", perm(ReadReceivedReports), Page, ui::reports::received),
        Route::new(get.clone(), "/reports/received/{id}", perm(ReadReceivedReports), Page, ui::reports::received_view),
        Route::new(post.clone(), "/reports/senders", perm(ManageReportSenders), Page, ui::reports::add_sender),
        Route::new(
            post.clone(),
            "/reports/senders/{id}/revoke",
            perm(ManageReportSenders),
            Page,
            ui::reports::revoke_sender,
        ),
        Route::new(get.clone(), "/reports/{id}", perm(ReadIncidents), Page, ui::reports::view),
        Route::new(post.clone(), "/reports/{id}/submit", perm(ManageIncidents), Page, ui::reports::submit),
        // JSON API.
        Route::new(get.clone(), "/api/v1/openapi.json", Public, Api, crate::openapi::serve),
        Route::new(get.clone(), "/api/v1/me", Authenticated, Api, api::me::get),
        Route::new(get.clone(), "/api/v1/users", perm(ReadDirectory), Api, api::users::list),
        Route::new(post.clone(), "/api/v1/users", perm(ManageUsers), Api, api::users::create),
        Route::new(get.clone(), "/api/v1/users/{id}", perm(ReadDirectory), Api, api::users::get),
        Route::new(patch.clone(), "/api/v1/users/{id}", perm(ManageUsers), Api, api::users::update),
        Route::new(post.clone(), "/api/v1/users/{id}/password", perm(ManageUsers), Api, api::users::set_password),
        Route::new(get.clone(), "/api/v1/org-units", perm(ReadDirectory), Api, api::org_units::list),
        Route::new(post.clone(), "/api/v1/org-units", perm(ManageOrgUnits), Api, api::org_units::create),
        Route::new(get.clone(), "/api/v1/org-units/{id}", perm(ReadDirectory), Api, api::org_units::get),
        Route::new(patch.clone(), "/api/v1/org-units/{id}", perm(ManageOrgUnits), Api, api::org_units::update),
        Route::new(delete.clone(), "/api/v1/org-units/{id}", perm(ManageOrgUnits), Api, api::org_units::delete),
        Route::new(get.clone(), "/api/v1/tokens", perm(ManageTokens), Api, api::tokens::list),
        Route::new(post.clone(), "/api/v1/tokens", perm(ManageTokens), Api, api::tokens::create),
        Route::new(delete.clone(), "/api/v1/tokens/{id}", perm(ManageTokens), Api, api::tokens::revoke),
        Route::new(get.clone(), "/api/v1/audit", perm(ReadAudit), Api, api::audit::list),
        Route::new(get.clone(), "/api/v1/audit/export", perm(ReadAudit), Api, api::audit::export),
        Route::new(get.clone(), "/api/v1/audit/verify", perm(ReadAudit), Api, api::audit::verify),
        // Govern: assets, domains, accountability (R1.3, R1.4, S3).
        Route::new(get.clone(), "/api/v1/assets", perm(ReadGovern), Api, api::assets::list),
        Route::new(post.clone(), "/api/v1/assets", perm(ManageGovern), Api, api::assets::create),
        Route::new(post.clone(), "/api/v1/assets/import", perm(ManageGovern), Api, api::asset_import::import)
            .body_limit(api::asset_import::IMPORT_LIMIT),
        Route::new(get.clone(), "/api/v1/assets/export", perm(ReadGovern), Api, api::asset_import::export),
        Route::new(get.clone(), "/api/v1/assets/{id}", perm(ReadGovern), Api, api::assets::get),
        Route::new(put.clone(), "/api/v1/assets/{id}", perm(ManageGovern), Api, api::assets::replace),
        Route::new(delete.clone(), "/api/v1/assets/{id}", perm(ManageGovern), Api, api::assets::delete),
        Route::new(post.clone(), "/api/v1/assets/{id}/components", perm(ManageGovern), Api, api::assets::add_component),
        Route::new(
            delete.clone(),
            "/api/v1/assets/{id}/components/{component_id}",
            perm(ManageGovern),
            Api,
            api::assets::delete_component,
        ),
        Route::new(put.clone(), "/api/v1/assets/{id}/domains", perm(ManageGovern), Api, api::assets::set_domains),
        Route::new(get.clone(), "/api/v1/security-domains", perm(ReadGovern), Api, api::domains::list),
        Route::new(post.clone(), "/api/v1/security-domains", perm(ManageGovern), Api, api::domains::create),
        Route::new(delete.clone(), "/api/v1/security-domains/{id}", perm(ManageGovern), Api, api::domains::delete),
        Route::new(get.clone(), "/api/v1/boundaries", perm(ReadGovern), Api, api::domains::list_boundaries),
        Route::new(post.clone(), "/api/v1/boundaries", perm(ManageGovern), Api, api::domains::create_boundary),
        Route::new(delete.clone(), "/api/v1/boundaries/{id}", perm(ManageGovern), Api, api::domains::delete_boundary),
        Route::new(get.clone(), "/api/v1/accountability", perm(ReadGovern), Api, api::accountability::list),
        // Grading and filing (R1.1).
        Route::new(get.clone(), "/api/v1/network-units", perm(ReadGovern), Api, api::network_units::list),
        Route::new(post.clone(), "/api/v1/network-units", perm(ManageGovern), Api, api::network_units::create),
        Route::new(get.clone(), "/api/v1/network-units/{id}", perm(ReadGovern), Api, api::network_units::get),
        Route::new(put.clone(), "/api/v1/network-units/{id}", perm(ManageGovern), Api, api::network_units::replace),
        Route::new(delete.clone(), "/api/v1/network-units/{id}", perm(ManageGovern), Api, api::network_units::delete),
        Route::new(
            put.clone(),
            "/api/v1/network-units/{id}/assets",
            perm(ManageGovern),
            Api,
            api::network_units::set_assets,
        ),
        Route::new(
            post.clone(),
            "/api/v1/network-units/{id}/grading",
            perm(ManageGovern),
            Api,
            api::network_units::grade,
        ),
        Route::new(
            post.clone(),
            "/api/v1/network-units/{id}/review",
            perm(ManageGovern),
            Api,
            api::network_units::review,
        ),
        Route::new(
            post.clone(),
            "/api/v1/network-units/{id}/filing",
            perm(ManageGovern),
            Api,
            api::network_units::file,
        ),
        Route::new(
            post.clone(),
            "/api/v1/network-units/{id}/assessments",
            perm(ManageGovern),
            Api,
            api::network_units::record_assessment,
        ),
        Route::new(
            get.clone(),
            "/api/v1/network-units/{id}/filing-form",
            perm(ReadGovern),
            Api,
            api::network_units::filing_form,
        ),
        Route::new(get.clone(), "/api/v1/grading/rules", perm(ReadGovern), Api, api::network_units::grading_rules),
        Route::new(post.clone(), "/api/v1/grading/propose", perm(ReadGovern), Api, api::network_units::propose),
        Route::new(get.clone(), "/api/v1/deadlines", perm(ReadGovern), Api, api::network_units::deadlines),
        Route::new(get.clone(), "/api/v1/requirements", perm(ReadGovern), Api, api::requirements::list),
        // Compliance assessments (R1.2).
        Route::new(post.clone(), "/api/v1/assessments", perm(ManageGovern), Api, api::assessments::start),
        Route::new(get.clone(), "/api/v1/assessments/{id}", perm(ReadGovern), Api, api::assessments::get),
        Route::new(
            post.clone(),
            "/api/v1/assessments/{id}/results",
            perm(ManageGovern),
            Api,
            api::assessments::results,
        ),
        Route::new(
            post.clone(),
            "/api/v1/assessments/{id}/evidence",
            perm(ManageGovern),
            Api,
            api::assessments::add_link,
        ),
        Route::new(
            get.clone(),
            "/api/v1/assessments/{id}/evidence/{evidence_id}",
            perm(ReadGovern),
            Api,
            api::assessments::download,
        ),
        Route::new(
            post.clone(),
            "/api/v1/assessments/{id}/complete",
            perm(ManageGovern),
            Api,
            api::assessments::complete,
        ),
        Route::new(get.clone(), "/api/v1/remediation-tasks", perm(ReadGovern), Api, api::assessments::tasks),
        Route::new(get.clone(), "/api/v1/risks", perm(ReadGovern), Api, api::risks::list),
        Route::new(post.clone(), "/api/v1/risks", perm(ManageGovern), Api, api::risks::create),
        Route::new(put.clone(), "/api/v1/risks/{id}", perm(ManageGovern), Api, api::risks::replace),
        Route::new(get.clone(), "/api/v1/assets/{id}/prelaunch", perm(ReadGovern), Api, api::risks::clearances),
        Route::new(post.clone(), "/api/v1/assets/{id}/prelaunch", perm(ManageGovern), Api, api::risks::clear),
        Route::new(
            post.clone(),
            "/api/v1/remediation-tasks/{id}/close",
            perm(ManageGovern),
            Api,
            api::assessments::close_task,
        ),
        Route::new(
            put.clone(),
            "/api/v1/accountability/{org_unit_id}",
            perm(ManageGovern),
            Api,
            api::accountability::set,
        ),
        // Threat intelligence (issue #4; R3.5, R3.6, R8.5).
        Route::new(get.clone(), "/api/v1/intel/lookup", perm(Permission::ReadIntel), Api, api::intel::lookup),
        Route::new(get.clone(), "/api/v1/intel/indicators", perm(Permission::ReadIntel), Api, api::intel::list),
        Route::new(get.clone(), "/api/v1/intel/indicators/{id}", perm(Permission::ReadIntel), Api, api::intel::get),
        Route::new(
            delete.clone(),
            "/api/v1/intel/indicators/{id}",
            perm(Permission::ManageIntel),
            Api,
            api::intel::delete,
        ),
        Route::new(get.clone(), "/api/v1/intel/stats", perm(Permission::ReadIntel), Api, api::intel::stats),
        Route::new(post.clone(), "/api/v1/intel/imports", perm(Permission::ManageIntel), Api, api::intel::start)
            .body_limit(api::intel::IMPORT_LIMIT),
        Route::new(get.clone(), "/api/v1/intel/imports", perm(Permission::ReadIntel), Api, api::intel::runs),
        Route::new(get.clone(), "/api/v1/intel/imports/{id}", perm(Permission::ReadIntel), Api, api::intel::run),
        Route::new(
            get.clone(),
            "/api/v1/intel/imports/{id}/rejects.csv",
            perm(Permission::ReadIntel),
            Api,
            api::intel::rejects,
        ),
        Route::new(get.clone(), "/api/v1/intel/export", perm(Permission::ReadIntel), Api, api::intel::export),
        Route::new(get.clone(), "/api/v1/intel/allowlists", perm(Permission::ReadIntel), Api, api::intel::allowlists),
        Route::new(
            post.clone(),
            "/api/v1/intel/allowlists",
            perm(Permission::ManageIntel),
            Api,
            api::intel::save_allowlist_route,
        )
        .body_limit(api::intel::ALLOWLIST_LIMIT),
        Route::new(
            delete.clone(),
            "/api/v1/intel/allowlists/{id}",
            perm(Permission::ManageIntel),
            Api,
            api::intel::delete_allowlist,
        ),
        // The malware sample library (R3.5); downloads are always "infected" zips.
        Route::new(get.clone(), "/api/v1/intel/samples", perm(Permission::ReadIntel), Api, api::samples::list),
        Route::new(post.clone(), "/api/v1/intel/samples", perm(Permission::ManageIntel), Api, api::samples::upload)
            .body_limit(api::samples::UPLOAD_LIMIT),
        Route::new(get.clone(), "/api/v1/intel/samples/{id}", perm(Permission::ReadIntel), Api, api::samples::get),
        Route::new(
            get.clone(),
            "/api/v1/intel/samples/{id}/download",
            perm(Permission::DownloadSamples),
            Api,
            api::samples::download,
        ),
        Route::new(
            delete.clone(),
            "/api/v1/intel/samples/{id}",
            perm(Permission::ManageIntel),
            Api,
            api::samples::delete,
        ),
        // Pull sources (creating one is further limited to admins in the handler).
        Route::new(get.clone(), "/api/v1/intel/sources", perm(Permission::ManageIntel), Api, api::intel_sources::list),
        Route::new(
            post.clone(),
            "/api/v1/intel/sources",
            perm(Permission::ManageIntel),
            Api,
            api::intel_sources::create,
        ),
        Route::new(
            delete.clone(),
            "/api/v1/intel/sources/{id}",
            perm(Permission::ManageIntel),
            Api,
            api::intel_sources::delete,
        ),
        Route::new(
            patch.clone(),
            "/api/v1/intel/sources/{id}",
            perm(Permission::ManageIntel),
            Api,
            api::intel_sources::update,
        ),
        Route::new(
            post.clone(),
            "/api/v1/intel/sources/{id}/pull",
            perm(Permission::ManageIntel),
            Api,
            api::intel_sources::pull,
        ),
        // Detection alerts (issue #5; R3.1–R3.3, R3.8).
        Route::new(get.clone(), "/api/v1/alerts", perm(ReadAlerts), Api, api::alerts::list),
        Route::new(get.clone(), "/api/v1/alerts/victims", perm(ReadAlerts), Api, api::alerts::victims),
        Route::new(get.clone(), "/api/v1/detection", perm(ReadAlerts), Api, api::detection::status),
        Route::new(get.clone(), "/api/v1/flows", perm(ReadAlerts), Api, api::flows::status),
        Route::new(get.clone(), "/api/v1/alerts/hours", perm(ReadAlerts), Api, api::alerts::hours),
        Route::new(get.clone(), "/api/v1/alerts/{id}", perm(ReadAlerts), Api, api::alerts::get),
        Route::new(post.clone(), "/api/v1/alerts/{id}/status", perm(TriageAlerts), Api, api::alerts::set_status),
        Route::new(post.clone(), "/api/v1/alerts/{id}/actions", perm(TriageAlerts), Api, api::alerts::add_action),
        Route::new(post.clone(), "/api/v1/alerts/{id}/assign", perm(TriageAlerts), Api, api::alerts::assign),
        Route::new(post.clone(), "/api/v1/alerts/bulk", perm(TriageAlerts), Api, api::alerts::bulk),
        Route::new(get.clone(), "/api/v1/alerts/suppressions", perm(ReadAlerts), Api, api::alerts::suppressions),
        Route::new(
            post.clone(),
            "/api/v1/alerts/suppressions",
            perm(TriageAlerts),
            Api,
            api::alerts::create_suppression,
        ),
        Route::new(
            delete.clone(),
            "/api/v1/alerts/suppressions/{id}",
            perm(TriageAlerts),
            Api,
            api::alerts::delete_suppression,
        ),
        // Incidents (issue #7; R2.5): everyone reads and grades, the working roles manage.
        Route::new(post.clone(), "/api/v1/incidents/grade", perm(ReadIncidents), Api, api::incidents::grade),
        Route::new(get.clone(), "/api/v1/incidents", perm(ReadIncidents), Api, api::incidents::list),
        Route::new(post.clone(), "/api/v1/incidents", perm(ManageIncidents), Api, api::incidents::create),
        Route::new(get.clone(), "/api/v1/incidents/{id}", perm(ReadIncidents), Api, api::incidents::get),
        Route::new(
            put.clone(),
            "/api/v1/incidents/{id}/facts",
            perm(ManageIncidents),
            Api,
            api::incidents::update_facts,
        ),
        Route::new(
            post.clone(),
            "/api/v1/incidents/{id}/level",
            perm(ManageIncidents),
            Api,
            api::incidents::override_level,
        ),
        Route::new(
            post.clone(),
            "/api/v1/incidents/{id}/status",
            perm(ManageIncidents),
            Api,
            api::incidents::set_status,
        ),
        Route::new(
            post.clone(),
            "/api/v1/incidents/{id}/timeline",
            perm(ManageIncidents),
            Api,
            api::incidents::add_entry,
        ),
        // Regulator reports (issue #7; R2.4, R8.5, S1). The inbound endpoint
        // needs no session: the sender's signature over the body is checked.
        Route::new(get.clone(), "/api/v1/incidents/{id}/tasks", perm(ReadIncidents), Api, api::incident_tasks::list),
        // Personal-data leaks and their reporting duty (R5.4).
        Route::new(get.clone(), "/api/v1/incidents/{id}/leak", perm(ReadIncidents), Api, api::incident_leaks::get),
        Route::new(put.clone(), "/api/v1/incidents/{id}/leak", perm(ManageIncidents), Api, api::incident_leaks::update),
        Route::new(
            post.clone(),
            "/api/v1/incidents/{id}/leak/notified",
            perm(ManageIncidents),
            Api,
            api::incident_leaks::notified,
        ),
        Route::new(
            post.clone(),
            "/api/v1/incidents/{id}/tasks",
            perm(ManageIncidents),
            Api,
            api::incident_tasks::create,
        ),
        Route::new(
            patch.clone(),
            "/api/v1/incidents/{id}/tasks/{task}",
            perm(ManageIncidents),
            Api,
            api::incident_tasks::update,
        ),
        Route::new(
            get.clone(),
            "/api/v1/incidents/{id}/messages",
            perm(ReadIncidents),
            Api,
            api::incident_tasks::messages,
        ),
        Route::new(
            post.clone(),
            "/api/v1/incidents/{id}/messages",
            perm(ManageIncidents),
            Api,
            api::incident_tasks::post_message,
        ),
        Route::new(get.clone(), "/api/v1/warnings", Authenticated, Api, api::warnings::list),
        Route::new(post.clone(), "/api/v1/warnings", perm(ManageIncidents), Api, api::warnings::create),
        Route::new(get.clone(), "/api/v1/warnings/{id}", Authenticated, Api, api::warnings::get),
        Route::new(patch.clone(), "/api/v1/warnings/{id}", perm(ManageIncidents), Api, api::warnings::adjust),
        Route::new(post.clone(), "/api/v1/warnings/{id}/lift", perm(ManageIncidents), Api, api::warnings::lift),
        Route::new(post.clone(), "/api/v1/warnings/{id}/ack", Authenticated, Api, api::warnings::ack),
        Route::new(get.clone(), "/api/v1/plans", Authenticated, Api, api::plans::list),
        Route::new(post.clone(), "/api/v1/plans", perm(ManageIncidents), Api, api::plans::create),
        Route::new(get.clone(), "/api/v1/plans/{id}", Authenticated, Api, api::plans::get),
        Route::new(put.clone(), "/api/v1/plans/{id}", perm(ManageIncidents), Api, api::plans::update),
        Route::new(post.clone(), "/api/v1/plans/{id}/reviewed", perm(ManageIncidents), Api, api::plans::reviewed),
        Route::new(get.clone(), "/api/v1/plans/{id}/versions", Authenticated, Api, api::plans::versions),
        Route::new(get.clone(), "/api/v1/drills", Authenticated, Api, api::plans::list_drills),
        Route::new(post.clone(), "/api/v1/drills", perm(ManageIncidents), Api, api::plans::create_drill),
        Route::new(patch.clone(), "/api/v1/drills/{id}", perm(ManageIncidents), Api, api::plans::update_drill),
        Route::new(
            post.clone(),
            "/api/v1/drills/{id}/exercise",
            perm(ManageIncidents),
            Api,
            api::plans::start_exercise,
        ),
        Route::new(post.clone(), "/api/v1/incidents/{id}/reports", perm(ManageIncidents), Api, api::reports::create),
        Route::new(get.clone(), "/api/v1/incidents/{id}/reports", perm(ReadIncidents), Api, api::reports::list),
        Route::new(put.clone(), "/api/v1/incidents/{id}/review", perm(ManageIncidents), Api, api::reports::review),
        Route::new(
            get.clone(),
            "/api/v1/reports/signing-key",
            perm(ReadIncidents),
            Api,
            api::reports::signing_key_info,
        ),
        Route::new(post.clone(), "/api/v1/reports/inbound", Public, Api, api::reports::inbound)
            .body_limit(api::reports::INBOUND_LIMIT),
        Route::new(get.clone(), "/api/v1/reports/received", perm(ReadReceivedReports), Api, api::reports::received),
        Route::new(
            get.clone(),
            "/api/v1/reports/received/{id}",
            perm(ReadReceivedReports),
            Api,
            api::reports::received_get,
        ),
        Route::new(get.clone(), "/api/v1/reports/{id}", perm(ReadIncidents), Api, api::reports::get),
        Route::new(post.clone(), "/api/v1/reports/{id}/submit", perm(ManageIncidents), Api, api::reports::submit),
        Route::new(get.clone(), "/api/v1/report-senders", perm(ManageReportSenders), Api, api::reports::senders),
        Route::new(post.clone(), "/api/v1/report-senders", perm(ManageReportSenders), Api, api::reports::add_sender),
        Route::new(
            delete.clone(),
            "/api/v1/report-senders/{id}",
            perm(ManageReportSenders),
            Api,
            api::reports::revoke_sender,
        ),
        // Notifications (issue #7): channels, rules and the delivery records.
        Route::new(get.clone(), "/notifications", perm(ManageNotifications), Page, ui::notifications::list),
        Route::new(
            post.clone(),
            "/notifications/channels",
            perm(ManageNotifications),
            Page,
            ui::notifications::create_channel,
        ),
        Route::new(
            post.clone(),
            "/notifications/channels/{id}/delete",
            perm(ManageNotifications),
            Page,
            ui::notifications::delete_channel,
        ),
        Route::new(
            post.clone(),
            "/notifications/channels/{id}/test",
            perm(ManageNotifications),
            Page,
            ui::notifications::test_channel,
        ),
        Route::new(
            post.clone(),
            "/notifications/rules",
            perm(ManageNotifications),
            Page,
            ui::notifications::create_rule,
        ),
        Route::new(
            post.clone(),
            "/notifications/rules/{id}/delete",
            perm(ManageNotifications),
            Page,
            ui::notifications::delete_rule,
        ),
        Route::new(get.clone(), "/api/v1/notifications", perm(ManageNotifications), Api, api::notifications::list),
        Route::new(
            get.clone(),
            "/api/v1/notifications/channels",
            perm(ManageNotifications),
            Api,
            api::notifications::channels,
        ),
        Route::new(
            post.clone(),
            "/api/v1/notifications/channels",
            perm(ManageNotifications),
            Api,
            api::notifications::create_channel,
        ),
        Route::new(
            put.clone(),
            "/api/v1/notifications/channels/{id}",
            perm(ManageNotifications),
            Api,
            api::notifications::update_channel,
        ),
        Route::new(
            delete.clone(),
            "/api/v1/notifications/channels/{id}",
            perm(ManageNotifications),
            Api,
            api::notifications::delete_channel,
        ),
        Route::new(
            post.clone(),
            "/api/v1/notifications/channels/{id}/test",
            perm(ManageNotifications),
            Api,
            api::notifications::test_channel,
        ),
        Route::new(
            get.clone(),
            "/api/v1/notifications/rules",
            perm(ManageNotifications),
            Api,
            api::notifications::rules,
        ),
        Route::new(
            post.clone(),
            "/api/v1/notifications/rules",
            perm(ManageNotifications),
            Api,
            api::notifications::create_rule,
        ),
        Route::new(
            delete.clone(),
            "/api/v1/notifications/rules/{id}",
            perm(ManageNotifications),
            Api,
            api::notifications::delete_rule,
        ),
        // TAXII collections (issue #4); the TAXII 2.1 routes are crate::taxii::router.
        Route::new(get.clone(), "/api/v1/taxii/collections", perm(Permission::ManageIntel), Api, taxii::manage::list),
        Route::new(
            post.clone(),
            "/api/v1/taxii/collections",
            perm(Permission::ManageIntel),
            Api,
            taxii::manage::create,
        ),
        Route::new(
            patch.clone(),
            "/api/v1/taxii/collections/{id}",
            perm(Permission::ManageIntel),
            Api,
            taxii::manage::update,
        ),
        Route::new(
            delete.clone(),
            "/api/v1/taxii/collections/{id}",
            perm(Permission::ManageIntel),
            Api,
            taxii::manage::delete,
        ),
        Route::new(
            post.clone(),
            "/api/v1/taxii/collections/{id}/publish",
            perm(Permission::ManageIntel),
            Api,
            taxii::manage::publish,
        ),
    ]
}
