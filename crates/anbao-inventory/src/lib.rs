//! Asset-inventory import and export formats for the asset registry
//! (requirements R1.3 asset inventory, R1.8 software/hardware versions):
//!
//! - [`text`]: which encoding an upload is in (UTF-8 with or without BOM,
//!   UTF-16 with BOM, GB18030/GBK) and its text; invalid bytes are errors
//!   with their offset, never replaced.
//! - [`assets_csv`]: spreadsheet asset lists through a [`ColumnMapping`]
//!   (our headers and the usual Chinese ones), and our CSV export.
//! - [`assets_json`]: JSON arrays of asset drafts with their components,
//!   and our JSON export.
//! - [`nmap`]: `nmap -oX` reports, and hosts as device assets with their
//!   services as inventory lines.
//! - [`cpe`]: CPE 2.2 URI → CPE 2.3 formatted string.
//!
//! Every function takes bytes and returns typed values:
//! [`AssetDraft`](anbao_model::asset::AssetDraft)s and
//! [`ComponentDraft`](anbao_model::asset::ComponentDraft)s checked with the
//! model's rules, and errors by line and field. This crate must not do I/O:
//! no files, no database, no HTTP, no async runtime. Storing what it reads
//! belongs to `anbao-store`, uploads to `anbao-server`.
//!
//! Inputs are hostile: no panics (unwrap, expect, indexing are denied), and
//! limits on rows, field lengths, XML depth and kept values.
//!
//! Dependencies: `encoding_rs` for decoding (the WHATWG decoders, with
//! error positions and no replacement); `quick-xml` rather than `roxmltree`
//! for nmap XML, because it streams without building a tree and never
//! expands DTD entities, whereas roxmltree must be told to accept DTDs to
//! read nmap's `<!DOCTYPE nmaprun>` and then expands entities declared in
//! them. CSV is read by a small strict reader of our own (the `csv` crate
//! accepts broken quoting silently, see [`csv_records`]'s doc) and written
//! by an infallible writer of a few lines.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing))]

pub mod assets_csv;
pub mod assets_json;
pub mod cpe;
mod csv_records;
pub mod import;
pub mod mapping;
pub mod nmap;
pub mod text;

pub use assets_csv::{assets_to_csv, csv_headers, parse_assets_csv, parse_assets_csv_auto, parse_assets_csv_with};
pub use assets_json::{asset_to_json, assets_to_json, parse_assets_json, parse_assets_json_with};
pub use cpe::{CpeError, cpe22_to_cpe23};
pub use import::{ImportError, ImportLimits, ImportParse, ParsedRow, RowError};
pub use mapping::ColumnMapping;
pub use nmap::{
    AddressKind, AssetDefaults, NmapAddress, NmapError, NmapHost, NmapHostname, NmapOsMatch, NmapPort, NmapScan,
    parse_nmap_xml,
};
pub use text::{DecodeError, DecodedText, TextEncoding, decode_text, decode_text_as};
