//! Flow traffic history (migration 0026): per-minute rows of groups and
//! hosts, replaced when a minute is written again, read by range, listed
//! per host, purged by age.

use anbao_store::FlowTraffic;

use crate::harness::*;

on_both_backends! {
    minutes_upsert_and_read_back_by_range => minutes_upsert_and_read_back_by_range_sqlite, minutes_upsert_and_read_back_by_range_postgres;
    hosts_are_listed_and_old_minutes_purged => hosts_are_listed_and_old_minutes_purged_sqlite, hosts_are_listed_and_old_minutes_purged_postgres;
}

const T0: i64 = 1_764_000_000;

fn minute(group: &str, host: &str, m: i64, packets: i64) -> FlowTraffic {
    FlowTraffic {
        group: group.into(),
        host: host.into(),
        minute: T0 + 60 * m,
        seconds: 60,
        packets,
        bytes: packets * 100,
        flows: packets / 10,
        peak_pps: packets / 30,
        peak_bps: packets * 8 * 100 / 30,
        tcp: packets / 2,
        udp: packets / 4,
        icmp: packets / 8,
        other: packets / 8,
        syn: packets / 4,
        amplification: packets / 5,
        attacked: false,
    }
}

async fn minutes_upsert_and_read_back_by_range(db: TestDb) {
    let store = &db.store;
    let mut rows: Vec<FlowTraffic> = (0..10).map(|m| minute("dc1", "", m, 6000 + m)).collect();
    rows.push(minute("dc2", "", 3, 50));
    rows.push(minute("dc1", "192.0.2.7", 3, 4000));
    store.put_flow_traffic(&rows).await.unwrap();

    let got = store.flow_traffic(Some("dc1"), None, T0 + 120, T0 + 300).await.unwrap();
    assert_eq!(got.iter().map(|r| r.minute).collect::<Vec<_>>(), vec![T0 + 120, T0 + 180, T0 + 240]);
    assert_eq!(got[1], minute("dc1", "", 3, 6003), "every column comes back");
    assert_eq!(got[1].scope(), "group");

    // The same minute again (a worker replaying its backlog) replaces it.
    let mut again = minute("dc1", "", 3, 7000);
    again.attacked = true;
    again.seconds = 42;
    store.put_flow_traffic(&[again.clone()]).await.unwrap();
    let got = store.flow_traffic(Some("dc1"), None, T0 + 180, T0 + 240).await.unwrap();
    assert_eq!(got, vec![again]);

    // Host rows: by group and host, or by host alone.
    let host = store.flow_traffic(Some("dc1"), Some("192.0.2.7"), T0, T0 + 600).await.unwrap();
    assert_eq!((host.len(), host[0].packets, host[0].scope()), (1, 4000, "host"));
    assert_eq!(store.flow_traffic(None, Some("192.0.2.7"), T0, T0 + 600).await.unwrap(), host);
    assert!(store.flow_traffic(Some("dc2"), Some("192.0.2.7"), T0, T0 + 600).await.unwrap().is_empty());
    assert_invalid(store.flow_traffic(None, None, T0, T0 + 600).await, "group");

    // Bad rows are refused before anything is written.
    let mut bad = minute("dc1", "", 20, 1);
    bad.minute += 7;
    assert_invalid(store.put_flow_traffic(&[minute("dc1", "", 21, 1), bad]).await, "minute");
    let mut bad = minute("dc1", "", 22, 1);
    bad.seconds = 61;
    assert_invalid(store.put_flow_traffic(&[bad]).await, "seconds");
    assert_invalid(store.put_flow_traffic(&[minute("", "", 22, 1)]).await, "group");
    assert!(store.flow_traffic(Some("dc1"), None, T0 + 1200, T0 + 1400).await.unwrap().is_empty());
}

async fn hosts_are_listed_and_old_minutes_purged(db: TestDb) {
    let store = &db.store;
    let mut rows = Vec::new();
    for m in 0..5 {
        rows.push(minute("dc1", "", m, 10_000));
        rows.push(minute("dc1", "192.0.2.1", m, 1000));
        rows.push(minute("dc1", "192.0.2.2", m, 3000));
    }
    let mut attacked = minute("dc1", "192.0.2.9", 4, 9000);
    attacked.attacked = true;
    rows.push(attacked);
    rows.push(minute("dc2", "198.51.100.1", 4, 99_999));
    store.put_flow_traffic(&rows).await.unwrap();

    let hosts = store.flow_traffic_hosts("dc1", T0, T0 + 300, 10).await.unwrap();
    let names: Vec<&str> = hosts.iter().map(|h| h.host.as_str()).collect();
    assert_eq!(names, vec!["192.0.2.2", "192.0.2.9", "192.0.2.1"]);
    assert_eq!((hosts[0].packets, hosts[0].bytes, hosts[0].minutes), (15_000, 1_500_000, 5));
    assert!(hosts[1].attacked && !hosts[0].attacked);
    assert_eq!(store.flow_traffic_hosts("dc1", T0, T0 + 300, 1).await.unwrap().len(), 1);
    assert_eq!(store.flow_traffic_hosts("dc1", T0 + 240, T0 + 300, 10).await.unwrap().len(), 3);

    // The profile's history: the group's minutes without an attack on the
    // group or on one of its hosts (minute 4 had 192.0.2.9 attacked).
    let mut group_attacked = minute("dc1", "", 5, 50_000);
    group_attacked.attacked = true;
    let mut short = minute("dc1", "", 6, 3000);
    short.seconds = 30;
    store.put_flow_traffic(&[group_attacked, short]).await.unwrap();
    let baseline = store.flow_traffic_baseline("dc1", T0, T0 + 600).await.unwrap();
    assert_eq!(baseline.iter().map(|p| p.0).collect::<Vec<_>>(), vec![T0, T0 + 60, T0 + 120, T0 + 180, T0 + 360]);
    assert_eq!(baseline[0].1, 10_000.0 / 60.0);
    assert_eq!(baseline[0].2, 8.0 * 1_000_000.0 / 60.0);
    assert_eq!(baseline[4].1, 100.0, "a partial minute is averaged over its own seconds");
    assert!(store.flow_traffic_baseline("dc9", T0, T0 + 600).await.unwrap().is_empty());

    // Host rows before minute 3 and group rows before minute 1 go.
    assert_eq!(store.purge_flow_traffic(T0 + 180, T0 + 60).await.unwrap(), 7);
    let left = store.flow_traffic(Some("dc1"), None, 0, i64::MAX).await.unwrap();
    assert_eq!(left.iter().map(|r| r.minute).collect::<Vec<_>>(), (1..7).map(|m| T0 + 60 * m).collect::<Vec<_>>());
    assert!(store.flow_traffic(Some("dc1"), Some("192.0.2.1"), 0, T0 + 180).await.unwrap().is_empty());
    assert_eq!(store.flow_traffic(Some("dc1"), Some("192.0.2.1"), 0, i64::MAX).await.unwrap().len(), 2);
    assert_eq!(store.purge_flow_traffic(T0 + 180, T0 + 60).await.unwrap(), 0);
}
