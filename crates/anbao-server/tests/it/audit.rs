//! The audit log through HTTP: API changes are recorded with who, how and
//! what changed; the log can be read, filtered, exported and verified.

use anbao_model::Role;
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::harness::{App, PASSWORD, Req};

fn entry<'a>(entries: &'a [Value], action: &str, object_id: &str) -> &'a Value {
    entries
        .iter()
        .find(|e| e["action"] == action && e["object_id"] == object_id)
        .unwrap_or_else(|| panic!("no {action} entry for {object_id} in {entries:#?}"))
}

#[tokio::test]
async fn api_changes_are_audited_with_actor_channel_and_before_after() {
    let app = App::new().await;
    let admin = app.token(Role::Admin).to_owned();
    let r = app
        .send(
            Req::post("/api/v1/org-units")
                .bearer(&admin)
                .json(&json!({"parent_id": app.root, "name": "网络安全部", "kind": "department"})),
        )
        .await;
    r.assert_status(StatusCode::CREATED);
    let unit = r.json()["id"].as_i64().expect("id");
    let r = app
        .send(Req::post("/api/v1/users").bearer(&admin).json(&json!({
            "username": "sun.li", "display_name": "孙丽", "role": "responder", "org_unit_id": unit,
            "password": PASSWORD, "email": "sun.li@example.cn", "phone": "13800000000"
        })))
        .await;
    r.assert_status(StatusCode::CREATED);
    let created = r.json();
    let user = created["id"].as_i64().expect("id").to_string();
    assert_eq!(created["must_change_password"], true, "an API-created user must change the initial password");
    let r = app
        .send(
            Req::patch(&format!("/api/v1/org-units/{unit}")).bearer(&admin).json(&json!({"name": "网络与信息安全部"})),
        )
        .await;
    r.assert_status(StatusCode::OK);

    let r = app.send(Req::get("/api/v1/audit?limit=1000").bearer(&admin)).await;
    r.assert_status(StatusCode::OK);
    let entries = r.json().as_array().expect("entries").clone();
    let seqs: Vec<i64> = entries.iter().filter_map(|e| e["seq"].as_i64()).collect();
    assert!(seqs.windows(2).all(|w| w[0] > w[1]), "newest first: {seqs:?}");

    let created = entry(&entries, "user.create", &user);
    assert_eq!(created["actor"], "token:admin-bot");
    assert_eq!(created["actor_role"], "admin");
    assert_eq!(created["channel"], "api");
    assert_eq!(created["object_type"], "user");
    assert_eq!(created["org_unit_id"], unit);
    assert!(created["before"].is_null());
    assert_eq!(created["after"]["username"], "sun.li");
    assert_eq!(created["after"]["role"], "responder");
    let text = created.to_string();
    for secret in [PASSWORD, "sun.li@example.cn", "13800000000", "argon2"] {
        assert!(!text.contains(secret), "the audit entry holds {secret:?}: {text}");
    }

    let renamed = entry(&entries, "org_unit.update", &unit.to_string());
    assert_eq!(renamed["actor"], "token:admin-bot");
    assert_eq!(renamed["channel"], "api");
    assert_eq!(renamed["before"]["name"], "网络安全部");
    assert_eq!(renamed["after"]["name"], "网络与信息安全部");
    assert!(renamed["hash"].as_str().is_some_and(|h| h.len() == 64), "{renamed}");

    // Filters.
    let r = app.send(Req::get("/api/v1/audit?action=org_unit.&actor=token:admin-bot").bearer(&admin)).await;
    let filtered = r.json();
    let filtered = filtered.as_array().expect("entries");
    assert_eq!(filtered.len(), 2, "create and rename: {filtered:#?}");
    assert!(filtered.iter().all(|e| e["action"].as_str().is_some_and(|a| a.starts_with("org_unit."))));
    let r = app.send(Req::get(&format!("/api/v1/audit?object_type=user&object_id={user}")).bearer(&admin)).await;
    assert_eq!(r.json().as_array().map(Vec::len), Some(1));
    let newest = entries[0]["seq"].as_i64().expect("seq");
    let r = app.send(Req::get(&format!("/api/v1/audit?before_seq={newest}&limit=2")).bearer(&admin)).await;
    let page: Vec<i64> = r.json().as_array().expect("entries").iter().filter_map(|e| e["seq"].as_i64()).collect();
    assert_eq!(page, vec![newest - 1, newest - 2], "paging back by sequence number");
    let r = app.send(Req::get("/api/v1/audit?since=2999-01-01").bearer(&admin)).await;
    assert_eq!(r.json(), json!([]));
}

#[tokio::test]
async fn audit_since_honours_utc_offsets() {
    let app = App::new().await;
    let admin = app.token(Role::Admin).to_owned();
    // An hour ago, written in China Standard Time.
    let an_hour_ago = time::OffsetDateTime::now_utc() - time::Duration::hours(1);
    let cst = an_hour_ago.to_offset(time::UtcOffset::from_hms(8, 0, 0).expect("offset"));
    let since = cst.format(&time::format_description::well_known::Rfc3339).expect("format");
    let url = format!("/api/v1/audit?since={}", since.replace('+', "%2B"));
    let r = app.send(Req::get(&url).bearer(&admin)).await;
    r.assert_status(StatusCode::OK);
    let n = r.json().as_array().map(Vec::len).unwrap_or_default();
    let total = app.counts().await.audit;
    assert_eq!(
        i64::try_from(n).ok(),
        Some(total),
        "every entry is younger than an hour; since={since} found {n} of {total}"
    );
}

#[tokio::test]
async fn export_and_verify() {
    let app = App::new().await;
    let admin = app.token(Role::Admin).to_owned();
    let auditor = app.token(Role::Auditor).to_owned();
    let r = app
        .send(
            Req::patch(&format!("/api/v1/org-units/{}", app.root)).bearer(&admin).json(&json!({"code": "GROUP,\"1\""})),
        )
        .await;
    r.assert_status(StatusCode::OK);

    let before = app.counts().await.audit;
    let r = app.send(Req::get("/api/v1/audit/export?format=csv").bearer(&auditor)).await;
    r.assert_status(StatusCode::OK);
    assert!(r.content_type().starts_with("text/csv"), "{r:?}");
    assert!(r.header("content-disposition").is_some_and(|d| d.contains("attachment")), "{r:?}");
    let csv = r.text();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("seq,at,actor,actor_role,channel,source_ip,action,object_type,object_id,org_unit_id,before,after,hash"),
        "header row"
    );
    assert_eq!(i64::try_from(lines.count()).ok(), Some(before), "one row per entry (no field here spans lines)");
    // Fields with commas and quotes survive the round trip.
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().collect::<Result<_, _>>().expect("valid CSV");
    let update = rows.iter().find(|r| &r[6] == "org_unit.update").expect("the update is exported");
    let after: Value = serde_json::from_str(&update[11]).expect("after is JSON");
    assert_eq!(after["code"], "GROUP,\"1\"");
    assert_eq!(&update[2], "token:admin-bot");
    // The export itself is audited, as the auditor.
    assert_eq!(app.counts().await.audit, before + 1);
    let export = &app.audit_with_action("audit.export").await[0];
    assert_eq!((export.actor.as_str(), export.channel.as_str()), ("token:auditor-bot", "api"));

    let r = app.send(Req::get("/api/v1/audit/export?format=json&action=org_unit.").bearer(&auditor)).await;
    r.assert_status(StatusCode::OK);
    assert!(r.content_type().starts_with("application/json"));
    let entries = r.json();
    assert!(entries.as_array().is_some_and(
        |a| !a.is_empty() && a.iter().all(|e| e["action"].as_str().is_some_and(|s| s.starts_with("org_unit.")))
    ));

    let r = app.send(Req::get("/api/v1/audit/verify").bearer(&auditor)).await;
    r.assert_status(StatusCode::OK);
    let v = r.json();
    assert_eq!(v["intact"], true, "{v}");
    assert_eq!(v["checked"].as_i64(), Some(app.counts().await.audit));
    assert!(v["first_break"].is_null());

    // Tampering (past the append-only trigger) is noticed.
    app.store
        .execute_raw("DROP TRIGGER audit_log_no_update; UPDATE audit_log SET actor = 'mallory' WHERE seq = 2")
        .await
        .expect("tamper");
    let v = app.send(Req::get("/api/v1/audit/verify").bearer(&auditor)).await.json();
    assert_eq!(v["intact"], false, "{v}");
    assert!(v["message"].is_string(), "{v}");
    let page = app.send(Req::get("/audit?verify=1").bearer(&auditor)).await;
    page.assert_status(StatusCode::OK);
    assert!(page.text().contains("id=\"verify-result\""));
}
