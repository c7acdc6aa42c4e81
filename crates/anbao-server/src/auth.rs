//! Who is calling and whether they may: resolves the principal from an API
//! token (`Authorization: Bearer`) or a session cookie, then enforces each
//! route's rule, including the CSRF token on every state-changing request
//! made with a session.

use std::net::SocketAddr;

use anbao_model::Role;
use anbao_model::org::OrgScope;
use anbao_store::Actor;
use axum::body::{Body, to_bytes};
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use crate::error::ApiError;
use crate::routes::{Access, Kind};
use crate::{AppState, BODY_LIMIT};

pub const SESSION_COOKIE: &str = "anbao_session";
pub const CSRF_HEADER: &str = "x-csrf-token";
pub const CSRF_FIELD: &str = "_csrf";

/// How the caller proved who it is.
#[derive(Clone, Debug)]
pub enum Credential {
    /// A browser session; holds the cookie value and its CSRF token.
    Session {
        raw: String,
        csrf: String,
    },
    Token {
        id: i64,
    },
}

/// The authenticated caller of a request.
#[derive(Clone, Debug)]
pub struct Principal {
    pub credential: Credential,
    pub user_id: Option<i64>,
    /// User name, or `token:NAME`.
    pub name: String,
    pub display_name: String,
    pub role: Role,
    pub home_unit: i64,
    /// The organisation units whose data this principal may see.
    pub scope: OrgScope,
    pub mfa_pending: bool,
    pub must_change_password: bool,
}

impl Principal {
    pub fn csrf(&self) -> &str {
        match &self.credential {
            Credential::Session { csrf, .. } => csrf,
            Credential::Token { .. } => "",
        }
    }

    /// The audit "who" for a change made by this principal.
    pub fn actor(&self, client: &ClientAddr) -> Actor {
        let channel = match self.credential {
            Credential::Session { .. } => "ui",
            Credential::Token { .. } => "api",
        };
        Actor {
            name: self.name.clone(),
            role: self.role.to_string(),
            channel,
            source_ip: client.0.clone(),
            user_id: self.user_id,
        }
    }

    /// Whether this principal may read `user`: its home unit is in scope.
    pub fn may_see_user(&self, user: &anbao_store::User) -> bool {
        self.scope.contains(user.org_unit_id)
    }

    /// Whether this principal may change `user`: the home unit and every
    /// unit the account is granted must be in scope, or a provincial admin
    /// could take over a regulator who reads other provinces.
    pub fn may_manage_user(&self, user: &anbao_store::User) -> bool {
        self.may_see_user(user) && user.grants.iter().all(|g| self.scope.contains(*g))
    }

    /// `None` when the principal sees every unit (no filter needed).
    pub fn scope_filter(&self) -> Option<Vec<i64>> {
        self.scope.ids()
    }
}

/// The client's address as text (`unknown` when not served over a socket,
/// as in tests).
#[derive(Clone, Debug)]
pub struct ClientAddr(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip().to_string())
                .unwrap_or_else(|| "unknown".into()),
        ))
    }
}

/// The principal of a request that passed its route's rule.
impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Principal>().cloned().ok_or_else(ApiError::unauthenticated)
    }
}

pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value with the flags every anbao cookie carries.
pub fn set_cookie(name: &str, value: &str, max_age_secs: Option<i64>, secure: bool) -> String {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict");
    if let Some(age) = max_age_secs {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        c.push_str("; Secure");
    }
    c
}

async fn resolve(state: &AppState, headers: &HeaderMap) -> Result<Option<Principal>, ApiError> {
    let store = &state.store;
    if let Some(auth) = headers.get(header::AUTHORIZATION) {
        let value = auth.to_str().unwrap_or_default();
        let Some(secret) = value.strip_prefix("Bearer ") else {
            return Err(ApiError::unauthenticated_msg("Authorization must be `Bearer TOKEN`"));
        };
        let Some(token) = store.find_token(secret.trim()).await? else {
            return Err(ApiError::unauthenticated_msg("the API token is unknown, revoked or expired"));
        };
        let scope = store.scope_of(&[token.org_unit_id]).await?;
        return Ok(Some(Principal {
            credential: Credential::Token { id: token.id },
            user_id: None,
            name: format!("token:{}", token.name),
            display_name: token.name.clone(),
            role: token.role,
            home_unit: token.org_unit_id,
            scope,
            mfa_pending: false,
            must_change_password: false,
        }));
    }
    let Some(raw) = cookie(headers, SESSION_COOKIE) else { return Ok(None) };
    let Some(session) = store.find_session(raw, &state.config.session).await? else { return Ok(None) };
    let user = store.get_user(session.user_id).await?;
    let roots = if user.role == Role::Regulator { user.grants.clone() } else { vec![user.org_unit_id] };
    let scope = store.scope_of(&roots).await?;
    Ok(Some(Principal {
        credential: Credential::Session { raw: raw.to_owned(), csrf: session.csrf_token },
        user_id: Some(user.id),
        name: user.username.clone(),
        display_name: user.display_name.clone(),
        role: user.role,
        home_unit: user.org_unit_id,
        scope,
        mfa_pending: session.mfa_pending,
        must_change_password: user.must_change_password,
    }))
}

/// Global middleware: attaches the principal (if any) to the request.
pub async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    match resolve(&state, req.headers()).await {
        Ok(Some(p)) => {
            req.extensions_mut().insert(p);
        }
        Ok(None) => {}
        Err(e) => return e.into_response(),
    }
    next.run(req).await
}

/// A route's rule, carried by its middleware.
#[derive(Clone, Copy, Debug)]
pub struct Rule {
    pub access: Access,
    pub kind: Kind,
}

fn refuse_unauthenticated(kind: Kind, req: &Request) -> Response {
    match kind {
        Kind::Api => ApiError::unauthenticated().into_response(),
        Kind::Page => {
            let next = req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/");
            let target = format!("/login?next={}", crate::ui::urlencode(next));
            Redirect::to(&target).into_response()
        }
    }
}

/// Refuses with `message` (API) or the page in the visitor's language.
fn refuse(kind: Kind, headers: &HeaderMap, status: StatusCode, message_key: &'static str) -> Response {
    let lang = crate::ui::lang_of(headers);
    match kind {
        Kind::Api => ApiError::new(status, crate::i18n::t(crate::i18n::Lang::En, message_key)).into_response(),
        Kind::Page => crate::ui::error_page(status, lang, message_key),
    }
}

/// Per-route middleware: the one place authorisation is decided.
pub async fn enforce(State(rule): State<Rule>, req: Request, next: Next) -> Response {
    let principal = req.extensions().get::<Principal>().cloned();
    match (rule.access, &principal) {
        (Access::Public, _) => return next.run(req).await,
        (Access::MfaPending, Some(p)) if p.mfa_pending => {}
        (Access::MfaPending, _) => return refuse_unauthenticated(rule.kind, &req),
        (_, None) => return refuse_unauthenticated(rule.kind, &req),
        (_, Some(p)) if p.mfa_pending => return Redirect::to("/login/totp").into_response(),
        (Access::Authenticated, Some(_)) => {}
        (Access::Permission(perm), Some(p)) => {
            if !p.role.allows(perm) {
                return refuse(rule.kind, req.headers(), StatusCode::FORBIDDEN, "error.forbidden");
            }
        }
    }
    let Some(p) = principal else { return refuse_unauthenticated(rule.kind, &req) };
    if is_safe(req.method()) {
        return next.run(req).await;
    }
    match check_csrf(&p, req).await {
        Ok(req) => next.run(req).await,
        Err(resp) => resp,
    }
}

fn is_safe(m: &Method) -> bool {
    matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Session-authenticated changes must carry the session's CSRF token, in
/// the `X-CSRF-Token` header or the `_csrf` form field. Token callers are
/// exempt: a browser never attaches a bearer token by itself.
async fn check_csrf(p: &Principal, req: Request) -> Result<Request, Response> {
    let Credential::Session { csrf, .. } = &p.credential else { return Ok(req) };
    if let Some(h) = req.headers().get(CSRF_HEADER) {
        return if constant_eq(h.as_bytes(), csrf.as_bytes()) {
            Ok(req)
        } else {
            Err(refuse(Kind::Api, req.headers(), StatusCode::FORBIDDEN, "error.csrf"))
        };
    }
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let is_multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if is_multipart {
        // File uploads cannot be read here without buffering them; their
        // forms carry the token in the action URL instead.
        let query: Vec<(String, String)> =
            serde_urlencoded::from_str(req.uri().query().unwrap_or_default()).unwrap_or_default();
        let presented = query.iter().find(|(k, _)| k == CSRF_FIELD).map(|(_, v)| v.as_str()).unwrap_or_default();
        return if constant_eq(presented.as_bytes(), csrf.as_bytes()) {
            Ok(req)
        } else {
            Err(refuse(Kind::Page, req.headers(), StatusCode::FORBIDDEN, "error.csrf"))
        };
    }
    if !is_form {
        return Err(refuse(Kind::Api, req.headers(), StatusCode::FORBIDDEN, "error.csrf_header"));
    }
    let (parts, body) = req.into_parts();
    let bytes = to_bytes(body, BODY_LIMIT)
        .await
        .map_err(|_| refuse(Kind::Page, &parts.headers, StatusCode::PAYLOAD_TOO_LARGE, "error.too_large"))?;
    let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes).unwrap_or_default();
    let presented = fields.iter().find(|(k, _)| k == CSRF_FIELD).map(|(_, v)| v.as_str()).unwrap_or_default();
    if !constant_eq(presented.as_bytes(), csrf.as_bytes()) {
        return Err(refuse(Kind::Page, &parts.headers, StatusCode::FORBIDDEN, "error.csrf"));
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

pub fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() || a.is_empty() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
