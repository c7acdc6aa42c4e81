//! `/api/v1/flows`: the flow collector of `anbao serve` (issue #6; R2.2,
//! R8.2) as it runs: per exporter its health (packets, flows, sequence
//! gaps, template errors, last seen), per group the current pps/bps and
//! the last minute of pps, and the attacks in progress. Read-only; the
//! same numbers are in `/metrics`.
//!
//! `/api/v1/flows/traffic`: the traffic history the collectors write to
//! the store (per-minute rows of each group and of its busiest and attacked
//! hosts) as chart points over the last hour (per minute) or day (per five
//! minutes); the pages `/flows/groups/{name}` and `/flows/hosts/{addr}`
//! draw the same points.
//!
//! `/api/v1/flows/groups/{name}/profile`: a group's hour-of-week profile
//! (168 slots of usual pps and bps with their spread and the weeks learnt)
//! and the settings it judges by, as the node that detects the group
//! reports it; the page `/flows/groups/{name}` charts it. `/api/v1/flows`
//! leaves the profiles out.
//!
//! In bus mode the collectors and workers are other processes: each writes
//! its status to the store's `flow_nodes`, and [`view`] merges them with
//! this process's (anbao-flow's `status::merge`): `nodes` lists every node
//! (stale ones too), the rows carry their node's name.

use anbao_flow::FlowSnapshot;
use anbao_flow::status::{RemoteNode, merge};
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::api::intel::bad_param;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Path, Query};

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct FlowsStatus {
    /// `enabled` (a collector runs), `listen`, `updated` (unix seconds),
    /// `counters` (datagrams, not_flow, decode_errors, receive_errors),
    /// `detector`, `exporters` (exporter, packets, flows, sequence_gaps,
    /// sequence_lost, template_errors, malformed, …, last_seen),
    /// `groups` (name, pps, bps, flows, baseline_pps, baseline_bps,
    /// baseline_ready, history: [unix second, pps]), `attacks` (id, key,
    /// victim, group, class, service, reason, started, updated, pps, bps,
    /// peak_pps, peak_bps); with other flow nodes in the store, `nodes`
    /// (id, role, name, partition, seen, stale, listen, counters, records,
    /// exporters, groups, attacks) and each row's `node`. A group's
    /// hour-of-week profile is at `/api/v1/flows/groups/{name}/profile`.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub flows: FlowSnapshot,
}

#[utoipa::path(get, path = "/api/v1/flows", tag = "alerts",
    responses((status = 200, body = FlowsStatus)))]
pub async fn status(State(state): State<AppState>) -> Json<FlowsStatus> {
    let mut flows = view(&state).await;
    // 168 slots a group: they have their own endpoint.
    for g in &mut flows.groups {
        g.profile = None;
    }
    Json(FlowsStatus { flows })
}

/// A group's hour-of-week profile and how it judges, as its node reports
/// it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct GroupProfileView {
    pub group: String,
    /// The node that reports it (with several flow nodes; when several
    /// report the group, the one whose profile learnt most).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// Whether the profile judges the group (`profile_factor` or
    /// `profile_deviations` set); it learns either way.
    pub enabled: bool,
    /// The hours of the week are counted in this UTC offset.
    pub utc_offset_hours: f64,
    /// Weeks (samples) a slot needs before it judges.
    pub min_weeks: u32,
    /// Abnormal over `profile_factor` × the slot's usual pps (0: off) …
    pub profile_factor: f64,
    /// … and over the usual pps + `profile_deviations` × its spread (0:
    /// off) …
    pub profile_deviations: f64,
    /// … and over `baseline_floor_pps`.
    pub floor_pps: u64,
    /// With `profile_floor_bps` > 0, bps is judged likewise over it.
    pub floor_bps: u64,
    /// The slot of the node's clock now (none before its first second).
    pub current: Option<usize>,
    /// The group's rates in the node's last full second.
    pub pps: u64,
    pub bps: u64,
    /// The EWMA baseline, which judges the hours whose slot is not ready
    /// (`baseline_factor` × it; 0: no EWMA rule).
    pub baseline_factor: f64,
    pub baseline_pps: f64,
    pub baseline_bps: f64,
    pub baseline_ready: bool,
    /// The 168 hours of the week, Monday 00:00 first.
    pub slots: Vec<ProfileSlotView>,
}

/// One hour of the week.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ProfileSlotView {
    /// 0 (Monday 00:00) to 167 (Sunday 23:00).
    pub slot: usize,
    /// `Tue 14:00`.
    pub label: String,
    /// Usual packets per second in this hour, and the typical deviation of
    /// a second from it.
    pub pps: f64,
    pub pps_spread: f64,
    /// Usual bits per second, and its spread.
    pub bps: f64,
    pub bps_spread: f64,
    /// Hours learnt (weeks, when none was missed).
    pub samples: u32,
    /// `samples` ≥ `min_weeks`: it judges this hour.
    pub ready: bool,
}

/// Group `name`'s profile in the view `s` (`None`: no node reports the
/// group, or none sends its profile).
pub fn group_profile(s: &FlowSnapshot, name: &str) -> Option<GroupProfileView> {
    let g = s.group(name)?;
    let p = g.profile.as_ref()?;
    Some(GroupProfileView {
        group: g.name.clone(),
        node: g.node.clone(),
        enabled: p.enabled,
        utc_offset_hours: p.utc_offset_hours,
        min_weeks: p.min_weeks,
        profile_factor: p.factor,
        profile_deviations: p.deviations,
        floor_pps: p.floor_pps,
        floor_bps: p.floor_bps,
        current: p.current,
        pps: g.pps,
        bps: g.bps,
        baseline_factor: p.baseline_factor,
        baseline_pps: g.baseline_pps,
        baseline_bps: g.baseline_bps,
        baseline_ready: g.baseline_ready,
        slots: p
            .slots
            .iter()
            .enumerate()
            .map(|(i, slot)| ProfileSlotView {
                slot: i,
                label: anbao_flow::profile::slot_label(i),
                pps: slot.pps,
                pps_spread: slot.pps_spread,
                bps: slot.bps,
                bps_spread: slot.bps_spread,
                samples: slot.samples,
                ready: p.ready(slot),
            })
            .collect(),
    })
}

#[utoipa::path(get, path = "/api/v1/flows/groups/{name}/profile", tag = "alerts",
    params(("name" = String, Path, description = "host group name")),
    responses((status = 200, body = GroupProfileView),
        (status = 404, body = ErrorBody, description = "no flow node reports this group (or its profile)")))]
pub async fn profile(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<GroupProfileView>, ApiError> {
    group_profile(&view(&state).await, &name).map(Json).ok_or_else(|| ApiError::not_found("host group profile"))
}

/// This process's flow status merged with the other flow nodes' in the
/// store. The store unreachable, or a node's snapshot unreadable: logged,
/// left out.
pub async fn view(state: &AppState) -> FlowSnapshot {
    let local = state.flows.snapshot();
    let rows = match state.store.flow_nodes().await {
        Ok(rows) => rows,
        Err(e) => {
            tracing::warn!(error = %e, "reading the flow nodes");
            return local;
        }
    };
    let mut remote = Vec::with_capacity(rows.len());
    for row in rows {
        match serde_json::from_str::<FlowSnapshot>(&row.snapshot) {
            Ok(snapshot) => remote.push(RemoteNode {
                info: anbao_flow::status::NodeInfo {
                    id: row.node_id,
                    role: row.role,
                    name: row.name,
                    partition: row.partition,
                },
                seen: row.updated_at.unix_timestamp(),
                snapshot,
            }),
            Err(e) => tracing::warn!(node = %row.node_id, error = %e, "a flow node's status could not be read"),
        }
    }
    merge(local, remote, state.store.clock().now().unix_timestamp())
}

/// A traffic chart's range: `hour` (per-minute points) or `day`
/// (per-5-minute points).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TrafficRange {
    Hour,
    Day,
}

impl TrafficRange {
    pub fn parse(s: Option<&str>) -> Result<TrafficRange, ApiError> {
        match s.map(str::trim).unwrap_or("") {
            "" | "hour" => Ok(TrafficRange::Hour),
            "day" => Ok(TrafficRange::Day),
            _ => Err(bad_param("range", "use hour or day")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TrafficRange::Hour => "hour",
            TrafficRange::Day => "day",
        }
    }

    /// Seconds per point.
    pub fn step(self) -> i64 {
        match self {
            TrafficRange::Hour => 60,
            TrafficRange::Day => 300,
        }
    }

    /// `[from, to)` in unix seconds, ending after the point holding `now`.
    pub fn window(self, now: i64) -> (i64, i64) {
        let step = self.step();
        let to = now.div_euclid(step) * step + step;
        let span = match self {
            TrafficRange::Hour => 3600,
            TrafficRange::Day => 86_400,
        };
        (to - span, to)
    }
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct TrafficQuery {
    /// The host group (required unless `host` is given).
    pub group: Option<String>,
    /// A protected host's address: its rows instead of the group's.
    pub host: Option<String>,
    /// `hour` (default; 60 per-minute points) or `day` (288 per-5-minute points).
    pub range: Option<String>,
}

/// One point of a traffic chart: the averages over the minutes recorded in
/// it (rates per second), the highest one-second peaks.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TrafficPoint {
    /// Unix seconds at the start of the point.
    pub t: i64,
    /// Minutes recorded in the point, and the seconds they cover.
    pub minutes: i64,
    pub seconds: i64,
    pub pps: f64,
    pub bps: f64,
    /// Flow records per second.
    pub flows: f64,
    pub peak_pps: i64,
    pub peak_bps: i64,
    /// Packets per second by protocol, SYN-only TCP and UDP from
    /// amplification source ports.
    pub tcp: f64,
    pub udp: f64,
    pub icmp: f64,
    pub other: f64,
    pub syn: f64,
    pub amplification: f64,
    /// Under attack in some minute of the point.
    pub attacked: bool,
}

/// A traffic chart's data.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct TrafficSeries {
    pub group: Option<String>,
    pub host: Option<String>,
    pub range: TrafficRange,
    /// Seconds per point (60 or 300).
    pub step: i64,
    /// The window, unix seconds, `to` exclusive.
    pub from: i64,
    pub to: i64,
    /// Oldest first; points with no recorded minute are left out.
    pub points: Vec<TrafficPoint>,
}

/// Folds stored minutes into points of `step` seconds from `from`.
pub fn points(rows: &[anbao_store::FlowTraffic], from: i64, step: i64) -> Vec<TrafficPoint> {
    let mut out: Vec<(TrafficPoint, [i64; 9])> = Vec::new();
    for r in rows {
        let t = from + (r.minute - from).div_euclid(step) * step;
        if out.last().is_none_or(|(p, _)| p.t != t) {
            let blank = TrafficPoint {
                t,
                minutes: 0,
                seconds: 0,
                pps: 0.0,
                bps: 0.0,
                flows: 0.0,
                peak_pps: 0,
                peak_bps: 0,
                tcp: 0.0,
                udp: 0.0,
                icmp: 0.0,
                other: 0.0,
                syn: 0.0,
                amplification: 0.0,
                attacked: false,
            };
            out.push((blank, [0; 9]));
        }
        let Some((p, sums)) = out.last_mut() else { continue };
        p.minutes += 1;
        p.seconds += r.seconds;
        p.peak_pps = p.peak_pps.max(r.peak_pps);
        p.peak_bps = p.peak_bps.max(r.peak_bps);
        p.attacked |= r.attacked;
        let add = [r.packets, r.bytes, r.flows, r.tcp, r.udp, r.icmp, r.other, r.syn, r.amplification];
        for (s, a) in sums.iter_mut().zip(add) {
            *s = s.saturating_add(a);
        }
    }
    out.into_iter()
        .map(|(mut p, s)| {
            let secs = p.seconds.max(1) as f64;
            let rate = |n: i64| n as f64 / secs;
            p.pps = rate(s[0]);
            p.bps = rate(s[1]) * 8.0;
            p.flows = rate(s[2]);
            (p.tcp, p.udp, p.icmp, p.other, p.syn, p.amplification) =
                (rate(s[3]), rate(s[4]), rate(s[5]), rate(s[6]), rate(s[7]), rate(s[8]));
            p
        })
        .collect()
}

/// The chart data of a group or host over `range`, ending now.
pub async fn series(
    state: &AppState,
    group: Option<&str>,
    host: Option<&str>,
    range: TrafficRange,
) -> Result<TrafficSeries, ApiError> {
    let group = group.map(str::trim).filter(|g| !g.is_empty());
    let host = match host.map(str::trim).filter(|h| !h.is_empty()) {
        Some(h) => Some(
            h.parse::<std::net::IpAddr>()
                .map_err(|_| bad_param("host", format!("{h:?} is not an IP address")))?
                .to_canonical()
                .to_string(),
        ),
        None => None,
    };
    if group.is_none() && host.is_none() {
        return Err(bad_param("group", "a group (or a host) is required"));
    }
    let now = state.store.clock().now().unix_timestamp();
    let (from, to) = range.window(now);
    let rows = state.store.flow_traffic(group, host.as_deref(), from, to).await?;
    Ok(TrafficSeries {
        group: group.map(str::to_owned),
        host,
        range,
        step: range.step(),
        from,
        to,
        points: points(&rows, from, range.step()),
    })
}

#[utoipa::path(get, path = "/api/v1/flows/traffic", tag = "alerts", params(TrafficQuery),
    responses((status = 200, body = TrafficSeries), (status = 400, body = ErrorBody)))]
pub async fn traffic(
    State(state): State<AppState>,
    Query(q): Query<TrafficQuery>,
) -> Result<Json<TrafficSeries>, ApiError> {
    let range = TrafficRange::parse(q.range.as_deref())?;
    Ok(Json(series(&state, q.group.as_deref(), q.host.as_deref(), range).await?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use anbao_store::FlowTraffic;

    fn minute(m: i64, packets: i64, seconds: i64) -> FlowTraffic {
        FlowTraffic {
            group: "dc1".into(),
            minute: m * 60,
            seconds,
            packets,
            bytes: packets * 100,
            udp: packets,
            peak_pps: packets,
            ..FlowTraffic::default()
        }
    }

    #[test]
    fn minutes_fold_into_points_with_exact_averages() {
        let rows = [minute(0, 600, 60), minute(1, 1200, 60), minute(4, 30, 30), minute(5, 60, 60)];
        let p = points(&rows, 0, 300);
        assert_eq!(p.len(), 2);
        assert_eq!((p[0].t, p[0].minutes, p[0].seconds), (0, 3, 150));
        assert_eq!(p[0].pps, 1830.0 / 150.0);
        assert_eq!(p[0].bps, 1830.0 * 800.0 / 150.0);
        assert_eq!((p[0].udp, p[0].peak_pps), (p[0].pps, 1200));
        assert_eq!((p[1].t, p[1].pps), (300, 1.0));
        let p = points(&rows, 0, 60);
        assert_eq!(p.iter().map(|p| p.t).collect::<Vec<_>>(), vec![0, 60, 240, 300]);
        assert_eq!(p[2].pps, 1.0);
    }

    #[test]
    fn windows_end_after_the_current_point() {
        assert_eq!(TrafficRange::Hour.window(3_725), (180, 3_780));
        assert_eq!(TrafficRange::Day.window(86_400 + 10), (300, 86_700));
        assert!(TrafficRange::parse(Some("week")).is_err());
        assert_eq!(TrafficRange::parse(None).unwrap(), TrafficRange::Hour);
    }
}
