//! The requirement table of the MIIT guidance 工信部保〔2014〕368号: every
//! clause anbao traces to (R1.1 … R8.6 for the work items of section 二,
//! S1 … S5 for the safeguards of section 三), with the section it comes from
//! and its title in Chinese and English.
//!
//! The table is `data/requirements.toml`, embedded at build time and parsed
//! once. Code docs, issues, the protection-requirement catalogue
//! ([`crate::catalogue`]) and the compliance dashboard all name requirements
//! by these ids.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing))]

use std::collections::HashSet;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

const BUILTIN: &str = include_str!("../data/requirements.toml");

/// One clause of the guidance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    /// `R<section>.<n>` for a work item of section 二, `S<n>` for a
    /// safeguard of section 三, e.g. `R1.3`, `S4`.
    pub id: String,
    /// The section of the guidance, e.g. `二(一)`.
    pub section: String,
    /// The clause in the words of the guidance.
    pub title_zh: String,
    /// The clause as `requirements.md` puts it.
    pub title_en: String,
}

/// A requirement table that does not parse or does not hold together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequirementsError {
    #[error("the requirement table is not valid TOML: {message}")]
    Syntax { message: String },
    #[error("requirement #{position} ({id:?}): field `{field}` {reason}")]
    Field { position: usize, id: String, field: &'static str, reason: String },
    #[error("requirement {id} is listed more than once")]
    Duplicate { id: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    requirement: Vec<Requirement>,
}

/// Whether `id` has the form of a requirement id: `R<n>.<m>` or `S<n>`,
/// numbers without leading zeros.
pub fn is_well_formed_id(id: &str) -> bool {
    fn number(s: &str) -> bool {
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && !s.starts_with('0')
    }
    if let Some(rest) = id.strip_prefix('R') {
        rest.split_once('.').is_some_and(|(a, b)| number(a) && number(b))
    } else if let Some(rest) = id.strip_prefix('S') {
        number(rest)
    } else {
        false
    }
}

/// Parses and checks a requirement table: every field present and
/// non-empty, ids well formed and unique.
pub fn parse(text: &str) -> Result<Vec<Requirement>, RequirementsError> {
    let file: File = toml::from_str(text).map_err(|e| RequirementsError::Syntax { message: e.to_string() })?;
    let mut seen = HashSet::new();
    for (i, r) in file.requirement.iter().enumerate() {
        let field = |field: &'static str, reason: &str| RequirementsError::Field {
            position: i + 1,
            id: r.id.clone(),
            field,
            reason: reason.to_owned(),
        };
        if !is_well_formed_id(&r.id) {
            return Err(field("id", "is not of the form R<n>.<m> or S<n>"));
        }
        for (name, value) in [("section", &r.section), ("title_zh", &r.title_zh), ("title_en", &r.title_en)] {
            if value.trim().is_empty() {
                return Err(field(name, "must not be empty"));
            }
            if value.chars().any(char::is_control) {
                return Err(field(name, "must not contain control characters"));
            }
        }
        if !seen.insert(r.id.as_str()) {
            return Err(RequirementsError::Duplicate { id: r.id.clone() });
        }
    }
    Ok(file.requirement)
}

/// The guidance's requirements, in the order of the guidance.
///
/// The table is embedded in the binary and checked by this module's tests,
/// so the error only occurs in a build whose data file was broken.
pub fn requirements() -> Result<&'static [Requirement], RequirementsError> {
    static TABLE: OnceLock<Result<Vec<Requirement>, RequirementsError>> = OnceLock::new();
    TABLE.get_or_init(|| parse(BUILTIN)).as_deref().map_err(Clone::clone)
}

/// The requirement with this id; `None` for an unknown id (or if the
/// embedded table failed to parse, which the tests rule out).
pub fn find(id: &str) -> Option<&'static Requirement> {
    requirements().ok()?.iter().find(|r| r.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_holds_every_id_of_requirements_md_in_order() {
        let mut expected: Vec<String> = Vec::new();
        for (section, count) in [(1, 9), (2, 7), (3, 8), (4, 3), (5, 4), (6, 5), (7, 1), (8, 6)] {
            expected.extend((1..=count).map(|n| format!("R{section}.{n}")));
        }
        expected.extend((1..=5).map(|n| format!("S{n}")));
        let ids: Vec<&str> = requirements().expect("embedded table parses").iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, expected);
        let unique: HashSet<&str> = ids.iter().copied().collect();
        assert_eq!(unique.len(), ids.len());
    }

    #[test]
    fn sections_follow_the_ids() {
        const NUMERALS: [&str; 8] = ["一", "二", "三", "四", "五", "六", "七", "八"];
        for r in requirements().expect("parses") {
            let (part, n) = match r.id.strip_prefix('S') {
                Some(n) => ("三", n.parse::<usize>().expect("number")),
                None => ("二", r.id[1..].split('.').next().expect("section").parse().expect("number")),
            };
            assert_eq!(r.section, format!("{part}({})", NUMERALS[n - 1]), "{}", r.id);
        }
    }

    #[test]
    fn find_knows_ids_and_only_those() {
        assert_eq!(find("R1.6").map(|r| r.section.as_str()), Some("二(一)"));
        assert!(find("S4").is_some_and(|r| r.title_zh.contains("年度预算")));
        assert!(find("R9.9").is_none());
        assert!(find("r1.6").is_none());
    }

    #[test]
    fn ids_are_checked() {
        for ok in ["R1.1", "R10.12", "S1", "S5"] {
            assert!(is_well_formed_id(ok), "{ok}");
        }
        for bad in ["", "R1", "R1.", "R.1", "R01.1", "S0", "S", "T1", "R1.1a", "r1.1"] {
            assert!(!is_well_formed_id(bad), "{bad}");
        }
    }

    #[test]
    fn malformed_tables_are_rejected_with_the_place() {
        let one = |id: &str, title_en: &str| {
            format!(
                "[[requirement]]\nid = \"{id}\"\nsection = \"二(一)\"\ntitle_zh = \"标题\"\ntitle_en = \"{title_en}\"\n"
            )
        };
        assert!(parse(&one("R1.1", "Title")).is_ok());
        assert_eq!(
            parse(&one("X1", "Title")),
            Err(RequirementsError::Field {
                position: 1,
                id: "X1".into(),
                field: "id",
                reason: "is not of the form R<n>.<m> or S<n>".into()
            })
        );
        assert!(matches!(
            parse(&one("R1.1", " ")),
            Err(RequirementsError::Field { field: "title_en", position: 1, .. })
        ));
        let twice = format!("{}{}", one("R1.1", "a"), one("R1.1", "b"));
        assert_eq!(parse(&twice), Err(RequirementsError::Duplicate { id: "R1.1".into() }));
        assert!(matches!(parse("[[requirement]]\nid = \"R1.1\"\n"), Err(RequirementsError::Syntax { .. })));
        assert!(matches!(parse(&format!("{}extra = 1\n", one("R1.1", "a"))), Err(RequirementsError::Syntax { .. })));
    }
}
