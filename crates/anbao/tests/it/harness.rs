//! Helpers shared by the CLI contract tests: running the real `anbao`
//! binary with a timeout, starting `anbao serve` as a child that is always
//! killed, a small HTTP client, throwaway PostgreSQL databases and direct
//! SQL access for tampering.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub use serde_json::{Value, json};
pub use tempfile::TempDir;

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_anbao");

/// Longest any one command may take before the test fails.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(90);

/// The line `serve` prints once it accepts connections.
const LISTENING: &str = "anbao listening on http://";
const LISTENING_TLS: &str = "anbao listening on https://";

/// The line `init` and `serve` print with the generated admin password.
const PASSWORD_PREFIX: &str = "  password: ";

// ---------------------------------------------------------------------------
// Running the binary.

/// A command line for the binary, with a clean environment: no inherited
/// `ANBAO_*` variable can change what a test sees.
#[derive(Debug)]
pub struct Cli {
    cmd: Command,
    timeout: Duration,
}

/// `anbao ARGS…`.
pub fn anbao<I, S>(args: I) -> Cli
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut cmd = Command::new(BIN);
    cmd.args(args).stdin(Stdio::null()).current_dir(std::env::temp_dir()).env("NO_COLOR", "1");
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("ANBAO_") {
            cmd.env_remove(k);
        }
    }
    Cli { cmd, timeout: COMMAND_TIMEOUT }
}

/// What a finished command left behind.
#[derive(Debug)]
pub struct Output {
    pub args: String,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Output {
    /// Panics, showing everything the command printed, unless it exited with `code`.
    #[track_caller]
    pub fn expect_code(self, code: i32) -> Output {
        assert_eq!(self.code, Some(code), "exit code of {self}");
        self
    }

    /// Panics unless the command succeeded.
    #[track_caller]
    pub fn ok(self) -> Output {
        self.expect_code(0)
    }

    /// stdout and stderr together, for "the message names X" checks.
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    /// Panics unless stdout or stderr contains every one of `needles`.
    #[track_caller]
    pub fn expect_mentions(&self, needles: &[&str]) -> &Output {
        let all = self.all();
        for n in needles {
            assert!(all.contains(n), "output should mention {n:?}: {self}");
        }
        self
    }

    /// stdout parsed as one JSON document.
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self}"))
    }

    /// The admin password printed when the first account was created.
    pub fn admin_password(&self) -> Option<String> {
        password_in(self.stdout.lines())
    }
}

impl std::fmt::Display for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "`anbao {}` exited {:?} after {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.args, self.code, self.elapsed, self.stdout, self.stderr
        )
    }
}

fn password_in<'a>(mut lines: impl Iterator<Item = &'a str>) -> Option<String> {
    lines.find_map(|l| l.strip_prefix(PASSWORD_PREFIX)).map(|p| p.trim().to_owned())
}

/// Drains a pipe on a thread so the child never blocks on a full buffer.
fn drain(mut pipe: impl Read + Send + 'static) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = pipe.read_to_end(&mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    })
}

/// Waits for `child` until `deadline`; kills it and returns `None` past it.
fn wait_until(child: &mut Child, deadline: Instant) -> Option<ExitStatus> {
    loop {
        if let Some(status) = child.try_wait().expect("waiting for anbao") {
            return Some(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

impl Cli {
    pub fn arg(mut self, a: impl AsRef<OsStr>) -> Cli {
        self.cmd.arg(a);
        self
    }

    /// `--data-dir DIR`.
    pub fn data_dir(self, dir: &Path) -> Cli {
        self.arg("--data-dir").arg(dir)
    }

    /// `--database URL`, when given.
    pub fn database(self, url: Option<&str>) -> Cli {
        match url {
            Some(u) => self.arg("--database").arg(u),
            None => self,
        }
    }

    pub fn env(mut self, key: &str, value: impl AsRef<OsStr>) -> Cli {
        self.cmd.env(key, value);
        self
    }

    fn describe(&self) -> String {
        self.cmd.get_args().map(|a| a.to_string_lossy().into_owned()).collect::<Vec<_>>().join(" ")
    }

    /// Runs to completion; fails the test if it takes longer than the timeout.
    #[track_caller]
    pub fn run(mut self) -> Output {
        let args = self.describe();
        let start = Instant::now();
        let mut child = self
            .cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("spawning {BIN}: {e}"));
        let stdout = drain(child.stdout.take().expect("stdout"));
        let stderr = drain(child.stderr.take().expect("stderr"));
        let status = wait_until(&mut child, start + self.timeout);
        let out = Output {
            args,
            code: status.and_then(|s| s.code()),
            stdout: stdout.join().expect("stdout reader"),
            stderr: stderr.join().expect("stderr reader"),
            elapsed: start.elapsed(),
        };
        assert!(status.is_some(), "timed out after {:?}: {out}", self.timeout);
        out
    }

    /// Starts a long-running `serve` command line and waits until it
    /// listens; the returned guard kills it when dropped.
    #[track_caller]
    pub fn start(self) -> Server {
        let is_listening = |line: &str| line.starts_with(LISTENING) || line.starts_with(LISTENING_TLS);
        let mut server = self.start_until("listen", is_listening);
        let line = server.stdout.last().cloned().unwrap_or_default();
        if let Some(addr) = line.strip_prefix(LISTENING).or_else(|| line.strip_prefix(LISTENING_TLS)) {
            let scheme = if line.starts_with(LISTENING_TLS) { "https" } else { "http" };
            server.url = format!("{scheme}://{}", addr.trim());
        }
        server.admin_password = password_in(server.stdout.iter().map(String::as_str));
        server
    }

    /// Starts a long-running command and waits for a stdout line `ready`
    /// accepts (`what` names it in failures); the guard kills it when dropped.
    #[track_caller]
    pub fn start_until(mut self, what: &str, ready: impl Fn(&str) -> bool) -> Server {
        let args = self.describe();
        let mut child = self
            .cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("spawning {BIN}: {e}"));
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = Arc::clone(&stderr);
        let mut err_pipe = BufReader::new(child.stderr.take().expect("stderr"));
        std::thread::spawn(move || {
            let mut line = String::new();
            while err_pipe.read_line(&mut line).unwrap_or(0) > 0 {
                sink.lock().expect("stderr buffer").push_str(&line);
                line.clear();
            }
        });
        let (tx, rx) = mpsc::channel();
        let out_pipe = BufReader::new(child.stdout.take().expect("stdout"));
        std::thread::spawn(move || {
            // Keeps reading after the receiver is gone so the pipe never fills.
            for line in out_pipe.lines() {
                let Ok(line) = line else { break };
                let _ = tx.send(line);
            }
        });
        let mut server = Server { child, url: String::new(), admin_password: None, stdout: Vec::new(), stderr, args };
        let deadline = Instant::now() + self.timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    let done = ready(&line);
                    server.stdout.push(line);
                    if done {
                        return server;
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    panic!("did not {what} within {:?}: {}", self.timeout, server.report())
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = wait_until(&mut server.child, Instant::now() + Duration::from_secs(10));
                    panic!("exited ({status:?}) before it would {what}: {}", server.report());
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Servers.

/// A running `anbao serve`; killed when dropped.
#[derive(Debug)]
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// Set when this process created the first administrator.
    pub admin_password: Option<String>,
    /// stdout lines up to and including the listening line.
    pub stdout: Vec<String>,
    stderr: Arc<Mutex<String>>,
    args: String,
}

impl Server {
    /// `anbao serve --listen 127.0.0.1:0 --data-dir DIR [--database URL]`.
    #[track_caller]
    pub fn start(dir: &Path, database: Option<&str>) -> Server {
        serve().data_dir(dir).database(database).start()
    }

    pub fn client(&self) -> Client {
        Client::new(&self.url)
    }

    /// What the server printed, for failure messages.
    pub fn report(&self) -> String {
        format!(
            "`anbao {}`\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.args,
            self.stdout.join("\n"),
            self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
        )
    }

    /// Asks the server to shut down (SIGTERM) and waits for it; returns its exit code.
    #[track_caller]
    pub fn stop(mut self) -> Option<i32> {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().expect("running kill");
        assert!(sent.success(), "kill -TERM {pid} failed");
        let status = wait_until(&mut self.child, Instant::now() + Duration::from_secs(20));
        assert!(status.is_some(), "serve did not stop within 20s of SIGTERM: {}", self.report());
        status.and_then(|s| s.code())
    }
}

impl Server {
    /// Kills the process at once (SIGKILL), as a crash would.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `anbao serve --listen 127.0.0.1:0`, to be completed and started.
pub fn serve() -> Cli {
    anbao(["serve", "--listen", "127.0.0.1:0"])
}

// ---------------------------------------------------------------------------
// HTTP.

/// A blocking HTTP client that never follows redirects and keeps no cookies.
#[derive(Debug)]
pub struct Client {
    agent: ureq::Agent,
    base: String,
}

/// One answer, whatever its status.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub body: String,
    pub set_cookies: Vec<String>,
    pub location: Option<String>,
}

impl Resp {
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("body is not JSON ({e}): {self:?}"))
    }

    /// Panics unless the status is `status`; returns the response.
    #[track_caller]
    pub fn expect(self, status: u16) -> Resp {
        assert_eq!(self.status, status, "unexpected status: {self:?}");
        self
    }

    /// The value a `Set-Cookie` header gives cookie `name`.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.set_cookies.iter().find_map(|c| {
            let pair = c.split(';').next()?;
            let (n, v) = pair.split_once('=')?;
            (n.trim() == name).then(|| v.trim().to_owned())
        })
    }
}

/// How a request proves who sends it.
#[derive(Debug, Clone, Copy)]
pub enum Auth<'a> {
    None,
    Bearer(&'a str),
    /// A browser session cookie, and the CSRF token changes need.
    Session {
        cookie: &'a str,
        csrf: Option<&'a str>,
    },
}

impl Client {
    pub fn new(base: &str) -> Client {
        let agent = ureq::AgentBuilder::new().redirects(0).timeout(Duration::from_secs(60)).build();
        Client { agent, base: base.trim_end_matches('/').to_owned() }
    }

    fn request(&self, method: &str, path: &str, auth: Auth<'_>) -> ureq::Request {
        let mut req = self.agent.request(method, &format!("{}{path}", self.base));
        match auth {
            Auth::None => {}
            Auth::Bearer(t) => req = req.set("Authorization", &format!("Bearer {t}")),
            Auth::Session { cookie, csrf } => {
                req = req.set("Cookie", &format!("anbao_session={cookie}"));
                if let Some(c) = csrf {
                    req = req.set("X-CSRF-Token", c);
                }
            }
        }
        req
    }

    #[track_caller]
    pub fn get(&self, path: &str, auth: Auth<'_>) -> Resp {
        finish(self.request("GET", path, auth).call())
    }

    #[track_caller]
    pub fn post_json(&self, path: &str, auth: Auth<'_>, body: &Value) -> Resp {
        finish(self.request("POST", path, auth).send_json(body))
    }

    /// Logs in through the form (double-submit login CSRF cookie included)
    /// and returns the session cookie's value.
    #[track_caller]
    pub fn login(&self, username: &str, password: &str) -> String {
        let form = self.get("/login", Auth::None).expect(200);
        let login_cookie =
            form.cookie("anbao_login").unwrap_or_else(|| panic!("GET /login set no anbao_login cookie: {form:?}"));
        let csrf = hidden_field(&form.body, "_login_csrf");
        let resp = finish(
            self.agent
                .post(&format!("{}/login", self.base))
                .set("Cookie", &format!("anbao_login={login_cookie}"))
                .send_form(&[("username", username), ("password", password), ("_login_csrf", &csrf)]),
        );
        assert!((300..400).contains(&resp.status) && resp.location.is_some(), "login should redirect: {resp:?}");
        resp.cookie("anbao_session").unwrap_or_else(|| panic!("login set no anbao_session cookie: {resp:?}"))
    }
}

#[track_caller]
fn finish(result: Result<ureq::Response, ureq::Error>) -> Resp {
    let resp = match result {
        Ok(r) | Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("HTTP request failed: {e}"),
    };
    let status = resp.status();
    let set_cookies = resp.all("set-cookie").into_iter().map(str::to_owned).collect();
    let location = resp.header("location").map(str::to_owned);
    let body = resp.into_string().expect("reading the response body");
    Resp { status, body, set_cookies, location }
}

/// The value of `<input … name="NAME" value="…">` in a page.
#[track_caller]
fn hidden_field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).unwrap_or_else(|| panic!("no field {name} in page:\n{html}")) + marker.len();
    let len = html[start..].find('"').expect("unterminated value attribute");
    html[start..start + len].to_owned()
}

// ---------------------------------------------------------------------------
// Data.

/// A fresh, empty data directory.
pub fn data_dir() -> TempDir {
    tempfile::Builder::new().prefix("anbao-cli-").tempdir().expect("creating a temporary directory")
}

/// `anbao init --data-dir D` on SQLite; returns D and the admin password.
#[track_caller]
pub fn init_sqlite() -> (TempDir, String) {
    let dir = data_dir();
    let out = anbao(["init"]).data_dir(dir.path()).run().ok();
    let password = out.admin_password().unwrap_or_else(|| panic!("init printed no admin password: {out}"));
    (dir, password)
}

/// `anbao token create --role ROLE --name NAME` in `dir` (and `database`,
/// when given); returns the token, checking stdout holds it alone.
#[track_caller]
pub fn create_token(dir: &Path, database: Option<&str>, role: &str, name: &str) -> String {
    let out = anbao(["token", "create", "--role", role, "--name", name]).data_dir(dir).database(database).run().ok();
    let token = out.stdout.strip_suffix('\n').unwrap_or_else(|| panic!("token not newline-terminated: {out}"));
    assert!(
        token.starts_with("anbao_") && !token.contains(char::is_whitespace),
        "stdout must be the token alone: {out}"
    );
    token.to_owned()
}

/// `anbao audit verify` in `dir` (and `database`), to be completed and run.
pub fn audit_verify(dir: &Path, database: Option<&str>) -> Cli {
    anbao(["audit", "verify"]).data_dir(dir).database(database)
}

/// Runs SQL against a SQLite database file with the sqlite3 CLI; returns
/// what it printed (rows `|`-separated).
#[track_caller]
pub fn sqlite(db: &Path, sql: &str) -> String {
    let out = Command::new("/usr/bin/sqlite3").arg(db).arg(sql).output().expect("running /usr/bin/sqlite3");
    assert!(out.status.success(), "sqlite3 {sql:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A PostgreSQL database created for one test and dropped after it.
#[derive(Debug)]
pub struct PgDb {
    pub url: String,
    base: String,
    name: String,
}

/// `ANBAO_TEST_POSTGRES`, where databases are created from.
pub fn postgres_base() -> String {
    std::env::var("ANBAO_TEST_POSTGRES").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

impl PgDb {
    /// Creates `anbao_cli_<random>`; fails the test if PostgreSQL is unreachable.
    #[track_caller]
    pub fn create() -> PgDb {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let base = postgres_base();
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
        let name = format!("anbao_cli_{}_{}_{nanos}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed));
        psql(&base, &format!("CREATE DATABASE {name}"));
        let (prefix, _) = base.rsplit_once('/').expect("ANBAO_TEST_POSTGRES must end in /DATABASE");
        let url = format!("{prefix}/{name}");
        PgDb { url, base, name }
    }

    /// Runs SQL in this database with psql; returns its unaligned output.
    #[track_caller]
    pub fn psql(&self, sql: &str) -> String {
        psql(&self.url, sql)
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        let out = psql_output(&self.base, &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
        if !out.status.success() {
            eprintln!("warning: could not drop {}: {}", self.name, String::from_utf8_lossy(&out.stderr));
        }
    }
}

fn psql_output(url: &str, sql: &str) -> std::process::Output {
    Command::new("psql")
        .arg(url)
        .args(["-v", "ON_ERROR_STOP=1", "-qAt", "-c", sql])
        .env("PGCONNECT_TIMEOUT", "10")
        .stdin(Stdio::null())
        .output()
        .expect("running psql (is the PostgreSQL client installed?)")
}

#[track_caller]
fn psql(url: &str, sql: &str) -> String {
    let out = psql_output(url, sql);
    assert!(
        out.status.success(),
        "psql {url} -c {sql:?} failed (PostgreSQL must be reachable; set ANBAO_TEST_POSTGRES): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
