//! TLS ClientHello (from TLS records, or a bare handshake message for
//! QUIC): SNI, ALPN, JA3 and JA4.
//!
//! [`ClientHello`] borrows every field from the handshake message; the
//! fingerprints are hashed as they are written (no intermediate strings),
//! and the only allocations are the output strings, plus one copy of the
//! message when it is spread over several records.
//!
//! Fingerprints:
//! - JA3 (Salesforce): `version,ciphers,extensions,groups,point_formats`,
//!   decimal, `-`-separated, GREASE (RFC 8701) values dropped from the
//!   first four; MD5 in lower-case hex. Agrees with Wireshark's
//!   `tls.handshake.ja3`.
//! - JA4 (FoxIO, `technical_details/JA4.md`): see [`ClientHello::ja4`].
//!
//! Decisions:
//! - Records must be handshake records (type 22) of version 3.0 to 3.4 with
//!   bodies of at most 2^14 + 2048 bytes; the first handshake message must
//!   be a ClientHello of at most [`MAX_HELLO`] bytes, and it is read as
//!   soon as it is whole, even if its last record is not. Anything else
//!   first is `NotTls`, as are SSLv2-framed hellos (Wireshark computes no
//!   JA3 for those either).
//! - The legacy session id may be any length (RFC 8446 says at most 32); a
//!   hello without an extensions block is valid (SSL 3.0, early TLS); a
//!   malformed extension block makes the hello `NotTls`, but a malformed
//!   SNI or ALPN list inside a well-framed extension only yields no
//!   name/protocols (the extension still counts for the fingerprints).
//! - SNI and ALPN strings are converted lossily from UTF-8; at most
//!   [`MAX_ALPN`] protocols are reported (all count for JA4's first one).

use std::fmt;

use md5::Md5;
use sha2::{Digest, Sha256};

use crate::event::TlsHello;

#[derive(Debug, Clone, PartialEq)]
pub enum HelloStatus {
    Complete(TlsHello),
    /// A ClientHello has started; give more bytes.
    Partial,
    NotTls,
}

/// Largest ClientHello handshake message we wait for (header included).
/// Real ones are under 2 KiB, a few with post-quantum key shares or padding
/// reach 8 KiB.
pub const MAX_HELLO: usize = 64 * 1024;

/// Protocols reported from the ALPN extension.
pub const MAX_ALPN: usize = 32;

/// Largest TLS record body (2^14 plaintext, plus the 2048 RFC 5246 allows
/// for compression and protection).
const MAX_RECORD: usize = (1 << 14) + 2048;

const RECORD_HEADER_LEN: usize = 5;
const CONTENT_TYPE_HANDSHAKE: u8 = 22;
const HANDSHAKE_CLIENT_HELLO: u8 = 1;

const EXT_SERVER_NAME: u16 = 0x0000;
const EXT_SUPPORTED_GROUPS: u16 = 0x000a;
const EXT_EC_POINT_FORMATS: u16 = 0x000b;
const EXT_SIGNATURE_ALGORITHMS: u16 = 0x000d;
const EXT_ALPN: u16 = 0x0010;
const EXT_SUPPORTED_VERSIONS: u16 = 0x002b;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("TLS ClientHello: {what} at byte {offset}")]
pub struct TlsError {
    /// From the start of the handshake message (its type byte).
    pub offset: usize,
    pub what: &'static str,
}

/// Reads a ClientHello from the start of a client's TCP stream (TLS records,
/// possibly several).
pub fn parse_client_hello_records(bytes: &[u8]) -> HelloStatus {
    match gather_records(bytes) {
        Gathered::Contiguous(message) => complete(message, false),
        Gathered::Fragmented(message) => complete(&message, false),
        Gathered::Partial => HelloStatus::Partial,
        Gathered::NotTls => HelloStatus::NotTls,
    }
}

/// Reads a ClientHello from a bare handshake message (QUIC CRYPTO data).
/// `quic` selects JA4's `q` prefix.
pub fn parse_client_hello_handshake(bytes: &[u8], quic: bool) -> HelloStatus {
    match handshake_length(bytes) {
        Needed::Bytes(len) if bytes.len() >= len => complete(bytes.get(..len).unwrap_or_default(), quic),
        Needed::Bytes(_) | Needed::Header => HelloStatus::Partial,
        Needed::Never => HelloStatus::NotTls,
    }
}

fn complete(message: &[u8], quic: bool) -> HelloStatus {
    match ClientHello::parse(message) {
        Ok(hello) => HelloStatus::Complete(hello.to_event(quic)),
        Err(_) => HelloStatus::NotTls,
    }
}

enum Needed {
    /// The whole message is this long (header included).
    Bytes(usize),
    /// Too short to know yet.
    Header,
    /// Not a ClientHello, or longer than [`MAX_HELLO`].
    Never,
}

/// How long the handshake message starting `prefix` is.
fn handshake_length(prefix: &[u8]) -> Needed {
    match prefix {
        [] => Needed::Header,
        [msg_type, ..] if *msg_type != HANDSHAKE_CLIENT_HELLO => Needed::Never,
        [_, a, b, c, ..] => {
            let len = 4 + (usize::from(*a) << 16 | usize::from(*b) << 8 | usize::from(*c));
            if len > MAX_HELLO { Needed::Never } else { Needed::Bytes(len) }
        }
        _ => Needed::Header,
    }
}

enum Gathered<'a> {
    /// The message lies inside the first record's body.
    Contiguous(&'a [u8]),
    /// The message spans records; its fragments joined.
    Fragmented(Vec<u8>),
    Partial,
    NotTls,
}

/// Walks handshake records from the start of `bytes` until the first
/// handshake message is whole.
fn gather_records(bytes: &[u8]) -> Gathered<'_> {
    // Pass 1: find how many records the message needs, reading its header
    // across record boundaries if need be.
    let mut header = [0u8; 4];
    let mut header_len = 0usize;
    let mut have = 0usize;
    let mut needed: Option<usize> = None;
    let mut pos = 0usize;
    let mut first_body: &[u8] = &[];
    loop {
        let Some(record_header) = bytes.get(pos..pos + RECORD_HEADER_LEN) else {
            let tail = bytes.get(pos..).unwrap_or_default();
            return if record_header_prefix_ok(tail) { Gathered::Partial } else { Gathered::NotTls };
        };
        if !record_header_prefix_ok(record_header) {
            return Gathered::NotTls;
        }
        let body_len = usize::from(be16(record_header.get(3..).unwrap_or_default()));
        if body_len > MAX_RECORD {
            return Gathered::NotTls;
        }
        let body_start = pos + RECORD_HEADER_LEN;
        // A record cut short still tells us the message type and length.
        let body =
            bytes.get(body_start..body_start + body_len).unwrap_or_else(|| bytes.get(body_start..).unwrap_or_default());
        if pos == 0 {
            first_body = body;
        }
        for &byte in body.iter().take(4 - header_len) {
            if let Some(slot) = header.get_mut(header_len) {
                *slot = byte;
                header_len += 1;
            }
        }
        match handshake_length(header.get(..header_len).unwrap_or_default()) {
            Needed::Never => return Gathered::NotTls,
            Needed::Bytes(len) => needed = Some(len),
            Needed::Header => {}
        }
        have += body.len();
        pos = body_start + body.len();
        // The message may be whole before its last record is.
        if let Some(len) = needed
            && have >= len
        {
            if let Some(message) = first_body.get(..len) {
                return Gathered::Contiguous(message);
            }
            break;
        }
        if body.len() < body_len {
            return Gathered::Partial;
        }
    }

    // Pass 2: join the fragments (`pos` is the end of the last one needed).
    let Some(len) = needed else {
        return Gathered::NotTls;
    };
    let mut message = Vec::with_capacity(len);
    let mut at = 0usize;
    while at < pos && message.len() < len {
        let body_len = bytes.get(at + 3..at + 5).map_or(0, |l| usize::from(be16(l)));
        let body_end = (at + RECORD_HEADER_LEN + body_len).min(pos);
        let body = bytes.get(at + RECORD_HEADER_LEN..body_end).unwrap_or_default();
        let take = body.len().min(len - message.len());
        message.extend_from_slice(body.get(..take).unwrap_or_default());
        at += RECORD_HEADER_LEN + body_len;
    }
    Gathered::Fragmented(message)
}

/// Could these bytes begin a handshake record header (type 22, version
/// 3.0 to 3.4)?
fn record_header_prefix_ok(prefix: &[u8]) -> bool {
    let type_ok = prefix.first().is_none_or(|&t| t == CONTENT_TYPE_HANDSHAKE);
    let major_ok = prefix.get(1).is_none_or(|&major| major == 3);
    let minor_ok = prefix.get(2).is_none_or(|&minor| minor <= 4);
    type_ok && major_ok && minor_ok
}

/// A ClientHello's fields, borrowed from the handshake message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientHello<'a> {
    /// `legacy_version` (0x0303 for TLS 1.2 and 1.3).
    pub legacy_version: u16,
    /// Cipher suites, two bytes each, as sent.
    cipher_suites: &'a [u8],
    /// The extensions block (type, length, data …), validated.
    extensions: Option<&'a [u8]>,
}

impl<'a> ClientHello<'a> {
    /// Parses a whole ClientHello handshake message (type byte, 24-bit
    /// length, body). Bytes after the message are ignored.
    pub fn parse(message: &'a [u8]) -> Result<Self, TlsError> {
        let len = match handshake_length(message) {
            Needed::Bytes(len) => len,
            Needed::Header => return Err(TlsError { offset: message.len(), what: "handshake header truncated" }),
            Needed::Never => return Err(TlsError { offset: 0, what: "not a ClientHello (or over the size limit)" }),
        };
        let body = message.get(4..len).ok_or(TlsError { offset: message.len(), what: "message truncated" })?;
        let mut reader = Reader { bytes: body, pos: 0, base: 4 };
        let legacy_version = reader.u16("version truncated")?;
        reader.take(32, "random truncated")?;
        let session_id_len = reader.u8("session id truncated")?;
        reader.take(usize::from(session_id_len), "session id truncated")?;
        let cipher_len = usize::from(reader.u16("cipher suites truncated")?);
        if cipher_len % 2 != 0 {
            return Err(TlsError { offset: reader.offset(), what: "odd cipher suites length" });
        }
        let cipher_suites = reader.take(cipher_len, "cipher suites truncated")?;
        let compression_len = reader.u8("compression methods truncated")?;
        reader.take(usize::from(compression_len), "compression methods truncated")?;
        let extensions = if reader.remaining() == 0 {
            None
        } else {
            let extensions_len = usize::from(reader.u16("extensions length truncated")?);
            let block_offset = reader.offset();
            let block = reader.take(extensions_len, "extensions run past the message")?;
            validate_extensions(block, block_offset)?;
            Some(block)
        };
        Ok(ClientHello { legacy_version, cipher_suites, extensions })
    }

    pub fn cipher_suites(&self) -> impl Iterator<Item = u16> + 'a {
        self.cipher_suites.chunks_exact(2).map(be16)
    }

    /// (type, data) of each extension, in order, GREASE included.
    pub fn extensions(&self) -> impl Iterator<Item = (u16, &'a [u8])> + 'a {
        ExtensionIter { rest: self.extensions.unwrap_or_default() }
    }

    /// Data of the first extension of this type.
    pub fn extension(&self, extension_type: u16) -> Option<&'a [u8]> {
        self.extensions().find(|(t, _)| *t == extension_type).map(|(_, data)| data)
    }

    /// The first host_name of the server_name extension, as sent.
    pub fn server_name(&self) -> Option<&'a [u8]> {
        let data = self.extension(EXT_SERVER_NAME)?;
        let list = length_prefixed_u16(data)?;
        let mut rest = list;
        while let Some((&name_type, tail)) = rest.split_first() {
            let name = length_prefixed_u16(tail)?;
            if name_type == 0 {
                return Some(name);
            }
            rest = tail.get(2 + name.len()..)?;
        }
        None
    }

    /// ALPN protocol names in order (empty without the extension); stops at
    /// the first malformed entry.
    pub fn alpn_protocols(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        let list = self.extension(EXT_ALPN).and_then(length_prefixed_u16).unwrap_or_default();
        AlpnIter { rest: list }
    }

    /// supported_groups (formerly elliptic_curves), as sent.
    pub fn supported_groups(&self) -> impl Iterator<Item = u16> + 'a {
        u16_list(self.extension(EXT_SUPPORTED_GROUPS).and_then(length_prefixed_u16))
    }

    pub fn ec_point_formats(&self) -> impl Iterator<Item = u8> + 'a {
        self.extension(EXT_EC_POINT_FORMATS).and_then(length_prefixed_u8).unwrap_or_default().iter().copied()
    }

    pub fn signature_algorithms(&self) -> impl Iterator<Item = u16> + 'a {
        u16_list(self.extension(EXT_SIGNATURE_ALGORITHMS).and_then(length_prefixed_u16))
    }

    /// supported_versions, as sent; `None` without the extension.
    pub fn supported_versions(&self) -> Option<impl Iterator<Item = u16> + 'a> {
        self.extension(EXT_SUPPORTED_VERSIONS).map(|data| u16_list(length_prefixed_u8(data)))
    }

    /// The JA3 string: `771,4865-4866,0-23-65281,29-23,0`.
    pub fn ja3_string(&self) -> String {
        let mut text = String::with_capacity(256);
        let _ = self.write_ja3(&mut text);
        text
    }

    /// JA3: MD5 of [`ja3_string`](Self::ja3_string), lower-case hex.
    pub fn ja3(&self) -> String {
        let mut digest = DigestWriter(Md5::new());
        let _ = self.write_ja3(&mut digest);
        hex(&digest.0.finalize())
    }

    fn write_ja3(&self, out: &mut impl fmt::Write) -> fmt::Result {
        write!(out, "{},", self.legacy_version)?;
        write_decimal_list(out, self.cipher_suites().filter(|&v| !is_grease(v)))?;
        out.write_char(',')?;
        write_decimal_list(out, self.extensions().map(|(t, _)| t).filter(|&v| !is_grease(v)))?;
        out.write_char(',')?;
        write_decimal_list(out, self.supported_groups().filter(|&v| !is_grease(v)))?;
        out.write_char(',')?;
        write_decimal_list(out, self.ec_point_formats().map(u16::from))
    }

    /// JA4 (FoxIO): `t13d1516h2_8daaf6152771_e5627efa2ab1`.
    ///
    /// a: `q` for QUIC else `t`; the version (highest non-GREASE
    /// supported_versions entry, else legacy_version: `13`, `12`, `11`,
    /// `10`, `s3`, `s2`, DTLS `d1`/`d2`/`d3`, anything else `00`); `d` with
    /// a server_name extension else `i`; cipher and extension counts
    /// without GREASE, two digits, at most 99; the first and last character
    /// of the first ALPN protocol (`00` without one; the first and last hex
    /// digit of the protocol's bytes when either end is not alphanumeric).
    /// b: SHA-256 of the sorted ciphers (4 hex digits each, comma-separated),
    /// first 12 hex digits. c: the same of the sorted extensions without
    /// SNI and ALPN, then `_` and the signature algorithms in wire order
    /// when there are any. An empty list hashes to `000000000000`.
    pub fn ja4(&self, quic: bool) -> String {
        let mut text = String::with_capacity(36);
        let _ = self.write_ja4_a(&mut text, quic);
        text.push('_');
        let mut buffer = SortBuffer::new();
        let ciphers = buffer.sorted(self.cipher_suites().filter(|&v| !is_grease(v)));
        if ciphers.is_empty() {
            text.push_str(EMPTY_HASH);
        } else {
            let mut digest = DigestWriter(Sha256::new());
            let _ = write_hex_list(&mut digest, ciphers.iter().copied());
            push_truncated_hash(&mut text, &digest.0.finalize());
        }
        text.push('_');
        let extensions = buffer.sorted(self.ja4_extensions());
        if extensions.is_empty() {
            text.push_str(EMPTY_HASH);
        } else {
            let mut digest = DigestWriter(Sha256::new());
            let _ = write_hex_list(&mut digest, extensions.iter().copied());
            let _ = self.write_ja4_signature_part(&mut digest);
            push_truncated_hash(&mut text, &digest.0.finalize());
        }
        text
    }

    /// JA4_r, the unhashed form: `t13d1516h2_002f,0035,…_0005,000a,…_0403,0804,…`.
    pub fn ja4_raw(&self, quic: bool) -> String {
        let mut text = String::with_capacity(512);
        let _ = self.write_ja4_a(&mut text, quic);
        text.push('_');
        let mut buffer = SortBuffer::new();
        let _ =
            write_hex_list(&mut text, buffer.sorted(self.cipher_suites().filter(|&v| !is_grease(v))).iter().copied());
        text.push('_');
        let _ = write_hex_list(&mut text, buffer.sorted(self.ja4_extensions()).iter().copied());
        let _ = self.write_ja4_signature_part(&mut text);
        text
    }

    fn ja4_extensions(&self) -> impl Iterator<Item = u16> + 'a {
        self.extensions().map(|(t, _)| t).filter(|&t| !is_grease(t) && t != EXT_SERVER_NAME && t != EXT_ALPN)
    }

    /// `_` and the signature algorithms, or nothing when there are none.
    fn write_ja4_signature_part(&self, out: &mut impl fmt::Write) -> fmt::Result {
        let mut algorithms = self.signature_algorithms().filter(|&v| !is_grease(v)).peekable();
        if algorithms.peek().is_some() {
            out.write_char('_')?;
            write_hex_list(out, algorithms)?;
        }
        Ok(())
    }

    fn write_ja4_a(&self, out: &mut impl fmt::Write, quic: bool) -> fmt::Result {
        out.write_char(if quic { 'q' } else { 't' })?;
        let version = self
            .supported_versions()
            .and_then(|versions| versions.filter(|&v| !is_grease(v)).max())
            .unwrap_or(self.legacy_version);
        out.write_str(ja4_version(version))?;
        out.write_char(if self.extension(EXT_SERVER_NAME).is_some() { 'd' } else { 'i' })?;
        let ciphers = self.cipher_suites().filter(|&v| !is_grease(v)).count().min(99);
        let extensions = self.extensions().filter(|(t, _)| !is_grease(*t)).count().min(99);
        write!(out, "{ciphers:02}{extensions:02}")?;
        let (first, last) = ja4_alpn_chars(self.alpn_protocols().next().unwrap_or_default());
        out.write_char(first)?;
        out.write_char(last)
    }

    /// SNI, ALPN (bounded), JA3 and JA4: what an event carries.
    pub fn to_event(&self, quic: bool) -> TlsHello {
        TlsHello {
            sni: self.server_name().map(|name| String::from_utf8_lossy(name).into_owned()),
            alpn: self.alpn_protocols().take(MAX_ALPN).map(|p| String::from_utf8_lossy(p).into_owned()).collect(),
            ja3: Some(self.ja3()),
            ja4: Some(self.ja4(quic)),
        }
    }
}

const EMPTY_HASH: &str = "000000000000";

fn ja4_version(version: u16) -> &'static str {
    match version {
        0x0304 => "13",
        0x0303 => "12",
        0x0302 => "11",
        0x0301 => "10",
        0x0300 => "s3",
        0x0002 => "s2",
        0xfeff => "d1",
        0xfefd => "d2",
        0xfefc => "d3",
        _ => "00",
    }
}

fn ja4_alpn_chars(protocol: &[u8]) -> (char, char) {
    let (Some(&first), Some(&last)) = (protocol.first(), protocol.last()) else {
        return ('0', '0');
    };
    if first.is_ascii_alphanumeric() && last.is_ascii_alphanumeric() {
        (char::from(first), char::from(last))
    } else {
        (hex_digit(first >> 4), hex_digit(last & 0x0f))
    }
}

/// GREASE (RFC 8701): 0x0a0a, 0x1a1a, … 0xfafa.
pub fn is_grease(value: u16) -> bool {
    value & 0x0f0f == 0x0a0a && value >> 8 == value & 0xff
}

/// Checks every extension's length fits the block, so iterating later
/// cannot fail.
fn validate_extensions(block: &[u8], base: usize) -> Result<(), TlsError> {
    let mut pos = 0usize;
    while pos < block.len() {
        let header =
            block.get(pos..pos + 4).ok_or(TlsError { offset: base + pos, what: "extension header truncated" })?;
        let len = usize::from(be16(header.get(2..).unwrap_or_default()));
        if pos + 4 + len > block.len() {
            return Err(TlsError { offset: base + pos, what: "extension runs past the block" });
        }
        pos += 4 + len;
    }
    Ok(())
}

struct ExtensionIter<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for ExtensionIter<'a> {
    type Item = (u16, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let header = self.rest.get(..4)?;
        let extension_type = be16(header);
        let len = usize::from(be16(header.get(2..)?));
        let data = self.rest.get(4..4 + len)?;
        self.rest = self.rest.get(4 + len..).unwrap_or_default();
        Some((extension_type, data))
    }
}

struct AlpnIter<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for AlpnIter<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<Self::Item> {
        let protocol = length_prefixed_u8(self.rest)?;
        self.rest = self.rest.get(1 + protocol.len()..).unwrap_or_default();
        Some(protocol)
    }
}

/// The bytes after a one-byte length, if they are all there.
fn length_prefixed_u8(data: &[u8]) -> Option<&[u8]> {
    let (&len, rest) = data.split_first()?;
    rest.get(..usize::from(len))
}

/// The bytes after a two-byte length, if they are all there.
fn length_prefixed_u16(data: &[u8]) -> Option<&[u8]> {
    let len = usize::from(be16(data.get(..2)?));
    data.get(2..2 + len)
}

fn u16_list(list: Option<&[u8]>) -> impl Iterator<Item = u16> + '_ {
    list.unwrap_or_default().chunks_exact(2).map(be16)
}

/// A cursor over the ClientHello body; `base` turns its positions into
/// offsets from the start of the handshake message.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    base: usize,
}

impl<'a> Reader<'a> {
    fn offset(&self) -> usize {
        self.base + self.pos
    }

    fn remaining(&self) -> usize {
        self.bytes.len().saturating_sub(self.pos)
    }

    fn take(&mut self, len: usize, what: &'static str) -> Result<&'a [u8], TlsError> {
        let taken = self.bytes.get(self.pos..self.pos + len).ok_or(TlsError { offset: self.offset(), what })?;
        self.pos += len;
        Ok(taken)
    }

    fn u8(&mut self, what: &'static str) -> Result<u8, TlsError> {
        Ok(self.take(1, what)?.first().copied().unwrap_or(0))
    }

    fn u16(&mut self, what: &'static str) -> Result<u16, TlsError> {
        match *self.take(2, what)? {
            [high, low] => Ok(u16::from_be_bytes([high, low])),
            _ => Err(TlsError { offset: self.offset(), what }),
        }
    }
}

/// Sorts a list of u16 on the stack when it is small (it always is, unless
/// the hello is hostile).
struct SortBuffer {
    stack: [u16; 128],
    heap: Vec<u16>,
}

impl SortBuffer {
    fn new() -> Self {
        SortBuffer { stack: [0; 128], heap: Vec::new() }
    }

    fn sorted(&mut self, values: impl Iterator<Item = u16>) -> &[u16] {
        let mut len = 0usize;
        let mut spilled = false;
        self.heap.clear();
        for value in values {
            if let Some(slot) = self.stack.get_mut(len).filter(|_| !spilled) {
                *slot = value;
                len += 1;
            } else {
                if !spilled {
                    self.heap.extend_from_slice(self.stack.get(..len).unwrap_or_default());
                    spilled = true;
                }
                self.heap.push(value);
            }
        }
        let list = if spilled { self.heap.as_mut_slice() } else { self.stack.get_mut(..len).unwrap_or_default() };
        list.sort_unstable();
        list
    }
}

/// Feeds formatted text straight into a hash.
struct DigestWriter<D>(D);

impl<D: Digest> fmt::Write for DigestWriter<D> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.update(s.as_bytes());
        Ok(())
    }
}

fn write_decimal_list(out: &mut impl fmt::Write, values: impl Iterator<Item = u16>) -> fmt::Result {
    for (index, value) in values.enumerate() {
        if index > 0 {
            out.write_char('-')?;
        }
        write!(out, "{value}")?;
    }
    Ok(())
}

fn write_hex_list(out: &mut impl fmt::Write, values: impl Iterator<Item = u16>) -> fmt::Result {
    for (index, value) in values.enumerate() {
        if index > 0 {
            out.write_char(',')?;
        }
        write!(out, "{value:04x}")?;
    }
    Ok(())
}

/// Big-endian u16 from the first two bytes (0 when there are fewer).
fn be16(bytes: &[u8]) -> u16 {
    match bytes {
        [high, low, ..] => u16::from_be_bytes([*high, *low]),
        _ => 0,
    }
}

fn hex_digit(nibble: u8) -> char {
    char::from_digit(u32::from(nibble & 0x0f), 16).unwrap_or('0')
}

/// The first 12 hex digits (6 bytes) of a hash.
fn push_truncated_hash(text: &mut String, hash: &[u8]) {
    for &byte in hash.iter().take(6) {
        text.push(hex_digit(byte >> 4));
        text.push(hex_digit(byte));
    }
}

fn hex(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len() * 2);
    for &byte in bytes {
        text.push(hex_digit(byte >> 4));
        text.push(hex_digit(byte));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sha12(text: &str) -> String {
        hex(&Sha256::digest(text.as_bytes()))[..12].to_string()
    }

    /// The worked examples of FoxIO's JA4.md.
    #[test]
    fn ja4_spec_examples_hash_as_published() {
        assert_eq!(sha12("002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9"), "8daaf6152771");
        assert_eq!(
            sha12(
                "0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_0403,0804,0401,0503,0805,0501,0806,0601"
            ),
            "e5627efa2ab1"
        );
        assert_eq!(sha12("0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01"), "6d807ffa2a79");
    }

    #[test]
    fn ja4_alpn_rule_matches_the_spec_examples() {
        assert_eq!(ja4_alpn_chars(b"h2"), ('h', '2'));
        assert_eq!(ja4_alpn_chars(b"http/1.1"), ('h', '1'));
        assert_eq!(ja4_alpn_chars(b"x"), ('x', 'x'));
        assert_eq!(ja4_alpn_chars(b""), ('0', '0'));
        assert_eq!(ja4_alpn_chars(&[0xab]), ('a', 'b'));
        assert_eq!(ja4_alpn_chars(&[0xab, 0xcd]), ('a', 'd'));
        assert_eq!(ja4_alpn_chars(&[0x30, 0xab]), ('3', 'b'));
        assert_eq!(ja4_alpn_chars(&[0x30, 0x31, 0xab, 0xcd]), ('3', 'd'));
        assert_eq!(ja4_alpn_chars(&[0x30, 0xab, 0xcd, 0x31]), ('0', '1'));
    }

    #[test]
    fn grease_values() {
        let grease: Vec<u16> = (0..=u16::MAX).filter(|&v| is_grease(v)).collect();
        assert_eq!(grease.len(), 16);
        assert_eq!(grease[0], 0x0a0a);
        assert_eq!(grease[15], 0xfafa);
        assert!(!is_grease(0x0a1a));
    }

    #[test]
    fn sort_buffer_spills_to_the_heap() {
        let mut buffer = SortBuffer::new();
        let values: Vec<u16> = (0..300u16).rev().collect();
        let sorted = buffer.sorted(values.iter().copied());
        assert_eq!(sorted.len(), 300);
        assert!(sorted.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(buffer.sorted([3u16, 1, 2].into_iter()), &[1, 2, 3]);
    }
}
