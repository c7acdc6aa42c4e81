//! The flow collector inside `anbao serve` (`flow_listen`): attack events
//! become alerts in the store (rule and category `ddos`), one alert per
//! attack (dedup key: the attack's key). The start event's JSON is the
//! evidence (counters, classification, top sources, sample flows); updates
//! and the end move `last_seen` and may raise the severity as the peak
//! grows. The collector also feeds the server's [`FlowStatus`] (exporter
//! health and group rates once a second, active attacks as they change)
//! for `/flows`, `/api/v1/flows` and `/metrics`, and writes the traffic
//! history (per-minute rows of groups and hosts, [`super::traffic`]) for
//! the charts.
//!
//! Mitigation: with a mitigation hook configured, the start of an attack on
//! a host of a group in automatic or manual mode records its rules in the
//! store and its end their withdrawal time ([`super::mitigation`], which
//! also carries them out).

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anbao_flow::status::CollectorCounters;
use anbao_flow::{AttackClass, AttackEvent, DecoderConfig, EventKind, FlowStatus};
use anbao_model::incident::{IncidentFacts, IncidentRules, IncidentType, OperatorCategory, ReportMinutes};
use anbao_store::{Actor, AlertDraft, IncidentDraft, Store};
use anyhow::{Context, Result};

use super::collect::{self, Collector, CollectorConfig, Output};

/// 2 medium, 3 high (≥ 100 000 pps or ≥ 1 Gbit/s, or memcached/carpet
/// bombing), 4 critical (≥ 1 000 000 pps or ≥ 10 Gbit/s).
pub fn severity(e: &AttackEvent) -> i64 {
    let p = e.peak;
    if p.pps >= 1_000_000 || p.bps >= 10_000_000_000 {
        4
    } else if p.pps >= 100_000
        || p.bps >= 1_000_000_000
        || e.class == AttackClass::CarpetBombing
        || e.service == Some("memcached")
    {
        3
    } else {
        2
    }
}

fn time(t: anbao_flow::Timestamp) -> anbao_model::Timestamp {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(t.0)).unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

/// The alert of an attack event.
pub fn draft(e: &AttackEvent, sensor: &str) -> AlertDraft {
    let class = match e.service {
        Some(s) => format!("{} ({s})", e.class.as_str()),
        None => e.class.as_str().to_owned(),
    };
    AlertDraft {
        dedup_key: e.key.clone(),
        rule: "ddos".into(),
        category: "ddos".into(),
        severity: severity(e),
        victim: e.victim.clone(),
        indicator_id: None,
        indicator: class.clone(),
        match_how: "flow".into(),
        field: "dst".into(),
        observed: e.victim.clone(),
        score: None,
        reason: format!(
            "{class} on {} (group {}): {}, peak {} pps {} bps",
            e.victim, e.group, e.reason, e.peak.pps, e.peak.bps
        ),
        count: i64::from(e.event == EventKind::Start),
        first_seen: time(e.started),
        last_seen: time(e.ended.unwrap_or(e.at)),
        sensor: sensor.to_owned(),
        evidence: serde_json::to_string(e).unwrap_or_default(),
    }
}

/// Writes attack events as alerts (one per attack, keyed by the attack's
/// key); with `applied`, together with that bus message's stream sequence
/// (nothing is written when it was already applied). Then the attacks that
/// match `incidents` open their incident (once per attack: asking again,
/// after a redelivery too, changes nothing); a failure there is logged,
/// the alerts stand.
pub async fn write(
    store: &Store,
    events: &[AttackEvent],
    sensor: &str,
    applied: Option<(&str, i64)>,
    incidents: &IncidentRule,
) -> anbao_store::Result<anbao_store::Applied> {
    let mut drafts: Vec<AlertDraft> = events.iter().map(|e| draft(e, sensor)).collect();
    for d in drafts.iter_mut().filter(|d| d.count > 0) {
        // A start whose attack already has its alert is the same attack seen
        // again (a worker restarted and replaying its partition): not a
        // second attack.
        if store.alert_id_by_key(&d.dedup_key).await?.is_some() {
            d.count = 0;
        }
    }
    let done = store.apply_alerts(&drafts, applied).await?;
    for e in events {
        if let Some(why) = incidents.matches(e)
            && let Err(e) = open_incident(store, e, &why, incidents).await
        {
            tracing::warn!(error = format!("{e:#}"), "opening a DDoS incident");
        }
    }
    Ok(done)
}

/// When a flow attack opens a large-scale DDoS incident: the
/// configuration's `ddos_incident_*` settings (any of peak pps, peak bps,
/// class) or its group's `incident = true`; with the grading rules and
/// reporting clock incidents get.
#[derive(Debug, Clone)]
pub struct IncidentRule {
    min_pps: u64,
    min_bps: u64,
    classes: Vec<String>,
    rules: IncidentRules,
    category: OperatorCategory,
}

const CLASSES: [AttackClass; 6] = [
    AttackClass::SynFlood,
    AttackClass::UdpFlood,
    AttackClass::IcmpFlood,
    AttackClass::Amplification,
    AttackClass::CarpetBombing,
    AttackClass::OtherVolumetric,
];

impl IncidentRule {
    pub fn from_config(c: &crate::config::Config) -> Result<IncidentRule> {
        for class in &c.ddos_incident_classes {
            if !CLASSES.iter().any(|k| k.as_str() == class) {
                let known: Vec<&str> = CLASSES.iter().map(|k| k.as_str()).collect();
                anyhow::bail!("ddos_incident_classes: {class:?} is not one of {}", known.join(", "));
            }
        }
        let minutes = ReportMinutes {
            cii: c.incident_report_minutes_cii,
            central: c.incident_report_minutes_central,
            other: c.incident_report_minutes_other,
        };
        Ok(IncidentRule {
            min_pps: c.ddos_incident_min_pps,
            min_bps: c.ddos_incident_min_bps,
            classes: c.ddos_incident_classes.clone(),
            rules: IncidentRules::builtin()?.clone().with_minutes(minutes).context("incident_report_minutes_*")?,
            category: c
                .operator_category
                .parse()
                .map_err(|e| anyhow::anyhow!("operator_category: {e}; use cii, central or other"))?,
        })
    }

    /// Why `e` opens an incident, or `None`.
    pub fn matches(&self, e: &AttackEvent) -> Option<String> {
        if self.min_pps > 0 && e.peak.pps >= self.min_pps {
            Some(format!("peak {} pps ≥ {}", e.peak.pps, self.min_pps))
        } else if self.min_bps > 0 && e.peak.bps >= self.min_bps {
            Some(format!("peak {} bps ≥ {}", e.peak.bps, self.min_bps))
        } else if self.classes.iter().any(|c| c == e.class.as_str()) {
            Some(format!("class {}", e.class.as_str()))
        } else if e.actions.incident {
            Some(format!("group {} has incident = true", e.group))
        } else {
            None
        }
    }
}

/// Opens (once) the incident of attack `e`, linked to its alert, in the
/// root organisation unit. The plan's facts (users offline, platforms
/// affected) are not known from flows: a responder enters them.
async fn open_incident(store: &Store, e: &AttackEvent, why: &str, rule: &IncidentRule) -> Result<()> {
    let alert_id = store.alert_id_by_key(&e.key).await?.context("the attack's alert is not in the store")?;
    let unit = store.root_org_unit().await?.context("no organisation unit to open the incident in")?;
    let class = match e.service {
        Some(s) => format!("{} ({s})", e.class.as_str()),
        None => e.class.as_str().to_owned(),
    };
    let top: Vec<String> =
        e.top_sources.iter().take(5).map(|t| format!("{} ({} packets)", t.addr, t.packets)).collect();
    let draft = IncidentDraft {
        org_unit_id: unit.id,
        incident_type: IncidentType::Ddos,
        title: format!("DDoS {class} on {} (group {})", e.victim, e.group).chars().take(200).collect(),
        summary: format!(
            "Opened by the DDoS incident rule ({why}) from alert #{alert_id}.\n{}; peak {} pps, {} bps; since {}.\nTop sources: {}",
            e.reason,
            e.peak.pps,
            e.peak.bps,
            e.started,
            top.join(", ")
        ),
        facts: IncidentFacts::default(),
        operator_category: rule.category,
        discovered_at: time(e.started),
    };
    if let Some(i) = store.open_incident_for_alert(&Actor::system(), alert_id, &draft, &rule.rules).await? {
        tracing::info!(incident = i.id, alert = alert_id, victim = %e.victim, "DDoS incident opened");
    }
    Ok(())
}

/// Starts the collector on `listen` with the groups of `groups_file`; its
/// attacks go to `store`, its state to `status`, its mitigation orders to
/// `mitigation`, its traffic history (per-minute rows) to `store` too;
/// groups with an hour-of-week profile learn it from that history first.
/// Keep the returned collector alive.
#[allow(clippy::too_many_arguments)]
pub async fn spawn(
    store: Store,
    listen: &[String],
    groups_file: &str,
    sensor: String,
    status: Arc<FlowStatus>,
    mitigation: Option<super::mitigation::MitigationConfig>,
    incidents: IncidentRule,
    history: anbao_flow::HistoryConfig,
) -> Result<Collector> {
    anyhow::ensure!(!groups_file.is_empty(), "flow_listen is set but flow_groups_file is not");
    let model = collect::load_groups(Path::new(groups_file))?;
    let profile_history = super::traffic::profile_history(&store, &model, collect::now().secs()).await;
    let listen = listen
        .iter()
        .map(|a| a.parse::<SocketAddr>().with_context(|| format!("flow_listen: {a:?} is not ADDR:PORT")))
        .collect::<Result<Vec<_>>>()?;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<AttackEvent>>(1024);
    let config = CollectorConfig {
        listen,
        rcvbuf: collect::DEFAULT_RCVBUF,
        model,
        decoder: DecoderConfig::default(),
        stats_every: Some(Duration::from_secs(1)),
        forward: false,
        records: false,
        history: Some(history),
        profile_history,
    };
    let feed = Arc::clone(&status);
    let traffic = super::traffic::spawn_writer(store.clone());
    let collector = collect::start(config, move |out| match out {
        Output::Events(events) => {
            feed.events(&events);
            if tx.blocking_send(events).is_err() {
                tracing::warn!("flow: the alert writer has stopped; attack events dropped");
            }
        }
        Output::Stats(s) => {
            let counters = CollectorCounters {
                datagrams: s.datagrams,
                not_flow: s.not_flow,
                decode_errors: s.decode_errors,
                receive_errors: s.receive_errors,
            };
            if let Some(profiles) = s.profiles {
                feed.set_profiles(profiles);
            }
            feed.report(s.at.secs(), counters, s.exporters, s.detector, &s.groups);
        }
        Output::Traffic(rows) => {
            if traffic.blocking_send(rows).is_err() {
                tracing::warn!("flow: the traffic history writer has stopped; rows dropped");
            }
        }
        Output::Records(_) => {}
    })?;
    for addr in &collector.local {
        tracing::info!(%addr, "flow collector listening");
    }
    status.started(collector.local.iter().map(ToString::to_string).collect());
    tokio::spawn(async move {
        while let Some(events) = rx.recv().await {
            for e in &events {
                tracing::info!(id = e.id, victim = %e.victim, class = e.class.as_str(), event = ?e.event, "flow attack");
            }
            let mut delay = Duration::from_millis(200);
            // The database may be briefly away: retry a few times, then drop.
            for attempt in 0..5 {
                match write(&store, &events, &sensor, None, &incidents).await {
                    Ok(_) => break,
                    Err(e) => {
                        tracing::warn!(error = %e, attempt, "writing flow attack alerts");
                        tokio::time::sleep(delay).await;
                        delay *= 2;
                    }
                }
            }
            if let Some(m) = &mitigation {
                super::mitigation::propose(&store, &events, m).await;
            }
        }
    });
    Ok(collector)
}

#[cfg(test)]
mod tests {
    use super::*;
    use anbao_flow::{Detector, FlowRecord, ModelConfig, Timestamp, Version};

    /// The start event of a SYN flood on 192.0.2.10 found by a fresh detector.
    fn flood_start() -> AttackEvent {
        let model: ModelConfig =
            toml::from_str("[[group]]\nname = \"dc1\"\nprefixes = [\"192.0.2.0/24\"]\nhost = { pps = 1000 }\n")
                .unwrap();
        let mut detector = Detector::new(model);
        let at = Timestamp::from_secs_nanos(1_764_000_000, 0);
        for i in 0..50u8 {
            let mut r = FlowRecord::empty("10.0.0.1".parse().unwrap(), Version::NetflowV9, 0, at);
            r.src = std::net::IpAddr::from([100, 64, 0, i]);
            r.dst = "192.0.2.10".parse().unwrap();
            r.proto = 6;
            r.tcp_flags = 0x02;
            r.set_counts(100, 6000, 1);
            detector.record(&r, at);
        }
        let events = detector.take_events();
        assert_eq!(events.len(), 1, "{events:?}");
        events.into_iter().next().unwrap()
    }

    /// A worker that restarts replays its partition's unacknowledged flows:
    /// its fresh detector starts the same attack (same key) again, which
    /// must not count as a second attack, nor open a second incident.
    #[tokio::test]
    async fn the_same_attack_started_twice_is_one_alert_counted_once() {
        let dir = tempfile::tempdir().unwrap();
        let sealer = crate::secrets::load_or_create(&dir.path().join("secrets.toml")).unwrap();
        let url = anbao_store::sqlite_url(&dir.path().join("anbao.db"));
        let store = Store::open(&url, anbao_store::StoreOptions::new(sealer)).await.unwrap();
        let root = anbao_store::NewOrgUnit {
            parent_id: None,
            name: "集团公司".into(),
            kind: anbao_model::OrgKind::Group,
            code: "HQ".into(),
        };
        store.create_org_unit(&Actor::system(), &root).await.unwrap();
        let config = crate::config::Config { ddos_incident_classes: vec!["syn_flood".into()], ..Default::default() };
        let rule = IncidentRule::from_config(&config).unwrap();
        let start = flood_start();
        assert!(rule.matches(&start).is_some());
        write(&store, std::slice::from_ref(&start), "edge-7", Some(("FLOWS", 1)), &rule).await.unwrap();
        // The replay: another message (sequence 9), the same attack.
        write(&store, std::slice::from_ref(&start), "edge-7", Some(("FLOWS", 9)), &rule).await.unwrap();
        let id = store.alert_id_by_key(&start.key).await.unwrap().unwrap();
        assert_eq!(store.alert(id).await.unwrap().count, 1);
        let incidents = store.list_incidents(None, &anbao_store::IncidentFilter::default()).await.unwrap();
        assert_eq!(incidents.len(), 1);
        assert_eq!(store.incident_alert_ids(incidents[0].id).await.unwrap(), vec![id]);
    }
}
