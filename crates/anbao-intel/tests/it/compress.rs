//! Decompression limits and text decoding.

use std::borrow::Cow;
use std::io::Write;

use anbao_intel::Collected;
use anbao_intel::compress::{decode_text, decode_text_lines, decompress};

fn data(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/test_data/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

#[test]
fn plain_bytes_are_borrowed() {
    let out = decompress(b"evil.com\n", 100).unwrap();
    assert!(matches!(out, Cow::Borrowed(b"evil.com\n")));
    let err = decompress(b"evil.com\n", 4).unwrap_err();
    assert!(err.to_string().contains("limit of 4 bytes"), "{err}");
}

#[test]
fn gzip_single_and_multi_member() {
    let one = gzip(b"a.example.com\n");
    assert_eq!(&*decompress(&one, 1000).unwrap(), b"a.example.com\n");
    let mut two = gzip(b"a.example.com\n");
    two.extend(gzip(b"b.example.com\n"));
    assert_eq!(&*decompress(&two, 1000).unwrap(), b"a.example.com\nb.example.com\n");
}

#[test]
fn gzip_bomb_stops_at_the_limit() {
    let bomb = gzip(&vec![0u8; 8 << 20]);
    assert!(bomb.len() < 64 << 10);
    let err = decompress(&bomb, 1 << 20).unwrap_err();
    assert!(err.to_string().contains("limit of 1048576 bytes"), "{err}");
    // Exactly at the limit is fine.
    assert_eq!(decompress(&gzip(&[7u8; 100]), 100).unwrap().len(), 100);
}

#[test]
fn corrupt_gzip_is_an_error() {
    let mut g = gzip(b"some text that compresses");
    let n = g.len();
    g.truncate(n - 6);
    assert!(decompress(&g, 1000).is_err());
    assert!(decompress(&[0x1f, 0x8b, 1, 2, 3], 1000).is_err());
}

#[test]
fn zip_with_one_file() {
    let plain = data("lists/urlhaus.csv");
    assert_eq!(&*decompress(&data("lists/urlhaus.csv.zip"), 1 << 20).unwrap(), plain.as_slice());
    // Stored, with a directory entry.
    assert_eq!(&*decompress(&data("lists/stored.zip"), 1 << 20).unwrap(), data("lists/plain.txt").as_slice());
    let err = decompress(&data("lists/urlhaus.csv.zip"), 100).unwrap_err();
    assert!(err.to_string().contains("limit of 100 bytes"), "{err}");
    let err = decompress(&data("lists/two-files.zip"), 1 << 20).unwrap_err();
    assert!(err.to_string().contains("several files"), "{err}");
}

#[test]
fn corrupt_zip_is_an_error() {
    let z = data("lists/urlhaus.csv.zip");
    // Flip a byte of the compressed data: deflate error or CRC mismatch.
    let mut bad = z.clone();
    bad[60] ^= 0xff;
    assert!(decompress(&bad, 1 << 20).is_err());
    // Truncated: no end-of-central-directory record.
    assert!(decompress(&z[..z.len() - 30], 1 << 20).is_err());
    assert!(decompress(b"PK\x03\x04", 1 << 20).is_err());
}

#[test]
fn strict_text() {
    assert_eq!(decode_text(b"\xef\xbb\xbf{\"a\":1}", "JSON").unwrap(), "{\"a\":1}");
    let err = decode_text(b"{\"a\":\"\xff\"}", "MISP event").unwrap_err();
    assert_eq!(err.format, "MISP event");
    assert_eq!(err.location, "byte 6");
    let err = decode_text(b"\xef\xbb\xbfab\xc3", "JSON").unwrap_err();
    assert_eq!(err.location, "byte 5");
    // UTF-16 with a BOM, both byte orders.
    let le: Vec<u8> = [0xff, 0xfe].into_iter().chain("é.cn".encode_utf16().flat_map(u16::to_le_bytes)).collect();
    assert_eq!(decode_text(&le, "JSON").unwrap(), "é.cn");
    let be: Vec<u8> = [0xfe, 0xff].into_iter().chain("x😀".encode_utf16().flat_map(u16::to_be_bytes)).collect();
    assert_eq!(decode_text(&be, "JSON").unwrap(), "x😀");
    let err = decode_text(&[0xff, 0xfe, 0x00, 0xd8, 0x41, 0x00], "JSON").unwrap_err();
    assert_eq!(err.location, "byte 2");
}

#[test]
fn line_text_rejects_bad_lines_only() {
    let mut c = Collected::default();
    let text = decode_text_lines(b"a.example.com\nb\xffad.example.com\r\nc.example.com", &mut c).unwrap();
    assert_eq!(text, "a.example.com\n\nc.example.com");
    assert_eq!(c.rejected.len(), 1);
    assert_eq!(c.rejected[0].location, "line 2");
    assert!(c.rejected[0].reason.contains("byte 15"), "{}", c.rejected[0].reason);
    let mut c = Collected::default();
    assert!(matches!(decode_text_lines(b"\xef\xbb\xbfok", &mut c).unwrap(), Cow::Borrowed("ok")));
    assert!(c.rejected.is_empty());
}
