//! Who the caller is, as the server sees it.

use axum::Json;
use serde::Serialize;

use crate::auth::{Credential, Principal};

#[derive(Serialize, utoipa::ToSchema)]
pub struct Me {
    pub name: String,
    pub display_name: String,
    /// admin, analyst, responder, auditor or regulator.
    pub role: String,
    /// `session` or `token`.
    pub via: &'static str,
    pub user_id: Option<i64>,
    pub home_unit: i64,
    /// Organisation units whose data the caller may see; null means all.
    pub scope: Option<Vec<i64>>,
    /// For browser sessions: the token to send as `X-CSRF-Token` on changes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csrf_token: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/me", tag = "accounts", responses((status = 200, body = Me), (status = 401, body = crate::error::ErrorBody)))]
pub async fn get(p: Principal) -> Json<Me> {
    let (via, csrf) = match &p.credential {
        Credential::Session { csrf, .. } => ("session", Some(csrf.clone())),
        Credential::Token { .. } => ("token", None),
    };
    Json(Me {
        name: p.name.clone(),
        display_name: p.display_name.clone(),
        role: p.role.to_string(),
        via,
        user_id: p.user_id,
        home_unit: p.home_unit,
        scope: p.scope.ids(),
        csrf_token: csrf,
    })
}
