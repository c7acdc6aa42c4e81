//! User accounts: creation, changes, passwords, lockout and the second factor.
//! Personal fields (e-mail, phone) are sealed at rest and never written to
//! the audit log, which cannot be erased.

use anbao_model::clock::format_ts;
use anbao_model::validate::{self, Invalid};
use anbao_model::{Role, Timestamp};
use serde::Serialize;
use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;
use time::Duration;

use crate::audit::append;
use crate::password::{DUMMY_HASH, hash_password, verify_password};
use crate::sql::{Bind, Sql, id_list};
use crate::{Actor, Result, Store, StoreError, WriteTx, bool_col, opt_ts_col, ts_col};

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub email: String,
    pub phone: String,
    pub role: Role,
    pub org_unit_id: i64,
    /// For regulators: the units (with their subtrees) they may read.
    pub grants: Vec<i64>,
    pub totp_enabled: bool,
    pub disabled: bool,
    #[serde(with = "time::serde::rfc3339::option")]
    pub locked_until: Option<Timestamp>,
    pub must_change_password: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: Timestamp,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_login_at: Option<Timestamp>,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub email: String,
    pub phone: String,
    pub role: Role,
    pub org_unit_id: i64,
    pub password: String,
    pub grants: Vec<i64>,
    pub must_change_password: bool,
}

/// A partial update; `None` leaves the field as it is.
#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub role: Option<Role>,
    pub org_unit_id: Option<i64>,
    pub disabled: Option<bool>,
    pub grants: Option<Vec<i64>>,
    /// Clears a lockout and the failure count.
    pub unlock: bool,
}

#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    /// Only users whose home unit is in this set.
    pub org_units: Option<Vec<i64>>,
    /// Substring of user name or display name.
    pub query: Option<String>,
    pub role: Option<Role>,
    pub limit: i64,
    pub offset: i64,
}

/// Login throttling. Counts live in the database, so every node of a
/// cluster sees the same failures.
#[derive(Debug, Clone, Copy)]
pub struct LoginPolicy {
    /// Consecutive wrong passwords before the account locks.
    pub max_failures: i64,
    pub lockout: Duration,
    /// Failures from one address within `window` before it is refused.
    pub max_failures_per_ip: i64,
    pub window: Duration,
}

impl Default for LoginPolicy {
    fn default() -> Self {
        LoginPolicy {
            max_failures: 5,
            lockout: Duration::minutes(15),
            max_failures_per_ip: 30,
            window: Duration::minutes(15),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginOutcome {
    Success(User),
    /// Wrong name or password (deliberately not saying which).
    Failed,
    Locked {
        until: Timestamp,
    },
    TooManyAttempts,
}

const USER_COLS: &str = "id, username, display_name, email_sealed, phone_sealed, role, org_unit_id, totp_sealed, disabled, \
     locked_until, must_change_password, created_at, last_login_at";

/// The audit view of a user: no password hash, no second-factor secret and
/// no personal contact data.
fn audit_json(u: &User) -> serde_json::Value {
    json!({
        "id": u.id, "username": u.username, "display_name": u.display_name, "role": u.role,
        "org_unit_id": u.org_unit_id, "grants": u.grants, "disabled": u.disabled, "totp_enabled": u.totp_enabled,
    })
}

impl Store {
    fn user_of(&self, row: &AnyRow, grants: Vec<i64>) -> Result<User> {
        let role: String = row.try_get("role")?;
        let totp: String = row.try_get("totp_sealed")?;
        Ok(User {
            id: row.try_get("id")?,
            username: row.try_get("username")?,
            display_name: row.try_get("display_name")?,
            email: self.sealer().open(&row.try_get::<String, _>("email_sealed")?)?,
            phone: self.sealer().open(&row.try_get::<String, _>("phone_sealed")?)?,
            role: role.parse().map_err(|e: anbao_model::role::UnknownRole| StoreError::Corrupt(e.to_string()))?,
            org_unit_id: row.try_get("org_unit_id")?,
            grants,
            totp_enabled: !totp.is_empty(),
            disabled: bool_col(row, "disabled")?,
            locked_until: opt_ts_col(row, "locked_until")?,
            must_change_password: bool_col(row, "must_change_password")?,
            created_at: ts_col(row, "created_at")?,
            last_login_at: opt_ts_col(row, "last_login_at")?,
        })
    }

    async fn grants_of(&self, ids: &[i64]) -> Result<std::collections::HashMap<i64, Vec<i64>>> {
        let mut map: std::collections::HashMap<i64, Vec<i64>> = std::collections::HashMap::new();
        if ids.is_empty() {
            return Ok(map);
        }
        let sql = format!(
            "SELECT user_id, org_unit_id FROM user_org_grants WHERE user_id IN {} ORDER BY org_unit_id",
            id_list(ids.iter().copied())
        );
        for row in sqlx::query(&sql).fetch_all(self.pool()).await? {
            map.entry(row.try_get("user_id")?).or_default().push(row.try_get("org_unit_id")?);
        }
        Ok(map)
    }

    pub async fn count_users(&self) -> Result<i64> {
        Ok(sqlx::query("SELECT COUNT(*) AS n FROM users").fetch_one(self.pool()).await?.try_get("n")?)
    }

    pub async fn list_users(&self, filter: &UserFilter) -> Result<Vec<User>> {
        let mut sql = Sql::new(&format!("SELECT {USER_COLS} FROM users WHERE 1 = 1"));
        if let Some(units) = &filter.org_units {
            sql.push(" AND org_unit_id IN ").push(&id_list(units.iter().copied()));
        }
        if let Some(q) = &filter.query {
            let escaped = q.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
            let pattern = format!("%{escaped}%");
            sql.push(" AND (lower(username) LIKE ").bind(Bind::Text(pattern.clone())).push(" ESCAPE '\\'");
            sql.push(" OR lower(display_name) LIKE ").bind(Bind::Text(pattern)).push(" ESCAPE '\\')");
        }
        if let Some(r) = filter.role {
            sql.push(" AND role = ").bind(Bind::Text(r.as_str().to_owned()));
        }
        let limit = if filter.limit <= 0 { 100 } else { filter.limit.min(10_000) };
        sql.push(" ORDER BY username LIMIT ").bind(Bind::Int(limit));
        sql.push(" OFFSET ").bind(Bind::Int(filter.offset.max(0)));
        let rows = sql.query().fetch_all(self.pool()).await?;
        let ids: Vec<i64> = rows.iter().map(|r| r.try_get("id")).collect::<Result<_, _>>()?;
        let mut grants = self.grants_of(&ids).await?;
        rows.iter()
            .map(|r| {
                let id: i64 = r.try_get("id")?;
                self.user_of(r, grants.remove(&id).unwrap_or_default())
            })
            .collect()
    }

    pub async fn get_user(&self, id: i64) -> Result<User> {
        let row = sqlx::query(&format!("SELECT {USER_COLS} FROM users WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| StoreError::not_found("user", id))?;
        let grants = self.grants_of(&[id]).await?.remove(&id).unwrap_or_default();
        self.user_of(&row, grants)
    }

    pub async fn get_user_by_username(&self, username: &str) -> Result<Option<User>> {
        let row = sqlx::query(&format!("SELECT {USER_COLS} FROM users WHERE username = $1"))
            .bind(username)
            .fetch_optional(self.pool())
            .await?;
        match row {
            None => Ok(None),
            Some(row) => {
                let id: i64 = row.try_get("id")?;
                let grants = self.grants_of(&[id]).await?.remove(&id).unwrap_or_default();
                Ok(Some(self.user_of(&row, grants)?))
            }
        }
    }

    async fn check_units(tx: &mut WriteTx, field: &'static str, ids: &[i64]) -> Result<()> {
        for id in ids {
            let found =
                sqlx::query("SELECT id FROM org_units WHERE id = $1").bind(id).fetch_optional(&mut **tx).await?;
            if found.is_none() {
                return Err(Invalid { field, reason: format!("organisation unit {id} does not exist") }.into());
            }
        }
        Ok(())
    }

    async fn write_grants(tx: &mut WriteTx, user_id: i64, grants: &[i64]) -> Result<()> {
        sqlx::query("DELETE FROM user_org_grants WHERE user_id = $1").bind(user_id).execute(&mut **tx).await?;
        let mut unique = grants.to_vec();
        unique.sort_unstable();
        unique.dedup();
        for g in unique {
            sqlx::query("INSERT INTO user_org_grants (user_id, org_unit_id) VALUES ($1, $2)")
                .bind(user_id)
                .bind(g)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    pub async fn create_user(&self, actor: &Actor, new: &NewUser) -> Result<User> {
        validate::username(&new.username)?;
        validate::label("display_name", &new.display_name)?;
        validate::optional_text("email", &new.email)?;
        validate::optional_text("phone", &new.phone)?;
        validate::password(&new.username, &new.password)?;
        if !new.grants.is_empty() && new.role != Role::Regulator {
            return Err(Invalid { field: "grants", reason: "only regulator accounts take grants".into() }.into());
        }
        let hash = hash_password(&new.password).await?;
        let email = self.sealer().seal(new.email.trim())?;
        let phone = self.sealer().seal(new.phone.trim())?;
        let mut tx = self.write_tx().await?;
        Self::check_units(&mut tx, "org_unit_id", &[new.org_unit_id]).await?;
        Self::check_units(&mut tx, "grants", &new.grants).await?;
        let now = self.now_text();
        let id: i64 = sqlx::query(
            "INSERT INTO users (username, display_name, email_sealed, phone_sealed, role, org_unit_id, password_hash, \
             must_change_password, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id",
        )
        .bind(&new.username)
        .bind(new.display_name.trim())
        .bind(&email)
        .bind(&phone)
        .bind(new.role.as_str())
        .bind(new.org_unit_id)
        .bind(&hash)
        .bind(i64::from(new.must_change_password))
        .bind(&now)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| StoreError::unique_or(e, || format!("user name {:?} is taken", new.username)))?
        .try_get("id")?;
        Self::write_grants(&mut tx, id, &new.grants).await?;
        let row =
            sqlx::query(&format!("SELECT {USER_COLS} FROM users WHERE id = $1")).bind(id).fetch_one(&mut *tx).await?;
        let mut grants = new.grants.clone();
        grants.sort_unstable();
        grants.dedup();
        let user = self.user_of(&row, grants)?;
        append(
            &mut tx,
            &now,
            actor,
            "user.create",
            "user",
            &id.to_string(),
            Some(user.org_unit_id),
            None,
            Some(&audit_json(&user)),
        )
        .await?;
        tx.commit().await?;
        Ok(user)
    }

    pub async fn update_user(&self, actor: &Actor, id: i64, patch: &UserPatch) -> Result<User> {
        if let Some(n) = &patch.display_name {
            validate::label("display_name", n)?;
        }
        if let Some(e) = &patch.email {
            validate::optional_text("email", e)?;
        }
        if let Some(p) = &patch.phone {
            validate::optional_text("phone", p)?;
        }
        let before = self.get_user(id).await?;
        let role = patch.role.unwrap_or(before.role);
        // Grants belong to regulators: leaving that role drops them.
        let grants = match &patch.grants {
            Some(g) => g.clone(),
            None if role != Role::Regulator => Vec::new(),
            None => before.grants.clone(),
        };
        if !grants.is_empty() && role != Role::Regulator {
            return Err(Invalid { field: "grants", reason: "only regulator accounts take grants".into() }.into());
        }
        if actor.user_id == Some(id) && (patch.disabled == Some(true) || patch.role.is_some_and(|r| r != before.role)) {
            return Err(Invalid {
                field: "role",
                reason: "you cannot disable your own account or change your own role".into(),
            }
            .into());
        }
        let mut tx = self.write_tx().await?;
        if let Some(unit) = patch.org_unit_id {
            Self::check_units(&mut tx, "org_unit_id", &[unit]).await?;
        }
        Self::check_units(&mut tx, "grants", &grants).await?;
        // Never leave the platform without an active administrator.
        let demotes_admin = before.role == Role::Admin && (role != Role::Admin || patch.disabled == Some(true));
        if demotes_admin {
            let admins: i64 =
                sqlx::query("SELECT COUNT(*) AS n FROM users WHERE role = 'admin' AND disabled = 0 AND id <> $1")
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await?
                    .try_get("n")?;
            if admins == 0 {
                return Err(StoreError::Conflict("this is the last active administrator".into()));
            }
        }
        let now = self.now_text();
        let email = match &patch.email {
            Some(e) => Some(self.sealer().seal(e.trim())?),
            None => None,
        };
        let phone = match &patch.phone {
            Some(p) => Some(self.sealer().seal(p.trim())?),
            None => None,
        };
        let mut sql = Sql::new("UPDATE users SET updated_at = ");
        sql.bind(Bind::Text(now.clone()));
        if let Some(n) = &patch.display_name {
            sql.push(", display_name = ").bind(Bind::Text(n.trim().to_owned()));
        }
        if let Some(e) = email {
            sql.push(", email_sealed = ").bind(Bind::Text(e));
        }
        if let Some(p) = phone {
            sql.push(", phone_sealed = ").bind(Bind::Text(p));
        }
        sql.push(", role = ").bind(Bind::Text(role.as_str().to_owned()));
        if let Some(u) = patch.org_unit_id {
            sql.push(", org_unit_id = ").bind(Bind::Int(u));
        }
        if let Some(d) = patch.disabled {
            sql.push(", disabled = ").bind(Bind::Int(i64::from(d)));
        }
        if patch.unlock {
            sql.push(", failed_logins = 0, locked_until = NULL");
        }
        sql.push(" WHERE id = ").bind(Bind::Int(id));
        sql.query().execute(&mut *tx).await?;
        Self::write_grants(&mut tx, id, &grants).await?;
        if patch.disabled == Some(true) || role != before.role {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(id).execute(&mut *tx).await?;
        }
        let row =
            sqlx::query(&format!("SELECT {USER_COLS} FROM users WHERE id = $1")).bind(id).fetch_one(&mut *tx).await?;
        let mut g = grants;
        g.sort_unstable();
        g.dedup();
        let after = self.user_of(&row, g)?;
        let mut after_json = audit_json(&after);
        if patch.email.is_some() || patch.phone.is_some() {
            // Record that contact data changed without recording the data.
            after_json["contact_changed"] = json!(true);
        }
        if patch.unlock {
            after_json["unlocked"] = json!(true);
        }
        append(
            &mut tx,
            &now,
            actor,
            "user.update",
            "user",
            &id.to_string(),
            Some(after.org_unit_id),
            Some(&audit_json(&before)),
            Some(&after_json),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Sets a new password (by an admin for someone else, or by the user),
    /// ends the user's other sessions.
    pub async fn set_password(&self, actor: &Actor, id: i64, password: &str, must_change: bool) -> Result<()> {
        let user = self.get_user(id).await?;
        validate::password(&user.username, password)?;
        let hash = hash_password(password).await?;
        let mut tx = self.write_tx().await?;
        let now = self.now_text();
        sqlx::query(
            "UPDATE users SET password_hash = $1, must_change_password = $2, failed_logins = 0, locked_until = NULL, \
             updated_at = $3 WHERE id = $4",
        )
        .bind(&hash)
        .bind(i64::from(must_change))
        .bind(&now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(id).execute(&mut *tx).await?;
        append(
            &mut tx,
            &now,
            actor,
            "user.password_set",
            "user",
            &id.to_string(),
            Some(user.org_unit_id),
            None,
            Some(&json!({ "username": user.username, "must_change_password": must_change })),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Checks a password and applies the lockout policy. Failures and
    /// lockouts are audited; the caller audits the successful login once the
    /// session (and any second factor) is established.
    pub async fn check_login(
        &self,
        actor_ip: &str,
        username: &str,
        password: &str,
        policy: &LoginPolicy,
    ) -> Result<LoginOutcome> {
        let now = self.now();
        let window_start = format_ts(now - policy.window);
        let ip_failures: i64 =
            sqlx::query("SELECT COUNT(*) AS n FROM login_failures WHERE source_ip = $1 AND at >= $2")
                .bind(actor_ip)
                .bind(&window_start)
                .fetch_one(self.pool())
                .await?
                .try_get("n")?;
        if ip_failures >= policy.max_failures_per_ip {
            return Ok(LoginOutcome::TooManyAttempts);
        }
        let row = sqlx::query(
            "SELECT id, password_hash, disabled, locked_until, failed_logins FROM users WHERE username = $1",
        )
        .bind(username)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else {
            verify_password(password, DUMMY_HASH).await;
            self.record_failure(actor_ip, username, None, policy).await?;
            return Ok(LoginOutcome::Failed);
        };
        let id: i64 = row.try_get("id")?;
        if let Some(until) = opt_ts_col(&row, "locked_until")?.filter(|u| *u > now) {
            return Ok(LoginOutcome::Locked { until });
        }
        let hash: String = row.try_get("password_hash")?;
        let ok = verify_password(password, &hash).await;
        if !ok || bool_col(&row, "disabled")? {
            return self.record_failure(actor_ip, username, Some(id), policy).await;
        }
        let now_text = format_ts(now);
        sqlx::query("UPDATE users SET failed_logins = 0, locked_until = NULL, last_login_at = $1 WHERE id = $2")
            .bind(&now_text)
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(LoginOutcome::Success(self.get_user(id).await?))
    }

    async fn record_failure(
        &self,
        ip: &str,
        username: &str,
        user_id: Option<i64>,
        policy: &LoginPolicy,
    ) -> Result<LoginOutcome> {
        let now = self.now();
        let now_text = format_ts(now);
        let mut tx = self.write_tx().await?;
        sqlx::query("INSERT INTO login_failures (source_ip, username, at) VALUES ($1, $2, $3)")
            .bind(ip)
            .bind(username)
            .bind(&now_text)
            .execute(&mut *tx)
            .await?;
        // Keep the table small: failures older than a day are of no use to
        // the throttle (the audit log keeps the history).
        sqlx::query("DELETE FROM login_failures WHERE at < $1")
            .bind(format_ts(now - Duration::days(1)))
            .execute(&mut *tx)
            .await?;
        let actor =
            Actor { name: username.to_owned(), role: String::new(), channel: "ui", source_ip: ip.to_owned(), user_id };
        let mut outcome = LoginOutcome::Failed;
        let mut org = None;
        if let Some(id) = user_id {
            let row = sqlx::query(
                "UPDATE users SET failed_logins = failed_logins + 1 WHERE id = $1 RETURNING failed_logins, org_unit_id",
            )
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
            let failures: i64 = row.try_get("failed_logins")?;
            org = Some(row.try_get::<i64, _>("org_unit_id")?);
            if failures >= policy.max_failures {
                let until = now + policy.lockout;
                sqlx::query("UPDATE users SET failed_logins = 0, locked_until = $1 WHERE id = $2")
                    .bind(format_ts(until))
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                append(
                    &mut tx,
                    &now_text,
                    &actor,
                    "user.locked",
                    "user",
                    &id.to_string(),
                    org,
                    None,
                    Some(&json!({ "username": username, "until": format_ts(until), "failures": failures })),
                )
                .await?;
                outcome = LoginOutcome::Locked { until };
            }
        }
        let object_id = user_id.map(|i| i.to_string()).unwrap_or_default();
        append(
            &mut tx,
            &now_text,
            &actor,
            "session.login_failed",
            "user",
            &object_id,
            org,
            None,
            Some(&json!({ "username": username })),
        )
        .await?;
        tx.commit().await?;
        Ok(outcome)
    }

    /// The user's TOTP secret (base32), if a second factor is set up.
    pub async fn totp_secret(&self, user_id: i64) -> Result<Option<(String, i64)>> {
        let row = sqlx::query("SELECT totp_sealed, totp_last_step FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| StoreError::not_found("user", user_id))?;
        let sealed: String = row.try_get("totp_sealed")?;
        if sealed.is_empty() {
            return Ok(None);
        }
        Ok(Some((self.sealer().open(&sealed)?, row.try_get("totp_last_step")?)))
    }

    /// Records the time step of an accepted code so it cannot be replayed.
    /// Returns false if that step (or a later one) was already used.
    pub async fn consume_totp_step(&self, user_id: i64, step: i64) -> Result<bool> {
        let r = sqlx::query("UPDATE users SET totp_last_step = $1 WHERE id = $2 AND totp_last_step < $1")
            .bind(step)
            .bind(user_id)
            .execute(self.pool())
            .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Turns the second factor on (with a base32 secret) or off (`None`).
    pub async fn set_totp(&self, actor: &Actor, user_id: i64, secret: Option<&str>) -> Result<()> {
        let user = self.get_user(user_id).await?;
        let sealed = match secret {
            Some(s) => self.sealer().seal(s)?,
            None => String::new(),
        };
        let mut tx = self.write_tx().await?;
        let now = self.now_text();
        sqlx::query("UPDATE users SET totp_sealed = $1, totp_last_step = 0, updated_at = $2 WHERE id = $3")
            .bind(&sealed)
            .bind(&now)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        let action = if secret.is_some() { "user.totp_enabled" } else { "user.totp_disabled" };
        append(
            &mut tx,
            &now,
            actor,
            action,
            "user",
            &user_id.to_string(),
            Some(user.org_unit_id),
            None,
            Some(&json!({ "username": user.username })),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Creates the root unit and the first administrator when the database
    /// is empty. Returns the generated password when it created the account.
    pub async fn bootstrap(&self, root_name: &str) -> Result<Option<String>> {
        if self.count_users().await? > 0 {
            return Ok(None);
        }
        let password = crate::password::generate_password("admin");
        let hash = hash_password(&password).await?;
        let mut tx = self.write_tx().await?;
        // Checked again under the write lock: another node may have won.
        let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM users").fetch_one(&mut *tx).await?.try_get("n")?;
        if n > 0 {
            return Ok(None);
        }
        let now = self.now_text();
        let actor = Actor::system();
        let root = sqlx::query("SELECT id FROM org_units WHERE parent_id IS NULL").fetch_optional(&mut *tx).await?;
        let root_id: i64 = match root {
            Some(r) => r.try_get("id")?,
            None => {
                let id: i64 = sqlx::query(
                    "INSERT INTO org_units (parent_id, name, kind, code, created_at, updated_at) VALUES (NULL, $1, 'group', '', $2, $2) RETURNING id",
                )
                .bind(root_name)
                .bind(&now)
                .fetch_one(&mut *tx)
                .await?
                .try_get("id")?;
                append(
                    &mut tx,
                    &now,
                    &actor,
                    "org_unit.create",
                    "org_unit",
                    &id.to_string(),
                    Some(id),
                    None,
                    Some(&json!({ "id": id, "parent_id": null, "name": root_name, "kind": "group", "code": "" })),
                )
                .await?;
                id
            }
        };
        let id: i64 = sqlx::query(
            "INSERT INTO users (username, display_name, role, org_unit_id, password_hash, must_change_password, created_at, updated_at) \
             VALUES ('admin', 'Administrator', 'admin', $1, $2, 1, $3, $3) RETURNING id",
        )
        .bind(root_id)
        .bind(&hash)
        .bind(&now)
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
        append(&mut tx, &now, &actor, "user.create", "user", &id.to_string(), Some(root_id), None,
            Some(&json!({ "id": id, "username": "admin", "display_name": "Administrator", "role": "admin", "org_unit_id": root_id, "grants": [], "disabled": false, "totp_enabled": false }))).await?;
        tx.commit().await?;
        Ok(Some(password))
    }
}
