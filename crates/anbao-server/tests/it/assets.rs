//! The asset and responsibility registry over HTTP: `/api/v1/assets` with
//! its inventory and domains, security domains and boundaries,
//! accountability, and the `/govern` pages. Refused writes change nothing;
//! objects outside the caller's scope answer as if they did not exist.

use std::collections::BTreeSet;

use anbao_model::{OrgKind, Role};
use anbao_store::{Actor, AssetFilter, NewOrgUnit};
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{App, PASSWORD, Req, Resp, hidden_field};

const NGINX_CPE: &str = "cpe:2.3:a:nginx:nginx:1.24.0:*:*:*:*:*:*:*";
const SCRIPT: &str = "<script>alert(1)</script>";
const ESCAPED: &str = "&lt;script&gt;alert(1)&lt;/script&gt;";

/// The tree: root ─┬─ 广东公司 ─┬─ 广东安全部 (code GD-SEC)
///                 │            └─ 广州分公司
///                 └─ 江苏公司 ─── 江苏安全部
struct Tree {
    gd: i64,
    gd_sec: i64,
    gz: i64,
    js: i64,
    js_sec: i64,
}

async fn tree(app: &App) -> Tree {
    let gd = app.make_unit(app.root, "广东公司", OrgKind::Province).await;
    let gd_sec = app
        .store
        .create_org_unit(
            &Actor::system(),
            &NewOrgUnit {
                parent_id: Some(gd),
                name: "广东安全部".into(),
                kind: OrgKind::Department,
                code: "GD-SEC".into(),
            },
        )
        .await
        .expect("create coded unit")
        .id;
    let gz = app.make_unit(gd, "广州分公司", OrgKind::City).await;
    let js = app.make_unit(app.root, "江苏公司", OrgKind::Province).await;
    let js_sec = app.make_unit(js, "江苏安全部", OrgKind::Department).await;
    Tree { gd, gd_sec, gz, js, js_sec }
}

fn put(path: &str) -> Req {
    Req::new(Method::PUT, path)
}

/// A valid asset body; `extra` overrides or adds fields (null removes one).
fn asset(name: &str, unit: i64, dept: i64, extra: Value) -> Value {
    let mut v = json!({
        "name": name,
        "asset_type": "business_system",
        "org_unit": unit.to_string(),
        "responsible_department": dept.to_string(),
        "responsible_person": "张伟",
    });
    for (k, x) in extra.as_object().expect("object").clone() {
        if x.is_null() {
            v.as_object_mut().expect("object").remove(&k);
        } else {
            v[k] = x;
        }
    }
    v
}

async fn create(app: &App, token: &str, body: Value) -> i64 {
    let r = app.send(Req::post("/api/v1/assets").bearer(token).json(&body)).await;
    r.assert_status(StatusCode::CREATED);
    r.json()["id"].as_i64().expect("asset id")
}

async fn asset_count(app: &App) -> i64 {
    app.store.count_assets(&AssetFilter::default()).await.expect("count assets")
}

/// The values of `key` in the `items` of a list answer (or in a bare list).
fn values(r: &Resp, key: &str) -> BTreeSet<String> {
    let json = r.json();
    let list = json.get("items").unwrap_or(&json).as_array().expect("a list").clone();
    list.iter().map(|v| v[key].as_str().map_or_else(|| v[key].to_string(), str::to_owned)).collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}

/// Sends each request expecting `status` (and `field`, for a 422) and no
/// change to the data; collects every failure.
async fn refuse_all(app: &App, token: &str, cases: Vec<(Req, StatusCode, Option<&str>)>) {
    let mut failures = Vec::new();
    for (req, want, field) in cases {
        let before = (app.counts().await, asset_count(app).await);
        let r = app.send(req.bearer(token)).await;
        let after = (app.counts().await, asset_count(app).await);
        if r.status != want {
            failures.push(format!("want {want}: {r:?}"));
        } else if let Some(f) = field
            && r.error_field().as_deref() != Some(f)
        {
            failures.push(format!("want field {f}: {r:?}"));
        }
        if before != after {
            failures.push(format!("{} {} changed data: {before:?} -> {after:?}", r.method, r.uri));
        }
    }
    assert!(failures.is_empty(), "{} refusals failed:\n  {}", failures.len(), failures.join("\n  "));
}

#[tokio::test]
async fn assets_are_created_read_replaced_and_deleted() {
    let app = App::new().await;
    let t = tree(&app).await;
    let analyst = app.token(Role::Analyst).to_owned();
    let body = asset(
        "广东门户网站",
        t.gd,
        0,
        json!({
            "asset_type": "website",
            "external_id": "GD-WEB-001",
            "identifier": "https://www.gd.example.cn",
            "responsible_department": "GD-SEC",
            "oncall_phone": "13912345678",
            "lifecycle": "live",
            "criticality": "high",
            "attributes": {"icp_filing": "粤ICP备12345678号"},
            "components": [
                {"product": "nginx", "vendor": "nginx", "version": "1.24.0", "cpe": NGINX_CPE},
                {"kind": "os", "product": "debian_linux", "purl": "pkg:deb/debian/openssl@3.0.11", "end_of_support": "2028-06-30"},
            ],
        }),
    );
    let r = app.send(Req::post("/api/v1/assets").bearer(&analyst).json(&body)).await;
    r.assert_status(StatusCode::CREATED);
    let created = r.json();
    let id = created["id"].as_i64().expect("id");
    assert_eq!(created["org_unit_id"], t.gd);
    assert_eq!(created["responsible_department_id"], t.gd_sec, "the department named by its code");
    assert_eq!(created["components"].as_array().map(Vec::len), Some(2));
    assert_eq!(created["domain_ids"], json!([]));
    let entry = &app.audit_with_action("asset.create").await[0];
    assert_eq!((entry.object_id.as_str(), entry.channel.as_str()), (id.to_string().as_str(), "api"));

    // Everyone who may read governance records reads it, with its inventory.
    let responder = app.token(Role::Responder).to_owned();
    let r = app.send(Req::get(&format!("/api/v1/assets/{id}")).bearer(&responder)).await;
    r.assert_status(StatusCode::OK);
    let got = r.json();
    assert_eq!(got, created);
    assert_eq!(got["name"], "广东门户网站");
    assert_eq!((got["asset_type"].as_str(), got["lifecycle"].as_str()), (Some("website"), Some("live")));
    assert_eq!(got["oncall_phone"], "13912345678");
    assert_eq!(got["attributes"]["icp_filing"], "粤ICP备12345678号");
    assert_eq!(got["components"][0]["cpe"], NGINX_CPE);
    assert_eq!(got["components"][1]["kind"], "os");
    assert_eq!(got["components"][1]["end_of_support"], "2028-06-30");
    assert!(got["components"][0]["id"].is_i64());

    // Refused: roles without the permission, bad fields, unknown fields,
    // a taken external id.
    let post = |b: Value| Req::post("/api/v1/assets").json(&b);
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    for role in [Role::Responder, Role::Auditor] {
        refuse_all(&app, app.token(role), vec![(post(body.clone()), StatusCode::FORBIDDEN, None)]).await;
        refuse_all(
            &app,
            app.token(role),
            vec![(Req::delete(&format!("/api/v1/assets/{id}")), StatusCode::FORBIDDEN, None)],
        )
        .await;
    }
    let fresh = |extra: Value| asset("新系统", t.gd, t.gd_sec, extra);
    let bad_component = |c: Value| fresh(json!({"components": [c]}));
    let cases = vec![
        (post(fresh(json!({"responsible_person": null}))), unprocessable, Some("responsible_person")),
        (post(fresh(json!({"responsible_person": "  "}))), unprocessable, Some("responsible_person")),
        (post(fresh(json!({"responsible_department": ""}))), unprocessable, Some("responsible_department")),
        (post(fresh(json!({"name": null}))), unprocessable, Some("name")),
        (post(fresh(json!({"asset_type": "server"}))), unprocessable, Some("asset_type")),
        (post(fresh(json!({"lifecycle": "decommissioned"}))), unprocessable, Some("lifecycle")),
        (post(fresh(json!({"attributes": {"registrar": "x"}}))), unprocessable, Some("attributes")),
        (post(fresh(json!({"org_unit": "NO-SUCH-UNIT"}))), unprocessable, Some("org_unit")),
        (post(fresh(json!({"responsible_department": "999999"}))), unprocessable, Some("responsible_department")),
        (
            post(bad_component(json!({"product": "nginx", "cpe": "cpe:/a:nginx:nginx:1.24.0"}))),
            unprocessable,
            Some("components[0].cpe"),
        ),
        (
            post(fresh(json!({"components": [{"product": "ok"}, {"product": "x", "end_of_support": "2028"}]}))),
            unprocessable,
            Some("components[1].end_of_support"),
        ),
        (
            post(bad_component(json!({"product": "x", "purl": "npm/left-pad"}))),
            unprocessable,
            Some("components[0].purl"),
        ),
        (post(bad_component(json!({"product": ""}))), unprocessable, Some("components[0].product")),
        (post(fresh(json!({"colour": "red"}))), unprocessable, Some("colour")),
        (post(fresh(json!({"external_id": "GD-WEB-001"}))), StatusCode::CONFLICT, None),
    ];
    refuse_all(&app, &analyst, cases).await;

    // PUT replaces every field (defaults for those left out), not the inventory.
    let path = format!("/api/v1/assets/{id}");
    let replacement =
        asset("广东门户网站（新）", t.gd, t.js_sec, json!({"asset_type": "website", "external_id": "GD-WEB-001"}));
    let r = app.send(put(&path).bearer(&analyst).json(&replacement)).await;
    r.assert_status(StatusCode::OK);
    let replaced = r.json();
    assert_eq!(replaced["name"], "广东门户网站（新）");
    assert_eq!(replaced["responsible_department_id"], t.js_sec);
    assert_eq!((replaced["lifecycle"].as_str(), replaced["criticality"].as_str()), (Some("planned"), Some("medium")));
    assert_eq!((replaced["oncall_phone"].as_str(), replaced["identifier"].as_str()), (Some(""), Some("")));
    assert_eq!(replaced["attributes"], json!({}));
    assert_eq!(replaced["components"], created["components"], "PUT keeps the inventory");
    assert_eq!(app.send(Req::get(&path).bearer(&analyst)).await.json(), replaced);
    let update = &app.audit_with_action("asset.update").await[0];
    assert_eq!(update.before.as_ref().expect("before")["name"], "广东门户网站");
    assert_eq!(update.after.as_ref().expect("after")["name"], "广东门户网站（新）");
    let with_components = asset("x", t.gd, t.gd_sec, json!({"components": [{"product": "nginx"}]}));
    refuse_all(
        &app,
        &analyst,
        vec![
            (put(&path).json(&with_components), unprocessable, Some("components")),
            (
                put(&path).json(&asset("x", t.gd, t.gd_sec, json!({"asset_type": "tank"}))),
                unprocessable,
                Some("asset_type"),
            ),
            (put("/api/v1/assets/999999").json(&replacement), StatusCode::NOT_FOUND, None),
            (put("/api/v1/assets/abc").json(&replacement), StatusCode::BAD_REQUEST, None),
        ],
    )
    .await;

    // DELETE, then it is gone.
    let r = app.send(Req::delete(&path).bearer(&analyst)).await;
    r.assert_status(StatusCode::NO_CONTENT);
    assert_eq!(app.audit_with_action("asset.delete").await[0].object_id, id.to_string());
    app.send(Req::get(&path).bearer(&analyst)).await.assert_status(StatusCode::NOT_FOUND);
    app.send(Req::delete(&path).bearer(&analyst)).await.assert_status(StatusCode::NOT_FOUND);
    assert_eq!(asset_count(&app).await, 0);
    let chain = app.store.verify_audit().await.expect("verify");
    assert!(chain.intact(), "{:?}", chain.first_break);
}

#[tokio::test]
async fn asset_lists_filter_and_stay_in_scope() {
    let app = App::new().await;
    let t = tree(&app).await;
    let admin = app.token(Role::Admin).to_owned();
    let gd_web = create(
        &app,
        &admin,
        asset("gd portal", t.gd, t.gd_sec, json!({"asset_type": "website", "external_id": "GD-1"})),
    )
    .await;
    let gz_fw = create(
        &app,
        &admin,
        asset("gz firewall", t.gz, t.gd_sec, json!({"asset_type": "device", "identifier": "10.20.0.1"})),
    )
    .await;
    let gz_crm = create(&app, &admin, asset("gz crm", t.gz, t.gd_sec, json!({"responsible_person": "Li_Na"}))).await;
    let js_web = create(&app, &admin, asset("js portal", t.js, t.js_sec, json!({"asset_type": "website"}))).await;
    let js_fw = create(&app, &admin, asset("js firewall", t.js, t.js_sec, json!({"asset_type": "device"}))).await;

    let list = |token: &str, query: &str| {
        let (app, req) = (&app, Req::get(&format!("/api/v1/assets{query}")).bearer(token));
        async move {
            let r = app.send(req).await;
            r.assert_status(StatusCode::OK);
            r
        }
    };
    let all = list(&admin, "").await;
    assert_eq!(all.json()["total"], 5);
    assert!(all.json()["items"][0].get("components").is_none(), "lists leave the inventory out");
    let names = |r: Resp| values(&r, "name");
    assert_eq!(names(list(&admin, "?q=PORTAL").await), set(&["gd portal", "js portal"]));
    assert_eq!(names(list(&admin, "?q=10.20").await), set(&["gz firewall"]), "by identifier");
    assert_eq!(names(list(&admin, "?q=gd-1").await), set(&["gd portal"]), "by external id");
    assert_eq!(names(list(&admin, "?q=li_na").await), set(&["gz crm"]), "by responsible person");
    assert_eq!(names(list(&admin, "?q=li%25").await), set(&[]), "'%' is literal");
    assert_eq!(names(list(&admin, "?asset_type=device").await), set(&["gz firewall", "js firewall"]));
    assert_eq!(names(list(&admin, "?lifecycle=live").await), set(&[]));
    let gd_tree = list(&admin, &format!("?org_unit_id={}", t.gd)).await;
    assert_eq!(gd_tree.json()["total"], 3, "a unit's list includes its sub-units");
    assert_eq!(names(gd_tree), set(&["gd portal", "gz firewall", "gz crm"]));
    assert_eq!(names(list(&admin, &format!("?org_unit_id={}&asset_type=device", t.gz)).await), set(&["gz firewall"]));
    let page = list(&admin, "?limit=2&offset=1").await.json();
    assert_eq!((page["total"].as_i64(), page["items"].as_array().map(Vec::len)), (Some(5), Some(2)));
    let bad_queries = ["?asset_type=server", "?colour=red", "?limit=many"];
    for q in bad_queries {
        let r = app.send(Req::get(&format!("/api/v1/assets{q}")).bearer(&admin)).await;
        assert!(r.status.is_client_error(), "{q}: {r:?}");
    }

    // A token of the Guangdong province sees Guangdong only.
    let (gd_token, _) = app.make_token("gd-analyst-bot", Role::Analyst, t.gd).await;
    let mine = list(&gd_token, "").await;
    assert_eq!(mine.json()["total"], 3);
    assert_eq!(names(mine), set(&["gd portal", "gz firewall", "gz crm"]));
    assert_eq!(names(list(&gd_token, "?q=portal").await), set(&["gd portal"]), "search stays in scope");
    assert_eq!(names(list(&gd_token, "?asset_type=device").await), set(&["gz firewall"]));
    assert_eq!(names(list(&gd_token, &format!("?org_unit_id={}", t.gz)).await), set(&["gz firewall", "gz crm"]));
    for id in [gd_web, gz_fw, gz_crm] {
        app.send(Req::get(&format!("/api/v1/assets/{id}")).bearer(&gd_token)).await.assert_status(StatusCode::OK);
    }
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    let mut cases = vec![
        (Req::get(&format!("/api/v1/assets?org_unit_id={}", t.js)), unprocessable, Some("org_unit_id")),
        (Req::get(&format!("/api/v1/assets?org_unit_id={}", app.root)), unprocessable, Some("org_unit_id")),
        (Req::post("/api/v1/assets").json(&asset("越界", t.js, t.gd_sec, json!({}))), unprocessable, Some("org_unit")),
        (
            Req::post("/api/v1/assets").json(&asset("越界", app.root, t.gd_sec, json!({}))),
            unprocessable,
            Some("org_unit"),
        ),
        (
            Req::post("/api/v1/assets").json(&asset("越界", t.gd, t.js_sec, json!({}))),
            unprocessable,
            Some("responsible_department"),
        ),
        (
            put(&format!("/api/v1/assets/{gz_crm}")).json(&asset("搬走", t.js, t.js_sec, json!({}))),
            unprocessable,
            Some("org_unit"),
        ),
    ];
    for id in [js_web, js_fw] {
        let path = format!("/api/v1/assets/{id}");
        cases.push((Req::get(&path), StatusCode::NOT_FOUND, None));
        cases.push((put(&path).json(&asset("夺取", t.gd, t.gd_sec, json!({}))), StatusCode::NOT_FOUND, None));
        cases.push((Req::delete(&path), StatusCode::NOT_FOUND, None));
        cases.push((
            Req::post(&format!("{path}/components")).json(&json!({"product": "x"})),
            StatusCode::NOT_FOUND,
            None,
        ));
        cases.push((put(&format!("{path}/domains")).json(&json!({"domain_ids": []})), StatusCode::NOT_FOUND, None));
    }
    let js_before = app.store.get_asset(js_web).await.expect("js asset");
    refuse_all(&app, &gd_token, cases).await;
    assert_eq!(app.store.get_asset(js_web).await.expect("js asset"), js_before);
    // Within the province it works.
    let r = app
        .send(Req::post("/api/v1/assets").bearer(&gd_token).json(&asset("广州新系统", t.gz, t.gd_sec, json!({}))))
        .await;
    r.assert_status(StatusCode::CREATED);
}

#[tokio::test]
async fn components_domains_boundaries_and_accountability() {
    let app = App::new().await;
    let t = tree(&app).await;
    let analyst = app.token(Role::Analyst).to_owned();
    let firewall = create(&app, &analyst, asset("边界防火墙", t.gd, t.gd_sec, json!({"asset_type": "device"}))).await;
    let js_web = create(&app, &analyst, asset("江苏门户", t.js, t.js_sec, json!({}))).await;
    let (gd_token, _) = app.make_token("gd-analyst-bot", Role::Analyst, t.gd).await;
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;

    // Inventory lines.
    let components = format!("/api/v1/assets/{firewall}/components");
    let r =
        app.send(Req::post(&components).bearer(&analyst).json(&json!({"product": "nginx", "cpe": NGINX_CPE}))).await;
    r.assert_status(StatusCode::CREATED);
    let component = r.json()["id"].as_i64().expect("component id");
    assert_eq!((r.json()["kind"].as_str(), r.json()["cpe"].as_str()), (Some("software"), Some(NGINX_CPE)));
    let got = app.send(Req::get(&format!("/api/v1/assets/{firewall}")).bearer(&analyst)).await.json();
    assert_eq!(got["components"][0]["id"], component);
    refuse_all(
        &app,
        &analyst,
        vec![
            (Req::post(&components).json(&json!({"product": "x", "cpe": "cpe:2.3:a:x"})), unprocessable, Some("cpe")),
            (Req::post(&components).json(&json!({"product": "x", "kind": "plugin"})), unprocessable, Some("kind")),
            (Req::post(&components).json(&json!({"vendor": "x"})), unprocessable, Some("product")),
            (Req::post("/api/v1/assets/999999/components").json(&json!({"product": "x"})), StatusCode::NOT_FOUND, None),
            (Req::delete(&format!("/api/v1/assets/{js_web}/components/{component}")), StatusCode::NOT_FOUND, None),
        ],
    )
    .await;
    let one = format!("{components}/{component}");
    app.send(Req::delete(&one).bearer(&analyst)).await.assert_status(StatusCode::NO_CONTENT);
    app.send(Req::delete(&one).bearer(&analyst)).await.assert_status(StatusCode::NOT_FOUND);
    let kinds: Vec<String> = app
        .audit_with_action("asset.")
        .await
        .into_iter()
        .rev()
        .map(|e| e.action)
        .filter(|a| a.contains("component"))
        .collect();
    assert_eq!(kinds, ["asset.component_add", "asset.component_remove"]);

    // Security domains.
    let new_domain = |unit: i64, name: &str, zone: &str| json!({"org_unit_id": unit, "name": name, "zone_kind": zone});
    let domain = |token: String, body: Value| {
        let app = &app;
        async move {
            let r = app.send(Req::post("/api/v1/security-domains").bearer(&token).json(&body)).await;
            r.assert_status(StatusCode::CREATED);
            r.json()["id"].as_i64().expect("domain id")
        }
    };
    let core = domain(analyst.clone(), new_domain(t.gd, "核心区", "core")).await;
    let dmz = domain(gd_token.clone(), new_domain(t.gz, "DMZ", "dmz")).await;
    let js_dmz = domain(analyst.clone(), new_domain(t.js, "江苏DMZ", "dmz")).await;
    refuse_all(
        &app,
        &gd_token,
        vec![
            (
                Req::post("/api/v1/security-domains").json(&new_domain(t.js, "越界", "core")),
                unprocessable,
                Some("org_unit_id"),
            ),
            (
                Req::post("/api/v1/security-domains").json(&new_domain(t.gd, "核心区", "other")),
                StatusCode::CONFLICT,
                None,
            ),
            (
                Req::post("/api/v1/security-domains").json(&new_domain(t.gd, "x", "kitchen")),
                unprocessable,
                Some("zone_kind"),
            ),
            (Req::post("/api/v1/security-domains").json(&new_domain(t.gd, "", "core")), unprocessable, Some("name")),
            (Req::delete(&format!("/api/v1/security-domains/{js_dmz}")), StatusCode::NOT_FOUND, None),
        ],
    )
    .await;
    refuse_all(
        &app,
        app.token(Role::Responder),
        vec![(
            Req::post("/api/v1/security-domains").json(&new_domain(t.gd, "应急区", "other")),
            StatusCode::FORBIDDEN,
            None,
        )],
    )
    .await;

    // Membership: only domains within the caller's scope.
    let domains_of = format!("/api/v1/assets/{firewall}/domains");
    let r = app.send(put(&domains_of).bearer(&gd_token).json(&json!({"domain_ids": [dmz, core, dmz]}))).await;
    r.assert_status(StatusCode::OK);
    let mut both = vec![core, dmz];
    both.sort_unstable();
    assert_eq!(r.json(), json!({"domain_ids": both}));
    let got = app.send(Req::get(&format!("/api/v1/assets/{firewall}")).bearer(&gd_token)).await.json();
    assert_eq!(got["domain_ids"], json!(both));
    refuse_all(
        &app,
        &gd_token,
        vec![
            (put(&domains_of).json(&json!({"domain_ids": [core, js_dmz]})), unprocessable, Some("domain_ids")),
            (put(&domains_of).json(&json!({"domain_ids": [999_999]})), unprocessable, Some("domain_ids")),
            (put(&domains_of).json(&json!({"domain_ids": "all"})), unprocessable, Some("domain_ids")),
        ],
    )
    .await;
    let listed = app.send(Req::get("/api/v1/security-domains").bearer(&gd_token)).await;
    listed.assert_status(StatusCode::OK);
    assert_eq!(values(&listed, "name"), set(&["核心区", "DMZ"]), "only the province's domains");
    assert!(listed.json().as_array().expect("list").iter().all(|d| d["asset_count"] == 1));
    let everyone = app.send(Req::get("/api/v1/security-domains").bearer(&analyst)).await;
    assert_eq!(values(&everyone, "name"), set(&["核心区", "DMZ", "江苏DMZ"]));

    // Boundaries.
    let boundary = |a: i64, b: i64, device: Option<i64>| {
        Req::post("/api/v1/boundaries")
            .json(&json!({"domain_a": a, "domain_b": b, "device_asset_id": device, "controls": "ACL"}))
    };
    let r = app.send(boundary(core, dmz, Some(firewall)).bearer(&gd_token)).await;
    r.assert_status(StatusCode::CREATED);
    let guarded = r.json();
    assert_eq!((guarded["domain_a"].as_i64(), guarded["device_asset_id"].as_i64()), (Some(core), Some(firewall)));
    let r = app.send(boundary(dmz, js_dmz, None).bearer(&analyst)).await;
    r.assert_status(StatusCode::CREATED);
    let cross = r.json()["id"].as_i64().expect("boundary id");
    refuse_all(
        &app,
        &gd_token,
        vec![
            (boundary(core, core, None), unprocessable, Some("domain_b")),
            (boundary(core, js_dmz, None), unprocessable, Some("domain_b")),
            (boundary(js_dmz, core, None), unprocessable, Some("domain_a")),
            (boundary(core, dmz, Some(js_web)), unprocessable, Some("device_asset_id")),
            (Req::delete(&format!("/api/v1/boundaries/{cross}")), StatusCode::NOT_FOUND, None),
        ],
    )
    .await;
    let seen = app.send(Req::get("/api/v1/boundaries").bearer(&gd_token)).await;
    assert_eq!(
        values(&seen, "id"),
        set(&[guarded["id"].to_string().as_str()]),
        "only boundaries with both sides in scope"
    );
    assert_eq!(
        app.send(Req::get("/api/v1/boundaries").bearer(&analyst)).await.json().as_array().map(Vec::len),
        Some(2)
    );
    let path = format!("/api/v1/boundaries/{}", guarded["id"]);
    app.send(Req::delete(&path).bearer(&gd_token)).await.assert_status(StatusCode::NO_CONTENT);
    app.send(Req::delete(&path).bearer(&gd_token)).await.assert_status(StatusCode::NOT_FOUND);
    // Deleting a domain takes its boundaries and memberships with it.
    app.send(Req::delete(&format!("/api/v1/security-domains/{dmz}")).bearer(&gd_token))
        .await
        .assert_status(StatusCode::NO_CONTENT);
    assert_eq!(app.send(Req::get("/api/v1/boundaries").bearer(&analyst)).await.json(), json!([]));
    let got = app.send(Req::get(&format!("/api/v1/assets/{firewall}")).bearer(&analyst)).await.json();
    assert_eq!(got["domain_ids"], json!([core]));

    // Accountability.
    let record = json!({
        "leader_name": "陈总",
        "leader_title": "副总经理",
        "security_department_id": t.gd_sec,
        "staff": [{"name": "张伟", "post": "安全工程师", "certificate": "CISP"}, {"name": "李娜"}],
    });
    let r = app.send(put(&format!("/api/v1/accountability/{}", t.gd)).bearer(&gd_token).json(&record)).await;
    r.assert_status(StatusCode::OK);
    assert_eq!(r.json()["staff"][1], json!({"name": "李娜", "post": "", "certificate": ""}));
    let r = app
        .send(put(&format!("/api/v1/accountability/{}", t.js)).bearer(&analyst).json(&json!({"leader_name": "赵总"})))
        .await;
    r.assert_status(StatusCode::OK);
    let mine = app.send(Req::get("/api/v1/accountability").bearer(&gd_token)).await;
    mine.assert_status(StatusCode::OK);
    let mine = mine.json();
    assert_eq!(mine.as_array().map(Vec::len), Some(1), "only the province's record: {mine}");
    assert_eq!(mine[0]["org_unit_id"], t.gd);
    assert_eq!(mine[0]["leader_name"], "陈总");
    assert_eq!(mine[0]["security_department_id"], t.gd_sec);
    assert_eq!(mine[0]["staff"][0], json!({"name": "张伟", "post": "安全工程师", "certificate": "CISP"}));
    let all = app.send(Req::get("/api/v1/accountability").bearer(app.token(Role::Auditor))).await.json();
    assert_eq!(all.as_array().map(Vec::len), Some(2));
    // Replacing.
    let r = app
        .send(
            put(&format!("/api/v1/accountability/{}", t.gd))
                .bearer(&gd_token)
                .json(&json!({"leader_name": "周总", "staff": []})),
        )
        .await;
    r.assert_status(StatusCode::OK);
    let entry = &app.audit_with_action("accountability.set").await[0];
    assert_eq!(entry.before.as_ref().expect("before")["leader_name"], "陈总");
    assert_eq!(entry.after.as_ref().expect("after")["leader_name"], "周总");
    refuse_all(
        &app,
        &gd_token,
        vec![
            (put(&format!("/api/v1/accountability/{}", t.js)).json(&record), StatusCode::NOT_FOUND, None),
            (
                put(&format!("/api/v1/accountability/{}", t.gd)).json(&json!({"leader_title": "x"})),
                unprocessable,
                Some("leader_name"),
            ),
            (
                put(&format!("/api/v1/accountability/{}", t.gd)).json(&json!({"leader_name": " "})),
                unprocessable,
                Some("leader_name"),
            ),
            (
                put(&format!("/api/v1/accountability/{}", t.gd))
                    .json(&json!({"leader_name": "x", "security_department_id": t.js_sec})),
                unprocessable,
                Some("security_department_id"),
            ),
            (
                put(&format!("/api/v1/accountability/{}", t.gd))
                    .json(&json!({"leader_name": "x", "staff": [{"name": "x", "rank": 1}]})),
                unprocessable,
                Some("rank"),
            ),
        ],
    )
    .await;
    refuse_all(
        &app,
        app.token(Role::Responder),
        vec![(put(&format!("/api/v1/accountability/{}", t.gd)).json(&record), StatusCode::FORBIDDEN, None)],
    )
    .await;
    let chain = app.store.verify_audit().await.expect("verify");
    assert!(chain.intact(), "{:?}", chain.first_break);
}

#[tokio::test]
async fn govern_pages_show_and_create_assets() {
    let app = App::new().await;
    let t = tree(&app).await;
    let admin = app.token(Role::Admin).to_owned();
    let portal = create(
        &app,
        &admin,
        asset(
            "广东门户网站",
            t.gd,
            t.gd_sec,
            json!({"components": [{"product": "nginx", "version": "1.24.0", "cpe": NGINX_CPE}]}),
        ),
    )
    .await;
    let hostile =
        create(&app, &admin, asset(SCRIPT, t.gd, t.gd_sec, json!({"responsible_person": "<b>bold</b>"}))).await;
    let js_web = create(&app, &admin, asset("江苏门户", t.js, t.js_sec, json!({}))).await;
    let firewall = create(&app, &admin, asset("核心防火墙", t.gd, t.gd_sec, json!({"asset_type": "device"}))).await;

    // The list: names shown, and escaped.
    let page = |token: &str, path: &str| {
        let (app, req) = (&app, Req::get(path).bearer(token));
        async move {
            let r = app.send(req).await;
            r.assert_status(StatusCode::OK);
            assert!(r.content_type().starts_with("text/html"), "{r:?}");
            r.text()
        }
    };
    let html = page(&admin, "/govern/assets").await;
    for name in ["广东门户网站", "江苏门户", "核心防火墙", ESCAPED, "&lt;b&gt;bold&lt;/b&gt;"] {
        assert!(html.contains(name), "the list shows {name}");
    }
    assert!(!html.contains(SCRIPT) && !html.contains("<b>bold"), "the list holds raw markup");
    assert!(html.contains(&format!("href=\"/govern/assets/{portal}\"")));
    let found = page(&admin, "/govern/assets?q=%E9%97%A8%E6%88%B7&asset_type=&lifecycle=").await; // q=门户
    assert!(found.contains("广东门户网站") && found.contains("江苏门户") && !found.contains("核心防火墙"), "search");
    let escaped = page(&admin, "/govern/assets?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E").await;
    assert!(escaped.contains(ESCAPED) && !escaped.contains(SCRIPT), "the search box echoes escaped");
    let (gd_token, _) = app.make_token("gd-reader", Role::Responder, t.gd).await;
    let scoped = page(&gd_token, "/govern/assets").await;
    assert!(scoped.contains("广东门户网站") && !scoped.contains("江苏门户"), "the list is scoped");
    assert!(!scoped.contains("id=\"create-asset\""), "a responder gets no create form");
    app.send(Req::get(&format!("/govern/assets/{js_web}")).bearer(&gd_token))
        .await
        .assert_status(StatusCode::NOT_FOUND);

    // The detail page shows the inventory.
    let detail = page(&admin, &format!("/govern/assets/{portal}")).await;
    for shown in ["广东门户网站", "nginx", "1.24.0", NGINX_CPE, "张伟", "广东安全部"] {
        assert!(detail.contains(shown), "the detail page shows {shown}");
    }
    let hostile_detail = page(&admin, &format!("/govern/assets/{hostile}")).await;
    assert!(hostile_detail.contains(ESCAPED) && !hostile_detail.contains(SCRIPT));
    app.send(Req::get("/govern/assets/999999").bearer(&admin)).await.assert_status(StatusCode::NOT_FOUND);

    // Domains as a diagram.
    let mut domain_ids = Vec::new();
    for (unit, name, zone) in [(t.gd, "核心生产区", "core"), (t.gd, "互联网DMZ", "dmz"), (t.js, "江苏办公区", "office")]
    {
        let body = json!({"org_unit_id": unit, "name": name, "zone_kind": zone});
        let r = app.send(Req::post("/api/v1/security-domains").bearer(&admin).json(&body)).await;
        r.assert_status(StatusCode::CREATED);
        domain_ids.push(r.json()["id"].as_i64().expect("id"));
    }
    let body = json!({"domain_a": domain_ids[0], "domain_b": domain_ids[1], "device_asset_id": firewall});
    app.send(Req::post("/api/v1/boundaries").bearer(&admin).json(&body)).await.assert_status(StatusCode::CREATED);
    let html = page(&admin, "/govern/domains").await;
    let svg = &html[html.find("<svg").expect("the domains page has an <svg>")..];
    let svg = &svg[..svg.find("</svg>").expect("the svg is closed")];
    for name in ["核心生产区", "互联网DMZ", "江苏办公区", "核心防火墙"] {
        assert!(svg.contains(name), "the diagram names {name}");
    }
    assert!(svg.contains("<line"), "the boundary is drawn");
    let scoped = page(&gd_token, "/govern/domains").await;
    assert!(scoped.contains("核心生产区") && !scoped.contains("江苏办公区"), "the diagram is scoped");

    // Accountability.
    let record = json!({"leader_name": "陈建国", "leader_title": "副总经理", "staff": [{"name": "王芳", "post": "安全工程师", "certificate": "CISP"}]});
    app.send(put(&format!("/api/v1/accountability/{}", t.gd)).bearer(&admin).json(&record))
        .await
        .assert_status(StatusCode::OK);
    let html = page(&admin, "/govern/accountability").await;
    for shown in ["陈建国", "副总经理", "王芳", "CISP", "江苏公司"] {
        assert!(html.contains(shown), "the accountability page shows {shown}");
    }

    // A person creates an asset through the page form.
    app.make_user("gov.analyst", Role::Analyst, app.root, Vec::new()).await;
    let session = app.login("gov.analyst", PASSWORD).await;
    let form_page = app.send(Req::get("/govern/assets").session(&session)).await;
    form_page.assert_status(StatusCode::OK);
    let csrf = hidden_field(&form_page.text(), "_csrf").expect("the create form carries _csrf");
    assert_eq!(csrf, session.csrf);
    let (gd, gd_sec) = (t.gd.to_string(), t.gd_sec.to_string());
    let mut fields = vec![
        ("_csrf", csrf.as_str()),
        ("name", "表单创建的交换机"),
        ("asset_type", "device"),
        ("identifier", "10.9.9.9"),
        ("external_id", "FORM-1"),
        ("org_unit", gd.as_str()),
        ("responsible_department", gd_sec.as_str()),
        ("responsible_person", "刘洋"),
        ("operator_contact", ""),
        ("oncall_phone", "13800001111"),
        ("lifecycle", "live"),
        ("criticality", "high"),
        ("attr.device.vendor", "Huawei"),
        ("attr.device.model", ""),
        ("attr.website.url", "https://ignored.example.cn"),
    ];
    let before = asset_count(&app).await;
    let r = app.send(Req::post("/govern/assets").session(&session).form(&fields)).await;
    r.assert_status(StatusCode::SEE_OTHER);
    let location = r.location().expect("a redirect").to_owned();
    let created = app
        .store
        .list_assets(&AssetFilter { query: Some("FORM-1".into()), ..AssetFilter::default() })
        .await
        .expect("list")
        .pop()
        .expect("the form created the asset");
    assert!(
        location.starts_with(&format!("/govern/assets/{}?ok=", created.id)),
        "redirects to the new asset: {location}"
    );
    assert_eq!(asset_count(&app).await, before + 1);
    assert_eq!((created.org_unit_id, created.responsible_department_id), (t.gd, t.gd_sec));
    assert_eq!(
        created.attributes,
        [("vendor".to_owned(), "Huawei".to_owned())].into(),
        "only the chosen type's fields"
    );
    let entry = &app.audit_with_action("asset.create").await[0];
    assert_eq!((entry.actor.as_str(), entry.channel.as_str()), ("gov.analyst", "ui"));
    let shown = app.send(Req::get(&location).session(&session)).await;
    shown.assert_status(StatusCode::OK);
    assert!(shown.text().contains("表单创建的交换机") && shown.text().contains("Huawei"));

    // A form without the person goes back with the field named; one without
    // the CSRF field is refused. Neither writes.
    fields.retain(|(k, _)| *k != "responsible_person");
    fields.retain(|(k, _)| *k != "external_id");
    let r = app.send(Req::post("/govern/assets").session(&session).form(&fields)).await;
    r.assert_status(StatusCode::SEE_OTHER);
    let back = r.location().expect("a redirect");
    assert!(back.starts_with("/govern/assets?error=") && back.contains("responsible_person"), "{back}");
    let no_csrf: Vec<(&str, &str)> = fields.iter().copied().filter(|(k, _)| *k != "_csrf").collect();
    app.send(Req::post("/govern/assets").session(&session).form(&no_csrf)).await.assert_status(StatusCode::FORBIDDEN);
    assert_eq!(asset_count(&app).await, before + 1);
}
