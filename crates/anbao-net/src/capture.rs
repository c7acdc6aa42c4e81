//! pcap and pcapng files, recognised by their magic (not their name): both
//! byte orders, microsecond, nanosecond and "modified" (Kuznetzov) pcap;
//! pcapng sections of either byte order with several interfaces, each with
//! its own link type, `if_tsresol` and `if_tsoffset`; Enhanced, Simple and
//! obsolete Packet Blocks. Other blocks are skipped.
//!
//! The file is read as a stream through `pcap-parser`'s readers, with a
//! buffer that starts at [`INITIAL_BUFFER`] and grows only for a block that
//! needs it, up to [`MAX_BLOCK`]: memory does not grow with the file.
//!
//! Damage is reported, not fatal:
//! - a file that ends inside a record or block: a problem at the offset
//!   where that record starts; every frame before it was delivered;
//! - a pcapng block whose content is inconsistent (its own length says it
//!   is whole, but its fields do not fit), or one over [`MAX_BLOCK`]: a
//!   problem, and reading resumes after it (pcapng blocks carry their
//!   length);
//! - a pcap record over [`MAX_BLOCK`]: a problem and the end of reading
//!   (pcap has nothing to resynchronise on);
//! - packets for an interface no IDB declared: a problem each, skipped.
//!
//! Only input that is not a capture at all, or a failing reader, is an
//! error.

use std::fmt::Write as _;
use std::io::{self, Read};

use pcap_parser::pcapng::{Block, OptionCode};
use pcap_parser::traits::{PcapNGPacketBlock, PcapReaderIterator};
use pcap_parser::{LegacyPcapReader, PcapBlockOwned, PcapError, PcapNGReader};

use crate::event::Timestamp;

/// A link-layer type number (the pcap LINKTYPE_ registry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LinkType(pub u32);

impl LinkType {
    pub const NULL: LinkType = LinkType(0);
    pub const ETHERNET: LinkType = LinkType(1);
    pub const RAW: LinkType = LinkType(101);
    pub const LOOP: LinkType = LinkType(108);
    pub const LINUX_SLL: LinkType = LinkType(113);
    pub const IPV4: LinkType = LinkType(228);
    pub const IPV6: LinkType = LinkType(229);
    pub const LINUX_SLL2: LinkType = LinkType(276);
}

/// One captured frame, borrowed from the reader's buffer.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    pub ts: Timestamp,
    pub link_type: LinkType,
    /// The captured bytes (may be shorter than `original_len`: snaplen).
    pub data: &'a [u8],
    pub original_len: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptureFormat {
    Pcap,
    PcapNg,
}

/// Something in the file that could not be read; reading went on where it
/// could (or stopped, for a truncated end).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureProblem {
    /// Byte offset in the file where the bad block or record starts.
    pub offset: u64,
    pub what: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureSummary {
    pub format: CaptureFormat,
    /// Frames handed to `on_frame`.
    pub frames: u64,
    /// Captured bytes of those frames.
    pub bytes: u64,
    /// At most the first [`MAX_PROBLEMS`] problems; `problem_count` counts all.
    pub problems: Vec<CaptureProblem>,
    pub problem_count: u64,
}

pub const MAX_PROBLEMS: usize = 20;

/// The read buffer's starting size; it grows to fit a larger block (the
/// largest snaplen tools write is 256 KiB).
pub const INITIAL_BUFFER: usize = 64 * 1024;

/// The largest block or record read whole; larger pcapng blocks are
/// skipped, a larger pcap record ends the reading.
pub const MAX_BLOCK: usize = 16 * 1024 * 1024;

/// Interfaces (IDBs) kept per pcapng section.
pub const MAX_INTERFACES: usize = 4_096;

#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("not a pcap or pcapng file (first bytes {0})")]
    NotACapture(String),
    #[error("reading the capture at byte {offset}: {source}")]
    Io { offset: u64, source: std::io::Error },
}

/// The caller's reader, filling pcap-parser's buffer as far as it can (its
/// readers parse a file header from one read), remembering the real I/O
/// error (pcap-parser keeps only "read error"), and replaying the magic
/// bytes read to recognise the format.
struct Source<R> {
    inner: R,
    magic: [u8; 4],
    magic_len: usize,
    magic_pos: usize,
    bytes_read: u64,
    error: Option<io::Error>,
}

impl<R: Read> Source<R> {
    fn read_inner(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.inner.read(buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => return other,
            }
        }
    }

    /// Reads up to four bytes without losing them.
    fn peek_magic(&mut self) -> io::Result<&[u8]> {
        while self.magic_len < self.magic.len() {
            let mut one = [0u8; 4];
            let want = self.magic.len() - self.magic_len;
            let n = self.read_inner(one.get_mut(..want).unwrap_or_default())?;
            if n == 0 {
                break;
            }
            for (slot, b) in self.magic.iter_mut().skip(self.magic_len).zip(one.iter().take(n)) {
                *slot = *b;
            }
            self.magic_len += n;
        }
        Ok(self.magic.get(..self.magic_len).unwrap_or_default())
    }

    /// The magic and up to 12 more bytes, to show what the input was.
    fn first_bytes(&mut self) -> Vec<u8> {
        let mut shown = self.magic.get(..self.magic_len).unwrap_or_default().to_vec();
        let mut more = [0u8; 12];
        let mut filled = 0;
        while filled < more.len() {
            match more.get_mut(filled..).map(|space| self.read_inner(space)) {
                Some(Ok(n)) if n > 0 => filled += n,
                _ => break,
            }
        }
        shown.extend_from_slice(more.get(..filled).unwrap_or_default());
        shown
    }
}

impl<R: Read> Read for Source<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.error.is_some() {
            return Err(io::Error::other("earlier read failed"));
        }
        let mut filled = 0;
        while self.magic_pos < self.magic_len && filled < buf.len() {
            if let (Some(slot), Some(b)) = (buf.get_mut(filled), self.magic.get(self.magic_pos)) {
                *slot = *b;
            }
            filled += 1;
            self.magic_pos += 1;
        }
        while filled < buf.len() {
            let Some(space) = buf.get_mut(filled..) else { break };
            match self.read_inner(space) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) => {
                    self.error = Some(e);
                    if filled == 0 {
                        return Err(io::Error::other("read failed"));
                    }
                    break;
                }
            }
        }
        self.bytes_read += filled as u64;
        Ok(filled)
    }
}

fn hex_prefix(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "none: the input is empty".to_string();
    }
    let mut s = String::new();
    for b in bytes.iter().take(16) {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Reads every frame of a pcap or pcapng stream and hands it to `on_frame`.
/// Corrupt records are reported in the summary and skipped where the format
/// allows resynchronising; a truncated end stops reading with a problem, not
/// an error.
pub fn read_capture<R: Read>(reader: R, on_frame: impl FnMut(Frame<'_>)) -> Result<CaptureSummary, CaptureError> {
    let mut source = Source { inner: reader, magic: [0; 4], magic_len: 0, magic_pos: 0, bytes_read: 0, error: None };
    let magic = source.peek_magic().map_err(|source| CaptureError::Io { offset: 0, source })?;
    let magic: [u8; 4] = match magic.try_into() {
        Ok(m) => m,
        Err(_) => return Err(CaptureError::NotACapture(hex_prefix(magic))),
    };
    let format = match u32::from_le_bytes(magic) {
        0x0A0D_0D0A => CaptureFormat::PcapNg,
        0xA1B2_C3D4 | 0xD4C3_B2A1 | 0xA1B2_3C4D | 0x4D3C_B2A1 | 0xA1B2_CD34 => CaptureFormat::Pcap,
        _ => return Err(CaptureError::NotACapture(hex_prefix(&source.first_bytes()))),
    };
    let mut walker = Walker::new(format, on_frame);
    let outcome = match format {
        CaptureFormat::Pcap => match LegacyPcapReader::new(INITIAL_BUFFER, &mut source) {
            Ok(reader) => walker.run(reader),
            Err(e) => walker.header_failed(e),
        },
        CaptureFormat::PcapNg => match PcapNGReader::new(INITIAL_BUFFER, &mut source) {
            Ok(reader) => walker.run(reader),
            Err(e) => walker.header_failed(e),
        },
    };
    match outcome {
        Ok(()) => Ok(walker.summary),
        Err(HeaderOutcome::NotACapture) => Err(CaptureError::NotACapture(hex_prefix(&magic))),

        // Where the failing read started: every byte before it was read.
        Err(HeaderOutcome::ReadFailed) => Err(CaptureError::Io {
            offset: source.bytes_read,
            source: source.error.take().unwrap_or_else(|| io::Error::other("read failed")),
        }),
    }
}

enum HeaderOutcome {
    NotACapture,
    ReadFailed,
}

/// One pcapng interface, as its IDB described it.
#[derive(Debug, Clone, Copy)]
struct Interface {
    link_type: LinkType,
    /// Timestamp units per second.
    units_per_second: u64,
    offset_seconds: i64,
}

/// What to do after looking at the reader's state.
enum Step {
    Consume(usize),
    NeedMore,
    End,
    Truncated,
    ReadFailed,
    Corrupt(String),
}

struct Walker<F> {
    on_frame: F,
    summary: CaptureSummary,
    /// pcap: the file's link type and resolution.
    pcap_link_type: LinkType,
    pcap_nanoseconds: bool,
    pcap_record_header: usize,
    pcap_big_endian: bool,
    /// pcapng: the current section's byte order and interfaces.
    big_endian: bool,
    interfaces: Vec<Interface>,
    /// For Simple Packet Blocks, which carry no time.
    last_ts: Timestamp,
}

impl<F: FnMut(Frame<'_>)> Walker<F> {
    fn new(format: CaptureFormat, on_frame: F) -> Self {
        Walker {
            on_frame,
            summary: CaptureSummary { format, frames: 0, bytes: 0, problems: Vec::new(), problem_count: 0 },
            pcap_link_type: LinkType::ETHERNET,
            pcap_nanoseconds: false,
            pcap_record_header: 16,
            pcap_big_endian: false,
            big_endian: false,
            interfaces: Vec::new(),
            last_ts: Timestamp(0),
        }
    }

    fn problem(&mut self, offset: u64, what: String) {
        self.summary.problem_count += 1;
        if self.summary.problems.len() < MAX_PROBLEMS {
            self.summary.problems.push(CaptureProblem { offset, what });
        }
    }

    fn header_failed(&mut self, e: PcapError<&[u8]>) -> Result<(), HeaderOutcome> {
        match e {
            PcapError::ReadError => Err(HeaderOutcome::ReadFailed),
            PcapError::Incomplete(_) | PcapError::UnexpectedEof | PcapError::Eof | PcapError::BufferTooSmall => {
                let what = match self.summary.format {
                    CaptureFormat::Pcap => "file header truncated",
                    CaptureFormat::PcapNg => "section header block truncated or over the buffer size",
                };
                self.problem(0, what.to_string());
                Ok(())
            }
            PcapError::HeaderNotRecognized | PcapError::NomError(..) | PcapError::OwnedNomError(..) => {
                Err(HeaderOutcome::NotACapture)
            }
        }
    }

    fn emit(&mut self, ts: Timestamp, link_type: LinkType, data: &[u8], original_len: u32) {
        self.summary.frames += 1;
        self.summary.bytes += data.len() as u64;
        self.last_ts = ts;
        (self.on_frame)(Frame { ts, link_type, data, original_len });
    }

    /// The length the block or record at the start of `data` declares, once
    /// its header is there.
    fn declared_len(&self, data: &[u8]) -> Option<u64> {
        let word = |at: usize, big_endian: bool| -> Option<u32> {
            let b: [u8; 4] = data.get(at..at + 4)?.try_into().ok()?;
            Some(if big_endian { u32::from_be_bytes(b) } else { u32::from_le_bytes(b) })
        };
        match self.summary.format {
            CaptureFormat::Pcap => {
                if data.len() < self.pcap_record_header {
                    return None;
                }
                let caplen = word(8, self.pcap_big_endian)?;
                Some(self.pcap_record_header as u64 + u64::from(caplen))
            }
            CaptureFormat::PcapNg => {
                // A section header may switch the byte order: its length is
                // read in the order its byte-order magic says.
                let big_endian = if word(0, false) == Some(0x0A0D_0D0A) {
                    data.get(8..12) == Some(&[0x1A, 0x2B, 0x3C, 0x4D][..])
                } else {
                    self.big_endian
                };
                word(4, big_endian).map(u64::from)
            }
        }
    }

    fn run<I: PcapReaderIterator>(&mut self, mut reader: I) -> Result<(), HeaderOutcome> {
        // Refills in a row that brought no new byte.
        let mut stalled = 0u32;
        loop {
            let offset = reader.consumed() as u64;
            let step = match reader.next() {
                Ok((len, block)) => {
                    self.block(offset, block);
                    Step::Consume(len)
                }
                Err(PcapError::Eof) => Step::End,
                Err(PcapError::Incomplete(_) | PcapError::BufferTooSmall) => Step::NeedMore,
                Err(PcapError::UnexpectedEof) => Step::Truncated,
                Err(PcapError::ReadError) => Step::ReadFailed,
                Err(PcapError::HeaderNotRecognized) => Step::Corrupt("not recognised".to_string()),
                Err(PcapError::NomError(_, kind) | PcapError::OwnedNomError(_, kind)) => {
                    Step::Corrupt(format!("{kind:?} check failed"))
                }
            };
            match step {
                Step::Consume(len) => {
                    stalled = 0;
                    reader.consume(len);
                }
                Step::End => return Ok(()),
                Step::ReadFailed => return Err(HeaderOutcome::ReadFailed),
                Step::Truncated => {
                    let available = reader.data().len();
                    if available > 0 {
                        let what = match self.declared_len(reader.data()) {
                            Some(len) => format!("file ends {available} bytes into a {len}-byte block"),
                            None => format!("file ends {available} bytes into a block header"),
                        };
                        self.problem(offset, what);
                    }
                    return Ok(());
                }
                Step::Corrupt(what) => {
                    if !self.skip_corrupt(&mut reader, offset, &what)? {
                        return Ok(());
                    }
                }
                Step::NeedMore => {
                    let available = reader.data().len();
                    match self.declared_len(reader.data()) {
                        Some(len) if self.summary.format == CaptureFormat::PcapNg && len <= available as u64 => {
                            // The block is all there, yet its parser wants more:
                            // its fields overrun its length.
                            if !self.skip_corrupt(&mut reader, offset, "fields overrun the block length")? {
                                return Ok(());
                            }
                            continue;
                        }
                        Some(len) if len > MAX_BLOCK as u64 => {
                            if self.summary.format == CaptureFormat::Pcap {
                                self.problem(
                                    offset,
                                    format!(
                                        "record of {len} bytes is over the {MAX_BLOCK}-byte limit; \
                                         the rest of the file is not read"
                                    ),
                                );
                                return Ok(());
                            }
                            self.problem(
                                offset,
                                format!("block of {len} bytes over the {MAX_BLOCK}-byte limit skipped"),
                            );
                            if !self.skip_bytes(&mut reader, offset, len)? {
                                return Ok(());
                            }
                            continue;
                        }
                        Some(len) => {
                            let want =
                                usize::try_from(len).unwrap_or(MAX_BLOCK).saturating_add(4096).min(MAX_BLOCK + 4096);
                            reader.grow(want);
                        }
                        None => {}
                    }
                    let before = reader.data().len();
                    if reader.refill().is_err() {
                        return Err(HeaderOutcome::ReadFailed);
                    }
                    if reader.data().len() == before && !reader.reader_exhausted() {
                        stalled += 1;
                        if stalled > 2 {
                            self.problem(offset, "a block the reader cannot complete; reading stops".to_string());
                            return Ok(());
                        }
                    } else {
                        stalled = 0;
                    }
                }
            }
        }
    }

    /// Skips a pcapng block whose declared length is usable; `false` when
    /// reading cannot go on.
    fn skip_corrupt<I: PcapReaderIterator>(
        &mut self,
        reader: &mut I,
        offset: u64,
        what: &str,
    ) -> Result<bool, HeaderOutcome> {
        let declared = self.declared_len(reader.data());
        match (self.summary.format, declared) {
            (CaptureFormat::PcapNg, Some(len)) if len >= 12 && len % 4 == 0 => {
                self.problem(offset, format!("corrupt block ({what}) of {len} bytes skipped"));
                self.skip_bytes(reader, offset, len)
            }
            _ => {
                self.problem(offset, format!("corrupt block or record ({what}); the rest of the file is not read"));
                Ok(false)
            }
        }
    }

    /// Drops `len` bytes from the reader, refilling as needed; `false` when
    /// the file ends first.
    fn skip_bytes<I: PcapReaderIterator>(
        &mut self,
        reader: &mut I,
        offset: u64,
        len: u64,
    ) -> Result<bool, HeaderOutcome> {
        let mut remaining = len;
        loop {
            let available = reader.data().len() as u64;
            let take = available.min(remaining);
            reader.consume(usize::try_from(take).unwrap_or(0));
            remaining -= take;
            if remaining == 0 {
                return Ok(true);
            }
            if reader.refill().is_err() {
                return Err(HeaderOutcome::ReadFailed);
            }
            if reader.data().is_empty() {
                self.problem(offset, format!("file ends {} bytes into a {len}-byte block", len - remaining));
                return Ok(false);
            }
        }
    }

    fn block(&mut self, offset: u64, block: PcapBlockOwned<'_>) {
        match block {
            PcapBlockOwned::LegacyHeader(header) => {
                // The upper bits may carry FCS information (pcap spec, "LinkType").
                self.pcap_link_type = LinkType((header.network.0 as u32) & 0x03FF_FFFF);
                self.pcap_nanoseconds = header.is_nanosecond_precision();
                self.pcap_big_endian = header.is_bigendian();
                self.pcap_record_header = if header.is_modified_format() { 24 } else { 16 };
            }
            PcapBlockOwned::Legacy(record) => {
                let fraction =
                    if self.pcap_nanoseconds { i64::from(record.ts_usec) } else { i64::from(record.ts_usec) * 1_000 };
                // Fractions over a second (broken writers) carry into the seconds.
                let ts = Timestamp(i64::from(record.ts_sec) * 1_000_000_000 + fraction);
                self.emit(ts, self.pcap_link_type, record.data, record.origlen);
            }
            PcapBlockOwned::NG(block) => self.ng_block(offset, block),
        }
    }

    fn ng_block(&mut self, offset: u64, block: Block<'_>) {
        match block {
            Block::SectionHeader(shb) => {
                self.big_endian = shb.big_endian();
                self.interfaces.clear();
            }
            Block::InterfaceDescription(idb) => {
                if self.interfaces.len() >= MAX_INTERFACES {
                    self.problem(offset, format!("more than {MAX_INTERFACES} interfaces in a section; ignored"));
                    return;
                }
                let units_per_second = match units_per_second(idb.if_tsresol) {
                    Some(u) => u,
                    None => {
                        self.problem(
                            offset,
                            format!("interface if_tsresol {:#04x} unusable; microseconds assumed", idb.if_tsresol),
                        );
                        1_000_000
                    }
                };
                let offset_seconds = idb
                    .options
                    .iter()
                    .find(|o| o.code == OptionCode::IfTsoffset)
                    .and_then(|o| o.value.get(..8).and_then(|v| <[u8; 8]>::try_from(v).ok()))
                    .map(|v| if self.big_endian { i64::from_be_bytes(v) } else { i64::from_le_bytes(v) })
                    .unwrap_or(0);
                self.interfaces.push(Interface {
                    link_type: LinkType(u32::from(idb.linktype.0 as u16)),
                    units_per_second,
                    offset_seconds,
                });
            }
            Block::EnhancedPacket(epb) => {
                let Some(interface) = self.interface(offset, epb.if_id) else { return };
                let ts = ng_timestamp(epb.ts_high, epb.ts_low, &interface);
                self.emit(ts, interface.link_type, epb.packet_data(), epb.origlen);
            }
            Block::SimplePacket(spb) => {
                let Some(interface) = self.interface(offset, 0) else { return };
                self.emit(self.last_ts, interface.link_type, spb.packet_data(), spb.origlen);
            }
            Block::Unknown(unknown) if unknown.block_type == 2 || unknown.block_type == 0x0200_0000 => {
                self.obsolete_packet(offset, unknown.data);
            }
            _ => {}
        }
    }

    fn interface(&mut self, offset: u64, id: u32) -> Option<Interface> {
        let found = usize::try_from(id).ok().and_then(|i| self.interfaces.get(i)).copied();
        if found.is_none() {
            self.problem(offset, format!("packet for interface {id}, which no interface block declared; skipped"));
        }
        found
    }

    /// The Packet Block (type 2) pcapng 1.0 had before the EPB.
    fn obsolete_packet(&mut self, offset: u64, body: &[u8]) {
        let big_endian = self.big_endian;
        let u16_at = |at: usize| -> Option<u16> {
            let b: [u8; 2] = body.get(at..at + 2)?.try_into().ok()?;
            Some(if big_endian { u16::from_be_bytes(b) } else { u16::from_le_bytes(b) })
        };
        let u32_at = |at: usize| -> Option<u32> {
            let b: [u8; 4] = body.get(at..at + 4)?.try_into().ok()?;
            Some(if big_endian { u32::from_be_bytes(b) } else { u32::from_le_bytes(b) })
        };
        let (Some(id), Some(high), Some(low), Some(caplen), Some(origlen)) =
            (u16_at(0), u32_at(4), u32_at(8), u32_at(12), u32_at(16))
        else {
            self.problem(offset, "packet block shorter than its header".to_string());
            return;
        };
        let Some(data) = body.get(20..).and_then(|d| d.get(..usize::try_from(caplen).ok()?)) else {
            self.problem(offset, format!("packet block's captured length {caplen} overruns the block"));
            return;
        };
        let Some(interface) = self.interface(offset, u32::from(id)) else { return };
        let ts = ng_timestamp(high, low, &interface);
        self.emit(ts, interface.link_type, data, origlen);
    }
}

/// `if_tsresol`: 10^-n seconds, or 2^-n with the top bit set.
fn units_per_second(tsresol: u8) -> Option<u64> {
    let exponent = u32::from(tsresol & 0x7F);
    if tsresol & 0x80 == 0 { 10u64.checked_pow(exponent) } else { 1u64.checked_shl(exponent).filter(|_| exponent < 64) }
}

fn ng_timestamp(high: u32, low: u32, interface: &Interface) -> Timestamp {
    let ticks = (u64::from(high) << 32) | u64::from(low);
    let units = interface.units_per_second.max(1);
    let seconds = i64::try_from(ticks / units).unwrap_or(i64::MAX).saturating_add(interface.offset_seconds);
    let fraction = u128::from(ticks % units) * 1_000_000_000 / u128::from(units);
    Timestamp(seconds.saturating_mul(1_000_000_000).saturating_add(i64::try_from(fraction).unwrap_or(0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamp_resolutions() {
        assert_eq!(units_per_second(6), Some(1_000_000));
        assert_eq!(units_per_second(9), Some(1_000_000_000));
        assert_eq!(units_per_second(0x80 | 20), Some(1 << 20));
        assert_eq!(units_per_second(20), None);
        assert_eq!(units_per_second(0x80 | 64), None);
        let iface = Interface { link_type: LinkType::ETHERNET, units_per_second: 1 << 20, offset_seconds: 10 };
        // 1.5 s in 2^-20 units, plus the 10 s offset.
        assert_eq!(ng_timestamp(0, 3 << 19, &iface), Timestamp::from_secs_nanos(11, 500_000_000));
    }

    #[test]
    fn not_a_capture_names_the_first_bytes() {
        let e = read_capture(&b"GIF89a\x01\x00"[..], |_| {}).unwrap_err();
        assert_eq!(e.to_string(), "not a pcap or pcapng file (first bytes 4749463839610100)");
        let e = read_capture(&b""[..], |_| {}).unwrap_err();
        assert!(e.to_string().contains("empty"), "{e}");
        let e = read_capture(&b"\xd4\xc3"[..], |_| {}).unwrap_err();
        assert!(matches!(e, CaptureError::NotACapture(ref s) if s == "d4c3"), "{e}");
    }

    #[test]
    fn a_truncated_file_header_is_a_problem() {
        let s = read_capture(&b"\xd4\xc3\xb2\xa1\x02\x00\x04\x00"[..], |_| {}).unwrap();
        assert_eq!((s.frames, s.problem_count), (0, 1));
        assert_eq!(s.problems[0].offset, 0);
    }

    /// A reader that fails after some bytes.
    struct Failing<'a>(&'a [u8]);
    impl Read for Failing<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0.is_empty() {
                return Err(io::Error::new(io::ErrorKind::ConnectionReset, "gone"));
            }
            let n = buf.len().min(self.0.len()).min(7);
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn read_errors_keep_their_cause_and_offset() {
        let mut file = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0];
        file.extend_from_slice(&[0; 10]);
        let e = read_capture(Failing(&file), |_| {}).unwrap_err();
        let CaptureError::Io { offset, source } = e else { panic!("{e:?}") };
        assert_eq!((offset, source.kind()), (34, io::ErrorKind::ConnectionReset));
    }
}
