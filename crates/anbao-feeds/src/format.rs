//! Which reader a document goes to: the one the user named, or, for
//! `auto`, the one its content calls for (JSON with `"Event"` is MISP, JSON
//! with a STIX `type`/`spec_version` is STIX, text that looks like a hosts
//! file is one, any other text is a plain list). CSV needs a column mapping,
//! so it is never guessed.

use std::fmt;
use std::str::FromStr;

use anbao_intel::compress::{decode_text, decode_text_lines};
use anbao_intel::lists::{self, ListFormat};
use anbao_intel::{FeedError, FeedSink, misp, stix};

use crate::ImportOptions;

/// A feed format, as `--format` names it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    #[default]
    Auto,
    Stix,
    Misp,
    List,
    Csv,
    Hosts,
}

impl Format {
    pub const ALL: [Format; 6] = [Format::Auto, Format::Stix, Format::Misp, Format::List, Format::Csv, Format::Hosts];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Auto => "auto",
            Format::Stix => "stix",
            Format::Misp => "misp",
            Format::List => "list",
            Format::Csv => "csv",
            Format::Hosts => "hosts",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Format::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| format!("unknown format {s:?} (auto, stix, misp, list, csv, hosts)"))
    }
}

/// What the content of a (decompressed) document looks like.
pub(crate) fn sniff(bytes: &[u8]) -> Format {
    let start = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let first = start.iter().find(|b| !b.is_ascii_whitespace());
    if matches!(first, Some(b'{') | Some(b'[')) {
        let head = String::from_utf8_lossy(start.get(..start.len().min(64 * 1024)).unwrap_or(start));
        if head.contains("\"Event\"") || head.contains("\"Attribute\"") {
            return Format::Misp;
        }
        return Format::Stix;
    }
    match decode_text(bytes, "text") {
        Ok(text) if ListFormat::sniff(&text) == ListFormat::Hosts => Format::Hosts,
        _ => Format::List,
    }
}

/// Runs the reader for `options.format` (or the sniffed one) over one
/// document. Returns how many records were skipped on purpose.
pub(crate) fn read(
    options: &ImportOptions,
    name: &str,
    bytes: &[u8],
    sink: &mut dyn FeedSink,
) -> Result<u64, FeedError> {
    if let Some(desc) = &options.described {
        let text = decode_text_lines(bytes, sink)?;
        misp::read_described(&text, desc, sink)?;
        return Ok(0);
    }
    let format = match options.format {
        Format::Auto => sniff(bytes),
        f => f,
    };
    match format {
        Format::Stix | Format::Auto => {
            stix::read_bundle(bytes, sink)?;
            Ok(0)
        }
        Format::Misp => {
            let opts = misp::MispOptions { include_non_ids: options.include_non_ids };
            let summary = misp::read_event(bytes, &opts, sink)?;
            Ok(summary.not_to_ids + summary.skipped_by_type.values().sum::<u64>())
        }
        Format::List => {
            let text = decode_text_lines(bytes, sink)?;
            lists::read_plain_list(&text, None, sink);
            Ok(0)
        }
        Format::Hosts => {
            let text = decode_text_lines(bytes, sink)?;
            lists::read_hosts(&text, sink);
            Ok(0)
        }
        Format::Csv => {
            let mapping = options
                .csv
                .as_ref()
                .ok_or_else(|| FeedError::new("CSV", name, "CSV needs a column mapping (--value-column)"))?;
            let text = decode_text_lines(bytes, sink)?;
            lists::read_csv(&text, mapping, sink)?;
            Ok(0)
        }
    }
}
