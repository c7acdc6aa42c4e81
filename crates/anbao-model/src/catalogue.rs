//! The catalogue of security protection requirements (requirement R1.2:
//! "apply the protection measures of its grade"): short, testable
//! statements an assessor marks met / partly met / not met / not
//! applicable, each for a protection area and a range of grade levels,
//! each citing the standard clause it derives from and the guidance
//! requirements ([`crate::requirements`]) it serves.
//!
//! The built-in catalogue is `data/protection-requirements.toml`, embedded
//! at build time and parsed once. An operator adds its own items in a file
//! of the same format: [`Catalogue::parse`] reads it and
//! [`Catalogue::merge`] joins it to the built-in one, refusing an id that
//! is already taken.
//!
//! Levels are the integer tier of a grade: MLPS levels 1–5 under
//! GB/T 22239-2019, or telecom network-unit grades 1, 2, 3.1, 3.2, 4 and 5
//! under MIIT Order No. 11 and YD/T 1729-2008, where 3.1 and 3.2 are both
//! tier 3.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing))]

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::requirements::{self, Requirement, RequirementsError};

const BUILTIN: &str = include_str!("../data/protection-requirements.toml");

/// The lowest grade tier an item may name.
pub const MIN_TIER: u8 = 1;
/// The highest grade tier an item may name.
pub const MAX_TIER: u8 = 5;

/// The protection area an item belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Area {
    /// 物理环境: machine rooms, power, fire, access.
    Physical,
    /// 网络与通信: architecture, transmission, boundaries, network-side monitoring.
    Network,
    /// 主机与设备 / 计算环境: servers, devices, terminals, their accounts and logs.
    Host,
    /// 应用: business applications, websites, DNS, app stores, development.
    Application,
    /// 数据安全与备份: integrity, confidentiality, backup, personal information.
    Data,
    /// 安全管理: policies, organisation, people, construction and operations.
    Management,
    /// 灾难备份与恢复: redundancy, backup sites, recovery plans and drills.
    DisasterRecovery,
}

impl Area {
    pub const ALL: [Area; 7] = [
        Area::Physical,
        Area::Network,
        Area::Host,
        Area::Application,
        Area::Data,
        Area::Management,
        Area::DisasterRecovery,
    ];

    /// The name used in catalogue files and URLs.
    pub fn as_str(self) -> &'static str {
        match self {
            Area::Physical => "physical",
            Area::Network => "network",
            Area::Host => "host",
            Area::Application => "application",
            Area::Data => "data",
            Area::Management => "management",
            Area::DisasterRecovery => "disaster_recovery",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Area::Physical => "物理环境",
            Area::Network => "网络与通信",
            Area::Host => "主机与设备",
            Area::Application => "应用",
            Area::Data => "数据安全与备份",
            Area::Management => "安全管理",
            Area::DisasterRecovery => "灾难备份与恢复",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Area::Physical => "Physical environment",
            Area::Network => "Network and communication",
            Area::Host => "Hosts and devices",
            Area::Application => "Applications",
            Area::Data => "Data security and backup",
            Area::Management => "Security management",
            Area::DisasterRecovery => "Disaster backup and recovery",
        }
    }

    /// The prefix of the built-in items' ids in this area.
    pub fn id_prefix(self) -> &'static str {
        match self {
            Area::Physical => "PHY",
            Area::Network => "NET",
            Area::Host => "HST",
            Area::Application => "APP",
            Area::Data => "DAT",
            Area::Management => "MGT",
            Area::DisasterRecovery => "DR",
        }
    }
}

impl fmt::Display for Area {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An area name that is not one of [`Area::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown area {0:?}; expected one of physical, network, host, application, data, management, disaster_recovery"
)]
pub struct UnknownArea(pub String);

impl FromStr for Area {
    type Err = UnknownArea;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase().replace([' ', '-'], "_");
        Area::ALL.into_iter().find(|a| a.as_str() == wanted).ok_or_else(|| UnknownArea(s.to_owned()))
    }
}

/// One protection requirement an assessor checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CatalogueItem {
    /// Stable id: upper-case letters, digits and single hyphens, e.g.
    /// `NET-3-01` (built-in items are `<area prefix>-<min_level>-<nn>`).
    pub id: String,
    pub area: Area,
    /// The lowest grade tier the item applies to.
    pub min_level: u8,
    /// The highest grade tier it applies to, when a stricter item replaces
    /// it above that tier; `None` means every tier from `min_level` up.
    pub max_level: Option<u8>,
    pub title_zh: String,
    pub title_en: String,
    /// How to check it, in one or two sentences.
    pub guidance_zh: String,
    pub guidance_en: String,
    /// The standard clause (or regulation) the item derives from.
    pub source: String,
    /// The guidance requirement ids it serves, e.g. `["R1.2", "R1.4"]`.
    pub serves: Vec<String>,
}

impl CatalogueItem {
    /// Whether the item applies to a unit of grade tier `tier`.
    pub fn applies_to(&self, tier: u8) -> bool {
        self.min_level <= tier && self.max_level.is_none_or(|max| tier <= max)
    }
}

/// A catalogue file that does not parse or does not hold together. `item`
/// names the item by its id, or by `#<position>` (1-based) when it has
/// none.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CatalogueError {
    #[error("the catalogue is not valid TOML: {message}")]
    Syntax { message: String },
    #[error("the catalogue's top-level key `{key}` {reason}")]
    TopLevel { key: String, reason: String },
    #[error("catalogue item {item}: field `{field}` {reason}")]
    Field { item: String, field: String, reason: String },
    #[error("catalogue item {id} is defined more than once")]
    DuplicateId { id: String },
    #[error(transparent)]
    Requirements(#[from] RequirementsError),
}

/// A set of catalogue items with unique ids, in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Catalogue {
    items: Vec<CatalogueItem>,
}

/// The fields an `[[item]]` table may have.
const FIELDS: [&str; 10] =
    ["id", "area", "min_level", "max_level", "title_zh", "title_en", "guidance_zh", "guidance_en", "source", "serves"];

impl Catalogue {
    /// Parses a catalogue file (the built-in one or an operator's extra
    /// one): `[[item]]` tables with the fields of [`CatalogueItem`]. Every
    /// `serves` id must be a requirement of the guidance.
    pub fn parse(text: &str) -> Result<Catalogue, CatalogueError> {
        Catalogue::parse_against(text, requirements::requirements()?)
    }

    fn parse_against(text: &str, known: &[Requirement]) -> Result<Catalogue, CatalogueError> {
        let table: toml::Table = toml::from_str(text).map_err(|e| CatalogueError::Syntax { message: e.to_string() })?;
        let mut items = Vec::new();
        for (key, value) in &table {
            if key != "item" {
                return Err(CatalogueError::TopLevel {
                    key: key.clone(),
                    reason: "is not recognised; write items as [[item]] tables".into(),
                });
            }
            let toml::Value::Array(entries) = value else {
                return Err(CatalogueError::TopLevel {
                    key: key.clone(),
                    reason: "must be an array of tables ([[item]])".into(),
                });
            };
            for (i, entry) in entries.iter().enumerate() {
                let toml::Value::Table(fields) = entry else {
                    return Err(CatalogueError::TopLevel {
                        key: key.clone(),
                        reason: format!("entry #{} is not a table", i + 1),
                    });
                };
                items.push(parse_item(i + 1, fields, known)?);
            }
        }
        Catalogue::from_items(items)
    }

    fn from_items(items: Vec<CatalogueItem>) -> Result<Catalogue, CatalogueError> {
        let mut seen = HashSet::new();
        for item in &items {
            if !seen.insert(item.id.as_str()) {
                return Err(CatalogueError::DuplicateId { id: item.id.clone() });
            }
        }
        Ok(Catalogue { items })
    }

    /// The built-in catalogue. It is embedded in the binary and checked by
    /// this module's tests, so the error only occurs in a build whose data
    /// file was broken.
    pub fn builtin() -> Result<&'static Catalogue, CatalogueError> {
        static BUILT_IN: OnceLock<Result<Catalogue, CatalogueError>> = OnceLock::new();
        BUILT_IN.get_or_init(|| Catalogue::parse(BUILTIN)).as_ref().map_err(Clone::clone)
    }

    /// The built-in items followed by an operator's own; an id used by
    /// both is refused and named.
    pub fn merge(builtin: &Catalogue, extra: &Catalogue) -> Result<Catalogue, CatalogueError> {
        Catalogue::from_items(builtin.items.iter().chain(&extra.items).cloned().collect())
    }

    /// Every item, in file order.
    pub fn items(&self) -> &[CatalogueItem] {
        &self.items
    }

    pub fn get(&self, id: &str) -> Option<&CatalogueItem> {
        self.items.iter().find(|item| item.id == id)
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The items that apply to a unit of grade tier `level_tier`: those
    /// with `min_level <= level_tier <= max_level`.
    pub fn for_level(&self, level_tier: u8) -> impl Iterator<Item = &CatalogueItem> + '_ {
        self.items.iter().filter(move |item| item.applies_to(level_tier))
    }

    /// The items of one area, whatever their level.
    pub fn by_area(&self, area: Area) -> impl Iterator<Item = &CatalogueItem> + '_ {
        self.items.iter().filter(move |item| item.area == area)
    }

    /// How many items of `area` apply at grade tier `level_tier`.
    pub fn count(&self, area: Area, level_tier: u8) -> usize {
        self.for_level(level_tier).filter(|item| item.area == area).count()
    }

    /// [`Catalogue::count`] for every area and every tier from
    /// [`MIN_TIER`] to [`MAX_TIER`].
    pub fn counts(&self) -> BTreeMap<(Area, u8), usize> {
        Area::ALL
            .into_iter()
            .flat_map(|area| (MIN_TIER..=MAX_TIER).map(move |tier| (area, tier)))
            .map(|(area, tier)| ((area, tier), self.count(area, tier)))
            .collect()
    }
}

/// Whether `id` is a usable item id: 3 to 40 characters of `A-Z`, `0-9`
/// and single inner hyphens, starting with a letter.
pub fn is_well_formed_id(id: &str) -> bool {
    (3..=40).contains(&id.len())
        && id.starts_with(|c: char| c.is_ascii_uppercase())
        && !id.ends_with('-')
        && !id.contains("--")
        && id.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-')
}

/// Reads the fields of one `[[item]]` table, naming the item and the field
/// in every error.
struct ItemReader<'a> {
    name: String,
    fields: &'a toml::Table,
}

impl ItemReader<'_> {
    fn error(&self, field: &str, reason: impl Into<String>) -> CatalogueError {
        CatalogueError::Field { item: self.name.clone(), field: field.to_owned(), reason: reason.into() }
    }

    fn text(&self, field: &'static str, max_chars: usize) -> Result<String, CatalogueError> {
        let value = match self.fields.get(field) {
            None => return Err(self.error(field, "is missing")),
            Some(toml::Value::String(s)) => s,
            Some(other) => return Err(self.error(field, format!("must be a string, not a {}", other.type_str()))),
        };
        let value = value.trim();
        let n = value.chars().count();
        if value.is_empty() {
            Err(self.error(field, "must not be empty"))
        } else if n > max_chars {
            Err(self.error(field, format!("is {n} characters long; at most {max_chars} are allowed")))
        } else if value.chars().any(char::is_control) {
            Err(self.error(field, "must not contain control characters"))
        } else {
            Ok(value.to_owned())
        }
    }

    fn level(&self, field: &'static str) -> Result<Option<u8>, CatalogueError> {
        match self.fields.get(field) {
            None => Ok(None),
            Some(toml::Value::Integer(n)) => match u8::try_from(*n) {
                Ok(tier) if (MIN_TIER..=MAX_TIER).contains(&tier) => Ok(Some(tier)),
                _ => Err(self.error(field, format!("must be a level from {MIN_TIER} to {MAX_TIER}, not {n}"))),
            },
            Some(other) => Err(self.error(
                field,
                format!("must be a whole number from {MIN_TIER} to {MAX_TIER}, not a {}", other.type_str()),
            )),
        }
    }

    fn serves(&self, known: &[Requirement]) -> Result<Vec<String>, CatalogueError> {
        let list = match self.fields.get("serves") {
            None => return Err(self.error("serves", "is missing")),
            Some(toml::Value::Array(list)) => list,
            Some(other) => {
                return Err(self.error("serves", format!("must be a list of ids, not a {}", other.type_str())));
            }
        };
        if list.is_empty() {
            return Err(self.error("serves", "must name at least one requirement"));
        }
        let mut ids: Vec<String> = Vec::with_capacity(list.len());
        for value in list {
            let toml::Value::String(id) = value else {
                return Err(
                    self.error("serves", format!("must hold requirement ids as strings, not a {}", value.type_str()))
                );
            };
            if !known.iter().any(|r| &r.id == id) {
                return Err(self.error("serves", format!("names unknown requirement {id:?}")));
            }
            if ids.contains(id) {
                return Err(self.error("serves", format!("names requirement {id:?} twice")));
            }
            ids.push(id.clone());
        }
        Ok(ids)
    }
}

fn parse_item(position: usize, fields: &toml::Table, known: &[Requirement]) -> Result<CatalogueItem, CatalogueError> {
    let name = match fields.get("id") {
        Some(toml::Value::String(id)) if !id.trim().is_empty() => id.trim().to_owned(),
        _ => format!("#{position}"),
    };
    let r = ItemReader { name, fields };
    if let Some(key) = fields.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(r.error(key, "is not a known field"));
    }
    let id = r.text("id", 40)?;
    if !is_well_formed_id(&id) {
        return Err(r.error("id", "must be 3 to 40 characters of A-Z, 0-9 and single hyphens, starting with a letter"));
    }
    let area_text = r.text("area", 40)?;
    let area: Area = area_text.parse().map_err(|e: UnknownArea| r.error("area", e.to_string()))?;
    let min_level = r.level("min_level")?.ok_or_else(|| r.error("min_level", "is missing"))?;
    let max_level = r.level("max_level")?;
    if let Some(max) = max_level.filter(|max| *max < min_level) {
        return Err(r.error("max_level", format!("is {max}, below min_level {min_level}")));
    }
    Ok(CatalogueItem {
        area,
        min_level,
        max_level,
        title_zh: r.text("title_zh", 200)?,
        title_en: r.text("title_en", 300)?,
        guidance_zh: r.text("guidance_zh", 500)?,
        guidance_en: r.text("guidance_en", 1000)?,
        source: r.text("source", 300)?,
        serves: r.serves(known)?,
        id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builtin() -> &'static Catalogue {
        Catalogue::builtin().expect("the built-in catalogue parses")
    }

    #[test]
    fn builtin_parses_and_is_large_enough() {
        assert!(builtin().len() >= 100, "{} items", builtin().len());
    }

    #[test]
    fn every_area_has_items_introduced_at_levels_2_3_and_4() {
        for area in Area::ALL {
            for level in 2..=4 {
                assert!(
                    builtin().by_area(area).any(|item| item.min_level == level),
                    "no {area} item with min_level {level}"
                );
                assert!(builtin().count(area, level) > 0);
            }
        }
    }

    #[test]
    fn builtin_ids_are_unique_and_follow_area_and_level() {
        let mut seen = HashSet::new();
        for item in builtin().items() {
            assert!(seen.insert(item.id.as_str()), "duplicate {}", item.id);
            assert!(is_well_formed_id(&item.id), "{}", item.id);
            let parts: Vec<&str> = item.id.split('-').collect();
            assert_eq!(parts.len(), 3, "{}", item.id);
            assert_eq!(parts[0], item.area.id_prefix(), "{}", item.id);
            assert_eq!(parts[1], item.min_level.to_string(), "{}", item.id);
            assert!(parts[2].len() == 2 && parts[2].bytes().all(|b| b.is_ascii_digit()), "{}", item.id);
            assert!((2..=4).contains(&item.min_level), "{}", item.id);
        }
    }

    #[test]
    fn every_served_id_is_a_requirement() {
        for item in builtin().items() {
            assert!(!item.serves.is_empty(), "{}", item.id);
            for id in &item.serves {
                assert!(requirements::find(id).is_some(), "{} serves unknown {id}", item.id);
            }
        }
    }

    #[test]
    fn sources_cite_a_standard_or_regulation() {
        for item in builtin().items() {
            let s = &item.source;
            assert!(
                s.contains("GB/T")
                    || s.contains("YD/T")
                    || s.contains("令第")
                    || s.contains("工信部保")
                    || s.contains("法")
                    || s.contains("机制")
                    || s.contains("RFC"),
                "{}: {s}",
                item.id
            );
        }
    }

    #[test]
    fn higher_levels_keep_lower_items_unless_max_level_says_otherwise() {
        let at3: HashSet<&str> = builtin().for_level(3).map(|i| i.id.as_str()).collect();
        for item in builtin().items().iter().filter(|i| i.min_level == 2) {
            assert_eq!(at3.contains(item.id.as_str()), item.max_level.is_none_or(|m| m >= 3), "{}", item.id);
        }
        assert!(builtin().items().iter().any(|i| i.max_level == Some(2)), "stricter variants replace some items");
        assert_eq!(builtin().for_level(0).count(), 0);
        assert!(builtin().for_level(1).all(|i| i.min_level <= 1));
        assert!(builtin().for_level(4).count() > builtin().for_level(2).count());
    }

    #[test]
    fn counts_match_for_level() {
        let counts = builtin().counts();
        for tier in MIN_TIER..=MAX_TIER {
            let sum: usize = Area::ALL.into_iter().map(|a| counts[&(a, tier)]).sum();
            assert_eq!(sum, builtin().for_level(tier).count());
        }
    }

    #[test]
    fn areas_round_trip_through_their_names() {
        for area in Area::ALL {
            assert_eq!(area.as_str().parse::<Area>(), Ok(area));
            assert_eq!(area.to_string(), area.as_str());
            assert!(!area.label_zh().is_empty() && !area.label_en().is_empty());
        }
        assert_eq!("Disaster Recovery".parse::<Area>(), Ok(Area::DisasterRecovery));
        assert_eq!("cloud".parse::<Area>(), Err(UnknownArea("cloud".into())));
    }

    const GOOD: &str = r#"
[[item]]
id = "OP-GD-01"
area = "network"
min_level = 3
title_zh = "省公司互联网出口部署流量清洗"
title_en = "Provincial internet exits have DDoS scrubbing"
guidance_zh = "查看清洗设备配置。"
guidance_en = "Check the scrubbing configuration."
source = "Operator policy GD-SEC-7"
serves = ["R2.2", "R8.2"]
"#;

    fn with(from: &str, to: &str) -> String {
        assert!(GOOD.contains(from), "{from}");
        GOOD.replacen(from, to, 1)
    }

    fn field_error(text: &str) -> (String, String, String) {
        match Catalogue::parse(text) {
            Err(CatalogueError::Field { item, field, reason }) => (item, field, reason),
            other => panic!("expected a field error, got {other:?}"),
        }
    }

    #[test]
    fn an_operator_file_parses_and_merges() {
        let extra = Catalogue::parse(GOOD).expect("valid");
        assert_eq!(extra.len(), 1);
        let item = extra.get("OP-GD-01").expect("present");
        assert_eq!((item.area, item.min_level, item.max_level), (Area::Network, 3, None));
        let merged = Catalogue::merge(builtin(), &extra).expect("no clash");
        assert_eq!(merged.len(), builtin().len() + 1);
        assert!(merged.for_level(3).any(|i| i.id == "OP-GD-01"));
        assert!(!merged.for_level(2).any(|i| i.id == "OP-GD-01"));
        assert_eq!(Catalogue::parse(""), Ok(Catalogue::default()));
    }

    #[test]
    fn merge_refuses_a_taken_id() {
        let extra = Catalogue::parse(&with("OP-GD-01", "NET-3-01")).expect("valid on its own");
        assert_eq!(Catalogue::merge(builtin(), &extra), Err(CatalogueError::DuplicateId { id: "NET-3-01".into() }));
        let twice = format!("{GOOD}{GOOD}");
        assert_eq!(Catalogue::parse(&twice), Err(CatalogueError::DuplicateId { id: "OP-GD-01".into() }));
    }

    #[test]
    fn unknown_area_names_item_and_field() {
        let (item, field, reason) = field_error(&with("area = \"network\"", "area = \"cloud\""));
        assert_eq!((item.as_str(), field.as_str()), ("OP-GD-01", "area"));
        assert!(reason.contains("cloud"), "{reason}");
    }

    #[test]
    fn out_of_range_levels_are_refused() {
        let (item, field, reason) = field_error(&with("min_level = 3", "min_level = 6"));
        assert_eq!((item.as_str(), field.as_str()), ("OP-GD-01", "min_level"));
        assert!(reason.contains('6'), "{reason}");
        let (_, field, _) = field_error(&with("min_level = 3", "min_level = 0"));
        assert_eq!(field, "min_level");
        let (_, field, _) = field_error(&with("min_level = 3", "min_level = \"3\""));
        assert_eq!(field, "min_level");
        let (_, field, _) = field_error(&with("min_level = 3", "min_level = 3\nmax_level = 2"));
        assert_eq!(field, "max_level");
        let (_, field, _) = field_error(&with("min_level = 3\n", ""));
        assert_eq!(field, "min_level");
    }

    #[test]
    fn missing_text_is_refused() {
        let (item, field, reason) =
            field_error(&with("title_en = \"Provincial internet exits have DDoS scrubbing\"\n", ""));
        assert_eq!((item.as_str(), field.as_str(), reason.as_str()), ("OP-GD-01", "title_en", "is missing"));
        let (_, field, _) = field_error(&with("source = \"Operator policy GD-SEC-7\"", "source = \"  \""));
        assert_eq!(field, "source");
    }

    #[test]
    fn unknown_requirements_are_refused() {
        let (item, field, reason) = field_error(&with("[\"R2.2\", \"R8.2\"]", "[\"R2.2\", \"R9.9\"]"));
        assert_eq!((item.as_str(), field.as_str()), ("OP-GD-01", "serves"));
        assert!(reason.contains("\"R9.9\""), "{reason}");
        let (_, field, _) = field_error(&with("[\"R2.2\", \"R8.2\"]", "[]"));
        assert_eq!(field, "serves");
        let (_, field, _) = field_error(&with("[\"R2.2\", \"R8.2\"]", "[\"R2.2\", \"R2.2\"]"));
        assert_eq!(field, "serves");
    }

    #[test]
    fn ids_and_keys_are_checked() {
        let (item, field, _) = field_error(&with("id = \"OP-GD-01\"", "id = \"op gd\""));
        assert_eq!((item.as_str(), field.as_str()), ("op gd", "id"));
        let (item, field, _) = field_error(&with("id = \"OP-GD-01\"\n", ""));
        assert_eq!((item.as_str(), field.as_str()), ("#1", "id"));
        let (item, field, _) = field_error(&with("area =", "colour = \"red\"\narea ="));
        assert_eq!((item.as_str(), field.as_str()), ("OP-GD-01", "colour"));
        assert!(matches!(Catalogue::parse("[[items]]\nid = \"X1\"\n"), Err(CatalogueError::TopLevel { .. })));
        assert!(matches!(Catalogue::parse("item = 3\n"), Err(CatalogueError::TopLevel { .. })));
        assert!(matches!(Catalogue::parse("[[item]\n"), Err(CatalogueError::Syntax { .. })));
        for ok in ["NET-3-01", "OP-GD-01", "X12"] {
            assert!(is_well_formed_id(ok), "{ok}");
        }
        for bad in ["", "N", "net-3-01", "NET--3", "NET-", "-NET", "3NET", "NET 3"] {
            assert!(!is_well_formed_id(bad), "{bad}");
        }
    }

    #[test]
    fn errors_read_well() {
        let err = Catalogue::parse(&with("min_level = 3", "min_level = 6")).expect_err("invalid");
        assert_eq!(err.to_string(), "catalogue item OP-GD-01: field `min_level` must be a level from 1 to 5, not 6");
    }
}
