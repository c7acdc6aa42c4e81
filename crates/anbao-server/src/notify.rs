//! Notification delivery (issue #7): the settings of each channel kind, the
//! exact message each receiver expects (a signed generic webhook, WeCom,
//! DingTalk and Feishu group robots, e-mail over SMTP), and the worker that
//! sends what the store has queued and records each attempt.
//!
//! The store decides what is queued (rules, the reporting-deadline scan) and
//! when a failure is retried; this module only formats and sends. The
//! message builders are pure functions of the notification, the settings and
//! the time, so tests check them field by field; the time comes from the
//! store's clock.
//!
//! Generic webhook signature (docs/notifications.md): `X-Anbao-Timestamp` is
//! the Unix time in seconds, `X-Anbao-Signature` is
//! `sha256=` + hex(HMAC-SHA256(secret, timestamp + "." + body)) over the
//! exact body bytes, so a receiver can refuse old or replayed requests.

use std::time::Duration;

use anbao_model::Timestamp;
use anbao_store::{Notification, NotificationDue, Store};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// How long one HTTP or SMTP delivery may take.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(20);
/// Header with the Unix time (seconds) the generic webhook was signed at.
pub const TIMESTAMP_HEADER: &str = "X-Anbao-Timestamp";
/// Header with `sha256=<hex>` over `timestamp.body`.
pub const SIGNATURE_HEADER: &str = "X-Anbao-Signature";
/// Header with the notification id; retries repeat it, so a receiver can
/// drop duplicates.
pub const ID_HEADER: &str = "X-Anbao-Notification";

/// How an SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS (port 587); refused if the
    /// server does not offer it.
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a relay on the same host or network.
    None,
}

/// A channel's settings as sealed in the store, by kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum ChannelSettings {
    Email {
        host: String,
        port: u16,
        security: SmtpSecurity,
        #[serde(default)]
        user: String,
        #[serde(default)]
        password: String,
        from: String,
        to: Vec<String>,
    },
    Webhook {
        url: String,
        secret: String,
    },
    Wecom {
        url: String,
    },
    Dingtalk {
        url: String,
        #[serde(default)]
        secret: String,
    },
    Feishu {
        url: String,
        #[serde(default)]
        secret: String,
    },
}

/// Why a channel's settings are refused; names the field.
#[derive(Debug, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct SettingsError {
    pub field: &'static str,
    pub reason: String,
}

fn bad(field: &'static str, reason: impl Into<String>) -> SettingsError {
    SettingsError { field, reason: reason.into() }
}

fn check_url(url: &str) -> Result<(), SettingsError> {
    let parsed = url::Url::parse(url).map_err(|e| bad("url", e.to_string()))?;
    if !matches!(parsed.scheme(), "https" | "http") || parsed.host_str().is_none() {
        return Err(bad("url", "use an https:// (or http://) URL"));
    }
    Ok(())
}

/// The URL without its query (robot URLs carry their token there) and
/// without user information: what the channel list shows.
fn url_display(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => format!("{}://{}{}", u.scheme(), u.host_str().unwrap_or_default(), u.path()),
        Err(_) => String::new(),
    }
}

impl ChannelSettings {
    pub fn kind(&self) -> &'static str {
        match self {
            ChannelSettings::Email { .. } => "email",
            ChannelSettings::Webhook { .. } => "webhook",
            ChannelSettings::Wecom { .. } => "wecom",
            ChannelSettings::Dingtalk { .. } => "dingtalk",
            ChannelSettings::Feishu { .. } => "feishu",
        }
    }

    pub fn check(&self) -> Result<(), SettingsError> {
        match self {
            ChannelSettings::Email { host, port, from, to, user, password, .. } => {
                if host.trim().is_empty() {
                    return Err(bad("host", "must not be empty"));
                }
                if *port == 0 {
                    return Err(bad("port", "must not be 0"));
                }
                from.parse::<lettre::message::Mailbox>().map_err(|e| bad("from", e.to_string()))?;
                if to.is_empty() {
                    return Err(bad("to", "at least one recipient"));
                }
                for t in to {
                    t.parse::<lettre::message::Mailbox>().map_err(|e| bad("to", format!("{t:?}: {e}")))?;
                }
                if user.is_empty() != password.is_empty() {
                    return Err(bad("password", "set both user and password, or neither"));
                }
                Ok(())
            }
            ChannelSettings::Webhook { url, secret } => {
                check_url(url)?;
                if secret.len() < 16 {
                    return Err(bad("secret", "at least 16 characters"));
                }
                Ok(())
            }
            ChannelSettings::Wecom { url } => check_url(url),
            ChannelSettings::Dingtalk { url, .. } | ChannelSettings::Feishu { url, .. } => check_url(url),
        }
    }

    /// Where the channel sends, without any secret.
    pub fn target(&self) -> String {
        match self {
            ChannelSettings::Email { host, port, to, .. } => format!("smtp://{host}:{port} → {}", to.join(", ")),
            ChannelSettings::Webhook { url, .. }
            | ChannelSettings::Wecom { url }
            | ChannelSettings::Dingtalk { url, .. }
            | ChannelSettings::Feishu { url, .. } => url_display(url),
        }
    }
}

/// An HTTP POST to make: URL, headers and the exact body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpPost {
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    // HMAC takes keys of any length; the error case cannot happen.
    let mut mac = match HmacSha256::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => return Vec::new(),
    };
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

/// The generic webhook's `X-Anbao-Signature` value.
pub fn webhook_signature(secret: &str, timestamp: i64, body: &str) -> String {
    let signed = format!("{timestamp}.{body}");
    format!("sha256={}", hex::encode(hmac_sha256(secret.as_bytes(), signed.as_bytes())))
}

/// DingTalk's `sign`: base64(HMAC-SHA256(key=secret, msg="timestamp\nsecret")),
/// timestamp in milliseconds, URL-encoded into the query by the caller.
/// <https://open.dingtalk.com/document/robots/customize-robot-security-settings>
pub fn dingtalk_sign(secret: &str, timestamp_ms: i64) -> String {
    BASE64.encode(hmac_sha256(secret.as_bytes(), format!("{timestamp_ms}\n{secret}").as_bytes()))
}

/// Feishu's `sign`: base64(HMAC-SHA256(key="timestamp\nsecret", msg="")),
/// timestamp in seconds. (The key is the string to sign, the message empty:
/// the reverse of DingTalk.)
/// <https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot>
pub fn feishu_sign(secret: &str, timestamp_s: i64) -> String {
    BASE64.encode(hmac_sha256(format!("{timestamp_s}\n{secret}").as_bytes(), b""))
}

/// Markdown text of a notification for the robots: the subject as a
/// heading, then the body lines.
fn markdown(n: &Notification) -> String {
    let mut text = format!("### {}\n", n.subject);
    for line in n.body.lines() {
        text.push_str("> ");
        text.push_str(line);
        text.push('\n');
    }
    text
}

/// Cuts `s` to at most `max` bytes on a character boundary.
fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// The HTTP request for a webhook or robot channel, `None` for e-mail.
pub fn http_post(n: &Notification, settings: &ChannelSettings, now: Timestamp) -> Option<HttpPost> {
    let seconds = now.unix_timestamp();
    let json_header = ("Content-Type", "application/json; charset=utf-8".to_owned());
    match settings {
        ChannelSettings::Email { .. } => None,
        ChannelSettings::Webhook { url, secret } => {
            let data: serde_json::Value = serde_json::from_str(&n.payload).unwrap_or(serde_json::Value::Null);
            let body = json!({
                "id": n.id,
                "event": n.event,
                "subject": n.subject,
                "body": n.body,
                "created_at": n.created_at,
                "data": data.get("data").cloned().unwrap_or(serde_json::Value::Null),
            })
            .to_string();
            Some(HttpPost {
                url: url.clone(),
                headers: vec![
                    json_header,
                    (TIMESTAMP_HEADER, seconds.to_string()),
                    (SIGNATURE_HEADER, webhook_signature(secret, seconds, &body)),
                    (ID_HEADER, n.id.to_string()),
                ],
                body,
            })
        }
        // WeCom group robot, markdown message; content at most 4096 bytes.
        // <https://developer.work.weixin.qq.com/document/path/91770>
        ChannelSettings::Wecom { url } => Some(HttpPost {
            url: url.clone(),
            headers: vec![json_header],
            body: json!({ "msgtype": "markdown", "markdown": { "content": cut(&markdown(n), 4096) } }).to_string(),
        }),
        // DingTalk custom robot, markdown message; the signature goes in the
        // query as `timestamp` (ms) and `sign`.
        // <https://open.dingtalk.com/document/orgapp/custom-robot-access>
        ChannelSettings::Dingtalk { url, secret } => {
            let mut target = url.clone();
            if !secret.is_empty() {
                let ms = seconds * 1000 + i64::from(now.millisecond());
                let sign = dingtalk_sign(secret, ms);
                let encoded = percent_encoding::utf8_percent_encode(&sign, percent_encoding::NON_ALPHANUMERIC);
                target.push(if target.contains('?') { '&' } else { '?' });
                target.push_str(&format!("timestamp={ms}&sign={encoded}"));
            }
            Some(HttpPost {
                url: target,
                headers: vec![json_header],
                body: json!({ "msgtype": "markdown", "markdown": { "title": n.subject, "text": markdown(n) } })
                    .to_string(),
            })
        }
        // Feishu custom bot, rich-text ("post") message; `timestamp` (s, as
        // a string) and `sign` in the body when signing is on.
        // <https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot>
        ChannelSettings::Feishu { url, secret } => {
            let lines: Vec<serde_json::Value> = n.body.lines().map(|l| json!([{ "tag": "text", "text": l }])).collect();
            let mut body = json!({
                "msg_type": "post",
                "content": { "post": { "zh_cn": { "title": n.subject, "content": lines } } },
            });
            if !secret.is_empty() {
                body["timestamp"] = json!(seconds.to_string());
                body["sign"] = json!(feishu_sign(secret, seconds));
            }
            Some(HttpPost { url: url.clone(), headers: vec![json_header], body: body.to_string() })
        }
    }
}

/// Whether a robot's answer (HTTP 200 either way) says it took the message:
/// WeCom and DingTalk answer `errcode` 0, Feishu `code` 0 (older versions
/// `StatusCode` 0). A generic webhook's 2xx is enough.
fn robot_accepted(kind: &str, answer: &str) -> Result<(), String> {
    if kind == "webhook" {
        return Ok(());
    }
    let v: serde_json::Value =
        serde_json::from_str(answer).map_err(|_| format!("unexpected answer: {}", cut(answer, 200)))?;
    let code = v.get("errcode").or_else(|| v.get("code")).or_else(|| v.get("StatusCode")).and_then(|c| c.as_i64());
    match code {
        Some(0) => Ok(()),
        _ => Err(format!("refused: {}", cut(answer, 300))),
    }
}

async fn send_http(kind: &'static str, post: HttpPost) -> Result<(), String> {
    let sent = tokio::task::spawn_blocking(move || {
        let agent = ureq::AgentBuilder::new().timeout(SEND_TIMEOUT).redirects(0).build();
        let mut request = agent.post(&post.url);
        for (name, value) in &post.headers {
            request = request.set(name, value);
        }
        match request.send_string(&post.body) {
            Ok(resp) => {
                let text = resp.into_string().map_err(|e| format!("reading the answer: {e}"))?;
                robot_accepted(kind, &text)
            }
            Err(ureq::Error::Status(code, resp)) => {
                let text = resp.into_string().unwrap_or_default();
                Err(format!("HTTP {code}: {}", cut(&text, 300)))
            }
            // The transport error names the URL, which for robots holds the
            // token: say only what went wrong.
            Err(ureq::Error::Transport(t)) => Err(format!("{:?}: {}", t.kind(), t.message().unwrap_or_default())),
        }
    })
    .await;
    sent.unwrap_or_else(|e| Err(e.to_string()))
}

/// The e-mail for a notification: plain text, UTF-8.
pub fn email_message(n: &Notification, settings: &ChannelSettings) -> Result<lettre::Message, String> {
    let ChannelSettings::Email { from, to, .. } = settings else { return Err("not an e-mail channel".into()) };
    let mut builder = lettre::Message::builder()
        .from(from.parse().map_err(|e| format!("from: {e}"))?)
        .subject(n.subject.clone())
        .header(lettre::message::header::ContentType::TEXT_PLAIN);
    for t in to {
        builder = builder.to(t.parse().map_err(|e| format!("to {t:?}: {e}"))?);
    }
    builder.body(n.body.clone()).map_err(|e| e.to_string())
}

async fn send_email(n: &Notification, settings: &ChannelSettings) -> Result<(), String> {
    use lettre::transport::smtp::client::{Tls, TlsParameters};
    use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
    let ChannelSettings::Email { host, port, security, user, password, .. } = settings else {
        return Err("not an e-mail channel".into());
    };
    let message = email_message(n, settings)?;
    let tls = match security {
        SmtpSecurity::None => Tls::None,
        SmtpSecurity::Starttls => Tls::Required(TlsParameters::new(host.clone()).map_err(|e| e.to_string())?),
        SmtpSecurity::Tls => Tls::Wrapper(TlsParameters::new(host.clone()).map_err(|e| e.to_string())?),
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host.as_str())
        .port(*port)
        .tls(tls)
        .timeout(Some(SEND_TIMEOUT));
    if !user.is_empty() {
        builder = builder
            .credentials(lettre::transport::smtp::authentication::Credentials::new(user.clone(), password.clone()));
    }
    builder.build().send(message).await.map(|_| ()).map_err(|e| e.to_string())
}

/// Sends one claimed notification; the error text is what the record shows.
pub async fn deliver(due: &NotificationDue, now: Timestamp) -> Result<(), String> {
    let settings: ChannelSettings =
        serde_json::from_value(due.settings.clone()).map_err(|e| format!("channel settings: {e}"))?;
    match http_post(&due.notification, &settings, now) {
        Some(post) => send_http(settings.kind(), post).await,
        None => send_email(&due.notification, &settings).await,
    }
}

/// What one pass of the worker did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    /// Deadline events queued by the scan.
    pub queued: u64,
    pub sent: u64,
    pub failed: u64,
}

/// One pass: queue reporting-deadline events that are due, then send every
/// due notification and record each attempt.
pub async fn run_once(store: &Store) -> Result<Pass, anbao_store::StoreError> {
    let mut pass = Pass { queued: store.scan_notify_deadlines().await?, ..Pass::default() };
    loop {
        let batch = store.claim_due_notifications(20).await?;
        if batch.is_empty() {
            return Ok(pass);
        }
        for due in &batch {
            let outcome = deliver(due, store.clock().now()).await;
            if let Err(e) = &outcome {
                tracing::warn!(notification = due.notification.id, channel = %due.notification.channel_name, error = %e, "notification not delivered");
                pass.failed += 1;
            } else {
                pass.sent += 1;
            }
            store.record_notification_attempt(due.notification.id, outcome).await?;
        }
    }
}

/// Runs [`run_once`] every `every` in the background. Any node may: claims
/// are leased with a compare-and-set and deadline events are de-duplicated.
pub fn spawn_worker(store: Store, every: Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            if let Err(e) = run_once(&store).await {
                tracing::warn!(error = %e, "notification worker");
            }
        }
    });
}
