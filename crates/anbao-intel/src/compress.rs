//! What comes before a reader: undoing compression and turning bytes into
//! text, both bounded and without panics on hostile input.
//!
//! - [`decompress`]: gzip (recognised by its magic bytes `1f 8b`, several
//!   members read one after another as `gzip` and `zcat` do) and a zip
//!   archive holding exactly one file (`PK\3\4`; stored or deflated, CRC
//!   checked; abuse.ch and others publish their dumps that way). Anything
//!   else is returned as it is, borrowed. The output is capped at `limit`
//!   bytes and an error names the limit, so a zip bomb costs at most
//!   `limit` bytes of memory. Input that is not compressed counts against
//!   the same limit. Zip64, encrypted archives and methods other than
//!   stored/deflate are errors, as are archives of several files (which
//!   one would be the feed?).
//! - [`decode_text`], for JSON formats (MISP events, manifests, STIX): UTF-8
//!   with the BOM stripped, or UTF-16 when it starts with a UTF-16 BOM.
//!   Invalid UTF-8 is an error naming the byte offset. We never replace bad
//!   bytes: a JSON document with broken bytes is not one we want to guess
//!   at.
//! - [`decode_text_lines`], for line formats (plain lists, hosts files, CSV,
//!   free text): a line with invalid UTF-8 is a [`Rejected`] item naming
//!   the line and byte offset, and is replaced by an empty line so the line
//!   numbers the reader reports stay right. The other lines are read.
//!
//! Readers take `&str`; the importer calls these first.

use std::borrow::Cow;
use std::io::Read;

use crate::record::{FeedError, FeedItem, FeedSink, Rejected, clip};

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const ZIP_LOCAL: &[u8; 4] = b"PK\x03\x04";
const ZIP_CENTRAL: &[u8; 4] = b"PK\x01\x02";
const ZIP_END: &[u8; 4] = b"PK\x05\x06";

/// `bytes` decompressed when they are gzip or a one-file zip archive,
/// otherwise `bytes` themselves; in both cases at most `limit` bytes.
pub fn decompress(bytes: &[u8], limit: usize) -> Result<Cow<'_, [u8]>, FeedError> {
    if bytes.starts_with(&GZIP_MAGIC) {
        let dec = flate2::read::MultiGzDecoder::new(bytes);
        return read_limited(dec, limit, "gzip", "gzip stream").map(Cow::Owned);
    }
    if bytes.starts_with(ZIP_LOCAL) {
        return unzip(bytes, limit).map(Cow::Owned);
    }
    if bytes.len() > limit {
        return Err(too_big("input", "byte 0", limit));
    }
    Ok(Cow::Borrowed(bytes))
}

fn too_big(format: &'static str, location: &str, limit: usize) -> FeedError {
    FeedError::new(
        format,
        location,
        format!("more than the limit of {limit} bytes once decompressed (a zip bomb, or raise the limit)"),
    )
}

fn read_limited<R: Read>(r: R, limit: usize, format: &'static str, location: &str) -> Result<Vec<u8>, FeedError> {
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    let mut out = Vec::new();
    r.take(cap).read_to_end(&mut out).map_err(|e| FeedError::new(format, location, format!("corrupt: {e}")))?;
    if out.len() > limit {
        return Err(too_big(format, location, limit));
    }
    Ok(out)
}

fn le16(b: &[u8], at: usize) -> Option<u16> {
    let s = b.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes([*s.first()?, *s.get(1)?]))
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([*s.first()?, *s.get(1)?, *s.get(2)?, *s.get(3)?]))
}

fn usize_at32(b: &[u8], at: usize) -> Option<usize> {
    le32(b, at).and_then(|v| usize::try_from(v).ok())
}

/// One file from a zip archive, found through the central directory.
fn unzip(bytes: &[u8], limit: usize) -> Result<Vec<u8>, FeedError> {
    let err = |loc: &str, reason: &str| FeedError::new("zip archive", loc, reason);
    // End of central directory: 22 bytes plus a comment of up to 64 KiB.
    let min_start = bytes.len().saturating_sub(22 + 0xffff);
    let end = (min_start..=bytes.len().saturating_sub(22))
        .rev()
        .find(|&i| bytes.get(i..i + 4) == Some(ZIP_END.as_slice()))
        .ok_or_else(|| err("end", "no end-of-central-directory record (truncated download?)"))?;
    let loc_end = format!("byte {end}");
    let entries = le16(bytes, end + 10).ok_or_else(|| err(&loc_end, "truncated"))?;
    let cd_offset = le32(bytes, end + 16).ok_or_else(|| err(&loc_end, "truncated"))?;
    if entries == 0xffff || cd_offset == 0xffff_ffff {
        return Err(err(&loc_end, "zip64 archives are not supported"));
    }
    let mut pos = usize::try_from(cd_offset).map_err(|_| err(&loc_end, "bad offset"))?;
    let mut file: Option<(usize, usize, u16, u32, String)> = None;
    for _ in 0..entries {
        let loc = format!("byte {pos}");
        if bytes.get(pos..pos + 4) != Some(ZIP_CENTRAL.as_slice()) {
            return Err(err(&loc, "bad central directory entry"));
        }
        let field16 = |at: usize| le16(bytes, pos + at).ok_or_else(|| err(&loc, "truncated"));
        let field32 = |at: usize| usize_at32(bytes, pos + at).ok_or_else(|| err(&loc, "truncated"));
        let flags = field16(8)?;
        let method = field16(10)?;
        let crc = le32(bytes, pos + 16).ok_or_else(|| err(&loc, "truncated"))?;
        let comp_size = field32(20)?;
        let name_len = usize::from(field16(28)?);
        let extra_len = usize::from(field16(30)?);
        let comment_len = usize::from(field16(32)?);
        let local = field32(42)?;
        let name = bytes.get(pos + 46..pos + 46 + name_len).ok_or_else(|| err(&loc, "truncated"))?;
        let name = String::from_utf8_lossy(name).into_owned();
        pos = pos + 46 + name_len + extra_len + comment_len;
        if name.ends_with('/') || name.starts_with("__MACOSX/") {
            continue;
        }
        if flags & 1 != 0 {
            return Err(err(&loc, &format!("{name:?} is encrypted")));
        }
        if file.is_some() {
            return Err(err(&loc, "the archive holds several files; expected one"));
        }
        file = Some((local, comp_size, method, crc, name));
    }
    let (local, comp_size, method, crc, name) = file.ok_or_else(|| err(&loc_end, "the archive holds no file"))?;
    let loc = format!("{name:?}");
    if bytes.get(local..local + 4) != Some(ZIP_LOCAL.as_slice()) {
        return Err(err(&loc, "bad local file header"));
    }
    let name_len = usize::from(le16(bytes, local + 26).ok_or_else(|| err(&loc, "truncated"))?);
    let extra_len = usize::from(le16(bytes, local + 28).ok_or_else(|| err(&loc, "truncated"))?);
    let start = local + 30 + name_len + extra_len;
    let data = bytes.get(start..start.saturating_add(comp_size)).ok_or_else(|| err(&loc, "truncated"))?;
    let out = match method {
        0 => {
            if data.len() > limit {
                return Err(too_big("zip archive", &loc, limit));
            }
            data.to_vec()
        }
        8 => read_limited(flate2::read::DeflateDecoder::new(data), limit, "zip archive", &loc)?,
        m => return Err(err(&loc, &format!("compression method {m} is not supported (only stored and deflate)"))),
    };
    let mut sum = flate2::Crc::new();
    sum.update(&out);
    if sum.sum() != crc {
        return Err(err(&loc, "CRC mismatch: the file is corrupt"));
    }
    Ok(out)
}

const UTF8_BOM: &[u8] = b"\xef\xbb\xbf";

/// Strict text for JSON formats: UTF-8 (BOM stripped) or UTF-16 with a BOM.
/// `format` names the input in the error (`MISP event`, …).
pub fn decode_text<'a>(bytes: &'a [u8], format: &'static str) -> Result<Cow<'a, str>, FeedError> {
    if let Some(t) = decode_utf16(bytes, format)? {
        return Ok(Cow::Owned(t));
    }
    let (skip, body) = match bytes.strip_prefix(UTF8_BOM) {
        Some(rest) => (UTF8_BOM.len(), rest),
        None => (0, bytes),
    };
    std::str::from_utf8(body).map(Cow::Borrowed).map_err(|e| {
        FeedError::new(
            format,
            format!("byte {}", skip + e.valid_up_to()),
            "invalid UTF-8 (only UTF-8 and UTF-16 are read)",
        )
    })
}

/// Text for line formats: UTF-8 (BOM stripped) or UTF-16 with a BOM. Each
/// line with invalid UTF-8 goes to `sink` as [`Rejected`] and is read as an
/// empty line. Errors only for broken UTF-16.
pub fn decode_text_lines<'a>(bytes: &'a [u8], sink: &mut dyn FeedSink) -> Result<Cow<'a, str>, FeedError> {
    if let Some(t) = decode_utf16(bytes, "text")? {
        return Ok(Cow::Owned(t));
    }
    let (skip, body) = match bytes.strip_prefix(UTF8_BOM) {
        Some(rest) => (UTF8_BOM.len(), rest),
        None => (0, bytes),
    };
    if let Ok(s) = std::str::from_utf8(body) {
        return Ok(Cow::Borrowed(s));
    }
    let mut out = String::with_capacity(body.len());
    let mut offset = skip;
    for (i, line) in body.split(|&b| b == b'\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        match std::str::from_utf8(line) {
            Ok(s) => out.push_str(s),
            Err(e) => sink.item(FeedItem::Rejected(Rejected {
                location: format!("line {}", i + 1),
                value: clip(&String::from_utf8_lossy(line), 256),
                reason: format!("invalid UTF-8 at byte {}", offset + e.valid_up_to()),
            })),
        }
        offset += line.len() + 1;
    }
    Ok(Cow::Owned(out))
}

/// `Some(text)` when `bytes` start with a UTF-16 BOM.
fn decode_utf16(bytes: &[u8], format: &'static str) -> Result<Option<String>, FeedError> {
    let le = match bytes {
        [0xff, 0xfe, ..] => true,
        [0xfe, 0xff, ..] => false,
        _ => return Ok(None),
    };
    let body = bytes.get(2..).unwrap_or_default();
    if body.len() % 2 != 0 {
        return Err(FeedError::new(format, format!("byte {}", bytes.len() - 1), "odd number of bytes in UTF-16 text"));
    }
    let units = body.chunks_exact(2).map(|c| match (c.first(), c.get(1)) {
        (Some(&a), Some(&b)) if le => u16::from_le_bytes([a, b]),
        (Some(&a), Some(&b)) => u16::from_be_bytes([a, b]),
        _ => 0,
    });
    let mut out = String::with_capacity(body.len() / 2);
    let mut unit = 0;
    for c in char::decode_utf16(units) {
        match c {
            Ok(c) => {
                out.push(c);
                unit += c.len_utf16();
            }
            Err(_) => {
                return Err(FeedError::new(format, format!("byte {}", 2 + 2 * unit), "unpaired UTF-16 surrogate"));
            }
        }
    }
    Ok(Some(out))
}
