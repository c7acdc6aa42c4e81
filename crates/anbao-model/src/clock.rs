//! Time as a parameter: code under test receives a clock instead of calling
//! `now()`, so deadlines, lockouts and session expiry are tested by moving
//! time rather than sleeping.

use std::sync::Mutex;

use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime, UtcOffset};

/// A UTC instant. Stored in the database as RFC 3339 text with millisecond
/// precision so it sorts as text and reads well in SQL.
pub type Timestamp = OffsetDateTime;

pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> Timestamp;
}

#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        OffsetDateTime::now_utc()
    }
}

/// A clock that only moves when told to.
#[derive(Debug)]
pub struct ManualClock(Mutex<Timestamp>);

impl ManualClock {
    pub fn new(start: Timestamp) -> Self {
        ManualClock(Mutex::new(start))
    }
    pub fn advance(&self, by: Duration) {
        let mut t = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *t += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Formats an instant the way the store keeps it: `2026-11-25T10:38:24.123Z`.
pub fn format_ts(t: Timestamp) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    let millis = t.millisecond();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        millis
    )
}

/// Parses any RFC 3339 instant (with or without fractional seconds).
pub fn parse_ts(s: &str) -> Result<Timestamp, time::error::Parse> {
    OffsetDateTime::parse(s, &Rfc3339).map(|t| t.to_offset(UtcOffset::UTC))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn stored_timestamps_round_trip_and_sort_as_text() {
        let a = datetime!(2026-11-25 10:38:24.123 UTC);
        let b = a + Duration::milliseconds(5);
        assert_eq!(format_ts(a), "2026-11-25T10:38:24.123Z");
        assert_eq!(parse_ts(&format_ts(a)).ok(), Some(a));
        assert!(format_ts(a) < format_ts(b));
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = ManualClock::new(datetime!(2026-01-01 0:00 UTC));
        let t0 = c.now();
        assert_eq!(c.now(), t0);
        c.advance(Duration::minutes(16));
        assert_eq!(c.now() - t0, Duration::minutes(16));
    }
}
