//! API tokens for scripts. Shown once at creation; stored as SHA-256, which
//! suffices for 256-bit random secrets (argon2 is for guessable passwords).

use anbao_model::clock::format_ts;
use anbao_model::validate::{self, Invalid};
use anbao_model::{Role, Timestamp};
use serde::Serialize;
use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::audit::append;
use crate::{Actor, Result, Store, StoreError, opt_ts_col, random_hex, sha256_hex, ts_col};

/// Every token starts with this, so secret scanners can find leaked ones.
pub const TOKEN_PREFIX: &str = "anbao_";

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    pub role: Role,
    pub org_unit_id: i64,
    /// The first characters of the token, to tell tokens apart in lists.
    pub prefix: String,
    pub created_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: Timestamp,
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<Timestamp>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<Timestamp>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<Timestamp>,
}

#[derive(Debug, Clone)]
pub struct NewToken {
    pub name: String,
    pub role: Role,
    pub org_unit_id: i64,
    pub expires_at: Option<Timestamp>,
}

const COLS: &str = "id, name, role, org_unit_id, prefix, created_by, created_at, expires_at, last_used_at, revoked_at";

fn token_of(row: &AnyRow) -> Result<ApiToken> {
    let role: String = row.try_get("role")?;
    Ok(ApiToken {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        role: role.parse().map_err(|e: anbao_model::role::UnknownRole| StoreError::Corrupt(e.to_string()))?,
        org_unit_id: row.try_get("org_unit_id")?,
        prefix: row.try_get("prefix")?,
        created_by: row.try_get("created_by")?,
        created_at: ts_col(row, "created_at")?,
        expires_at: opt_ts_col(row, "expires_at")?,
        last_used_at: opt_ts_col(row, "last_used_at")?,
        revoked_at: opt_ts_col(row, "revoked_at")?,
    })
}

impl Store {
    /// Creates a token; returns the secret (shown once) and the record.
    pub async fn create_token(&self, actor: &Actor, new: &NewToken) -> Result<(String, ApiToken)> {
        validate::label("name", &new.name)?;
        let secret = format!("{TOKEN_PREFIX}{}", random_hex(32));
        let prefix: String = secret.chars().take(TOKEN_PREFIX.len() + 6).collect();
        let mut tx = self.write_tx().await?;
        let unit = sqlx::query("SELECT id FROM org_units WHERE id = $1")
            .bind(new.org_unit_id)
            .fetch_optional(&mut *tx)
            .await?;
        if unit.is_none() {
            return Err(Invalid {
                field: "org_unit_id",
                reason: format!("organisation unit {} does not exist", new.org_unit_id),
            }
            .into());
        }
        let now = self.now_text();
        let row = sqlx::query(&format!(
            "INSERT INTO api_tokens (name, role, org_unit_id, token_hash, prefix, created_by, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {COLS}"
        ))
        .bind(new.name.trim())
        .bind(new.role.as_str())
        .bind(new.org_unit_id)
        .bind(sha256_hex(&secret))
        .bind(&prefix)
        .bind(&actor.name)
        .bind(&now)
        .bind(new.expires_at.map(format_ts))
        .fetch_one(&mut *tx)
        .await?;
        let token = token_of(&row)?;
        append(
            &mut tx,
            &now,
            actor,
            "token.create",
            "api_token",
            &token.id.to_string(),
            Some(token.org_unit_id),
            None,
            Some(&json!({ "id": token.id, "name": token.name, "role": token.role, "org_unit_id": token.org_unit_id, "prefix": token.prefix })),
        )
        .await?;
        tx.commit().await?;
        Ok((secret, token))
    }

    /// The live token for a presented secret, recording its use.
    pub async fn find_token(&self, secret: &str) -> Result<Option<ApiToken>> {
        if !secret.starts_with(TOKEN_PREFIX) || secret.len() > 200 {
            return Ok(None);
        }
        let row = sqlx::query(&format!("SELECT {COLS} FROM api_tokens WHERE token_hash = $1"))
            .bind(sha256_hex(secret))
            .fetch_optional(self.pool())
            .await?;
        let Some(row) = row else { return Ok(None) };
        let token = token_of(&row)?;
        let now = self.now();
        if token.revoked_at.is_some() || token.expires_at.is_some_and(|e| e <= now) {
            return Ok(None);
        }
        if token.last_used_at.is_none_or(|t| now - t >= time::Duration::minutes(1)) {
            sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
                .bind(format_ts(now))
                .bind(token.id)
                .execute(self.pool())
                .await?;
        }
        Ok(Some(token))
    }

    pub async fn list_tokens(&self) -> Result<Vec<ApiToken>> {
        let rows = sqlx::query(&format!("SELECT {COLS} FROM api_tokens ORDER BY id")).fetch_all(self.pool()).await?;
        rows.iter().map(token_of).collect()
    }

    pub async fn revoke_token(&self, actor: &Actor, id: i64) -> Result<ApiToken> {
        let mut tx = self.write_tx().await?;
        let now = self.now_text();
        let row = sqlx::query(&format!(
            "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2 RETURNING {COLS}"
        ))
        .bind(&now)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::not_found("API token", id))?;
        let token = token_of(&row)?;
        append(
            &mut tx,
            &now,
            actor,
            "token.revoke",
            "api_token",
            &id.to_string(),
            Some(token.org_unit_id),
            None,
            Some(&json!({ "id": id, "name": token.name, "prefix": token.prefix })),
        )
        .await?;
        tx.commit().await?;
        Ok(token)
    }
}
