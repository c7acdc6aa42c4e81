//! What a feed reader hands to the importer: indicators with their
//! metadata, the values it had to reject (with where and why), STIX
//! patterns it could not turn into lookups, and STIX objects to keep as
//! they are. Readers stream [`FeedItem`]s into a [`FeedSink`] so a feed of
//! ten million lines never has to be held twice.

use std::fmt;
use std::str::FromStr;

use time::OffsetDateTime;

use crate::normalize::IndicatorKind;

/// What an indicator is evidence of (the list; feeds' own words map
/// onto these through [`Category::from_str`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    BotnetCc,
    Trojan,
    MobileMalware,
    Phishing,
    MaliciousUrl,
    MaliciousDownload,
    Scanner,
    Spam,
    Other,
}

impl Category {
    pub const ALL: [Category; 9] = [
        Category::BotnetCc,
        Category::Trojan,
        Category::MobileMalware,
        Category::Phishing,
        Category::MaliciousUrl,
        Category::MaliciousDownload,
        Category::Scanner,
        Category::Spam,
        Category::Other,
    ];

    /// Stable name, for storage, the CLI and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::BotnetCc => "botnet_cc",
            Category::Trojan => "trojan",
            Category::MobileMalware => "mobile_malware",
            Category::Phishing => "phishing",
            Category::MaliciousUrl => "malicious_url",
            Category::MaliciousDownload => "malicious_download",
            Category::Scanner => "scanner",
            Category::Spam => "spam",
            Category::Other => "other",
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Category {
    type Err = String;
    /// The stable names, case-insensitive, `-` or ` ` for `_`, and a few
    /// common synonyms (`c2`, `c&c`, `botnet`, `malware`, `virus`, `apk`).
    fn from_str(s: &str) -> Result<Self, String> {
        let norm = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        let c = match norm.as_str() {
            "botnet_cc" | "botnet_c2" | "c2" | "c&c" | "cc" | "botnet" | "command_and_control" => Category::BotnetCc,
            "trojan" | "malware" | "virus" | "ransomware" | "rat" => Category::Trojan,
            "mobile_malware" | "android_malware" | "apk" => Category::MobileMalware,
            "phishing" => Category::Phishing,
            "malicious_url" | "url" => Category::MaliciousUrl,
            "malicious_download" | "download" | "payload_delivery" => Category::MaliciousDownload,
            "scanner" | "scanning" | "bruteforce" => Category::Scanner,
            "spam" => Category::Spam,
            "other" => Category::Other,
            _ => return Err(format!("unknown category {s:?} (one of {})", names(&Category::ALL))),
        };
        Ok(c)
    }
}

/// Traffic Light Protocol marking (TLP 2.0; `white` reads as `clear`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tlp {
    Clear,
    Green,
    Amber,
    AmberStrict,
    Red,
}

impl Tlp {
    pub const ALL: [Tlp; 5] = [Tlp::Clear, Tlp::Green, Tlp::Amber, Tlp::AmberStrict, Tlp::Red];

    /// 0 (clear) to 4 (red): a higher rank is more restrictive, so the
    /// rank of several markings together is their maximum.
    pub fn rank(self) -> u8 {
        match self {
            Tlp::Clear => 0,
            Tlp::Green => 1,
            Tlp::Amber => 2,
            Tlp::AmberStrict => 3,
            Tlp::Red => 4,
        }
    }

    pub fn from_rank(rank: i64) -> Option<Tlp> {
        Tlp::ALL.into_iter().find(|t| i64::from(t.rank()) == rank)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Tlp::Clear => "clear",
            Tlp::Green => "green",
            Tlp::Amber => "amber",
            Tlp::AmberStrict => "amber+strict",
            Tlp::Red => "red",
        }
    }
}

impl fmt::Display for Tlp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Tlp {
    type Err = String;
    /// `green`, `TLP:GREEN`, `tlp:amber+strict`, `white` (= clear).
    fn from_str(s: &str) -> Result<Self, String> {
        let lower = s.trim().to_ascii_lowercase();
        let bare = lower.strip_prefix("tlp:").unwrap_or(&lower);
        match bare {
            "clear" | "white" => Ok(Tlp::Clear),
            "green" => Ok(Tlp::Green),
            "amber" => Ok(Tlp::Amber),
            "amber+strict" => Ok(Tlp::AmberStrict),
            "red" => Ok(Tlp::Red),
            _ => Err(format!("unknown TLP marking {s:?} (one of {})", names(&Tlp::ALL))),
        }
    }
}

fn names<T: fmt::Display>(all: &[T]) -> String {
    all.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

/// One indicator as a feed states it. `value` is already in normal form
/// ([`crate::normalize()`]); the rest is what the feed said, `None` or empty
/// where it said nothing (the importer fills in `--category`/defaults).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Indicator {
    pub kind: IndicatorKind,
    pub value: String,
    pub category: Option<Category>,
    /// 0–100.
    pub confidence: Option<u8>,
    pub tlp: Option<Tlp>,
    pub first_seen: Option<OffsetDateTime>,
    pub last_seen: Option<OffsetDateTime>,
    pub valid_until: Option<OffsetDateTime>,
    pub tags: Vec<String>,
    /// Free text: a description, comment, event title.
    pub context: String,
    /// The feed's own id for this record (STIX indicator id, MISP attribute
    /// uuid), kept in the provenance so an update from the same source
    /// replaces rather than duplicates.
    pub external_id: Option<String>,
}

impl Indicator {
    /// An indicator with only kind and (normalised) value set.
    pub fn new(kind: IndicatorKind, value: impl Into<String>) -> Self {
        Indicator {
            kind,
            value: value.into(),
            category: None,
            confidence: None,
            tlp: None,
            first_seen: None,
            last_seen: None,
            valid_until: None,
            tags: Vec::new(),
            context: String::new(),
            external_id: None,
        }
    }

    /// What makes two statements one indicator: kind and value. The store
    /// writes a chunk in this key's order, and the importer sorts its
    /// batches by it beforehand.
    pub fn key(&self) -> (IndicatorKind, &str) {
        (self.kind, &self.value)
    }
}

/// A value the reader could not accept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejected {
    /// Where in the input: `line 12`, `objects[3] (indicator--…)`,
    /// `Event.Attribute[7]`.
    pub location: String,
    /// The offending value as written (cut to a few hundred bytes).
    pub value: String,
    pub reason: String,
}

/// A STIX indicator whose pattern cannot become a lookup (it is kept as a
/// STIX object all the same).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotMatchable {
    pub location: String,
    /// The STIX id of the indicator.
    pub id: String,
    pub pattern: String,
    pub reason: String,
}

/// A STIX object kept as written (malware, threat-actor, relationship,
/// sighting, marking-definition, indicator…), for the TAXII collections and
/// re-export.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StixObject {
    pub id: String,
    /// The STIX `type` (`indicator`, `malware`, …).
    pub object_type: String,
    pub spec_version: String,
    /// `modified` (or `created`, or empty for objects without versions such
    /// as marking definitions), RFC 3339 as written.
    pub version: String,
    /// The object's JSON, compact.
    pub json: String,
}

/// One thing a reader produced, in input order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FeedItem {
    Indicator(Indicator),
    Rejected(Rejected),
    NotMatchable(NotMatchable),
    Object(StixObject),
}

/// Where readers put what they read. Closures taking a [`FeedItem`] are
/// sinks; [`Collected`] keeps everything (tests, small feeds).
pub trait FeedSink {
    fn item(&mut self, item: FeedItem);
}

impl<F: FnMut(FeedItem)> FeedSink for F {
    fn item(&mut self, item: FeedItem) {
        self(item)
    }
}

/// A sink that keeps every item, by variant.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Collected {
    pub indicators: Vec<Indicator>,
    pub rejected: Vec<Rejected>,
    pub not_matchable: Vec<NotMatchable>,
    pub objects: Vec<StixObject>,
}

impl FeedSink for Collected {
    fn item(&mut self, item: FeedItem) {
        match item {
            FeedItem::Indicator(i) => self.indicators.push(i),
            FeedItem::Rejected(r) => self.rejected.push(r),
            FeedItem::NotMatchable(n) => self.not_matchable.push(n),
            FeedItem::Object(o) => self.objects.push(o),
        }
    }
}

/// A whole input the reader cannot read at all (not JSON, not a bundle,
/// over a size limit), naming what and where. Single bad values are
/// [`Rejected`] items instead, and the rest of the input is still read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{format}: {location}: {reason}")]
pub struct FeedError {
    /// `STIX bundle`, `MISP event`, `hosts file`, …
    pub format: &'static str,
    /// `line 3 column 14`, `manifest.json`, `byte 0`, …
    pub location: String,
    pub reason: String,
}

impl FeedError {
    pub fn new(format: &'static str, location: impl Into<String>, reason: impl Into<String>) -> Self {
        FeedError { format, location: location.into(), reason: reason.into() }
    }
}

/// Cuts `s` to at most `max` bytes on a character boundary (for values
/// quoted in errors).
pub fn clip(s: &str, max: usize) -> String {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or_default().to_owned()
}
