//! The server-rendered web UI: a layout with navigation by area (Govern,
//! Detect, Respond, Protect), Chinese and English labels, and pages that
//! post plain forms (with the session's CSRF token) and redirect back.
//! Markup is built with maud, which escapes every interpolated value.

pub mod account;
pub mod accountability;
pub mod alerts;
pub mod areas;
pub mod assessments;
pub mod asset_import;
pub mod assets;
pub mod audit;
pub mod board;
pub mod chart;
pub mod dashboard;
pub mod detection;
pub mod domains;
pub mod flows;
pub mod incident_evidence;
pub mod incident_leaks;
pub mod incidents;
pub mod intel;
pub mod intel_sources;
pub mod lang;
pub mod login;
pub mod mitigations;
pub mod network_units;
pub mod notifications;
pub mod org_units;
pub mod plans;
pub mod reports;
pub mod requirements;
pub mod risks;
pub mod samples;
pub mod taxii;
pub mod tokens;
pub mod users;
pub mod warnings;

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::{DOCTYPE, Markup, html};
use serde::Deserialize;

use crate::AppState;
use crate::auth::{CSRF_FIELD, Principal, cookie};
use crate::i18n::{Lang, t};

pub const LANG_COOKIE: &str = "anbao_lang";

/// What every page needs to render its frame.
#[derive(Clone, Debug)]
pub struct Ctx {
    pub lang: Lang,
    pub principal: Option<Principal>,
    pub instance_name: String,
    pub path: String,
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let lang = cookie(&parts.headers, LANG_COOKIE).and_then(Lang::parse).unwrap_or(state.config.default_lang);
        Ok(Ctx {
            lang,
            principal: parts.extensions.get::<Principal>().cloned(),
            instance_name: state.config.instance_name.clone(),
            path: parts.uri.path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_else(|| "/".into()),
        })
    }
}

impl Ctx {
    pub fn t(&self, key: &'static str) -> &'static str {
        t(self.lang, key)
    }

    /// The hidden CSRF field every state-changing form carries.
    pub fn csrf_field(&self) -> Markup {
        let token = self.principal.as_ref().map(|p| p.csrf().to_owned()).unwrap_or_default();
        html! { input type="hidden" name=(CSRF_FIELD) value=(token); }
    }

    pub fn can(&self, p: anbao_model::Permission) -> bool {
        self.principal.as_ref().is_some_and(|pr| pr.role.allows(p))
    }
}

/// `?ok=` and `?error=` messages carried across a redirect after a form post.
#[derive(Debug, Default, Deserialize)]
pub struct Flash {
    pub ok: Option<String>,
    pub error: Option<String>,
}

pub fn flash(f: &Flash) -> Markup {
    html! {
        @if let Some(m) = &f.ok { div class="flash ok" role="status" { (m) } }
        @if let Some(m) = &f.error { div class="flash error" role="alert" { (m) } }
    }
}

/// The message to show a person for a store error they can fix (bad
/// input, conflict, missing record); other errors stay errors (5xx).
pub fn user_message(e: anbao_store::StoreError) -> Result<String, crate::error::ApiError> {
    use anbao_store::StoreError;
    match e {
        StoreError::Invalid(i) => Ok(i.to_string()),
        StoreError::Conflict(m) => Ok(m),
        StoreError::NotFound { what, id } => Ok(format!("{what} {id} not found")),
        e @ StoreError::TooLarge { .. } => Ok(e.to_string()),
        other => Err(other.into()),
    }
}

/// The value of `key` in a posted form (empty when absent).
pub fn form_value<'a>(raw: &'a [(String, String)], key: &str) -> &'a str {
    raw.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str()).unwrap_or_default()
}

/// The answer to a form post: back to `back` with `ok`, or with the
/// message of an error the person can fix. Generic in the error so that
/// handlers answering `ApiError` and those answering `FormError` share it.
pub fn after_change<T, E: From<crate::error::ApiError>>(
    result: Result<T, anbao_store::StoreError>,
    back: &str,
    ok: &str,
) -> Result<Response, E> {
    match result {
        Ok(_) => Ok(redirect_with(back, "ok", ok)),
        Err(e) => Ok(redirect_with(back, "error", &user_message(e)?)),
    }
}

/// Why a form handler stopped early: input the person can fix sends them
/// back to the form with its message (`Bounce`); anything else answers as
/// the API would. Lets handlers write `parse(…).or_bounce(&back)?`.
/// (The redirect is boxed to keep handlers' `Result` small.)
#[derive(Debug)]
pub enum FormError {
    Bounce(Box<Response>),
    Api(crate::error::ApiError),
}

impl From<crate::error::ApiError> for FormError {
    fn from(e: crate::error::ApiError) -> FormError {
        FormError::Api(e)
    }
}

impl From<anbao_store::StoreError> for FormError {
    fn from(e: anbao_store::StoreError) -> FormError {
        FormError::Api(e.into())
    }
}

impl IntoResponse for FormError {
    fn into_response(self) -> Response {
        match self {
            FormError::Bounce(r) => *r,
            FormError::Api(e) => e.into_response(),
        }
    }
}

/// An error whose message is shown to the person on the form they posted.
pub trait FormMessage {
    /// The message, or the error itself when it is not the person's to fix.
    fn form_message(self) -> Result<String, crate::error::ApiError>;
}

impl FormMessage for String {
    fn form_message(self) -> Result<String, crate::error::ApiError> {
        Ok(self)
    }
}

impl FormMessage for &str {
    fn form_message(self) -> Result<String, crate::error::ApiError> {
        Ok(self.to_owned())
    }
}

impl FormMessage for anbao_model::validate::Invalid {
    fn form_message(self) -> Result<String, crate::error::ApiError> {
        Ok(self.to_string())
    }
}

/// Its message whatever the status, as the API would answer it.
impl FormMessage for crate::error::ApiError {
    fn form_message(self) -> Result<String, crate::error::ApiError> {
        Ok(self.message)
    }
}

/// Bad input, conflicts and missing records are shown; the rest stay errors.
impl FormMessage for anbao_store::StoreError {
    fn form_message(self) -> Result<String, crate::error::ApiError> {
        user_message(self)
    }
}

/// `?` for form handlers: a result whose error sends the person back.
pub trait OrBounce<T> {
    /// The value, or a redirect to `back` with the error's message.
    fn or_bounce(self, back: &str) -> Result<T, FormError>;
    /// The value, or `bounce` made of the error's message (for redirects
    /// other than `redirect_with`, such as to an anchor).
    fn or_bounce_with(self, bounce: impl FnOnce(&str) -> Response) -> Result<T, FormError>;
}

impl<T, E: FormMessage> OrBounce<T> for Result<T, E> {
    fn or_bounce(self, back: &str) -> Result<T, FormError> {
        self.or_bounce_with(|message| redirect_with(back, "error", message))
    }
    fn or_bounce_with(self, bounce: impl FnOnce(&str) -> Response) -> Result<T, FormError> {
        match self {
            Ok(v) => Ok(v),
            Err(e) => Err(FormError::Bounce(Box::new(bounce(&e.form_message()?)))),
        }
    }
}

/// Redirect to `to` with a message shown at the top of the page.
pub fn redirect_with(to: &str, key: &str, message: &str) -> Response {
    let sep = if to.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{to}{sep}{key}={}", urlencode(message))).into_response()
}

pub fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

struct NavItem {
    href: &'static str,
    key: &'static str,
    permission: Option<anbao_model::Permission>,
}

const NAV: &[NavItem] = &[
    NavItem { href: "/", key: "nav.dashboard", permission: None },
    NavItem { href: "/areas/govern", key: "area.govern", permission: None },
    NavItem {
        href: "/govern/requirements",
        key: "nav.requirements",
        permission: Some(anbao_model::Permission::ReadGovern),
    },
    NavItem { href: "/areas/detect", key: "area.detect", permission: None },
    NavItem { href: "/intel", key: "nav.intel", permission: Some(anbao_model::Permission::ReadIntel) },
    NavItem { href: "/alerts", key: "nav.alerts", permission: Some(anbao_model::Permission::ReadAlerts) },
    NavItem { href: "/areas/respond", key: "area.respond", permission: None },
    NavItem { href: "/incidents", key: "nav.incidents", permission: Some(anbao_model::Permission::ReadIncidents) },
    NavItem { href: "/warnings", key: "nav.warnings", permission: None },
    NavItem { href: "/plans", key: "nav.plans", permission: None },
    NavItem { href: "/drills", key: "nav.drills", permission: None },
    NavItem {
        href: "/reports/received",
        key: "nav.received_reports",
        permission: Some(anbao_model::Permission::ReadReceivedReports),
    },
    NavItem { href: "/areas/protect", key: "area.protect", permission: None },
    NavItem { href: "/admin/users", key: "nav.users", permission: Some(anbao_model::Permission::ReadDirectory) },
    NavItem {
        href: "/admin/org-units",
        key: "nav.org_units",
        permission: Some(anbao_model::Permission::ReadDirectory),
    },
    NavItem { href: "/admin/tokens", key: "nav.tokens", permission: Some(anbao_model::Permission::ManageTokens) },
    NavItem {
        href: "/notifications",
        key: "nav.notifications",
        permission: Some(anbao_model::Permission::ManageNotifications),
    },
    NavItem { href: "/audit", key: "nav.audit", permission: Some(anbao_model::Permission::ReadAudit) },
];

fn is_current(ctx: &Ctx, href: &str) -> bool {
    let path = ctx.path.split('?').next().unwrap_or("/");
    if href == "/" { path == "/" } else { path.starts_with(href) }
}

/// The page frame: header, navigation, language switch, account menu.
pub fn layout(ctx: &Ctx, title: &str, body: Markup) -> Markup {
    let other = match ctx.lang {
        Lang::Zh => Lang::En,
        Lang::En => Lang::Zh,
    };
    html! {
        (DOCTYPE)
        html lang=(ctx.lang.html_code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · " (ctx.t("brand")) }
                link rel="stylesheet" href="/static/app.css";
                link rel="icon" href="/static/favicon.svg" type="image/svg+xml";
                script src="/static/app.js" defer {}
            }
            body {
                header class="top" {
                    a class="brand" href="/" { (ctx.t("brand")) @if !ctx.instance_name.is_empty() { span class="instance" { (ctx.instance_name) } } }
                    @if let Some(p) = &ctx.principal {
                        nav class="main" aria-label=(ctx.t("nav.main")) {
                            @for item in NAV {
                                @if item.permission.is_none_or(|perm| p.role.allows(perm)) {
                                    a href=(item.href) data-nav=(item.key) class=[is_current(ctx, item.href).then_some("current")] { (ctx.t(item.key)) }
                                }
                            }
                        }
                    }
                    div class="account" {
                        a class="lang" id="lang-switch" href={ "/lang?set=" (other.code()) "&next=" (urlencode(&ctx.path)) } { (other.native_name()) }
                        @if let Some(p) = &ctx.principal {
                            a href="/account" class="who" { (p.display_name) " (" (ctx.t(role_key(p.role))) ")" }
                            form method="post" action="/logout" class="inline" {
                                (ctx.csrf_field())
                                button type="submit" class="link" id="logout" { (ctx.t("action.logout")) }
                            }
                        }
                    }
                }
                @if ctx.principal.as_ref().is_some_and(|p| p.must_change_password) {
                    div class="flash warn" id="must-change-password" { (ctx.t("account.must_change")) " " a href="/account" { (ctx.t("nav.account")) } }
                }
                main { h1 { (title) } (body) }
                footer { (ctx.t("footer")) }
            }
        }
    }
}

pub fn page(ctx: &Ctx, title: &str, body: Markup) -> Response {
    Html(layout(ctx, title, body).into_string()).into_response()
}

/// A minimal error page for refusals that happen before a handler runs,
/// in the visitor's language.
pub fn error_page(status: StatusCode, lang: Lang, message_key: &'static str) -> Response {
    let body = html! {
        (DOCTYPE)
        html lang=(lang.html_code()) {
            head {
                meta charset="utf-8";
                title { (status.as_u16()) " · " (t(lang, "brand")) }
                link rel="stylesheet" href="/static/app.css";
            }
            body {
                header class="top" { a class="brand" href="/" { (t(lang, "brand")) } }
                main {
                    h1 { (status.as_u16()) }
                    p id="error-message" { (t(lang, message_key)) }
                    p { a href="/" { (t(lang, "nav.dashboard")) } }
                }
            }
        }
    };
    (status, Html(body.into_string())).into_response()
}

/// The visitor's language from the cookie, or the default.
pub fn lang_of(headers: &axum::http::HeaderMap) -> Lang {
    cookie(headers, LANG_COOKIE).and_then(Lang::parse).unwrap_or(Lang::Zh)
}

pub fn role_key(r: anbao_model::Role) -> &'static str {
    use anbao_model::Role::*;
    match r {
        Admin => "role.admin",
        Analyst => "role.analyst",
        Responder => "role.responder",
        Auditor => "role.auditor",
        Regulator => "role.regulator",
    }
}

pub fn kind_key(k: anbao_model::OrgKind) -> &'static str {
    use anbao_model::OrgKind::*;
    match k {
        Group => "kind.group",
        Province => "kind.province",
        City => "kind.city",
        Department => "kind.department",
        Other => "kind.other",
    }
}

/// Formats a timestamp for tables: `2026-11-25 10:38 UTC`.
pub fn short_time(t: &time::OffsetDateTime) -> String {
    format!("{:04}-{:02}-{:02} {:02}:{:02} UTC", t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute())
}

/// `<select>` options for organisation units, indented by depth, limited to
/// what the principal may see.
pub fn unit_options(units: &[anbao_model::OrgUnit], scope: &anbao_model::OrgScope, selected: Option<i64>) -> Markup {
    let mut ordered: Vec<(usize, &anbao_model::OrgUnit)> = Vec::new();
    fn walk<'a>(
        units: &'a [anbao_model::OrgUnit],
        parent: Option<i64>,
        depth: usize,
        out: &mut Vec<(usize, &'a anbao_model::OrgUnit)>,
    ) {
        for u in units.iter().filter(|u| u.parent_id == parent) {
            out.push((depth, u));
            if depth < 32 {
                walk(units, Some(u.id), depth + 1, out);
            }
        }
    }
    walk(units, None, 0, &mut ordered);
    html! {
        @for (depth, u) in ordered {
            @if scope.contains(u.id) {
                option value=(u.id) selected[selected == Some(u.id)] { ("\u{3000}".repeat(depth)) (u.name) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;
    use axum::http::header::LOCATION;
    use axum::response::IntoResponse;

    use super::{FormError, OrBounce};

    fn location(e: FormError) -> String {
        let r = e.into_response();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        r.headers()[LOCATION].to_str().unwrap().to_owned()
    }

    #[test]
    fn a_message_the_person_can_act_on_goes_back_to_the_form() {
        let bad: Result<(), String> = Err("level: not a level".into());
        assert_eq!(location(bad.or_bounce("/x?tab=a").unwrap_err()), "/x?tab=a&error=level%3A%20not%20a%20level");
        let conflict: Result<(), _> = Err(anbao_store::StoreError::Conflict("name taken".into()));
        assert_eq!(location(conflict.or_bounce("/x").unwrap_err()), "/x?error=name%20taken");
        assert_eq!(Ok::<_, String>(7).or_bounce("/x").unwrap(), 7);
    }

    #[test]
    fn a_server_fault_stays_an_error() {
        let broken: Result<(), _> = Err(anbao_store::StoreError::Corrupt("bad row".into()));
        let r = broken.or_bounce("/x").unwrap_err().into_response();
        assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(r.headers().get(LOCATION).is_none());
    }
}
