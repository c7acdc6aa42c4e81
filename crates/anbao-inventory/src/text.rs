//! Text decoding of uploaded files: which character encoding a file is in,
//! and its text. Never replaces an invalid sequence: a file that does not
//! decode is rejected with the byte offset of the first bad sequence, so the
//! operator can find it.
//!
//! Detection order: a byte-order mark (UTF-8, UTF-16 LE, UTF-16 BE); else
//! UTF-8 if the whole file is valid UTF-8; else GB18030, the superset of GBK
//! that Chinese-locale Excel writes ("CSV" saved on a Chinese Windows).
//! Any 8-bit file that is not UTF-8 is taken for GB18030 if it decodes as
//! such; callers that know better use [`decode_text_as`].

use std::fmt;

use encoding_rs::{DecoderResult, Encoding, GB18030, UTF_16BE, UTF_16LE};

/// The character encoding a file was read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TextEncoding {
    /// UTF-8 without a byte-order mark.
    Utf8,
    /// UTF-8 with a byte-order mark (`EF BB BF`), as Excel writes "CSV UTF-8".
    Utf8Bom,
    /// UTF-16 little-endian with a byte-order mark (`FF FE`), as Excel writes
    /// "Unicode Text".
    Utf16Le,
    /// UTF-16 big-endian with a byte-order mark (`FE FF`).
    Utf16Be,
    /// GB18030 (a superset of GBK and GB2312), without a byte-order mark.
    Gb18030,
}

impl TextEncoding {
    /// The encoding's usual name (`UTF-8`, `UTF-8 (BOM)`, `UTF-16LE`,
    /// `UTF-16BE`, `GB18030`).
    pub fn as_str(self) -> &'static str {
        match self {
            TextEncoding::Utf8 => "UTF-8",
            TextEncoding::Utf8Bom => "UTF-8 (BOM)",
            TextEncoding::Utf16Le => "UTF-16LE",
            TextEncoding::Utf16Be => "UTF-16BE",
            TextEncoding::Gb18030 => "GB18030",
        }
    }

    fn bom(self) -> &'static [u8] {
        match self {
            TextEncoding::Utf8 | TextEncoding::Gb18030 => b"",
            TextEncoding::Utf8Bom => b"\xEF\xBB\xBF",
            TextEncoding::Utf16Le => b"\xFF\xFE",
            TextEncoding::Utf16Be => b"\xFE\xFF",
        }
    }
}

impl fmt::Display for TextEncoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a file could not be read as text. Offsets count bytes from the start
/// of the file, byte-order mark included.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// An invalid byte sequence in a file whose encoding is known (by its
    /// byte-order mark, or because the caller named it).
    #[error("invalid {encoding} byte sequence at byte offset {offset}")]
    Invalid { encoding: TextEncoding, offset: usize },
    /// The file ends inside a multi-byte sequence.
    #[error("file ends inside a {encoding} character (incomplete sequence at byte offset {offset})")]
    Truncated { encoding: TextEncoding, offset: usize },
    /// No byte-order mark, and the bytes are neither UTF-8 nor GB18030.
    #[error(
        "not UTF-8 (invalid byte at offset {utf8_offset}) and not GB18030/GBK (invalid byte at offset \
         {gb18030_offset}); save the file as UTF-8"
    )]
    Unrecognised { utf8_offset: usize, gb18030_offset: usize },
    /// A NUL character: not a text file, or UTF-16 without a byte-order mark.
    #[error("NUL character at byte offset {offset}: not a text file (UTF-16 without a byte-order mark?)")]
    Nul { offset: usize },
}

/// A decoded file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedText {
    pub encoding: TextEncoding,
    /// The text, without the byte-order mark.
    pub text: String,
}

/// Detects the encoding of `bytes` and decodes them (see the module doc for
/// the detection order).
pub fn decode_text(bytes: &[u8]) -> Result<DecodedText, DecodeError> {
    for encoding in [TextEncoding::Utf8Bom, TextEncoding::Utf16Le, TextEncoding::Utf16Be] {
        if bytes.starts_with(encoding.bom()) {
            return decode_text_as(bytes, encoding);
        }
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => finish(TextEncoding::Utf8, 0, text.to_owned()),
        Err(utf8) => match decode_with(GB18030, TextEncoding::Gb18030, bytes, 0) {
            Ok(decoded) => Ok(decoded),
            Err(DecodeError::Invalid { offset, .. } | DecodeError::Truncated { offset, .. }) => {
                Err(DecodeError::Unrecognised { utf8_offset: utf8.valid_up_to(), gb18030_offset: offset })
            }
            Err(other) => Err(other),
        },
    }
}

/// Decodes `bytes` in the given encoding. A byte-order mark matching the
/// encoding is skipped (and required for [`TextEncoding::Utf8Bom`],
/// [`TextEncoding::Utf16Le`] and [`TextEncoding::Utf16Be`]: UTF-16 without
/// one is rejected as invalid at offset 0).
pub fn decode_text_as(bytes: &[u8], encoding: TextEncoding) -> Result<DecodedText, DecodeError> {
    let bom = encoding.bom();
    let Some(body) = bytes.strip_prefix(bom) else {
        return Err(DecodeError::Invalid { encoding, offset: 0 });
    };
    let start = bom.len();
    match encoding {
        TextEncoding::Utf8 | TextEncoding::Utf8Bom => match std::str::from_utf8(body) {
            Ok(text) => finish(encoding, start, text.to_owned()),
            Err(e) => {
                let offset = start + e.valid_up_to();
                Err(match e.error_len() {
                    None => DecodeError::Truncated { encoding, offset },
                    Some(_) => DecodeError::Invalid { encoding, offset },
                })
            }
        },
        TextEncoding::Utf16Le => decode_with(UTF_16LE, encoding, bytes, start),
        TextEncoding::Utf16Be => decode_with(UTF_16BE, encoding, bytes, start),
        TextEncoding::Gb18030 => decode_with(GB18030, encoding, bytes, start),
    }
}

/// Decodes `bytes[start..]` with `codec`, without replacement.
fn decode_with(
    codec: &'static Encoding,
    encoding: TextEncoding,
    bytes: &[u8],
    start: usize,
) -> Result<DecodedText, DecodeError> {
    let body = bytes.get(start..).unwrap_or_default();
    let mut decoder = codec.new_decoder_without_bom_handling();
    let capacity = decoder.max_utf8_buffer_length_without_replacement(body.len()).unwrap_or(body.len());
    let mut text = String::with_capacity(capacity);
    let mut read_total = 0;
    loop {
        let rest = body.get(read_total..).unwrap_or_default();
        let (result, read) = decoder.decode_to_string_without_replacement(rest, &mut text, true);
        read_total += read;
        match result {
            DecoderResult::InputEmpty => return finish(encoding, start, text),
            DecoderResult::OutputFull => text.reserve(rest.len().saturating_sub(read).max(16) * 3),
            DecoderResult::Malformed(bad, after) => {
                let offset = start + read_total - usize::from(bad) - usize::from(after);
                // The decoder reports an incomplete sequence at the end of the
                // input as malformed with everything consumed.
                let truncated = read_total == body.len() && after == 0 && offset + usize::from(bad) == bytes.len();
                return Err(if truncated {
                    DecodeError::Truncated { encoding, offset }
                } else {
                    DecodeError::Invalid { encoding, offset }
                });
            }
        }
    }
}

fn finish(encoding: TextEncoding, start: usize, text: String) -> Result<DecodedText, DecodeError> {
    if let Some(pos) = text.find('\0') {
        let offset = match encoding {
            // Byte offsets map one to one for UTF-8.
            TextEncoding::Utf8 | TextEncoding::Utf8Bom => start + pos,
            // Elsewhere count the characters before it in the source encoding.
            TextEncoding::Utf16Le | TextEncoding::Utf16Be => {
                start + text.get(..pos).unwrap_or_default().encode_utf16().count() * 2
            }
            TextEncoding::Gb18030 => start + GB18030.encode(text.get(..pos).unwrap_or_default()).0.len(),
        };
        return Err(DecodeError::Nul { offset });
    }
    Ok(DecodedText { encoding, text })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gbk(s: &str) -> Vec<u8> {
        let (bytes, _, unmappable) = GB18030.encode(s);
        assert!(!unmappable);
        bytes.into_owned()
    }

    fn utf16(s: &str, le: bool) -> Vec<u8> {
        let mut out = if le { vec![0xFF, 0xFE] } else { vec![0xFE, 0xFF] };
        for u in s.encode_utf16() {
            out.extend(if le { u.to_le_bytes() } else { u.to_be_bytes() });
        }
        out
    }

    #[test]
    fn detects_each_encoding() {
        let s = "资产名称,责任人\n官网,张伟\n";
        let d = decode_text(s.as_bytes()).unwrap();
        assert_eq!((d.encoding, d.text.as_str()), (TextEncoding::Utf8, s));
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend(s.as_bytes());
        let d = decode_text(&bom).unwrap();
        assert_eq!((d.encoding, d.text.as_str()), (TextEncoding::Utf8Bom, s));
        let d = decode_text(&utf16(s, true)).unwrap();
        assert_eq!((d.encoding, d.text.as_str()), (TextEncoding::Utf16Le, s));
        let d = decode_text(&utf16(s, false)).unwrap();
        assert_eq!((d.encoding, d.text.as_str()), (TextEncoding::Utf16Be, s));
        let d = decode_text(&gbk(s)).unwrap();
        assert_eq!((d.encoding, d.text.as_str()), (TextEncoding::Gb18030, s));
        // Characters outside GBK need GB18030's four-byte sequences.
        let d = decode_text(&gbk("€𠀀")).unwrap();
        assert_eq!(d.text, "€𠀀");
        assert_eq!(decode_text(b"").unwrap().encoding, TextEncoding::Utf8);
    }

    #[test]
    fn invalid_sequences_name_the_offset() {
        // UTF-8 BOM then a lone continuation byte at offset 5.
        assert_eq!(
            decode_text(b"\xEF\xBB\xBFab\x80cd"),
            Err(DecodeError::Invalid { encoding: TextEncoding::Utf8Bom, offset: 5 })
        );
        assert_eq!(
            decode_text(b"\xEF\xBB\xBFab\xE8\xB5"),
            Err(DecodeError::Truncated { encoding: TextEncoding::Utf8Bom, offset: 5 })
        );
        // UTF-16LE: an unpaired low surrogate at offset 4.
        assert_eq!(
            decode_text(b"\xFF\xFEa\x00\x00\xDCb\x00"),
            Err(DecodeError::Invalid { encoding: TextEncoding::Utf16Le, offset: 4 })
        );
        // Odd byte count: ends inside a code unit.
        assert_eq!(
            decode_text(b"\xFF\xFEa\x00b"),
            Err(DecodeError::Truncated { encoding: TextEncoding::Utf16Le, offset: 4 })
        );
        // Neither UTF-8 nor GB18030: 0xFF is never valid in either.
        assert_eq!(decode_text(b"ab\xC0\xFFcd"), Err(DecodeError::Unrecognised { utf8_offset: 2, gb18030_offset: 2 }));
        let mut g = gbk("名称");
        g.push(0xFF);
        assert_eq!(decode_text(&g), Err(DecodeError::Unrecognised { utf8_offset: 0, gb18030_offset: 4 }));
        assert_eq!(
            decode_text_as(&gbk("名称"), TextEncoding::Utf8),
            Err(DecodeError::Invalid { encoding: TextEncoding::Utf8, offset: 0 })
        );
        assert_eq!(
            decode_text_as(b"\x81", TextEncoding::Gb18030),
            Err(DecodeError::Truncated { encoding: TextEncoding::Gb18030, offset: 0 })
        );
    }

    #[test]
    fn nul_bytes_are_rejected() {
        // UTF-16LE without a BOM is valid UTF-8 full of NULs.
        assert_eq!(decode_text(b"a\x00b\x00"), Err(DecodeError::Nul { offset: 1 }));
        assert_eq!(decode_text(&utf16("ab\0", true)), Err(DecodeError::Nul { offset: 6 }));
        let mut g = gbk("名称");
        g.push(0);
        assert_eq!(decode_text(&g), Err(DecodeError::Nul { offset: 4 }));
    }

    #[test]
    fn forced_encodings_need_their_bom() {
        assert_eq!(
            decode_text_as(b"ab", TextEncoding::Utf16Le),
            Err(DecodeError::Invalid { encoding: TextEncoding::Utf16Le, offset: 0 })
        );
        assert_eq!(decode_text_as(&gbk("张伟"), TextEncoding::Gb18030).unwrap().text, "张伟");
    }
}
