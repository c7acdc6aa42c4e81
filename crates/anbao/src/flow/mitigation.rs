//! Flow mitigation in `anbao serve` (issue #6): the flow pipeline records
//! the rules its groups ask for ([`propose`], [`ended`]) in the store's
//! `flow_mitigations` table, and the executor ([`spawn_executor`]) carries
//! them out through the configured hooks:
//!
//! - `flow_mitigation_command`: a child process fed ExaBGP text API lines
//!   on its stdin (as ExaBGP runs its `process` helpers), started again if
//!   it exits;
//! - `flow_mitigation_gobgp_command`: GoBGP's CLI as an argv template
//!   (`gobgp global rib -a {family} {action} {rule}`), run once per change;
//! - `flow_mitigation_webhook_url`: a POST of the rule as JSON, signed like
//!   the notification webhooks (`X-Anbao-Timestamp`, `X-Anbao-Signature`);
//! - `flow_mitigation_script`: a command (`sh -c`) given the same JSON on
//!   its stdin and `ANBAO_MITIGATION_*` variables.
//!
//! The executor polls the table once a second instead of listening on a
//! channel from the web handlers: an approval given on any node of a
//! cluster is a row change every node sees, and rows are leased so one
//! executor sends each change. At start it queues every rule still
//! announced for announcing again, because BGP speakers (and the ExaBGP
//! helper it starts itself) forget their routes on restart. A hook that
//! fails marks the rule failed with the hooks' errors; the store schedules
//! the retry (30 s, doubling to 30 min: a withdrawal until it goes through,
//! an announcement while its attack goes on) and a later pass claims it
//! like any pending change.

use std::net::IpAddr;
use std::time::Duration;

use anbao_flow::mitigate::{self, Change, Rule};
use anbao_flow::{AttackEvent, EventKind};
use anbao_store::{Actor, Mitigation, MitigationChange, MitigationDraft, Store};
use anyhow::{Context, Result};
use serde_json::json;

/// Where mitigation goes: the hooks and the rules' common settings.
#[derive(Debug, Clone, Default)]
pub struct MitigationConfig {
    /// ExaBGP text API process (`sh -c`); empty: none.
    pub command: String,
    /// GoBGP CLI argv template; empty: none.
    pub gobgp_command: String,
    pub webhook_url: String,
    pub webhook_secret: String,
    /// Script (`sh -c`) taking the rule as JSON on stdin; empty: none.
    pub script: String,
    /// How long one GoBGP run, script run or webhook POST may take.
    pub timeout: Duration,
    pub next_hop: Option<IpAddr>,
    /// Seconds after its proposal when a rule is withdrawn (or rejected) at the latest.
    pub max_secs: u32,
}

impl MitigationConfig {
    /// The configuration's `flow_mitigation_*` settings; `None` when no hook is set.
    pub fn from_config(c: &crate::config::Config) -> Result<Option<MitigationConfig>> {
        let m = MitigationConfig {
            command: c.flow_mitigation_command.trim().to_owned(),
            gobgp_command: c.flow_mitigation_gobgp_command.trim().to_owned(),
            webhook_url: c.flow_mitigation_webhook_url.trim().to_owned(),
            webhook_secret: c.flow_mitigation_webhook_secret.clone(),
            script: c.flow_mitigation_script.trim().to_owned(),
            timeout: Duration::from_secs(c.flow_mitigation_hook_timeout_seconds.max(1)),
            next_hop: None,
            max_secs: c.flow_mitigation_max_hours.saturating_mul(3600),
        };
        if m.command.is_empty() && m.gobgp_command.is_empty() && m.webhook_url.is_empty() && m.script.is_empty() {
            return Ok(None);
        }
        let next_hop = c.flow_mitigation_next_hop.parse::<IpAddr>().with_context(|| {
            format!("flow_mitigation_next_hop: {:?} is not an IP address", c.flow_mitigation_next_hop)
        })?;
        if !m.gobgp_command.is_empty() {
            anyhow::ensure!(
                m.gobgp_command.contains("{rule}"),
                "flow_mitigation_gobgp_command must contain {{rule}} (and usually {{family}} and {{action}})"
            );
        }
        if !m.webhook_url.is_empty() {
            anyhow::ensure!(
                m.webhook_url.starts_with("http://") || m.webhook_url.starts_with("https://"),
                "flow_mitigation_webhook_url must be an http:// or https:// URL"
            );
            anyhow::ensure!(
                !m.webhook_secret.is_empty(),
                "flow_mitigation_webhook_url needs flow_mitigation_webhook_secret"
            );
        }
        anyhow::ensure!(m.max_secs > 0, "flow_mitigation_max_hours must be at least 1");
        Ok(Some(MitigationConfig { next_hop: Some(next_hop), ..m }))
    }

    fn hop(&self) -> IpAddr {
        self.next_hop.unwrap_or(IpAddr::from([192, 0, 2, 1]))
    }
}

/// The rule's fields as stored (and sent to webhooks and scripts).
fn rule_json(rule: &Rule, next_hop: IpAddr) -> serde_json::Value {
    let mut v = serde_json::to_value(rule).unwrap_or_else(|_| json!({}));
    if let Some(o) = v.as_object_mut() {
        o.insert("prefix".into(), json!(rule.prefix()));
        if let Rule::Rtbh { .. } = rule {
            o.insert("next_hop".into(), json!(next_hop.to_string()));
        } else {
            let rate = o.get("rate_limit").and_then(|r| r.as_u64());
            o.insert("action".into(), json!(if rate.is_some() { "rate-limit" } else { "discard" }));
        }
    }
    v
}

/// The rule back from its stored JSON (the executor's view).
fn rule_of(v: &serde_json::Value) -> Option<Rule> {
    let victim: IpAddr = v.get("victim")?.as_str()?.parse().ok()?;
    match v.get("kind")?.as_str()? {
        "rtbh" => Some(Rule::Rtbh { victim, community: v.get("community")?.as_str()?.to_owned() }),
        "flowspec" => {
            let protocol = match v.get("protocol").and_then(|p| p.as_str()) {
                None => None,
                Some("tcp") => Some("tcp"),
                Some("udp") => Some("udp"),
                Some("icmp") => Some("icmp"),
                Some(_) => return None,
            };
            let source_port = v.get("source_port").and_then(|p| p.as_u64()).and_then(|p| u16::try_from(p).ok());
            let rate_limit = v.get("rate_limit").and_then(|p| p.as_u64()).and_then(|p| u32::try_from(p).ok());
            Some(Rule::Flowspec { victim, protocol, source_port, rate_limit })
        }
        _ => None,
    }
}

/// The rows to propose for the start of attack `e` (groups in manual or
/// automatic mode with rtbh and/or flowspec, attacks on one host).
pub fn drafts(e: &AttackEvent, alert_id: Option<i64>, config: &MitigationConfig) -> Vec<MitigationDraft> {
    use anbao_flow::groups::ActionMode;
    if e.event != EventKind::Start || e.actions.mode == ActionMode::Alert {
        return Vec::new();
    }
    let hop = config.hop();
    mitigate::rules(e)
        .into_iter()
        .map(|r| MitigationDraft {
            attack_key: e.key.clone(),
            alert_id,
            group_name: e.group.clone(),
            victim: e.victim.clone(),
            kind: r.kind().to_owned(),
            automatic: e.actions.mode == ActionMode::Automatic,
            rule: rule_json(&r, hop),
            announce_line: r.announce(hop),
            withdraw_line: r.withdraw(hop),
            hold_secs: e.actions.hold_secs,
            max_secs: config.max_secs,
        })
        .collect()
}

/// Records the rules the attack events ask for, and the ends of attacks
/// (their withdrawal times). Errors are logged: the alerts stand.
pub async fn propose(store: &Store, events: &[AttackEvent], config: &MitigationConfig) {
    for e in events {
        let result = async {
            match e.event {
                EventKind::Start => {
                    let alert_id = store.alert_id_by_key(&e.key).await?;
                    let drafts = drafts(e, alert_id, config);
                    if !drafts.is_empty() {
                        for m in store.propose_mitigations(&drafts).await? {
                            tracing::info!(id = m.id, victim = %m.victim, kind = %m.kind, mode = %m.mode, "flow mitigation proposed");
                        }
                    }
                }
                EventKind::End => {
                    let ended = e.ended.unwrap_or(e.at);
                    let at = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ended.0))
                        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
                    store.end_mitigations(&e.key, at).await?;
                }
                _ => {}
            }
            anyhow::Ok(())
        }
        .await;
        if let Err(err) = result {
            tracing::warn!(error = format!("{err:#}"), attack = %e.key, "recording flow mitigation");
        }
    }
}

/// The ExaBGP helper process, started again if it has exited.
struct Speaker {
    command: String,
    child: Option<(tokio::process::Child, tokio::process::ChildStdin)>,
}

impl Speaker {
    fn start(command: &str) -> Result<(tokio::process::Child, tokio::process::ChildStdin)> {
        let mut child = tokio::process::Command::new("sh")
            .arg("-c")
            .arg(command)
            .stdin(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting flow_mitigation_command {command:?}"))?;
        let stdin = child.stdin.take().context("flow_mitigation_command: no stdin")?;
        Ok((child, stdin))
    }

    async fn send(&mut self, line: &str) -> Result<()> {
        use tokio::io::AsyncWriteExt;
        if let Some((child, _)) = &mut self.child
            && child.try_wait().ok().flatten().is_some()
        {
            self.child = None;
        }
        if self.child.is_none() {
            self.child = Some(Self::start(&self.command)?);
        }
        let Some((_, stdin)) = &mut self.child else { anyhow::bail!("flow_mitigation_command is not running") };
        let written = async {
            stdin.write_all(line.as_bytes()).await?;
            stdin.write_all(b"\n").await?;
            stdin.flush().await
        }
        .await;
        if let Err(e) = written {
            self.child = None;
            return Err(e).context("writing to flow_mitigation_command");
        }
        Ok(())
    }
}

/// The argv of one GoBGP run: the template split on white space, `{family}`
/// and `{action}` (`add`/`del`) replaced inside words, `{rule}` standing
/// alone replaced by the rule's words. No shell is involved.
pub fn gobgp_argv(template: &str, rule: &Rule, change: Change, next_hop: IpAddr) -> Vec<String> {
    let action = match change {
        Change::Announce => "add",
        Change::Withdraw => "del",
    };
    let mut argv = Vec::new();
    for word in template.split_whitespace() {
        if word == "{rule}" {
            argv.extend(rule.gobgp(change, next_hop));
        } else {
            argv.push(word.replace("{family}", rule.gobgp_family()).replace("{action}", action));
        }
    }
    argv
}

/// What webhooks and scripts receive.
pub fn payload(m: &Mitigation, change: MitigationChange, at: &str) -> serde_json::Value {
    json!({
        "event": format!("mitigation.{change}"),
        "change": change.as_str(),
        "id": m.id,
        "attack_key": m.attack_key,
        "alert_id": m.alert_id,
        "group": m.group_name,
        "victim": m.victim,
        "kind": m.kind,
        "mode": m.mode,
        "rule": m.rule,
        "exabgp": match change {
            MitigationChange::Announce => &m.announce_line,
            MitigationChange::Withdraw => &m.withdraw_line,
        },
        "approved_by": m.approved_by,
        "withdraw_reason": m.withdraw_reason,
        "at": at,
    })
}

fn cut(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

async fn run_with_timeout(
    mut cmd: tokio::process::Command,
    stdin: Option<Vec<u8>>,
    timeout: Duration,
) -> std::result::Result<(), String> {
    use tokio::io::AsyncWriteExt;
    cmd.stdin(if stdin.is_some() { std::process::Stdio::piped() } else { std::process::Stdio::null() })
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    let mut child = cmd.spawn().map_err(|e| format!("cannot start: {e}"))?;
    if let (Some(bytes), Some(mut pipe)) = (stdin, child.stdin.take()) {
        // A command that does not read its stdin is not an error.
        let _ = pipe.write_all(&bytes).await;
        drop(pipe);
    }
    match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Err(_) => Err(format!("timed out after {} s", timeout.as_secs())),
        Ok(Err(e)) => Err(e.to_string()),
        Ok(Ok(out)) if out.status.success() => Ok(()),
        Ok(Ok(out)) => Err(format!("{}: {}", out.status, cut(String::from_utf8_lossy(&out.stderr).trim(), 300))),
    }
}

async fn post_webhook(
    url: &str,
    secret: &str,
    body: String,
    now: i64,
    timeout: Duration,
) -> std::result::Result<(), String> {
    use anbao_server::notify::{SIGNATURE_HEADER, TIMESTAMP_HEADER, webhook_signature};
    let url = url.to_owned();
    let signature = webhook_signature(secret, now, &body);
    let sent = tokio::task::spawn_blocking(move || {
        let agent = ureq::AgentBuilder::new().timeout(timeout).redirects(0).build();
        match agent
            .post(&url)
            .set("Content-Type", "application/json; charset=utf-8")
            .set(TIMESTAMP_HEADER, &now.to_string())
            .set(SIGNATURE_HEADER, &signature)
            .send_string(&body)
        {
            Ok(_) => Ok(()),
            Err(ureq::Error::Status(code, resp)) => {
                Err(format!("HTTP {code}: {}", cut(&resp.into_string().unwrap_or_default(), 300)))
            }
            Err(ureq::Error::Transport(t)) => Err(format!("{:?}: {}", t.kind(), t.message().unwrap_or_default())),
        }
    })
    .await;
    sent.unwrap_or_else(|e| Err(e.to_string()))
}

/// The hooks, run in turn for each change.
pub struct Hooks {
    config: MitigationConfig,
    speaker: Option<Speaker>,
}

impl Hooks {
    pub fn new(config: MitigationConfig) -> Hooks {
        let speaker = (!config.command.is_empty()).then(|| Speaker { command: config.command.clone(), child: None });
        Hooks { config, speaker }
    }

    /// Runs every configured hook for `change` of `m`; the error names each
    /// hook that failed and why.
    pub async fn run(
        &mut self,
        m: &Mitigation,
        change: MitigationChange,
        now: anbao_model::Timestamp,
    ) -> std::result::Result<(), String> {
        let mut errors = Vec::new();
        let line = match change {
            MitigationChange::Announce => &m.announce_line,
            MitigationChange::Withdraw => &m.withdraw_line,
        };
        if let Some(speaker) = &mut self.speaker
            && let Err(e) = speaker.send(line).await
        {
            errors.push(format!("exabgp: {e:#}"));
        }
        let at = anbao_model::clock::format_ts(now);
        let body = payload(m, change, &at).to_string();
        if !self.config.gobgp_command.is_empty() {
            let flow_change = match change {
                MitigationChange::Announce => Change::Announce,
                MitigationChange::Withdraw => Change::Withdraw,
            };
            match rule_of(&m.rule) {
                None => errors.push(format!("gobgp: the stored rule cannot be read: {}", m.rule)),
                Some(rule) => {
                    let argv = gobgp_argv(&self.config.gobgp_command, &rule, flow_change, self.config.hop());
                    if let Some((program, args)) = argv.split_first() {
                        let mut cmd = tokio::process::Command::new(program);
                        cmd.args(args);
                        if let Err(e) = run_with_timeout(cmd, None, self.config.timeout).await {
                            errors.push(format!("gobgp: {e}"));
                        }
                    }
                }
            }
        }
        if !self.config.webhook_url.is_empty()
            && let Err(e) = post_webhook(
                &self.config.webhook_url,
                &self.config.webhook_secret,
                body.clone(),
                now.unix_timestamp(),
                self.config.timeout,
            )
            .await
        {
            errors.push(format!("webhook: {e}"));
        }
        if !self.config.script.is_empty() {
            let mut cmd = tokio::process::Command::new("sh");
            cmd.arg("-c")
                .arg(&self.config.script)
                .env("ANBAO_MITIGATION_CHANGE", change.as_str())
                .env("ANBAO_MITIGATION_ID", m.id.to_string())
                .env("ANBAO_MITIGATION_KIND", &m.kind)
                .env("ANBAO_MITIGATION_VICTIM", &m.victim)
                .env("ANBAO_MITIGATION_GROUP", &m.group_name)
                .env("ANBAO_MITIGATION_EXABGP", line);
            if let Err(e) = run_with_timeout(cmd, Some(body.into_bytes()), self.config.timeout).await {
                errors.push(format!("script: {e}"));
            }
        }
        if errors.is_empty() { Ok(()) } else { Err(errors.join("; ")) }
    }
}

/// One pass: claims the pending changes, runs the hooks, records each
/// outcome on the rule and as an action of its attack's alert. Returns how
/// many changes were carried out.
pub async fn run_once(store: &Store, hooks: &mut Hooks) -> anbao_store::Result<usize> {
    let work = store.claim_mitigation_work(120, 50).await?;
    let n = work.len();
    for (m, change) in work {
        let outcome = hooks.run(&m, change, store.clock().now()).await;
        let line = match change {
            MitigationChange::Announce => &m.announce_line,
            MitigationChange::Withdraw => &m.withdraw_line,
        };
        let (action, detail) = match (&outcome, change) {
            (Ok(()), MitigationChange::Announce) => ("mitigation_announced", line.clone()),
            (Ok(()), MitigationChange::Withdraw) => ("mitigation_withdrawn", line.clone()),
            (Err(e), MitigationChange::Announce) => ("mitigation_announced", format!("FAILED ({e}): {line}")),
            (Err(e), MitigationChange::Withdraw) => ("mitigation_withdrawn", format!("FAILED ({e}): {line}")),
        };
        match &outcome {
            Ok(()) => tracing::info!(id = m.id, attack = %m.attack_key, %line, "flow mitigation {change}"),
            Err(e) => {
                tracing::error!(id = m.id, attack = %m.attack_key, %line, error = %e, "flow mitigation {change} failed")
            }
        }
        if let Some(after) = store.record_mitigation_result(m.id, change, outcome).await?
            && let Some(at) = &after.retry_at
        {
            tracing::warn!(id = m.id, failures = after.failures(change), retry_at = %at, "flow mitigation {change} retried later");
        }
        if let Some(alert) = m.alert_id
            && let Err(e) = store.add_alert_action(&Actor::system(), alert, action, &detail).await
        {
            tracing::warn!(error = %e, attack = %m.attack_key, "recording a flow mitigation on its alert");
        }
    }
    Ok(n)
}

/// Starts the executor: queues the rules still announced for announcing
/// again, then runs [`run_once`] every second.
pub fn spawn_executor(store: Store, config: MitigationConfig) {
    tracing::info!(
        exabgp = !config.command.is_empty(),
        gobgp = !config.gobgp_command.is_empty(),
        webhook = !config.webhook_url.is_empty(),
        script = !config.script.is_empty(),
        "flow mitigation enabled"
    );
    let mut hooks = Hooks::new(config);
    tokio::spawn(async move {
        match store.requeue_announced_mitigations().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(rules = n, "flow mitigation: announcing the rules still in force again"),
            Err(e) => tracing::warn!(error = %e, "flow mitigation: queueing announced rules again"),
        }
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tick.tick().await;
            if let Err(e) = run_once(&store, &mut hooks).await {
                tracing::warn!(error = %e, "flow mitigation executor");
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use anbao_model::Clock;
    use anbao_model::clock::ManualClock;
    use anbao_store::{AuditFilter, StoreOptions};
    use time::macros::datetime;

    use super::*;

    fn draft(key: &str, victim: &str, hold_secs: u32) -> MitigationDraft {
        let rule = Rule::Rtbh { victim: victim.parse().unwrap(), community: "65535:666".into() };
        let hop = IpAddr::from([192, 0, 2, 254]);
        MitigationDraft {
            attack_key: key.into(),
            alert_id: None,
            group_name: "dc1".into(),
            victim: victim.into(),
            kind: "rtbh".into(),
            automatic: true,
            rule: rule_json(&rule, hop),
            announce_line: rule.announce(hop),
            withdraw_line: rule.withdraw(hop),
            hold_secs,
            max_secs: 3600,
        }
    }

    /// The executor through a script hook that fails its first two runs
    /// for each rule: a rule whose attack goes on is announced at the third
    /// try, 30 s and 60 s (the store's clock) after the failures, each
    /// failure and retry audited; a rule whose attack ends before its retry
    /// is not announced again, only withdrawn after the hold.
    #[tokio::test]
    async fn the_executor_retries_a_failed_announcement_while_the_attack_lasts() {
        let dir = tempfile::tempdir().unwrap();
        let sealer = crate::secrets::load_or_create(&dir.path().join("secrets.toml")).unwrap();
        let url = anbao_store::sqlite_url(&dir.path().join("anbao.db"));
        let clock = Arc::new(ManualClock::new(datetime!(2026-11-25 09:00 UTC)));
        let store =
            Store::open(&url, StoreOptions { clock: clock.clone(), ..StoreOptions::new(sealer) }).await.unwrap();
        let calls = dir.path().join("calls");
        let script = format!(
            "f='{}.'\"$ANBAO_MITIGATION_ID\"; echo \"$ANBAO_MITIGATION_CHANGE\" >> \"$f\"; \
             [ \"$(wc -l < \"$f\")\" -ge 3 ] || {{ echo 'speaker down' >&2; exit 1; }}",
            calls.display()
        );
        let config = MitigationConfig {
            script,
            timeout: Duration::from_secs(10),
            next_hop: Some(IpAddr::from([192, 0, 2, 254])),
            max_secs: 3600,
            ..MitigationConfig::default()
        };
        let mut hooks = Hooks::new(config);
        let rules = store
            .propose_mitigations(&[draft("ddos:on", "192.0.2.5", 300), draft("ddos:over", "192.0.2.6", 300)])
            .await
            .unwrap();
        let (on, over) = (rules[0].id, rules[1].id);
        let runs = |id: i64| {
            std::fs::read_to_string(format!("{}.{id}", calls.display()))
                .unwrap_or_default()
                .lines()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        let step = |secs: i64| clock.advance(time::Duration::seconds(secs));

        assert_eq!(run_once(&store, &mut hooks).await.unwrap(), 2, "both announced, both fail");
        let m = store.mitigation(on).await.unwrap();
        assert_eq!((m.state.as_str(), m.announce_failures), ("failed", 1));
        assert!(m.error.contains("script:") && m.error.contains("speaker down"), "{}", m.error);
        step(10);
        store.end_mitigations("ddos:over", clock.now()).await.unwrap();
        step(19);
        assert_eq!(run_once(&store, &mut hooks).await.unwrap(), 0, "not before 30 s");
        step(1);
        assert_eq!(run_once(&store, &mut hooks).await.unwrap(), 1, "the ongoing attack's rule only");
        assert_eq!(store.mitigation(on).await.unwrap().announce_failures, 2);
        step(59);
        assert_eq!(run_once(&store, &mut hooks).await.unwrap(), 0, "not before 60 s");
        step(1);
        assert_eq!(run_once(&store, &mut hooks).await.unwrap(), 1);
        let m = store.mitigation(on).await.unwrap();
        assert_eq!((m.state.as_str(), m.announce_failures, m.retry_at.as_deref()), ("announced", 2, None));
        assert_eq!(runs(on), ["announce", "announce", "announce"]);
        let filter = AuditFilter {
            object_type: Some("mitigation".into()),
            object_id: Some(on.to_string()),
            limit: 100,
            ..AuditFilter::default()
        };
        let mut actions: Vec<String> = store.list_audit(&filter).await.unwrap().into_iter().map(|e| e.action).collect();
        actions.reverse();
        assert_eq!(
            actions,
            [
                "mitigation.propose",
                "mitigation.failed",
                "mitigation.retry",
                "mitigation.failed",
                "mitigation.retry",
                "mitigation.announced"
            ]
        );

        // The ended attack's rule: announced once, then only withdrawn.
        let m = store.mitigation(over).await.unwrap();
        assert_eq!((m.state.as_str(), m.retry_at.as_deref()), ("failed", None));
        step(300);
        assert_eq!(run_once(&store, &mut hooks).await.unwrap(), 1);
        assert_eq!(runs(over), ["announce", "withdraw"]);
    }

    #[test]
    fn gobgp_template_renders_the_argv() {
        let hop: IpAddr = "192.0.2.1".parse().unwrap();
        let rtbh = Rule::Rtbh { victim: "192.0.2.5".parse().unwrap(), community: "65535:666".into() };
        let template = "gobgp -p 50051 global rib -a {family} {action} {rule}";
        assert_eq!(
            gobgp_argv(template, &rtbh, Change::Announce, hop),
            [
                "gobgp",
                "-p",
                "50051",
                "global",
                "rib",
                "-a",
                "ipv4",
                "add",
                "192.0.2.5/32",
                "nexthop",
                "192.0.2.1",
                "community",
                "65535:666"
            ]
        );
        assert_eq!(
            gobgp_argv(template, &rtbh, Change::Withdraw, hop),
            ["gobgp", "-p", "50051", "global", "rib", "-a", "ipv4", "del", "192.0.2.5/32"]
        );
        let fs = Rule::Flowspec {
            victim: "2001:db8::5".parse().unwrap(),
            protocol: Some("udp"),
            source_port: Some(123),
            rate_limit: Some(125_000),
        };
        assert_eq!(
            gobgp_argv("/usr/bin/gobgp global rib add -a {family} {rule}", &fs, Change::Announce, hop),
            [
                "/usr/bin/gobgp",
                "global",
                "rib",
                "add",
                "-a",
                "ipv6-flowspec",
                "match",
                "destination",
                "2001:db8::5/128",
                "protocol",
                "udp",
                "source-port",
                "==123",
                "then",
                "rate-limit",
                "125000"
            ]
        );
        // The stored JSON reads back as the same rule.
        assert_eq!(rule_of(&rule_json(&fs, hop)), Some(fs.clone()));
        assert_eq!(rule_of(&rule_json(&rtbh, hop)), Some(rtbh));
        assert_eq!(rule_json(&fs, hop)["action"], "rate-limit");
    }
}
