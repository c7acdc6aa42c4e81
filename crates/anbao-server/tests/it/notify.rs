//! Notification delivery: a signed webhook checked by a receiver on
//! loopback, the robot formats field by field with their signatures against
//! values computed here independently, e-mail through an SMTP sink started
//! by the test, and retries with backoff moved by the injected clock.

use std::sync::{Arc, Mutex};

use anbao_model::clock::parse_ts;
use anbao_model::incident::{IncidentFacts, IncidentRules, IncidentType, OperatorCategory};
use anbao_model::{Clock, ManualClock};
use anbao_server::notify::{self, ChannelSettings, SmtpSecurity};
use anbao_store::{
    Actor, IncidentDraft, Notification, NotifyChannelDraft, NotifyRuleDraft, Sealer, Store, StoreOptions,
};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use time::Duration;
use time::macros::datetime;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

const SECRET: &str = "a-webhook-secret-of-some-length";

struct Fixture {
    store: Store,
    clock: Arc<ManualClock>,
    _dir: tempfile::TempDir,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let url = anbao_store::sqlite_url(&dir.path().join("t.db"));
    let clock = Arc::new(ManualClock::new(datetime!(2026-11-25 09:00 UTC)));
    let mut options = StoreOptions::new(Sealer::from_hex(&Sealer::generate_key_hex()).unwrap());
    options.clock = clock.clone();
    let store = Store::open(&url, options).await.unwrap();
    store.bootstrap("集团公司").await.unwrap();
    Fixture { store, clock, _dir: dir }
}

async fn channel(store: &Store, name: &str, settings: &ChannelSettings) -> i64 {
    settings.check().unwrap();
    let draft = NotifyChannelDraft {
        name: name.into(),
        kind: settings.kind().into(),
        target: settings.target(),
        settings: Some(serde_json::to_value(settings).unwrap()),
        enabled: true,
    };
    store.create_notify_channel(&Actor::system(), &draft).await.unwrap().id
}

/// What a loopback receiver got, and what it answers.
#[derive(Default)]
struct Receiver {
    got: Mutex<Vec<(HeaderMap, String, String)>>,
    answer: Mutex<(u16, String)>,
}

async fn receive(
    State(r): State<Arc<Receiver>>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: String,
) -> (StatusCode, String) {
    r.got.lock().unwrap().push((headers, uri.to_string(), body));
    let (status, text) = r.answer.lock().unwrap().clone();
    (StatusCode::from_u16(status).unwrap(), text)
}

async fn start_receiver(status: u16, answer: &str) -> (Arc<Receiver>, String) {
    let r = Arc::new(Receiver::default());
    *r.answer.lock().unwrap() = (status, answer.to_owned());
    let app = axum::Router::new().route("/hook", axum::routing::post(receive)).with_state(r.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (r, format!("http://{addr}/hook"))
}

fn hmac_sha256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(msg);
    mac.finalize().into_bytes().to_vec()
}

async fn open_incident(store: &Store) -> anbao_store::Incident {
    let root = store.root_org_unit().await.unwrap().unwrap();
    let draft = IncidentDraft {
        org_unit_id: root.id,
        incident_type: IncidentType::DataLeak,
        title: "用户信息泄露".into(),
        summary: String::new(),
        facts: IncidentFacts { records_leaked: 1_000_000, ..Default::default() },
        operator_category: OperatorCategory::Cii,
        discovered_at: store.clock().now(),
    };
    store.create_incident(&Actor::system(), &draft, IncidentRules::builtin().unwrap()).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_is_signed_over_the_exact_body_and_deadlines_escalate() {
    let f = fixture().await;
    let (receiver, url) = start_receiver(200, "ok").await;
    let id = channel(&f.store, "soc", &ChannelSettings::Webhook { url, secret: SECRET.into() }).await;
    for (event, minutes_before) in [("incident_opened", 0), ("deadline_approaching", 30), ("deadline_passed", 0)] {
        let rule = NotifyRuleDraft {
            channel_id: id,
            event: event.into(),
            min_level: anbao_model::incident::IncidentLevel::None,
            min_severity: 0,
            minutes_before,
            enabled: true,
        };
        f.store.create_notify_rule(&Actor::system(), &rule).await.unwrap();
    }
    let incident = open_incident(&f.store).await;
    let pass = notify::run_once(&f.store).await.unwrap();
    assert_eq!((pass.sent, pass.failed), (1, 0));

    let got = receiver.got.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    let (headers, _, body) = &got[0];
    let timestamp = headers.get("x-anbao-timestamp").unwrap().to_str().unwrap();
    assert_eq!(timestamp, datetime!(2026-11-25 09:00 UTC).unix_timestamp().to_string(), "the injected clock's time");
    let want =
        format!("sha256={}", hex::encode(hmac_sha256(SECRET.as_bytes(), format!("{timestamp}.{body}").as_bytes())));
    assert_eq!(headers.get("x-anbao-signature").unwrap().to_str().unwrap(), want);
    let other =
        format!("sha256={}", hex::encode(hmac_sha256(b"wrong secret", format!("{timestamp}.{body}").as_bytes())));
    assert_ne!(want, other);
    let v: Value = serde_json::from_str(body).unwrap();
    assert_eq!(v["event"], "incident_opened");
    assert_eq!(v["data"]["id"], incident.id);
    assert_eq!(v["data"]["level"], "III");
    assert_eq!(headers.get("x-anbao-notification").unwrap().to_str().unwrap(), v["id"].to_string());

    // CII, level III: 60 minutes. Warned once at 30 minutes before, once at expiry.
    for (advance, expect) in [(29, 0), (1, 1), (10, 0), (19, 0), (1, 1), (60, 0)] {
        f.clock.advance(Duration::minutes(advance));
        let pass = notify::run_once(&f.store).await.unwrap();
        assert_eq!((pass.queued, pass.sent), (expect, expect), "after {advance} more minutes");
    }
    let events: Vec<String> = receiver
        .got
        .lock()
        .unwrap()
        .iter()
        .map(|(_, _, b)| serde_json::from_str::<Value>(b).unwrap()["event"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(events, ["incident_opened", "deadline_approaching", "deadline_passed"]);
    let records = f.store.list_notifications(Some("sent"), 10).await.unwrap();
    assert_eq!(records.len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_channel_is_retried_with_backoff_then_given_up() {
    let f = fixture().await;
    let (receiver, url) = start_receiver(503, "busy").await;
    let id = channel(&f.store, "flaky", &ChannelSettings::Webhook { url, secret: SECRET.into() }).await;
    let n = f.store.queue_test_notification(&Actor::system(), id).await.unwrap();

    let pass = notify::run_once(&f.store).await.unwrap();
    assert_eq!((pass.sent, pass.failed), (0, 1));
    let mut waits = Vec::new();
    loop {
        let record = f.store.get_notification(n.id).await.unwrap();
        assert!(record.last_error.contains("503"), "{}", record.last_error);
        if record.status == "failed" {
            break;
        }
        let next = parse_ts(&record.next_attempt_at).unwrap();
        let wait = next - f.clock.now();
        waits.push(wait.whole_minutes());
        // Nothing is sent before the wait is over.
        f.clock.advance(wait - Duration::seconds(1));
        assert_eq!(notify::run_once(&f.store).await.unwrap().failed, 0);
        f.clock.advance(Duration::seconds(1));
        assert_eq!(notify::run_once(&f.store).await.unwrap().failed, 1);
    }
    assert_eq!(waits, [1, 5, 15, 60]);
    assert_eq!(receiver.got.lock().unwrap().len(), 5, "five attempts reached the receiver");
    let record = f.store.get_notification(n.id).await.unwrap();
    assert_eq!((record.status.as_str(), record.attempts), ("failed", anbao_store::NOTIFY_MAX_ATTEMPTS));
    f.clock.advance(Duration::days(1));
    assert_eq!(notify::run_once(&f.store).await.unwrap(), notify::Pass::default());

    // A robot answering HTTP 200 with a non-zero errcode has not taken it.
    let (robot, url) = start_receiver(200, r#"{"errcode":93000,"errmsg":"invalid webhook url"}"#).await;
    let wecom = channel(&f.store, "wecom", &ChannelSettings::Wecom { url }).await;
    let m = f.store.queue_test_notification(&Actor::system(), wecom).await.unwrap();
    notify::run_once(&f.store).await.unwrap();
    let record = f.store.get_notification(m.id).await.unwrap();
    assert_eq!(record.status, "pending");
    assert!(record.last_error.contains("93000"), "{}", record.last_error);
    *robot.answer.lock().unwrap() = (200, r#"{"errcode":0,"errmsg":"ok"}"#.into());
    f.clock.advance(Duration::minutes(1));
    notify::run_once(&f.store).await.unwrap();
    let record = f.store.get_notification(m.id).await.unwrap();
    assert_eq!((record.status.as_str(), record.attempts), ("sent", 2));
}

fn sample() -> Notification {
    Notification {
        id: 7,
        channel_id: 1,
        channel_name: "c".into(),
        channel_kind: "x".into(),
        rule_id: Some(2),
        event: "incident_opened".into(),
        subject: "[anbao] 新事件 Incident opened #3".into(),
        body: "事件 Incident #3\n级别 Level: II".into(),
        payload: r#"{"event":"incident_opened","data":{"id":3}}"#.into(),
        status: "pending".into(),
        attempts: 0,
        next_attempt_at: "2026-11-25T09:00:00.000Z".into(),
        last_error: String::new(),
        created_at: "2026-11-25T09:00:00.000Z".into(),
        sent_at: None,
    }
}

fn body_of(post: &notify::HttpPost) -> Value {
    assert!(post.headers.iter().any(|(k, v)| *k == "Content-Type" && v.starts_with("application/json")));
    serde_json::from_str(&post.body).unwrap()
}

#[test]
fn robot_messages_have_the_documented_shapes_and_signatures() {
    let now = datetime!(2026-11-25 09:00:00.250 UTC);
    let n = sample();
    let markdown = "### [anbao] 新事件 Incident opened #3\n> 事件 Incident #3\n> 级别 Level: II\n";

    let url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k-123";
    let post = notify::http_post(&n, &ChannelSettings::Wecom { url: url.into() }, now).unwrap();
    assert_eq!(post.url, url);
    assert_eq!(body_of(&post), json!({ "msgtype": "markdown", "markdown": { "content": markdown } }));

    // DingTalk: timestamp in ms and sign = urlencode(base64(HMAC(secret, "ts\nsecret"))) in the query.
    let secret = "SEC0123456789abcdef";
    let url = "https://oapi.dingtalk.com/robot/send?access_token=t-1";
    let post =
        notify::http_post(&n, &ChannelSettings::Dingtalk { url: url.into(), secret: secret.into() }, now).unwrap();
    let ms = 1_795_597_200_250_i64;
    assert_eq!(now.unix_timestamp() * 1000 + 250, ms);
    let sign = BASE64.encode(hmac_sha256(secret.as_bytes(), format!("{ms}\n{secret}").as_bytes()));
    let parsed = url::Url::parse(&post.url).unwrap();
    let query: Vec<(String, String)> = parsed.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    assert_eq!(
        query,
        [("access_token".into(), "t-1".into()), ("timestamp".into(), ms.to_string()), ("sign".into(), sign.clone())]
    );
    let encoded = sign.replace('+', "%2B").replace('/', "%2F").replace('=', "%3D");
    assert!(post.url.ends_with(&format!("&timestamp={ms}&sign={encoded}")), "{}", post.url);
    assert_eq!(body_of(&post), json!({ "msgtype": "markdown", "markdown": { "title": n.subject, "text": markdown } }));
    let unsigned = notify::http_post(&n, &ChannelSettings::Dingtalk { url: url.into(), secret: String::new() }, now);
    assert_eq!(unsigned.unwrap().url, url);

    // Feishu: timestamp in seconds (a string) and sign = base64(HMAC(key "ts\nsecret", "")) in the body.
    let url = "https://open.feishu.cn/open-apis/bot/v2/hook/h-1";
    let post = notify::http_post(&n, &ChannelSettings::Feishu { url: url.into(), secret: secret.into() }, now).unwrap();
    let s = now.unix_timestamp();
    let sign = BASE64.encode(hmac_sha256(format!("{s}\n{secret}").as_bytes(), b""));
    assert_eq!(post.url, url);
    assert_eq!(
        body_of(&post),
        json!({
            "timestamp": s.to_string(),
            "sign": sign,
            "msg_type": "post",
            "content": { "post": { "zh_cn": {
                "title": n.subject,
                "content": [[{ "tag": "text", "text": "事件 Incident #3" }], [{ "tag": "text", "text": "级别 Level: II" }]],
            } } },
        })
    );

    // Known vectors: Feishu's documented example timestamp, and DingTalk's
    // Python sample's "this is secret", computed by hand with the hmac crate above.
    assert_eq!(
        notify::feishu_sign("test-secret", 1_599_360_473),
        BASE64.encode(hmac_sha256(b"1599360473\ntest-secret", b""))
    );
    assert_eq!(
        notify::dingtalk_sign("this is secret", 1_577_000_000_000),
        BASE64.encode(hmac_sha256(b"this is secret", b"1577000000000\nthis is secret"))
    );
    assert_ne!(notify::feishu_sign("s", 1), notify::dingtalk_sign("s", 1), "the two schemes differ");
}

#[test]
fn channel_settings_are_checked_and_shown_without_secrets() {
    let robot =
        ChannelSettings::Wecom { url: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=secret-key".into() };
    robot.check().unwrap();
    assert_eq!(robot.target(), "https://qyapi.weixin.qq.com/cgi-bin/webhook/send");
    let weak = ChannelSettings::Webhook { url: "https://x.example/h".into(), secret: "short".into() };
    assert_eq!(weak.check().unwrap_err().field, "secret");
    let ftp = ChannelSettings::Feishu { url: "ftp://x.example/".into(), secret: String::new() };
    assert_eq!(ftp.check().unwrap_err().field, "url");
    let mail = ChannelSettings::Email {
        host: "smtp.example".into(),
        port: 587,
        security: SmtpSecurity::Starttls,
        user: "u".into(),
        password: "p".into(),
        from: "anbao <anbao@example.cn>".into(),
        to: vec!["not an address".into()],
    };
    assert_eq!(mail.check().unwrap_err().field, "to");
    let parsed: ChannelSettings =
        serde_json::from_value(json!({ "kind": "dingtalk", "url": "https://oapi.dingtalk.com/robot/send" })).unwrap();
    assert_eq!(
        parsed,
        ChannelSettings::Dingtalk { url: "https://oapi.dingtalk.com/robot/send".into(), secret: String::new() }
    );
}

/// A minimal SMTP server: accepts one message per connection and keeps its
/// envelope and data.
async fn smtp_sink() -> (u16, Arc<Mutex<Vec<(Vec<String>, String)>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let got = Arc::new(Mutex::new(Vec::new()));
    let kept = got.clone();
    tokio::spawn(async move {
        loop {
            let (socket, _) = listener.accept().await.unwrap();
            let kept = kept.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 sink ESMTP\r\n").await.unwrap();
                let mut envelope = Vec::new();
                while let Ok(Some(line)) = lines.next_line().await {
                    let verb = line.to_ascii_uppercase();
                    if verb.starts_with("EHLO") || verb.starts_with("HELO") {
                        write.write_all(b"250-sink\r\n250 8BITMIME\r\n").await.unwrap();
                    } else if verb.starts_with("MAIL") || verb.starts_with("RCPT") {
                        envelope.push(line.clone());
                        write.write_all(b"250 ok\r\n").await.unwrap();
                    } else if verb == "DATA" {
                        write.write_all(b"354 go on\r\n").await.unwrap();
                        let mut data = String::new();
                        while let Ok(Some(l)) = lines.next_line().await {
                            if l == "." {
                                break;
                            }
                            data.push_str(&l);
                            data.push('\n');
                        }
                        kept.lock().unwrap().push((envelope.clone(), data));
                        write.write_all(b"250 queued\r\n").await.unwrap();
                    } else if verb == "QUIT" {
                        write.write_all(b"221 bye\r\n").await.unwrap();
                        break;
                    } else {
                        write.write_all(b"250 ok\r\n").await.unwrap();
                    }
                }
            });
        }
    });
    (port, got)
}

/// The decoded text of RFC 2047 encoded words (`=?utf-8?b?…?=`, `=?utf-8?q?…?=`).
fn decode_words(header: &str) -> String {
    let mut out = String::new();
    // Whitespace between two encoded words is not part of the text (RFC 2047 §6.2).
    let mut previous_encoded = None;
    for word in header.split_whitespace() {
        let lower = word.to_ascii_lowercase();
        let encoded = lower.starts_with("=?utf-8?") && word.ends_with("?=");
        if previous_encoded.is_some() && !(encoded && previous_encoded == Some(true)) {
            out.push(' ');
        }
        if lower.starts_with("=?utf-8?b?") && encoded {
            out.push_str(&String::from_utf8(BASE64.decode(&word[10..word.len() - 2]).unwrap()).unwrap());
        } else if lower.starts_with("=?utf-8?q?") && encoded {
            out.push_str(&decode_qp(&word[10..word.len() - 2].replace('_', " ")));
        } else {
            out.push_str(word);
        }
        previous_encoded = Some(encoded);
    }
    out
}

fn decode_qp(s: &str) -> String {
    let s = s.replace("=\n", "");
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 3 <= bytes.len() {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

fn got_count(got: &Mutex<Vec<(Vec<String>, String)>>) -> usize {
    got.lock().unwrap().len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_reaches_an_smtp_sink_with_subject_and_body() {
    let f = fixture().await;
    let (port, got) = smtp_sink().await;
    let settings = ChannelSettings::Email {
        host: "127.0.0.1".into(),
        port,
        security: SmtpSecurity::None,
        user: String::new(),
        password: String::new(),
        from: "anbao <anbao@example.cn>".into(),
        to: vec!["duty@example.cn".into(), "值班 <oncall@example.cn>".into()],
    };
    let id = channel(&f.store, "mail", &settings).await;
    let rule = NotifyRuleDraft {
        channel_id: id,
        event: "incident_opened".into(),
        min_level: anbao_model::incident::IncidentLevel::None,
        min_severity: 0,
        minutes_before: 0,
        enabled: true,
    };
    f.store.create_notify_rule(&Actor::system(), &rule).await.unwrap();
    let incident = open_incident(&f.store).await;
    let pass = notify::run_once(&f.store).await.unwrap();
    assert_eq!((pass.sent, pass.failed), (1, 0), "{:?}", f.store.list_notifications(None, 5).await.unwrap());

    let received = got.lock().unwrap().clone();
    assert_eq!(received.len(), 1);
    let (envelope, data) = &received[0];
    assert_eq!(envelope, &["MAIL FROM:<anbao@example.cn>", "RCPT TO:<duty@example.cn>", "RCPT TO:<oncall@example.cn>"]);
    let (head, body) = data.split_once("\n\n").unwrap();
    // Unfold header lines, then find the subject.
    let unfolded = head.replace("\n ", " ").replace("\n\t", " ");
    let subject = unfolded.lines().find_map(|l| l.strip_prefix("Subject: ")).unwrap();
    assert_eq!(decode_words(subject), format!("[anbao] 新事件 Incident opened #{}: 用户信息泄露 (III)", incident.id));
    let encoding = unfolded.lines().find_map(|l| l.strip_prefix("Content-Transfer-Encoding: ")).unwrap_or("8bit");
    let text = match encoding {
        "base64" => String::from_utf8(BASE64.decode(body.replace('\n', "")).unwrap()).unwrap(),
        "quoted-printable" => decode_qp(body),
        _ => body.to_owned(),
    };
    assert!(text.contains(&format!("事件 Incident #{}: 用户信息泄露", incident.id)), "{text}");
    assert!(text.contains("级别 Level: III"), "{text}");

    // STARTTLS required but not offered by the server: nothing goes out in the clear.
    let mut downgrade = settings.clone();
    if let ChannelSettings::Email { security, .. } = &mut downgrade {
        *security = SmtpSecurity::Starttls;
    }
    let starttls = channel(&f.store, "starttls", &downgrade).await;
    let n = f.store.queue_test_notification(&Actor::system(), starttls).await.unwrap();
    notify::run_once(&f.store).await.unwrap();
    let record = f.store.get_notification(n.id).await.unwrap();
    assert_eq!((record.status.as_str(), record.attempts), ("pending", 1), "{record:?}");
    assert_eq!(got_count(&got), 1, "no second message reached the sink");

    // Nothing listening: the attempt fails and is kept for a retry.
    let mut dead = settings;
    if let ChannelSettings::Email { port, .. } = &mut dead {
        *port = 1;
    }
    let dead_id = channel(&f.store, "dead", &dead).await;
    let n = f.store.queue_test_notification(&Actor::system(), dead_id).await.unwrap();
    notify::run_once(&f.store).await.unwrap();
    let record = f.store.get_notification(n.id).await.unwrap();
    assert_eq!((record.status.as_str(), record.attempts), ("pending", 1));
    assert!(!record.last_error.is_empty());
}

#[tokio::test]
async fn channels_are_managed_through_the_api_and_secrets_never_come_back() {
    use crate::harness::{App, Req};
    use anbao_model::Role;
    let app = App::new().await;
    let admin = app.token(Role::Admin).to_owned();
    let created = app
        .send(Req::post("/api/v1/notifications/channels").bearer(&admin).json(&json!({
            "name": "钉钉值班群",
            "settings": { "kind": "dingtalk", "url": "https://oapi.dingtalk.com/robot/send?access_token=tok-123", "secret": "SECabc" },
        })))
        .await;
    created.assert_status(StatusCode::CREATED);
    let channel = created.json();
    assert_eq!(channel["kind"], "dingtalk");
    assert_eq!(channel["target"], "https://oapi.dingtalk.com/robot/send");
    let id = channel["id"].as_i64().unwrap();

    let bad = app
        .send(Req::post("/api/v1/notifications/channels").bearer(&admin).json(&json!({
            "name": "x", "settings": { "kind": "webhook", "url": "https://x.example/h", "secret": "short" },
        })))
        .await;
    bad.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.error_field().as_deref(), Some("settings"));

    let rule = app
        .send(Req::post("/api/v1/notifications/rules").bearer(&admin).json(&json!({
            "channel_id": id, "event": "deadline_approaching", "minutes_before": 30, "min_level": "III",
        })))
        .await;
    rule.assert_status(StatusCode::CREATED);
    assert_eq!(rule.json()["min_level"], "III");
    app.send(Req::post(&format!("/api/v1/notifications/channels/{id}/test")).bearer(&admin))
        .await
        .assert_status(StatusCode::ACCEPTED);

    // Rename without settings: the robot token and secret stay as they were.
    app.send(
        Req::put(&format!("/api/v1/notifications/channels/{id}")).bearer(&admin).json(&json!({ "name": "值班群" })),
    )
    .await
    .assert_status(StatusCode::OK);
    let settings = app.store.notify_channel_settings(id).await.unwrap();
    assert_eq!(settings["secret"], "SECabc");

    for uri in
        ["/api/v1/notifications/channels", "/api/v1/notifications/rules", "/api/v1/notifications", "/api/v1/audit"]
    {
        let text = app.send(Req::get(uri).bearer(&admin)).await.text();
        assert!(!text.contains("tok-123") && !text.contains("SECabc"), "{uri} leaks a secret: {text}");
    }
    let records = app.send(Req::get("/api/v1/notifications?status=pending").bearer(&admin)).await.json();
    assert_eq!(records.as_array().unwrap().len(), 1);
    assert_eq!(records[0]["event"], "test");

    let page = app.send(Req::get("/notifications").bearer(&admin)).await;
    page.assert_status(StatusCode::OK);
    let html = page.text();
    assert!(html.contains("值班群") && html.contains("deadline_approaching"), "{html}");
    assert!(!html.contains("tok-123") && !html.contains("SECabc"));
    app.send(Req::get("/api/v1/notifications").bearer(app.token(Role::Analyst)))
        .await
        .assert_status(StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_notifications_page_adds_channels_and_rules_from_its_forms() {
    use crate::harness::{App, Req};
    let app = App::new().await;
    let s = app.login("admin", &app.admin_password).await;
    let form = |uri: &str, fields: &[(&str, &str)]| {
        let mut all = vec![("_csrf", s.csrf.as_str())];
        all.extend_from_slice(fields);
        Req::post(uri).session(&s).form(&all)
    };
    let r = app
        .send(form(
            "/notifications/channels",
            &[
                ("name", "值班邮箱"),
                ("kind", "email"),
                ("host", "smtp.example.cn"),
                ("port", "465"),
                ("security", "tls"),
                ("user", "anbao"),
                ("password", "mail-password-123"),
                ("from", "anbao@example.cn"),
                ("to", "a@example.cn, b@example.cn"),
            ],
        ))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert!(r.location().unwrap().contains("ok="), "{:?}", r.location());
    let channel = &app.store.list_notify_channels().await.unwrap()[0];
    assert_eq!(channel.target, "smtp://smtp.example.cn:465 → a@example.cn, b@example.cn");
    let settings = app.store.notify_channel_settings(channel.id).await.unwrap();
    assert_eq!((settings["security"].as_str(), settings["to"][1].as_str()), (Some("tls"), Some("b@example.cn")));

    // A bad address comes back as a message naming the field; nothing is stored.
    let r = app
        .send(form(
            "/notifications/channels",
            &[
                ("name", "坏的"),
                ("kind", "email"),
                ("host", "h"),
                ("port", "25"),
                ("security", "none"),
                ("from", "nobody"),
                ("to", "x@example.cn"),
            ],
        ))
        .await;
    assert!(r.location().unwrap().contains("error=settings.from"), "{:?}", r.location());
    assert_eq!(app.store.list_notify_channels().await.unwrap().len(), 1);

    let id = channel.id.to_string();
    let r = app
        .send(form(
            "/notifications/rules",
            &[
                ("event", "alert"),
                ("channel_id", &id),
                ("min_level", "none"),
                ("min_severity", "4"),
                ("minutes_before", "0"),
            ],
        ))
        .await;
    assert!(r.location().unwrap().contains("ok="), "{:?}", r.location());
    assert_eq!(app.store.list_notify_rules().await.unwrap()[0].min_severity, 4);
    app.send(form(&format!("/notifications/channels/{id}/test"), &[])).await;
    let page = app.send(Req::get("/notifications").session(&s)).await.text();
    assert!(page.contains("值班邮箱") && page.contains("[anbao] 测试通知"), "{page}");
    assert!(!page.contains("mail-password-123"));
    app.send(form(&format!("/notifications/channels/{id}/delete"), &[])).await;
    assert!(app.store.list_notify_channels().await.unwrap().is_empty());
}

#[tokio::test]
async fn channels_and_rules_are_edited_and_disabled_on_the_page_and_secrets_stay() {
    use crate::harness::{App, Req};
    let app = App::new().await;
    let s = app.login("admin", &app.admin_password).await;
    let form = |uri: &str, fields: &[(&str, &str)]| {
        let mut all = vec![("_csrf", s.csrf.as_str())];
        all.extend_from_slice(fields);
        Req::post(uri).session(&s).form(&all)
    };
    let email = [
        ("name", "值班邮箱"),
        ("kind", "email"),
        ("host", "smtp.example.cn"),
        ("port", "465"),
        ("security", "tls"),
        ("user", "anbao"),
        ("password", "mail-password-123"),
        ("from", "anbao@example.cn"),
        ("to", "a@example.cn"),
    ];
    app.send(form("/notifications/channels", &email)).await;
    let robot_url = "https://oapi.dingtalk.com/robot/send?access_token=robot-key-0123456789";
    app.send(form(
        "/notifications/channels",
        &[("name", "钉钉"), ("kind", "dingtalk"), ("url", robot_url), ("secret", "SEC-robot-secret-1")],
    ))
    .await;
    let channels = app.store.list_notify_channels().await.unwrap();
    let mail = channels.iter().find(|c| c.kind == "email").unwrap().id;
    let ding = channels.iter().find(|c| c.kind == "dingtalk").unwrap().id;

    // The edit forms show the plain settings and none of the secrets.
    let page = app.send(Req::get("/notifications").session(&s).cookie("anbao_lang", "en")).await.text();
    assert!(page.contains(&format!("action=\"/notifications/channels/{mail}\"")), "{page}");
    assert!(page.contains("value=\"smtp.example.cn\"") && page.contains("value=\"a@example.cn\""), "{page}");
    for secret in ["mail-password-123", "robot-key-0123456789", "SEC-robot-secret-1"] {
        assert!(!page.contains(secret), "the page shows {secret}");
    }

    // Edited with the secret fields left blank: the stored secrets stay.
    let r = app
        .send(form(
            &format!("/notifications/channels/{mail}"),
            &[
                ("name", "值班邮箱 2"),
                ("enabled", "1"),
                ("host", "smtp2.example.cn"),
                ("port", "587"),
                ("security", "starttls"),
                ("user", "anbao"),
                ("password", ""),
                ("from", "anbao@example.cn"),
                ("to", "a@example.cn, c@example.cn"),
            ],
        ))
        .await;
    assert!(r.location().unwrap().contains("ok="), "{:?}", r.location());
    let settings = app.store.notify_channel_settings(mail).await.unwrap();
    assert_eq!(settings["host"], "smtp2.example.cn");
    assert_eq!(settings["password"], "mail-password-123", "blank keeps the password");
    assert_eq!(settings["to"], json!(["a@example.cn", "c@example.cn"]));
    let c = app.store.get_notify_channel(mail).await.unwrap();
    assert_eq!(
        (c.name.as_str(), c.target.as_str()),
        ("值班邮箱 2", "smtp://smtp2.example.cn:587 → a@example.cn, c@example.cn")
    );

    // The robot: disabled with only a new secret; the URL (with its key) stays.
    let r = app
        .send(form(
            &format!("/notifications/channels/{ding}"),
            &[("name", "钉钉"), ("url", ""), ("secret", "SEC-new-secret-2")],
        ))
        .await;
    assert!(r.location().unwrap().contains("ok="), "{:?}", r.location());
    let settings = app.store.notify_channel_settings(ding).await.unwrap();
    assert_eq!((settings["url"].as_str(), settings["secret"].as_str()), (Some(robot_url), Some("SEC-new-secret-2")));
    assert!(!app.store.get_notify_channel(ding).await.unwrap().enabled, "no `enabled` box: disabled");
    // A bad change comes back as the field's message, nothing changes.
    let r = app
        .send(form(
            &format!("/notifications/channels/{ding}"),
            &[("name", "钉钉"), ("url", "ftp://x"), ("enabled", "1")],
        ))
        .await;
    assert!(r.location().unwrap().contains("error=settings.url"), "{:?}", r.location());
    assert!(!app.store.get_notify_channel(ding).await.unwrap().enabled);

    // Audited, without any secret.
    let audit = app.audit_with_action("notify_channel.update").await;
    assert_eq!(audit.len(), 2);
    let text = format!("{audit:?}");
    for secret in ["mail-password-123", "robot-key", "SEC-"] {
        assert!(!text.contains(secret), "audit holds {secret}: {text}");
    }

    // A rule: edited to another channel and threshold, then disabled.
    let mail_id = mail.to_string();
    let ding_id = ding.to_string();
    app.send(form(
        "/notifications/rules",
        &[
            ("event", "alert"),
            ("channel_id", &mail_id),
            ("min_level", "none"),
            ("min_severity", "4"),
            ("minutes_before", "0"),
        ],
    ))
    .await;
    let rule = app.store.list_notify_rules().await.unwrap()[0].id;
    let r = app
        .send(form(
            &format!("/notifications/rules/{rule}"),
            &[
                ("event", "incident_opened"),
                ("channel_id", &ding_id),
                ("min_level", "II"),
                ("min_severity", "0"),
                ("minutes_before", "0"),
                ("enabled", "1"),
            ],
        ))
        .await;
    assert!(r.location().unwrap().contains("ok="), "{:?}", r.location());
    let r1 = &app.store.list_notify_rules().await.unwrap()[0];
    assert_eq!(
        (r1.event.as_str(), r1.channel_id, r1.min_level.as_str(), r1.enabled),
        ("incident_opened", ding, "II", true)
    );
    let r = app
        .send(form(
            &format!("/notifications/rules/{rule}"),
            &[
                ("event", "incident_opened"),
                ("channel_id", &ding_id),
                ("min_level", "II"),
                ("min_severity", "0"),
                ("minutes_before", "0"),
            ],
        ))
        .await;
    assert!(r.location().unwrap().contains("ok="), "{:?}", r.location());
    assert!(!app.store.list_notify_rules().await.unwrap()[0].enabled);
    let r = app.send(form(&format!("/notifications/rules/{rule}"), &[("event", "alert"), ("channel_id", "x")])).await;
    assert!(r.location().unwrap().contains("error="), "{:?}", r.location());
    assert_eq!(app.audit_with_action("notify_rule.update").await.len(), 2);

    // The API edits a rule the same way.
    let admin = app.token(anbao_model::Role::Admin);
    let r = app
        .send(Req::put(&format!("/api/v1/notifications/rules/{rule}")).bearer(admin).json(&json!({
            "channel_id": mail, "event": "alert", "min_severity": 3,
        })))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!((r.json()["min_severity"].as_i64(), r.json()["enabled"].as_bool()), (Some(3), Some(true)));
    let r = app
        .send(Req::put("/api/v1/notifications/rules/9999").bearer(admin).json(&json!({
            "channel_id": mail, "event": "alert",
        })))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}
