//! Data scope: a principal sees and changes only its organisation subtree
//! (a regulator: the subtrees it is granted). Objects outside it answer as
//! if they did not exist (404), and naming them in a body is a 422 on the
//! field; nothing outside is ever changed.

use std::collections::BTreeSet;

use anbao_model::{OrgKind, Role};
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::harness::{App, PASSWORD, Req, Resp};

/// The tree: root ─┬─ 广东 ── 广州
///                 └─ 江苏
struct Tree {
    gd: i64,
    gz: i64,
    js: i64,
    gz_user: i64,
    js_user: i64,
    regulator: i64,
}

async fn tree(app: &App) -> Tree {
    let gd = app.make_unit(app.root, "广东公司", OrgKind::Province).await;
    let gz = app.make_unit(gd, "广州分公司", OrgKind::City).await;
    let js = app.make_unit(app.root, "江苏公司", OrgKind::Province).await;
    let gz_user = app.make_user("gz.analyst", Role::Analyst, gz, Vec::new()).await.id;
    let js_user = app.make_user("js.analyst", Role::Analyst, js, Vec::new()).await.id;
    let regulator = app.make_user("gd.regulator", Role::Regulator, app.root, vec![gd]).await.id;
    Tree { gd, gz, js, gz_user, js_user, regulator }
}

/// The values of `key` across a JSON list, as JSON text.
fn ids(r: &Resp, key: &str) -> BTreeSet<String> {
    r.json().as_array().expect("a list").iter().map(|v| v[key].to_string()).collect()
}

fn set<const N: usize>(values: [Value; N]) -> BTreeSet<String> {
    values.iter().map(Value::to_string).collect()
}

#[tokio::test]
async fn a_regulator_sees_only_the_granted_subtree() {
    let app = App::new().await;
    let t = tree(&app).await;
    let (token, _) = app.make_token("gd-regulator-bot", Role::Regulator, t.gd).await;
    let session = app.login("gd.regulator", PASSWORD).await;
    let me = app.send(Req::get("/api/v1/me").session(&session)).await.json();
    let scope: BTreeSet<i64> = me["scope"].as_array().expect("scope").iter().filter_map(Value::as_i64).collect();
    assert_eq!(scope, [t.gd, t.gz].into_iter().collect(), "a regulator's scope is its grants, not its home unit");

    for who in ["token", "session"] {
        let req = |path: &str| match who {
            "token" => Req::get(path).bearer(&token),
            _ => Req::get(path).session(&session),
        };
        let users = app.send(req("/api/v1/users")).await;
        users.assert_status(StatusCode::OK);
        assert_eq!(ids(&users, "username"), set([json!("gz.analyst")]), "{who}: users in scope");
        let units = app.send(req("/api/v1/org-units")).await;
        assert_eq!(ids(&units, "id"), set([json!(t.gd), json!(t.gz)]), "{who}: units in scope");
        for path in [
            format!("/api/v1/users/{}", t.js_user),
            format!("/api/v1/users/{}", app.admin_id),
            format!("/api/v1/users/{}", t.regulator),
            format!("/api/v1/org-units/{}", t.js),
            format!("/api/v1/org-units/{}", app.root),
            format!("/admin/users/{}", t.js_user),
        ] {
            app.send(req(&path)).await.assert_status(StatusCode::NOT_FOUND);
        }
        app.send(req(&format!("/api/v1/users/{}", t.gz_user))).await.assert_status(StatusCode::OK);
        app.send(req(&format!("/api/v1/org-units/{}", t.gz))).await.assert_status(StatusCode::OK);
        // The pages list only what is in scope as well.
        let page = app.send(req("/admin/users")).await.text();
        assert!(
            page.contains("gz.analyst") && !page.contains("js.analyst") && !page.contains(">admin<"),
            "{who}: users page"
        );
        let page = app.send(req("/admin/org-units")).await.text();
        assert!(page.contains("广州分公司") && !page.contains("江苏公司"), "{who}: units page");
        // Filters cannot widen the scope.
        let r = app.send(req("/api/v1/users?q=js")).await;
        assert_eq!(r.json(), json!([]), "{who}: search stays in scope");
    }
}

#[tokio::test]
async fn a_provincial_admin_cannot_touch_anything_outside_its_province() {
    let app = App::new().await;
    let t = tree(&app).await;
    let (gd_admin, _) = app.make_token("gd-admin-bot", Role::Admin, t.gd).await;
    let (_, js_token) = app.make_token("js-bot", Role::Analyst, t.js).await;
    let root_admin_token = app
        .store
        .list_tokens()
        .await
        .expect("tokens")
        .into_iter()
        .find(|t| t.name == "admin-bot")
        .expect("admin-bot")
        .id;
    let js_before = app.store.get_user(t.js_user).await.expect("js user");
    let units_before = app.store.list_org_units().await.expect("units");

    let outside_users = [t.js_user, app.admin_id, t.regulator];
    let mut refused: Vec<(Req, StatusCode, Option<&str>)> = Vec::new();
    for id in outside_users {
        refused.push((Req::get(&format!("/api/v1/users/{id}")), StatusCode::NOT_FOUND, None));
        refused.push((
            Req::patch(&format!("/api/v1/users/{id}")).json(&json!({"display_name": "hacked"})),
            StatusCode::NOT_FOUND,
            None,
        ));
        refused.push((
            Req::patch(&format!("/api/v1/users/{id}")).json(&json!({"disabled": true})),
            StatusCode::NOT_FOUND,
            None,
        ));
        refused.push((
            Req::post(&format!("/api/v1/users/{id}/password")).json(&json!({"password": "taken over by gd"})),
            StatusCode::NOT_FOUND,
            None,
        ));
        refused.push((Req::get(&format!("/admin/users/{id}")), StatusCode::NOT_FOUND, None));
        refused.push((
            Req::post(&format!("/admin/users/{id}")).form(&[("display_name", "hacked")]),
            StatusCode::NOT_FOUND,
            None,
        ));
        refused.push((
            Req::post(&format!("/admin/users/{id}/password")).form(&[("password", "taken over by gd")]),
            StatusCode::NOT_FOUND,
            None,
        ));
    }
    for id in [t.js, app.root] {
        refused.push((Req::get(&format!("/api/v1/org-units/{id}")), StatusCode::NOT_FOUND, None));
        refused.push((
            Req::patch(&format!("/api/v1/org-units/{id}")).json(&json!({"name": "hacked"})),
            StatusCode::NOT_FOUND,
            None,
        ));
        refused.push((Req::delete(&format!("/api/v1/org-units/{id}")), StatusCode::NOT_FOUND, None));
        refused.push((
            Req::post(&format!("/admin/org-units/{id}")).form(&[("name", "hacked"), ("kind", "other")]),
            StatusCode::NOT_FOUND,
            None,
        ));
        refused.push((Req::post(&format!("/admin/org-units/{id}/delete")).form(&[]), StatusCode::NOT_FOUND, None));
    }
    for id in [js_token, root_admin_token] {
        refused.push((Req::delete(&format!("/api/v1/tokens/{id}")), StatusCode::NOT_FOUND, None));
        refused.push((Req::post(&format!("/admin/tokens/{id}/revoke")).form(&[]), StatusCode::NOT_FOUND, None));
    }
    // Naming an outside unit in a body.
    let unit = |extra: Value| {
        let mut v = json!({"parent_id": t.gd, "name": "新部门", "kind": "department"});
        for (k, x) in extra.as_object().expect("object").clone() {
            v[k] = x;
        }
        v
    };
    let user = |extra: Value| {
        let mut v = json!({"username": "new.user", "display_name": "新用户", "role": "analyst", "org_unit_id": t.gz, "password": PASSWORD});
        for (k, x) in extra.as_object().expect("object").clone() {
            v[k] = x;
        }
        v
    };
    let bodies: Vec<(Req, &str)> = vec![
        (Req::post("/api/v1/org-units").json(&unit(json!({"parent_id": t.js}))), "parent_id"),
        (Req::post("/api/v1/org-units").json(&unit(json!({"parent_id": app.root}))), "parent_id"),
        (Req::patch(&format!("/api/v1/org-units/{}", t.gz)).json(&json!({"parent_id": t.js})), "parent_id"),
        (Req::patch(&format!("/api/v1/org-units/{}", t.gd)).json(&json!({"parent_id": t.js})), "parent_id"),
        (Req::post("/api/v1/users").json(&user(json!({"org_unit_id": t.js}))), "org_unit_id"),
        (Req::post("/api/v1/users").json(&user(json!({"org_unit_id": app.root, "role": "admin"}))), "org_unit_id"),
        (Req::post("/api/v1/users").json(&user(json!({"role": "regulator", "grants": [t.js]}))), "grants"),
        (Req::patch(&format!("/api/v1/users/{}", t.gz_user)).json(&json!({"org_unit_id": t.js})), "org_unit_id"),
        (
            Req::patch(&format!("/api/v1/users/{}", t.gz_user))
                .json(&json!({"role": "regulator", "grants": [app.root]})),
            "grants",
        ),
        (
            Req::post("/api/v1/tokens").json(&json!({"name": "escape", "role": "admin", "org_unit_id": app.root})),
            "org_unit_id",
        ),
        (
            Req::post("/api/v1/tokens").json(&json!({"name": "escape", "role": "admin", "org_unit_id": t.js})),
            "org_unit_id",
        ),
    ];
    for (req, field) in bodies {
        refused.push((req, StatusCode::UNPROCESSABLE_ENTITY, Some(field)));
    }

    let mut failures = Vec::new();
    for (req, want, field) in refused {
        let before = app.counts().await;
        let r = app.send(req.bearer(&gd_admin)).await;
        let after = app.counts().await;
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
    assert!(failures.is_empty(), "{} scope violations:\n  {}", failures.len(), failures.join("\n  "));
    assert_eq!(app.store.get_user(t.js_user).await.expect("js user"), js_before, "the outside user is unchanged");
    assert_eq!(app.store.list_org_units().await.expect("units"), units_before, "the tree is unchanged");

    // Within the province the same admin works normally.
    let r = app.send(Req::post("/api/v1/org-units").bearer(&gd_admin).json(&unit(json!({})))).await;
    r.assert_status(StatusCode::CREATED);
    let r = app
        .send(Req::patch(&format!("/api/v1/users/{}", t.gz_user)).bearer(&gd_admin).json(&json!({"org_unit_id": t.gd})))
        .await;
    r.assert_status(StatusCode::OK);
    let r = app
        .send(Req::post("/api/v1/tokens").bearer(&gd_admin).json(&json!({"name": "gd-ci", "role": "analyst"})))
        .await;
    r.assert_status(StatusCode::CREATED);
    assert_eq!(r.json()["org_unit_id"], t.gd, "a token defaults to its creator's unit");
    let tokens = app.send(Req::get("/api/v1/tokens").bearer(&gd_admin)).await;
    let units = ids(&tokens, "org_unit_id");
    assert_eq!(units, set([json!(t.gd)]), "only the province's tokens are listed");
    let users = app.send(Req::get("/api/v1/users").bearer(&gd_admin)).await;
    assert_eq!(ids(&users, "username"), set([json!("gz.analyst")]));
}

#[tokio::test]
async fn a_provincial_auditor_reads_only_its_provinces_audit_entries() {
    let app = App::new().await;
    let gd = app.make_unit(app.root, "广东公司", OrgKind::Province).await;
    let js = app.make_unit(app.root, "江苏公司", OrgKind::Province).await;
    let admin = app.token(Role::Admin).to_owned();
    for (id, name) in [(gd, "广东省公司"), (js, "江苏省公司")] {
        let r =
            app.send(Req::patch(&format!("/api/v1/org-units/{id}")).bearer(&admin).json(&json!({"name": name}))).await;
        r.assert_status(StatusCode::OK);
    }
    let (auditor, _) = app.make_token("gd-auditor", Role::Auditor, gd).await;
    let entries = app.send(Req::get("/api/v1/audit?limit=1000").bearer(&auditor)).await;
    entries.assert_status(StatusCode::OK);
    let units = ids(&entries, "org_unit_id");
    assert!(!units.is_empty(), "the province has entries");
    assert_eq!(units, set([json!(gd)]), "a provincial auditor sees only its province's entries");
    let csv = app.send(Req::get("/api/v1/audit/export?format=csv").bearer(&auditor)).await.text();
    assert!(csv.contains("广东省公司") && !csv.contains("江苏省公司"), "exports are scoped too:\n{csv}");
    let page = app.send(Req::get("/audit").bearer(&auditor)).await.text();
    assert!(page.contains("广东省公司") && !page.contains("江苏省公司"), "the audit page is scoped too");
}

/// A provincial admin may see a regulator who lives in its province, but
/// may not change one granted units beyond it: a new password would hand
/// that admin the regulator's wider view.
#[tokio::test]
async fn a_provincial_admin_cannot_take_over_a_regulator_with_wider_grants() {
    let app = App::new().await;
    let t = tree(&app).await;
    let wide = app.make_user("wide.regulator", Role::Regulator, t.gd, vec![t.gd, t.js]).await;
    let (gd_admin, _) = app.make_token("gd-admin-bot", Role::Admin, t.gd).await;
    let before = app.counts().await;

    app.send(Req::get(&format!("/api/v1/users/{}", wide.id)).bearer(&gd_admin)).await.assert_status(StatusCode::OK);
    let attempts = [
        Req::post(&format!("/api/v1/users/{}/password", wide.id))
            .json(&json!({ "password": "a brand new passphrase" })),
        Req::patch(&format!("/api/v1/users/{}", wide.id)).json(&json!({ "display_name": "taken over" })),
        Req::post(&format!("/admin/users/{}/password", wide.id)).form(&[("password", "a brand new passphrase")]),
        Req::post(&format!("/admin/users/{}", wide.id)).form(&[("display_name", "taken over"), ("role", "regulator")]),
    ];
    for req in attempts {
        app.send(req.bearer(&gd_admin)).await.assert_status(StatusCode::FORBIDDEN);
    }
    assert_eq!(app.counts().await, before, "nothing changed");
    assert_eq!(app.store.get_user(wide.id).await.expect("user").display_name, wide.display_name);
    // The root admin still can.
    let root = app.token(Role::Admin).to_owned();
    app.send(
        Req::patch(&format!("/api/v1/users/{}", wide.id)).bearer(&root).json(&json!({ "display_name": "renamed" })),
    )
    .await
    .assert_status(StatusCode::OK);
}
