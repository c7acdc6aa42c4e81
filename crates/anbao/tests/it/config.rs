//! Configuration precedence and its errors: file < `ANBAO_*` environment <
//! flags, and every bad value is named.

use crate::harness::{Auth, anbao, data_dir, serve};

#[test]
fn anbao_listen_in_the_environment_is_used_by_serve() {
    let dir = data_dir();
    let server = anbao(["serve"]).data_dir(dir.path()).env("ANBAO_LISTEN", "127.0.0.1:0").start();
    assert!(server.url.starts_with("http://127.0.0.1:") && !server.url.ends_with(":0"), "{}", server.report());
    assert!(server.admin_password.is_some(), "first start creates the admin: {}", server.report());
    server.client().get("/healthz", crate::harness::Auth::None).expect(200);
}

#[test]
fn environment_wins_over_the_file_and_flags_win_over_the_environment() {
    let dir = data_dir();
    let config = dir.path().join("custom.toml");
    std::fs::write(&config, "listen = \"file-says:nowhere\"\n").expect("write config");

    let env_beats_file =
        anbao(["serve", "--config"]).arg(&config).data_dir(dir.path()).env("ANBAO_LISTEN", "127.0.0.1:0").start();
    drop(env_beats_file);

    serve().arg("--config").arg(&config).data_dir(dir.path()).env("ANBAO_LISTEN", "env-says:nowhere").start();

    let bad = anbao(["serve", "--config"])
        .arg(&config)
        .data_dir(dir.path())
        .env("ANBAO_LISTEN", "env-says:nowhere")
        .run()
        .expect_code(2);
    bad.expect_mentions(&["env-says:nowhere"]);
}

#[test]
fn a_malformed_number_in_the_environment_makes_serve_exit_2_naming_the_variable() {
    let dir = data_dir();
    let out = serve().data_dir(dir.path()).env("ANBAO_LOCKOUT_MINUTES", "soon").run().expect_code(2);
    out.expect_mentions(&["ANBAO_LOCKOUT_MINUTES", "soon"]);
}

#[test]
fn an_unknown_key_in_the_config_file_makes_serve_exit_2_naming_it() {
    let dir = data_dir();
    let config = dir.path().join("anbao.toml");
    std::fs::write(&config, "listen = \"127.0.0.1:0\"\ncolour = \"red\"\n").expect("write config");
    let out = serve().arg("--config").arg(&config).data_dir(dir.path()).run().expect_code(2);
    out.expect_mentions(&["colour"]);
}

#[test]
fn a_missing_explicit_config_file_is_an_error() {
    let dir = data_dir();
    let out = serve().arg("--config").arg(dir.path().join("absent.toml")).data_dir(dir.path()).run().expect_code(2);
    out.expect_mentions(&["absent.toml"]);
}

const OWN_REQUIREMENT: &str = r#"
[[item]]
id = "OPS-TEL-01"
area = "management"
min_level = 1
title_zh = "核心网元变更须经双人复核"
title_en = "Changes to core network elements are checked by a second engineer"
guidance_zh = "抽查近三个月的变更工单。"
guidance_en = "Sample the change tickets of the last three months."
source = "operator's own change-management rule"
serves = ["R1.2"]
"#;

#[test]
fn the_operators_own_requirements_join_assessments_and_bad_rule_files_are_refused() {
    use crate::harness::{Auth, create_token};
    use serde_json::json;
    let dir = data_dir();
    let extra = dir.path().join("own-requirements.toml");
    std::fs::write(&extra, OWN_REQUIREMENT).expect("write requirements");
    let server =
        serve().data_dir(dir.path()).env("ANBAO_EXTRA_REQUIREMENTS_FILE", extra.to_str().expect("utf-8 path")).start();
    let token = create_token(dir.path(), None, "analyst", "assessor");
    let client = server.client();
    let unit = client
        .post_json(
            "/api/v1/network-units",
            Auth::Bearer(&token),
            &json!({ "org_unit_id": 1, "name": "办公网", "responsible_person": "张伟" }),
        )
        .expect(201)
        .json();
    let id = unit["id"].as_i64().expect("unit id");
    let rules = client.get("/api/v1/grading/rules", Auth::Bearer(&token)).expect(200).json();
    let answers: serde_json::Map<String, serde_json::Value> = rules["factors"]
        .as_array()
        .expect("factors")
        .iter()
        .map(|f| (f["id"].as_str().unwrap_or_default().to_owned(), f["options"][0]["id"].clone()))
        .collect();
    client
        .post_json(&format!("/api/v1/network-units/{id}/grading"), Auth::Bearer(&token), &json!({ "answers": answers }))
        .expect(200);
    let a = client
        .post_json("/api/v1/assessments", Auth::Bearer(&token), &json!({ "network_unit_id": id, "assessor": "内审组" }))
        .expect(201)
        .json();
    let ids: Vec<&str> =
        a["items"].as_array().expect("items").iter().filter_map(|i| i["requirement_id"].as_str()).collect();
    assert!(ids.contains(&"OPS-TEL-01"), "the operator's requirement is assessed: {ids:?}");
    drop(server);

    let bad = dir.path().join("bad-rules.toml");
    std::fs::write(&bad, "format = 1\nversion = \"x\"\n[[factor]]\nid = \"a\"\n").expect("write rules");
    let out = serve()
        .data_dir(dir.path())
        .env("ANBAO_GRADING_RULES_FILE", bad.to_str().expect("utf-8 path"))
        .run()
        .expect_code(2);
    out.expect_mentions(&["grading_rules_file", "bad-rules.toml"]);
}

/// The incident reporting clock comes from `operator_category` and the
/// `incident_report_minutes_*` settings; a category that is not one of the
/// three is refused at start, naming the setting.
#[test]
fn incident_reporting_settings_set_the_clock_and_bad_ones_are_refused() {
    let dir = data_dir();
    let server = serve()
        .data_dir(dir.path())
        .env("ANBAO_OPERATOR_CATEGORY", "cii")
        .env("ANBAO_INCIDENT_REPORT_MINUTES_CII", "30")
        .start();
    let password = server.admin_password.clone().expect("first start creates the admin");
    let client = server.client();
    let session = client.login("admin", &password);
    let me = client.get("/api/v1/me", Auth::Session { cookie: &session, csrf: None }).expect(200).json();
    let csrf = me["csrf_token"].as_str().expect("csrf_token").to_owned();
    let body = serde_json::json!({ "records_leaked": 1000000, "discovered_at": "2026-11-25T10:00:00Z" });
    let grade = client
        .post_json("/api/v1/incidents/grade", Auth::Session { cookie: &session, csrf: Some(&csrf) }, &body)
        .expect(200)
        .json();
    assert_eq!(grade["level"], "III", "{grade}");
    assert_eq!(grade["operator_category"], "cii");
    assert_eq!(grade["report_within_minutes"], 30);
    assert_eq!(grade["report_by"], "2026-11-25T10:30:00.000Z");
    drop(server);

    let out = serve().data_dir(dir.path()).env("ANBAO_OPERATOR_CATEGORY", "bank").run().expect_code(2);
    out.expect_mentions(&["operator_category", "bank"]);
    let out = serve().data_dir(dir.path()).env("ANBAO_INCIDENT_REPORT_MINUTES_OTHER", "0").run().expect_code(2);
    out.expect_mentions(&["incident_report_minutes"]);
}
