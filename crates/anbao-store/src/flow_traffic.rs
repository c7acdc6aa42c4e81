//! Flow traffic history (migration 0026, issue #6): per-minute totals of
//! each host group and of the hosts a collector recorded in it, written by
//! the flow collectors (`anbao serve` with `flow_listen`, `anbao flow
//! worker`) once a minute and read back for the traffic charts. Machine
//! data, like alerts: written without an audit entry; a minute written again
//! replaces the row. Old rows are purged by age.

use sqlx::Row;
use sqlx::any::AnyRow;

use anbao_model::validate::Invalid;

use crate::{Result, Store};

/// Longest group name or host text accepted.
const NAME_MAX: usize = 200;
/// Most rows written in one call (one transaction).
const MAX_ROWS: usize = 100_000;

/// One minute of a group (`host` empty) or of one of its hosts. Counts are
/// the minute's totals over `seconds` seconds; the protocol split,
/// `syn` (SYN-only TCP) and `amplification` (UDP from amplification
/// source ports) count packets.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct FlowTraffic {
    pub group: String,
    /// The host's address, or empty for the group's row.
    pub host: String,
    /// Unix seconds at the start of the minute.
    pub minute: i64,
    pub seconds: i64,
    pub packets: i64,
    pub bytes: i64,
    pub flows: i64,
    pub peak_pps: i64,
    pub peak_bps: i64,
    pub tcp: i64,
    pub udp: i64,
    pub icmp: i64,
    pub other: i64,
    pub syn: i64,
    pub amplification: i64,
    /// Under attack in some second of the minute.
    pub attacked: bool,
}

impl FlowTraffic {
    /// `group` or `host`.
    pub fn scope(&self) -> &'static str {
        if self.host.is_empty() { "group" } else { "host" }
    }

    fn check(&self) -> Result<(), Invalid> {
        if self.group.is_empty() || self.group.len() > NAME_MAX {
            return Err(Invalid::field("group", format!("must be 1 to {NAME_MAX} bytes")));
        }
        if self.host.len() > NAME_MAX {
            return Err(Invalid::field("host", format!("must be at most {NAME_MAX} bytes")));
        }
        if self.minute.rem_euclid(60) != 0 {
            return Err(Invalid::field("minute", format!("{} is not the start of a minute", self.minute)));
        }
        if !(1..=60).contains(&self.seconds) {
            return Err(Invalid::field("seconds", format!("{} is not 1 to 60", self.seconds)));
        }
        let counts = [
            self.packets,
            self.bytes,
            self.flows,
            self.peak_pps,
            self.peak_bps,
            self.tcp,
            self.udp,
            self.icmp,
            self.other,
            self.syn,
            self.amplification,
        ];
        if counts.iter().any(|n| *n < 0) {
            return Err(Invalid::field("packets", "counts cannot be negative"));
        }
        Ok(())
    }
}

/// A host's totals over a range, for the list of a group's hosts.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FlowTrafficHost {
    pub host: String,
    pub packets: i64,
    pub bytes: i64,
    pub peak_pps: i64,
    /// Minutes recorded.
    pub minutes: i64,
    /// Under attack in some minute of the range.
    pub attacked: bool,
}

fn traffic_of(r: &AnyRow) -> Result<FlowTraffic> {
    Ok(FlowTraffic {
        group: r.try_get("group_name")?,
        host: r.try_get("host")?,
        minute: r.try_get("minute")?,
        seconds: r.try_get("seconds")?,
        packets: r.try_get("packets")?,
        bytes: r.try_get("bytes")?,
        flows: r.try_get("flows")?,
        peak_pps: r.try_get("peak_pps")?,
        peak_bps: r.try_get("peak_bps")?,
        tcp: r.try_get("tcp")?,
        udp: r.try_get("udp")?,
        icmp: r.try_get("icmp")?,
        other: r.try_get("other")?,
        syn: r.try_get("syn")?,
        amplification: r.try_get("amplification")?,
        attacked: r.try_get::<i64, _>("attacked")? != 0,
    })
}

impl Store {
    /// Writes minutes of traffic in one transaction; a (group, host,
    /// minute) already stored is replaced. Every row is checked first.
    pub async fn put_flow_traffic(&self, rows: &[FlowTraffic]) -> Result<()> {
        if rows.len() > MAX_ROWS {
            return Err(Invalid::field("rows", format!("at most {MAX_ROWS} at once")).into());
        }
        for r in rows {
            r.check()?;
        }
        if rows.is_empty() {
            return Ok(());
        }
        let mut tx = self.write_tx().await?;
        for r in rows {
            sqlx::query(
                "INSERT INTO flow_traffic (scope, group_name, host, minute, seconds, packets, bytes, flows, \
                 peak_pps, peak_bps, tcp, udp, icmp, other, syn, amplification, attacked) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
                 ON CONFLICT (scope, group_name, host, minute) DO UPDATE SET seconds = excluded.seconds, \
                 packets = excluded.packets, bytes = excluded.bytes, flows = excluded.flows, \
                 peak_pps = excluded.peak_pps, peak_bps = excluded.peak_bps, tcp = excluded.tcp, \
                 udp = excluded.udp, icmp = excluded.icmp, other = excluded.other, syn = excluded.syn, \
                 amplification = excluded.amplification, attacked = excluded.attacked",
            )
            .bind(r.scope())
            .bind(&r.group)
            .bind(&r.host)
            .bind(r.minute)
            .bind(r.seconds)
            .bind(r.packets)
            .bind(r.bytes)
            .bind(r.flows)
            .bind(r.peak_pps)
            .bind(r.peak_bps)
            .bind(r.tcp)
            .bind(r.udp)
            .bind(r.icmp)
            .bind(r.other)
            .bind(r.syn)
            .bind(r.amplification)
            .bind(i64::from(r.attacked))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The stored minutes from `from` (inclusive) to `to` (exclusive), unix
    /// seconds, oldest first: of group `group` (its own rows) when `host`
    /// is `None`; else of that host, in `group` or, with `group` `None`, in
    /// whichever group recorded it.
    pub async fn flow_traffic(
        &self,
        group: Option<&str>,
        host: Option<&str>,
        from: i64,
        to: i64,
    ) -> Result<Vec<FlowTraffic>> {
        let rows = match (group, host) {
            (Some(g), None) => {
                sqlx::query(
                    "SELECT * FROM flow_traffic WHERE scope = 'group' AND group_name = $1 AND host = '' \
                     AND minute >= $2 AND minute < $3 ORDER BY minute",
                )
                .bind(g)
                .bind(from)
                .bind(to)
                .fetch_all(self.pool())
                .await?
            }
            (Some(g), Some(h)) => {
                sqlx::query(
                    "SELECT * FROM flow_traffic WHERE scope = 'host' AND group_name = $1 AND host = $2 \
                     AND minute >= $3 AND minute < $4 ORDER BY minute",
                )
                .bind(g)
                .bind(h)
                .bind(from)
                .bind(to)
                .fetch_all(self.pool())
                .await?
            }
            (None, Some(h)) => {
                sqlx::query(
                    "SELECT * FROM flow_traffic WHERE scope = 'host' AND host = $1 \
                     AND minute >= $2 AND minute < $3 ORDER BY minute, group_name",
                )
                .bind(h)
                .bind(from)
                .bind(to)
                .fetch_all(self.pool())
                .await?
            }
            (None, None) => return Err(Invalid::field("group", "a group or a host is required").into()),
        };
        rows.iter().map(traffic_of).collect()
    }

    /// The hosts of `group` recorded from `from` to `to` (exclusive), most
    /// bytes first, at most `limit`.
    pub async fn flow_traffic_hosts(
        &self,
        group: &str,
        from: i64,
        to: i64,
        limit: i64,
    ) -> Result<Vec<FlowTrafficHost>> {
        let rows = sqlx::query(
            "SELECT host, CAST(SUM(packets) AS BIGINT) AS packets, CAST(SUM(bytes) AS BIGINT) AS bytes, \
             MAX(peak_pps) AS peak_pps, COUNT(*) AS minutes, MAX(attacked) AS attacked FROM flow_traffic \
             WHERE scope = 'host' AND group_name = $1 AND minute >= $2 AND minute < $3 \
             GROUP BY host ORDER BY SUM(bytes) DESC, host LIMIT $4",
        )
        .bind(group)
        .bind(from)
        .bind(to)
        .bind(limit.clamp(1, 10_000))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(FlowTrafficHost {
                    host: r.try_get("host")?,
                    packets: r.try_get("packets")?,
                    bytes: r.try_get("bytes")?,
                    peak_pps: r.try_get("peak_pps")?,
                    minutes: r.try_get("minutes")?,
                    attacked: r.try_get::<i64, _>("attacked")? != 0,
                })
            })
            .collect()
    }

    /// Deletes host minutes before `hosts_before` and group minutes before
    /// `groups_before` (unix seconds; group rows are kept longer, for the
    /// hour-of-week profile); returns how many.
    pub async fn purge_flow_traffic(&self, hosts_before: i64, groups_before: i64) -> Result<u64> {
        let r = sqlx::query(
            "DELETE FROM flow_traffic WHERE (scope = 'host' AND minute < $1) OR (scope = 'group' AND minute < $2)",
        )
        .bind(hosts_before)
        .bind(groups_before)
        .execute(self.pool())
        .await?;
        Ok(r.rows_affected())
    }

    /// A group's minutes from `from` to `to` (exclusive) that no attack
    /// touched, neither on the group nor on any of its recorded hosts, as
    /// `(minute, mean pps, mean bps)`, oldest first: what the hour-of-week
    /// profile learns from at start-up. The attacked minutes of its hosts
    /// are gathered once (a few rows), not looked up per group minute.
    pub async fn flow_traffic_baseline(&self, group: &str, from: i64, to: i64) -> Result<Vec<(i64, f64, f64)>> {
        let rows = sqlx::query(
            "SELECT g.minute, g.seconds, g.packets, g.bytes FROM flow_traffic g \
             WHERE g.scope = 'group' AND g.group_name = $1 AND g.host = '' AND g.minute >= $2 AND g.minute < $3 \
             AND g.attacked = 0 AND g.seconds > 0 AND g.minute NOT IN (SELECT h.minute FROM flow_traffic h \
             WHERE h.scope = 'host' AND h.group_name = $1 AND h.attacked <> 0 AND h.minute >= $2 AND h.minute < $3) \
             ORDER BY g.minute",
        )
        .bind(group)
        .bind(from)
        .bind(to)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let minute: i64 = r.try_get("minute")?;
                let seconds = r.try_get::<i64, _>("seconds")?.max(1) as f64;
                let packets = r.try_get::<i64, _>("packets")? as f64;
                let bytes = r.try_get::<i64, _>("bytes")? as f64;
                Ok((minute, packets / seconds, 8.0 * bytes / seconds))
            })
            .collect()
    }
}
