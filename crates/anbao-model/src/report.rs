//! Regulator reports of an incident (issue #7, R2.4, R8.5): initial,
//! progress and final reports, each an immutable snapshot of the incident at
//! the time it was generated — what happened, the level and the criterion
//! that decided it, the reporting deadline and whether it was met, the
//! impact facts, the actions taken (the timeline), and for the final report
//! the root cause and lessons. The JSON form is documented in
//! `docs/incident-reports.md`; `schema` names its version.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::incident::{Criterion, IncidentFacts, IncidentGrade, IncidentLevel, OperatorCategory};
use crate::validate::Invalid;

/// The schema this build writes and reads.
pub const REPORT_SCHEMA: &str = "anbao.incident-report/1";

/// Which report of an incident.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReportKind {
    /// The first report, due by the reporting deadline.
    Initial,
    /// Updates while the incident is handled.
    Progress,
    /// After handling: root cause and lessons are required.
    Final,
}

impl ReportKind {
    pub const ALL: [ReportKind; 3] = [ReportKind::Initial, ReportKind::Progress, ReportKind::Final];
    pub fn as_str(self) -> &'static str {
        match self {
            ReportKind::Initial => "initial",
            ReportKind::Progress => "progress",
            ReportKind::Final => "final",
        }
    }
}

impl fmt::Display for ReportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ReportKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        ReportKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("{s:?} is not one of initial, progress, final"))
    }
}

/// Who reports: from `anbao.toml` (`instance_name`, `operator_category`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportingOrganisation {
    pub name: String,
    pub category: OperatorCategory,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportedIncident {
    /// The incident's id at the reporting operator.
    pub id: i64,
    pub title: String,
    /// ddos, dns_failure, data_leak, …
    pub incident_type: String,
    pub summary: String,
    /// open, contained or closed.
    pub status: String,
    /// RFC 3339.
    pub discovered_at: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportedCriterion {
    pub id: String,
    pub article: String,
    pub zh: String,
    pub en: String,
}

/// The level in force and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportedLevel {
    /// I, II, III, IV or none: the level in force (an override wins).
    pub level: IncidentLevel,
    pub level_zh: String,
    /// The level the facts give under the rules.
    pub computed_level: IncidentLevel,
    /// Set by hand, with `override_reason`.
    pub overridden: bool,
    pub override_reason: String,
    /// The criterion that decided the computed level.
    pub criterion: Option<ReportedCriterion>,
    pub explanation_en: String,
    pub explanation_zh: String,
    pub rules_version: String,
}

impl ReportedLevel {
    /// The level of an incident: `override_` is the hand-set level and its
    /// reason, `criterion` the deciding criterion of the computed level.
    pub fn new(
        computed: IncidentLevel,
        override_: Option<(IncidentLevel, &str)>,
        criterion: Option<&Criterion>,
        rules_version: &str,
    ) -> ReportedLevel {
        let grade = IncidentGrade {
            level: computed,
            criterion: criterion.cloned(),
            matched: Vec::new(),
            rules_version: rules_version.to_owned(),
        };
        let (level, explanation_en, explanation_zh, reason) = match override_ {
            Some((l, reason)) => (
                l,
                format!("Level {l} set by hand (computed: {computed}): {reason}"),
                format!("人工认定为 {l} 级(计算结果:{computed}):{reason}"),
                reason.to_owned(),
            ),
            None => (computed, grade.explanation_en(), grade.explanation_zh(), String::new()),
        };
        ReportedLevel {
            level,
            level_zh: level.zh().to_owned(),
            computed_level: computed,
            overridden: override_.is_some(),
            override_reason: reason,
            criterion: criterion.map(|c| ReportedCriterion {
                id: c.id.clone(),
                article: c.article.clone(),
                zh: c.zh.clone(),
                en: c.en.clone(),
            }),
            explanation_en,
            explanation_zh,
            rules_version: rules_version.to_owned(),
        }
    }
}

/// The reporting clock and whether the first report met it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportedDeadline {
    /// None: the level starts no clock.
    pub within_minutes: Option<i64>,
    /// RFC 3339.
    pub report_by: Option<String>,
    /// The plan asks for an immediate report as well.
    pub immediately: bool,
    /// When the incident's first (initial) report was generated, RFC 3339.
    pub first_report_at: Option<String>,
    /// Whether the first report was generated by `report_by`; None when
    /// there is no clock or no initial report yet.
    pub met: Option<bool>,
}

/// Whether a first report at `first_report_at` met a deadline `report_by`.
pub fn deadline_met(report_by: Option<Timestamp>, first_report_at: Option<Timestamp>) -> Option<bool> {
    Some(first_report_at? <= report_by?)
}

/// One action or event of the incident's timeline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportedAction {
    /// RFC 3339.
    pub at: String,
    /// `auto` (recorded by anbao) or `manual`.
    pub kind: String,
    pub entry: String,
    pub actor: String,
}

/// A follow-up action from the post-incident review (an incident task of
/// kind `follow_up`), as a final report lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportedFollowUp {
    pub title: String,
    /// Who is to do it; empty: nobody yet.
    pub assignee: String,
    /// RFC 3339; None: no due time.
    pub due_at: Option<String>,
    /// open, in_progress, done or cancelled when the report was generated.
    pub status: String,
}

/// A report as generated, stored and sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentReport {
    /// [`REPORT_SCHEMA`].
    pub schema: String,
    /// Random, unique per report: receivers deduplicate by it.
    pub report_uid: String,
    pub kind: ReportKind,
    /// RFC 3339.
    pub generated_at: String,
    pub generated_by: String,
    pub organisation: ReportingOrganisation,
    pub incident: ReportedIncident,
    pub level: ReportedLevel,
    pub deadline: ReportedDeadline,
    /// The impact facts the level was graded from.
    pub impact: IncidentFacts,
    /// The timeline up to `generated_at`, oldest first.
    pub actions: Vec<ReportedAction>,
    /// Required in a final report.
    pub root_cause: String,
    /// Required in a final report.
    pub lessons: String,
    /// Final reports: the follow-up actions, open ones included. Absent
    /// when there are none (and in reports written before it existed), so
    /// the schema stays `anbao.incident-report/1`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub follow_ups: Vec<ReportedFollowUp>,
    /// A personal-data leak's details and reporting duty (R5.4); absent for
    /// other incidents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub personal_data: Option<ReportedPersonalData>,
}

/// The personal-data section of a leak incident's report (R5.4).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportedPersonalData {
    /// Personal-information records leaked (the grading fact).
    pub records_leaked: u64,
    /// Category codes (`identity`, `contact`, … see `LeakCategory`).
    pub data_categories: Vec<String>,
    /// Sensitive personal information is involved (PIPL art. 28).
    pub sensitive: bool,
    /// People affected; None: not known yet.
    pub affected_users: Option<i64>,
    /// When the leak-reporting duty was flagged, RFC 3339.
    pub duty_flagged_at: String,
    /// When the individuals were notified (PIPL art. 57); None: not yet.
    pub individuals_notified_at: Option<String>,
    /// When the regulator was notified (MIIT Order No. 24 art. 14, PIPL art. 57); None: not yet.
    pub regulator_notified_at: Option<String>,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    #[error("not a report: {0}")]
    Malformed(String),
    #[error("report schema {found:?} is not supported (expected {REPORT_SCHEMA:?})")]
    UnsupportedSchema { found: String },
}

impl IncidentReport {
    /// A final report needs the root cause and the lessons.
    pub fn check(&self) -> Result<(), Invalid> {
        if self.kind == ReportKind::Final {
            if self.root_cause.trim().is_empty() {
                return Err(Invalid::field("root_cause", "a final report needs the root cause: enter it first"));
            }
            if self.lessons.trim().is_empty() {
                return Err(Invalid::field("lessons", "a final report needs the lessons learned: enter them first"));
            }
        }
        Ok(())
    }

    /// Reads a report received from elsewhere, checking its schema.
    pub fn parse(bytes: &[u8]) -> Result<IncidentReport, ReportError> {
        let value: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| ReportError::Malformed(e.to_string()))?;
        let schema = value.get("schema").and_then(serde_json::Value::as_str).unwrap_or_default();
        if schema != REPORT_SCHEMA {
            return Err(ReportError::UnsupportedSchema { found: schema.to_owned() });
        }
        serde_json::from_value(value).map_err(|e| ReportError::Malformed(e.to_string()))
    }
}

/// The id of an Ed25519 public key: the first 16 hex digits of its SHA-256.
/// Senders put it in `X-Anbao-Key-Id`; receivers look the key up by it.
pub fn key_id_of(public_key: &[u8]) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(public_key);
    hex::encode(digest).chars().take(16).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::parse_ts;
    use crate::incident::IncidentRules;

    fn sample(kind: ReportKind) -> IncidentReport {
        let rules = IncidentRules::builtin().unwrap();
        let facts = IncidentFacts { records_leaked: 2_000_000, ..Default::default() };
        let g = rules.grade(&facts);
        IncidentReport {
            schema: REPORT_SCHEMA.into(),
            report_uid: "00ff".into(),
            kind,
            generated_at: "2026-11-25T10:30:00Z".into(),
            generated_by: "alice".into(),
            organisation: ReportingOrganisation { name: "某运营商".into(), category: OperatorCategory::Cii },
            incident: ReportedIncident {
                id: 7,
                title: "用户信息泄露".into(),
                incident_type: "data_leak".into(),
                summary: String::new(),
                status: "open".into(),
                discovered_at: "2026-11-25T10:00:00Z".into(),
            },
            level: ReportedLevel::new(g.level, None, g.criterion.as_ref(), &g.rules_version),
            deadline: ReportedDeadline {
                within_minutes: Some(60),
                report_by: Some("2026-11-25T11:00:00Z".into()),
                immediately: true,
                first_report_at: Some("2026-11-25T10:30:00Z".into()),
                met: Some(true),
            },
            impact: facts,
            actions: Vec::new(),
            root_cause: String::new(),
            lessons: String::new(),
            follow_ups: Vec::new(),
            personal_data: None,
        }
    }

    #[test]
    fn the_level_says_which_criterion_decided_or_why_it_was_overridden() {
        let r = sample(ReportKind::Initial);
        assert_eq!(r.level.level, IncidentLevel::III);
        assert_eq!(r.level.criterion.as_ref().map(|c| c.id.as_str()), Some("leak_1m"));
        assert!(r.level.explanation_zh.contains("较大"), "{}", r.level.explanation_zh);
        let rules = IncidentRules::builtin().unwrap();
        let c = rules.criteria.iter().find(|c| c.id == "leak_1m");
        let o = ReportedLevel::new(IncidentLevel::III, Some((IncidentLevel::II, "影响扩大")), c, "v");
        assert_eq!((o.level, o.computed_level, o.overridden), (IncidentLevel::II, IncidentLevel::III, true));
        assert!(o.explanation_en.contains("set by hand") && o.explanation_en.contains("影响扩大"));
    }

    #[test]
    fn a_final_report_needs_root_cause_and_lessons() {
        assert!(sample(ReportKind::Initial).check().is_ok());
        let mut f = sample(ReportKind::Final);
        assert_eq!(f.check().unwrap_err().field, "root_cause");
        f.root_cause = "弱口令".into();
        assert_eq!(f.check().unwrap_err().field, "lessons");
        f.lessons = "  ".into();
        assert_eq!(f.check().unwrap_err().field, "lessons");
        f.lessons = "启用多因素认证".into();
        assert!(f.check().is_ok());
    }

    #[test]
    fn deadline_met_compares_the_first_report_with_the_deadline() {
        let t = |s: &str| parse_ts(s).ok();
        assert_eq!(deadline_met(t("2026-11-25T11:00:00Z"), t("2026-11-25T11:00:00Z")), Some(true));
        assert_eq!(deadline_met(t("2026-11-25T11:00:00Z"), t("2026-11-25T11:00:01Z")), Some(false));
        assert_eq!(deadline_met(None, t("2026-11-25T11:00:00Z")), None);
        assert_eq!(deadline_met(t("2026-11-25T11:00:00Z"), None), None);
    }

    #[test]
    fn reports_round_trip_and_foreign_schemas_are_refused() {
        let r = sample(ReportKind::Progress);
        let text = serde_json::to_vec(&r).unwrap();
        assert_eq!(IncidentReport::parse(&text).unwrap(), r);
        let json: serde_json::Value = serde_json::from_slice(&text).unwrap();
        assert_eq!(json["schema"], REPORT_SCHEMA);
        assert_eq!(json["kind"], "progress");
        assert_eq!(json["level"]["level"], "III");
        let other = String::from_utf8(text).unwrap().replace(REPORT_SCHEMA, "anbao.incident-report/2");
        assert!(matches!(IncidentReport::parse(other.as_bytes()), Err(ReportError::UnsupportedSchema { .. })));
        assert!(matches!(IncidentReport::parse(b"{\"schema\":"), Err(ReportError::Malformed(_))));
        let missing = format!("{{\"schema\":\"{REPORT_SCHEMA}\"}}");
        assert!(matches!(IncidentReport::parse(missing.as_bytes()), Err(ReportError::Malformed(_))));
        assert_eq!("final".parse::<ReportKind>(), Ok(ReportKind::Final));
        assert!("draft".parse::<ReportKind>().is_err());
    }

    #[test]
    fn key_ids_are_16_hex_digits_of_the_keys_sha256() {
        // SHA-256 of 32 zero bytes is 66687aadf862bd77…
        assert_eq!(key_id_of(&[0u8; 32]), "66687aadf862bd77");
        assert_ne!(key_id_of(&[1u8; 32]), key_id_of(&[0u8; 32]));
    }
}
