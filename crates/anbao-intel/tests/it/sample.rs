//! The sample library's pure part: hashes, file types by magic, and the
//! "infected" zip convention both ways.

use anbao_intel::sample::{CONVENTIONAL_PASSWORD, SampleError, examine, file_type, pack_zip, unpack_zip};

const APKS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/apk");

#[test]
fn hashes_match_the_published_test_vectors() {
    let f = examine(b"abc");
    assert_eq!(f.size, 3);
    assert_eq!(f.md5, "900150983cd24fb0d6963f7d28e17f72");
    assert_eq!(f.sha1, "a9993e364706816aba3e25717850c26c9cd0d89d");
    assert_eq!(f.sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_eq!(f.file_type, "data");
    assert_eq!(examine(b"").md5, "d41d8cd98f00b204e9800998ecf8427e");
}

fn pe(characteristics: u16) -> Vec<u8> {
    let mut b = vec![0u8; 0x200];
    b[..2].copy_from_slice(b"MZ");
    b[0x3c..0x40].copy_from_slice(&0x80u32.to_le_bytes());
    b[0x80..0x84].copy_from_slice(b"PE\0\0");
    b[0x80 + 22..0x80 + 24].copy_from_slice(&characteristics.to_le_bytes());
    b
}

#[test]
fn file_types_come_from_magic_numbers() {
    assert_eq!(file_type(&pe(0x0102)), "pe-exe");
    assert_eq!(file_type(&pe(0x2102)), "pe-dll");
    let mut bad_offset = pe(0x0102);
    bad_offset[0x3c..0x40].copy_from_slice(&u32::MAX.to_le_bytes());
    assert_eq!(file_type(&bad_offset), "data", "an MZ header pointing nowhere is not a PE, and no panic");
    assert_eq!(file_type(b"\x7fELF\x02\x01\x01"), "elf");
    assert_eq!(file_type(b"\xcf\xfa\xed\xfe...."), "macho");
    assert_eq!(file_type(b"dex\n035\0"), "dex");
    assert_eq!(file_type(b"%PDF-1.7\n"), "pdf");
    assert_eq!(file_type(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest"), "ole2");
    assert_eq!(file_type(b"{\\rtf1\\ansi"), "rtf");
    assert_eq!(file_type(b"#!/bin/sh\nrm -rf /\n"), "script");
    assert_eq!(file_type(b"\x1f\x8b\x08"), "gzip");
    assert_eq!(file_type(b"PK\x03\x04"), "zip", "a truncated zip header is still a zip, read safely");
    let zipped = pack_zip("readme.txt", b"hello", "x").unwrap();
    assert_eq!(file_type(&zipped), "zip");
}

#[test]
fn real_apks_are_recognised() {
    let mut seen = 0;
    for entry in std::fs::read_dir(APKS).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "apk") {
            let bytes = std::fs::read(&path).unwrap();
            let t = file_type(&bytes);
            // Some fixtures are deliberately broken APKs; none may panic, and
            // the well-formed ones must be recognised.
            if path.file_name().unwrap().to_string_lossy().contains("TestActivity_signed_both") {
                assert_eq!(t, "apk", "{}", path.display());
            }
            assert!(["apk", "zip", "data", "jar"].contains(&t), "{}: {t}", path.display());
            seen += (t == "apk") as usize;
        }
    }
    assert!(seen >= 5, "most fixtures are APKs: {seen}");
}

#[test]
fn infected_zips_round_trip_and_refuse_wrong_passwords_and_bombs() {
    let payload = pe(0x0102);
    let zipped = pack_zip("dropper.exe", &payload, CONVENTIONAL_PASSWORD).unwrap();
    assert!(!zipped.windows(4).any(|w| w == b"PE\0\0"), "the payload is not readable in the archive");
    let files = unpack_zip(&zipped, CONVENTIONAL_PASSWORD, 10, 1 << 20).unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!((files[0].name.as_str(), files[0].bytes.as_slice()), ("dropper.exe", payload.as_slice()));

    assert_eq!(
        unpack_zip(&zipped, "not-the-password", 10, 1 << 20),
        Err(SampleError::WrongPassword { name: "dropper.exe".into() })
    );
    let bomb = pack_zip("zeros.bin", &vec![0u8; 4 << 20], CONVENTIONAL_PASSWORD).unwrap();
    assert!(bomb.len() < 64 << 10, "zeros compress well: {}", bomb.len());
    assert_eq!(unpack_zip(&bomb, CONVENTIONAL_PASSWORD, 10, 1 << 20), Err(SampleError::TooLarge(1 << 20)));
    assert!(matches!(unpack_zip(b"not a zip", CONVENTIONAL_PASSWORD, 10, 100), Err(SampleError::NotZip(_))));
    assert!(unpack_zip(&zipped[..zipped.len() / 2], CONVENTIONAL_PASSWORD, 10, 1 << 20).is_err());
}
