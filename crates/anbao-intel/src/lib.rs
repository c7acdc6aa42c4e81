//! Threat-intelligence indicators (requirements R3.5 indicator import and
//! normalisation, R3.6 matching traffic against indicators):
//!
//! - [`normalize`]: the [`IndicatorKind`]s we know, [`normalize()`] to the
//!   form traffic shows (lower-case punycode domains, canonical URLs, IPv4
//!   for IPv4-mapped IPv6, lower-case hex hashes), and [`detect_kind`] for
//!   plain one-per-line lists.
//! - [`index`]: an immutable [`IndicatorIndex`] answering "which indicators
//!   match this DNS name / IP address / URL / hash": exact domains and parent
//!   domains, exact IPs and every covering CIDR (longest first), exact URLs
//!   and URL path prefixes, hashes.
//!
//! This crate owns the indicator value rules and the match semantics. It must
//! not do I/O: no files, no database, no HTTP, no async runtime. Fetching
//! feeds and storing indicators belong to other crates (`anbao-store`,
//! `anbao-server`); they hand values and ids in and get ids out.
//!
//! Inputs are hostile: no panics (unwrap, expect, indexing are denied).
//! Invalid values are errors with a reason, never silently altered except by
//! the documented normalisations.
//!
//! Dependencies: `url` (the WHATWG URL parser browsers use: scheme and host
//! lower-casing, default ports, dot segments, IDN hosts) and `idna` (UTS 46
//! mapping and punycode for bare domains). CIDR arithmetic is a few lines of
//! integer masking on `std::net` types, so no `ipnet`.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing))]

pub mod allowlist;
pub mod compress;
pub mod export;
pub mod index;
pub mod lists;
pub mod misp;
pub mod normalize;
pub mod record;
pub mod sample;
pub mod stix;

pub use index::{Hit, IndicatorIndex, IndicatorIndexBuilder, Match};
pub use normalize::{IndicatorKind, Invalid, detect_kind, normalize};
pub use record::{
    Category, Collected, FeedError, FeedItem, FeedSink, Indicator, NotMatchable, Rejected, StixObject, Tlp,
};
