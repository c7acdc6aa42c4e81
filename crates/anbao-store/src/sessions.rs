//! Browser sessions. The cookie carries a random id; the database keeps
//! only its SHA-256, so a database dump cannot be replayed as a login.

use anbao_model::Timestamp;
use anbao_model::clock::format_ts;
use sqlx::Row;
use time::Duration;

use crate::{Result, Store, bool_col, random_hex, sha256_hex, ts_col};

#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    /// A session unused this long ends.
    pub idle: Duration,
    /// A session ends this long after login, however active.
    pub absolute: Duration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        SessionPolicy { idle: Duration::minutes(30), absolute: Duration::hours(12) }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub user_id: i64,
    pub csrf_token: String,
    /// Password accepted, second factor still owed.
    pub mfa_pending: bool,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
}

impl Store {
    /// Starts a session; returns the cookie value and the session.
    pub async fn create_session(
        &self,
        user_id: i64,
        mfa_pending: bool,
        source_ip: &str,
        user_agent: &str,
        policy: &SessionPolicy,
    ) -> Result<(String, Session)> {
        let raw = random_hex(32);
        let csrf = random_hex(32);
        let now = self.now();
        let ua: String = user_agent.chars().take(300).collect();
        sqlx::query(
            "INSERT INTO sessions (id_hash, user_id, csrf_token, mfa_pending, created_at, last_seen_at, expires_at, source_ip, user_agent) \
             VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8)",
        )
        .bind(sha256_hex(&raw))
        .bind(user_id)
        .bind(&csrf)
        .bind(i64::from(mfa_pending))
        .bind(format_ts(now))
        .bind(format_ts(now + policy.absolute))
        .bind(source_ip)
        .bind(&ua)
        .execute(self.pool())
        .await?;
        Ok((raw, Session { user_id, csrf_token: csrf, mfa_pending, created_at: now, last_seen_at: now }))
    }

    /// The live session for a cookie value, touching its last-seen time.
    pub async fn find_session(&self, raw: &str, policy: &SessionPolicy) -> Result<Option<Session>> {
        if raw.len() != 64 || !raw.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(None);
        }
        let id_hash = sha256_hex(raw);
        let now = self.now();
        let row = sqlx::query(
            "SELECT s.user_id, s.csrf_token, s.mfa_pending, s.created_at, s.last_seen_at, s.expires_at, u.disabled \
             FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = $1",
        )
        .bind(&id_hash)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let session = Session {
            user_id: row.try_get("user_id")?,
            csrf_token: row.try_get("csrf_token")?,
            mfa_pending: bool_col(&row, "mfa_pending")?,
            created_at: ts_col(&row, "created_at")?,
            last_seen_at: ts_col(&row, "last_seen_at")?,
        };
        let expires = ts_col(&row, "expires_at")?;
        if now >= expires || now - session.last_seen_at >= policy.idle || bool_col(&row, "disabled")? {
            sqlx::query("DELETE FROM sessions WHERE id_hash = $1").bind(&id_hash).execute(self.pool()).await?;
            return Ok(None);
        }
        // Writing on every request would make reads into writes; a minute's
        // resolution is plenty for an idle timeout of many minutes.
        if now - session.last_seen_at >= Duration::minutes(1) {
            sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2")
                .bind(format_ts(now))
                .bind(&id_hash)
                .execute(self.pool())
                .await?;
        }
        Ok(Some(session))
    }

    /// Marks the second factor as given.
    pub async fn complete_mfa(&self, raw: &str) -> Result<()> {
        sqlx::query("UPDATE sessions SET mfa_pending = 0 WHERE id_hash = $1")
            .bind(sha256_hex(raw))
            .execute(self.pool())
            .await?;
        Ok(())
    }

    pub async fn delete_session(&self, raw: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1").bind(sha256_hex(raw)).execute(self.pool()).await?;
        Ok(())
    }

    /// Removes expired sessions; run now and then by the server.
    pub async fn purge_sessions(&self) -> Result<u64> {
        let r = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(self.now_text())
            .execute(self.pool())
            .await?;
        Ok(r.rows_affected())
    }
}
