//! Who calls the TAXII server and in what media type: API tokens presented
//! as HTTP Basic passwords or bearer tokens, browser sessions (through
//! `auth::authenticate`), the CSRF header on session changes, and `Accept`
//! / `Content-Type` negotiation of `application/taxii+json;version=2.1`.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;
use crate::auth::{CSRF_HEADER, Credential, Principal, constant_eq};
use crate::taxii::TaxiiError;

/// Outermost TAXII layer: turns `Authorization: Basic` (the password is the
/// token; the user name is ignored) or `Bearer` into the token's
/// principal, and hides the header and any cookie from the session layer
/// behind it. A presented credential that is not a live token is refused.
pub async fn resolve_token(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else { return next.run(req).await };
    let secret = match token_in(value) {
        Ok(s) => s,
        Err(message) => return TaxiiError::unauthenticated(message).into_response(),
    };
    let principal = match principal_of_token(&state, &secret).await {
        Ok(Some(p)) => p,
        Ok(None) => {
            return TaxiiError::unauthenticated("the API token is unknown, revoked or expired").into_response();
        }
        Err(e) => return e.into_response(),
    };
    req.headers_mut().remove(header::AUTHORIZATION);
    req.headers_mut().remove(header::COOKIE);
    req.extensions_mut().insert(principal);
    next.run(req).await
}

/// The token in an `Authorization` value: a Basic password or a Bearer token.
fn token_in(value: &HeaderValue) -> Result<String, &'static str> {
    const HOW: &str = "send an anbao API token as the HTTP Basic password (any user name) or as `Bearer TOKEN`";
    let text = value.to_str().map_err(|_| HOW)?.trim();
    let (scheme, rest) = text.split_once(' ').ok_or(HOW)?;
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        return Ok(rest.to_owned());
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64_decode(rest).ok_or("the Basic credentials are not base64")?;
        let pair = String::from_utf8(decoded).map_err(|_| "the Basic credentials are not UTF-8")?;
        let (_, password) = pair.split_once(':').ok_or("the Basic credentials have no password")?;
        return Ok(password.to_owned());
    }
    Err(HOW)
}

/// The principal of a live token, as `auth::authenticate` builds it for
/// bearer tokens.
async fn principal_of_token(state: &AppState, secret: &str) -> Result<Option<Principal>, TaxiiError> {
    let Some(token) = state.store.find_token(secret).await? else { return Ok(None) };
    let scope = state.store.scope_of(&[token.org_unit_id]).await?;
    Ok(Some(Principal {
        credential: Credential::Token { id: token.id },
        user_id: None,
        name: format!("token:{}", token.name),
        display_name: token.name.clone(),
        role: token.role,
        home_unit: token.org_unit_id,
        scope,
        mfa_pending: false,
        must_change_password: false,
    }))
}

/// Refuses callers without a principal (401 with a Basic challenge), with
/// the second factor still owed, or changing things with a session but
/// without its CSRF token.
pub async fn require_principal(req: Request, next: Next) -> Response {
    let Some(p) = req.extensions().get::<Principal>() else {
        return TaxiiError::unauthenticated(
            "send an anbao API token as the HTTP Basic password (any user name) or as `Bearer TOKEN`",
        )
        .into_response();
    };
    if p.mfa_pending {
        return TaxiiError::unauthenticated("finish signing in with the second factor first").into_response();
    }
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if let Credential::Session { csrf, .. } = &p.credential
        && !safe
    {
        let presented = req.headers().get(CSRF_HEADER).map(HeaderValue::as_bytes).unwrap_or_default();
        if !constant_eq(presented, csrf.as_bytes()) {
            return TaxiiError::forbidden("changes made with a browser session need the X-CSRF-Token header")
                .into_response();
        }
    }
    next.run(req).await
}

/// 406 unless the client accepts `application/taxii+json;version=2.1`.
pub async fn negotiate(req: Request, next: Next) -> Response {
    if !accepts_taxii(req.headers()) {
        return TaxiiError::new(axum::http::StatusCode::NOT_ACCEPTABLE, "Not acceptable")
            .describe(format!("this server answers in {} only; send it in Accept", crate::taxii::TAXII_MEDIA_TYPE))
            .into_response();
    }
    next.run(req).await
}

/// A media type's lower-cased `type/subtype` and its parameters.
fn media_type(text: &str) -> (String, Vec<(String, String)>) {
    let mut parts = text.split(';');
    let essence = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
    let params = parts
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().trim_matches('"').to_owned()))
        .collect();
    (essence, params)
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// Whether `Accept` admits TAXII 2.1: no `Accept` at all, `*/*`,
/// `application/*`, or `application/taxii+json` without a version (the
/// latest) or with version 2.1 — each with a non-zero q.
pub fn accepts_taxii(headers: &HeaderMap) -> bool {
    let values: Vec<&HeaderValue> = headers.get_all(header::ACCEPT).iter().collect();
    if values.is_empty() {
        return true;
    }
    values.iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(|range| {
        let (essence, params) = media_type(range);
        let q = param(&params, "q").map_or(1.0, |q| q.parse::<f32>().unwrap_or(0.0));
        if q <= 0.0 {
            return false;
        }
        match essence.as_str() {
            "*/*" | "application/*" => true,
            "application/taxii+json" => param(&params, "version").is_none_or(|v| v == "2.1"),
            _ => false,
        }
    })
}

/// Whether `Content-Type` is `application/taxii+json` (version 2.1 or none).
pub fn is_taxii_content(headers: &HeaderMap) -> bool {
    let Some(text) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else { return false };
    let (essence, params) = media_type(text);
    essence == "application/taxii+json" && param(&params, "version").is_none_or(|v| v == "2.1")
}

/// Standard base64 (padding optional); `None` on anything else.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let digits: Vec<u8> = text.trim_end_matches('=').bytes().collect();
    if digits.len() % 4 == 1 || digits.len() > 4096 {
        return None;
    }
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for chunk in digits.chunks(4) {
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            n |= value(*c)? << (18 - 6 * i);
        }
        let bytes = n.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept_header(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT, HeaderValue::from_str(v).expect("header value"));
        h
    }

    #[test]
    fn accept_admits_taxii_2_1_and_wildcards_only() {
        assert!(accepts_taxii(&HeaderMap::new()));
        assert!(accepts_taxii(&accept_header("application/taxii+json;version=2.1")));
        assert!(accepts_taxii(&accept_header("application/taxii+json; version=\"2.1\"")));
        assert!(accepts_taxii(&accept_header("application/taxii+json")));
        assert!(accepts_taxii(&accept_header("text/html, */*;q=0.8")));
        assert!(!accepts_taxii(&accept_header("application/taxii+json;version=2.0")));
        assert!(!accepts_taxii(&accept_header("application/vnd.oasis.taxii+json; version=2.0")));
        assert!(!accepts_taxii(&accept_header("application/json")));
        assert!(!accepts_taxii(&accept_header("application/taxii+json;q=0")));
    }

    #[test]
    fn basic_passwords_and_bearer_tokens_are_read() {
        let basic = |s: &str| token_in(&HeaderValue::from_str(s).expect("value"));
        // "anyone:anbao_secret:with:colons"
        assert_eq!(
            basic("Basic YW55b25lOmFuYmFvX3NlY3JldDp3aXRoOmNvbG9ucw==").as_deref(),
            Ok("anbao_secret:with:colons")
        );
        assert_eq!(basic("basic OmFuYmFvX3g").as_deref(), Ok("anbao_x"), "empty user name, no padding");
        assert_eq!(basic("Bearer anbao_y").as_deref(), Ok("anbao_y"));
        assert!(basic("Basic !!!").is_err());
        assert!(basic("Basic dXNlcg==").is_err(), "no colon, no password");
        assert!(basic("Token anbao_y").is_err());
        assert_eq!(base64_decode("TWFu"), Some(b"Man".to_vec()));
        assert_eq!(base64_decode("TWE"), Some(b"Ma".to_vec()));
        assert_eq!(base64_decode("TQ=="), Some(b"M".to_vec()));
        assert_eq!(base64_decode("T"), None);
    }
}
