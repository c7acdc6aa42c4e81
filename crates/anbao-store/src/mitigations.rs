//! Flow mitigation rules (issue #6): one row per BGP rule (RTBH or
//! FlowSpec) asked for against one attack, from its proposal to its
//! withdrawal, with who approved, rejected or withdrew it and why.
//!
//! The row is also the work queue of the mitigation executor (the process
//! that talks to the BGP speakers and hooks): `pending` says what it must
//! still do (`announce`, `withdraw`, or nothing). People approve, reject and
//! withdraw by changing the row (each change audited); the executor claims
//! pending rows with a lease ([`Store::claim_mitigation_work`], which also
//! turns due automatic withdrawals and expiries into pending withdrawals),
//! sends them and records the outcome ([`Store::record_mitigation_result`]).
//! So an approval given on any node of a cluster reaches the node with the
//! speakers, and a restart loses neither approvals nor withdrawal times.
//!
//! States: `proposed` (manual group, waiting for a person; or automatic /
//! approved and `pending = announce`), `announced`, `withdrawn`, `rejected`
//! (by a person, or by the system when the attack ended or the rule expired
//! before anyone approved it), `failed` (a hook refused; `error` says which
//! and why, `failed_change` what failed). A failed change is retried by
//! itself after [`mitigation_retry_secs`] (30 s, doubling up to 30 min;
//! `retry_at`), each failure and each retry audited: a withdrawal until it
//! goes through (a route left announced blackholes a customer), an
//! announcement while its attack goes on (during a DDoS the rule is still
//! wanted). When the attack ends, a failed announcement is no longer retried
//! (`mitigation.retry_stopped`) and is withdrawn at every hook after the
//! hold time like an announced rule. A person may retry at once: approve a
//! failed announcement again, withdraw a failed withdrawal again; or stop
//! the announcement's retries by withdrawing it.

use std::fmt;

use anbao_model::Timestamp;
use anbao_model::clock::format_ts;
use anbao_model::validate::Invalid;
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::audit::append;
use crate::incidents::long_text;
use crate::{Actor, Result, Store, StoreError, WriteTx};

/// The rule kinds.
pub const MITIGATION_KINDS: [&str; 2] = ["rtbh", "flowspec"];
/// The states, in the order the page lists them.
pub const MITIGATION_STATES: [&str; 5] = ["proposed", "announced", "failed", "withdrawn", "rejected"];

/// Announce or withdraw: what the executor is asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MitigationChange {
    Announce,
    Withdraw,
}

impl MitigationChange {
    pub fn as_str(self) -> &'static str {
        match self {
            MitigationChange::Announce => "announce",
            MitigationChange::Withdraw => "withdraw",
        }
    }

    fn parse(s: &str) -> Option<MitigationChange> {
        match s {
            "announce" => Some(MitigationChange::Announce),
            "withdraw" => Some(MitigationChange::Withdraw),
            _ => None,
        }
    }
}

impl fmt::Display for MitigationChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A rule as the flow pipeline proposes it.
#[derive(Debug, Clone, PartialEq)]
pub struct MitigationDraft {
    /// The attack's key (its alert's dedup key).
    pub attack_key: String,
    pub alert_id: Option<i64>,
    pub group_name: String,
    /// The attacked address.
    pub victim: String,
    /// `rtbh` or `flowspec`.
    pub kind: String,
    /// Automatic groups' rules are approved at once (`approved_by` =
    /// `automatic`); manual groups' wait for a person.
    pub automatic: bool,
    /// The rule's fields as JSON (victim, community, protocol, ports, action).
    pub rule: serde_json::Value,
    /// ExaBGP text API lines, kept as the rule's readable text.
    pub announce_line: String,
    pub withdraw_line: String,
    /// Seconds after the attack's end before automatic withdrawal.
    pub hold_secs: u32,
    /// Seconds after the proposal when the rule is withdrawn (or, not yet
    /// approved, rejected) whatever the attack does: the safety net for an
    /// attack whose end is never seen.
    pub max_secs: u32,
}

/// One stored rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mitigation {
    pub id: i64,
    pub attack_key: String,
    pub alert_id: Option<i64>,
    pub group_name: String,
    pub victim: String,
    pub kind: String,
    /// `automatic` or `manual`.
    pub mode: String,
    pub rule: serde_json::Value,
    pub announce_line: String,
    pub withdraw_line: String,
    pub hold_secs: i64,
    pub state: String,
    /// `announce`, `withdraw` or empty.
    pub pending: String,
    pub error: String,
    pub failed_change: String,
    pub attempts: i64,
    pub proposed_at: String,
    pub approved_by: Option<String>,
    pub approved_at: Option<String>,
    pub announced_at: Option<String>,
    pub attack_ended_at: Option<String>,
    pub withdraw_at: Option<String>,
    pub expires_at: String,
    pub withdrawn_by: Option<String>,
    pub withdrawn_at: Option<String>,
    /// `automatic`, `manual` or `expired`; empty until a withdrawal is asked.
    pub withdraw_reason: String,
    pub rejected_by: Option<String>,
    pub rejected_at: Option<String>,
    pub reject_reason: String,
    pub updated_at: String,
    /// Failed attempts of the withdrawal so far.
    pub withdraw_failures: i64,
    /// When the executor tries the failed change (`failed_change`) again;
    /// `None` when no retry is due (nothing failed, a retry is pending, or
    /// the announcement's attack has ended).
    pub retry_at: Option<String>,
    /// Failed attempts of the announcement so far (since it was last
    /// queued again at the executor's start).
    pub announce_failures: i64,
}

impl Mitigation {
    /// Waiting for a person's approval.
    pub fn awaits_approval(&self) -> bool {
        self.state == "proposed" && self.pending.is_empty()
    }

    /// May be approved (again): waiting, or its announcement failed.
    pub fn approvable(&self) -> bool {
        self.awaits_approval()
            || (self.state == "failed" && self.failed_change == "announce" && self.pending.is_empty())
    }

    /// May be withdrawn by hand: announced, or failed (some hooks may hold it).
    pub fn withdrawable(&self) -> bool {
        self.pending.is_empty() && matches!(self.state.as_str(), "announced" | "failed")
    }

    /// Failed attempts of `change` so far.
    pub fn failures(&self, change: MitigationChange) -> i64 {
        match change {
            MitigationChange::Announce => self.announce_failures,
            MitigationChange::Withdraw => self.withdraw_failures,
        }
    }

    /// An announcement that failed and is not retried because its attack
    /// has ended (it is withdrawn after the hold time instead).
    pub fn announce_retry_stopped(&self) -> bool {
        self.state == "failed"
            && self.failed_change == "announce"
            && self.pending.is_empty()
            && self.retry_at.is_none()
            && self.attack_ended_at.is_some()
    }
}

fn mitigation_of(r: &AnyRow) -> Result<Mitigation> {
    let rule: String = r.try_get("rule")?;
    Ok(Mitigation {
        id: r.try_get("id")?,
        attack_key: r.try_get("attack_key")?,
        alert_id: r.try_get("alert_id")?,
        group_name: r.try_get("group_name")?,
        victim: r.try_get("victim")?,
        kind: r.try_get("kind")?,
        mode: r.try_get("mode")?,
        rule: serde_json::from_str(&rule).map_err(|e| StoreError::Corrupt(format!("mitigation rule: {e}")))?,
        announce_line: r.try_get("announce_line")?,
        withdraw_line: r.try_get("withdraw_line")?,
        hold_secs: r.try_get("hold_secs")?,
        state: r.try_get("state")?,
        pending: r.try_get("pending")?,
        error: r.try_get("error")?,
        failed_change: r.try_get("failed_change")?,
        attempts: r.try_get("attempts")?,
        proposed_at: r.try_get("proposed_at")?,
        approved_by: r.try_get("approved_by")?,
        approved_at: r.try_get("approved_at")?,
        announced_at: r.try_get("announced_at")?,
        attack_ended_at: r.try_get("attack_ended_at")?,
        withdraw_at: r.try_get("withdraw_at")?,
        expires_at: r.try_get("expires_at")?,
        withdrawn_by: r.try_get("withdrawn_by")?,
        withdrawn_at: r.try_get("withdrawn_at")?,
        withdraw_reason: r.try_get("withdraw_reason")?,
        rejected_by: r.try_get("rejected_by")?,
        rejected_at: r.try_get("rejected_at")?,
        reject_reason: r.try_get("reject_reason")?,
        updated_at: r.try_get("updated_at")?,
        withdraw_failures: r.try_get("withdraw_failures")?,
        retry_at: r.try_get("retry_at")?,
        announce_failures: r.try_get("announce_failures")?,
    })
}

fn to_json(m: &Mitigation) -> Result<serde_json::Value> {
    serde_json::to_value(m).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Seconds before a change (announcement or withdrawal) that failed
/// `failures` times (1, 2, …) is tried again: 30 s, doubling, at most 30
/// minutes.
pub fn mitigation_retry_secs(failures: i64) -> i64 {
    let doublings = u32::try_from(failures.saturating_sub(1).clamp(0, 16)).unwrap_or(16);
    (30i64 << doublings).min(1800)
}

fn plus(t: Timestamp, secs: i64) -> String {
    format_ts(t + time::Duration::seconds(secs))
}

async fn read(tx: &mut WriteTx, id: i64) -> Result<Mitigation> {
    let row = sqlx::query("SELECT * FROM flow_mitigations WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::not_found("mitigation", id))?;
    mitigation_of(&row)
}

async fn audit(
    tx: &mut WriteTx,
    now: &str,
    actor: &Actor,
    action: &str,
    before: Option<&Mitigation>,
    after: &Mitigation,
) -> Result<()> {
    let before = before.map(to_json).transpose()?;
    append(tx, now, actor, action, "mitigation", &after.id.to_string(), None, before.as_ref(), Some(&to_json(after)?))
        .await?;
    Ok(())
}

/// The ids of rows matching `sql` (a `SELECT id …` with `$1` = now).
async fn ids(tx: &mut WriteTx, sql: &str, now: &str) -> Result<Vec<i64>> {
    let rows = sqlx::query(sql).bind(now.to_owned()).fetch_all(&mut **tx).await?;
    rows.iter().map(|r| r.try_get::<i64, _>("id").map_err(StoreError::from)).collect()
}

impl Store {
    /// Records the rules the flow pipeline asks for, once per (attack, kind):
    /// asking again for a rule already recorded changes nothing. Returns the
    /// rows recorded now. Each new rule is an audit entry by `system`.
    pub async fn propose_mitigations(&self, drafts: &[MitigationDraft]) -> Result<Vec<Mitigation>> {
        for d in drafts {
            if !MITIGATION_KINDS.contains(&d.kind.as_str()) {
                return Err(Invalid::field("kind", "use rtbh or flowspec").into());
            }
        }
        let now_ts = self.now();
        let now = format_ts(now_ts);
        let actor = Actor::system();
        let mut tx = self.write_tx().await?;
        let mut out = Vec::new();
        for d in drafts {
            let (mode, pending, approved_by, approved_at) = if d.automatic {
                ("automatic", "announce", Some("automatic".to_owned()), Some(now.clone()))
            } else {
                ("manual", "", None, None)
            };
            let row = sqlx::query(
                "INSERT INTO flow_mitigations (attack_key, alert_id, group_name, victim, kind, mode, rule, \
                 announce_line, withdraw_line, hold_secs, state, pending, proposed_at, approved_by, approved_at, \
                 expires_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'proposed', $11, $12, $13, $14, $15, $12) \
                 ON CONFLICT (attack_key, kind) DO NOTHING RETURNING id",
            )
            .bind(d.attack_key.clone())
            .bind(d.alert_id)
            .bind(d.group_name.clone())
            .bind(d.victim.clone())
            .bind(d.kind.clone())
            .bind(mode)
            .bind(d.rule.to_string())
            .bind(d.announce_line.clone())
            .bind(d.withdraw_line.clone())
            .bind(i64::from(d.hold_secs))
            .bind(pending)
            .bind(now.clone())
            .bind(approved_by)
            .bind(approved_at)
            .bind(plus(now_ts, i64::from(d.max_secs)))
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(row) = row {
                let m = read(&mut tx, row.try_get("id")?).await?;
                audit(&mut tx, &now, &actor, "mitigation.propose", None, &m).await?;
                out.push(m);
            }
        }
        tx.commit().await?;
        Ok(out)
    }

    /// The attack `attack_key` ended at `ended`: its rules are due for
    /// withdrawal their hold time later (rules not yet approved are then
    /// rejected), and failed announcements are no longer retried (audited
    /// as `mitigation.retry_stopped` by `system`). Returns how many rules
    /// got a withdrawal time; an end seen again changes nothing.
    pub async fn end_mitigations(&self, attack_key: &str, ended: Timestamp) -> Result<u64> {
        let mut tx = self.write_tx().await?;
        let rows = sqlx::query(
            "SELECT id, hold_secs FROM flow_mitigations WHERE attack_key = $1 AND withdraw_at IS NULL \
             AND state IN ('proposed', 'announced', 'failed')",
        )
        .bind(attack_key.to_owned())
        .fetch_all(&mut *tx)
        .await?;
        let now = self.now_text();
        for r in &rows {
            let id: i64 = r.try_get("id")?;
            let hold: i64 = r.try_get("hold_secs")?;
            let before = read(&mut tx, id).await?;
            // An announcement retried after the end would only be withdrawn again.
            let stop_retry = before.failed_change == "announce" && before.retry_at.is_some();
            sqlx::query(
                "UPDATE flow_mitigations SET attack_ended_at = $1, withdraw_at = $2, updated_at = $3, \
                 retry_at = CASE WHEN failed_change = 'announce' THEN NULL ELSE retry_at END WHERE id = $4",
            )
            .bind(format_ts(ended))
            .bind(plus(ended, hold))
            .bind(now.clone())
            .bind(id)
            .execute(&mut *tx)
            .await?;
            if stop_retry {
                let after = read(&mut tx, id).await?;
                audit(&mut tx, &now, &Actor::system(), "mitigation.retry_stopped", Some(&before), &after).await?;
            }
        }
        tx.commit().await?;
        Ok(rows.len() as u64)
    }

    /// Approves a proposed rule (or one whose announcement failed, to try
    /// again at once rather than at its `retry_at`): the executor announces
    /// it next.
    pub async fn approve_mitigation(&self, actor: &Actor, id: i64) -> Result<Mitigation> {
        let now = self.now_text();
        let mut tx = self.write_tx().await?;
        let before = read(&mut tx, id).await?;
        if !before.approvable() {
            return Err(StoreError::Conflict(format!(
                "mitigation {id} is {}{}: only a proposed rule, or one whose announcement failed, can be approved",
                before.state,
                if before.pending.is_empty() { String::new() } else { format!(" ({} pending)", before.pending) }
            )));
        }
        sqlx::query(
            "UPDATE flow_mitigations SET pending = 'announce', approved_by = $1, approved_at = $2, retry_at = NULL, \
             updated_at = $2 WHERE id = $3",
        )
        .bind(actor.name.clone())
        .bind(now.clone())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let after = read(&mut tx, id).await?;
        audit(&mut tx, &now, actor, "mitigation.approve", Some(&before), &after).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Rejects a proposed rule; it is never announced.
    pub async fn reject_mitigation(&self, actor: &Actor, id: i64, reason: &str) -> Result<Mitigation> {
        let reason = reason.trim();
        long_text("reason", reason, false)?;
        let now = self.now_text();
        let mut tx = self.write_tx().await?;
        let before = read(&mut tx, id).await?;
        if !before.awaits_approval() {
            return Err(StoreError::Conflict(format!(
                "mitigation {id} is {}: only a rule waiting for approval can be rejected",
                before.state
            )));
        }
        sqlx::query(
            "UPDATE flow_mitigations SET state = 'rejected', rejected_by = $1, rejected_at = $2, reject_reason = $3, \
             updated_at = $2 WHERE id = $4",
        )
        .bind(actor.name.clone())
        .bind(now.clone())
        .bind(reason.to_owned())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let after = read(&mut tx, id).await?;
        audit(&mut tx, &now, actor, "mitigation.reject", Some(&before), &after).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Withdraws an announced rule by hand (or retries a failed one's
    /// withdrawal): the executor withdraws it next.
    pub async fn withdraw_mitigation(&self, actor: &Actor, id: i64) -> Result<Mitigation> {
        let now = self.now_text();
        let mut tx = self.write_tx().await?;
        let before = read(&mut tx, id).await?;
        if !before.withdrawable() {
            return Err(StoreError::Conflict(format!(
                "mitigation {id} is {}: only an announced (or failed) rule can be withdrawn",
                before.state
            )));
        }
        sqlx::query(
            "UPDATE flow_mitigations SET pending = 'withdraw', withdraw_reason = 'manual', withdrawn_by = $1, \
             retry_at = NULL, updated_at = $2 WHERE id = $3",
        )
        .bind(actor.name.clone())
        .bind(now.clone())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let after = read(&mut tx, id).await?;
        audit(&mut tx, &now, actor, "mitigation.withdraw", Some(&before), &after).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Every rule still announced is announced again (BGP speakers forget
    /// their routes when they, or the process feeding them, restart): the
    /// executor calls this once when it starts. Its failures are counted
    /// afresh, so a failure is retried after the shortest delay. Returns
    /// how many.
    pub async fn requeue_announced_mitigations(&self) -> Result<u64> {
        let now = self.now_text();
        let mut tx = self.write_tx().await?;
        let done = sqlx::query(
            "UPDATE flow_mitigations SET pending = 'announce', claimed_until = NULL, announce_failures = 0, \
             updated_at = $1 WHERE state = 'announced' AND pending = ''",
        )
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(done)
    }

    /// The executor's pass: first the rules whose time has come get their
    /// withdrawal (`automatic` after the attack's end plus the hold time,
    /// `expired` at `expires_at`), rules nobody approved in time are
    /// rejected, and failed changes whose `retry_at` has come are pending
    /// again (`mitigation.retry`), all by `system` and each audited; then up
    /// to `limit` pending rules not leased by another executor are leased
    /// for `lease_secs` and returned with what to do.
    pub async fn claim_mitigation_work(
        &self,
        lease_secs: i64,
        limit: i64,
    ) -> Result<Vec<(Mitigation, MitigationChange)>> {
        let now_ts = self.now();
        let now = format_ts(now_ts);
        let system = Actor::system();
        let mut tx = self.write_tx().await?;
        let steps: [(&str, &str, &str); 5] = [
            (
                "SELECT id FROM flow_mitigations WHERE state = 'proposed' AND pending = '' \
                 AND ((withdraw_at IS NOT NULL AND withdraw_at <= $1) OR expires_at <= $1) ORDER BY id",
                "UPDATE flow_mitigations SET state = 'rejected', rejected_by = 'system', rejected_at = $1, \
                 reject_reason = 'not approved before the attack ended or the rule expired', updated_at = $1 WHERE id = $2",
                "mitigation.reject",
            ),
            (
                "SELECT id FROM flow_mitigations WHERE state IN ('announced', 'failed') AND pending = '' \
                 AND failed_change <> 'withdraw' AND withdraw_at IS NOT NULL AND withdraw_at <= $1 ORDER BY id",
                "UPDATE flow_mitigations SET pending = 'withdraw', withdraw_reason = 'automatic', withdrawn_by = 'system', \
                 retry_at = NULL, updated_at = $1 WHERE id = $2",
                "mitigation.withdraw",
            ),
            (
                "SELECT id FROM flow_mitigations WHERE state IN ('announced', 'failed') AND pending = '' \
                 AND failed_change <> 'withdraw' AND expires_at <= $1 ORDER BY id",
                "UPDATE flow_mitigations SET pending = 'withdraw', withdraw_reason = 'expired', withdrawn_by = 'system', \
                 retry_at = NULL, updated_at = $1 WHERE id = $2",
                "mitigation.withdraw",
            ),
            // Automatic rules still waiting for their announcement when they expire.
            (
                "SELECT id FROM flow_mitigations WHERE state = 'proposed' AND pending = 'announce' \
                 AND expires_at <= $1 AND claimed_until IS NULL ORDER BY id",
                "UPDATE flow_mitigations SET state = 'rejected', pending = '', rejected_by = 'system', rejected_at = $1, \
                 reject_reason = 'expired before it could be announced', updated_at = $1 WHERE id = $2",
                "mitigation.reject",
            ),
            // Failed changes whose retry is due: a withdrawal always, an
            // announcement while its attack goes on (`end_mitigations`
            // clears its `retry_at`; checked here too). Last, so that a
            // failed announcement due for withdrawal or expiry above is
            // withdrawn rather than announced once more.
            (
                "SELECT id FROM flow_mitigations WHERE state = 'failed' AND pending = '' \
                 AND retry_at IS NOT NULL AND retry_at <= $1 \
                 AND (failed_change = 'withdraw' OR (failed_change = 'announce' AND attack_ended_at IS NULL)) ORDER BY id",
                "UPDATE flow_mitigations SET pending = failed_change, retry_at = NULL, updated_at = $1 WHERE id = $2",
                "mitigation.retry",
            ),
        ];
        for (select, update, action) in steps {
            for id in ids(&mut tx, select, &now).await? {
                let before = read(&mut tx, id).await?;
                sqlx::query(update).bind(now.clone()).bind(id).execute(&mut *tx).await?;
                let after = read(&mut tx, id).await?;
                audit(&mut tx, &now, &system, action, Some(&before), &after).await?;
            }
        }
        let rows = sqlx::query(
            "SELECT id FROM flow_mitigations WHERE pending <> '' AND (claimed_until IS NULL OR claimed_until <= $1) \
             ORDER BY id LIMIT $2",
        )
        .bind(now.clone())
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        let mut out = Vec::new();
        for r in &rows {
            let id: i64 = r.try_get("id")?;
            sqlx::query("UPDATE flow_mitigations SET claimed_until = $1, attempts = attempts + 1 WHERE id = $2")
                .bind(plus(now_ts, lease_secs))
                .bind(id)
                .execute(&mut *tx)
                .await?;
            let m = read(&mut tx, id).await?;
            let change = MitigationChange::parse(&m.pending)
                .ok_or_else(|| StoreError::Corrupt(format!("mitigation {id} pending {:?}", m.pending)))?;
            out.push((m, change));
        }
        tx.commit().await?;
        Ok(out)
    }

    /// Records what the executor's hooks made of `change` on rule `id`:
    /// announced / withdrawn, or failed with the error, counted, and its
    /// retry time (after [`mitigation_retry_secs`]; none for an
    /// announcement whose attack has ended), audited by `system`. A result
    /// for a change no longer pending is ignored (returns `None`).
    pub async fn record_mitigation_result(
        &self,
        id: i64,
        change: MitigationChange,
        outcome: std::result::Result<(), String>,
    ) -> Result<Option<Mitigation>> {
        let now = self.now_text();
        let mut tx = self.write_tx().await?;
        let before = read(&mut tx, id).await?;
        if before.pending != change.as_str() {
            return Ok(None);
        }
        let (sql, action, error) = match (&outcome, change) {
            (Ok(()), MitigationChange::Announce) => (
                "UPDATE flow_mitigations SET state = 'announced', pending = '', error = '', failed_change = '', \
                 claimed_until = NULL, retry_at = NULL, announced_at = COALESCE(announced_at, $1), updated_at = $1 WHERE id = $2",
                "mitigation.announced",
                String::new(),
            ),
            (Ok(()), MitigationChange::Withdraw) => (
                "UPDATE flow_mitigations SET state = 'withdrawn', pending = '', error = '', failed_change = '', \
                 claimed_until = NULL, retry_at = NULL, withdrawn_at = $1, updated_at = $1 WHERE id = $2",
                "mitigation.withdrawn",
                String::new(),
            ),
            (Err(e), _) => (
                "UPDATE flow_mitigations SET state = 'failed', pending = '', error = $3, failed_change = $4, \
                 claimed_until = NULL, announce_failures = $5, withdraw_failures = $6, retry_at = $7, updated_at = $1 \
                 WHERE id = $2",
                "mitigation.failed",
                e.chars().take(2000).collect(),
            ),
        };
        let mut q = sqlx::query(sql).bind(now.clone()).bind(id);
        if outcome.is_err() {
            let failures = before.failures(change) + 1;
            let (announce_failures, withdraw_failures) = match change {
                MitigationChange::Announce => (failures, before.withdraw_failures),
                MitigationChange::Withdraw => (before.announce_failures, failures),
            };
            let retry = change == MitigationChange::Withdraw || before.attack_ended_at.is_none();
            let retry_at = retry.then(|| plus(self.now(), mitigation_retry_secs(failures)));
            q = q.bind(error).bind(change.as_str()).bind(announce_failures).bind(withdraw_failures).bind(retry_at);
        }
        q.execute(&mut *tx).await?;
        let after = read(&mut tx, id).await?;
        audit(&mut tx, &now, &Actor::system(), action, Some(&before), &after).await?;
        tx.commit().await?;
        Ok(Some(after))
    }

    /// One rule.
    pub async fn mitigation(&self, id: i64) -> Result<Mitigation> {
        let row = sqlx::query("SELECT * FROM flow_mitigations WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| StoreError::not_found("mitigation", id))?;
        mitigation_of(&row)
    }

    /// Rules, newest first: all, those in one state, or those of one alert;
    /// at most `limit`.
    pub async fn list_mitigations(
        &self,
        state: Option<&str>,
        alert_id: Option<i64>,
        limit: i64,
    ) -> Result<Vec<Mitigation>> {
        if let Some(s) = state
            && !MITIGATION_STATES.contains(&s)
        {
            return Err(Invalid::field("state", "use proposed, announced, failed, withdrawn or rejected").into());
        }
        let rows = sqlx::query(
            "SELECT * FROM flow_mitigations WHERE ($1 = '' OR state = $1) AND ($2 < 0 OR alert_id = $2) \
             ORDER BY id DESC LIMIT $3",
        )
        .bind(state.unwrap_or("").to_owned())
        .bind(alert_id.unwrap_or(-1))
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(mitigation_of).collect()
    }
}
