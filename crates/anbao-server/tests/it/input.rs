//! Bad input: never a 5xx, always a 4xx that names the field at fault where
//! there is one, and a refused write changes nothing (no row, no audit
//! entry).

use anbao_model::{OrgKind, Role};
use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::harness::{App, PASSWORD, Req};

/// A write the server must refuse.
struct Case {
    what: &'static str,
    req: Req,
    status: StatusCode,
    field: Option<&'static str>,
}

fn case(what: &'static str, req: Req, status: u16, field: Option<&'static str>) -> Case {
    Case { what, req, status: StatusCode::from_u16(status).expect("status"), field }
}

/// Sends each case and checks status, error body, field and that nothing
/// was written.
async fn check_refused(app: &App, cases: Vec<Case>) {
    let mut failures = Vec::new();
    for c in cases {
        let before = app.counts().await;
        let r = app.send(c.req).await;
        let after = app.counts().await;
        if r.status != c.status {
            failures.push(format!("{}: want {}, got {r:?}", c.what, c.status));
            continue;
        }
        if !r.content_type().starts_with("application/json") {
            failures.push(format!("{}: error body is not JSON: {r:?}", c.what));
            continue;
        }
        let body = r.json();
        if body["status"] != c.status.as_u16() || body["error"].as_str().is_none_or(str::is_empty) {
            failures.push(format!("{}: error body lacks status/error: {body}", c.what));
        }
        if let Some(f) = c.field
            && body["field"] != f
        {
            failures.push(format!("{}: want field {f:?}, got {body}", c.what));
        }
        if before != after {
            failures.push(format!("{}: refused write changed the data: {before:?} -> {after:?}", c.what));
        }
    }
    assert!(failures.is_empty(), "{} bad-input cases failed:\n  {}", failures.len(), failures.join("\n  "));
}

#[tokio::test]
async fn malformed_and_invalid_json_bodies_are_refused_without_writes() {
    let app = App::new().await;
    let root = app.root;
    let unit = app.make_unit(root, "输入测试部", OrgKind::Department).await;
    let child = app.make_unit(unit, "子部门", OrgKind::Other).await;
    let analyst = app.make_user("wang.fang", Role::Analyst, unit, Vec::new()).await.id;
    let admin = app.token(Role::Admin).to_owned();
    let post = |path: &str| Req::post(path).bearer(&admin);
    let patch = |path: &str| Req::patch(path).bearer(&admin);
    let users = "/api/v1/users";
    let units = "/api/v1/org-units";
    let user_path = format!("/api/v1/users/{analyst}");
    let unit_path = format!("/api/v1/org-units/{unit}");
    let valid_user = |extra: serde_json::Value| {
        let mut v = json!({"username": "li.lei", "display_name": "李雷", "role": "analyst", "org_unit_id": unit, "password": PASSWORD});
        for (k, x) in extra.as_object().expect("object").clone() {
            v[k] = x;
        }
        v
    };
    let huge_name = "长".repeat(400_000); // 1.2 MB of UTF-8
    let nested = format!("{{\"parent_id\": {root}, \"name\": {}{}}}", "[".repeat(5000), "]".repeat(5000));
    let cases = vec![
        // Syntax and shape.
        case(
            "truncated JSON",
            post(units).raw("application/json", format!("{{\"parent_id\": {root}, \"name\": ")),
            400,
            None,
        ),
        case("empty body", post(units).raw("application/json", ""), 400, None),
        case("not UTF-8", post(units).raw("application/json", vec![b'{', 0xff, 0xfe, b'}']), 400, None),
        case("deeply nested value", post(units).raw("application/json", nested), 422, Some("name")),
        case("array instead of object", post(units).json(&json!([1, 2])), 422, None),
        case("null body", post(units).json(&json!(null)), 422, None),
        // Types, unknown and missing fields.
        case(
            "name is a number",
            post(units).json(&json!({"parent_id": root, "name": 5, "kind": "department"})),
            422,
            Some("name"),
        ),
        case(
            "parent_id is a string",
            post(units).json(&json!({"parent_id": "root", "name": "x", "kind": "department"})),
            422,
            Some("parent_id"),
        ),
        case(
            "parent_id is fractional",
            post(units).json(&json!({"parent_id": 1.5, "name": "x", "kind": "department"})),
            422,
            Some("parent_id"),
        ),
        case(
            "parent_id overflows",
            post(units).raw("application/json", r#"{"parent_id": 1e300, "name": "x", "kind": "department"}"#),
            422,
            Some("parent_id"),
        ),
        case(
            "unknown field",
            post(units).json(&json!({"parent_id": root, "name": "x", "kind": "department", "colour": "red"})),
            422,
            Some("colour"),
        ),
        case("missing field", post(units).json(&json!({"name": "x", "kind": "department"})), 422, Some("parent_id")),
        case(
            "unknown kind",
            post(units).json(&json!({"parent_id": root, "name": "x", "kind": "galaxy"})),
            422,
            Some("kind"),
        ),
        case(
            "empty name",
            post(units).json(&json!({"parent_id": root, "name": "  ", "kind": "department"})),
            422,
            Some("name"),
        ),
        case(
            "control character in name",
            post(units).json(&json!({"parent_id": root, "name": "a\u{0}b", "kind": "department"})),
            422,
            Some("name"),
        ),
        case(
            "name too long",
            post(units).json(&json!({"parent_id": root, "name": "x".repeat(201), "kind": "department"})),
            422,
            Some("name"),
        ),
        case(
            "parent does not exist",
            post(units).json(&json!({"parent_id": 999_999, "name": "x", "kind": "department"})),
            422,
            Some("parent_id"),
        ),
        case(
            "duplicate sibling name",
            post(units).json(&json!({"parent_id": root, "name": "输入测试部", "kind": "department"})),
            409,
            None,
        ),
        // Content type and size.
        case(
            "text/plain",
            post(units).raw("text/plain", json!({"parent_id": root, "name": "x", "kind": "department"}).to_string()),
            415,
            None,
        ),
        case(
            "no content type",
            post(units).raw("", json!({"parent_id": root, "name": "x", "kind": "department"}).to_string()),
            415,
            None,
        ),
        case(
            "form body to the API",
            post(units).form(&[("parent_id", "1"), ("name", "x"), ("kind", "department")]),
            415,
            None,
        ),
        case(
            "body over 1 MiB",
            post(units).json(&json!({"parent_id": root, "name": huge_name, "kind": "department"})),
            413,
            None,
        ),
        // Users.
        case("unknown role", post(users).json(&valid_user(json!({"role": "root"}))), 422, Some("role")),
        case("bad user name", post(users).json(&valid_user(json!({"username": "Li Lei"}))), 422, Some("username")),
        case("weak password", post(users).json(&valid_user(json!({"password": "short"}))), 422, Some("password")),
        case(
            "password holds user name",
            post(users).json(&valid_user(json!({"password": "li.lei-li.lei-2026"}))),
            422,
            Some("password"),
        ),
        case(
            "unit does not exist",
            post(users).json(&valid_user(json!({"org_unit_id": 999_999}))),
            422,
            Some("org_unit_id"),
        ),
        case(
            "grants for a non-regulator",
            post(users).json(&valid_user(json!({"grants": [unit]}))),
            422,
            Some("grants"),
        ),
        case(
            "grant does not exist",
            post(users).json(&valid_user(json!({"role": "regulator", "grants": [999_999]}))),
            422,
            Some("grants"),
        ),
        case(
            "grants not a list",
            post(users).json(&valid_user(json!({"role": "regulator", "grants": "all"}))),
            422,
            Some("grants"),
        ),
        case("taken user name", post(users).json(&valid_user(json!({"username": "wang.fang"}))), 409, None),
        case(
            "missing display_name",
            post(users).json(&json!({"username": "x1", "role": "analyst", "org_unit_id": unit, "password": PASSWORD})),
            422,
            Some("display_name"),
        ),
        case("patch: disabled is a string", patch(&user_path).json(&json!({"disabled": "yes"})), 422, Some("disabled")),
        case("patch: unknown field", patch(&user_path).json(&json!({"password": PASSWORD})), 422, Some("password")),
        case("patch: grants on analyst", patch(&user_path).json(&json!({"grants": [unit]})), 422, Some("grants")),
        case(
            "patch: empty display name",
            patch(&user_path).json(&json!({"display_name": ""})),
            422,
            Some("display_name"),
        ),
        case(
            "patch: demote last admin",
            patch(&format!("/api/v1/users/{}", app.admin_id)).json(&json!({"role": "analyst"})),
            409,
            None,
        ),
        case(
            "patch: disable last admin",
            patch(&format!("/api/v1/users/{}", app.admin_id)).json(&json!({"disabled": true})),
            409,
            None,
        ),
        case("patch: no such user", patch("/api/v1/users/999999").json(&json!({"display_name": "x"})), 404, None),
        case(
            "set password: too short",
            post(&format!("{user_path}/password")).json(&json!({"password": "short"})),
            422,
            Some("password"),
        ),
        case("set password: missing", post(&format!("{user_path}/password")).json(&json!({})), 422, Some("password")),
        // Organisation units.
        case(
            "patch unit: under its own child",
            patch(&unit_path).json(&json!({"parent_id": child})),
            422,
            Some("parent_id"),
        ),
        case("patch unit: under itself", patch(&unit_path).json(&json!({"parent_id": unit})), 422, Some("parent_id")),
        case(
            "patch unit: move the root",
            patch(&format!("/api/v1/org-units/{root}")).json(&json!({"parent_id": unit})),
            422,
            Some("parent_id"),
        ),
        // serde_json reports a non-string enum as a syntax error, hence 400.
        case("patch unit: kind is a number", patch(&unit_path).json(&json!({"kind": 7})), 400, Some("kind")),
        case("delete unit with children", Req::delete(&unit_path).bearer(&admin), 409, None),
        case("delete the root", Req::delete(&format!("/api/v1/org-units/{root}")).bearer(&admin), 409, None),
        // Tokens.
        case(
            "token: bad expiry",
            post("/api/v1/tokens").json(&json!({"name": "ci", "role": "analyst", "expires_at": "tomorrow"})),
            422,
            Some("expires_at"),
        ),
        case(
            "token: empty name",
            post("/api/v1/tokens").json(&json!({"name": "", "role": "analyst"})),
            422,
            Some("name"),
        ),
        case(
            "token: unknown role",
            post("/api/v1/tokens").json(&json!({"name": "ci", "role": "god"})),
            422,
            Some("role"),
        ),
        case(
            "token: no such unit",
            post("/api/v1/tokens").json(&json!({"name": "ci", "role": "analyst", "org_unit_id": 999_999})),
            422,
            Some("org_unit_id"),
        ),
        case("revoke: no such token", Req::delete("/api/v1/tokens/999999").bearer(&admin), 404, None),
    ];
    check_refused(&app, cases).await;

    // The same bodies, made valid, go through: the refusals above were about
    // the input, not the route. A charset parameter is fine too.
    let ok = app
        .send(post(units).raw(
            "application/json; charset=utf-8",
            json!({"parent_id": root, "name": "新部门", "kind": "department"}).to_string(),
        ))
        .await;
    ok.assert_status(StatusCode::CREATED);
}

#[tokio::test]
async fn bad_path_ids_are_400_and_missing_ids_404() {
    let app = App::new().await;
    let admin = app.token(Role::Admin).to_owned();
    let mut cases = Vec::new();
    for (method, path) in [
        (Method::GET, "/api/v1/users/abc"),
        (Method::PATCH, "/api/v1/users/abc"),
        (Method::POST, "/api/v1/users/abc/password"),
        (Method::GET, "/api/v1/org-units/1.5"),
        (Method::PATCH, "/api/v1/org-units/x"),
        (Method::DELETE, "/api/v1/org-units/%20"),
        (Method::DELETE, "/api/v1/tokens/abc"),
        (Method::GET, "/api/v1/users/99999999999999999999"),
    ] {
        let req = Req::new(method.clone(), path).bearer(&admin);
        let req = if method == Method::GET || method == Method::DELETE { req } else { req.json(&json!({})) };
        cases.push(case("non-numeric id", req, 400, None));
    }
    for path in ["/api/v1/users/-1", "/api/v1/users/0", "/api/v1/org-units/999999"] {
        cases.push(case("no such object", Req::get(path).bearer(&admin), 404, None));
    }
    cases.push(case("no such endpoint", Req::get("/api/v1/nothing").bearer(&admin), 404, None));
    check_refused(&app, cases).await;

    // Pages answer bad ids with 400 too, never 500.
    for path in ["/admin/users/abc", "/admin/users/1e3"] {
        let r = app.send(Req::get(path).bearer(&admin)).await;
        r.assert_status(StatusCode::BAD_REQUEST);
    }
    let r = app.send(Req::post("/admin/org-units/abc/delete").bearer(&admin).form(&[])).await;
    r.assert_status(StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn bad_query_parameters_are_refused_and_name_the_field() {
    let app = App::new().await;
    let admin = app.token(Role::Admin).to_owned();
    let get = |p: &str| Req::get(p).bearer(&admin);
    let cases = vec![
        case("limit not a number", get("/api/v1/audit?limit=abc"), 400, Some("limit")),
        case("before_seq not a number", get("/api/v1/audit?before_seq=x"), 400, Some("before_seq")),
        case("unknown parameter", get("/api/v1/audit?colour=red"), 400, Some("colour")),
        case("since garbage", get("/api/v1/audit?since=garbage"), 422, Some("since")),
        case("until garbage", get("/api/v1/audit?until=last%20tuesday"), 422, Some("until")),
        case("export: bad format", get("/api/v1/audit/export?format=xml"), 422, Some("format")),
        case("export: since garbage", get("/api/v1/audit/export?format=csv&since=garbage"), 422, Some("since")),
        case("users: unknown role", get("/api/v1/users?role=root"), 400, Some("role")),
        case("users: limit overflows", get("/api/v1/users?limit=99999999999999999999"), 400, Some("limit")),
        case("users: offset not a number", get("/api/v1/users?offset=first"), 400, Some("offset")),
        case("users: unknown parameter", get("/api/v1/users?sort=name"), 400, Some("sort")),
    ];
    // A refused export must not be audited either (check_refused compares counts).
    check_refused(&app, cases).await;

    // Out-of-range but well-formed numbers are clamped, not refused.
    for p in [
        "/api/v1/audit?limit=0",
        "/api/v1/audit?limit=-5",
        "/api/v1/audit?limit=999999999",
        "/api/v1/users?limit=-1&offset=-9",
    ] {
        app.send(get(p)).await.assert_status(StatusCode::OK);
    }
    let r = app.send(get("/api/v1/audit?limit=1")).await;
    assert_eq!(r.json().as_array().map(Vec::len), Some(1), "limit=1 gives one entry");
    // Dates as well as instants are accepted.
    app.send(get("/api/v1/audit?since=2020-01-01&until=2999-12-31")).await.assert_status(StatusCode::OK);
    app.send(get("/api/v1/audit?since=2020-01-01T00:00:00Z")).await.assert_status(StatusCode::OK);
    // The audit page refuses the same way rather than failing.
    let r = app.send(get("/audit?limit=abc")).await;
    assert!(r.status.is_client_error(), "{r:?}");
}

#[tokio::test]
async fn bad_page_forms_are_refused_without_writes() {
    let app = App::new().await;
    let admin = app.token(Role::Admin).to_owned();
    let post = |p: &str| Req::post(p).bearer(&admin);
    let root = app.root.to_string();
    let unit = app.make_unit(app.root, "表单测试部", OrgKind::Department).await;
    let unit_path = format!("/admin/org-units/{unit}");
    let huge = "x".repeat(2 * 1024 * 1024);
    let cases = vec![
        case(
            "unit: unknown kind",
            post("/admin/org-units").form(&[("parent_id", &root), ("name", "x"), ("kind", "galaxy")]),
            422,
            Some("kind"),
        ),
        case(
            "unit: parent not a number",
            post("/admin/org-units").form(&[("parent_id", "abc"), ("name", "x"), ("kind", "department")]),
            422,
            Some("parent_id"),
        ),
        case(
            "unit: missing name",
            post("/admin/org-units").form(&[("parent_id", &root), ("kind", "department")]),
            422,
            Some("name"),
        ),
        case(
            "unit: JSON to a form route",
            post("/admin/org-units").json(&json!({"parent_id": 1, "name": "x", "kind": "department"})),
            415,
            None,
        ),
        case(
            "unit: form over 1 MiB",
            post("/admin/org-units").form(&[("parent_id", &root), ("name", &huge), ("kind", "department")]),
            413,
            None,
        ),
        case(
            "unit update: unknown kind",
            post(&unit_path).form(&[("name", "x"), ("kind", "galaxy")]),
            422,
            Some("kind"),
        ),
        case(
            "token: unknown role",
            post("/admin/tokens").form(&[("name", "x"), ("role", "god"), ("org_unit_id", &root)]),
            422,
            Some("role"),
        ),
    ];
    check_refused(&app, cases).await;

    // Invalid values the store rejects come back as a message on the page,
    // again without a write.
    let before = app.counts().await;
    for form in [
        vec![
            ("username", "Bad Name"),
            ("display_name", "x"),
            ("role", "analyst"),
            ("org_unit_id", root.as_str()),
            ("password", PASSWORD),
        ],
        vec![
            ("username", "ok.name"),
            ("display_name", "x"),
            ("role", "root"),
            ("org_unit_id", root.as_str()),
            ("password", PASSWORD),
        ],
        vec![
            ("username", "ok.name"),
            ("display_name", "x"),
            ("role", "analyst"),
            ("org_unit_id", "abc"),
            ("password", PASSWORD),
        ],
        vec![
            ("username", "ok.name"),
            ("display_name", "x"),
            ("role", "analyst"),
            ("org_unit_id", root.as_str()),
            ("password", "short"),
        ],
    ] {
        let r = app.send(post("/admin/users").form(&form)).await;
        r.assert_status(StatusCode::SEE_OTHER);
        assert!(r.location().is_some_and(|l| l.starts_with("/admin/users?error=")), "{r:?}");
    }
    assert_eq!(app.counts().await, before, "refused user forms wrote something");
}

/// Values that end up in a `Location` header must not turn into a 500 when
/// they hold characters a header cannot carry.
#[tokio::test]
async fn redirect_targets_with_control_characters_do_not_fail() {
    let app = App::new().await;
    let admin = app.token(Role::Admin).to_owned();
    for req in [Req::get("/lang?set=en&next=/%0d%0aSet-Cookie:%20x=y"), Req::get("/login?next=/%0aevil").bearer(&admin)]
    {
        let r = app.send(req).await;
        assert!(!r.status.is_server_error(), "{r:?}");
        assert!(r.location().is_none_or(|l| !l.contains('\n') && !l.contains('\r')), "{r:?}");
    }
}
