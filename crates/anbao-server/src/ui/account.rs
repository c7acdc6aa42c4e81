//! The signed-in user's own account: password change and the optional TOTP
//! second factor (RFC 6238, 30-second steps, SHA-1, 6 digits: what every
//! authenticator app reads).

use axum::extract::State;
use axum::response::Response;
use maud::html;
use serde::Deserialize;

use super::{Ctx, Flash, flash, redirect_with};
use crate::AppState;
use crate::auth::{ClientAddr, Principal};
use crate::error::ApiError;
use crate::extract::{FormBody, Query};

const STEP: i64 = 30;

fn totp(secret_b32: &str) -> Option<totp_rs::TOTP> {
    let bytes = totp_rs::Secret::Encoded(secret_b32.to_owned()).to_bytes().ok()?;
    totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, 6, 1, STEP as u64, bytes).ok()
}

/// The time step whose code matches, allowing one step of clock skew either
/// way; the caller refuses steps already used.
pub fn totp_matching_step(secret_b32: &str, code: &str, unix_now: i64) -> Option<i64> {
    let t = totp(secret_b32)?;
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now_step = unix_now / STEP;
    (now_step - 1..=now_step + 1).find(|step| {
        let generated = t.generate((step * STEP).max(0) as u64);
        crate::auth::constant_eq(generated.as_bytes(), code.as_bytes())
    })
}

fn new_secret() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 20];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    match totp_rs::Secret::Raw(bytes.to_vec()).to_encoded() {
        totp_rs::Secret::Encoded(s) => s,
        totp_rs::Secret::Raw(_) => String::new(),
    }
}

pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Query(f): Query<Flash>,
) -> Result<Response, ApiError> {
    let user = match p.user_id {
        Some(id) => Some(state.store.get_user(id).await?),
        None => None,
    };
    let secret = new_secret();
    let issuer = "anbao";
    let uri =
        format!("otpauth://totp/{issuer}:{}?secret={secret}&issuer={issuer}&algorithm=SHA1&digits=6&period=30", p.name);
    let body = html! {
        (flash(&f))
        @if let Some(u) = &user {
            section class="card" {
                h2 { (ctx.t("account.profile")) }
                dl {
                    dt { (ctx.t("field.username")) } dd { (u.username) }
                    dt { (ctx.t("field.display_name")) } dd { (u.display_name) }
                    dt { (ctx.t("field.role")) } dd { (ctx.t(super::role_key(u.role))) }
                }
            }
            section class="card" {
                h2 { (ctx.t("account.change_password")) }
                form method="post" action="/account/password" {
                    (ctx.csrf_field())
                    label { (ctx.t("field.current_password")) input type="password" name="current" autocomplete="current-password" required; }
                    label { (ctx.t("field.new_password")) input type="password" name="new" autocomplete="new-password" minlength="12" required; }
                    button type="submit" { (ctx.t("action.save")) }
                }
            }
            section class="card" {
                h2 { (ctx.t("account.totp")) }
                @if u.totp_enabled {
                    p { (ctx.t("account.totp_on")) }
                    form method="post" action="/account/totp/disable" {
                        (ctx.csrf_field())
                        label { (ctx.t("field.totp_code")) input name="code" inputmode="numeric" pattern="[0-9]{6}" required; }
                        button type="submit" class="danger" { (ctx.t("action.disable_totp")) }
                    }
                } @else {
                    p { (ctx.t("account.totp_off")) }
                    p { (ctx.t("account.totp_secret")) " " code id="totp-secret" { (secret) } }
                    p class="small" { code { (uri) } }
                    form method="post" action="/account/totp" {
                        (ctx.csrf_field())
                        input type="hidden" name="secret" value=(secret);
                        label { (ctx.t("field.totp_code")) input name="code" inputmode="numeric" pattern="[0-9]{6}" required; }
                        button type="submit" { (ctx.t("action.enable_totp")) }
                    }
                }
            }
        } @else {
            p { (ctx.t("account.token_principal")) }
        }
    };
    Ok(super::page(&ctx, ctx.t("nav.account"), body))
}

#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    current: String,
    new: String,
}

pub async fn change_password(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    FormBody(f): FormBody<PasswordForm>,
) -> Result<Response, ApiError> {
    let id = p.user_id.ok_or_else(|| ApiError::forbidden("API tokens have no password"))?;
    let policy = anbao_store::LoginPolicy { max_failures_per_ip: i64::MAX, ..state.config.login };
    match state.store.check_login(&client.0, &p.name, &f.current, &policy).await? {
        anbao_store::LoginOutcome::Success(_) => {}
        _ => return Ok(redirect_with("/account", "error", ctx.t("account.wrong_password"))),
    }
    match state.store.set_password(&p.actor(&client), id, &f.new, false).await {
        Ok(()) => Ok(redirect_with("/login", "ok", ctx.t("account.password_changed"))),
        Err(anbao_store::StoreError::Invalid(i)) => Ok(redirect_with("/account", "error", &i.to_string())),
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Deserialize)]
pub struct EnableTotpForm {
    secret: String,
    code: String,
}

pub async fn enable_totp(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    FormBody(f): FormBody<EnableTotpForm>,
) -> Result<Response, ApiError> {
    let id = p.user_id.ok_or_else(|| ApiError::forbidden("API tokens have no second factor"))?;
    let now = state.store.clock().now().unix_timestamp();
    if totp(&f.secret).is_none() || totp_matching_step(&f.secret, f.code.trim(), now).is_none() {
        return Ok(redirect_with("/account", "error", ctx.t("login.totp_wrong")));
    }
    state.store.set_totp(&p.actor(&client), id, Some(&f.secret)).await?;
    Ok(redirect_with("/account", "ok", ctx.t("account.totp_enabled")))
}

#[derive(Debug, Deserialize)]
pub struct DisableTotpForm {
    code: String,
}

pub async fn disable_totp(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    FormBody(f): FormBody<DisableTotpForm>,
) -> Result<Response, ApiError> {
    let id = p.user_id.ok_or_else(|| ApiError::forbidden("API tokens have no second factor"))?;
    let Some((secret, _)) = state.store.totp_secret(id).await? else {
        return Ok(redirect_with("/account", "ok", ctx.t("account.totp_off")));
    };
    let now = state.store.clock().now().unix_timestamp();
    if totp_matching_step(&secret, f.code.trim(), now).is_none() {
        return Ok(redirect_with("/account", "error", ctx.t("login.totp_wrong")));
    }
    state.store.set_totp(&p.actor(&client), id, None).await?;
    Ok(redirect_with("/account", "ok", ctx.t("account.totp_disabled")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_their_step_and_one_step_of_skew() {
        let secret = new_secret();
        let t = totp(&secret).expect("valid secret");
        let now = 1_800_000_000i64;
        let code = t.generate(now as u64);
        assert_eq!(totp_matching_step(&secret, &code, now), Some(now / STEP));
        assert_eq!(totp_matching_step(&secret, &code, now + STEP), Some(now / STEP));
        assert_eq!(totp_matching_step(&secret, &code, now + 3 * STEP), None);
        assert_eq!(totp_matching_step(&secret, "12345", now), None);
        assert_eq!(totp_matching_step(&secret, "abcdef", now), None);
    }
}
