//! Grading of network units (定级, requirement R1.1): the grade levels of
//! MIIT Order No. 11 and the YD/T 1729 family, the separate MLPS levels, the
//! grading wizard's rules — data in `data/grading-rules.toml`, parsed and
//! checked here — and the proposal they make from a set of answers, which
//! keeps its reasoning so a reviewer can see why.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing))]

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The grade of a network unit under Order No. 11 (一级 … 五级). The YD/T
/// network-specific standards split level 3 into 3.1 and 3.2; both are tier 3
/// of the Order. Ordered `1 < 2 < 3 < 3.1 < 3.2 < 4 < 5`: a plain `3` means
/// "tier 3, sub-level not chosen", the lowest of its tier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GradeLevel {
    One,
    Two,
    Three,
    ThreeOne,
    ThreeTwo,
    Four,
    Five,
}

impl GradeLevel {
    pub const ALL: [GradeLevel; 7] = [
        GradeLevel::One,
        GradeLevel::Two,
        GradeLevel::Three,
        GradeLevel::ThreeOne,
        GradeLevel::ThreeTwo,
        GradeLevel::Four,
        GradeLevel::Five,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            GradeLevel::One => "1",
            GradeLevel::Two => "2",
            GradeLevel::Three => "3",
            GradeLevel::ThreeOne => "3.1",
            GradeLevel::ThreeTwo => "3.2",
            GradeLevel::Four => "4",
            GradeLevel::Five => "5",
        }
    }

    /// The level as Order No. 11 counts it, 1 to 5 (3.1 and 3.2 are 3).
    pub fn order_tier(self) -> u8 {
        match self {
            GradeLevel::One => 1,
            GradeLevel::Two => 2,
            GradeLevel::Three | GradeLevel::ThreeOne | GradeLevel::ThreeTwo => 3,
            GradeLevel::Four => 4,
            GradeLevel::Five => 5,
        }
    }
}

impl fmt::Display for GradeLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown grade level {0:?}; expected one of 1, 2, 3, 3.1, 3.2, 4, 5")]
pub struct UnknownLevel(pub String);

impl FromStr for GradeLevel {
    type Err = UnknownLevel;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        GradeLevel::ALL.into_iter().find(|l| l.as_str() == wanted).ok_or_else(|| UnknownLevel(s.to_owned()))
    }
}

impl Serialize for GradeLevel {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for GradeLevel {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A level of the multi-level protection scheme (等级保护, GB/T 22239-2019),
/// graded and filed with the public-security authorities. Separate from the
/// MIIT grade: a unit may carry both, and neither is derived from the other.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MlpsLevel {
    One,
    Two,
    Three,
    Four,
    Five,
}

impl MlpsLevel {
    pub const ALL: [MlpsLevel; 5] =
        [MlpsLevel::One, MlpsLevel::Two, MlpsLevel::Three, MlpsLevel::Four, MlpsLevel::Five];

    pub fn as_str(self) -> &'static str {
        match self {
            MlpsLevel::One => "1",
            MlpsLevel::Two => "2",
            MlpsLevel::Three => "3",
            MlpsLevel::Four => "4",
            MlpsLevel::Five => "5",
        }
    }

    /// The level as a number, 1 to 5.
    pub fn number(self) -> u8 {
        match self {
            MlpsLevel::One => 1,
            MlpsLevel::Two => 2,
            MlpsLevel::Three => 3,
            MlpsLevel::Four => 4,
            MlpsLevel::Five => 5,
        }
    }
}

impl fmt::Display for MlpsLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown MLPS level {0:?}; expected one of 1, 2, 3, 4, 5")]
pub struct UnknownMlpsLevel(pub String);

impl FromStr for MlpsLevel {
    type Err = UnknownMlpsLevel;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        MlpsLevel::ALL.into_iter().find(|l| l.as_str() == wanted).ok_or_else(|| UnknownMlpsLevel(s.to_owned()))
    }
}

impl Serialize for MlpsLevel {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for MlpsLevel {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The rules shipped with anbao, `data/grading-rules.toml`.
pub const BUILTIN_RULES: &str = include_str!("../data/grading-rules.toml");

/// The layout of the rules file this code reads (`format = 1`).
pub const RULES_FORMAT: i64 = 1;

/// A question of the grading wizard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Factor {
    pub id: String,
    pub zh: String,
    pub en: String,
    pub source: String,
    /// The possible answers, in the order the wizard shows them; never empty.
    pub options: Vec<FactorOption>,
}

impl Factor {
    pub fn option(&self, id: &str) -> Option<&FactorOption> {
        self.options.iter().find(|o| o.id == id)
    }
}

/// One possible answer to a factor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FactorOption {
    pub id: String,
    pub zh: String,
    pub en: String,
    /// Empty when the file gives none.
    pub source: String,
}

/// "If these answers, then at least this level."
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rule {
    pub id: String,
    /// Factor id → the options any one of which satisfies it; every factor
    /// named must be satisfied. Empty: the rule always fires.
    pub when: BTreeMap<String, Vec<String>>,
    pub level: GradeLevel,
    pub reason_zh: String,
    pub reason_en: String,
    pub source: String,
}

impl Rule {
    /// Whether the rule fires for these answers.
    pub fn matches(&self, answers: &GradingAnswers) -> bool {
        self.when.iter().all(|(factor, options)| answers.get(factor).is_some_and(|a| options.iter().any(|o| o == a)))
    }
}

/// How 3.1 and 3.2 are chosen when a proposal lands on tier 3.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Level3Split {
    /// The factor whose answer decides.
    pub factor: String,
    pub source: String,
    /// Every option of `factor` is in exactly one choice.
    pub choices: Vec<SplitChoice>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SplitChoice {
    pub id: String,
    pub options: Vec<String>,
    /// 3.1 or 3.2.
    pub level: GradeLevel,
    pub reason_zh: String,
    pub reason_en: String,
}

/// A checked set of grading rules: every rule names known factors and
/// options, there is a baseline rule, and the level-3 split (if any) covers
/// its factor. Only [`GradingRules::parse`] makes one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GradingRules {
    version: String,
    factors: Vec<Factor>,
    rules: Vec<Rule>,
    level3_split: Option<Level3Split>,
}

/// Why a rules file was refused. Each variant names what is wrong and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RulesError {
    /// Not TOML, or not the shape described at the top of the builtin file;
    /// the message gives the line and column.
    #[error("grading rules: {message}")]
    Syntax { message: String },
    #[error("grading rules: format {found} is not supported; this version of anbao reads format {RULES_FORMAT}")]
    UnsupportedFormat { found: i64 },
    #[error("grading rules: {what} id {id:?} is not valid; use 1 to 64 of {allowed}")]
    BadId { what: &'static str, id: String, allowed: &'static str },
    #[error("grading rules: {field} of {at} is empty")]
    EmptyText { at: String, field: &'static str },
    #[error("grading rules: there are no factors")]
    NoFactors,
    #[error("grading rules: factor {factor:?} is defined twice")]
    DuplicateFactor { factor: String },
    #[error("grading rules: factor {factor:?} has no options")]
    FactorWithoutOptions { factor: String },
    #[error("grading rules: factor {factor:?} has option {option:?} twice")]
    DuplicateOption { factor: String, option: String },
    #[error("grading rules: rule {rule:?} is defined twice")]
    DuplicateRule { rule: String },
    #[error("grading rules: rule {rule:?} names factor {factor:?}, which is not defined")]
    UnknownFactor { rule: String, factor: String },
    #[error("grading rules: rule {rule:?} names option {option:?}, which factor {factor:?} does not have")]
    UnknownOption { rule: String, factor: String, option: String },
    #[error("grading rules: rule {rule:?} lists no options for factor {factor:?}")]
    EmptyCondition { rule: String, factor: String },
    #[error("grading rules: rule {rule:?} has level {level:?}; expected one of 1, 2, 3, 3.1, 3.2, 4, 5")]
    BadLevel { rule: String, level: String },
    #[error("grading rules: no rule has `when = {{}}`; add a baseline rule so that every unit gets a level")]
    NoBaseline,
    #[error("grading rules: level3_split uses factor {factor:?}, which is not defined")]
    SplitUnknownFactor { factor: String },
    #[error(
        "grading rules: level3_split choice {choice:?} names option {option:?}, which factor {factor:?} does not have"
    )]
    SplitUnknownOption { choice: String, factor: String, option: String },
    #[error("grading rules: level3_split choice {choice:?} has level {level:?}; expected 3.1 or 3.2")]
    SplitBadLevel { choice: String, level: String },
    #[error("grading rules: level3_split choice {choice:?} is defined twice")]
    SplitDuplicateChoice { choice: String },
    #[error("grading rules: level3_split puts option {option:?} in more than one choice")]
    SplitOptionTwice { option: String },
    #[error("grading rules: level3_split has no choice for option {option:?} of factor {factor:?}")]
    SplitOptionMissing { factor: String, option: String },
}

/// Why a set of answers gets no proposal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AnswerError {
    #[error("no answer to {factor:?}")]
    Missing { factor: String },
    #[error("{factor:?} is not a question of these grading rules")]
    UnknownFactor { factor: String },
    #[error("{option:?} is not an answer to {factor:?}; expected one of {}", expected.join(", "))]
    UnknownOption { factor: String, option: String, expected: Vec<String> },
    /// Cannot happen with rules that passed [`GradingRules::parse`] (they
    /// have a baseline rule); kept so that no panic path exists.
    #[error("no grading rule fired")]
    NoRuleFired,
}

/// The wizard's answers: factor id → option id. Saved as a JSON object.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct GradingAnswers(BTreeMap<String, String>);

impl GradingAnswers {
    pub fn new() -> Self {
        GradingAnswers::default()
    }

    /// Sets one answer, builder style.
    pub fn with(mut self, factor: impl Into<String>, option: impl Into<String>) -> Self {
        self.set(factor, option);
        self
    }

    /// Sets one answer, replacing an earlier one to the same factor.
    pub fn set(&mut self, factor: impl Into<String>, option: impl Into<String>) {
        self.0.insert(factor.into(), option.into());
    }

    pub fn get(&self, factor: &str) -> Option<&str> {
        self.0.get(factor).map(String::as_str)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(f, o)| (f.as_str(), o.as_str()))
    }
}

impl<F: Into<String>, O: Into<String>> FromIterator<(F, O)> for GradingAnswers {
    fn from_iter<I: IntoIterator<Item = (F, O)>>(iter: I) -> Self {
        GradingAnswers(iter.into_iter().map(|(f, o)| (f.into(), o.into())).collect())
    }
}

/// A rule (or level-3 split choice) that applied to a proposal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FiredRule {
    pub id: String,
    pub level: GradeLevel,
    pub reason_zh: String,
    pub reason_en: String,
    pub source: String,
}

/// The proposed grade and why. The store saves it as JSON with the unit, so
/// the filing record shows the reasoning and the rules that produced it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GradingProposal {
    /// The proposed level: the highest among the rules that fired, refined
    /// to 3.1 or 3.2 by `split` on tier 3.
    pub level: GradeLevel,
    /// The rule that set the tier: the first, in file order, of those that
    /// reached the highest level.
    pub decided_by: String,
    /// Every rule that fired, in file order.
    pub fired: Vec<FiredRule>,
    /// The level-3 split choice consulted when the proposal is on tier 3 and
    /// the rules define a split; it raises the level when its own is higher.
    pub split: Option<FiredRule>,
    /// The `version` of the rules file.
    pub rules_version: String,
    pub answers: GradingAnswers,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    format: i64,
    version: String,
    #[serde(default, rename = "factor")]
    factors: Vec<RawFactor>,
    #[serde(default, rename = "rule")]
    rules: Vec<RawRule>,
    #[serde(default)]
    level3_split: Option<RawSplit>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFactor {
    id: String,
    zh: String,
    en: String,
    source: String,
    #[serde(default, rename = "option")]
    options: Vec<RawOption>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOption {
    id: String,
    zh: String,
    en: String,
    #[serde(default)]
    source: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: String,
    when: BTreeMap<String, Vec<String>>,
    level: String,
    reason_zh: String,
    reason_en: String,
    source: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSplit {
    factor: String,
    source: String,
    #[serde(default, rename = "choice")]
    choices: Vec<RawChoice>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChoice {
    id: String,
    options: Vec<String>,
    level: String,
    reason_zh: String,
    reason_en: String,
}

const KEY_CHARS: &str = "a-z, 0-9 and _";
const NAME_CHARS: &str = "a-z, A-Z, 0-9, _, - and .";

/// Factor and option ids: they end up in form fields and JSON keys.
fn check_key(what: &'static str, id: &str) -> Result<(), RulesError> {
    let ok =
        (1..=64).contains(&id.len()) && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok { Ok(()) } else { Err(RulesError::BadId { what, id: id.to_owned(), allowed: KEY_CHARS }) }
}

/// Rule and choice ids.
fn check_name(what: &'static str, id: &str) -> Result<(), RulesError> {
    let ok = (1..=64).contains(&id.len()) && id.chars().all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c));
    if ok { Ok(()) } else { Err(RulesError::BadId { what, id: id.to_owned(), allowed: NAME_CHARS }) }
}

fn check_text(at: impl FnOnce() -> String, fields: &[(&'static str, &str)]) -> Result<(), RulesError> {
    match fields.iter().find(|(_, v)| v.trim().is_empty()) {
        Some((field, _)) => Err(RulesError::EmptyText { at: at(), field }),
        None => Ok(()),
    }
}

impl GradingRules {
    /// The rules shipped with anbao, parsed once. A test checks that they
    /// parse, so the error is there only to keep panics out of this crate.
    pub fn builtin() -> Result<&'static GradingRules, RulesError> {
        static BUILTIN: OnceLock<Result<GradingRules, RulesError>> = OnceLock::new();
        BUILTIN.get_or_init(|| GradingRules::parse(BUILTIN_RULES)).as_ref().map_err(Clone::clone)
    }

    /// Parses and checks a rules file (layout documented at the top of
    /// `data/grading-rules.toml`), naming the first mistake.
    pub fn parse(text: &str) -> Result<GradingRules, RulesError> {
        let raw: RawFile = toml::from_str(text).map_err(|e| RulesError::Syntax { message: e.to_string() })?;
        if raw.format != RULES_FORMAT {
            return Err(RulesError::UnsupportedFormat { found: raw.format });
        }
        check_text(|| "the file".to_owned(), &[("version", &raw.version)])?;

        if raw.factors.is_empty() {
            return Err(RulesError::NoFactors);
        }
        let mut factors: Vec<Factor> = Vec::with_capacity(raw.factors.len());
        for f in raw.factors {
            check_key("factor", &f.id)?;
            if factors.iter().any(|g| g.id == f.id) {
                return Err(RulesError::DuplicateFactor { factor: f.id });
            }
            check_text(|| format!("factor {:?}", f.id), &[("zh", &f.zh), ("en", &f.en), ("source", &f.source)])?;
            if f.options.is_empty() {
                return Err(RulesError::FactorWithoutOptions { factor: f.id });
            }
            let mut options: Vec<FactorOption> = Vec::with_capacity(f.options.len());
            for o in f.options {
                check_key("option", &o.id)?;
                if options.iter().any(|p| p.id == o.id) {
                    return Err(RulesError::DuplicateOption { factor: f.id, option: o.id });
                }
                check_text(|| format!("option {:?} of factor {:?}", o.id, f.id), &[("zh", &o.zh), ("en", &o.en)])?;
                options.push(FactorOption { id: o.id, zh: o.zh, en: o.en, source: o.source });
            }
            factors.push(Factor { id: f.id, zh: f.zh, en: f.en, source: f.source, options });
        }
        let find = |id: &str| factors.iter().find(|f| f.id == id);

        let mut rules: Vec<Rule> = Vec::with_capacity(raw.rules.len());
        for r in raw.rules {
            check_name("rule", &r.id)?;
            if rules.iter().any(|q| q.id == r.id) {
                return Err(RulesError::DuplicateRule { rule: r.id });
            }
            for (factor_id, options) in &r.when {
                let Some(factor) = find(factor_id) else {
                    return Err(RulesError::UnknownFactor { rule: r.id, factor: factor_id.clone() });
                };
                if options.is_empty() {
                    return Err(RulesError::EmptyCondition { rule: r.id, factor: factor_id.clone() });
                }
                if let Some(bad) = options.iter().find(|o| factor.option(o).is_none()) {
                    return Err(RulesError::UnknownOption {
                        rule: r.id,
                        factor: factor_id.clone(),
                        option: bad.clone(),
                    });
                }
            }
            let Ok(level) = r.level.parse::<GradeLevel>() else {
                return Err(RulesError::BadLevel { rule: r.id, level: r.level });
            };
            check_text(
                || format!("rule {:?}", r.id),
                &[("reason_zh", &r.reason_zh), ("reason_en", &r.reason_en), ("source", &r.source)],
            )?;
            rules.push(Rule {
                id: r.id,
                when: r.when,
                level,
                reason_zh: r.reason_zh,
                reason_en: r.reason_en,
                source: r.source,
            });
        }
        if !rules.iter().any(|r| r.when.is_empty()) {
            return Err(RulesError::NoBaseline);
        }

        let level3_split = match raw.level3_split {
            None => None,
            Some(s) => {
                let Some(factor) = find(&s.factor) else {
                    return Err(RulesError::SplitUnknownFactor { factor: s.factor });
                };
                check_text(|| "level3_split".to_owned(), &[("source", &s.source)])?;
                let mut seen: BTreeSet<&str> = BTreeSet::new();
                let mut choices: Vec<SplitChoice> = Vec::with_capacity(s.choices.len());
                for c in &s.choices {
                    check_name("choice", &c.id)?;
                    if choices.iter().any(|d| d.id == c.id) {
                        return Err(RulesError::SplitDuplicateChoice { choice: c.id.clone() });
                    }
                    let level = match c.level.parse::<GradeLevel>() {
                        Ok(l @ (GradeLevel::ThreeOne | GradeLevel::ThreeTwo)) => l,
                        _ => return Err(RulesError::SplitBadLevel { choice: c.id.clone(), level: c.level.clone() }),
                    };
                    for o in &c.options {
                        if factor.option(o).is_none() {
                            return Err(RulesError::SplitUnknownOption {
                                choice: c.id.clone(),
                                factor: s.factor.clone(),
                                option: o.clone(),
                            });
                        }
                        if !seen.insert(o) {
                            return Err(RulesError::SplitOptionTwice { option: o.clone() });
                        }
                    }
                    check_text(
                        || format!("level3_split choice {:?}", c.id),
                        &[("reason_zh", &c.reason_zh), ("reason_en", &c.reason_en)],
                    )?;
                    choices.push(SplitChoice {
                        id: c.id.clone(),
                        options: c.options.clone(),
                        level,
                        reason_zh: c.reason_zh.clone(),
                        reason_en: c.reason_en.clone(),
                    });
                }
                if let Some(missing) = factor.options.iter().find(|o| !seen.contains(o.id.as_str())) {
                    return Err(RulesError::SplitOptionMissing { factor: s.factor, option: missing.id.clone() });
                }
                Some(Level3Split { factor: s.factor, source: s.source, choices })
            }
        };

        Ok(GradingRules { version: raw.version, factors, rules, level3_split })
    }

    /// The operator's label for this set of rules.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The wizard's questions, in order.
    pub fn factors(&self) -> &[Factor] {
        &self.factors
    }

    pub fn factor(&self, id: &str) -> Option<&Factor> {
        self.factors.iter().find(|f| f.id == id)
    }

    /// The rules, in file order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    pub fn level3_split(&self) -> Option<&Level3Split> {
        self.level3_split.as_ref()
    }

    /// Checks that `answers` answer every factor with one of its options and
    /// nothing else.
    pub fn check_answers(&self, answers: &GradingAnswers) -> Result<(), AnswerError> {
        if let Some((unknown, _)) = answers.iter().find(|(f, _)| self.factor(f).is_none()) {
            return Err(AnswerError::UnknownFactor { factor: unknown.to_owned() });
        }
        for factor in &self.factors {
            let Some(answer) = answers.get(&factor.id) else {
                return Err(AnswerError::Missing { factor: factor.id.clone() });
            };
            if factor.option(answer).is_none() {
                return Err(AnswerError::UnknownOption {
                    factor: factor.id.clone(),
                    option: answer.to_owned(),
                    expected: factor.options.iter().map(|o| o.id.clone()).collect(),
                });
            }
        }
        Ok(())
    }

    /// Proposes a grade: the highest level among the rules that fire, then
    /// on tier 3 the level-3 split. Pure; the answers are kept in the result.
    pub fn propose(&self, answers: &GradingAnswers) -> Result<GradingProposal, AnswerError> {
        self.check_answers(answers)?;
        let fired: Vec<FiredRule> = self
            .rules
            .iter()
            .filter(|r| r.matches(answers))
            .map(|r| FiredRule {
                id: r.id.clone(),
                level: r.level,
                reason_zh: r.reason_zh.clone(),
                reason_en: r.reason_en.clone(),
                source: r.source.clone(),
            })
            .collect();
        let mut decider: Option<&FiredRule> = None;
        for f in &fired {
            if decider.is_none_or(|d| f.level > d.level) {
                decider = Some(f);
            }
        }
        let Some(decider) = decider else { return Err(AnswerError::NoRuleFired) };
        let mut level = decider.level;
        let decided_by = decider.id.clone();

        let mut split = None;
        if let Some(s) = self.level3_split.as_ref().filter(|_| level.order_tier() == 3) {
            let answer = answers.get(&s.factor);
            if let Some(choice) = s.choices.iter().find(|c| answer.is_some_and(|a| c.options.iter().any(|o| o == a))) {
                level = level.max(choice.level);
                split = Some(FiredRule {
                    id: choice.id.clone(),
                    level: choice.level,
                    reason_zh: choice.reason_zh.clone(),
                    reason_en: choice.reason_en.clone(),
                    source: s.source.clone(),
                });
            }
        }

        Ok(GradingProposal {
            level,
            decided_by,
            fired,
            split,
            rules_version: self.version.clone(),
            answers: answers.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builtin() -> &'static GradingRules {
        GradingRules::builtin().expect("the builtin grading rules parse")
    }

    /// All harm answers "none" and the given scope; tests change what they need.
    fn quiet(scope: &str) -> GradingAnswers {
        GradingAnswers::new()
            .with("national_security", "none")
            .with("economic_operation", "none")
            .with("social_order", "none")
            .with("public_interest", "none")
            .with("own_interests", "harm")
            .with("service_scope", scope)
    }

    fn fired_ids(p: &GradingProposal) -> Vec<&str> {
        p.fired.iter().map(|f| f.id.as_str()).collect()
    }

    #[test]
    fn levels_round_trip_and_order() {
        for l in GradeLevel::ALL {
            assert_eq!(l.as_str().parse::<GradeLevel>(), Ok(l));
            assert_eq!(serde_json::to_string(&l).ok(), Some(format!("\"{l}\"")));
            assert_eq!(serde_json::from_str::<GradeLevel>(&format!("\"{l}\"")).ok(), Some(l));
        }
        assert_eq!(" 3.2 ".parse::<GradeLevel>(), Ok(GradeLevel::ThreeTwo));
        for bad in ["0", "6", "3.3", "三级", "", "3.10"] {
            assert!(bad.parse::<GradeLevel>().is_err(), "{bad:?}");
        }
        assert!(serde_json::from_str::<GradeLevel>("\"6\"").is_err());
        assert!(serde_json::from_str::<GradeLevel>("3").is_err(), "a number is not a level string");
        let tiers: Vec<u8> = GradeLevel::ALL.iter().map(|l| l.order_tier()).collect();
        assert_eq!(tiers, vec![1, 2, 3, 3, 3, 4, 5]);
        assert!(GradeLevel::Two < GradeLevel::Three);
        assert!(GradeLevel::Three < GradeLevel::ThreeOne);
        assert!(GradeLevel::ThreeOne < GradeLevel::ThreeTwo);
        assert!(GradeLevel::ThreeTwo < GradeLevel::Four);
    }

    #[test]
    fn mlps_levels_round_trip() {
        for l in MlpsLevel::ALL {
            assert_eq!(l.as_str().parse::<MlpsLevel>(), Ok(l));
            assert_eq!(l.as_str(), l.number().to_string());
            assert_eq!(serde_json::from_str::<MlpsLevel>(&format!("\"{l}\"")).ok(), Some(l));
        }
        for bad in ["0", "6", "3.1", "S3A3"] {
            assert!(bad.parse::<MlpsLevel>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn builtin_rules_parse_and_cite_sources() {
        let rules = builtin();
        assert_eq!(rules.version(), "anbao-builtin-2026.1");
        let ids: Vec<&str> = rules.factors().iter().map(|f| f.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "national_security",
                "economic_operation",
                "social_order",
                "public_interest",
                "own_interests",
                "service_scope"
            ]
        );
        assert!(rules.rules().iter().all(|r| !r.source.is_empty()));
        assert!(rules.factors().iter().all(|f| !f.source.is_empty() && !f.options.is_empty()));
        assert_eq!(rules.level3_split().map(|s| s.factor.as_str()), Some("service_scope"));
        // Every level of the Order is reachable with the builtin rules.
        let levels: BTreeSet<u8> = rules.rules().iter().map(|r| r.level.order_tier()).collect();
        assert_eq!(levels, BTreeSet::from([1, 2, 3, 4, 5]));
    }

    /// Every combination of answers gets a proposal, and a worse answer to a
    /// harm question never lowers the level.
    #[test]
    fn builtin_rules_are_total_and_monotonic() {
        let rules = builtin();
        let factors = rules.factors();
        let mut combos: Vec<Vec<usize>> = vec![vec![]];
        for f in factors {
            combos = combos
                .into_iter()
                .flat_map(|c| (0..f.options.len()).map(move |i| [c.clone(), vec![i]].concat()))
                .collect();
        }
        let answers_of = |c: &[usize]| -> GradingAnswers {
            factors.iter().zip(c).map(|(f, &i)| (f.id.clone(), f.options[i].id.clone())).collect()
        };
        let harm = ["national_security", "economic_operation", "social_order", "public_interest", "own_interests"];
        for c in &combos {
            let p = rules.propose(&answers_of(c)).expect("every combination gets a proposal");
            assert!(p.fired.iter().any(|f| f.id == p.decided_by));
            for (k, f) in factors.iter().enumerate() {
                if harm.contains(&f.id.as_str()) && c[k] + 1 < f.options.len() {
                    let mut worse = c.clone();
                    worse[k] += 1;
                    let q = rules.propose(&answers_of(&worse)).expect("proposal");
                    assert!(q.level >= p.level, "{}: {:?} -> {:?}", f.id, p.answers, q.answers);
                }
            }
        }
        assert_eq!(combos.len(), 4 * 4 * 4 * 4 * 3 * 5);
    }

    #[test]
    fn a_nationwide_backbone_seriously_harming_national_security_is_level_4() {
        let answers = quiet("nationwide")
            .with("national_security", "serious")
            .with("economic_operation", "serious")
            .with("social_order", "serious")
            .with("public_interest", "serious")
            .with("own_interests", "serious");
        let p = builtin().propose(&answers).expect("proposal");
        assert_eq!(p.level, GradeLevel::Four);
        assert_eq!(p.decided_by, "national-serious");
        assert_eq!(p.split, None, "the split applies only on tier 3");
        assert_eq!(
            fired_ids(&p),
            [
                "baseline",
                "own-serious",
                "scope-public",
                "economic-serious",
                "social-serious",
                "public-serious",
                "national-serious"
            ]
        );
        let p = builtin().propose(&answers.with("national_security", "particularly_serious")).expect("proposal");
        assert_eq!((p.level, p.decided_by.as_str()), (GradeLevel::Five, "national-particularly-serious"));
    }

    #[test]
    fn a_provincial_idc_is_3_1_and_a_nationwide_one_3_2() {
        let idc = quiet("province")
            .with("economic_operation", "serious")
            .with("social_order", "minor")
            .with("public_interest", "serious")
            .with("own_interests", "serious");
        let p = builtin().propose(&idc).expect("proposal");
        assert_eq!(p.level, GradeLevel::ThreeOne);
        assert_eq!(p.level.order_tier(), 3);
        assert_eq!(p.decided_by, "economic-serious", "the first rule to reach tier 3 decides");
        assert_eq!(p.split.as_ref().map(|s| (s.id.as_str(), s.level)), Some(("split-narrow", GradeLevel::ThreeOne)));
        assert_eq!(
            fired_ids(&p),
            ["baseline", "own-serious", "social-minor", "scope-public", "economic-serious", "public-serious"]
        );
        assert_eq!(p.answers, idc);
        assert_eq!(p.rules_version, "anbao-builtin-2026.1");

        let p = builtin().propose(&idc.with("service_scope", "cross_province")).expect("proposal");
        assert_eq!(p.level, GradeLevel::ThreeTwo);
        assert_eq!(p.split.map(|s| s.id), Some("split-wide".to_owned()));
    }

    #[test]
    fn an_internal_office_network_is_level_1_or_2() {
        let p = builtin().propose(&quiet("internal")).expect("proposal");
        assert_eq!((p.level, p.decided_by.as_str()), (GradeLevel::One, "baseline"));
        assert_eq!(fired_ids(&p), ["baseline"]);

        let p = builtin().propose(&quiet("internal").with("own_interests", "serious")).expect("proposal");
        assert_eq!((p.level, p.decided_by.as_str()), (GradeLevel::Two, "own-serious"));
        assert_eq!(fired_ids(&p), ["baseline", "own-serious"]);
    }

    #[test]
    fn the_proposal_serialises_with_its_reasoning() {
        let p = builtin().propose(&quiet("local").with("public_interest", "serious")).expect("proposal");
        let json = serde_json::to_value(&p).expect("json");
        assert_eq!(json["level"], "3.1");
        assert_eq!(json["decided_by"], "public-serious");
        assert_eq!(json["answers"]["service_scope"], "local");
        assert_eq!(json["fired"][1]["source"], "Order 11 art. 6; YD/T 1729, security levels (level 3)");
        let back: GradingProposal = serde_json::from_value(json).expect("round trip");
        assert_eq!(back, p);
    }

    #[test]
    fn answers_are_checked_and_the_factor_named() {
        let rules = builtin();
        let mut missing = quiet("local");
        missing.0.remove("social_order");
        assert_eq!(rules.propose(&missing), Err(AnswerError::Missing { factor: "social_order".into() }));
        assert_eq!(
            rules.propose(&quiet("local").with("colour", "blue")),
            Err(AnswerError::UnknownFactor { factor: "colour".into() })
        );
        let err = rules.propose(&quiet("galaxy")).expect_err("unknown scope");
        assert!(
            matches!(&err, AnswerError::UnknownOption { factor, option, .. } if factor == "service_scope" && option == "galaxy")
        );
        assert!(err.to_string().contains("nationwide, cross_province"), "{err}");
        assert_eq!(
            rules.propose(&GradingAnswers::new()),
            Err(AnswerError::Missing { factor: "national_security".into() })
        );
    }

    const SMALL: &str = r#"
format = 1
version = "test"

[[factor]]
id = "harm"
zh = "危害"
en = "Harm"
source = "test"
[[factor.option]]
id = "low"
zh = "低"
en = "Low"
[[factor.option]]
id = "high"
zh = "高"
en = "High"

[[factor]]
id = "scope"
zh = "范围"
en = "Scope"
source = "test"
[[factor.option]]
id = "wide"
zh = "广"
en = "Wide"
[[factor.option]]
id = "narrow"
zh = "窄"
en = "Narrow"

[[rule]]
id = "r0"
when = {}
level = "1"
reason_zh = "基线"
reason_en = "Baseline"
source = "test"

[[rule]]
id = "r7"
when = { harm = ["high"], scope = ["wide"] }
level = "3"
reason_zh = "高且广"
reason_en = "High and wide"
source = "test"

[[rule]]
id = "r8"
when = { harm = ["high"] }
level = "3.2"
reason_zh = "高"
reason_en = "High"
source = "test"
"#;

    const SPLIT: &str = r#"
[level3_split]
factor = "scope"
source = "test"
[[level3_split.choice]]
id = "s-wide"
options = ["wide"]
level = "3.2"
reason_zh = "广"
reason_en = "Wide"
[[level3_split.choice]]
id = "s-narrow"
options = ["narrow"]
level = "3.1"
reason_zh = "窄"
reason_en = "Narrow"
"#;

    fn parse_err(text: &str) -> RulesError {
        GradingRules::parse(text).expect_err("the rules must be refused")
    }

    #[test]
    fn conditions_are_and_across_factors_and_or_within() {
        let rules = GradingRules::parse(SMALL).expect("small rules parse");
        let a = |h: &str, s: &str| GradingAnswers::new().with("harm", h).with("scope", s);
        let p = rules.propose(&a("high", "wide")).expect("proposal");
        assert_eq!(fired_ids(&p), ["r0", "r7", "r8"]);
        assert_eq!((p.level, p.decided_by.as_str(), p.split), (GradeLevel::ThreeTwo, "r8", None));
        let p = rules.propose(&a("low", "wide")).expect("proposal");
        assert_eq!(fired_ids(&p), ["r0"]);
        assert_eq!(p.level, GradeLevel::One);
        // Without a split, a plain "3" stays "3".
        let text = SMALL.replace("level = \"3.2\"", "level = \"2\"");
        let p = GradingRules::parse(&text).expect("parse").propose(&a("high", "wide"));
        assert_eq!(p.map(|p| (p.level, p.decided_by)), Ok((GradeLevel::Three, "r7".to_owned())));
    }

    #[test]
    fn the_split_raises_within_tier_3_but_never_lowers() {
        let a = |h: &str, s: &str| GradingAnswers::new().with("harm", h).with("scope", s);
        // r8 asks for 3.2 explicitly; the narrow choice (3.1) does not lower it.
        let rules = GradingRules::parse(&format!("{SMALL}{SPLIT}")).expect("parse");
        let p = rules.propose(&a("high", "narrow")).expect("proposal");
        assert_eq!(p.level, GradeLevel::ThreeTwo);
        assert_eq!(p.split.map(|s| (s.id, s.level)), Some(("s-narrow".to_owned(), GradeLevel::ThreeOne)));
        // With r8 at plain 3, the split decides the sub-level.
        let rules = GradingRules::parse(&format!("{}{SPLIT}", SMALL.replace("\"3.2\"", "\"3\""))).expect("parse");
        assert_eq!(rules.propose(&a("high", "narrow")).map(|p| p.level), Ok(GradeLevel::ThreeOne));
        assert_eq!(rules.propose(&a("high", "wide")).map(|p| p.level), Ok(GradeLevel::ThreeTwo));
        // Off tier 3 the split is not consulted.
        let p = rules.propose(&a("low", "wide")).expect("proposal");
        assert_eq!((p.level, p.split), (GradeLevel::One, None));
    }

    #[test]
    fn malformed_rules_are_refused_naming_what_and_where() {
        assert_eq!(
            parse_err(&SMALL.replace("scope = [\"wide\"]", "scope = [\"galaxy\"]")),
            RulesError::UnknownOption { rule: "r7".into(), factor: "scope".into(), option: "galaxy".into() }
        );
        assert_eq!(
            parse_err(&SMALL.replace("harm = [\"high\"], scope", "harm = [\"high\"], colour")),
            RulesError::UnknownFactor { rule: "r7".into(), factor: "colour".into() }
        );
        assert_eq!(
            parse_err(&SMALL.replace("id = \"scope\"", "id = \"harm\"")),
            RulesError::DuplicateFactor { factor: "harm".into() }
        );
        assert_eq!(
            parse_err(&SMALL.replace("level = \"3\"", "level = \"6\"")),
            RulesError::BadLevel { rule: "r7".into(), level: "6".into() }
        );
        let err = parse_err(&SMALL.replace("level = \"3\"", "level = \"6\""));
        assert!(err.to_string().contains("\"r7\"") && err.to_string().contains("\"6\""), "{err}");
        assert_eq!(
            parse_err(&SMALL.replace("id = \"r8\"", "id = \"r7\"")),
            RulesError::DuplicateRule { rule: "r7".into() }
        );
        assert_eq!(
            parse_err(&SMALL.replace("id = \"narrow\"", "id = \"wide\"")),
            RulesError::DuplicateOption { factor: "scope".into(), option: "wide".into() }
        );
        assert_eq!(
            parse_err(&SMALL.replace("harm = [\"high\"] }", "harm = [] }")),
            RulesError::EmptyCondition { rule: "r8".into(), factor: "harm".into() }
        );
        assert_eq!(parse_err(&SMALL.replace("when = {}", "when = { harm = [\"low\"] }")), RulesError::NoBaseline);
        assert_eq!(parse_err(&SMALL.replace("format = 1", "format = 2")), RulesError::UnsupportedFormat { found: 2 });
        assert!(matches!(
            parse_err(&SMALL.replace("id = \"harm\"", "id = \"Harm!\"")),
            RulesError::BadId { what: "factor", .. }
        ));
        assert_eq!(
            parse_err(&SMALL.replace("reason_en = \"High\"", "reason_en = \" \"")),
            RulesError::EmptyText { at: "rule \"r8\"".into(), field: "reason_en" }
        );
    }

    #[test]
    fn shape_errors_give_line_and_field() {
        // An unknown key: deny_unknown_fields, reported with its line.
        let err = parse_err(&SMALL.replace("reason_zh = \"高\"", "reason_zh = \"高\"\nlevl = \"2\""));
        let RulesError::Syntax { message } = &err else { panic!("expected a syntax error, got {err:?}") };
        assert!(message.contains("levl") && message.contains("line"), "{message}");
        // A rule without `when` is not silently a baseline.
        let err = parse_err(&SMALL.replace("when = {}", ""));
        assert!(err.to_string().contains("when"), "{err}");
        assert!(matches!(parse_err("this is not toml ["), RulesError::Syntax { .. }));
        // A factor with no options.
        let text = SMALL.replacen(
            "[[factor]]",
            "[[factor]]\nid = \"empty\"\nzh = \"空\"\nen = \"Empty\"\nsource = \"t\"\n\n[[factor]]",
            1,
        );
        assert_eq!(parse_err(&text), RulesError::FactorWithoutOptions { factor: "empty".into() });
        assert_eq!(parse_err("format = 1\nversion = \"v\"\n"), RulesError::NoFactors);
    }

    #[test]
    fn split_errors_are_named() {
        let with = |split: String| format!("{SMALL}{split}");
        assert_eq!(
            parse_err(&with(SPLIT.replace("factor = \"scope\"", "factor = \"size\""))),
            RulesError::SplitUnknownFactor { factor: "size".into() }
        );
        assert_eq!(
            parse_err(&with(SPLIT.replace("options = [\"narrow\"]", "options = [\"tiny\"]"))),
            RulesError::SplitUnknownOption { choice: "s-narrow".into(), factor: "scope".into(), option: "tiny".into() }
        );
        assert_eq!(
            parse_err(&with(SPLIT.replace("options = [\"narrow\"]", "options = [\"wide\"]"))),
            RulesError::SplitOptionTwice { option: "wide".into() }
        );
        assert_eq!(
            parse_err(&with(SPLIT.replace("options = [\"narrow\"]", "options = []"))),
            RulesError::SplitOptionMissing { factor: "scope".into(), option: "narrow".into() }
        );
        assert_eq!(
            parse_err(&with(SPLIT.replace("level = \"3.1\"", "level = \"4\""))),
            RulesError::SplitBadLevel { choice: "s-narrow".into(), level: "4".into() }
        );
        assert_eq!(
            parse_err(&with(SPLIT.replace("id = \"s-narrow\"", "id = \"s-wide\""))),
            RulesError::SplitDuplicateChoice { choice: "s-wide".into() }
        );
    }

    #[test]
    fn the_builtin_file_can_be_adjusted_without_code() {
        // An operator lowers the floor for provincial public services.
        let text = BUILTIN_RULES.replace(
            "when = { service_scope = [\"nationwide\", \"cross_province\", \"province\"] }",
            "when = { service_scope = [\"nationwide\", \"cross_province\"] }",
        );
        assert_ne!(text, BUILTIN_RULES);
        let rules = GradingRules::parse(&text).expect("adjusted rules parse");
        assert_eq!(rules.propose(&quiet("province")).map(|p| p.level), Ok(GradeLevel::One));
        assert_eq!(builtin().propose(&quiet("province")).map(|p| p.level), Ok(GradeLevel::Two));
    }
}
