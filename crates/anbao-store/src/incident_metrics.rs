//! Incident handling figures (issue #7): open incidents by level, mean and
//! median times to acknowledge, contain and resolve (from discovery), and
//! initial-report deadlines met or missed, over a window of discovery
//! times, in the caller's units. Exercise incidents (drills on the board)
//! are left out of every figure.
//!
//! "Reported" is the first accepted submission of any of the incident's
//! reports, or failing that the first report generated: a report recorded
//! by the deadline but sent later (or by another way) still counts as
//! reported then. An incident with a deadline and no report counts as
//! missed once the deadline has passed, and as pending before.

use std::collections::BTreeMap;

use anbao_model::Timestamp;
use anbao_model::clock::{format_ts, parse_ts};
use anbao_model::incident::{IncidentLevel, IncidentStatus};
use serde::Serialize;
use sqlx::Row;
use time::{Date, Duration, Month};

use crate::incidents::{Incident, incident_from_row};
use crate::sql::id_list;
use crate::{Result, Store, StoreError};

/// Mean and median of one handling time, in seconds; `None` when no
/// incident of the window has reached that step.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct HandlingTime {
    /// Incidents that reached the step.
    pub count: usize,
    pub mean_seconds: Option<f64>,
    pub median_seconds: Option<f64>,
}

impl HandlingTime {
    /// From durations in seconds (any order).
    pub fn of(mut seconds: Vec<i64>) -> HandlingTime {
        if seconds.is_empty() {
            return HandlingTime::default();
        }
        seconds.sort_unstable();
        let n = seconds.len();
        let sum: i64 = seconds.iter().sum();
        let mid = n / 2;
        let median = match (seconds.get(mid.wrapping_sub(1)), seconds.get(mid)) {
            (Some(a), Some(b)) if n.is_multiple_of(2) => (*a as f64 + *b as f64) / 2.0,
            (_, Some(b)) => *b as f64,
            _ => 0.0,
        };
        HandlingTime { count: n, mean_seconds: Some(sum as f64 / n as f64), median_seconds: Some(median) }
    }
}

/// Initial-report deadlines of the window's incidents.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DeadlineCounts {
    /// Reported by the deadline.
    pub met: i64,
    /// Reported after it, or not reported and past it.
    pub missed: i64,
    /// Not reported yet, deadline still ahead.
    pub pending: i64,
}

/// Incidents discovered in one week (Monday to Sunday), by level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WeekCount {
    /// The Monday, `YYYY-MM-DD`.
    pub week: String,
    /// Level (`I` … `IV`, `none`) → incidents.
    pub by_level: BTreeMap<String, i64>,
}

/// Handling times of the incidents discovered in one month.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MonthTimes {
    /// `YYYY-MM`.
    pub month: String,
    pub acknowledge: HandlingTime,
    pub contain: HandlingTime,
    pub resolve: HandlingTime,
}

/// What the dashboard and `GET /api/v1/incidents/metrics` show.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IncidentMetrics {
    /// Window start (inclusive), RFC 3339: incidents discovered from here…
    pub from: String,
    /// …to here (exclusive).
    pub to: String,
    /// Incidents not closed now, by level in force (`I` … `IV`, `none`),
    /// whenever they were discovered.
    pub open_by_level: BTreeMap<String, i64>,
    /// Incidents discovered in the window.
    pub incidents: i64,
    /// Discovery → first acknowledgement (MTTA).
    pub acknowledge: HandlingTime,
    /// Discovery → first containment (MTTC).
    pub contain: HandlingTime,
    /// Discovery → closed (MTTR); only incidents closed now.
    pub resolve: HandlingTime,
    pub deadlines: DeadlineCounts,
    pub weekly: Vec<WeekCount>,
    pub monthly: Vec<MonthTimes>,
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("incident metrics {what}: {e}"))
}

fn ts(what: &str, s: &str) -> Result<Timestamp> {
    parse_ts(s).map_err(|e| corrupt(what, e))
}

/// Seconds from `start` to the optional step, never negative.
fn since(start: Timestamp, step: Option<&str>, what: &str) -> Result<Option<i64>> {
    step.map(|s| ts(what, s).map(|t| (t - start).whole_seconds().max(0))).transpose()
}

fn monday_of(d: Date) -> Date {
    d - Duration::days(i64::from(d.weekday().number_days_from_monday()))
}

fn month_key(d: Date) -> String {
    format!("{:04}-{:02}", d.year(), u8::from(d.month()))
}

fn next_month(d: Date) -> Option<Date> {
    let (y, m) =
        if d.month() == Month::December { (d.year() + 1, Month::January) } else { (d.year(), d.month().next()) };
    Date::from_calendar_date(y, m, 1).ok()
}

fn level_keys() -> BTreeMap<String, i64> {
    IncidentLevel::ALL.iter().map(|l| (l.as_str().to_owned(), 0)).collect()
}

impl Store {
    /// The handling figures for incidents discovered in `[from, to)`, in
    /// `org_units` (`None`: all), exercises left out.
    pub async fn incident_metrics(
        &self,
        org_units: Option<&[i64]>,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<IncidentMetrics> {
        let now = self.now();
        let mut sql = String::from("SELECT * FROM incidents WHERE exercise = 0");
        if let Some(units) = org_units {
            sql.push_str(&format!(" AND org_unit_id IN {}", id_list(units.iter().copied())));
        }
        let all: Vec<Incident> =
            sqlx::query(&sql).fetch_all(self.pool()).await?.iter().map(incident_from_row).collect::<Result<_>>()?;
        let mut open_by_level = level_keys();
        for i in all.iter().filter(|i| i.status != IncidentStatus::Closed) {
            *open_by_level.entry(i.level.as_str().to_owned()).or_default() += 1;
        }

        // When each incident was first reported: accepted submission, else generated.
        let mut reported: BTreeMap<i64, String> = BTreeMap::new();
        for r in sqlx::query("SELECT incident_id, MIN(created_at) AS first FROM incident_reports GROUP BY incident_id")
            .fetch_all(self.pool())
            .await?
        {
            reported.insert(r.try_get("incident_id")?, r.try_get("first")?);
        }
        for r in sqlx::query(
            "SELECT r.incident_id, MIN(s.submitted_at) AS first FROM report_submissions s \
             JOIN incident_reports r ON r.id = s.report_id WHERE s.outcome = 'accepted' GROUP BY r.incident_id",
        )
        .fetch_all(self.pool())
        .await?
        {
            reported.insert(r.try_get("incident_id")?, r.try_get("first")?);
        }

        let mut weeks: BTreeMap<Date, BTreeMap<String, i64>> = BTreeMap::new();
        let starts_before_end = |d: Date| d.midnight().assume_utc() < to;
        let mut week = monday_of(from.date());
        while starts_before_end(week) {
            weeks.insert(week, level_keys());
            week += Duration::days(7);
        }
        let mut months: BTreeMap<String, [Vec<i64>; 3]> = BTreeMap::new();
        let mut month = Date::from_calendar_date(from.year(), from.month(), 1).map_err(|e| corrupt("from", e))?;
        while starts_before_end(month) {
            months.insert(month_key(month), Default::default());
            match next_month(month) {
                Some(m) => month = m,
                None => break,
            }
        }

        let (mut ack, mut contain, mut resolve) = (Vec::new(), Vec::new(), Vec::new());
        let mut deadlines = DeadlineCounts::default();
        let mut incidents = 0;
        for i in &all {
            let discovered = ts("discovered_at", &i.discovered_at)?;
            if discovered < from || discovered >= to {
                continue;
            }
            incidents += 1;
            if let Some(w) = weeks.get_mut(&monday_of(discovered.date())) {
                *w.entry(i.level.as_str().to_owned()).or_default() += 1;
            }
            let a = since(discovered, i.acknowledged_at.as_deref(), "acknowledged_at")?;
            let c = since(discovered, i.contained_at.as_deref(), "contained_at")?;
            let r = since(discovered, i.closed_at.as_deref(), "closed_at")?;
            let m = months.get_mut(&month_key(discovered.date()));
            if let Some(m) = m {
                m[0].extend(a);
                m[1].extend(c);
                m[2].extend(r);
            }
            ack.extend(a);
            contain.extend(c);
            resolve.extend(r);
            if let Some(by) = i.report_by.as_deref() {
                let by = ts("report_by", by)?;
                match reported.get(&i.id).map(|t| ts("first report", t)).transpose()? {
                    Some(t) if t <= by => deadlines.met += 1,
                    Some(_) => deadlines.missed += 1,
                    None if now > by => deadlines.missed += 1,
                    None => deadlines.pending += 1,
                }
            }
        }
        Ok(IncidentMetrics {
            from: format_ts(from),
            to: format_ts(to),
            open_by_level,
            incidents,
            acknowledge: HandlingTime::of(ack),
            contain: HandlingTime::of(contain),
            resolve: HandlingTime::of(resolve),
            deadlines,
            weekly: weeks
                .into_iter()
                .map(|(w, by_level)| WeekCount { week: crate::network_units::date_text(w), by_level })
                .collect(),
            monthly: months
                .into_iter()
                .map(|(month, [a, c, r])| MonthTimes {
                    month,
                    acknowledge: HandlingTime::of(a),
                    contain: HandlingTime::of(c),
                    resolve: HandlingTime::of(r),
                })
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn means_and_medians_of_odd_and_even_counts() {
        assert_eq!(HandlingTime::of(vec![]), HandlingTime::default());
        let odd = HandlingTime::of(vec![600, 60, 120]);
        assert_eq!((odd.count, odd.mean_seconds, odd.median_seconds), (3, Some(260.0), Some(120.0)));
        let even = HandlingTime::of(vec![60, 120, 600, 3600]);
        assert_eq!((even.count, even.mean_seconds, even.median_seconds), (4, Some(1095.0), Some(360.0)));
    }

    #[test]
    fn weeks_start_on_monday() {
        // 2026-11-25 is a Wednesday.
        assert_eq!(monday_of(time::macros::date!(2026 - 11 - 25)), time::macros::date!(2026 - 11 - 23));
        assert_eq!(monday_of(time::macros::date!(2026 - 11 - 23)), time::macros::date!(2026 - 11 - 23));
        assert_eq!(next_month(time::macros::date!(2026 - 12 - 01)), Some(time::macros::date!(2027 - 01 - 01)));
    }
}
