//! Incidents graded by the national emergency plan (issue #7, R2.5): the
//! incident types, the structured facts a responder enters, their grading to
//! 特别重大 (I) … 一般 (IV) per the MIIT public-internet cybersecurity
//! emergency plan (2017) with the deciding criterion, and the reporting
//! deadline from discovery time, level and operator category. The criteria
//! and the default clocks live in `data/incident-grading.toml`, which cites
//! the articles and says what could not be verified.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing))]

use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use time::Duration;

use crate::clock::Timestamp;

/// The grading data shipped with anbao.
pub const BUILTIN_INCIDENT_RULES: &str = include_str!("../data/incident-grading.toml");

/// Defines a string-named enum: `as_str`, `ALL`, `FromStr` naming the
/// accepted values, `Display`, serde as the name.
macro_rules! named_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident = $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name { $($(#[$vm])* #[serde(rename = $s)] $v),+ }
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$v),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$v => $s),+ }
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }
        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                $name::ALL.iter().copied().find(|v| v.as_str() == s).ok_or_else(|| {
                    let names: Vec<&str> = $name::ALL.iter().map(|v| v.as_str()).collect();
                    format!("{s:?} is not one of {}", names.join(", "))
                })
            }
        }
    };
}

named_enum! {
    /// What kind of incident (the issue's list).
    IncidentType {
        Ddos = "ddos",
        DnsFailure = "dns_failure",
        DataLeak = "data_leak",
        Malware = "malware",
        Defacement = "defacement",
        Intrusion = "intrusion",
        Phishing = "phishing",
        Outage = "outage",
        Other = "other",
    }
}

named_enum! {
    /// Over what area: none < one prefecture city < one province < several
    /// provinces < nationwide.
    AreaScope {
        None = "none",
        City = "city",
        Province = "province",
        MultiProvince = "multi_province",
        Nationwide = "nationwide",
    }
}

named_enum! {
    /// Influence of the affected website or platform.
    Influence {
        None = "none",
        Provincial = "provincial",
        National = "national",
    }
}

named_enum! {
    /// The plan's levels, ordered `none < IV < III < II < I`.
    IncidentLevel {
        /// Below every criterion of the plan.
        None = "none",
        /// 一般
        IV = "IV",
        /// 较大
        III = "III",
        /// 重大
        II = "II",
        /// 特别重大
        I = "I",
    }
}

named_enum! {
    /// Whom the operator reports to and how fast (CAC measures art. 4).
    OperatorCategory {
        /// Operator of critical information infrastructure.
        Cii = "cii",
        /// Central and state bodies and their direct units.
        Central = "central",
        Other = "other",
    }
}

named_enum! {
    /// Where handling stands.
    IncidentStatus {
        Open = "open",
        Contained = "contained",
        Closed = "closed",
    }
}

named_enum! {
    /// Where a task of an incident stands (R2.6, the board's columns).
    TaskStatus {
        Open = "open",
        InProgress = "in_progress",
        Done = "done",
        Cancelled = "cancelled",
    }
}

named_enum! {
    /// What a task of an incident is for: case work while handling it, or a
    /// follow-up action from the post-incident review.
    TaskKind {
        Task = "task",
        FollowUp = "follow_up",
    }
}

impl TaskStatus {
    /// Still to be done: such a task past its due time is overdue.
    pub fn is_pending(self) -> bool {
        matches!(self, TaskStatus::Open | TaskStatus::InProgress)
    }
}

named_enum! {
    /// Categories of personal information in a leak (R5.4).
    LeakCategory {
        Identity = "identity",
        Contact = "contact",
        AccountCredentials = "account_credentials",
        FinancialAccount = "financial_account",
        Location = "location",
        Health = "health",
        Biometric = "biometric",
        Religious = "religious",
        SpecificIdentity = "specific_identity",
        MinorsUnder14 = "minors_under_14",
        Communications = "communications",
        DeviceIds = "device_ids",
        Other = "other",
    }
}

named_enum! {
    /// Who must be told of a personal-data leak.
    LeakDuty {
        /// The people whose information leaked (PIPL art. 57).
        Individuals = "individuals",
        /// The telecom regulator (MIIT Order No. 24 art. 14) and the
        /// personal-information protection authority (PIPL art. 57).
        Regulator = "regulator",
    }
}

impl LeakCategory {
    /// Sensitive personal information under PIPL art. 28: biometric data,
    /// religious belief, specific identity, medical health, financial
    /// accounts, whereabouts, and any personal information of minors under 14.
    pub fn is_sensitive(self) -> bool {
        matches!(
            self,
            LeakCategory::Biometric
                | LeakCategory::Religious
                | LeakCategory::SpecificIdentity
                | LeakCategory::Health
                | LeakCategory::FinancialAccount
                | LeakCategory::Location
                | LeakCategory::MinorsUnder14
        )
    }
}

/// Whether an incident with these facts is a personal-data leak, which
/// starts the leak-reporting duty: typed `data_leak`, or any records leaked.
pub fn is_personal_data_leak(t: IncidentType, f: &IncidentFacts) -> bool {
    t == IncidentType::DataLeak || f.records_leaked > 0
}

// Defined by the macro, so `#[derive(Default)]` cannot be used.
#[allow(clippy::derivable_impls)]
impl Default for TaskKind {
    fn default() -> Self {
        TaskKind::Task
    }
}

// Defined by the macro, so `#[derive(Default)]` cannot be used.
#[allow(clippy::derivable_impls)]
impl Default for AreaScope {
    fn default() -> Self {
        AreaScope::None
    }
}

#[allow(clippy::derivable_impls)]
impl Default for Influence {
    fn default() -> Self {
        Influence::None
    }
}

impl IncidentLevel {
    /// The plan's Chinese name.
    pub fn zh(self) -> &'static str {
        match self {
            IncidentLevel::None => "未达分级标准",
            IncidentLevel::IV => "一般",
            IncidentLevel::III => "较大",
            IncidentLevel::II => "重大",
            IncidentLevel::I => "特别重大",
        }
    }
}

/// The facts a responder enters; everything absent means "not affected".
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentFacts {
    /// Over what area large numbers of users cannot get online.
    #[serde(default)]
    pub users_offline_scope: AreaScope,
    /// Personal-information records of internet users leaked.
    #[serde(default)]
    pub records_leaked: u64,
    /// The .CN national top-level domain system's resolution is degraded.
    #[serde(default)]
    pub national_tld_affected: bool,
    /// Access to a large DNS resolution system is seriously abnormal.
    #[serde(default)]
    pub large_dns_affected: bool,
    /// Influence of a website or platform whose access is seriously abnormal.
    #[serde(default)]
    pub platform_influence: Influence,
    /// Over what area malware breaks out widely.
    #[serde(default)]
    pub malware_spread_scope: AreaScope,
}

/// The condition of one criterion.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "fact", content = "at_least", rename_all = "snake_case")]
pub enum Condition {
    UsersOfflineScope(AreaScope),
    MalwareSpreadScope(AreaScope),
    PlatformInfluence(Influence),
    RecordsLeaked(u64),
    NationalTldAffected,
    LargeDnsAffected,
}

impl Condition {
    pub fn holds(self, f: &IncidentFacts) -> bool {
        match self {
            Condition::UsersOfflineScope(s) => f.users_offline_scope >= s,
            Condition::MalwareSpreadScope(s) => f.malware_spread_scope >= s,
            Condition::PlatformInfluence(i) => f.platform_influence >= i,
            // "以上" includes the number itself.
            Condition::RecordsLeaked(n) => f.records_leaked >= n,
            Condition::NationalTldAffected => f.national_tld_affected,
            Condition::LargeDnsAffected => f.large_dns_affected,
        }
    }
}

/// One situation of the plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Criterion {
    pub id: String,
    pub level: IncidentLevel,
    #[serde(flatten)]
    pub condition: Condition,
    pub article: String,
    pub zh: String,
    pub en: String,
}

/// Reporting minutes per operator category.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportMinutes {
    pub cii: u32,
    pub central: u32,
    pub other: u32,
}

impl ReportMinutes {
    pub fn of(&self, c: OperatorCategory) -> u32 {
        match c {
            OperatorCategory::Cii => self.cii,
            OperatorCategory::Central => self.central,
            OperatorCategory::Other => self.other,
        }
    }
}

/// The reporting clock.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Reporting {
    pub levels: Vec<IncidentLevel>,
    pub immediate_levels: Vec<IncidentLevel>,
    pub minutes: ReportMinutes,
    pub source: String,
}

/// The grading criteria and reporting clock, checked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IncidentRules {
    pub version: String,
    pub criteria: Vec<Criterion>,
    pub reporting: Reporting,
}

/// A grade with its reasons.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IncidentGrade {
    pub level: IncidentLevel,
    /// The deciding criterion: the first in file order at the level; none
    /// when no criterion holds.
    pub criterion: Option<Criterion>,
    /// Every criterion that holds, highest level first.
    pub matched: Vec<String>,
    /// The rules version that graded.
    pub rules_version: String,
}

impl IncidentGrade {
    /// Why, in English.
    pub fn explanation_en(&self) -> String {
        match &self.criterion {
            Some(c) => format!("Level {} ({}): {} — {}.", self.level, self.level.zh(), c.en, c.article),
            None => "No criterion of the plan's sections 3.1–3.4 holds for these facts.".to_owned(),
        }
    }
    /// Why, in Chinese.
    pub fn explanation_zh(&self) -> String {
        match &self.criterion {
            Some(c) => format!("{}({}级):{}。依据:{}", self.level.zh(), self.level, c.zh, c.article),
            None => "事实未达到预案 3.1–3.4 任一分级标准。".to_owned(),
        }
    }
}

/// When the report is due.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ReportDeadline {
    /// None: the level starts no clock.
    pub within_minutes: Option<u32>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub by: Option<Timestamp>,
    /// The plan asks for an immediate report as well.
    pub immediately: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IncidentRulesError {
    #[error("incident grading rules: {message}")]
    Syntax { message: String },
    #[error("incident grading rules: format {found} is not supported (expected 1)")]
    UnsupportedFormat { found: i64 },
    #[error("incident grading rules: criterion {id:?}: {reason}")]
    BadCriterion { id: String, reason: String },
    #[error("incident grading rules: reporting: {reason}")]
    BadReporting { reason: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    format: i64,
    version: String,
    #[serde(rename = "criterion", default)]
    criteria: Vec<RawCriterion>,
    reporting: RawReporting,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCriterion {
    id: String,
    level: String,
    fact: String,
    at_least: toml::Value,
    article: String,
    zh: String,
    en: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReporting {
    levels: Vec<String>,
    immediate_levels: Vec<String>,
    minutes: ReportMinutes,
    source: String,
}

fn condition(fact: &str, v: &toml::Value) -> Result<Condition, String> {
    let text = || v.as_str().ok_or_else(|| format!("at_least for {fact} must be a name"));
    Ok(match fact {
        "users_offline_scope" => Condition::UsersOfflineScope(text()?.parse()?),
        "malware_spread_scope" => Condition::MalwareSpreadScope(text()?.parse()?),
        "platform_influence" => Condition::PlatformInfluence(text()?.parse()?),
        "records_leaked" => Condition::RecordsLeaked(
            v.as_integer()
                .and_then(|n| u64::try_from(n).ok())
                .filter(|n| *n > 0)
                .ok_or_else(|| "at_least for records_leaked must be a positive integer".to_owned())?,
        ),
        "national_tld_affected" | "large_dns_affected" => {
            if v.as_bool() != Some(true) {
                return Err(format!("at_least for {fact} must be true"));
            }
            if fact == "national_tld_affected" { Condition::NationalTldAffected } else { Condition::LargeDnsAffected }
        }
        other => return Err(format!("unknown fact {other:?}")),
    })
}

fn levels(names: &[String]) -> Result<Vec<IncidentLevel>, IncidentRulesError> {
    names
        .iter()
        .map(|n| match n.parse() {
            Ok(IncidentLevel::None) | Err(_) => {
                Err(IncidentRulesError::BadReporting { reason: format!("{n:?} is not one of I, II, III, IV") })
            }
            Ok(l) => Ok(l),
        })
        .collect()
}

impl IncidentRules {
    /// The shipped rules, parsed once (a test checks that they parse).
    pub fn builtin() -> Result<&'static IncidentRules, IncidentRulesError> {
        static BUILTIN: OnceLock<Result<IncidentRules, IncidentRulesError>> = OnceLock::new();
        BUILTIN.get_or_init(|| IncidentRules::parse(BUILTIN_INCIDENT_RULES)).as_ref().map_err(Clone::clone)
    }

    /// Parses and checks a rules file (layout at the top of
    /// `data/incident-grading.toml`).
    pub fn parse(text: &str) -> Result<IncidentRules, IncidentRulesError> {
        let raw: RawFile = toml::from_str(text).map_err(|e| IncidentRulesError::Syntax { message: e.to_string() })?;
        if raw.format != 1 {
            return Err(IncidentRulesError::UnsupportedFormat { found: raw.format });
        }
        if raw.version.trim().is_empty() {
            return Err(IncidentRulesError::Syntax { message: "version must not be empty".into() });
        }
        let mut criteria: Vec<Criterion> = Vec::with_capacity(raw.criteria.len());
        for c in raw.criteria {
            let bad = |reason: String| IncidentRulesError::BadCriterion { id: c.id.clone(), reason };
            let id_ok = !c.id.is_empty()
                && c.id.len() <= 64
                && c.id.chars().all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_');
            if !id_ok {
                return Err(bad("id: use 1 to 64 of a-z, 0-9 and _".into()));
            }
            if criteria.iter().any(|o| o.id == c.id) {
                return Err(bad("duplicate id".into()));
            }
            let level: IncidentLevel = c.level.parse().map_err(bad)?;
            if level == IncidentLevel::None {
                return Err(bad("level must be I, II, III or IV".into()));
            }
            let condition = condition(&c.fact, &c.at_least).map_err(bad)?;
            for (field, v) in [("article", &c.article), ("zh", &c.zh), ("en", &c.en)] {
                if v.trim().is_empty() {
                    return Err(bad(format!("{field} must not be empty")));
                }
            }
            criteria.push(Criterion { id: c.id, level, condition, article: c.article, zh: c.zh, en: c.en });
        }
        if criteria.is_empty() {
            return Err(IncidentRulesError::Syntax { message: "no [[criterion]]".into() });
        }
        let r = raw.reporting;
        let reporting = Reporting {
            levels: levels(&r.levels)?,
            immediate_levels: levels(&r.immediate_levels)?,
            minutes: r.minutes,
            source: r.source,
        };
        check_minutes(&reporting.minutes)?;
        Ok(IncidentRules { version: raw.version, criteria, reporting })
    }

    /// These rules with the reporting minutes replaced (from `anbao.toml`).
    pub fn with_minutes(mut self, minutes: ReportMinutes) -> Result<IncidentRules, IncidentRulesError> {
        check_minutes(&minutes)?;
        self.reporting.minutes = minutes;
        Ok(self)
    }

    /// Grades a set of facts.
    pub fn grade(&self, facts: &IncidentFacts) -> IncidentGrade {
        let mut held: Vec<&Criterion> = self.criteria.iter().filter(|c| c.condition.holds(facts)).collect();
        // Stable: within a level, file order stays.
        held.sort_by_key(|c| std::cmp::Reverse(c.level));
        let criterion = held.first().map(|c| (*c).clone());
        IncidentGrade {
            level: criterion.as_ref().map_or(IncidentLevel::None, |c| c.level),
            criterion,
            matched: held.iter().map(|c| c.id.clone()).collect(),
            rules_version: self.version.clone(),
        }
    }

    /// When the report of an incident of `level` discovered at
    /// `discovered_at` is due for an operator of `category`.
    pub fn deadline(
        &self,
        level: IncidentLevel,
        category: OperatorCategory,
        discovered_at: Timestamp,
    ) -> ReportDeadline {
        let immediately = self.reporting.immediate_levels.contains(&level);
        if !self.reporting.levels.contains(&level) {
            return ReportDeadline { within_minutes: None, by: None, immediately };
        }
        let minutes = self.reporting.minutes.of(category);
        ReportDeadline {
            within_minutes: Some(minutes),
            by: discovered_at.checked_add(Duration::minutes(i64::from(minutes))),
            immediately,
        }
    }
}

fn check_minutes(m: &ReportMinutes) -> Result<(), IncidentRulesError> {
    let ok = [m.cii, m.central, m.other].iter().all(|v| (1..=7 * 24 * 60).contains(v));
    if ok {
        Ok(())
    } else {
        Err(IncidentRulesError::BadReporting { reason: "minutes must be between 1 and 10080 (a week)".into() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::parse_ts;

    fn rules() -> &'static IncidentRules {
        IncidentRules::builtin().unwrap()
    }

    fn level(f: IncidentFacts) -> (IncidentLevel, Option<String>) {
        let g = rules().grade(&f);
        (g.level, g.criterion.map(|c| c.id))
    }

    fn leaked(n: u64) -> IncidentFacts {
        IncidentFacts { records_leaked: n, ..Default::default() }
    }

    #[test]
    fn shipped_rules_parse_and_cite_an_article_for_every_criterion() {
        let r = rules();
        assert_eq!(r.criteria.len(), 15);
        assert!(r.criteria.iter().all(|c| c.article.starts_with("Plan 3.")));
        assert_eq!(r.reporting.minutes, ReportMinutes { cii: 60, central: 120, other: 240 });
    }

    #[test]
    fn records_leaked_at_and_around_every_threshold() {
        // "以上" includes the number: each threshold itself is at the level.
        let table = [
            (0, IncidentLevel::None, None),
            (99_999, IncidentLevel::None, None),
            (100_000, IncidentLevel::IV, Some("leak_100k")),
            (999_999, IncidentLevel::IV, Some("leak_100k")),
            (1_000_000, IncidentLevel::III, Some("leak_1m")),
            (9_999_999, IncidentLevel::III, Some("leak_1m")),
            (10_000_000, IncidentLevel::II, Some("leak_10m")),
            (99_999_999, IncidentLevel::II, Some("leak_10m")),
            (100_000_000, IncidentLevel::I, Some("leak_100m")),
            (u64::MAX, IncidentLevel::I, Some("leak_100m")),
        ];
        for (n, want, by) in table {
            assert_eq!(level(leaked(n)), (want, by.map(str::to_owned)), "{n} records");
        }
    }

    #[test]
    fn users_offline_by_area() {
        let table = [
            (AreaScope::None, IncidentLevel::None, None),
            (AreaScope::City, IncidentLevel::IV, Some("offline_city")),
            (AreaScope::Province, IncidentLevel::III, Some("offline_province")),
            (AreaScope::MultiProvince, IncidentLevel::II, Some("offline_multi_province")),
            (AreaScope::Nationwide, IncidentLevel::I, Some("offline_nationwide")),
        ];
        for (s, want, by) in table {
            let f = IncidentFacts { users_offline_scope: s, ..Default::default() };
            assert_eq!(level(f), (want, by.map(str::to_owned)), "{s}");
        }
    }

    #[test]
    fn malware_by_area_has_no_city_criterion() {
        let table = [
            (AreaScope::None, IncidentLevel::None),
            (AreaScope::City, IncidentLevel::None),
            (AreaScope::Province, IncidentLevel::III),
            (AreaScope::MultiProvince, IncidentLevel::II),
            (AreaScope::Nationwide, IncidentLevel::I),
        ];
        for (s, want) in table {
            let f = IncidentFacts { malware_spread_scope: s, ..Default::default() };
            assert_eq!(level(f).0, want, "{s}");
        }
    }

    #[test]
    fn platforms_and_dns() {
        let p = |i| IncidentFacts { platform_influence: i, ..Default::default() };
        assert_eq!(level(p(Influence::None)).0, IncidentLevel::None);
        assert_eq!(level(p(Influence::Provincial)), (IncidentLevel::III, Some("platform_provincial".into())));
        assert_eq!(level(p(Influence::National)), (IncidentLevel::II, Some("platform_national".into())));
        let dns = IncidentFacts { large_dns_affected: true, ..Default::default() };
        assert_eq!(level(dns), (IncidentLevel::II, Some("large_dns".into())));
        let tld = IncidentFacts { national_tld_affected: true, ..Default::default() };
        assert_eq!(level(tld), (IncidentLevel::I, Some("national_tld".into())));
    }

    #[test]
    fn the_highest_level_decides_and_every_match_is_listed() {
        let f = IncidentFacts {
            users_offline_scope: AreaScope::City,
            records_leaked: 12_000_000,
            malware_spread_scope: AreaScope::Province,
            ..Default::default()
        };
        let g = rules().grade(&f);
        assert_eq!(g.level, IncidentLevel::II);
        assert_eq!(g.criterion.as_ref().map(|c| c.article.as_str()), Some("Plan 3.2(4)"));
        assert_eq!(g.matched, ["leak_10m", "leak_1m", "malware_province", "offline_city", "leak_100k"]);
        assert!(g.explanation_en().contains("10 million or more"), "{}", g.explanation_en());
        assert!(g.explanation_zh().contains("重大"), "{}", g.explanation_zh());
    }

    #[test]
    fn deadlines_by_category_and_level() {
        let t = parse_ts("2026-11-25T10:00:00Z").unwrap();
        let r = rules();
        let d = r.deadline(IncidentLevel::III, OperatorCategory::Cii, t);
        assert_eq!(d.within_minutes, Some(60));
        assert_eq!(d.by, parse_ts("2026-11-25T11:00:00Z").ok());
        assert!(d.immediately, "plan 4.1: every event of the plan is reported at once");
        let narrow = BUILTIN_INCIDENT_RULES
            .replace(r#"immediate_levels = ["I", "II", "III", "IV"]"#, r#"immediate_levels = ["I", "II"]"#);
        let narrow = IncidentRules::parse(&narrow).unwrap();
        assert!(!narrow.deadline(IncidentLevel::III, OperatorCategory::Cii, t).immediately);
        assert!(narrow.deadline(IncidentLevel::II, OperatorCategory::Cii, t).immediately);
        assert_eq!(r.deadline(IncidentLevel::I, OperatorCategory::Central, t).within_minutes, Some(120));
        assert!(r.deadline(IncidentLevel::I, OperatorCategory::Central, t).immediately);
        let other = r.deadline(IncidentLevel::IV, OperatorCategory::Other, t);
        assert_eq!(other.by, parse_ts("2026-11-25T14:00:00Z").ok());
        let none = r.deadline(IncidentLevel::None, OperatorCategory::Cii, t);
        assert_eq!((none.within_minutes, none.by, none.immediately), (None, None, false));
        let changed = r.clone().with_minutes(ReportMinutes { cii: 30, central: 90, other: 180 }).unwrap();
        assert_eq!(changed.deadline(IncidentLevel::II, OperatorCategory::Cii, t).within_minutes, Some(30));
        assert!(r.clone().with_minutes(ReportMinutes { cii: 0, central: 90, other: 180 }).is_err());
    }

    #[test]
    fn facts_name_the_field_of_an_unknown_value() {
        let e = serde_json::from_str::<IncidentFacts>(r#"{"users_offline_scope":"planet"}"#).unwrap_err();
        assert!(e.to_string().contains("unknown variant `planet`"), "{e}");
        assert!(serde_json::from_str::<IncidentFacts>(r#"{"records_leaked":-1}"#).is_err());
        assert!(serde_json::from_str::<IncidentFacts>(r#"{"colour":"red"}"#).is_err());
        assert_eq!(serde_json::from_str::<IncidentFacts>("{}").unwrap(), IncidentFacts::default());
    }

    #[test]
    fn bad_rule_files_are_refused_with_the_criterion_named() {
        let base = BUILTIN_INCIDENT_RULES;
        let bad = base.replacen("at_least = \"nationwide\"", "at_least = \"galaxy\"", 1);
        assert!(
            matches!(IncidentRules::parse(&bad), Err(IncidentRulesError::BadCriterion { id, .. }) if id == "offline_nationwide")
        );
        let bad = base.replacen("fact = \"records_leaked\"", "fact = \"records\"", 1);
        assert!(
            matches!(IncidentRules::parse(&bad), Err(IncidentRulesError::BadCriterion { id, .. }) if id == "leak_100m")
        );
        let bad = base.replacen("format = 1", "format = 2", 1);
        assert!(matches!(IncidentRules::parse(&bad), Err(IncidentRulesError::UnsupportedFormat { found: 2 })));
        let bad = base.replacen("cii = 60", "cii = 0", 1);
        assert!(matches!(IncidentRules::parse(&bad), Err(IncidentRulesError::BadReporting { .. })));
    }

    #[test]
    fn names_round_trip() {
        for t in IncidentType::ALL {
            assert_eq!(t.as_str().parse::<IncidentType>(), Ok(*t));
        }
        for l in IncidentLevel::ALL {
            assert_eq!(l.as_str().parse::<IncidentLevel>(), Ok(*l));
        }
        assert!(IncidentLevel::I > IncidentLevel::II && IncidentLevel::IV > IncidentLevel::None);
        assert!("V".parse::<IncidentLevel>().unwrap_err().contains("none, IV, III, II, I"));
    }

    #[test]
    fn leak_categories_parse_and_know_pipl_art_28() {
        let sensitive: Vec<&str> = LeakCategory::ALL.iter().filter(|c| c.is_sensitive()).map(|c| c.as_str()).collect();
        assert_eq!(
            sensitive,
            [
                "financial_account",
                "location",
                "health",
                "biometric",
                "religious",
                "specific_identity",
                "minors_under_14"
            ]
        );
        assert_eq!("device_ids".parse::<LeakCategory>(), Ok(LeakCategory::DeviceIds));
        assert!("passport".parse::<LeakCategory>().unwrap_err().contains("\"passport\""));
        assert!(is_personal_data_leak(IncidentType::DataLeak, &IncidentFacts::default()));
        assert!(is_personal_data_leak(IncidentType::Intrusion, &leaked(1)));
        assert!(!is_personal_data_leak(IncidentType::Ddos, &IncidentFacts::default()));
    }
}
