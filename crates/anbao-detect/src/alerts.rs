//! Folding detections into alerts. One alert per (victim, indicator): the
//! thousandth query for the same C&C name from the same subscriber is a
//! count, not a new alert. The first event is kept as evidence; the field
//! and observed value are the first ones (a victim may reach one listed
//! domain under many names: the count covers them all).

use std::net::IpAddr;

use anbao_net::{Event, Message, Proto, Timestamp};
use serde::Serialize;

use crate::matcher::{Detection, Field, MatchHow};

/// The dedup key of an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct AlertKey {
    pub victim: IpAddr,
    pub indicator_id: u64,
}

/// The event an alert was raised on, small enough to keep.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evidence {
    pub ts: Timestamp,
    pub sensor: String,
    pub kind: &'static str,
    pub src: IpAddr,
    pub sport: Option<u16>,
    pub dst: Option<IpAddr>,
    pub dport: Option<u16>,
    pub proto: Proto,
    /// One line a person reads: `query A evil.example`, `GET evil.example/x`.
    pub summary: String,
}

impl Evidence {
    pub fn of(event: &Event, sensor: &str) -> Evidence {
        let ep = &event.endpoints;
        Evidence {
            ts: event.ts,
            sensor: sensor.to_owned(),
            kind: event.message.kind(),
            src: ep.src,
            sport: ep.sport,
            dst: ep.dst,
            dport: ep.dport,
            proto: ep.proto,
            summary: summary(&event.message),
        }
    }
}

/// One line describing a message.
pub fn summary(message: &Message) -> String {
    match message {
        Message::Dns(d) => {
            let qr = match d.qr {
                anbao_net::Qr::Query => "query",
                anbao_net::Qr::Response => "response",
            };
            let mut s = format!("{qr} {} {}", d.qtype, d.qname);
            if d.qr == anbao_net::Qr::Response {
                s.push_str(&format!(" {}", d.rcode));
                for a in d.answers.iter().take(4) {
                    s.push_str(&format!(" {} {}", a.rtype, a.data));
                }
                if d.answers.len() > 4 {
                    s.push_str(&format!(" (+{})", d.answers.len() - 4));
                }
            }
            s
        }
        Message::Http(h) => format!("{} {}{}", h.method, h.host.as_deref().unwrap_or("-"), h.uri),
        Message::Tls(t) | Message::Quic(t) => {
            format!(
                "sni {} alpn {}",
                t.sni.as_deref().unwrap_or("-"),
                if t.alpn.is_empty() { "-".to_owned() } else { t.alpn.join(",") }
            )
        }
        Message::Flow(f) => format!(
            "flow {} bytes out, {} bytes in",
            f.orig_bytes.map_or("-".to_owned(), |b| b.to_string()),
            f.resp_bytes.map_or("-".to_owned(), |b| b.to_string())
        ),
        Message::IdsAlert(a) => format!("ids alert {} {}", a.signature_id, a.signature),
    }
}

/// A deduplicated alert.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    pub victim: IpAddr,
    pub indicator_id: u64,
    pub indicator_kind: String,
    /// The listed value.
    pub indicator: String,
    #[serde(rename = "match")]
    pub how: MatchHow,
    pub field: Field,
    pub observed: String,
    pub count: u64,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    pub evidence: Evidence,
}

/// What [`AlertBook::record`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    New,
    Repeat,
    /// The book is full: counted in `dropped`, not kept.
    Dropped,
}

/// Alerts by key, bounded.
#[derive(Debug)]
pub struct AlertBook {
    /// Keyed by victim and indicator, both from traffic: foldhash with a
    /// per-process random seed (fast, and not predictable from outside).
    alerts: foldhash::HashMap<AlertKey, Alert>,
    max_alerts: usize,
    dropped: u64,
}

impl AlertBook {
    pub fn new(max_alerts: usize) -> Self {
        AlertBook { alerts: foldhash::HashMap::default(), max_alerts, dropped: 0 }
    }

    pub fn record(&mut self, detection: Detection, event: &Event, sensor: &str) -> Recorded {
        let key = AlertKey { victim: detection.victim, indicator_id: detection.indicator_id };
        if let Some(alert) = self.alerts.get_mut(&key) {
            alert.count += 1;
            alert.first_seen = alert.first_seen.min(event.ts);
            alert.last_seen = alert.last_seen.max(event.ts);
            return Recorded::Repeat;
        }
        if self.alerts.len() >= self.max_alerts {
            self.dropped += 1;
            return Recorded::Dropped;
        }
        let alert = Alert {
            victim: detection.victim,
            indicator_id: detection.indicator_id,
            indicator_kind: detection.indicator_kind.to_string(),
            indicator: detection.listed,
            how: detection.how,
            field: detection.field,
            observed: detection.observed,
            count: 1,
            first_seen: event.ts,
            last_seen: event.ts,
            evidence: Evidence::of(event, sensor),
        };
        self.alerts.insert(key, alert);
        Recorded::New
    }

    pub fn get(&self, key: &AlertKey) -> Option<&Alert> {
        self.alerts.get(key)
    }

    pub fn len(&self) -> usize {
        self.alerts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.alerts.is_empty()
    }

    /// Detections not kept because the book was full.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// The alerts, oldest first (ties by key, so the order is stable).
    pub fn into_alerts(self) -> Vec<Alert> {
        let mut v: Vec<Alert> = self.alerts.into_values().collect();
        v.sort_by_key(|a| (a.first_seen, a.victim, a.indicator_id));
        v
    }
}
