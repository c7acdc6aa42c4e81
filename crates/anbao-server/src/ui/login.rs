//! Sign-in: password, optional TOTP second factor, sign-out. The login form
//! is protected against login CSRF with a double-submit cookie, since there
//! is no session yet to hold a token.

use anbao_store::LoginOutcome;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;
use serde_json::json;

use super::{Ctx, page};
use crate::AppState;
use crate::auth::{ClientAddr, Credential, Principal, SESSION_COOKIE, constant_eq, cookie, set_cookie};
use crate::error::ApiError;
use crate::extract::{FormBody, Query};

const LOGIN_CSRF_COOKIE: &str = "anbao_login";

#[derive(Debug, Default, Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

/// Only same-site relative paths are followed after login.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.starts_with("/\\")
                && !n.starts_with("/login")
                && !n.contains(char::is_control) =>
        {
            n.to_owned()
        }
        _ => "/".to_owned(),
    }
}

fn login_page(ctx: &Ctx, state: &AppState, next: &str, error: Option<&str>, status: StatusCode) -> Response {
    let token = crate::metrics::request_id() + &crate::metrics::request_id();
    let body = html! {
        @if let Some(e) = error { div class="flash error" role="alert" id="login-error" { (e) } }
        form method="post" action="/login" class="card narrow" id="login-form" {
            input type="hidden" name="_login_csrf" value=(token);
            input type="hidden" name="next" value=(next);
            label { (ctx.t("field.username")) input name="username" autocomplete="username" required autofocus; }
            label { (ctx.t("field.password")) input name="password" type="password" autocomplete="current-password" required; }
            button type="submit" id="login-submit" { (ctx.t("action.login")) }
        }
    };
    let mut resp = page(ctx, ctx.t("page.login"), body);
    *resp.status_mut() = status;
    if let Ok(v) = set_cookie(LOGIN_CSRF_COOKIE, &token, Some(3600), state.config.secure_cookies).parse() {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

pub async fn form(State(state): State<AppState>, ctx: Ctx, Query(q): Query<LoginQuery>) -> Response {
    if ctx.principal.as_ref().is_some_and(|p| !p.mfa_pending) {
        return Redirect::to(&safe_next(q.next.as_deref())).into_response();
    }
    login_page(&ctx, &state, &safe_next(q.next.as_deref()), None, StatusCode::OK)
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    next: Option<String>,
    #[serde(default)]
    _login_csrf: String,
}

fn session_cookie_header(state: &AppState, raw: &str) -> (header::HeaderName, String) {
    let max_age = state.config.session.absolute.whole_seconds();
    (header::SET_COOKIE, set_cookie(SESSION_COOKIE, raw, Some(max_age), state.config.secure_cookies))
}

pub async fn submit(
    State(state): State<AppState>,
    ctx: Ctx,
    client: ClientAddr,
    headers: HeaderMap,
    FormBody(f): FormBody<LoginForm>,
) -> Result<Response, ApiError> {
    let next = safe_next(f.next.as_deref());
    let presented = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if !constant_eq(presented.as_bytes(), f._login_csrf.as_bytes()) {
        return Ok(login_page(&ctx, &state, &next, Some(ctx.t("login.csrf")), StatusCode::FORBIDDEN));
    }
    let store = &state.store;
    let outcome = store.check_login(&client.0, f.username.trim(), &f.password, &state.config.login).await?;
    let user = match outcome {
        LoginOutcome::Success(u) => u,
        LoginOutcome::Failed => {
            return Ok(login_page(&ctx, &state, &next, Some(ctx.t("login.failed")), StatusCode::UNAUTHORIZED));
        }
        LoginOutcome::Locked { until } => {
            let msg = format!("{} {}", ctx.t("login.locked"), super::short_time(&until));
            return Ok(login_page(&ctx, &state, &next, Some(&msg), StatusCode::FORBIDDEN));
        }
        LoginOutcome::TooManyAttempts => {
            return Ok(login_page(&ctx, &state, &next, Some(ctx.t("login.too_many")), StatusCode::TOO_MANY_REQUESTS));
        }
    };
    let ua = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let mfa = store.totp_secret(user.id).await?.is_some();
    let (raw, _) = store.create_session(user.id, mfa, &client.0, ua, &state.config.session).await?;
    let target = if mfa { format!("/login/totp?next={}", super::urlencode(&next)) } else { next };
    if !mfa {
        let actor = anbao_store::Actor {
            name: user.username.clone(),
            role: user.role.to_string(),
            channel: "ui",
            source_ip: client.0.clone(),
            user_id: Some(user.id),
        };
        store
            .audit_event(
                &actor,
                "session.login",
                "user",
                &user.id.to_string(),
                Some(user.org_unit_id),
                Some(&json!({"mfa": false})),
            )
            .await?;
    }
    Ok(([session_cookie_header(&state, &raw)], Redirect::to(&target)).into_response())
}

pub async fn totp_form(ctx: Ctx, Query(q): Query<LoginQuery>) -> Response {
    let body = html! {
        form method="post" action="/login/totp" class="card narrow" {
            (ctx.csrf_field())
            input type="hidden" name="next" value=(safe_next(q.next.as_deref()));
            p { (ctx.t("login.totp_prompt")) }
            label { (ctx.t("field.totp_code")) input name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" required autofocus; }
            button type="submit" { (ctx.t("action.verify")) }
        }
    };
    page(&ctx, ctx.t("page.totp"), body)
}

#[derive(Debug, Deserialize)]
pub struct TotpForm {
    code: String,
    #[serde(default)]
    next: Option<String>,
}

pub async fn totp_submit(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    FormBody(f): FormBody<TotpForm>,
) -> Result<Response, ApiError> {
    let Credential::Session { raw, .. } = &p.credential else {
        return Err(ApiError::forbidden("not a browser session"));
    };
    let user_id = p.user_id.ok_or_else(ApiError::unauthenticated)?;
    let store = &state.store;
    let Some((secret, _)) = store.totp_secret(user_id).await? else {
        store.complete_mfa(raw).await?;
        return Ok(Redirect::to("/").into_response());
    };
    let now = store.clock().now().unix_timestamp();
    match crate::ui::account::totp_matching_step(&secret, f.code.trim(), now) {
        Some(step) if store.consume_totp_step(user_id, step).await? => {
            store.complete_mfa(raw).await?;
            let actor = p.actor(&client);
            store
                .audit_event(
                    &actor,
                    "session.login",
                    "user",
                    &user_id.to_string(),
                    Some(p.home_unit),
                    Some(&json!({"mfa": true})),
                )
                .await?;
            Ok(Redirect::to(&safe_next(f.next.as_deref())).into_response())
        }
        _ => {
            let actor = p.actor(&client);
            store
                .audit_event(&actor, "session.totp_failed", "user", &user_id.to_string(), Some(p.home_unit), None)
                .await?;
            Ok(super::redirect_with("/login/totp", "error", ctx.t("login.totp_wrong")))
        }
    }
}

pub async fn logout(State(state): State<AppState>, p: Principal, client: ClientAddr) -> Result<Response, ApiError> {
    if let Credential::Session { raw, .. } = &p.credential {
        state.store.delete_session(raw).await?;
        let actor = p.actor(&client);
        let id = p.user_id.map(|i| i.to_string()).unwrap_or_default();
        state.store.audit_event(&actor, "session.logout", "user", &id, Some(p.home_unit), None).await?;
    }
    let clear = set_cookie(SESSION_COOKIE, "", Some(0), state.config.secure_cookies);
    Ok(([(header::SET_COOKIE, clear)], Redirect::to("/login")).into_response())
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_never_leaves_the_site() {
        assert_eq!(safe_next(Some("/admin/users?x=1")), "/admin/users?x=1");
        for bad in ["//evil.example", "https://evil.example", "/\\evil", "javascript:alert(1)", "/login"] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
