//! A group's hour-of-week profile as the web node shows it: a bus worker's
//! snapshot in the store (as `anbao flow worker` writes it every few
//! seconds) comes back through `/api/v1/flows/groups/{name}/profile` and is
//! charted on `/flows/groups/{name}`.

use std::collections::BTreeMap;

use anbao_flow::Detector;
use anbao_flow::profile::{Estimate, Slot};
use anbao_flow::status::{CollectorCounters, NodeInfo, ProfileRefresh};
use anbao_flow::{FlowStatus, ModelConfig, Timestamp};
use anbao_model::Role;
use anbao_store::FlowNodeDraft;
use axum::http::StatusCode;
use serde_json::json;

use crate::harness::{App, Req};

/// 2024-01-02 06:30 UTC: Tuesday 14:30 at +8, slot 24 + 14.
const TUESDAY_1430: i64 = 1_704_177_000;

/// A worker detecting dc1 (judged by its profile, ready after 2 weeks,
/// Tuesday 14:00 learnt for 3 weeks and 15:00 for 1) and dc2 (no profile
/// rule), at Tuesday 14:30 with 2500 pps for dc1 in the last second: its
/// snapshot as JSON.
fn worker_snapshot() -> String {
    let model: ModelConfig = serde_json::from_value(json!({
        "profile_min_weeks": 2,
        "profile_utc_offset_hours": 8.0,
        "group": [
            {"name": "dc1", "prefixes": ["192.0.2.0/24"], "baseline_factor": 4.0, "baseline_floor_pps": 500,
             "profile_factor": 3.0, "profile_deviations": 5.0, "profile_floor_bps": 1000000},
            {"name": "dc2", "prefixes": ["198.51.100.0/24"], "baseline_factor": 3.0},
        ],
    }))
    .unwrap();
    let mut d = Detector::new(model);
    let slot = |pps: f64, spread: f64, samples: u32| Slot {
        pps: Estimate { mean: pps, spread },
        bps: Estimate { mean: pps * 8000.0, spread: spread * 8000.0 },
        samples,
    };
    d.seed_profile("dc1", 24 + 14, slot(1200.0, 300.0, 3)).unwrap();
    d.seed_profile("dc1", 24 + 15, slot(900.0, 50.0, 1)).unwrap();
    let record = |dst: &str, packets: u64| {
        let at = Timestamp::from_secs_nanos(TUESDAY_1430 - 1, 0);
        let mut r =
            anbao_flow::FlowRecord::empty("203.0.113.1".parse().unwrap(), anbao_flow::Version::NetflowV9, 0, at);
        r.src = "203.0.113.9".parse().unwrap();
        r.dst = dst.parse().unwrap();
        r.proto = 6;
        r.set_counts(packets, packets * 100, 1);
        r
    };
    d.record(&record("192.0.2.1", 2500), Timestamp::from_secs_nanos(TUESDAY_1430 - 1, 0));
    d.record(&record("198.51.100.1", 40), Timestamp::from_secs_nanos(TUESDAY_1430 - 1, 0));
    d.tick(Timestamp::from_secs_nanos(TUESDAY_1430, 0));
    let status = FlowStatus::new();
    status.set_node(NodeInfo {
        id: "worker:ANBAO_FLOWS:w-p0".into(),
        role: "worker".into(),
        name: "edge-p0".into(),
        partition: Some(0),
    });
    status.started(vec!["anbao_flows.flows.0".into()]);
    status.set_profiles(ProfileRefresh::default().take(&d).unwrap());
    status.report(TUESDAY_1430, CollectorCounters::default(), BTreeMap::new(), d.stats(), &d.group_rates());
    serde_json::to_string(&status.snapshot()).unwrap()
}

#[tokio::test]
async fn a_workers_group_profile_is_served_and_charted() {
    let app = App::new().await;
    let token = app.token(Role::Regulator).to_owned();
    let get = |path: &str| Req::get(path).bearer(&token);
    let r = app.send(get("/api/v1/flows/groups/dc1/profile")).await;
    r.assert_status(StatusCode::NOT_FOUND);
    let page = app.send(get("/flows/groups/dc1")).await;
    page.assert_status(StatusCode::OK);
    assert!(page.text().contains("id=\"no-profile\""), "no node reports dc1 yet");

    app.store
        .put_flow_node(&FlowNodeDraft {
            node_id: "worker:ANBAO_FLOWS:w-p0".into(),
            role: "worker".into(),
            name: "edge-p0".into(),
            partition: Some(0),
            snapshot: worker_snapshot(),
        })
        .await
        .unwrap();

    let r = app.send(get("/api/v1/flows/groups/dc1/profile")).await;
    r.assert_status(StatusCode::OK);
    let p = r.json();
    assert_eq!(
        (&p["group"], &p["node"], &p["enabled"], &p["utc_offset_hours"], &p["min_weeks"], &p["current"]),
        (&json!("dc1"), &json!("edge-p0"), &json!(true), &json!(8.0), &json!(2), &json!(38)),
        "{p}"
    );
    assert_eq!(
        (&p["profile_factor"], &p["profile_deviations"], &p["floor_pps"], &p["floor_bps"], &p["baseline_factor"]),
        (&json!(3.0), &json!(5.0), &json!(500), &json!(1_000_000), &json!(4.0)),
        "{p}"
    );
    assert_eq!((&p["pps"], &p["bps"]), (&json!(2500), &json!(2_000_000)), "{p}");
    let slots = p["slots"].as_array().unwrap();
    assert_eq!(slots.len(), 168);
    assert_eq!(
        slots[38],
        json!({"slot": 38, "label": "Tue 14:00", "pps": 1200.0, "pps_spread": 300.0, "bps": 9_600_000.0,
               "bps_spread": 2_400_000.0, "samples": 3, "ready": true})
    );
    assert_eq!(
        (&slots[39]["label"], &slots[39]["samples"], &slots[39]["ready"]),
        (&json!("Tue 15:00"), &json!(1), &json!(false))
    );
    assert_eq!(
        (&slots[0]["label"], &slots[0]["pps"], &slots[0]["ready"]),
        (&json!("Mon 00:00"), &json!(0.0), &json!(false))
    );
    assert_eq!(slots[167]["label"], "Sun 23:00");
    assert_eq!(slots.iter().filter(|s| s["ready"] == true).count(), 1);

    let r = app.send(get("/api/v1/flows/groups/dc3/profile")).await;
    r.assert_status(StatusCode::NOT_FOUND);
    // The status leaves the 168 slots to the profile's endpoint.
    let flows = app.send(get("/api/v1/flows")).await.json();
    assert_eq!(flows["groups"].as_array().map(Vec::len), Some(2), "{flows}");
    assert!(flows["groups"].as_array().unwrap().iter().all(|g| g.get("profile").is_none()), "{flows}");

    // The chart: 168 hours, one ready, the current one marked with the
    // rate now; the rule as configured.
    let page = app.send(get("/flows/groups/dc1")).await;
    page.assert_status(StatusCode::OK);
    let html = page.text();
    assert!(html.contains("id=\"group-profile\" data-enabled=\"true\" data-ready-hours=\"1\""), "{html}");
    assert!(html.contains("data-slots=\"168\" data-current=\"38\""), "{html}");
    assert_eq!(html.matches("class=\"slot\"").count(), 168);
    assert_eq!(html.matches("class=\"not-ready\"").count(), 167);
    assert!(html.contains("class=\"now\" data-value=\"2500\""), "{html}");
    let rule = html.split("id=\"profile-rule\"").nth(1).and_then(|r| r.split("</p>").next()).unwrap_or_default();
    for part in ["3 × ", " + 5 × ", " 500 pps", " 1000000 bps"] {
        assert!(rule.contains(part), "{part:?} in {rule}");
    }
    assert!(html.contains("周二 14:00"), "slot labels in the page's language (Chinese by default)");
    // dc2 has no profile rule: said so, with its EWMA rule.
    let html = app.send(get("/flows/groups/dc2")).await.text();
    assert!(html.contains("data-enabled=\"false\""), "{html}");
    let off = html.split("id=\"profile-off\"").nth(1).and_then(|r| r.split("</p>").next()).unwrap_or_default();
    assert!(off.contains("profile_factor") && off.contains("3 × "), "{off}");
}

/// Bus mode from the web node when a worker goes quiet: a node not heard
/// of for more than 30 s (by the store's clock) is listed as stale, and
/// its groups and counters are no longer summed into the view.
#[tokio::test]
async fn a_node_not_heard_of_for_30_seconds_is_listed_stale_and_not_summed() {
    let clock = std::sync::Arc::new(anbao_model::clock::ManualClock::new(time::OffsetDateTime::now_utc()));
    let app = App::with_clock(Default::default(), clock.clone()).await;
    let token = app.token(Role::Regulator).to_owned();
    let put = |id: &str, name: &str, partition: u32| FlowNodeDraft {
        node_id: id.into(),
        role: "worker".into(),
        name: name.into(),
        partition: Some(partition),
        snapshot: worker_snapshot(),
    };
    app.store.put_flow_node(&put("worker:ANBAO_FLOWS:w-p0", "edge-p0", 0)).await.unwrap();
    app.store.put_flow_node(&put("worker:ANBAO_FLOWS:w-p1", "edge-p1", 1)).await.unwrap();
    let dc1_pps = |flows: &serde_json::Value| -> u64 {
        flows["groups"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|g| g["name"] == "dc1")
            .map(|g| g["pps"].as_u64().unwrap())
            .sum()
    };
    let flows = app.send(Req::get("/api/v1/flows").bearer(&token)).await.json();
    let stale: Vec<bool> = flows["nodes"].as_array().unwrap().iter().map(|n| n["stale"].as_bool().unwrap()).collect();
    assert_eq!(stale, [false, false], "{flows}");
    assert_eq!(dc1_pps(&flows), 5000, "both workers' rows: {flows}");

    // p1 reports again 31 s later; p0 has gone quiet.
    clock.advance(time::Duration::seconds(31));
    app.store.put_flow_node(&put("worker:ANBAO_FLOWS:w-p1", "edge-p1", 1)).await.unwrap();
    let flows = app.send(Req::get("/api/v1/flows").bearer(&token)).await.json();
    let nodes: Vec<(&str, bool)> = flows["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| (n["name"].as_str().unwrap(), n["stale"].as_bool().unwrap()))
        .collect();
    assert!(nodes.contains(&("edge-p0", true)) && nodes.contains(&("edge-p1", false)), "{flows}");
    assert_eq!(dc1_pps(&flows), 2500, "only the fresh worker's rows: {flows}");
    let html = app.send(Req::get("/flows").bearer(&token)).await.text();
    assert!(html.contains("data-node=\"worker:ANBAO_FLOWS:w-p0\" data-stale=\"true\""), "{html}");
    assert!(html.contains("data-node=\"worker:ANBAO_FLOWS:w-p1\" data-stale=\"false\""), "{html}");
}
