//! Risk assessment method (R1.2, R1.7): risk = asset value × threat
//! likelihood × vulnerability severity, each rated 1–5 (the multiplicative
//! form of GB/T 20984 and YD/T 1730), giving 1–125, banded into levels by
//! thresholds an operator may change.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::validate::Invalid;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Hash)]
#[serde(rename_all = "lowercase")]
pub enum RiskLevel {
    Low,
    Medium,
    High,
    Critical,
}

impl RiskLevel {
    pub const ALL: [RiskLevel; 4] = [RiskLevel::Low, RiskLevel::Medium, RiskLevel::High, RiskLevel::Critical];
    pub fn as_str(self) -> &'static str {
        match self {
            RiskLevel::Low => "low",
            RiskLevel::Medium => "medium",
            RiskLevel::High => "high",
            RiskLevel::Critical => "critical",
        }
    }
}

impl fmt::Display for RiskLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RiskLevel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        RiskLevel::ALL
            .into_iter()
            .find(|l| l.as_str() == s)
            .ok_or_else(|| format!("{s:?} is not low, medium, high or critical"))
    }
}

/// How a risk is treated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Treatment {
    /// Not decided yet.
    Undecided,
    Mitigate,
    Accept,
    Transfer,
    Avoid,
}

impl Treatment {
    pub const ALL: [Treatment; 5] =
        [Treatment::Undecided, Treatment::Mitigate, Treatment::Accept, Treatment::Transfer, Treatment::Avoid];
    pub fn as_str(self) -> &'static str {
        match self {
            Treatment::Undecided => "undecided",
            Treatment::Mitigate => "mitigate",
            Treatment::Accept => "accept",
            Treatment::Transfer => "transfer",
            Treatment::Avoid => "avoid",
        }
    }
}

impl FromStr for Treatment {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Treatment::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| format!("{s:?} is not undecided, mitigate, accept, transfer or avoid"))
    }
}

/// The banding of scores into levels: a score at or above a threshold has
/// that level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskMethod {
    pub medium_from: u32,
    pub high_from: u32,
    pub critical_from: u32,
}

impl Default for RiskMethod {
    /// 2×2×2 = 8 starts medium, 3×3×3 = 27 high, 4×4×4 = 64 critical: a risk
    /// rated "average" on all three axes is high.
    fn default() -> Self {
        RiskMethod { medium_from: 8, high_from: 27, critical_from: 64 }
    }
}

/// One rating on the 1–5 scale.
pub fn check_rating(field: &'static str, v: i64) -> Result<u32, Invalid> {
    u32::try_from(v)
        .ok()
        .filter(|v| (1..=5).contains(v))
        .ok_or_else(|| Invalid { field, reason: format!("{v} is not a rating from 1 to 5") })
}

impl RiskMethod {
    pub fn check(&self) -> Result<(), Invalid> {
        let ok = 1 < self.medium_from
            && self.medium_from < self.high_from
            && self.high_from < self.critical_from
            && self.critical_from <= 125;
        if ok {
            Ok(())
        } else {
            Err(Invalid { field: "risk_method", reason: "thresholds must rise within 2..=125".into() })
        }
    }

    pub fn score(value: u32, likelihood: u32, severity: u32) -> u32 {
        value * likelihood * severity
    }

    pub fn level(&self, score: u32) -> RiskLevel {
        if score >= self.critical_from {
            RiskLevel::Critical
        } else if score >= self.high_from {
            RiskLevel::High
        } else if score >= self.medium_from {
            RiskLevel::Medium
        } else {
            RiskLevel::Low
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_at_their_thresholds() {
        let m = RiskMethod::default();
        assert_eq!(m.level(RiskMethod::score(1, 1, 1)), RiskLevel::Low);
        assert_eq!(m.level(7), RiskLevel::Low);
        assert_eq!(m.level(8), RiskLevel::Medium);
        assert_eq!(m.level(RiskMethod::score(3, 3, 3)), RiskLevel::High);
        assert_eq!(m.level(63), RiskLevel::High);
        assert_eq!(m.level(RiskMethod::score(4, 4, 4)), RiskLevel::Critical);
        assert_eq!(m.level(RiskMethod::score(5, 5, 5)), RiskLevel::Critical);
    }

    #[test]
    fn ratings_and_methods_are_checked() {
        assert_eq!(check_rating("likelihood", 3), Ok(3));
        assert!(check_rating("likelihood", 0).is_err());
        assert_eq!(check_rating("severity", 6).map_err(|e| e.field), Err("severity"));
        assert!(RiskMethod::default().check().is_ok());
        assert!(RiskMethod { medium_from: 30, high_from: 20, critical_from: 64 }.check().is_err());
        assert!(RiskMethod { medium_from: 8, high_from: 27, critical_from: 200 }.check().is_err());
    }
}
