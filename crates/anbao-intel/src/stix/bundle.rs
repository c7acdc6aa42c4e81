//! Reading STIX 2.1 bundles into [`FeedItem`]s; the rules are in the
//! [parent module](super)'s documentation.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::pattern::{self, lookups};
use super::{is_stix_id, tlp_of_marking};
use crate::normalize::IndicatorKind;
use crate::record::{
    Category, FeedError, FeedItem, FeedSink, Indicator, NotMatchable, Rejected, StixObject, Tlp, clip,
};

const FORMAT: &str = "STIX bundle";

/// Longest value quoted in a [`Rejected`].
const MAX_QUOTED: usize = 256;
/// Longest pattern kept in a [`NotMatchable`].
const MAX_PATTERN_QUOTED: usize = 4096;
/// Longest indicator context.
const MAX_CONTEXT: usize = 2048;

/// The STIX 2.1 cyber-observable types, which may omit `spec_version`.
const SCO_TYPES: [&str; 18] = [
    "artifact",
    "autonomous-system",
    "directory",
    "domain-name",
    "email-addr",
    "email-message",
    "file",
    "ipv4-addr",
    "ipv6-addr",
    "mac-addr",
    "mutex",
    "network-traffic",
    "process",
    "software",
    "url",
    "user-account",
    "windows-registry-key",
    "x509-certificate",
];

/// Reads a STIX 2.1 bundle, a single object or a JSON array of objects
/// into `sink`; see the [module documentation](super).
pub fn read_bundle(bytes: &[u8], sink: &mut dyn FeedSink) -> Result<(), FeedError> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    // Syntax first, without building anything, so that a broken file emits
    // nothing rather than a prefix of its objects.
    serde_json::from_slice::<IgnoredAny>(bytes).map_err(json_error)?;
    check_depth(bytes)?;
    let mut reader = Reader { sink, markings: HashMap::new(), bundle_spec: None };
    let mut de = serde_json::Deserializer::from_slice(bytes);
    Top { r: &mut reader }.deserialize(&mut de).map_err(json_error)?;
    de.end().map_err(json_error)
}

/// Deepest JSON nesting read (below serde_json's own limit of 128, which
/// would otherwise stop the read halfway, after some objects were emitted).
const MAX_JSON_DEPTH: usize = 100;

/// Refuses JSON nested deeper than [`MAX_JSON_DEPTH`]; `bytes` is valid JSON.
fn check_depth(bytes: &[u8]) -> Result<(), FeedError> {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for (i, &b) in bytes.iter().enumerate() {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_JSON_DEPTH {
                    let before = bytes.get(..i).unwrap_or_default();
                    let line = before.iter().filter(|c| **c == b'\n').count() + 1;
                    let column = i - before.iter().rposition(|c| *c == b'\n').map_or(0, |p| p + 1) + 1;
                    return Err(FeedError::new(
                        FORMAT,
                        format!("line {line} column {column}"),
                        format!("JSON nested deeper than {MAX_JSON_DEPTH} levels"),
                    ));
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

fn json_error(e: serde_json::Error) -> FeedError {
    let msg = e.to_string();
    let reason = msg.rsplit_once(" at line ").map_or(msg.as_str(), |(m, _)| m);
    FeedError::new(FORMAT, format!("line {} column {}", e.line(), e.column()), reason)
}

struct Reader<'s> {
    sink: &'s mut dyn FeedSink,
    /// Custom TLP marking definitions seen so far (id → level).
    markings: HashMap<String, Tlp>,
    /// The bundle's own `spec_version` (STIX 2.0 bundles have one).
    bundle_spec: Option<String>,
}

struct Top<'r, 's> {
    r: &'r mut Reader<'s>,
}

impl<'de> DeserializeSeed<'de> for Top<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Top<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a STIX bundle, a STIX object or an array of STIX objects")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0;
        while seq.next_element_seed(Element { r: &mut *self.r, location: move || format!("[{index}]") })?.is_some() {
            index += 1;
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut fields = Map::new();
        let mut streamed = false;
        while let Some(key) = map.next_key::<String>()? {
            let bundle_so_far = match fields.get("type") {
                None => true,
                Some(t) => t.as_str() == Some("bundle"),
            };
            if key == "objects" && bundle_so_far && !streamed {
                map.next_value_seed(Objects { r: &mut *self.r })?;
                streamed = true;
            } else {
                let v: Value = map.next_value()?;
                if key == "spec_version" && bundle_so_far {
                    self.r.bundle_spec = v.as_str().map(str::to_owned);
                }
                fields.insert(key, v);
            }
        }
        if !streamed && fields.get("type").and_then(Value::as_str) != Some("bundle") {
            self.r.object(Value::Object(fields), "object".to_owned());
        }
        Ok(())
    }
}

struct Objects<'r, 's> {
    r: &'r mut Reader<'s>,
}

impl<'de> DeserializeSeed<'de> for Objects<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Objects<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of STIX objects in \"objects\"")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0;
        while seq
            .next_element_seed(Element { r: &mut *self.r, location: move || format!("objects[{index}]") })?
            .is_some()
        {
            index += 1;
        }
        Ok(())
    }
}

struct Element<'r, 's, L> {
    r: &'r mut Reader<'s>,
    location: L,
}

impl<'de, L: FnOnce() -> String> DeserializeSeed<'de> for Element<'_, '_, L> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        let v = Value::deserialize(d)?;
        self.r.object(v, (self.location)());
        Ok(())
    }
}

fn compact(v: &Value) -> String {
    clip(&v.to_string(), MAX_QUOTED)
}

fn is_sco(object_type: &str) -> bool {
    SCO_TYPES.contains(&object_type)
}

fn strings<'v>(map: &'v Map<String, Value>, key: &str) -> Vec<&'v str> {
    match map.get(key) {
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        Some(Value::String(s)) => vec![s.as_str()],
        _ => Vec::new(),
    }
}

fn timestamp(map: &Map<String, Value>, key: &str) -> Option<OffsetDateTime> {
    map.get(key).and_then(Value::as_str).and_then(|s| OffsetDateTime::parse(s, &Rfc3339).ok())
}

/// A feed's word for a category: the crate's names and synonyms, then a
/// few STIX malware-type vocabulary words.
fn category_word(word: &str) -> Option<Category> {
    if let Ok(c) = Category::from_str(word) {
        return Some(c);
    }
    match word.trim().to_ascii_lowercase().as_str() {
        "remote-access-trojan"
        | "backdoor"
        | "spyware"
        | "keylogger"
        | "worm"
        | "webshell"
        | "rootkit"
        | "bootkit"
        | "wiper" => Some(Category::Trojan),
        "bot" => Some(Category::BotnetCc),
        "downloader" | "dropper" | "exploit-kit" => Some(Category::MaliciousDownload),
        _ => None,
    }
}

const GENERIC_TYPES: [&str; 5] =
    ["malicious-activity", "anomalous-activity", "attribution", "compromised", "anonymization"];

fn category(labels: &[&str], types: &[&str]) -> Option<Category> {
    labels.iter().chain(types).find_map(|w| category_word(w)).or_else(|| {
        labels
            .iter()
            .chain(types)
            .any(|w| GENERIC_TYPES.contains(&w.to_ascii_lowercase().as_str()))
            .then_some(Category::Other)
    })
}

/// The TLP level a custom marking definition states, if it is one.
fn defined_tlp(map: &Map<String, Value>) -> Option<Tlp> {
    if map.get("definition_type").and_then(Value::as_str) == Some("tlp") {
        return map.get("definition")?.get("tlp")?.as_str().and_then(|s| Tlp::from_str(s).ok());
    }
    map.get("extensions")?.as_object()?.values().find_map(|e| e.get("tlp_2_0")?.as_str()?.parse().ok())
}

/// What every lookup of one indicator object shares.
struct Meta {
    category: Option<Category>,
    confidence: Option<u8>,
    tlp: Option<Tlp>,
    first_seen: Option<OffsetDateTime>,
    valid_until: Option<OffsetDateTime>,
    tags: Vec<String>,
    name: String,
    description: String,
    id: String,
}

impl Meta {
    fn indicator(&self, kind: IndicatorKind, value: String) -> Indicator {
        let name = self.name.trim();
        let name_is_value = name.trim_end_matches('.').eq_ignore_ascii_case(&value) || name.is_empty();
        let context = match (name_is_value, self.description.trim()) {
            (true, d) => d.to_owned(),
            (false, "") => name.to_owned(),
            (false, d) => format!("{name}: {d}"),
        };
        Indicator {
            kind,
            value,
            category: self.category,
            confidence: self.confidence,
            tlp: self.tlp,
            first_seen: self.first_seen,
            last_seen: None,
            valid_until: self.valid_until,
            tags: self.tags.clone(),
            context: clip(&context, MAX_CONTEXT),
            external_id: Some(self.id.clone()),
        }
    }
}

impl Reader<'_> {
    fn reject(&mut self, location: String, value: String, reason: String) {
        self.sink.item(FeedItem::Rejected(Rejected { location, value, reason }));
    }

    fn object(&mut self, v: Value, base: String) {
        let Value::Object(map) = v else {
            return self.reject(base, compact(&v), "not a JSON object".to_owned());
        };
        let (id, ty) = match (map.get("id").and_then(Value::as_str), map.get("type").and_then(Value::as_str)) {
            (Some(id), Some(ty)) => (id.to_owned(), ty.to_owned()),
            (None, _) => {
                let shown = compact(&Value::Object(map));
                return self.reject(base, shown, "no \"id\" string".to_owned());
            }
            (_, None) => {
                let shown = compact(&Value::Object(map));
                return self.reject(base, shown, "no \"type\" string".to_owned());
            }
        };
        let location = format!("{base} ({})", clip(&id, 100));
        if !is_stix_id(&id, &ty) {
            return self.reject(location, clip(&id, MAX_QUOTED), format!("id is not {}--<UUID>", clip(&ty, 100)));
        }
        match map.get("spec_version") {
            Some(Value::String(s)) if s == "2.1" => {}
            Some(other) => {
                return self.reject(
                    location,
                    compact(other),
                    "spec_version is not \"2.1\": only STIX 2.1 is read".into(),
                );
            }
            None if is_sco(&ty) => {}
            None => {
                let why = match &self.bundle_spec {
                    Some(v) => format!("no spec_version, in a bundle of spec_version {v:?}: only STIX 2.1 is read"),
                    None => "no spec_version (STIX 2.1 objects other than cyber-observables carry \"2.1\"; \
                             STIX 2.0 ones do not): only STIX 2.1 is read"
                        .to_owned(),
                };
                return self.reject(location, clip(&id, MAX_QUOTED), why);
            }
        }
        let version = ["modified", "created"]
            .iter()
            .find_map(|k| map.get(*k).and_then(Value::as_str))
            .unwrap_or_default()
            .to_owned();
        if ty == "marking-definition"
            && let Some(tlp) = defined_tlp(&map)
        {
            self.markings.insert(id.clone(), tlp);
        }
        let json = match serde_json::to_string(&map) {
            Ok(j) => j,
            Err(e) => return self.reject(location, clip(&id, MAX_QUOTED), format!("cannot re-encode: {e}")),
        };
        self.sink.item(FeedItem::Object(StixObject {
            id: id.clone(),
            object_type: ty.clone(),
            spec_version: "2.1".to_owned(),
            version,
            json,
        }));
        if ty == "indicator" {
            self.indicator(&map, id, location);
        }
    }

    fn indicator(&mut self, map: &Map<String, Value>, id: String, location: String) {
        let pattern = map.get("pattern").and_then(Value::as_str);
        let not_matchable = |reason: String| {
            FeedItem::NotMatchable(NotMatchable {
                location: location.clone(),
                id: id.clone(),
                pattern: clip(pattern.unwrap_or_default(), MAX_PATTERN_QUOTED),
                reason,
            })
        };
        if map.get("revoked").and_then(Value::as_bool) == Some(true) {
            return self.sink.item(not_matchable("revoked by its producer".to_owned()));
        }
        match map.get("pattern_type") {
            None => {}
            Some(Value::String(t)) if t == "stix" => {}
            Some(other) => {
                let reason = format!("pattern_type {}: only STIX patterns become lookups", compact(other));
                return self.sink.item(not_matchable(reason));
            }
        }
        let Some(pattern) = pattern else {
            return self.reject(location, String::new(), "indicator without a \"pattern\" string".to_owned());
        };
        let labels = strings(map, "labels");
        let types = strings(map, "indicator_types");
        if types.iter().any(|t| t.eq_ignore_ascii_case("benign")) {
            return self.sink.item(not_matchable("indicator_types says benign: nothing to alert on".to_owned()));
        }
        let parsed = match pattern::parse(pattern) {
            Ok(p) => p,
            Err(e) => return self.reject(location, clip(pattern, MAX_QUOTED), format!("invalid STIX pattern: {e}")),
        };
        let found = match lookups(&parsed) {
            Ok(l) => l,
            Err(reason) => return self.sink.item(not_matchable(reason)),
        };
        let category = category(&labels, &types);
        let tags =
            labels.iter().filter(|l| category.is_none_or(|c| c.as_str() != **l)).map(|l| (*l).to_owned()).collect();
        let tlp = strings(map, "object_marking_refs")
            .iter()
            .filter_map(|r| tlp_of_marking(r).or_else(|| self.markings.get(*r).copied()))
            .max();
        let text = |k: &str| map.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
        let meta = Meta {
            category,
            confidence: map
                .get("confidence")
                .and_then(Value::as_u64)
                .filter(|c| *c <= 100)
                .and_then(|c| u8::try_from(c).ok()),
            tlp,
            first_seen: timestamp(map, "valid_from"),
            valid_until: timestamp(map, "valid_until"),
            tags,
            name: text("name"),
            description: text("description"),
            id: id.clone(),
        };
        for r in found.rejected {
            self.reject(location.clone(), r.value, format!("{}: {}", r.path, r.reason));
        }
        for (kind, value) in found.valid {
            self.sink.item(FeedItem::Indicator(meta.indicator(kind, value)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories() {
        assert_eq!(category(&["botnet"], &["malicious-activity"]), Some(Category::BotnetCc));
        assert_eq!(category(&[], &["malicious-activity", "attribution"]), Some(Category::Other));
        assert_eq!(category(&["remote-access-trojan"], &[]), Some(Category::Trojan));
        assert_eq!(category(&["foo"], &["unknown"]), None);
    }
}
