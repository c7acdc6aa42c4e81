//! Live updates for the command-and-dispatch board (R2.6): one in-process
//! broadcast channel per incident that has a board open. A middleware
//! notes every successful change under `/incidents/{id}/…` or
//! `/api/v1/incidents/{id}/…` (pages and API alike, so no handler can
//! forget) and wakes that incident's boards; each open board holds one
//! server-sent-events stream (`ui::board::events`).
//!
//! The channels only see changes made through this process. Several nodes
//! behind one PostgreSQL would need the change fanned out between them
//! (PostgreSQL `LISTEN/NOTIFY` or the NATS bus); until then each stream
//! also polls its incident's `updated_at`, which every change bumps, so a
//! board sees another node's change within [`POLL_INTERVAL`] (configurable).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use tokio::sync::{broadcast, watch};

/// How often, by default, an open board checks the database for changes
/// this process did not see (`ServerConfig::board_poll_interval`).
pub const POLL_INTERVAL: Duration = Duration::from_secs(15);

/// Pending wake-ups per board before a slow one is told it lagged (which
/// it treats as one more change).
const CHANNEL_CAPACITY: usize = 16;

#[derive(Debug)]
pub struct BoardHub {
    channels: Mutex<HashMap<i64, broadcast::Sender<()>>>,
    closing: watch::Sender<bool>,
}

impl Default for BoardHub {
    fn default() -> Self {
        BoardHub { channels: Mutex::new(HashMap::new()), closing: watch::Sender::new(false) }
    }
}

impl BoardHub {
    /// Wake-ups for incident `id`, and the signal that the server is
    /// shutting down.
    pub fn subscribe(&self, id: i64) -> (broadcast::Receiver<()>, watch::Receiver<bool>) {
        let mut channels = self.channels.lock().unwrap_or_else(PoisonError::into_inner);
        // Boards closed since: forget their channels.
        channels.retain(|_, tx| tx.receiver_count() > 0);
        let rx = channels.entry(id).or_insert_with(|| broadcast::channel(CHANNEL_CAPACITY).0).subscribe();
        (rx, self.closing.subscribe())
    }

    /// Wakes every open board of incident `id`.
    pub fn publish(&self, id: i64) {
        let mut channels = self.channels.lock().unwrap_or_else(PoisonError::into_inner);
        let nobody_listens = channels.get(&id).is_some_and(|tx| tx.send(()).is_err());
        if nobody_listens {
            channels.remove(&id);
        }
    }

    /// Ends every board's stream: a graceful shutdown waits for open
    /// responses, and these would never finish by themselves.
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    /// Boards open now, over all incidents.
    pub fn open_boards(&self) -> usize {
        let channels = self.channels.lock().unwrap_or_else(PoisonError::into_inner);
        channels.values().map(broadcast::Sender::receiver_count).sum()
    }
}

/// The incident a request changes, if it is a change under one.
fn changed_incident(method: &Method, path: &str) -> Option<i64> {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return None;
    }
    let rest = path.strip_prefix("/api/v1/incidents/").or_else(|| path.strip_prefix("/incidents/"))?;
    rest.split('/').next()?.parse().ok()
}

/// Middleware: after a successful change of an incident, wake its boards.
/// A refused form still redirects (3xx), so a board may refresh for
/// nothing now and then; it never misses a change.
pub async fn publish_changes(State(hub): State<Arc<BoardHub>>, req: Request, next: Next) -> Response {
    let incident = changed_incident(req.method(), req.uri().path());
    let res = next.run(req).await;
    match incident {
        Some(id) if res.status().as_u16() < 400 => hub.publish(id),
        _ => {}
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_changes_under_one_incident_count() {
        assert_eq!(changed_incident(&Method::POST, "/incidents/7/tasks"), Some(7));
        assert_eq!(changed_incident(&Method::PATCH, "/api/v1/incidents/12/tasks/3"), Some(12));
        assert_eq!(changed_incident(&Method::PUT, "/api/v1/incidents/12/facts"), Some(12));
        assert_eq!(changed_incident(&Method::GET, "/incidents/7/board"), None);
        assert_eq!(changed_incident(&Method::POST, "/api/v1/incidents/grade"), None);
        assert_eq!(changed_incident(&Method::POST, "/incidents"), None);
        assert_eq!(changed_incident(&Method::POST, "/alerts/7/incident"), None);
    }

    #[tokio::test]
    async fn boards_of_one_incident_are_woken_and_forgotten_when_closed() {
        let hub = BoardHub::default();
        let (mut a, _) = hub.subscribe(1);
        let (mut other, _) = hub.subscribe(2);
        hub.publish(1);
        assert!(a.try_recv().is_ok());
        assert!(other.try_recv().is_err(), "another incident's board stays quiet");
        assert_eq!(hub.open_boards(), 2);
        drop(a);
        hub.publish(1);
        assert_eq!(hub.open_boards(), 1);
        let (_, mut closing) = hub.subscribe(3);
        hub.close();
        assert!(closing.has_changed().unwrap_or(false) && *closing.borrow_and_update());
    }
}
