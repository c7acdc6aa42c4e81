//! What every case shares: a fresh application on its own SQLite file, API
//! tokens for each role, a small request builder over `oneshot`, response
//! helpers, a real browser-style login, and snapshots of the row counts that
//! failed writes must leave alone.

use std::collections::BTreeMap;

use anbao_model::{OrgKind, Role};
use anbao_server::{AppState, ServerConfig};
use anbao_store::{Actor, NewOrgUnit, NewToken, NewUser, Sealer, Store, StoreOptions, User};
use axum::Router;
use axum::body::{Body, Bytes, to_bytes};
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use serde_json::Value;
use tempfile::TempDir;
use tower::ServiceExt;

/// A password every fixture user gets; passes the strength rules.
pub const PASSWORD: &str = "correct horse battery staple";

/// Name of the root unit `bootstrap` creates.
pub const ROOT_NAME: &str = "集团公司";

/// One application on its own database.
pub struct App {
    pub store: Store,
    pub router: Router,
    /// The bootstrap administrator's generated password.
    pub admin_password: String,
    pub admin_id: i64,
    pub root: i64,
    /// A bearer secret per role, each scoped to the root unit.
    pub tokens: BTreeMap<Role, String>,
    _dir: TempDir,
}

impl App {
    pub async fn new() -> App {
        App::with_config(ServerConfig::default()).await
    }

    pub async fn with_config(config: ServerConfig) -> App {
        App::with_clock(config, std::sync::Arc::new(anbao_model::clock::SystemClock)).await
    }

    /// An application whose store reads `clock` (tests move time by hand).
    pub async fn with_clock(config: ServerConfig, clock: std::sync::Arc<dyn anbao_model::clock::Clock>) -> App {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = anbao_store::sqlite_url(&dir.path().join("t.db"));
        let sealer = Sealer::from_hex(&Sealer::generate_key_hex()).expect("sealing key");
        let mut options = StoreOptions::new(sealer);
        options.clock = clock;
        let store = Store::open(&url, options).await.expect("open store");
        let admin_password =
            store.bootstrap(ROOT_NAME).await.expect("bootstrap").expect("fresh database creates admin");
        let root = store.root_org_unit().await.expect("root unit").expect("bootstrap made a root").id;
        let admin_id = store.get_user_by_username("admin").await.expect("read admin").expect("admin exists").id;
        let mut tokens = BTreeMap::new();
        for role in Role::ALL {
            let (secret, _) = store
                .create_token(
                    &Actor::system(),
                    &NewToken { name: format!("{role}-bot"), role, org_unit_id: root, expires_at: None },
                )
                .await
                .expect("create token");
            tokens.insert(role, secret);
        }
        let router = anbao_server::router(AppState::new(store.clone(), config));
        App { store, router, admin_password, admin_id, root, tokens, _dir: dir }
    }

    /// The root-scoped bearer secret for `role`.
    pub fn token(&self, role: Role) -> &str {
        &self.tokens[&role]
    }

    /// A new token; returns its secret and id.
    pub async fn make_token(&self, name: &str, role: Role, unit: i64) -> (String, i64) {
        let (secret, t) = self
            .store
            .create_token(&Actor::system(), &NewToken { name: name.into(), role, org_unit_id: unit, expires_at: None })
            .await
            .expect("create token");
        (secret, t.id)
    }

    pub async fn make_unit(&self, parent: i64, name: &str, kind: OrgKind) -> i64 {
        self.store
            .create_org_unit(
                &Actor::system(),
                &NewOrgUnit { parent_id: Some(parent), name: name.into(), kind, code: String::new() },
            )
            .await
            .expect("create unit")
            .id
    }

    /// A user with [`PASSWORD`] who need not change it. Costs one argon2 hash.
    pub async fn make_user(&self, username: &str, role: Role, unit: i64, grants: Vec<i64>) -> User {
        self.store
            .create_user(
                &Actor::system(),
                &NewUser {
                    username: username.into(),
                    display_name: format!("{username} display"),
                    email: String::new(),
                    phone: String::new(),
                    role,
                    org_unit_id: unit,
                    password: PASSWORD.into(),
                    grants,
                    must_change_password: false,
                },
            )
            .await
            .expect("create user")
    }

    pub async fn send(&self, req: Req) -> Resp {
        let request = req.build();
        let method = request.method().clone();
        let uri = request.uri().to_string();
        let response = self.router.clone().oneshot(request).await.expect("the router is infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let body = to_bytes(response.into_body(), usize::MAX).await.expect("read response body");
        Resp { method, uri, status, headers, body }
    }

    /// Sends a request and hands back the response with its body unread,
    /// for streams (server-sent events) that do not end by themselves.
    pub async fn open(&self, req: Req) -> axum::response::Response {
        self.router.clone().oneshot(req.build()).await.expect("the router is infallible")
    }

    pub async fn counts(&self) -> Counts {
        let s = &self.store;
        Counts {
            audit: s.count_audit().await.expect("count audit"),
            users: s.count_users().await.expect("count users"),
            units: s.list_org_units().await.expect("list units").len(),
            tokens: s.list_tokens().await.expect("list tokens").len(),
        }
    }

    /// Audit entries (newest first) with this action.
    pub async fn audit_with_action(&self, action: &str) -> Vec<anbao_store::AuditEntry> {
        let filter = anbao_store::AuditFilter { action: Some(action.into()), limit: 1000, ..Default::default() };
        self.store.list_audit(&filter).await.expect("list audit")
    }

    /// GET /login: the double-submit pair (cookie value, form field value).
    pub async fn login_form(&self) -> (String, String) {
        let r = self.send(Req::get("/login")).await;
        r.assert_status(StatusCode::OK);
        let cookie = r.cookie("anbao_login").expect("GET /login sets anbao_login");
        let field = hidden_field(&r.text(), "_login_csrf").expect("login form has _login_csrf");
        (cookie, field)
    }

    /// POST /login with a valid double-submit pair; returns the raw answer.
    pub async fn post_login(&self, username: &str, password: &str, next: &str) -> Resp {
        let (cookie, field) = self.login_form().await;
        self.send(Req::post("/login").cookie("anbao_login", &cookie).form(&[
            ("_login_csrf", field.as_str()),
            ("username", username),
            ("password", password),
            ("next", next),
        ]))
        .await
    }

    /// Logs in through the real routes and returns the session.
    pub async fn login(&self, username: &str, password: &str) -> Session {
        let r = self.post_login(username, password, "/").await;
        r.assert_status(StatusCode::SEE_OTHER);
        let cookie = r.cookie("anbao_session").expect("login sets anbao_session");
        let me = self.send(Req::get("/api/v1/me").cookie("anbao_session", &cookie)).await;
        me.assert_status(StatusCode::OK);
        let csrf = me.json()["csrf_token"].as_str().expect("session callers get csrf_token").to_owned();
        Session { cookie, csrf }
    }
}

/// A logged-in browser: its session cookie and CSRF token.
#[derive(Clone, Debug)]
pub struct Session {
    pub cookie: String,
    pub csrf: String,
}

/// Row counts that a refused write must not change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Counts {
    pub audit: i64,
    pub users: i64,
    pub units: usize,
    pub tokens: usize,
}

/// A request under construction.
pub struct Req {
    method: Method,
    uri: String,
    headers: Vec<(String, String)>,
    cookies: Vec<(String, String)>,
    body: Body,
}

impl Req {
    pub fn new(method: Method, uri: &str) -> Req {
        Req { method, uri: uri.to_owned(), headers: Vec::new(), cookies: Vec::new(), body: Body::empty() }
    }
    pub fn get(uri: &str) -> Req {
        Req::new(Method::GET, uri)
    }
    pub fn post(uri: &str) -> Req {
        Req::new(Method::POST, uri)
    }
    pub fn patch(uri: &str) -> Req {
        Req::new(Method::PATCH, uri)
    }
    pub fn put(uri: &str) -> Req {
        Req::new(Method::PUT, uri)
    }
    pub fn delete(uri: &str) -> Req {
        Req::new(Method::DELETE, uri)
    }
    pub fn header(mut self, name: &str, value: &str) -> Req {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
    pub fn bearer(self, secret: &str) -> Req {
        self.header("authorization", &format!("Bearer {secret}"))
    }
    pub fn cookie(mut self, name: &str, value: &str) -> Req {
        self.cookies.push((name.to_owned(), value.to_owned()));
        self
    }
    /// Session cookie plus, for the API, the CSRF header.
    pub fn session(self, s: &Session) -> Req {
        self.cookie("anbao_session", &s.cookie)
    }
    pub fn csrf(self, s: &Session) -> Req {
        self.header("x-csrf-token", &s.csrf)
    }
    pub fn json(self, v: &Value) -> Req {
        self.raw("application/json", v.to_string())
    }
    pub fn form(self, fields: &[(&str, &str)]) -> Req {
        let body = serde_urlencoded::to_string(fields).expect("encode form");
        self.raw("application/x-www-form-urlencoded", body)
    }
    pub fn raw(mut self, content_type: &str, body: impl Into<Body>) -> Req {
        if !content_type.is_empty() {
            self.headers.push(("content-type".into(), content_type.to_owned()));
        }
        self.body = body.into();
        self
    }
    fn build(self) -> Request<Body> {
        let mut b = Request::builder().method(self.method).uri(&self.uri);
        for (k, v) in &self.headers {
            b = b.header(k.as_str(), v.as_str());
        }
        if !self.cookies.is_empty() {
            let c: Vec<String> = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
            b = b.header(header::COOKIE, c.join("; "));
        }
        b.body(self.body).expect("valid request")
    }
}

/// A finished response, body read.
pub struct Resp {
    pub method: Method,
    pub uri: String,
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl std::fmt::Debug for Resp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = self.text();
        let shown: String = text.chars().take(600).collect();
        write!(f, "{} {} -> {} {:?}\n{}", self.method, self.uri, self.status, self.headers, shown)
    }
}

impl Resp {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("response is not JSON ({e}): {self:?}"))
    }

    #[track_caller]
    pub fn assert_status(&self, want: StatusCode) -> &Resp {
        assert_eq!(self.status, want, "unexpected status: {self:?}");
        self
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn location(&self) -> Option<&str> {
        self.header("location")
    }

    pub fn set_cookies(&self) -> Vec<String> {
        self.headers.get_all(header::SET_COOKIE).iter().filter_map(|v| v.to_str().ok()).map(str::to_owned).collect()
    }

    /// The whole `Set-Cookie` line for cookie `name`.
    pub fn set_cookie_line(&self, name: &str) -> Option<String> {
        self.set_cookies().into_iter().find(|c| c.split_once('=').is_some_and(|(k, _)| k.trim() == name))
    }

    /// The value of cookie `name` as set by this response (None when not
    /// set, or set empty to clear it).
    pub fn cookie(&self, name: &str) -> Option<String> {
        let line = self.set_cookie_line(name)?;
        let value = line.split(';').next()?.split_once('=')?.1.trim().to_owned();
        (!value.is_empty()).then_some(value)
    }

    /// The `field` key of a JSON error body.
    pub fn error_field(&self) -> Option<String> {
        self.json().get("field").and_then(Value::as_str).map(str::to_owned)
    }

    pub fn content_type(&self) -> &str {
        self.header("content-type").unwrap_or_default()
    }
}

/// The value of the hidden input `name` in an HTML page.
pub fn hidden_field(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let rest = &html[start..];
    Some(rest[..rest.find('"')?].to_owned())
}
