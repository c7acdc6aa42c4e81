//! `anbao token`: tokens made offline work against the API with their
//! role's rights, and stop working once revoked.

use crate::harness::{Auth, Server, anbao, create_token, data_dir, json};

#[test]
fn token_create_rejects_an_unknown_role_naming_the_allowed_ones() {
    let dir = data_dir();
    let out = anbao(["token", "create", "--role", "root", "--name", "x"]).data_dir(dir.path()).run().expect_code(2);
    assert!(out.stdout.is_empty(), "nothing belongs on stdout: {out}");
    out.expect_mentions(&["root", "admin", "analyst", "responder", "auditor", "regulator"]);
}

#[test]
fn token_create_prints_only_the_token_and_the_api_honours_its_role_until_revoked() {
    // No init: the first command creates the store, and the generated admin
    // password must not end up on stdout next to the token.
    let dir = data_dir();
    let token = create_token(dir.path(), None, "analyst", "ci-bot");

    let json_out = anbao(["token", "create", "--role", "auditor", "--name", "report-job", "--json"])
        .data_dir(dir.path())
        .run()
        .ok();
    let created = json_out.json();
    assert!(created["token"].as_str().is_some_and(|t| t.starts_with("anbao_")), "{json_out}");
    assert_eq!(created["role"], "auditor", "{json_out}");

    let server = Server::start(dir.path(), None);
    let api = server.client();
    let auth = Auth::Bearer(&token);

    let me = api.get("/api/v1/me", auth).expect(200).json();
    assert_eq!(me["role"], "analyst", "{me}");
    assert_eq!(me["via"], "token", "{me}");
    assert_eq!(me["name"], "token:ci-bot", "{me}");

    let users = api.get("/api/v1/users", auth).expect(200).json();
    assert!(users.as_array().is_some_and(|u| u.iter().any(|u| u["username"] == "admin")), "{users}");

    let new_user = json!({
        "username": "eve", "display_name": "Eve", "role": "admin",
        "org_unit_id": me["home_unit"], "password": "correct horse battery staple",
    });
    api.post_json("/api/v1/users", auth, &new_user).expect(403);
    api.get("/api/v1/me", Auth::Bearer("anbao_not_a_real_token")).expect(401);
    api.get("/api/v1/me", Auth::None).expect(401);

    let list = anbao(["token", "list", "--json"]).data_dir(dir.path()).run().ok();
    let tokens = list.json();
    let listed = tokens
        .as_array()
        .and_then(|ts| ts.iter().find(|t| t["name"] == "ci-bot"))
        .unwrap_or_else(|| panic!("ci-bot not listed: {list}"));
    assert!(!list.stdout.contains(&token), "token list must not show secrets: {list}");
    let id = listed["id"].as_i64().expect("token id").to_string();

    anbao(["token", "revoke", &id]).data_dir(dir.path()).run().ok();
    api.get("/api/v1/me", auth).expect(401);
    let table = anbao(["token", "list"]).data_dir(dir.path()).run().ok();
    assert!(table.stdout.lines().any(|l| l.contains("ci-bot") && l.contains("revoked")), "{table}");

    let missing = anbao(["token", "revoke", "999999"]).data_dir(dir.path()).run().expect_code(2);
    missing.expect_mentions(&["999999"]);
}
