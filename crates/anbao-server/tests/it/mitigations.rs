//! `/flows/mitigations` and `/api/v1/flows/mitigations` (issue #6): a rule
//! whose announcement failed shows its error, how many times it failed and
//! when the executor tries again; once its attack has ended, that it is no
//! longer tried.

use std::sync::Arc;

use anbao_model::clock::{ManualClock, format_ts};
use anbao_model::{Clock, Role};
use anbao_store::{MitigationChange, MitigationDraft};
use axum::http::StatusCode;
use time::Duration;
use time::macros::datetime;

use crate::harness::{App, Req};

fn draft(key: &str) -> MitigationDraft {
    MitigationDraft {
        attack_key: key.into(),
        alert_id: None,
        group_name: "dc1".into(),
        victim: "192.0.2.5".into(),
        kind: "rtbh".into(),
        automatic: true,
        rule: serde_json::json!({ "kind": "rtbh", "victim": "192.0.2.5" }),
        announce_line: "announce route 192.0.2.5/32 next-hop 192.0.2.1".into(),
        withdraw_line: "withdraw route 192.0.2.5/32 next-hop 192.0.2.1".into(),
        hold_secs: 300,
        max_secs: 3600,
    }
}

/// The `<tr>` of rule `id` on the page.
fn row_of(page: &str, id: i64) -> &str {
    let start = page.find(&format!("data-mitigation=\"{id}\"")).unwrap_or_else(|| panic!("rule {id} in {page}"));
    let rest = &page[start..];
    &rest[..rest.find("</tr>").unwrap_or(rest.len())]
}

#[tokio::test]
async fn a_failed_announcement_shows_its_failures_and_next_try() {
    let clock = Arc::new(ManualClock::new(datetime!(2026-11-25 09:00 UTC)));
    let app = App::with_clock(anbao_server::ServerConfig::default(), clock.clone()).await;
    let store = &app.store;
    let id = store.propose_mitigations(&[draft("ddos:a")]).await.unwrap()[0].id;
    for n in 1..=2 {
        store.claim_mitigation_work(120, 10).await.unwrap();
        store
            .record_mitigation_result(id, MitigationChange::Announce, Err(format!("script: exit status: 1: try {n}")))
            .await
            .unwrap();
        if n == 1 {
            clock.advance(Duration::seconds(30));
        }
    }
    let next = format_ts(clock.now() + Duration::seconds(60));
    let reader = app.token(Role::Regulator).to_owned();

    let m = app.send(Req::get(&format!("/api/v1/flows/mitigations/{id}")).bearer(&reader)).await;
    m.assert_status(StatusCode::OK);
    let m = m.json();
    assert_eq!((m["state"].as_str(), m["failed_change"].as_str()), (Some("failed"), Some("announce")));
    assert_eq!((m["announce_failures"].as_i64(), m["withdraw_failures"].as_i64()), (Some(2), Some(0)));
    assert_eq!(m["retry_at"].as_str(), Some(next.as_str()));
    assert_eq!(m["error"], "script: exit status: 1: try 2");

    let page = app.send(Req::get("/flows/mitigations").bearer(&reader).cookie("anbao_lang", "en")).await;
    page.assert_status(StatusCode::OK);
    let page = page.text();
    let row = row_of(&page, id);
    assert!(row.contains("try 2"), "{row}");
    assert!(row.contains(&format!("2 failed announcements; next try at {next}")), "{row}");

    // The attack ends: no more tries, and the page says so.
    store.end_mitigations("ddos:a", clock.now()).await.unwrap();
    let m = app.send(Req::get(&format!("/api/v1/flows/mitigations/{id}")).bearer(&reader)).await.json();
    assert_eq!((m["retry_at"].as_str(), m["announce_failures"].as_i64()), (None, Some(2)));
    let page = app.send(Req::get("/flows/mitigations").bearer(&reader).cookie("anbao_lang", "en")).await.text();
    let row = row_of(&page, id);
    assert!(row.contains("not tried again: the attack has ended"), "{row}");
    assert!(!row.contains("next try at"), "{row}");
}
