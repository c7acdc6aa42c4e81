//! The deadlines of MIIT Order No. 11 for a graded network unit
//! (requirements R1.1, R1.2): filing after the expert review, re-filing
//! after a change, and the periodic compliance and risk assessments. Pure
//! functions of dates; `today` is always a parameter.
//!
//! Counting convention, the same for every obligation:
//!
//! - "Within N days after day D" is due on D + N days: the review passes on
//!   1 March, filing is due on 31 March. Filing on the due day is on time;
//!   the day after, the obligation is overdue by 1 day.
//! - "Every year" / "every two years" is due on the same calendar date one or
//!   two years after the last one; 29 February falls on 28 February in a
//!   year without it.
//! - A due date beyond the last representable date (9999-12-31) is that date.
//! - Dates are calendar days in the operator's own time zone; the caller
//!   turns instants into dates.
//!
//! What counts as an anchor (our reading, documented per field of
//! [`UnitDates`]): an assessment never done yet is counted from the filing
//! date, or from the review date if the unit is not filed yet.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing))]

use std::fmt;

use serde::{Deserialize, Serialize};
use time::{Date, Duration};

use crate::grading::GradeLevel;

/// Days allowed to file after the grading passes expert review (Order No. 11 art. 7).
pub const FILING_DAYS: i64 = 30;
/// Days allowed to update the filing after filed information changes (Order No. 11 art. 8).
pub const REFILING_DAYS: i64 = 30;
/// An obligation due within this many days (inclusive) is [`Status::DueSoon`].
pub const DUE_SOON_DAYS: i64 = 30;

/// Something Order No. 11 requires of a graded unit by a date.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Obligation {
    /// File the unit's division and grade with the telecom authority (备案).
    Filing,
    /// Update the filing after filed information changed (变更备案).
    Refiling,
    /// Compliance assessment against the protection standards (符合性评测).
    ComplianceAssessment,
    /// Security risk assessment (安全风险评估).
    RiskAssessment,
}

impl Obligation {
    pub const ALL: [Obligation; 4] =
        [Obligation::Filing, Obligation::Refiling, Obligation::ComplianceAssessment, Obligation::RiskAssessment];

    pub fn as_str(self) -> &'static str {
        match self {
            Obligation::Filing => "filing",
            Obligation::Refiling => "refiling",
            Obligation::ComplianceAssessment => "compliance_assessment",
            Obligation::RiskAssessment => "risk_assessment",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Obligation::Filing => "定级备案",
            Obligation::Refiling => "变更备案",
            Obligation::ComplianceAssessment => "符合性评测",
            Obligation::RiskAssessment => "安全风险评估",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Obligation::Filing => "Filing",
            Obligation::Refiling => "Re-filing",
            Obligation::ComplianceAssessment => "Compliance assessment",
            Obligation::RiskAssessment => "Risk assessment",
        }
    }

    /// Where the obligation comes from, in our own words.
    pub fn source(self) -> &'static str {
        match self {
            Obligation::Filing => "Order No. 11 art. 7: file within 30 days after the grading passes review",
            Obligation::Refiling => {
                "Order No. 11 art. 8: update the filing within 30 days after filed information changes"
            }
            Obligation::ComplianceAssessment => {
                "Order No. 11 art. 10: compliance assessment yearly at level 3 and above, every two years at level 2"
            }
            Obligation::RiskAssessment => {
                "Order No. 11 art. 11: risk assessment yearly at level 3 and above, every two years at level 2"
            }
        }
    }
}

impl fmt::Display for Obligation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where an obligation stands on `today`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    /// Due in more than [`DUE_SOON_DAYS`] days.
    Upcoming,
    /// Due in 0 to [`DUE_SOON_DAYS`] days; 0 is "due today", still on time.
    DueSoon { days_left: i64 },
    /// Past the due date by `days` (1 on the day after the due date).
    Overdue { days: i64 },
}

/// One outstanding obligation of a unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Due {
    pub obligation: Obligation,
    pub due: Date,
    /// The date the deadline is counted from (review, change, last
    /// assessment, or filing).
    pub since: Date,
    pub status: Status,
}

/// The dates of a unit that its deadlines depend on. `None` means "has not
/// happened (or is not recorded)".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnitDates {
    /// The grade in force (the reviewed one once there is a review).
    pub grade: GradeLevel,
    /// The latest expert review of the unit's division and grade that passed.
    /// Without one, no filing is due yet.
    pub review_passed: Option<Date>,
    /// The latest filing or re-filing accepted. A filing on or after the
    /// latest review satisfies [`Obligation::Filing`]; on or after the latest
    /// change, [`Obligation::Refiling`].
    pub filed: Option<Date>,
    /// The latest compliance assessment (completion date).
    pub last_compliance_assessment: Option<Date>,
    /// The latest risk assessment (completion date).
    pub last_risk_assessment: Option<Date>,
    /// The latest change to filed information. A change on the filing date
    /// counts as covered by that filing.
    pub last_change: Option<Date>,
}

/// How often a unit of this grade must be assessed (compliance and risk
/// alike): every year at tier 3 and above, every two years at 2, never at 1.
pub fn assessment_interval_years(grade: GradeLevel) -> Option<i32> {
    match grade.order_tier() {
        0 | 1 => None,
        2 => Some(2),
        _ => Some(1),
    }
}

/// `date` plus `days`; saturates at the ends of the calendar instead of
/// overflowing.
pub fn add_days(date: Date, days: i64) -> Date {
    date.checked_add(Duration::days(days)).unwrap_or(if days < 0 { Date::MIN } else { Date::MAX })
}

/// The same calendar date `years` later; 29 February becomes 28 February in
/// a year without it. Saturates at the ends of the calendar.
pub fn add_years(date: Date, years: i32) -> Date {
    let year = date.year().saturating_add(years);
    let month = date.month();
    let day = date.day().min(month.length(year));
    Date::from_calendar_date(year, month, day).unwrap_or(if years < 0 { Date::MIN } else { Date::MAX })
}

/// Where an obligation due on `due` stands on `today`.
pub fn status(due: Date, today: Date) -> Status {
    let days_left = (due - today).whole_days();
    if days_left < 0 {
        Status::Overdue { days: -days_left }
    } else if days_left <= DUE_SOON_DAYS {
        Status::DueSoon { days_left }
    } else {
        Status::Upcoming
    }
}

/// The obligations a unit has outstanding on `today`, earliest due first.
/// Each is computed on its own: a pending filing does not hide a pending
/// re-filing, and met obligations are not listed.
pub fn obligations(unit: &UnitDates, today: Date) -> Vec<Due> {
    let due = |obligation, since, due| Due { obligation, due, since, status: status(due, today) };
    let mut out = Vec::new();

    if let Some(review) = unit.review_passed
        && unit.filed.is_none_or(|filed| filed < review)
    {
        out.push(due(Obligation::Filing, review, add_days(review, FILING_DAYS)));
    }
    if let (Some(filed), Some(change)) = (unit.filed, unit.last_change)
        && change > filed
    {
        out.push(due(Obligation::Refiling, change, add_days(change, REFILING_DAYS)));
    }
    if let Some(years) = assessment_interval_years(unit.grade) {
        let first_anchor = unit.filed.or(unit.review_passed);
        for (obligation, last) in [
            (Obligation::ComplianceAssessment, unit.last_compliance_assessment),
            (Obligation::RiskAssessment, unit.last_risk_assessment),
        ] {
            if let Some(since) = last.or(first_anchor) {
                out.push(due(obligation, since, add_years(since, years)));
            }
        }
    }
    out.sort_by_key(|d| (d.due, d.obligation));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn unit(grade: GradeLevel) -> UnitDates {
        UnitDates {
            grade,
            review_passed: None,
            filed: None,
            last_compliance_assessment: None,
            last_risk_assessment: None,
            last_change: None,
        }
    }

    fn only(unit: &UnitDates, today: Date, obligation: Obligation) -> Option<Due> {
        obligations(unit, today).into_iter().find(|d| d.obligation == obligation)
    }

    #[test]
    fn filing_is_due_30_days_after_the_review_and_overdue_the_day_after() {
        let u = UnitDates { review_passed: Some(date!(2026 - 03 - 01)), ..unit(GradeLevel::Two) };
        let d = only(&u, date!(2026 - 03 - 01), Obligation::Filing).expect("filing due");
        assert_eq!((d.due, d.since), (date!(2026 - 03 - 31), date!(2026 - 03 - 01)));
        assert_eq!(status(d.due, date!(2026 - 03 - 01)), Status::DueSoon { days_left: 30 });
        assert_eq!(status(d.due, date!(2026 - 02 - 28)), Status::Upcoming, "31 days ahead is not yet soon");
        assert_eq!(status(d.due, date!(2026 - 03 - 31)), Status::DueSoon { days_left: 0 });
        assert_eq!(status(d.due, date!(2026 - 04 - 01)), Status::Overdue { days: 1 });
        assert_eq!(status(d.due, date!(2027 - 03 - 31)), Status::Overdue { days: 365 });
        // Filed on the due date: met, and no longer listed.
        let filed = UnitDates { filed: Some(date!(2026 - 03 - 31)), ..u };
        assert_eq!(only(&filed, date!(2026 - 04 - 01), Obligation::Filing), None);
        // Filed before a later re-review (a regrade): filing is due again.
        let regraded = UnitDates { review_passed: Some(date!(2026 - 06 - 10)), ..filed };
        assert_eq!(
            only(&regraded, date!(2026 - 06 - 10), Obligation::Filing).map(|d| d.due),
            Some(date!(2026 - 07 - 10))
        );
        // Not reviewed yet: nothing is due.
        assert_eq!(obligations(&unit(GradeLevel::Four), date!(2026 - 01 - 01)), vec![]);
    }

    #[test]
    fn thirty_days_cross_february_by_the_calendar() {
        assert_eq!(add_days(date!(2024 - 02 - 10), 30), date!(2024 - 03 - 11));
        assert_eq!(add_days(date!(2023 - 02 - 10), 30), date!(2023 - 03 - 12));
        assert_eq!(add_days(date!(2024 - 01 - 30), 30), date!(2024 - 02 - 29));
        assert_eq!(add_days(date!(2025 - 12 - 15), 30), date!(2026 - 01 - 14));
    }

    #[test]
    fn refiling_is_due_30_days_after_a_change_to_a_filed_unit() {
        let u = UnitDates {
            review_passed: Some(date!(2025 - 01 - 05)),
            filed: Some(date!(2025 - 01 - 20)),
            last_change: Some(date!(2026 - 02 - 01)),
            ..unit(GradeLevel::One)
        };
        let d = only(&u, date!(2026 - 03 - 03), Obligation::Refiling).expect("refiling due");
        assert_eq!((d.due, d.status), (date!(2026 - 03 - 03), Status::DueSoon { days_left: 0 }));
        assert_eq!(status(d.due, date!(2026 - 03 - 04)), Status::Overdue { days: 1 });
        // A change on the filing day is covered by that filing.
        let same_day = UnitDates { last_change: u.filed, ..u };
        assert_eq!(only(&same_day, date!(2026 - 03 - 03), Obligation::Refiling), None);
        // A change to a unit never filed is covered by the filing itself.
        let unfiled = UnitDates { filed: None, ..u };
        assert_eq!(only(&unfiled, date!(2026 - 03 - 03), Obligation::Refiling), None);
        // Level 1: filing duties only, no assessments.
        assert!(obligations(&u, date!(2026 - 03 - 03)).iter().all(|d| d.obligation == Obligation::Refiling));
    }

    #[test]
    fn assessments_are_yearly_from_tier_3_and_every_two_years_at_level_2() {
        assert_eq!(assessment_interval_years(GradeLevel::One), None);
        assert_eq!(assessment_interval_years(GradeLevel::Two), Some(2));
        for g in [GradeLevel::Three, GradeLevel::ThreeOne, GradeLevel::ThreeTwo, GradeLevel::Four, GradeLevel::Five] {
            assert_eq!(assessment_interval_years(g), Some(1), "{g}");
        }
        let u = UnitDates {
            review_passed: Some(date!(2025 - 01 - 05)),
            filed: Some(date!(2025 - 01 - 20)),
            last_compliance_assessment: Some(date!(2025 - 06 - 30)),
            last_risk_assessment: None,
            ..unit(GradeLevel::ThreeOne)
        };
        let today = date!(2026 - 01 - 10);
        let all = obligations(&u, today);
        assert_eq!(
            all,
            vec![
                Due {
                    obligation: Obligation::RiskAssessment,
                    due: date!(2026 - 01 - 20),
                    since: date!(2025 - 01 - 20),
                    status: Status::DueSoon { days_left: 10 },
                },
                Due {
                    obligation: Obligation::ComplianceAssessment,
                    due: date!(2026 - 06 - 30),
                    since: date!(2025 - 06 - 30),
                    status: Status::Upcoming,
                },
            ],
            "never-assessed counts from the filing; sorted by due date"
        );
        let level2 = UnitDates { grade: GradeLevel::Two, ..u };
        assert_eq!(only(&level2, today, Obligation::ComplianceAssessment).map(|d| d.due), Some(date!(2027 - 06 - 30)));
        // Not filed yet: counted from the review.
        let unfiled = UnitDates { filed: None, last_compliance_assessment: None, ..u };
        assert_eq!(only(&unfiled, today, Obligation::RiskAssessment).map(|d| d.since), Some(date!(2025 - 01 - 05)));
    }

    #[test]
    fn yearly_deadlines_across_leap_days() {
        assert_eq!(add_years(date!(2024 - 02 - 29), 1), date!(2025 - 02 - 28));
        assert_eq!(add_years(date!(2024 - 02 - 29), 2), date!(2026 - 02 - 28));
        assert_eq!(add_years(date!(2024 - 02 - 29), 4), date!(2028 - 02 - 29));
        assert_eq!(add_years(date!(2023 - 02 - 28), 1), date!(2024 - 02 - 28));
        assert_eq!(add_years(date!(2023 - 03 - 01), 1), date!(2024 - 03 - 01));
        assert_eq!(add_years(date!(2099 - 02 - 28), 1), date!(2100 - 02 - 28));
        // A level-3 unit assessed on 29 Feb 2024: due 28 Feb 2025, overdue 1 March.
        let u = UnitDates {
            review_passed: Some(date!(2023 - 01 - 01)),
            filed: Some(date!(2023 - 01 - 15)),
            last_compliance_assessment: Some(date!(2024 - 02 - 29)),
            ..unit(GradeLevel::Three)
        };
        let at = |today| only(&u, today, Obligation::ComplianceAssessment).map(|d| d.status);
        assert_eq!(at(date!(2025 - 02 - 28)), Some(Status::DueSoon { days_left: 0 }));
        assert_eq!(at(date!(2025 - 03 - 01)), Some(Status::Overdue { days: 1 }));
        assert_eq!(at(date!(2025 - 01 - 28)), Some(Status::Upcoming));
        assert_eq!(at(date!(2025 - 01 - 29)), Some(Status::DueSoon { days_left: 30 }));
    }

    #[test]
    fn the_ends_of_the_calendar_saturate() {
        assert_eq!(add_days(Date::MAX, 30), Date::MAX);
        assert_eq!(add_days(Date::MIN, -1), Date::MIN);
        assert_eq!(add_years(date!(9999 - 06 - 01), 2), Date::MAX);
        let u = UnitDates {
            review_passed: Some(date!(9999 - 12 - 20)),
            last_risk_assessment: Some(date!(9999 - 12 - 31)),
            ..unit(GradeLevel::Five)
        };
        let all = obligations(&u, date!(2026 - 01 - 01));
        assert!(all.iter().all(|d| d.due == Date::MAX && d.status == Status::Upcoming), "{all:?}");
    }

    #[test]
    fn obligations_name_their_source() {
        for o in Obligation::ALL {
            assert!(o.source().starts_with("Order No. 11 art."), "{o}");
            assert_eq!(serde_json::to_string(&o).ok(), Some(format!("\"{o}\"")));
        }
    }
}
