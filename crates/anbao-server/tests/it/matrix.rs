//! The authorisation matrix: every route of `routes::table()`, requested
//! anonymously and as each role, checked against the policy written out
//! below. The expectation table is deliberately independent of
//! `routes.rs`: a route without an entry here, or an entry without a route,
//! fails the test, so a new route cannot ship without a decided rule.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use anbao_model::{OrgKind, Role};
use anbao_server::routes::{self, Kind};
use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::harness::{App, Req, Resp, Session};

/// Who may call a route.
#[derive(Clone, Copy, Debug)]
enum Who {
    /// Anyone, logged in or not.
    Public,
    /// Only a browser session whose second factor is still owed.
    MfaPending,
    /// Any logged-in principal.
    AnyRole,
    /// Only these roles.
    Roles(&'static [Role]),
}

use Who::{AnyRole, MfaPending, Public, Roles};

const ADMIN: &[Role] = &[Role::Admin];
const EVERY_ROLE: &[Role] = &Role::ALL;
const AUDIT_READERS: &[Role] = &[Role::Admin, Role::Auditor];
const GOVERN_WRITERS: &[Role] = &[Role::Admin, Role::Analyst];
const TAXII_MANAGERS: &[Role] = &[Role::Admin, Role::Analyst];
const INTEL_MANAGERS: &[Role] = &[Role::Admin, Role::Analyst];
const SAMPLE_DOWNLOADERS: &[Role] = &[Role::Admin, Role::Analyst];
const ALERT_TRIAGERS: &[Role] = &[Role::Admin, Role::Analyst, Role::Responder];
const INCIDENT_MANAGERS: &[Role] = &[Role::Admin, Role::Analyst, Role::Responder];
/// Every role but the regulator (raw evidence files may hold subscribers).
const SUBSCRIBER_READERS: &[Role] = &[Role::Admin, Role::Analyst, Role::Responder, Role::Auditor];
const RECEIVED_REPORT_READERS: &[Role] = &[Role::Admin, Role::Regulator];

const API: Kind = Kind::Api;
const PAGE: Kind = Kind::Page;

/// The policy, route by route.
const EXPECTED: &[(&str, &str, Kind, Who)] = &[
    // Operations.
    ("GET", "/healthz", API, Public),
    ("GET", "/metrics", API, Public),
    ("GET", "/static/{file}", PAGE, Public),
    ("GET", "/favicon.ico", PAGE, Public),
    // Sign-in.
    ("GET", "/login", PAGE, Public),
    ("POST", "/login", PAGE, Public),
    ("GET", "/login/totp", PAGE, MfaPending),
    ("POST", "/login/totp", PAGE, MfaPending),
    ("POST", "/logout", PAGE, AnyRole),
    ("GET", "/lang", PAGE, Public),
    // Pages.
    ("GET", "/", PAGE, AnyRole),
    ("GET", "/areas/{area}", PAGE, AnyRole),
    ("GET", "/account", PAGE, AnyRole),
    ("POST", "/account/password", PAGE, AnyRole),
    ("POST", "/account/totp", PAGE, AnyRole),
    ("POST", "/account/totp/disable", PAGE, AnyRole),
    ("GET", "/admin/users", PAGE, Roles(EVERY_ROLE)),
    ("POST", "/admin/users", PAGE, Roles(ADMIN)),
    ("GET", "/admin/users/{id}", PAGE, Roles(EVERY_ROLE)),
    ("POST", "/admin/users/{id}", PAGE, Roles(ADMIN)),
    ("POST", "/admin/users/{id}/password", PAGE, Roles(ADMIN)),
    ("GET", "/admin/org-units", PAGE, Roles(EVERY_ROLE)),
    ("POST", "/admin/org-units", PAGE, Roles(ADMIN)),
    ("POST", "/admin/org-units/{id}", PAGE, Roles(ADMIN)),
    ("POST", "/admin/org-units/{id}/delete", PAGE, Roles(ADMIN)),
    ("GET", "/admin/tokens", PAGE, Roles(ADMIN)),
    ("GET", "/notifications", PAGE, Roles(ADMIN)),
    ("POST", "/notifications/channels", PAGE, Roles(ADMIN)),
    ("POST", "/notifications/channels/{id}/delete", PAGE, Roles(ADMIN)),
    ("POST", "/notifications/channels/{id}/test", PAGE, Roles(ADMIN)),
    ("POST", "/notifications/rules", PAGE, Roles(ADMIN)),
    ("POST", "/notifications/rules/{id}/delete", PAGE, Roles(ADMIN)),
    ("POST", "/notifications/channels/{id}", PAGE, Roles(ADMIN)),
    ("POST", "/notifications/rules/{id}", PAGE, Roles(ADMIN)),
    ("POST", "/admin/tokens", PAGE, Roles(ADMIN)),
    ("POST", "/admin/tokens/{id}/revoke", PAGE, Roles(ADMIN)),
    ("GET", "/audit", PAGE, Roles(AUDIT_READERS)),
    ("GET", "/govern/assets", PAGE, Roles(EVERY_ROLE)),
    ("POST", "/govern/assets", PAGE, Roles(GOVERN_WRITERS)),
    ("GET", "/govern/assets/import", PAGE, Roles(GOVERN_WRITERS)),
    ("POST", "/govern/assets/import", PAGE, Roles(GOVERN_WRITERS)),
    ("GET", "/govern/assets/{id}", PAGE, Roles(EVERY_ROLE)),
    ("POST", "/govern/assets/{id}", PAGE, Roles(GOVERN_WRITERS)),
    ("POST", "/govern/assets/{id}/delete", PAGE, Roles(GOVERN_WRITERS)),
    ("POST", "/govern/assets/{id}/components", PAGE, Roles(GOVERN_WRITERS)),
    ("POST", "/govern/assets/{id}/components/{component_id}/delete", PAGE, Roles(GOVERN_WRITERS)),
    ("POST", "/govern/assets/{id}/domains", PAGE, Roles(GOVERN_WRITERS)),
    ("GET", "/govern/domains", PAGE, Roles(EVERY_ROLE)),
    ("POST", "/govern/domains", PAGE, Roles(GOVERN_WRITERS)),
    ("POST", "/govern/domains/{id}/delete", PAGE, Roles(GOVERN_WRITERS)),
    ("POST", "/govern/boundaries", PAGE, Roles(GOVERN_WRITERS)),
    ("POST", "/govern/boundaries/{id}/delete", PAGE, Roles(GOVERN_WRITERS)),
    ("GET", "/govern/accountability", PAGE, Roles(EVERY_ROLE)),
    ("POST", "/govern/accountability", PAGE, Roles(GOVERN_WRITERS)),
    // Threat intelligence pages: everyone reads, analysts and admins change.
    ("GET", "/intel", PAGE, Roles(EVERY_ROLE)),
    ("GET", "/intel/indicators/{id}", PAGE, Roles(EVERY_ROLE)),
    ("POST", "/intel/indicators/{id}/delete", PAGE, Roles(INTEL_MANAGERS)),
    ("GET", "/intel/import", PAGE, Roles(EVERY_ROLE)),
    ("POST", "/intel/import", PAGE, Roles(INTEL_MANAGERS)),
    ("GET", "/intel/imports/{id}", PAGE, Roles(EVERY_ROLE)),
    ("GET", "/intel/allowlists", PAGE, Roles(EVERY_ROLE)),
    ("POST", "/intel/allowlists", PAGE, Roles(INTEL_MANAGERS)),
    ("POST", "/intel/allowlists/{id}/delete", PAGE, Roles(INTEL_MANAGERS)),
    ("GET", "/intel/export", PAGE, Roles(EVERY_ROLE)),
    ("GET", "/intel/samples", PAGE, Roles(EVERY_ROLE)),
    ("POST", "/intel/samples", PAGE, Roles(INTEL_MANAGERS)),
    ("GET", "/intel/samples/{id}", PAGE, Roles(EVERY_ROLE)),
    ("POST", "/intel/samples/{id}/delete", PAGE, Roles(INTEL_MANAGERS)),
    // TAXII collections: readers see those their role reads; managers change them.
    ("GET", "/intel/taxii", PAGE, Roles(EVERY_ROLE)),
    ("POST", "/intel/taxii", PAGE, Roles(INTEL_MANAGERS)),
    ("POST", "/intel/taxii/{id}", PAGE, Roles(INTEL_MANAGERS)),
    ("POST", "/intel/taxii/{id}/delete", PAGE, Roles(INTEL_MANAGERS)),
    ("POST", "/intel/taxii/{id}/publish", PAGE, Roles(INTEL_MANAGERS)),
    // Pull sources show feed URLs and user names: managers only (adding one: admins, in the handler).
    ("GET", "/intel/sources", PAGE, Roles(INTEL_MANAGERS)),
    ("POST", "/intel/sources", PAGE, Roles(INTEL_MANAGERS)),
    ("GET", "/intel/sources/{id}", PAGE, Roles(INTEL_MANAGERS)),
    ("POST", "/intel/sources/{id}", PAGE, Roles(INTEL_MANAGERS)),
    ("POST", "/intel/sources/{id}/pull", PAGE, Roles(INTEL_MANAGERS)),
    ("POST", "/intel/sources/{id}/delete", PAGE, Roles(INTEL_MANAGERS)),
    ("GET", "/govern/units", PAGE, Roles(EVERY_ROLE)),
    ("POST", "/govern/units", PAGE, Roles(GOVERN_WRITERS)),
    ("GET", "/govern/units/{id}", PAGE, Roles(EVERY_ROLE)),
    ("POST", "/govern/units/{id}", PAGE, Roles(GOVERN_WRITERS)),
    ("POST", "/govern/units/{id}/delete", PAGE, Roles(GOVERN_WRITERS)),
    ("POST", "/govern/units/{id}/grading", PAGE, Roles(GOVERN_WRITERS)),
    ("POST", "/govern/units/{id}/review", PAGE, Roles(GOVERN_WRITERS)),
    ("POST", "/govern/units/{id}/filing", PAGE, Roles(GOVERN_WRITERS)),
    ("POST", "/govern/units/{id}/assessments", PAGE, Roles(GOVERN_WRITERS)),
    ("POST", "/govern/units/{id}/assets", PAGE, Roles(GOVERN_WRITERS)),
    ("GET", "/govern/units/{id}/filing-form", PAGE, Roles(EVERY_ROLE)),
    ("GET", "/govern/units/{id}/filing-form.pdf", PAGE, Roles(EVERY_ROLE)),
    ("GET", "/govern/deadlines", PAGE, Roles(EVERY_ROLE)),
    ("GET", "/govern/requirements", PAGE, Roles(EVERY_ROLE)),
    ("POST", "/govern/units/{id}/compliance", PAGE, Roles(GOVERN_WRITERS)),
    ("GET", "/govern/assessments/{id}", PAGE, Roles(EVERY_ROLE)),
    ("POST", "/govern/assessments/{id}/results", PAGE, Roles(GOVERN_WRITERS)),
    ("POST", "/govern/assessments/{id}/evidence", PAGE, Roles(GOVERN_WRITERS)),
    ("POST", "/govern/assessments/{id}/complete", PAGE, Roles(GOVERN_WRITERS)),
    ("GET", "/govern/tasks", PAGE, Roles(EVERY_ROLE)),
    ("GET", "/govern/risks", PAGE, Roles(EVERY_ROLE)),
    ("POST", "/govern/risks", PAGE, Roles(GOVERN_WRITERS)),
    ("POST", "/govern/assets/{id}/prelaunch", PAGE, Roles(GOVERN_WRITERS)),
    ("POST", "/govern/tasks/{id}/close", PAGE, Roles(GOVERN_WRITERS)),
    // Detection alerts: everyone reads, the working roles triage.
    ("GET", "/alerts", PAGE, Roles(EVERY_ROLE)),
    ("GET", "/alerts/victims", PAGE, Roles(EVERY_ROLE)),
    ("GET", "/detection", PAGE, Roles(EVERY_ROLE)),
    ("GET", "/flows", PAGE, Roles(EVERY_ROLE)),
    ("GET", "/flows/groups/{name}", PAGE, Roles(EVERY_ROLE)),
    ("GET", "/flows/hosts/{addr}", PAGE, Roles(EVERY_ROLE)),
    ("GET", "/flows/mitigations", PAGE, Roles(EVERY_ROLE)),
    ("POST", "/flows/mitigations/{id}/approve", PAGE, Roles(ALERT_TRIAGERS)),
    ("POST", "/flows/mitigations/{id}/reject", PAGE, Roles(ALERT_TRIAGERS)),
    ("POST", "/flows/mitigations/{id}/withdraw", PAGE, Roles(ALERT_TRIAGERS)),
    ("GET", "/alerts/{id}", PAGE, Roles(EVERY_ROLE)),
    ("POST", "/alerts/{id}/status", PAGE, Roles(ALERT_TRIAGERS)),
    ("POST", "/alerts/{id}/actions", PAGE, Roles(ALERT_TRIAGERS)),
    ("POST", "/alerts/{id}/assign", PAGE, Roles(ALERT_TRIAGERS)),
    ("POST", "/alerts/bulk", PAGE, Roles(ALERT_TRIAGERS)),
    ("GET", "/alerts/suppressions", PAGE, Roles(EVERY_ROLE)),
    ("POST", "/alerts/suppressions", PAGE, Roles(ALERT_TRIAGERS)),
    ("POST", "/alerts/suppressions/{id}/delete", PAGE, Roles(ALERT_TRIAGERS)),
    // Incidents: everyone reads, the working roles manage.
    ("GET", "/incidents", PAGE, Roles(EVERY_ROLE)),
    ("POST", "/incidents", PAGE, Roles(INCIDENT_MANAGERS)),
    ("GET", "/incidents/new", PAGE, Roles(INCIDENT_MANAGERS)),
    ("GET", "/incidents/{id}", PAGE, Roles(EVERY_ROLE)),
    ("POST", "/incidents/{id}/facts", PAGE, Roles(INCIDENT_MANAGERS)),
    ("POST", "/incidents/{id}/level", PAGE, Roles(INCIDENT_MANAGERS)),
    ("POST", "/incidents/{id}/status", PAGE, Roles(INCIDENT_MANAGERS)),
    ("POST", "/incidents/{id}/acknowledge", PAGE, Roles(INCIDENT_MANAGERS)),
    ("POST", "/incidents/{id}/timeline", PAGE, Roles(INCIDENT_MANAGERS)),
    ("POST", "/incidents/{id}/tasks", PAGE, Roles(INCIDENT_MANAGERS)),
    ("POST", "/incidents/{id}/evidence", PAGE, Roles(INCIDENT_MANAGERS)),
    ("GET", "/incidents/{id}/evidence/{evidence}", PAGE, Roles(SUBSCRIBER_READERS)),
    ("POST", "/incidents/{id}/evidence/{evidence}/delete", PAGE, Roles(INCIDENT_MANAGERS)),
    ("POST", "/incidents/{id}/observables", PAGE, Roles(INCIDENT_MANAGERS)),
    ("POST", "/incidents/{id}/observables/from-alerts", PAGE, Roles(INCIDENT_MANAGERS)),
    ("POST", "/incidents/{id}/observables/{observable}/delete", PAGE, Roles(INCIDENT_MANAGERS)),
    ("POST", "/incidents/{id}/observables/{observable}/publish", PAGE, Roles(INTEL_MANAGERS)),
    ("POST", "/incidents/{id}/leak", PAGE, Roles(INCIDENT_MANAGERS)),
    ("POST", "/incidents/{id}/leak/notified", PAGE, Roles(INCIDENT_MANAGERS)),
    ("POST", "/incidents/{id}/tasks/{task}", PAGE, Roles(INCIDENT_MANAGERS)),
    ("POST", "/incidents/{id}/messages", PAGE, Roles(INCIDENT_MANAGERS)),
    ("GET", "/incidents/{id}/board", PAGE, Roles(EVERY_ROLE)),
    ("GET", "/incidents/{id}/board/events", PAGE, Roles(EVERY_ROLE)),
    ("POST", "/alerts/{id}/incident", PAGE, Roles(INCIDENT_MANAGERS)),
    // Regulator reports: generated and submitted by the working roles, read by all;
    // what other operators sent is for the collector's admin and the regulator.
    ("POST", "/incidents/{id}/reports", PAGE, Roles(INCIDENT_MANAGERS)),
    ("POST", "/incidents/{id}/review", PAGE, Roles(INCIDENT_MANAGERS)),
    // Warnings: everyone reads and acknowledges (as a recipient); incident managers issue, adjust, lift.
    ("GET", "/warnings", PAGE, AnyRole),
    ("POST", "/warnings", PAGE, Roles(INCIDENT_MANAGERS)),
    ("GET", "/warnings/new", PAGE, Roles(INCIDENT_MANAGERS)),
    ("GET", "/warnings/{id}", PAGE, AnyRole),
    ("POST", "/warnings/{id}/adjust", PAGE, Roles(INCIDENT_MANAGERS)),
    ("POST", "/warnings/{id}/lift", PAGE, Roles(INCIDENT_MANAGERS)),
    ("POST", "/warnings/{id}/ack", PAGE, AnyRole),
    ("GET", "/plans", PAGE, AnyRole),
    ("POST", "/plans", PAGE, Roles(INCIDENT_MANAGERS)),
    ("GET", "/plans/new", PAGE, Roles(INCIDENT_MANAGERS)),
    ("GET", "/plans/{id}", PAGE, AnyRole),
    ("POST", "/plans/{id}", PAGE, Roles(INCIDENT_MANAGERS)),
    ("POST", "/plans/{id}/reviewed", PAGE, Roles(INCIDENT_MANAGERS)),
    ("GET", "/plans/{id}/versions/{version}/document", PAGE, AnyRole),
    ("GET", "/drills", PAGE, AnyRole),
    ("POST", "/drills", PAGE, Roles(INCIDENT_MANAGERS)),
    ("POST", "/drills/{id}/tasks", PAGE, Roles(INCIDENT_MANAGERS)),
    ("GET", "/drills/new", PAGE, Roles(INCIDENT_MANAGERS)),
    ("GET", "/drills/{id}", PAGE, AnyRole),
    ("POST", "/drills/{id}", PAGE, Roles(INCIDENT_MANAGERS)),
    ("POST", "/drills/{id}/exercise", PAGE, Roles(INCIDENT_MANAGERS)),
    ("GET", "/reports/{id}", PAGE, Roles(EVERY_ROLE)),
    ("POST", "/reports/{id}/submit", PAGE, Roles(INCIDENT_MANAGERS)),
    ("GET", "/reports/received", PAGE, Roles(RECEIVED_REPORT_READERS)),
    ("GET", "/reports/received/{id}", PAGE, Roles(RECEIVED_REPORT_READERS)),
    ("POST", "/reports/senders", PAGE, Roles(ADMIN)),
    ("POST", "/reports/senders/{id}/revoke", PAGE, Roles(ADMIN)),
    // JSON API.
    ("GET", "/api/v1/openapi.json", API, Public),
    ("GET", "/api/v1/me", API, AnyRole),
    ("GET", "/api/v1/users", API, Roles(EVERY_ROLE)),
    ("POST", "/api/v1/users", API, Roles(ADMIN)),
    ("GET", "/api/v1/users/{id}", API, Roles(EVERY_ROLE)),
    ("PATCH", "/api/v1/users/{id}", API, Roles(ADMIN)),
    ("POST", "/api/v1/users/{id}/password", API, Roles(ADMIN)),
    ("GET", "/api/v1/org-units", API, Roles(EVERY_ROLE)),
    ("POST", "/api/v1/org-units", API, Roles(ADMIN)),
    ("GET", "/api/v1/org-units/{id}", API, Roles(EVERY_ROLE)),
    ("PATCH", "/api/v1/org-units/{id}", API, Roles(ADMIN)),
    ("DELETE", "/api/v1/org-units/{id}", API, Roles(ADMIN)),
    ("GET", "/api/v1/tokens", API, Roles(ADMIN)),
    ("GET", "/api/v1/notifications", API, Roles(ADMIN)),
    ("GET", "/api/v1/notifications/channels", API, Roles(ADMIN)),
    ("POST", "/api/v1/notifications/channels", API, Roles(ADMIN)),
    ("PUT", "/api/v1/notifications/channels/{id}", API, Roles(ADMIN)),
    ("DELETE", "/api/v1/notifications/channels/{id}", API, Roles(ADMIN)),
    ("POST", "/api/v1/notifications/channels/{id}/test", API, Roles(ADMIN)),
    ("GET", "/api/v1/notifications/rules", API, Roles(ADMIN)),
    ("POST", "/api/v1/notifications/rules", API, Roles(ADMIN)),
    ("PUT", "/api/v1/notifications/rules/{id}", API, Roles(ADMIN)),
    ("DELETE", "/api/v1/notifications/rules/{id}", API, Roles(ADMIN)),
    ("POST", "/api/v1/tokens", API, Roles(ADMIN)),
    ("DELETE", "/api/v1/tokens/{id}", API, Roles(ADMIN)),
    ("GET", "/api/v1/audit", API, Roles(AUDIT_READERS)),
    ("GET", "/api/v1/audit/export", API, Roles(AUDIT_READERS)),
    ("GET", "/api/v1/audit/verify", API, Roles(AUDIT_READERS)),
    ("GET", "/api/v1/assets", API, Roles(EVERY_ROLE)),
    ("POST", "/api/v1/assets", API, Roles(GOVERN_WRITERS)),
    ("POST", "/api/v1/assets/import", API, Roles(GOVERN_WRITERS)),
    ("GET", "/api/v1/assets/export", API, Roles(EVERY_ROLE)),
    ("GET", "/api/v1/assets/{id}", API, Roles(EVERY_ROLE)),
    ("PUT", "/api/v1/assets/{id}", API, Roles(GOVERN_WRITERS)),
    ("DELETE", "/api/v1/assets/{id}", API, Roles(GOVERN_WRITERS)),
    ("POST", "/api/v1/assets/{id}/components", API, Roles(GOVERN_WRITERS)),
    ("DELETE", "/api/v1/assets/{id}/components/{component_id}", API, Roles(GOVERN_WRITERS)),
    ("PUT", "/api/v1/assets/{id}/domains", API, Roles(GOVERN_WRITERS)),
    ("GET", "/api/v1/security-domains", API, Roles(EVERY_ROLE)),
    ("POST", "/api/v1/security-domains", API, Roles(GOVERN_WRITERS)),
    ("DELETE", "/api/v1/security-domains/{id}", API, Roles(GOVERN_WRITERS)),
    ("GET", "/api/v1/boundaries", API, Roles(EVERY_ROLE)),
    ("POST", "/api/v1/boundaries", API, Roles(GOVERN_WRITERS)),
    ("DELETE", "/api/v1/boundaries/{id}", API, Roles(GOVERN_WRITERS)),
    ("GET", "/api/v1/accountability", API, Roles(EVERY_ROLE)),
    ("PUT", "/api/v1/accountability/{org_unit_id}", API, Roles(GOVERN_WRITERS)),
    ("GET", "/api/v1/network-units", API, Roles(EVERY_ROLE)),
    ("POST", "/api/v1/network-units", API, Roles(GOVERN_WRITERS)),
    ("GET", "/api/v1/network-units/{id}", API, Roles(EVERY_ROLE)),
    ("PUT", "/api/v1/network-units/{id}", API, Roles(GOVERN_WRITERS)),
    ("DELETE", "/api/v1/network-units/{id}", API, Roles(GOVERN_WRITERS)),
    ("PUT", "/api/v1/network-units/{id}/assets", API, Roles(GOVERN_WRITERS)),
    ("POST", "/api/v1/network-units/{id}/grading", API, Roles(GOVERN_WRITERS)),
    ("POST", "/api/v1/network-units/{id}/review", API, Roles(GOVERN_WRITERS)),
    ("POST", "/api/v1/network-units/{id}/filing", API, Roles(GOVERN_WRITERS)),
    ("POST", "/api/v1/network-units/{id}/assessments", API, Roles(GOVERN_WRITERS)),
    ("GET", "/api/v1/network-units/{id}/filing-form", API, Roles(EVERY_ROLE)),
    ("GET", "/api/v1/grading/rules", API, Roles(EVERY_ROLE)),
    ("POST", "/api/v1/grading/propose", API, Roles(EVERY_ROLE)),
    ("GET", "/api/v1/deadlines", API, Roles(EVERY_ROLE)),
    ("GET", "/api/v1/requirements", API, Roles(EVERY_ROLE)),
    ("POST", "/api/v1/assessments", API, Roles(GOVERN_WRITERS)),
    ("GET", "/api/v1/assessments/{id}", API, Roles(EVERY_ROLE)),
    ("POST", "/api/v1/assessments/{id}/results", API, Roles(GOVERN_WRITERS)),
    ("POST", "/api/v1/assessments/{id}/evidence", API, Roles(GOVERN_WRITERS)),
    ("GET", "/api/v1/assessments/{id}/evidence/{evidence_id}", API, Roles(EVERY_ROLE)),
    ("POST", "/api/v1/assessments/{id}/complete", API, Roles(GOVERN_WRITERS)),
    ("GET", "/api/v1/remediation-tasks", API, Roles(EVERY_ROLE)),
    ("GET", "/api/v1/risks", API, Roles(EVERY_ROLE)),
    ("POST", "/api/v1/risks", API, Roles(GOVERN_WRITERS)),
    ("PUT", "/api/v1/risks/{id}", API, Roles(GOVERN_WRITERS)),
    ("GET", "/api/v1/assets/{id}/prelaunch", API, Roles(EVERY_ROLE)),
    ("POST", "/api/v1/assets/{id}/prelaunch", API, Roles(GOVERN_WRITERS)),
    ("POST", "/api/v1/remediation-tasks/{id}/close", API, Roles(GOVERN_WRITERS)),
    // Threat intelligence (URL imports are further limited to admins in the handler).
    ("GET", "/api/v1/intel/lookup", API, Roles(EVERY_ROLE)),
    ("GET", "/api/v1/intel/indicators", API, Roles(EVERY_ROLE)),
    ("GET", "/api/v1/intel/indicators/{id}", API, Roles(EVERY_ROLE)),
    ("DELETE", "/api/v1/intel/indicators/{id}", API, Roles(INTEL_MANAGERS)),
    ("GET", "/api/v1/intel/stats", API, Roles(EVERY_ROLE)),
    ("POST", "/api/v1/intel/imports", API, Roles(INTEL_MANAGERS)),
    ("GET", "/api/v1/intel/imports", API, Roles(EVERY_ROLE)),
    ("GET", "/api/v1/intel/imports/{id}", API, Roles(EVERY_ROLE)),
    ("GET", "/api/v1/intel/imports/{id}/rejects.csv", API, Roles(EVERY_ROLE)),
    ("GET", "/api/v1/intel/export", API, Roles(EVERY_ROLE)),
    ("GET", "/api/v1/intel/allowlists", API, Roles(EVERY_ROLE)),
    ("POST", "/api/v1/intel/allowlists", API, Roles(INTEL_MANAGERS)),
    ("DELETE", "/api/v1/intel/allowlists/{id}", API, Roles(INTEL_MANAGERS)),
    ("GET", "/api/v1/intel/samples", API, Roles(EVERY_ROLE)),
    ("POST", "/api/v1/intel/samples", API, Roles(INTEL_MANAGERS)),
    ("GET", "/api/v1/intel/samples/{id}", API, Roles(EVERY_ROLE)),
    ("GET", "/api/v1/intel/samples/{id}/download", API, Roles(SAMPLE_DOWNLOADERS)),
    ("DELETE", "/api/v1/intel/samples/{id}", API, Roles(INTEL_MANAGERS)),
    ("GET", "/api/v1/intel/sources", API, Roles(INTEL_MANAGERS)),
    ("POST", "/api/v1/intel/sources", API, Roles(INTEL_MANAGERS)),
    ("DELETE", "/api/v1/intel/sources/{id}", API, Roles(INTEL_MANAGERS)),
    ("PATCH", "/api/v1/intel/sources/{id}", API, Roles(INTEL_MANAGERS)),
    ("POST", "/api/v1/intel/sources/{id}/pull", API, Roles(INTEL_MANAGERS)),
    ("GET", "/api/v1/alerts", API, Roles(EVERY_ROLE)),
    ("GET", "/api/v1/alerts/victims", API, Roles(EVERY_ROLE)),
    ("GET", "/api/v1/detection", API, Roles(EVERY_ROLE)),
    ("GET", "/api/v1/flows", API, Roles(EVERY_ROLE)),
    ("GET", "/api/v1/flows/traffic", API, Roles(EVERY_ROLE)),
    ("GET", "/api/v1/flows/groups/{name}/profile", API, Roles(EVERY_ROLE)),
    ("GET", "/api/v1/flows/mitigations", API, Roles(EVERY_ROLE)),
    ("GET", "/api/v1/flows/mitigations/{id}", API, Roles(EVERY_ROLE)),
    ("POST", "/api/v1/flows/mitigations/{id}/approve", API, Roles(ALERT_TRIAGERS)),
    ("POST", "/api/v1/flows/mitigations/{id}/reject", API, Roles(ALERT_TRIAGERS)),
    ("POST", "/api/v1/flows/mitigations/{id}/withdraw", API, Roles(ALERT_TRIAGERS)),
    ("GET", "/api/v1/alerts/hours", API, Roles(EVERY_ROLE)),
    ("GET", "/api/v1/alerts/{id}", API, Roles(EVERY_ROLE)),
    ("POST", "/api/v1/alerts/{id}/status", API, Roles(ALERT_TRIAGERS)),
    ("POST", "/api/v1/alerts/{id}/actions", API, Roles(ALERT_TRIAGERS)),
    ("POST", "/api/v1/alerts/{id}/assign", API, Roles(ALERT_TRIAGERS)),
    ("POST", "/api/v1/alerts/bulk", API, Roles(ALERT_TRIAGERS)),
    ("GET", "/api/v1/alerts/suppressions", API, Roles(EVERY_ROLE)),
    ("POST", "/api/v1/alerts/suppressions", API, Roles(ALERT_TRIAGERS)),
    ("DELETE", "/api/v1/alerts/suppressions/{id}", API, Roles(ALERT_TRIAGERS)),
    // Incidents: everyone reads and grades, the working roles manage.
    ("POST", "/api/v1/incidents/grade", API, Roles(EVERY_ROLE)),
    ("GET", "/api/v1/incidents", API, Roles(EVERY_ROLE)),
    ("POST", "/api/v1/incidents", API, Roles(INCIDENT_MANAGERS)),
    ("GET", "/api/v1/incidents/{id}", API, Roles(EVERY_ROLE)),
    ("PUT", "/api/v1/incidents/{id}/facts", API, Roles(INCIDENT_MANAGERS)),
    ("POST", "/api/v1/incidents/{id}/level", API, Roles(INCIDENT_MANAGERS)),
    ("POST", "/api/v1/incidents/{id}/status", API, Roles(INCIDENT_MANAGERS)),
    ("POST", "/api/v1/incidents/{id}/acknowledge", API, Roles(INCIDENT_MANAGERS)),
    ("GET", "/api/v1/incidents/metrics", API, Roles(EVERY_ROLE)),
    ("POST", "/api/v1/incidents/{id}/timeline", API, Roles(INCIDENT_MANAGERS)),
    ("GET", "/api/v1/incidents/{id}/tasks", API, Roles(EVERY_ROLE)),
    ("POST", "/api/v1/incidents/{id}/tasks", API, Roles(INCIDENT_MANAGERS)),
    ("PATCH", "/api/v1/incidents/{id}/tasks/{task}", API, Roles(INCIDENT_MANAGERS)),
    ("GET", "/api/v1/incidents/{id}/evidence", API, Roles(EVERY_ROLE)),
    ("POST", "/api/v1/incidents/{id}/evidence", API, Roles(INCIDENT_MANAGERS)),
    ("GET", "/api/v1/incidents/{id}/evidence/{evidence}/download", API, Roles(SUBSCRIBER_READERS)),
    ("DELETE", "/api/v1/incidents/{id}/evidence/{evidence}", API, Roles(INCIDENT_MANAGERS)),
    ("GET", "/api/v1/incidents/{id}/observables", API, Roles(EVERY_ROLE)),
    ("POST", "/api/v1/incidents/{id}/observables", API, Roles(INCIDENT_MANAGERS)),
    ("POST", "/api/v1/incidents/{id}/observables/from-alerts", API, Roles(INCIDENT_MANAGERS)),
    ("DELETE", "/api/v1/incidents/{id}/observables/{observable}", API, Roles(INCIDENT_MANAGERS)),
    ("GET", "/api/v1/incidents/{id}/observables/{observable}/lookup", API, Roles(EVERY_ROLE)),
    ("POST", "/api/v1/incidents/{id}/observables/{observable}/publish", API, Roles(INTEL_MANAGERS)),
    ("GET", "/api/v1/incidents/{id}/leak", API, Roles(EVERY_ROLE)),
    ("PUT", "/api/v1/incidents/{id}/leak", API, Roles(INCIDENT_MANAGERS)),
    ("POST", "/api/v1/incidents/{id}/leak/notified", API, Roles(INCIDENT_MANAGERS)),
    ("GET", "/api/v1/incidents/{id}/messages", API, Roles(EVERY_ROLE)),
    ("POST", "/api/v1/incidents/{id}/messages", API, Roles(INCIDENT_MANAGERS)),
    ("GET", "/api/v1/taxii/collections", API, Roles(TAXII_MANAGERS)),
    ("POST", "/api/v1/taxii/collections", API, Roles(TAXII_MANAGERS)),
    ("PATCH", "/api/v1/taxii/collections/{id}", API, Roles(TAXII_MANAGERS)),
    ("DELETE", "/api/v1/taxii/collections/{id}", API, Roles(TAXII_MANAGERS)),
    ("POST", "/api/v1/taxii/collections/{id}/publish", API, Roles(TAXII_MANAGERS)),
    // Regulator reports; the inbound endpoint is authenticated by the sender's signature, not a session.
    ("POST", "/api/v1/incidents/{id}/reports", API, Roles(INCIDENT_MANAGERS)),
    ("GET", "/api/v1/incidents/{id}/reports", API, Roles(EVERY_ROLE)),
    ("PUT", "/api/v1/incidents/{id}/review", API, Roles(INCIDENT_MANAGERS)),
    ("GET", "/api/v1/warnings", API, AnyRole),
    ("POST", "/api/v1/warnings", API, Roles(INCIDENT_MANAGERS)),
    ("GET", "/api/v1/warnings/{id}", API, AnyRole),
    ("PATCH", "/api/v1/warnings/{id}", API, Roles(INCIDENT_MANAGERS)),
    ("POST", "/api/v1/warnings/{id}/lift", API, Roles(INCIDENT_MANAGERS)),
    ("POST", "/api/v1/warnings/{id}/ack", API, AnyRole),
    ("GET", "/api/v1/plans", API, AnyRole),
    ("POST", "/api/v1/plans", API, Roles(INCIDENT_MANAGERS)),
    ("GET", "/api/v1/plans/{id}", API, AnyRole),
    ("PUT", "/api/v1/plans/{id}", API, Roles(INCIDENT_MANAGERS)),
    ("POST", "/api/v1/plans/{id}/reviewed", API, Roles(INCIDENT_MANAGERS)),
    ("GET", "/api/v1/plans/{id}/versions", API, AnyRole),
    ("GET", "/api/v1/drills", API, AnyRole),
    ("POST", "/api/v1/drills", API, Roles(INCIDENT_MANAGERS)),
    ("PATCH", "/api/v1/drills/{id}", API, Roles(INCIDENT_MANAGERS)),
    ("POST", "/api/v1/drills/{id}/exercise", API, Roles(INCIDENT_MANAGERS)),
    ("GET", "/api/v1/reports/signing-key", API, Roles(EVERY_ROLE)),
    ("POST", "/api/v1/reports/inbound", API, Public),
    ("GET", "/api/v1/reports/received", API, Roles(RECEIVED_REPORT_READERS)),
    ("GET", "/api/v1/reports/received/{id}", API, Roles(RECEIVED_REPORT_READERS)),
    ("GET", "/api/v1/reports/{id}", API, Roles(EVERY_ROLE)),
    ("POST", "/api/v1/reports/{id}/submit", API, Roles(INCIDENT_MANAGERS)),
    ("GET", "/api/v1/report-senders", API, Roles(ADMIN)),
    ("POST", "/api/v1/report-senders", API, Roles(ADMIN)),
    ("DELETE", "/api/v1/report-senders/{id}", API, Roles(ADMIN)),
];

/// Real objects to put in place of path parameters. Destructive routes get
/// objects of their own, so running them does not disturb the others.
struct Fixture {
    user: i64,
    unit: i64,
    unit_for_api_delete: i64,
    unit_for_page_delete: i64,
    token_for_api_revoke: i64,
    token_for_page_revoke: i64,
    asset: i64,
    asset_for_api_delete: i64,
    asset_for_page_delete: i64,
    domain_for_api_delete: i64,
    domain_for_page_delete: i64,
    network_unit: i64,
    network_unit_for_api_delete: i64,
    network_unit_for_page_delete: i64,
    intel: crate::intel::IntelFixture,
    alert: i64,
}

async fn make_network_unit(app: &App, name: &str) -> i64 {
    let draft = anbao_store::NetworkUnitDraft {
        org_unit_id: app.root,
        name: name.into(),
        responsible_person: "张伟".into(),
        ..Default::default()
    };
    app.store.create_network_unit(&anbao_store::Actor::system(), &draft).await.expect("network unit").id
}

async fn make_asset(app: &App, name: &str) -> i64 {
    let draft = anbao_model::asset::AssetDraft {
        name: name.into(),
        asset_type: "device".into(),
        org_unit: app.root.to_string(),
        responsible_department: app.root.to_string(),
        responsible_person: "张伟".into(),
        ..Default::default()
    };
    let checked = draft.check().expect("valid asset");
    let actor = anbao_store::Actor::system();
    app.store.create_asset(&actor, &anbao_model::OrgScope::All, &checked, &[]).await.expect("asset").id
}

/// An alert as the detection pipeline writes it.
async fn make_alert(app: &App) -> i64 {
    let now = app.store.clock().now();
    let draft = anbao_store::AlertDraft {
        dedup_key: "intel:10.0.0.5:matrix".into(),
        rule: "intel".into(),
        category: "botnet_cc".into(),
        severity: 3,
        victim: "10.0.0.5".into(),
        indicator_id: None,
        indicator: "matrix-alert.example".into(),
        match_how: "exact".into(),
        field: "dns.qname".into(),
        observed: "matrix-alert.example".into(),
        score: None,
        reason: String::new(),
        count: 1,
        first_seen: now,
        last_seen: now,
        sensor: "matrix".into(),
        evidence: r#"{"kind":"dns","summary":"query A matrix-alert.example"}"#.into(),
    };
    app.store.apply_alerts(&[draft], None).await.expect("alert");
    let alerts = app.store.alerts(&anbao_store::AlertFilter::default(), 0, 1).await.expect("alerts");
    alerts.first().expect("the alert").id
}

async fn make_domain(app: &App, name: &str) -> i64 {
    let actor = anbao_store::Actor::system();
    let zone = anbao_model::asset::ZoneKind::Dmz;
    app.store.create_domain(&actor, app.root, name, zone, "").await.expect("domain").id
}

impl Fixture {
    async fn new(app: &App) -> Fixture {
        let unit = app.make_unit(app.root, "矩阵测试部", OrgKind::Department).await;
        let (_, token_for_api_revoke) = app.make_token("revoke-me-api", Role::Analyst, unit).await;
        let (_, token_for_page_revoke) = app.make_token("revoke-me-page", Role::Analyst, unit).await;
        Fixture {
            // The bootstrap admin: the matrix's `{}` bodies leave it as it is.
            user: app.admin_id,
            unit,
            unit_for_api_delete: app.make_unit(app.root, "待删除一", OrgKind::Department).await,
            unit_for_page_delete: app.make_unit(app.root, "待删除二", OrgKind::Department).await,
            token_for_api_revoke,
            token_for_page_revoke,
            asset: make_asset(app, "矩阵测试设备").await,
            asset_for_api_delete: make_asset(app, "待删除设备一").await,
            asset_for_page_delete: make_asset(app, "待删除设备二").await,
            domain_for_api_delete: make_domain(app, "待删除区一").await,
            domain_for_page_delete: make_domain(app, "待删除区二").await,
            network_unit: make_network_unit(app, "矩阵测试单元").await,
            network_unit_for_api_delete: make_network_unit(app, "待删除单元一").await,
            network_unit_for_page_delete: make_network_unit(app, "待删除单元二").await,
            intel: crate::intel::IntelFixture::new(app).await,
            alert: make_alert(app).await,
        }
    }

    /// The route's path with its parameters filled in.
    fn concrete(&self, method: &Method, path: &str) -> String {
        if let Some(collection) = self.intel.more.collection_for(path) {
            return path.replace("{id}", collection);
        }
        let id = if path.contains("/users/") {
            self.user
        } else if path.contains("/org-units/") {
            if *method == Method::DELETE {
                self.unit_for_api_delete
            } else if path.ends_with("/delete") {
                self.unit_for_page_delete
            } else {
                self.unit
            }
        } else if path.contains("/tokens/") {
            if *method == Method::DELETE { self.token_for_api_revoke } else { self.token_for_page_revoke }
        } else if path.contains("/assets/") {
            if *method == Method::DELETE && path.ends_with("{id}") {
                self.asset_for_api_delete
            } else if path.ends_with("{id}/delete") {
                self.asset_for_page_delete
            } else {
                self.asset
            }
        } else if path.contains("/network-units/") || path.contains("/govern/units/") {
            if *method == Method::DELETE {
                self.network_unit_for_api_delete
            } else if path.ends_with("{id}/delete") {
                self.network_unit_for_page_delete
            } else {
                self.network_unit
            }
        } else if path.contains("/security-domains/") {
            self.domain_for_api_delete
        } else if path.contains("/govern/domains/") {
            self.domain_for_page_delete
        } else if path.contains("/intel/") {
            self.intel.id_for(method, path).unwrap_or_default()
        } else if path.contains("/alerts/") {
            self.alert
        } else {
            0
        };
        path.replace("{id}", &id.to_string())
            .replace("{component_id}", "0")
            .replace("{task}", "0")
            .replace("{evidence_id}", "0")
            .replace("{evidence}", "0")
            .replace("{observable}", "0")
            .replace("{version}", "0")
            .replace("{org_unit_id}", &self.unit.to_string())
            .replace("{area}", "govern")
            .replace("{file}", "app.css")
            .replace("{name}", "dc1")
            .replace("{addr}", "192.0.2.1")
    }
}

/// The request for a route, with the minimal body its kind takes.
fn request(method: &Method, path: &str, kind: Kind) -> Req {
    let req = Req::new(method.clone(), path);
    match (method.as_str(), kind) {
        ("POST" | "PATCH" | "PUT", Kind::Api) => req.json(&json!({})),
        ("POST" | "PATCH" | "PUT", Kind::Page) => req.form(&[]),
        _ => req,
    }
}

/// One cell of the matrix.
struct Cell {
    status: StatusCode,
    problem: Option<String>,
}

fn kind_name(k: Kind) -> &'static str {
    match k {
        Kind::Api => "api",
        Kind::Page => "page",
    }
}

/// Checks an anonymous answer.
fn judge_anonymous(who: Who, kind: Kind, path: &str, r: &Resp) -> Option<String> {
    if r.status.is_server_error() {
        return Some(format!("server error {}", r.status));
    }
    match (who, kind) {
        (Public, _) => matches!(r.status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN)
            .then(|| format!("public route refused anonymous caller with {}", r.status)),
        (_, Kind::Api) => {
            if r.status != StatusCode::UNAUTHORIZED {
                return Some(format!("want 401, got {}", r.status));
            }
            (r.json()["status"] != 401).then(|| "401 without a JSON error body".to_owned())
        }
        (_, Kind::Page) => {
            let want = format!("/login?next={path}");
            (r.status != StatusCode::SEE_OTHER || r.location() != Some(want.as_str()))
                .then(|| format!("want 303 to {want}, got {} to {:?}", r.status, r.location()))
        }
    }
}

/// Checks the answer to a logged-in caller (token or full session).
fn judge_role(who: Who, kind: Kind, role: Role, r: &Resp) -> Option<String> {
    if r.status.is_server_error() {
        return Some(format!("server error {}", r.status));
    }
    let refused = matches!(r.status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN);
    match who {
        Public | AnyRole => refused.then(|| format!("allowed role refused with {}", r.status)),
        Roles(allowed) if allowed.contains(&role) => refused.then(|| format!("allowed role refused with {}", r.status)),
        Roles(_) => {
            if r.status != StatusCode::FORBIDDEN {
                return Some(format!("want 403, got {}", r.status));
            }
            let ok_body = match kind {
                Kind::Api => r.json()["status"] == 403,
                Kind::Page => r.content_type().starts_with("text/html"),
            };
            (!ok_body).then(|| format!("403 with the wrong kind of body ({})", r.content_type()))
        }
        // Only an MFA-pending session may use these; anyone else is sent to log in.
        MfaPending => {
            let to_login = r.status == StatusCode::SEE_OTHER && r.location().is_some_and(|l| l.starts_with("/login"));
            (!to_login).then(|| format!("want 303 to /login, got {} to {:?}", r.status, r.location()))
        }
    }
}

/// The table as text, with every failing cell marked, for the panic message.
fn render(title: &str, columns: &[String], rows: &[(String, Vec<Cell>)]) -> String {
    let width = rows.iter().map(|(r, _)| r.chars().count()).max().unwrap_or(10);
    let mut out = format!("{title}\n{:width$}", "");
    for c in columns {
        let _ = write!(out, " {c:>10}");
    }
    out.push('\n');
    let mut problems = String::new();
    for (name, cells) in rows {
        let _ = write!(out, "{name:width$}");
        for (col, cell) in columns.iter().zip(cells) {
            let mark = if cell.problem.is_some() { "✗" } else { " " };
            let _ = write!(out, " {:>9}{mark}", cell.status.as_u16());
            if let Some(p) = &cell.problem {
                let _ = writeln!(problems, "  {name} as {col}: {p}");
            }
        }
        out.push('\n');
    }
    format!("{out}\nproblems:\n{problems}")
}

/// Routes in the table and in the expectations must be the same set.
fn check_table_is_complete() -> Vec<String> {
    let actual: BTreeSet<(String, String)> =
        routes::table().iter().map(|r| (r.method.to_string(), r.path.to_owned())).collect();
    let expected: BTreeSet<(String, String)> =
        EXPECTED.iter().map(|(m, p, _, _)| ((*m).to_owned(), (*p).to_owned())).collect();
    assert_eq!(expected.len(), EXPECTED.len(), "the expectation table lists a route twice");
    let mut problems = Vec::new();
    for (m, p) in actual.difference(&expected) {
        problems.push(format!("route {m} {p} has no entry in the expectation table of tests/it/matrix.rs"));
    }
    for (m, p) in expected.difference(&actual) {
        problems.push(format!("the expectation table names {m} {p}, which routes::table() no longer has"));
    }
    for route in routes::table() {
        let entry = EXPECTED.iter().find(|(m, p, _, _)| *m == route.method.as_str() && *p == route.path);
        if let Some((_, _, kind, _)) = entry
            && *kind != route.kind
        {
            problems.push(format!(
                "{} {} answers as {}, the expectation table says {}",
                route.method,
                route.path,
                kind_name(route.kind),
                kind_name(*kind)
            ));
        }
    }
    problems
}

#[tokio::test]
async fn every_route_has_a_rule_and_the_routes_match_the_expectations() {
    let problems = check_table_is_complete();
    assert!(problems.is_empty(), "route table and expectations differ:\n  {}", problems.join("\n  "));
}

#[tokio::test]
async fn route_by_role_matrix_with_tokens() {
    let app = App::new().await;
    let fx = Fixture::new(&app).await;
    let mut columns = vec!["anonymous".to_owned()];
    columns.extend(Role::ALL.iter().map(ToString::to_string));
    let mut rows = Vec::new();
    let mut failed = !check_table_is_complete().is_empty();
    for (m, p, kind, who) in EXPECTED {
        let method: Method = m.parse().expect("method");
        let path = fx.concrete(&method, p);
        let mut cells = Vec::new();
        let r = app.send(request(&method, &path, *kind)).await;
        cells.push(Cell { status: r.status, problem: judge_anonymous(*who, *kind, &path, &r) });
        for role in Role::ALL {
            let r = app.send(request(&method, &path, *kind).bearer(app.token(role))).await;
            cells.push(Cell { status: r.status, problem: judge_role(*who, *kind, role, &r) });
        }
        failed |= cells.iter().any(|c| c.problem.is_some());
        rows.push((format!("{m} {p}"), cells));
    }
    let table = render("route × caller (API tokens), status per cell, ✗ = not as expected", &columns, &rows);
    assert!(!failed, "{table}");
}

/// The same rules hold for browser sessions (with CSRF tokens sent): a
/// session of a non-admin, non-auditor role and one of an auditor.
#[tokio::test]
async fn route_by_role_matrix_with_sessions() {
    let app = App::new().await;
    let fx = Fixture::new(&app).await;
    let mut sessions: Vec<(Role, Session)> = Vec::new();
    for role in [Role::Responder, Role::Auditor] {
        let name = format!("{role}.user");
        app.make_user(&name, role, app.root, Vec::new()).await;
        sessions.push((role, app.login(&name, crate::harness::PASSWORD).await));
    }
    let columns: Vec<String> = sessions.iter().map(|(r, _)| format!("{r}(s)")).collect();
    let mut rows = Vec::new();
    let mut failed = false;
    // Logging out ends the session, so it goes last.
    let mut order: Vec<_> = EXPECTED.iter().collect();
    order.sort_by_key(|(_, p, _, _)| *p == "/logout");
    for (m, p, kind, who) in order {
        let method: Method = m.parse().expect("method");
        let path = fx.concrete(&method, p);
        let mut cells = Vec::new();
        for (role, s) in &sessions {
            let req = match (method.as_str(), kind) {
                ("POST" | "PATCH" | "PUT", Kind::Page) => {
                    Req::new(method.clone(), &path).form(&[("_csrf", s.csrf.as_str())])
                }
                _ => request(&method, &path, *kind).csrf(s),
            };
            let r = app.send(req.session(s)).await;
            let problem = match (who, *m, *p) {
                // A full session is past the second factor; it is sent on.
                (MfaPending, _, _) => {
                    let sent_on = r.status == StatusCode::SEE_OTHER;
                    (!sent_on).then(|| format!("want 303, got {}", r.status))
                }
                _ => judge_role(*who, *kind, *role, &r),
            };
            cells.push(Cell { status: r.status, problem });
        }
        failed |= cells.iter().any(|c| c.problem.is_some());
        rows.push((format!("{m} {p}"), cells));
    }
    let table = render("route × caller (browser sessions), status per cell, ✗ = not as expected", &columns, &rows);
    assert!(!failed, "{table}");
}
