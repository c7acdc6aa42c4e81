//! STIX 2.1: this module owns the patterning language ([`pattern`]: parser,
//! printer, pattern → lookups), reading bundles into [`FeedItem`]s
//! ([`bundle`]), and writing indicators back out as a bundle ([`export`]),
//! plus the TLP marking definitions both directions share.
//!
//! # Which patterns become lookups
//!
//! The index answers "is this value listed", so only patterns that mean
//! "any of these values" become indicators ([`pattern::lookups`]):
//!
//! - The pattern is one observation expression `[ … ]`, or observation
//!   expressions joined by `OR`. `AND` or `FOLLOWEDBY` between observations
//!   and every qualifier (`WITHIN`, `REPEATS`, `START … STOP`) make it not
//!   matchable: they are conditions over several observations or over time,
//!   which a lookup cannot check, and matching the parts alone would raise
//!   alerts the producer did not ask for.
//! - Inside the brackets, comparisons are joined by `OR` (parentheses
//!   allowed), each `path = 'string'` or `path IN ('a', 'b')`, not negated,
//!   on a supported path: `domain-name:value` (Domain), `url:value` (Url),
//!   `ipv4-addr:value` / `ipv6-addr:value` (Ipv4 / Ipv6, or Cidr when the
//!   value has a `/`; an IPv4-mapped IPv6 value becomes Ipv4),
//!   `email-addr:value` and `email-message:from_ref.value` (Email),
//!   `file:hashes.MD5` / `'SHA-1'` / `'SHA-256'` (also `SHA1`, `SHA256`,
//!   any case: Md5 / Sha1 / Sha256) and `x509-certificate:hashes.'SHA-256'`
//!   (CertSha256). Any other operator (`!=`, `LIKE`, `MATCHES`, …), path
//!   (`file:name`, `software:…`) or `NOT` in the disjunction makes the whole
//!   pattern not matchable: matching only the other terms would silently
//!   under-report what the producer meant.
//! - **Decision on `AND` inside one observation:** when at least one
//!   conjunct is a hash equality (or an `OR` of hash equalities) and every
//!   conjunct is on the same object type (`[file:hashes.MD5 = '…' AND
//!   file:name = 'x.exe']`), the hashes alone become lookups: a hash
//!   identifies the file (or certificate), the other conditions only
//!   describe it. Several hash conjuncts each count. Every other `AND` form
//!   is not matchable.
//! - Each value goes through [`crate::normalize()`]. A value that is not
//!   valid (the `'domain autuo.xicp.net'` of the public "Poison Ivy" STIX
//!   example, a number where a string belongs) is rejected with its reason,
//!   and the other values of the same pattern still count.
//!
//! # Reading bundles ([`read_bundle`])
//!
//! Input: a bundle `{"type": "bundle", "objects": […]}`, one STIX object,
//! or a bare JSON array of objects. Not JSON, JSON nested deeper than 100
//! levels, or JSON of another shape, is a [`FeedError`] with line and
//! column (syntax and depth are checked before anything is emitted).
//! Objects are processed one at a time as they are parsed (a bundle is not
//! held twice). Per object, in input order:
//!
//! - No string `id` or `type`, an `id` that is not `type--UUID`, a
//!   `spec_version` other than `"2.1"`, or no `spec_version` on an object
//!   that is not a cyber-observable (SCOs may omit it; STIX 2.0 SDOs never
//!   have it) → [`FeedItem::Rejected`], and reading goes on.
//! - Otherwise → [`FeedItem::Object`] with the compact JSON (keys sorted)
//!   and version = `modified`, else `created`, else empty.
//! - Indicators (`pattern_type` `stix` or absent) then yield one
//!   [`FeedItem::Indicator`] per lookup, [`FeedItem::Rejected`] per invalid
//!   value (location `objects[3] (indicator--…)`), or one
//!   [`FeedItem::NotMatchable`] with the reason. A pattern that does not
//!   parse is Rejected. Other pattern types (sigma, snort, yara, …),
//!   `revoked: true` and `indicator_types` containing `benign` are
//!   NotMatchable.
//! - Indicator metadata: category from `labels`, then `indicator_types`,
//!   through [`Category::from_str`](crate::Category) and a few STIX
//!   malware-type words (`remote-access-trojan`, `bot`, `dropper`, …); if
//!   none names a kind but the vocabulary says `malicious-activity`,
//!   `anomalous-activity`, `attribution`, `compromised` or `anonymization`,
//!   [`Category::Other`]; else `None`. `confidence` 0–100. TLP from
//!   `object_marking_refs`: the STIX 2.1 predefined TLP 1.0 definitions,
//!   the OASIS TLP 2.0 ones, and TLP marking definitions that appeared
//!   earlier in the same input; the most restrictive wins. `first_seen` =
//!   `valid_from`, `valid_until`; `tags` = `labels` (less the one that is
//!   exactly the category's stable name, which the exporter adds);
//!   `context` = `name: description` (the name left out when it is the
//!   value itself), cut to 2048 bytes; `external_id` = the indicator id.
//!
//! # Writing bundles ([`export`])
//!
//! See [`export::BundleWriter`]: one STIX indicator per exportable
//! indicator, ids derived from kind and value (UUIDv5 construction with the
//! version nibble 4), TLP markings with their definitions, kept objects
//! passed through.

use crate::record::Tlp;
#[cfg(doc)]
use crate::record::{Category, FeedError, FeedItem};

pub mod bundle;
pub mod export;
pub mod pattern;

pub use bundle::read_bundle;
pub use export::{
    BundleWriter, ExportError, ExportOptions, ExportSummary, IndicatorMeta, NotExportable, indicator_id, pattern_for,
    write_bundle,
};
pub use pattern::{Lookups, Pattern, PatternError, RejectedValue, lookups, parse};

/// Which TLP marking definitions an export references.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum TlpVersion {
    /// The TLP 1.0 definitions predefined in STIX 2.1 §7.2.1.4 (white,
    /// green, amber, red); `amber+strict`, which TLP 1.0 lacks, uses the
    /// TLP 2.0 definition.
    V1,
    /// The OASIS TLP 2.0 definitions (clear, green, amber, amber+strict,
    /// red), property extension `extension-definition--60a3c5c5-…`.
    #[default]
    V2,
}

struct TlpDef {
    tlp: Tlp,
    version: TlpVersion,
    id: &'static str,
    json: &'static str,
}

const TLP_DEFS: [TlpDef; 9] = [
    TlpDef {
        tlp: Tlp::Clear,
        version: TlpVersion::V1,
        id: "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
        json: r#"{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9","created":"2017-01-20T00:00:00.000Z","definition_type":"tlp","name":"TLP:WHITE","definition":{"tlp":"white"}}"#,
    },
    TlpDef {
        tlp: Tlp::Green,
        version: TlpVersion::V1,
        id: "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
        json: r#"{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da","created":"2017-01-20T00:00:00.000Z","definition_type":"tlp","name":"TLP:GREEN","definition":{"tlp":"green"}}"#,
    },
    TlpDef {
        tlp: Tlp::Amber,
        version: TlpVersion::V1,
        id: "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
        json: r#"{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82","created":"2017-01-20T00:00:00.000Z","definition_type":"tlp","name":"TLP:AMBER","definition":{"tlp":"amber"}}"#,
    },
    TlpDef {
        tlp: Tlp::Red,
        version: TlpVersion::V1,
        id: "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
        json: r#"{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed","created":"2017-01-20T00:00:00.000Z","definition_type":"tlp","name":"TLP:RED","definition":{"tlp":"red"}}"#,
    },
    TlpDef {
        tlp: Tlp::Clear,
        version: TlpVersion::V2,
        id: "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
        json: r#"{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487","created":"2022-10-01T00:00:00.000Z","name":"TLP:CLEAR","extensions":{"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":{"extension_type":"property-extension","tlp_2_0":"clear"}}}"#,
    },
    TlpDef {
        tlp: Tlp::Green,
        version: TlpVersion::V2,
        id: "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
        json: r#"{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb","created":"2022-10-01T00:00:00.000Z","name":"TLP:GREEN","extensions":{"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":{"extension_type":"property-extension","tlp_2_0":"green"}}}"#,
    },
    TlpDef {
        tlp: Tlp::Amber,
        version: TlpVersion::V2,
        id: "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
        json: r#"{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421","created":"2022-10-01T00:00:00.000Z","name":"TLP:AMBER","extensions":{"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":{"extension_type":"property-extension","tlp_2_0":"amber"}}}"#,
    },
    TlpDef {
        tlp: Tlp::AmberStrict,
        version: TlpVersion::V2,
        id: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
        json: r#"{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003","created":"2022-10-01T00:00:00.000Z","name":"TLP:AMBER+STRICT","extensions":{"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":{"extension_type":"property-extension","tlp_2_0":"amber+strict"}}}"#,
    },
    TlpDef {
        tlp: Tlp::Red,
        version: TlpVersion::V2,
        id: "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
        json: r#"{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1","created":"2022-10-01T00:00:00.000Z","name":"TLP:RED","extensions":{"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":{"extension_type":"property-extension","tlp_2_0":"red"}}}"#,
    },
];

/// The TLP level of a standard TLP 1.0 or 2.0 marking-definition id.
pub fn tlp_of_marking(id: &str) -> Option<Tlp> {
    TLP_DEFS.iter().find(|d| d.id == id).map(|d| d.tlp)
}

fn tlp_def(tlp: Tlp, version: TlpVersion) -> Option<&'static TlpDef> {
    TLP_DEFS
        .iter()
        .find(|d| d.tlp == tlp && d.version == version)
        .or_else(|| TLP_DEFS.iter().find(|d| d.tlp == tlp && d.version == TlpVersion::V2))
}

/// The marking-definition id and its object (compact JSON) for a TLP level.
pub fn tlp_marking(tlp: Tlp, version: TlpVersion) -> Option<(&'static str, &'static str)> {
    tlp_def(tlp, version).map(|d| (d.id, d.json))
}

/// Whether `s` is a UUID in 8-4-4-4-12 hex form (either case; STIX ids in
/// the wild use upper-case digits too).
pub fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.bytes()
            .enumerate()
            .all(|(i, b)| if matches!(i, 8 | 13 | 18 | 23) { b == b'-' } else { b.is_ascii_hexdigit() })
}

/// Whether `id` is `object_type--UUID`.
pub fn is_stix_id(id: &str, object_type: &str) -> bool {
    id.strip_prefix(object_type).and_then(|r| r.strip_prefix("--")).is_some_and(is_uuid)
}

/// Formats 16 bytes as a UUID with the version set to 4 and the RFC 4122
/// variant, for callers that bring their own random bytes (bundle ids).
pub fn uuid4_from_bytes(mut b: [u8; 16]) -> String {
    if let Some(x) = b.get_mut(6) {
        *x = (*x & 0x0f) | 0x40;
    }
    if let Some(x) = b.get_mut(8) {
        *x = (*x & 0x3f) | 0x80;
    }
    let mut s = String::with_capacity(36);
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            s.push('-');
        }
        s.push_str(&format!("{byte:02x}"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_shape() {
        let u = uuid4_from_bytes([0xff; 16]);
        assert_eq!(u, "ffffffff-ffff-4fff-bfff-ffffffffffff");
        assert!(is_uuid(&u));
        assert!(is_stix_id(&format!("indicator--{u}"), "indicator"));
        assert!(!is_stix_id(&format!("malware--{u}"), "indicator"));
        assert!(!is_uuid("dc66992-4a1a-470d-bfae-694e740ce181"));
    }

    #[test]
    fn tlp_table_is_consistent() {
        for d in &TLP_DEFS {
            let v: serde_json::Value = serde_json::from_str(d.json).unwrap();
            assert_eq!(v["id"], d.id);
            assert_eq!(tlp_of_marking(d.id), Some(d.tlp));
        }
        assert_eq!(tlp_marking(Tlp::AmberStrict, TlpVersion::V1), tlp_marking(Tlp::AmberStrict, TlpVersion::V2));
    }
}
