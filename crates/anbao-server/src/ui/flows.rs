//! The flow monitoring page (issue #6; R2.2, R8.2): the flow collector of
//! `anbao serve` (`flow_listen`): each exporter with its health, each host
//! group with its current pps/bps and a chart of the last minute, and the
//! attacks in progress. The numbers come from the shared
//! `anbao_flow::FlowStatus` merged with the other flow nodes' in the store
//! (bus mode: collectors and workers elsewhere; `api::flows::view`), the
//! same as `/api/v1/flows` and `/metrics`. With other nodes, a table lists
//! each (stale ones marked) and the rows name their node.
//!
//! `/flows/groups/{name}` and `/flows/hosts/{addr}`: the traffic history in
//! the store (written by the collector or the bus workers once a minute) as
//! charts over the last hour or day (`?range=day`): average and peak pps,
//! bps, and the protocol split; a group's page lists the hosts recorded in
//! it. The points are those of `/api/v1/flows/traffic`. Below them, the
//! group's hour-of-week profile as its node reports it (that of
//! `/api/v1/flows/groups/{name}/profile`): the usual pps of each of the 168
//! hours with its spread, the hours not ready yet, the current hour with
//! the rate now, and how the profile (or the EWMA baseline) judges.

use axum::extract::State;
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;

use super::Ctx;
use super::alerts::alerts_nav;
use super::chart::{ProfileSlot, Series, WeekProfile};
use crate::AppState;
use crate::api::flows::{GroupProfileView, TrafficRange, TrafficSeries, group_profile, series};
use crate::error::ApiError;
use crate::extract::{Path, Query};

fn unix_time(secs: Option<i64>) -> String {
    secs.and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
        .map(|t| format!("{} {:02}:{:02}:{:02} UTC", t.date(), t.hour(), t.minute(), t.second()))
        .unwrap_or_else(|| "—".to_owned())
}

/// An exporter silent for this long is flagged.
const SILENT_SECS: i64 = 60;

/// `ok`, `lossy` (sequence gaps), `errors` (template errors) or `silent`.
fn health(h: &anbao_flow::Health, now: Option<i64>) -> &'static str {
    let last = h.last_seen.map(|t| t.secs());
    if let (Some(now), Some(last)) = (now, last)
        && now - last > SILENT_SECS
    {
        "silent"
    } else if h.template_errors > 0 {
        "errors"
    } else if h.sequence_gaps > 0 {
        "lossy"
    } else {
        "ok"
    }
}

fn health_key(h: &str) -> &'static str {
    match h {
        "silent" => "flows.health.silent",
        "errors" => "flows.health.errors",
        "lossy" => "flows.health.lossy",
        _ => "flows.health.ok",
    }
}

pub async fn page(State(state): State<AppState>, ctx: Ctx) -> Result<Response, ApiError> {
    let s = crate::api::flows::view(&state).await;
    let multi = !s.nodes.is_empty();
    let body = html! {
        (alerts_nav(&ctx))
        p { (ctx.t("flows.help")) }
        // Stale nodes too, when no node reports.
        @if multi {
            h2 { (ctx.t("flows.nodes")) }
            table class="data" id="nodes" {
                thead { tr {
                    th { (ctx.t("flows.node")) } th { (ctx.t("flows.role")) } th { (ctx.t("flows.partition")) }
                    th { (ctx.t("flows.listen")) } th { (ctx.t("flows.seen")) } th { (ctx.t("flows.datagrams")) }
                    th { (ctx.t("flows.records")) } th { (ctx.t("flows.groups")) } th { (ctx.t("flows.attacks")) }
                } }
                tbody {
                    @for n in &s.nodes {
                        tr data-node=(n.info.id) data-stale=(n.stale) {
                            td { (n.info.name) }
                            td { (n.info.role) }
                            td { @if let Some(p) = n.info.partition { (p) } @else { "—" } }
                            td { @for (i, l) in n.listen.iter().enumerate() { @if i > 0 { ", " } code { (l) } } }
                            td class="nowrap" {
                                (unix_time(Some(n.seen))) " "
                                @if n.stale { span class="badge red" { (ctx.t("flows.node_stale")) } }
                                @else { span class="badge green" { (ctx.t("flows.node_ok")) } }
                            }
                            td data-count="datagrams" { (n.counters.datagrams) }
                            td data-count="records" { (n.records) }
                            td data-count="groups" { (n.groups) }
                            td data-count="attacks" { (n.attacks) }
                        }
                    }
                }
            }
        }
        @if !s.enabled {
            p id="flows-disabled" { (ctx.t("flows.disabled")) }
            pre { "flow_listen = [\"0.0.0.0:2055\", \"0.0.0.0:4739\", \"0.0.0.0:6343\"]\nflow_groups_file = \"/etc/anbao/flow-groups.toml\"" }
        } @else {
            section class="cards" id="flow-counters" {
                div class="card" { (ctx.t("flows.listen")) " " @for (i, l) in s.listen.iter().enumerate() { @if i > 0 { ", " } code { (l) } } }
                div class="card" { strong data-count="datagrams" { (s.counters.datagrams) } " " (ctx.t("flows.datagrams")) }
                div class="card" { strong data-count="decode-errors" { (s.counters.decode_errors) } " " (ctx.t("flows.decode_errors")) }
                div class="card" { strong data-count="attacks" { (s.attacks.len()) } " " (ctx.t("flows.attacks")) }
                div class="card" { (ctx.t("flows.updated")) " " strong { (unix_time(s.updated)) } }
            }
            h2 { (ctx.t("flows.attacks")) }
            @if s.attacks.is_empty() {
                p id="no-attacks" { (ctx.t("flows.no_attacks")) }
            } @else {
                table class="data" id="attacks" {
                    thead { tr {
                        th { (ctx.t("flows.victim")) } th { (ctx.t("flows.group")) } th { (ctx.t("flows.class")) }
                        th { (ctx.t("flows.started")) } th { (ctx.t("flows.pps")) } th { (ctx.t("flows.bps")) }
                        th { (ctx.t("flows.peak")) }
                        @if multi { th { (ctx.t("flows.node")) } }
                    } }
                    tbody {
                        @for a in &s.attacks {
                            tr data-attack=(a.key) {
                                td { @if a.victim.parse::<std::net::IpAddr>().is_ok() { a href={ "/flows/hosts/" (a.victim) } { code { (a.victim) } } } @else { code { (a.victim) } } }
                                td { a href={ "/flows/groups/" (a.group) } { (a.group) } }
                                td { span class="badge red" { (a.class) @if let Some(svc) = &a.service { " (" (svc) ")" } } div class="small" { (a.reason) } }
                                td class="nowrap" { (unix_time(Some(a.started))) }
                                td data-count="pps" { (a.pps) }
                                td data-count="bps" { (a.bps) }
                                td { (a.peak_pps) " pps, " (a.peak_bps) " bps" }
                                @if multi { td { (a.node.as_deref().unwrap_or("")) } }
                            }
                        }
                    }
                }
            }
            h2 { (ctx.t("flows.groups")) }
            table class="data" id="groups" {
                thead { tr {
                    th { (ctx.t("flows.group")) } th { (ctx.t("flows.pps")) } th { (ctx.t("flows.bps")) }
                    th { (ctx.t("flows.baseline")) }
                    @if multi { th { (ctx.t("flows.node")) } }
                } }
                tbody {
                    @for g in &s.groups {
                        tr data-group=(g.name) {
                            td { a href={ "/flows/groups/" (g.name) } { (g.name) } }
                            td data-count="pps" { (g.pps) }
                            td data-count="bps" { (g.bps) }
                            td { @if g.baseline_ready { (format!("{:.0}", g.baseline_pps)) } @else { "—" } }
                            @if multi { td { (g.node.as_deref().unwrap_or("")) } }
                        }
                    }
                }
            }
            @for g in &s.groups {
                (super::chart::line(&format!("{} — {}", g.name, ctx.t("flows.chart")), &g.history, s.updated.unwrap_or(0), anbao_flow::status::HISTORY_SECS as i64))
            }
            h2 { (ctx.t("flows.exporters")) }
            @if s.exporters.is_empty() {
                p id="no-exporters" { (ctx.t("flows.no_exporters")) }
            } @else {
                table class="data" id="exporters" {
                    thead { tr {
                        th { (ctx.t("flows.exporter")) } th { (ctx.t("flows.health")) } th { (ctx.t("flows.packets")) }
                        th { (ctx.t("flows.flows")) } th { (ctx.t("flows.sequence_gaps")) } th { (ctx.t("flows.template_errors")) }
                        th { (ctx.t("flows.sampling")) } th { (ctx.t("flows.last_seen")) }
                        @if multi { th { (ctx.t("flows.node")) } }
                    } }
                    tbody {
                        @for e in &s.exporters {
                            @let h = health(&e.health, s.updated);
                            tr data-exporter=(e.exporter) data-health=(h) {
                                td { code { (e.exporter) } }
                                td { span class={ "badge" @if h == "ok" { " green" } @else { " red" } } { (ctx.t(health_key(h))) } }
                                td data-count="packets" { (e.health.packets) }
                                td data-count="flows" { (e.health.flows) }
                                td data-count="sequence-gaps" { (e.health.sequence_gaps) }
                                td data-count="template-errors" { (e.health.template_errors) }
                                td { @if let Some(r) = e.health.announced_sampling_rate { "1:" (r) } @else { "—" } }
                                td class="nowrap" { (unix_time(e.health.last_seen.map(|t| t.secs()))) }
                                @if multi { td { (e.node.as_deref().unwrap_or("")) } }
                            }
                        }
                    }
                }
            }
        }
        p class="small" { (ctx.t("flows.metrics_hint")) }
    };
    Ok(super::page(&ctx, ctx.t("nav.flows"), body))
}

#[derive(Debug, Default, Deserialize)]
pub struct TrafficQuery {
    range: Option<String>,
}

/// Hosts listed on a group's page.
const GROUP_HOSTS: i64 = 50;

fn rate(v: f64) -> String {
    let (n, unit) = if v >= 1e9 {
        (v / 1e9, "G")
    } else if v >= 1e6 {
        (v / 1e6, "M")
    } else if v >= 1e3 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    if unit.is_empty() { format!("{n:.1}") } else { format!("{n:.1} {unit}") }
}

fn named(ctx: &Ctx, keys: &[&'static str]) -> Vec<Series> {
    keys.iter().copied().map(|k| Series { key: k.to_owned(), label: ctx.t(k).to_owned() }).collect()
}

/// The range switch and the three charts of a traffic series.
fn charts(ctx: &Ctx, here: &str, s: &TrafficSeries) -> Markup {
    let pick = |f: &dyn Fn(&crate::api::flows::TrafficPoint) -> Vec<f64>| -> Vec<(i64, Vec<f64>)> {
        s.points.iter().map(|p| (p.t, f(p))).collect()
    };
    let pps = pick(&|p| vec![p.pps, p.peak_pps as f64]);
    let bps = pick(&|p| vec![p.bps, p.peak_bps as f64]);
    let split = pick(&|p| vec![p.tcp, p.udp, p.icmp, p.other, p.syn, p.amplification]);
    let attacked = s.points.iter().filter(|p| p.attacked).count();
    html! {
        p class="actions" id="traffic-range" data-range=(s.range.as_str()) {
            @for r in [TrafficRange::Hour, TrafficRange::Day] {
                @let label = if r == TrafficRange::Hour { ctx.t("traffic.hour") } else { ctx.t("traffic.day") };
                @if r == s.range { strong { (label) } } @else { a href={ (here) "?range=" (r.as_str()) } data-range=(r.as_str()) { (label) } }
                " "
            }
            " · " a href={ "/api/v1/flows/traffic?" (api_query(s)) } { "JSON" }
        }
        @if s.points.is_empty() {
            p id="no-traffic" { (ctx.t("traffic.none")) }
        } @else {
            @if attacked > 0 {
                p id="traffic-attacked" { span class="badge red" { (ctx.t("traffic.attacked")) } " " (attacked) " " (ctx.t("traffic.points")) }
            }
            div id="traffic-charts" {
                (super::chart::lines(ctx.t("traffic.pps_chart"), &named(ctx, &["traffic.pps", "traffic.peak_pps"]), &pps, s.from, s.to, rate))
                (super::chart::lines(ctx.t("traffic.bps_chart"), &named(ctx, &["traffic.bps", "traffic.peak_bps"]), &bps, s.from, s.to, rate))
                (super::chart::lines(ctx.t("traffic.split_chart"), &named(ctx, &["traffic.tcp", "traffic.udp", "traffic.icmp", "traffic.other", "traffic.syn", "traffic.amplification"]), &split, s.from, s.to, rate))
            }
        }
        p class="small" { (ctx.t("traffic.help")) }
    }
}

fn api_query(s: &TrafficSeries) -> String {
    let mut q = Vec::new();
    if let Some(g) = &s.group {
        q.push(format!("group={}", urlencoding_min(g)));
    }
    if let Some(h) = &s.host {
        q.push(format!("host={}", urlencoding_min(h)));
    }
    q.push(format!("range={}", s.range.as_str()));
    q.join("&")
}

/// Percent-encodes what is not unreserved (RFC 3986) in a query value.
fn urlencoding_min(v: &str) -> String {
    let mut out = String::new();
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~:".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The days of the week, Monday first, as the profile's slots run.
const DAYS: [&str; 7] =
    ["profile.mon", "profile.tue", "profile.wed", "profile.thu", "profile.fri", "profile.sat", "profile.sun"];

/// `周二 14:00` / `Tue 14:00`.
fn slot_label(ctx: &Ctx, slot: usize) -> String {
    let day = DAYS.get((slot / 24) % 7).copied().map(|d| ctx.t(d)).unwrap_or("?");
    format!("{day} {:02}:00", slot % 24)
}

/// `UTC+8`, `UTC+5:30`, `UTC-3`.
fn utc_offset(hours: f64) -> String {
    let minutes = (hours * 60.0).round() as i64;
    let (sign, m) = if minutes < 0 { ('-', -minutes) } else { ('+', minutes) };
    if m % 60 == 0 { format!("UTC{sign}{}", m / 60) } else { format!("UTC{sign}{}:{:02}", m / 60, m % 60) }
}

/// A group's hour-of-week profile: what it judges now and by which rule,
/// and the chart of its 168 hours.
fn profile_section(ctx: &Ctx, p: Option<&GroupProfileView>, multi: bool) -> Markup {
    let Some(p) = p else {
        return html! {
            h2 { (ctx.t("profile.title")) }
            p id="no-profile" { (ctx.t("profile.none")) }
        };
    };
    let current = p.current.and_then(|c| p.slots.get(c));
    let ready = p.slots.iter().filter(|s| s.ready).count();
    let slots: Vec<ProfileSlot> = p
        .slots
        .iter()
        .map(|s| ProfileSlot {
            label: slot_label(ctx, s.slot),
            usual: s.pps,
            spread: s.pps_spread,
            ready: s.ready,
            note: format!("{} / {} {}", s.samples, p.min_weeks, ctx.t("profile.weeks")),
        })
        .collect();
    let days: Vec<&str> = DAYS.iter().copied().map(|d| ctx.t(d)).collect();
    let chart = WeekProfile {
        title: ctx.t("profile.chart"),
        slots: &slots,
        current: p.current,
        now: current.map(|_| p.pps as f64),
        days: &days,
        legend: [
            ctx.t("profile.usual"),
            ctx.t("profile.band"),
            ctx.t("profile.not_ready_legend"),
            ctx.t("profile.now_legend"),
        ],
    };
    let ewma = html! {
        (ctx.t("profile.ewma")) " "
        @if p.baseline_ready { strong data-count="baseline-pps" { (rate(p.baseline_pps)) " pps" } }
        @else { span class="badge" { (ctx.t("profile.warming")) } }
    };
    html! {
        h2 { (ctx.t("profile.title")) }
        section id="group-profile" data-enabled=(p.enabled) data-ready-hours=(ready) {
            p id="profile-now" {
                (ctx.t("profile.now")) " " strong data-count="pps" { (rate(p.pps as f64)) " pps" }
                @if let Some(s) = current {
                    " · " (ctx.t("profile.usual_for")) " " strong data-slot=(s.slot) { (slot_label(ctx, s.slot)) } ": "
                    strong { (rate(s.pps)) " ± " (rate(s.pps_spread)) " pps" } " "
                    @if s.ready { span class="badge green" { (ctx.t("profile.ready")) } }
                    @else { span class="badge" { (ctx.t("profile.not_ready")) " " (s.samples) " / " (p.min_weeks) " " (ctx.t("profile.weeks")) } }
                }
                " · " (ewma)
                @if multi { @if let Some(n) = &p.node { " · " (ctx.t("profile.node")) " " (n) } }
            }
            @if p.enabled {
                p id="profile-rule" {
                    (ctx.t("profile.judge")) " "
                    @if p.profile_factor > 0.0 { span class="rule" { (p.profile_factor) " × " (ctx.t("profile.usual_pps")) } "; " }
                    @if p.profile_deviations > 0.0 {
                        span class="rule" { (ctx.t("profile.usual_pps")) " + " (p.profile_deviations) " × " (ctx.t("profile.spread")) } "; "
                    }
                    span class="rule" { (ctx.t("profile.floor")) " " (p.floor_pps) " pps" } "."
                    @if p.floor_bps > 0 { " " (ctx.t("profile.bps_too")) " " (p.floor_bps) " bps." }
                }
                p id="profile-weeks" {
                    (ctx.t("profile.min_weeks")) " " strong { (p.min_weeks) } "; "
                    (ctx.t("profile.ready_hours")) " " strong { (ready) " / " (p.slots.len()) } ". "
                    @if p.baseline_factor > 0.0 {
                        (ctx.t("profile.until_ready")) " " (p.baseline_factor) " × " (ctx.t("profile.ewma")) "."
                    } @else {
                        (ctx.t("profile.no_ewma"))
                    }
                }
            } @else {
                p id="profile-off" {
                    (ctx.t("profile.off")) " "
                    @if p.baseline_factor > 0.0 { (ctx.t("profile.ewma_rule")) " " (p.baseline_factor) " × " (ctx.t("profile.ewma")) "." }
                    @else { (ctx.t("profile.no_ewma")) }
                }
            }
            (super::chart::week_profile(&chart, rate))
            p class="small" {
                (ctx.t("profile.offset")) " " (utc_offset(p.utc_offset_hours)) ". " (ctx.t("profile.help")) " · "
                a href={ "/api/v1/flows/groups/" (urlencoding_min(&p.group)) "/profile" } { "JSON" }
            }
        }
    }
}

pub async fn group_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(name): Path<String>,
    Query(q): Query<TrafficQuery>,
) -> Result<Response, ApiError> {
    let range = TrafficRange::parse(q.range.as_deref())?;
    let s = series(&state, Some(&name), None, range).await?;
    let hosts = state.store.flow_traffic_hosts(&name, s.from, s.to, GROUP_HOSTS).await?;
    let flows = crate::api::flows::view(&state).await;
    let profile = group_profile(&flows, &name);
    let here = format!("/flows/groups/{}", urlencoding_min(&name));
    let body = html! {
        (alerts_nav(&ctx))
        p { a href="/flows" { (ctx.t("nav.flows")) } " › " (ctx.t("flows.group")) " " strong data-group=(name) { (name) } }
        (charts(&ctx, &here, &s))
        (profile_section(&ctx, profile.as_ref(), !flows.nodes.is_empty()))
        h2 { (ctx.t("traffic.hosts")) }
        @if hosts.is_empty() {
            p id="no-hosts" { (ctx.t("traffic.no_hosts")) }
        } @else {
            table class="data" id="traffic-hosts" {
                thead { tr {
                    th { (ctx.t("traffic.host")) } th { (ctx.t("traffic.bytes")) } th { (ctx.t("traffic.packets")) }
                    th { (ctx.t("traffic.peak_pps")) } th { (ctx.t("traffic.minutes")) }
                } }
                tbody {
                    @for h in &hosts {
                        tr data-host=(h.host) {
                            td {
                                a href={ "/flows/hosts/" (h.host) "?range=" (range.as_str()) } { code { (h.host) } }
                                @if h.attacked { " " span class="badge red" { (ctx.t("traffic.attacked")) } }
                            }
                            td { (h.bytes) } td { (h.packets) } td { (h.peak_pps) } td { (h.minutes) }
                        }
                    }
                }
            }
        }
    };
    Ok(super::page(&ctx, &format!("{} — {name}", ctx.t("traffic.title")), body))
}

pub async fn host_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(addr): Path<String>,
    Query(q): Query<TrafficQuery>,
) -> Result<Response, ApiError> {
    let range = TrafficRange::parse(q.range.as_deref())?;
    let s = series(&state, None, Some(&addr), range).await?;
    let host = s.host.clone().unwrap_or_default();
    let here = format!("/flows/hosts/{host}");
    let body = html! {
        (alerts_nav(&ctx))
        p { a href="/flows" { (ctx.t("nav.flows")) } " › " (ctx.t("traffic.host")) " " strong data-host=(host) { code { (host) } } }
        (charts(&ctx, &here, &s))
    };
    Ok(super::page(&ctx, &format!("{} — {host}", ctx.t("traffic.title")), body))
}
