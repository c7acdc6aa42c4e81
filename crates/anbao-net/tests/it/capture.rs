//! Tests of `capture`: the fixtures of `test_data/pcap` (one real capture
//! re-framed in every format and link layer, see `make_fixtures.py`) read
//! as tshark reads them (`fixtures-tshark.tsv`), damaged files, streaming
//! with awkward readers, and block sizes around the buffer limits.

use std::io::{self, Read};
use std::path::Path;

use anbao_net::capture::{
    self, CaptureError, CaptureFormat, CaptureSummary, INITIAL_BUFFER, LinkType, MAX_BLOCK, MAX_PROBLEMS,
};
use anbao_net::packet::{self, Transport};

use crate::extract::{corpus_dir, test_data};

/// A frame as owned values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owned {
    pub ts: i64,
    pub link_type: u32,
    pub data: Vec<u8>,
    pub original_len: u32,
}

pub fn read_all<R: Read>(reader: R) -> (CaptureSummary, Vec<Owned>) {
    let mut frames = Vec::new();
    let summary = capture::read_capture(reader, |f| {
        frames.push(Owned { ts: f.ts.0, link_type: f.link_type.0, data: f.data.to_vec(), original_len: f.original_len })
    })
    .unwrap();
    (summary, frames)
}

pub fn read_file(path: &Path) -> (CaptureSummary, Vec<Owned>) {
    read_all(std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

/// `fixtures-tshark.tsv`: file → rows of (frame, time, source address,
/// sport, dport, dns id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TsharkRow {
    pub time: Option<i64>,
    pub src: String,
    pub sport: Option<u16>,
    pub dport: Option<u16>,
    pub dns_id: Option<u16>,
}

fn parse_time(text: &str) -> Option<i64> {
    let (secs, frac) = text.split_once('.')?;
    Some(secs.parse::<i64>().ok()? * 1_000_000_000 + format!("{frac:0<9}")[..9].parse::<i64>().ok()?)
}

fn tshark_row(cols: &[&str]) -> TsharkRow {
    TsharkRow {
        time: parse_time(cols[0]),
        src: if cols[1].is_empty() { cols[2].to_string() } else { cols[1].to_string() },
        sport: cols[3].parse().ok(),
        dport: cols[4].parse().ok(),
        dns_id: cols[5].strip_prefix("0x").and_then(|h| u16::from_str_radix(h, 16).ok()),
    }
}

pub fn tshark_table(file: &str) -> Vec<TsharkRow> {
    let text = std::fs::read_to_string(test_data("fixtures-tshark.tsv")).unwrap();
    let rows: Vec<TsharkRow> = text
        .lines()
        .skip(1)
        .map(|l| l.split('\t').collect::<Vec<_>>())
        .filter(|c| c[0] == file)
        .map(|c| tshark_row(&c[2..]))
        .collect();
    assert!(!rows.is_empty(), "{file} is in the table");
    rows
}

const FIXTURES: &[&str] = &[
    "dns-be.pcap",
    "dns-nsec.pcap",
    "dns.pcapng",
    "links.pcapng",
    "fragments.pcap",
    "truncated.pcap",
    "corrupt-block.pcapng",
];

#[test]
fn the_fixture_table_is_what_tshark_reads() {
    if std::process::Command::new("tshark").arg("--version").output().is_err() {
        eprintln!("tshark not installed: the committed fixtures-tshark.tsv is trusted as is");
        return;
    }
    for file in FIXTURES {
        let out = std::process::Command::new("tshark")
            .arg("-r")
            .arg(test_data(file))
            .args(["-T", "fields", "-E", "occurrence=f"])
            .args(["-e", "frame.number", "-e", "frame.time_epoch", "-e", "ip.src", "-e", "ipv6.src"])
            .args(["-e", "udp.srcport", "-e", "udp.dstport", "-e", "dns.id"])
            .output()
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        let rows: Vec<TsharkRow> =
            text.lines().map(|l| tshark_row(&l.split('\t').skip(1).collect::<Vec<_>>())).collect();
        assert_eq!(rows, tshark_table(file), "{file}");
    }
}

/// Each frame's time and decoded endpoints against tshark's row.
fn assert_frames_match(file: &str, frames: &[Owned], rows: &[TsharkRow]) {
    assert_eq!(frames.len(), rows.len(), "{file}: frames");
    let mut previous = None;
    for (i, (frame, row)) in frames.iter().zip(rows).enumerate() {
        match row.time {
            Some(t) => assert_eq!(frame.ts, t, "{file} frame {}: time", i + 1),
            // A Simple Packet Block has no time; the reader repeats the last one.
            None => assert_eq!(Some(frame.ts), previous, "{file} frame {}", i + 1),
        }
        previous = Some(frame.ts);
        let p = packet::decode(LinkType(frame.link_type), &frame.data).unwrap().unwrap();
        assert_eq!(p.src.to_string(), row.src, "{file} frame {}", i + 1);
        if let Transport::Udp(u) = p.transport {
            assert_eq!((Some(u.sport), Some(u.dport)), (row.sport, row.dport), "{file} frame {}", i + 1);
        } else {
            assert!(matches!(p.transport, Transport::Fragment { .. }), "{file} frame {}: {p:?}", i + 1);
        }
    }
}

#[test]
fn every_format_and_link_type_reads_as_tshark_reads_it() {
    for file in ["dns-be.pcap", "dns-nsec.pcap", "dns.pcapng", "links.pcapng", "fragments.pcap"] {
        let (summary, frames) = read_file(&test_data(file));
        assert_eq!(summary.problems, vec![], "{file}");
        assert_frames_match(file, &frames, &tshark_table(file));
        let want = if file.ends_with(".pcapng") { CaptureFormat::PcapNg } else { CaptureFormat::Pcap };
        assert_eq!(summary.format, want);
        assert_eq!(summary.bytes, frames.iter().map(|f| f.data.len() as u64).sum::<u64>());
    }
    let (_, frames) = read_file(&test_data("links.pcapng"));
    let links: Vec<u32> = frames.iter().map(|f| f.link_type).collect();
    assert_eq!(links, [1, 101, 113, 276, 0, 108, 228, 1, 101, 1, 229, 0, 229], "as make_fixtures.py wrote them");
}

#[test]
fn the_same_frames_whatever_the_file_format() {
    let (_, original) =
        read_file(&corpus_dir().join("dns__dns-udp-eve-log-answer-only__dns-udp-google.com-a-aaaa-mx.pcap"));
    assert_eq!(original.len(), 6);
    for file in ["dns-be.pcap", "dns-nsec.pcap", "dns.pcapng"] {
        let (_, frames) = read_file(&test_data(file));
        assert_eq!(frames, original, "{file}");
    }
}

/// The offset of each record of a little-endian pcap, walked here.
fn pcap_record_offsets(bytes: &[u8]) -> Vec<u64> {
    let mut offsets = vec![];
    let mut at = 24;
    while at + 16 <= bytes.len() {
        offsets.push(at as u64);
        at += 16 + u32::from_le_bytes(bytes[at + 8..at + 12].try_into().unwrap()) as usize;
    }
    offsets
}

#[test]
fn a_truncated_file_gives_its_whole_frames_and_a_problem() {
    let bytes = std::fs::read(test_data("truncated.pcap")).unwrap();
    let (summary, frames) = read_all(&bytes[..]);
    // tshark: five frames, then "cut short in the middle of a packet".
    assert_frames_match("truncated.pcap", &frames, &tshark_table("truncated.pcap"));
    assert_eq!(summary.problem_count, 1);
    let last_record = *pcap_record_offsets(&bytes).last().unwrap();
    assert_eq!(summary.problems[0].offset, last_record);
    assert!(summary.problems[0].what.starts_with("file ends"), "{:?}", summary.problems);

    // Cut inside a record header, too.
    let (summary, frames) = read_all(&bytes[..last_record as usize + 5]);
    assert_eq!((frames.len(), summary.problems[0].offset), (5, last_record));
}

/// (offset, type) of each block of a pcapng file, walked here.
fn pcapng_blocks(bytes: &[u8]) -> Vec<(u64, u32)> {
    let mut blocks = vec![];
    let mut at = 0;
    let mut big_endian = false;
    while at + 12 <= bytes.len() {
        if bytes[at..at + 4] == [0x0a, 0x0d, 0x0d, 0x0a] {
            big_endian = bytes[at + 8..at + 12] == [0x1a, 0x2b, 0x3c, 0x4d];
        }
        let word = |b: &[u8]| {
            let b: [u8; 4] = b.try_into().unwrap();
            if big_endian { u32::from_be_bytes(b) } else { u32::from_le_bytes(b) }
        };
        let kind = word(&bytes[at..at + 4]);
        blocks.push((at as u64, kind));
        at += word(&bytes[at + 4..at + 8]) as usize;
    }
    blocks
}

#[test]
fn a_corrupt_pcapng_block_is_skipped_and_reading_goes_on() {
    let bytes = std::fs::read(test_data("corrupt-block.pcapng")).unwrap();
    let (summary, frames) = read_all(&bytes[..]);
    // tshark stops at the damaged block after three frames; the reader skips
    // it and reads the rest, which are links.pcapng's frames 5 to 13.
    let tshark = tshark_table("corrupt-block.pcapng");
    assert_eq!(tshark.len(), 3);
    let links = tshark_table("links.pcapng");
    let mut expected = tshark.clone();
    expected.extend_from_slice(&links[4..]);
    assert_frames_match("corrupt-block.pcapng", &frames, &expected);
    let packet_blocks: Vec<u64> =
        pcapng_blocks(&bytes).into_iter().filter(|(_, t)| [2, 3, 6].contains(t)).map(|(o, _)| o).collect();
    assert_eq!(summary.problem_count, 1);
    assert_eq!(summary.problems[0].offset, packet_blocks[3]);
    assert!(summary.problems[0].what.contains("corrupt block"), "{:?}", summary.problems);
}

/// Hands out at most `n` bytes per read, with interruptions.
struct Trickle<'a> {
    bytes: &'a [u8],
    n: usize,
    calls: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.calls += 1;
        if self.calls.is_multiple_of(3) {
            return Err(io::Error::new(io::ErrorKind::Interrupted, "again"));
        }
        let n = self.n.min(buf.len()).min(self.bytes.len());
        buf[..n].copy_from_slice(&self.bytes[..n]);
        self.bytes = &self.bytes[n..];
        Ok(n)
    }
}

#[test]
fn short_reads_change_nothing() {
    for file in ["links.pcapng", "dns-be.pcap", "truncated.pcap"] {
        let bytes = std::fs::read(test_data(file)).unwrap();
        let whole = read_all(&bytes[..]);
        for n in [1, 3, 7, 100] {
            assert_eq!(read_all(Trickle { bytes: &bytes, n, calls: 0 }), whole, "{file} {n}");
        }
    }
}

fn le_pcap(records: &[(u32, u32, &[u8])]) -> Vec<u8> {
    let mut out = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 1, 0, 0, 0];
    for (caplen, origlen, data) in records {
        for v in [7u32, 0, *caplen, *origlen] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(data);
    }
    out
}

#[test]
fn frames_larger_than_the_first_buffer_are_read() {
    let big = vec![0x42u8; INITIAL_BUFFER * 3];
    let small = [1u8; 60];
    let file = le_pcap(&[(60, 60, &small), (big.len() as u32, 70_000_000, &big), (60, 60, &small)]);
    let (summary, frames) = read_all(&file[..]);
    assert_eq!(summary.problems, vec![]);
    assert_eq!(frames.iter().map(|f| f.data.len()).collect::<Vec<_>>(), [60, big.len(), 60]);
    assert_eq!(frames[1].original_len, 70_000_000);
}

#[test]
fn a_pcap_record_over_the_limit_ends_the_reading() {
    let small = [1u8; 60];
    let mut file = le_pcap(&[(60, 60, &small)]);
    let offset = file.len() as u64;
    file.extend_from_slice(&le_pcap(&[(u32::MAX, 60, &small)])[24..]);
    let (summary, frames) = read_all(&file[..]);
    assert_eq!(frames.len(), 1);
    assert_eq!(summary.problems[0].offset, offset);
    assert!(summary.problems[0].what.contains("over the"), "{:?}", summary.problems);
}

fn ng_block(kind: u32, body: &[u8]) -> Vec<u8> {
    let mut padded = body.to_vec();
    padded.resize(body.len().div_ceil(4) * 4, 0);
    let len = (12 + padded.len()) as u32;
    let mut out = kind.to_le_bytes().to_vec();
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&padded);
    out.extend_from_slice(&len.to_le_bytes());
    out
}

fn ng_epb(interface: u32, data: &[u8]) -> Vec<u8> {
    let mut body = vec![];
    for v in [interface, 0, 1_000_000, data.len() as u32, data.len() as u32] {
        body.extend_from_slice(&v.to_le_bytes());
    }
    body.extend_from_slice(data);
    ng_block(6, &body)
}

fn ng_start() -> Vec<u8> {
    let mut shb = 0x1A2B_3C4Du32.to_le_bytes().to_vec();
    shb.extend_from_slice(&[1, 0, 0, 0]);
    shb.extend_from_slice(&(-1i64).to_le_bytes());
    let mut out = ng_block(0x0A0D_0D0A, &shb);
    out.extend(ng_block(1, &[1, 0, 0, 0, 0, 0, 0, 0]));
    out
}

#[test]
fn pcapng_blocks_over_the_limit_and_undeclared_interfaces_are_skipped() {
    let mut file = ng_start();
    file.extend(ng_epb(0, b"first"));
    let huge_at = file.len() as u64;
    file.extend(ng_block(0x0000_0BAD, &vec![0u8; MAX_BLOCK + 8]));
    let stray_at = file.len() as u64;
    file.extend(ng_epb(5, b"for an interface nobody declared"));
    file.extend(ng_epb(0, b"last"));
    let (summary, frames) = read_all(&file[..]);
    let datas: Vec<&[u8]> = frames.iter().map(|f| &f.data[..]).collect();
    assert_eq!(datas, [&b"first"[..], b"last"]);
    assert_eq!(frames[0].ts, 1_000_000 * 1_000, "microseconds by default");
    let offsets: Vec<u64> = summary.problems.iter().map(|p| p.offset).collect();
    assert_eq!(offsets, [huge_at, stray_at], "{:?}", summary.problems);

    // A huge block cut short by the end of the file.
    let mut file = ng_start();
    file.extend(ng_epb(0, b"first"));
    file.extend(&ng_block(0x0000_0BAD, &vec![0u8; MAX_BLOCK + 8])[..MAX_BLOCK / 2]);
    let (summary, frames) = read_all(&file[..]);
    assert_eq!((frames.len(), summary.problem_count), (1, 2), "{:?}", summary.problems);
}

#[test]
fn problems_are_counted_past_the_ones_kept() {
    let mut file = ng_start();
    for _ in 0..MAX_PROBLEMS + 5 {
        file.extend(ng_epb(9, b"x"));
    }
    let (summary, frames) = read_all(&file[..]);
    assert_eq!(frames.len(), 0);
    assert_eq!((summary.problems.len(), summary.problem_count), (MAX_PROBLEMS, MAX_PROBLEMS as u64 + 5));
}

#[test]
fn what_is_not_a_capture_is_an_error_naming_its_first_bytes() {
    let e = capture::read_capture(&b"# a text file, not a capture\n"[..], |_| {}).unwrap_err();
    assert!(matches!(&e, CaptureError::NotACapture(hex) if hex == "23206120746578742066696c652c206e"), "{e}");
    // pcapng magic without the byte-order magic.
    let e = capture::read_capture(&b"\x0a\x0d\x0d\x0a\x1c\x00\x00\x00\x00\x00\x00\x00"[..], |_| {}).unwrap_err();
    assert!(matches!(e, CaptureError::NotACapture(_)), "{e}");
}
