//! PostgreSQL: audit verification catches tampering there too, and several
//! `serve` processes sharing one database act as one platform.

use crate::harness::{Auth, PgDb, Server, anbao, audit_verify, create_token, data_dir, json};

#[test]
fn verify_on_postgres_is_intact_and_names_an_entry_altered_with_psql() {
    let db = PgDb::create();
    let dir = data_dir();
    let init = anbao(["init", "--database", &db.url]).data_dir(dir.path()).run().ok();
    assert!(init.admin_password().is_some(), "{init}");
    assert!(dir.path().join("secrets.toml").is_file(), "the data dir still holds the secrets file: {init}");
    assert!(!dir.path().join("anbao.db").exists(), "no SQLite file on PostgreSQL: {init}");

    // From here on the database comes from the anbao.toml that init wrote.
    create_token(dir.path(), None, "responder", "soar");
    let ok = audit_verify(dir.path(), None).run().ok();
    ok.expect_mentions(&["intact"]);
    let entries: i64 = db.psql("SELECT count(*) FROM audit_log").trim().parse().expect("a count");
    assert!(entries >= 3, "bootstrap (2) and the token (1) should be in PostgreSQL, found {entries}");

    db.psql("DROP TRIGGER audit_log_no_change ON audit_log; UPDATE audit_log SET after_json='{}' WHERE seq=1");
    let out = audit_verify(dir.path(), None).run().expect_code(1);
    out.expect_mentions(&["entry 1", "altered"]);
    let v = audit_verify(dir.path(), None).arg("--json").run().expect_code(1).json();
    assert_eq!(v["first_break"], json!({"kind": "altered", "seq": 1}), "{v}");
}

#[test]
fn two_nodes_on_one_postgres_share_sessions_and_data() {
    let db = PgDb::create();
    let dir = data_dir();
    let url = Some(db.url.as_str());
    let a = Server::start(dir.path(), url);
    let password =
        a.admin_password.clone().unwrap_or_else(|| panic!("node A printed no admin password: {}", a.report()));
    let b = Server::start(dir.path(), url);
    assert_eq!(b.admin_password, None, "node B must not create a second administrator: {}", b.report());
    let (node_a, node_b) = (a.client(), b.client());

    // A browser session made on A is honoured by B.
    let session = node_a.login("admin", &password);
    let me = node_b.get("/api/v1/me", Auth::Session { cookie: &session, csrf: None }).expect(200).json();
    assert_eq!(me["name"], "admin", "{me}");
    assert_eq!(me["role"], "admin", "{me}");
    assert_eq!(me["via"], "session", "{me}");
    let root = me["home_unit"].as_i64().expect("home_unit");
    let csrf = me["csrf_token"].as_str().expect("csrf_token").to_owned();

    // A change through A (token) is visible through B, and the other way round (session).
    let token = create_token(dir.path(), url, "admin", "ops");
    let unit = json!({"parent_id": root, "name": "集团网络安全部", "kind": "department", "code": "HQ-SEC"});
    let made_on_a = node_a.post_json("/api/v1/org-units", Auth::Bearer(&token), &unit).expect(201).json();
    let on_b = Auth::Session { cookie: &session, csrf: Some(&csrf) };
    let units = node_b.get("/api/v1/org-units", on_b).expect(200).json();
    assert!(
        units
            .as_array()
            .is_some_and(|us| us.iter().any(|u| u["id"] == made_on_a["id"] && u["name"] == "集团网络安全部")),
        "{units}"
    );

    let other = json!({"parent_id": root, "name": "广东公司", "kind": "province", "code": "GD"});
    let made_on_b = node_b.post_json("/api/v1/org-units", on_b, &other).expect(201).json();
    let seen_on_a =
        node_a.get(&format!("/api/v1/org-units/{}", made_on_b["id"]), Auth::Bearer(&token)).expect(200).json();
    assert_eq!(seen_on_a["name"], "广东公司", "{seen_on_a}");

    let v = audit_verify(dir.path(), url).arg("--json").run().ok().json();
    assert_eq!(v["intact"], true, "{v}");
    assert!(v["checked"].as_i64().is_some_and(|n| n >= 6), "bootstrap, login, token and two units: {v}");
    drop((a, b));
}
