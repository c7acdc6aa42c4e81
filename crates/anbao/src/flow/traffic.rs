//! Traffic history writers: the per-minute rows of anbao-flow's
//! [`TrafficMinutes`] (every group, its busiest hosts and its hosts under
//! attack) into the store's `flow_traffic` table, for the charts of
//! `/flows/groups/{name}` and `/flows/hosts/{addr}`.
//!
//! Both flow paths record: the embedded collector of `anbao serve` (its
//! decoder thread calls [`Recorder::observe`] after every tick and hands
//! the rows out as `Output::Traffic`) and `anbao flow worker` ([`Worker`],
//! on the collector's clock). A finished minute is written once; the
//! minute in progress has its group rows written every
//! [`PARTIAL_EVERY`] seconds so the charts' last point is live (the
//! finished minute replaces them). Writes happen on a task of their own
//! with a few retries, never on the detection path; rows that cannot be
//! written are logged and dropped. `anbao serve` purges rows older than
//! `flow_traffic_retention_days` every hour ([`spawn_purge`]).

use std::collections::BTreeSet;
use std::time::Duration;

use anbao_flow::{Detector, HistoryConfig, ModelConfig, TrafficMinutes, TrafficRow};
use anbao_store::{FlowTraffic, Store};

/// Seconds between writes of the minute in progress (group rows).
pub const PARTIAL_EVERY: i64 = 10;

/// The history settings of the configuration.
pub fn history_config(c: &crate::config::Config) -> HistoryConfig {
    HistoryConfig { top_hosts: c.flow_traffic_top_hosts.max(1), ..HistoryConfig::default() }
}

/// Folds a detector's seconds into minutes; pure apart from the detector
/// it reads.
#[derive(Debug)]
pub struct Recorder {
    minutes: TrafficMinutes,
    /// Record only the groups the detector has seen traffic of (a bus
    /// worker: the other groups are other workers').
    only_active: bool,
    /// With `only_active`, those groups so far: the worker's partition.
    partition: BTreeSet<String>,
    last_sec: Option<i64>,
    last_partial: i64,
}

impl Recorder {
    /// With `only_active`, groups are recorded from their first flow on
    /// (a bus worker: groups of other partitions never are); without, every
    /// group from the start (the embedded collector).
    pub fn new(config: HistoryConfig, only_active: bool) -> Self {
        Recorder {
            minutes: TrafficMinutes::new(config),
            only_active,
            partition: BTreeSet::new(),
            last_sec: None,
            last_partial: i64::MIN,
        }
    }

    /// With `only_active`: the groups recorded so far, those the detector
    /// has counted a record of (`GroupSecond::active`). One rule for the
    /// worker's history and its status (`/flows` lists these groups).
    pub fn partition(&self) -> &BTreeSet<String> {
        &self.partition
    }

    /// Call after every tick of `detector`: when its clock has moved to a
    /// new second, takes the finished one; returns the rows to write (a
    /// finished minute, and the group rows of the minute in progress every
    /// [`PARTIAL_EVERY`] seconds), often none.
    pub fn observe(&mut self, detector: &Detector) -> Vec<TrafficRow> {
        let Some(now) = detector.clock_second() else { return Vec::new() };
        if self.last_sec.is_some_and(|s| s >= now) {
            return Vec::new();
        }
        self.last_sec = Some(now);
        let per_second = self.minutes.config().per_second();
        let Some(mut second) = detector.last_second(per_second) else { return Vec::new() };
        if self.only_active {
            second.groups.retain(|g| g.active);
            for g in &second.groups {
                if !self.partition.contains(&g.name) {
                    self.partition.insert(g.name.clone());
                }
            }
        }
        let mut rows = self.minutes.feed(&second);
        if now.saturating_sub(self.last_partial) >= PARTIAL_EVERY {
            let partial = self.minutes.partial();
            if !partial.is_empty() {
                self.last_partial = now;
                rows.extend(partial);
            }
        }
        rows
    }
}

fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The store's form of a row.
pub fn stored(r: &TrafficRow) -> FlowTraffic {
    let t = &r.totals;
    FlowTraffic {
        group: r.group.clone(),
        host: r.host.map(|h| h.to_string()).unwrap_or_default(),
        minute: r.minute,
        seconds: i64::from(r.seconds),
        packets: count(t.packets),
        bytes: count(t.bytes),
        flows: count(t.flows),
        peak_pps: count(r.peak_pps),
        peak_bps: count(r.peak_bps),
        tcp: count(t.tcp),
        udp: count(t.udp),
        icmp: count(t.icmp),
        other: count(t.other),
        syn: count(t.syn_only),
        amplification: count(t.amplification.0.iter().fold(0u64, |a, b| a.saturating_add(*b))),
        attacked: r.attacked,
    }
}

/// Starts the task that writes rows to `store`; send it the rows.
pub fn spawn_writer(store: Store) -> tokio::sync::mpsc::Sender<Vec<TrafficRow>> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<TrafficRow>>(64);
    tokio::spawn(async move {
        while let Some(rows) = rx.recv().await {
            write(&store, &rows).await;
        }
    });
    tx
}

/// Writes rows, retrying a few times while the database is away.
pub async fn write(store: &Store, rows: &[TrafficRow]) {
    let rows: Vec<FlowTraffic> = rows.iter().map(stored).collect();
    let mut delay = Duration::from_millis(200);
    for attempt in 0..5 {
        match store.put_flow_traffic(&rows).await {
            Ok(()) => return,
            Err(e) => {
                tracing::warn!(error = %e, attempt, rows = rows.len(), "writing flow traffic history");
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
        }
    }
    tracing::warn!(rows = rows.len(), "flow traffic history rows dropped");
}

/// Traffic history for `anbao flow worker`: records its detector's seconds
/// (only the groups of its partition: those it has seen flows of, so two
/// workers never write the same group) and writes the rows in the
/// background.
#[derive(Debug)]
pub struct Worker {
    recorder: Recorder,
    tx: tokio::sync::mpsc::Sender<Vec<TrafficRow>>,
}

impl Worker {
    pub fn start(store: Store, config: &crate::config::Config) -> Self {
        Worker { recorder: Recorder::new(history_config(config), true), tx: spawn_writer(store) }
    }

    /// The groups of this worker's partition seen so far ([`Recorder::partition`]).
    pub fn partition(&self) -> &BTreeSet<String> {
        self.recorder.partition()
    }

    /// Call after every batch the detector counted.
    pub fn observe(&mut self, detector: &Detector) {
        let rows = self.recorder.observe(detector);
        if !rows.is_empty() && self.tx.try_send(rows).is_err() {
            tracing::warn!("flow traffic history: the writer is behind; rows dropped");
        }
    }
}

/// Purges host rows older than `host_days` and group rows older than
/// `group_days`, now and every hour.
pub fn spawn_purge(store: Store, host_days: u32, group_days: u32) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tick.tick().await;
            let now = super::collect::now().secs();
            let days_ago = |days: u32| now.saturating_sub(i64::from(days.max(1)) * 86_400);
            match store.purge_flow_traffic(days_ago(host_days), days_ago(group_days)).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(rows = n, "old flow traffic history purged"),
                Err(e) => tracing::warn!(error = %e, "purging flow traffic history"),
            }
        }
    });
}

/// Each profiled group's stored minutes: `(minute, mean pps, mean bps)`.
pub type ProfileHistory = Vec<(String, Vec<(i64, f64, f64)>)>;

/// Weeks of stored history an hour-of-week profile is learnt from.
pub const PROFILE_WEEKS: i64 = 8;

/// The stored minutes each group with an hour-of-week profile learns from
/// at start-up: the last [`PROFILE_WEEKS`] weeks up to the start of the
/// current hour, without minutes under attack. A group whose history
/// cannot be read starts with an empty profile (logged).
pub async fn profile_history(store: &Store, model: &ModelConfig, now: i64) -> ProfileHistory {
    let to = now - now.rem_euclid(3600);
    let from = to.saturating_sub(PROFILE_WEEKS * 7 * 86_400);
    let mut out = Vec::new();
    for g in model.groups.iter().filter(|g| g.profile_enabled()) {
        match store.flow_traffic_baseline(&g.name, from, to).await {
            Ok(points) => out.push((g.name.clone(), points)),
            Err(e) => tracing::warn!(group = %g.name, error = %e, "reading the traffic history for the profile"),
        }
    }
    out
}

/// Seeds `detector`'s profiles from [`profile_history`]'s minutes.
pub fn seed_profiles(detector: &mut Detector, history: ProfileHistory) {
    for (group, points) in history {
        let minutes = points.len();
        match detector.seed_profile_minutes(&group, points) {
            Ok(hours) => tracing::info!(%group, minutes, hours, "hour-of-week profile learnt from the stored history"),
            Err(e) => tracing::warn!(%group, error = %e, "the stored history could not seed the profile"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anbao_flow::{FlowRecord, ModelConfig, Timestamp, Version};

    const T0: i64 = 1_764_000_000;

    fn flow(dst: &str, packets: u64) -> FlowRecord {
        let mut r = FlowRecord::empty("10.0.0.1".parse().unwrap(), Version::NetflowV9, 0, Timestamp(0));
        r.src = "100.64.0.1".parse().unwrap();
        r.dst = dst.parse().unwrap();
        r.proto = 17;
        r.sport = 123;
        r.set_counts(packets, packets * 400, 1);
        r
    }

    /// A group with a profile learns it at start-up from the stored group
    /// minutes of the past weeks, leaving out the minutes under attack and
    /// the hour in progress; a group without one reads nothing.
    #[tokio::test]
    async fn stored_minutes_seed_the_hour_of_week_profile() {
        let dir = tempfile::tempdir().unwrap();
        let sealer = crate::secrets::load_or_create(&dir.path().join("secrets.toml")).unwrap();
        let url = anbao_store::sqlite_url(&dir.path().join("anbao.db"));
        let store = Store::open(&url, anbao_store::StoreOptions::new(sealer)).await.unwrap();
        let model: ModelConfig = toml::from_str(
            "profile_min_weeks = 3\n[[group]]\nname = \"dc1\"\nprefixes = [\"192.0.2.0/24\"]\nprofile_factor = 3.0\n\
             [[group]]\nname = \"dc2\"\nprefixes = [\"198.51.100.0/24\"]\n",
        )
        .unwrap();
        model.validate().unwrap();
        // Now: 30 minutes into an hour; the same hour of the 4 weeks before
        // held 1200 pps, but for an attacked minute each week; the current
        // hour holds more, which must not be learnt yet.
        let hour = (T0 - T0.rem_euclid(3600)) + 4 * 7 * 86_400;
        let now = hour + 1800;
        let row = |group: &str, minute: i64, pps: i64, attacked: bool| FlowTraffic {
            group: group.into(),
            minute,
            seconds: 60,
            packets: pps * 60,
            bytes: pps * 60 * 500,
            attacked,
            ..FlowTraffic::default()
        };
        let mut rows = Vec::new();
        for week in 1..=4 {
            let start = hour - week * 7 * 86_400;
            for m in 0..60 {
                let attacked = m == 7;
                rows.push(row("dc1", start + 60 * m, if attacked { 90_000 } else { 1200 }, attacked));
                rows.push(row("dc2", start + 60 * m, 500, false));
            }
        }
        for m in 0..30 {
            rows.push(row("dc1", hour + 60 * m, 5000, false));
        }
        store.put_flow_traffic(&rows).await.unwrap();

        let history = profile_history(&store, &model, now).await;
        assert_eq!(history.len(), 1, "only the group with a profile reads its history");
        assert_eq!((history[0].0.as_str(), history[0].1.len()), ("dc1", 4 * 59));
        let mut detector = Detector::new(model.clone());
        seed_profiles(&mut detector, history);
        let profile = detector.group_profile("dc1").unwrap();
        let slot = &profile.slots[anbao_flow::profile::slot_of(now, model.profile_offset_secs())];
        assert!(slot.ready, "{slot:?}");
        assert_eq!(slot.samples, 4);
        assert!((slot.pps.mean - 1200.0).abs() < 1.0, "{slot:?}");
        assert!((slot.bps.mean - 1200.0 * 500.0 * 8.0).abs() < 1000.0, "{slot:?}");
        assert_eq!(profile.slots.iter().filter(|s| s.samples > 0).count(), 1, "the hour in progress is not learnt");
    }

    /// A detector driven second by second over two minutes, as the
    /// collector's thread drives it: the recorder's rows reach the store,
    /// the group's every minute, the busy and attacked hosts at the
    /// minute's end, and a live partial minute before that.
    #[tokio::test]
    async fn a_driven_detector_writes_group_and_host_minutes() {
        let dir = tempfile::tempdir().unwrap();
        let sealer = crate::secrets::load_or_create(&dir.path().join("secrets.toml")).unwrap();
        let url = anbao_store::sqlite_url(&dir.path().join("anbao.db"));
        let store = Store::open(&url, anbao_store::StoreOptions::new(sealer)).await.unwrap();
        let model: ModelConfig =
            toml::from_str("[[group]]\nname = \"dc1\"\nprefixes = [\"192.0.2.0/24\"]\nhost = { pps = 5000 }\n")
                .unwrap();
        let mut detector = Detector::new(model);
        let mut recorder = Recorder::new(HistoryConfig { top_hosts: 2, attack_hosts: 10 }, false);
        let mut partial_seen = false;
        for s in 1..=121 {
            let at = Timestamp::from_secs_nanos(T0 + s, 0);
            for h in 1..=5u64 {
                detector.record(&flow(&format!("192.0.2.{h}"), 100 * h), at);
            }
            if (90..100).contains(&s) {
                detector.record(&flow("192.0.2.200", 9_000), at);
            }
            detector.tick(Timestamp::from_secs_nanos(T0 + s, 500_000_000));
            let rows = recorder.observe(&detector);
            // Observing again in the same second adds nothing.
            assert!(recorder.observe(&detector).is_empty());
            partial_seen |= rows.iter().any(|r| r.minute == T0 + 60 && r.seconds < 60);
            write(&store, &rows).await;
        }
        assert!(partial_seen, "the minute in progress was written before its end");
        let group = store.flow_traffic(Some("dc1"), None, T0, T0 + 120).await.unwrap();
        assert_eq!(group.iter().map(|r| (r.minute, r.seconds)).collect::<Vec<_>>(), vec![(T0, 60), (T0 + 60, 60)]);
        // Second T0 + 0 was before the first record: 59 seconds of 1500
        // packets in the first minute; the flood on .200 at 9000 pps.
        assert_eq!(group[0].packets, 59 * 1500);
        assert_eq!(group[1].packets, 60 * 1500 + 10 * 9000);
        assert_eq!(group[1].udp, group[1].packets);
        assert_eq!(group[1].amplification, group[1].packets, "NTP source port");
        assert_eq!(group[1].peak_pps, 10_500);
        let hosts = store.flow_traffic_hosts("dc1", T0 + 60, T0 + 120, 10).await.unwrap();
        let names: Vec<(&str, bool)> = hosts.iter().map(|h| (h.host.as_str(), h.attacked)).collect();
        assert_eq!(names, vec![("192.0.2.200", true), ("192.0.2.5", false)], "the top 2, the victim among them");
        let first = store.flow_traffic_hosts("dc1", T0, T0 + 60, 10).await.unwrap();
        let names: Vec<&str> = first.iter().map(|h| h.host.as_str()).collect();
        assert_eq!(names, vec!["192.0.2.5", "192.0.2.4"]);
        let victim = store.flow_traffic(None, Some("192.0.2.200"), T0, T0 + 120).await.unwrap();
        assert_eq!((victim.len(), victim[0].packets, victim[0].peak_pps), (1, 90_000, 9_000));
    }

    /// A bus worker's recorder keeps to the groups it has flows of (its
    /// partition), which its status lists too; the others are other
    /// workers'.
    #[test]
    fn a_workers_recorder_keeps_to_its_partitions_groups() {
        let model: ModelConfig = toml::from_str(
            "[[group]]\nname = \"dc1\"\nprefixes = [\"192.0.2.0/24\"]\nhost = { pps = 5000 }\n\
             [[group]]\nname = \"dc2\"\nprefixes = [\"198.51.100.0/24\"]\nhost = { pps = 5000 }\n",
        )
        .unwrap();
        let mut detector = Detector::new(model);
        let mut recorder = Recorder::new(HistoryConfig::default(), true);
        let mut rows = Vec::new();
        for s in 1..=70 {
            let at = Timestamp::from_secs_nanos(T0 + s, 0);
            detector.record(&flow("192.0.2.7", 100), at);
            detector.tick(Timestamp::from_secs_nanos(T0 + s, 500_000_000));
            rows.extend(recorder.observe(&detector));
        }
        assert_eq!(recorder.partition().iter().collect::<Vec<_>>(), ["dc1"]);
        assert!(!rows.is_empty());
        assert!(rows.iter().all(|r| r.group == "dc1"), "dc2 is another worker's");
    }
}
