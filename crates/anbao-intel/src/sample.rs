//! The malware sample library's pure part (R3.5: trojan, virus and mobile
//! malware samples): hashes and a basic file type for a sample's bytes,
//! unpacking uploads zipped with the conventional password, and packing
//! downloads the same way so a sample never lands on a disk as a runnable
//! file.
//!
//! File types come from magic numbers, not names: PE (`MZ` and the `PE\0\0`
//! header it points to; DLL or EXE from the characteristics), ELF, Mach-O,
//! DEX, APK (a zip holding `AndroidManifest.xml` and `classes.dex`), JAR,
//! other zips, PDF, OLE2 (legacy Office), RTF, gzip, shell scripts
//! (`#!`), otherwise `data`. Zip entry names come from the central
//! directory (or, for a truncated zip, the local file headers), without
//! decompressing anything.
//!
//! Zips: the `zip` crate (ZipCrypto, the "infected" convention of every
//! sample exchange). Unpacking caps the number of entries and the bytes
//! written, so a zip bomb is an error, not an exhausted disk.

use std::io::{Cursor, Read, Write};

use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// The password sample archives use by convention.
pub const CONVENTIONAL_PASSWORD: &str = "infected";

/// What we know of a sample from its bytes alone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SampleFacts {
    pub size: u64,
    pub md5: String,
    pub sha1: String,
    pub sha256: String,
    /// `pe-exe`, `pe-dll`, `elf`, `macho`, `dex`, `apk`, `jar`, `zip`, `pdf`,
    /// `ole2`, `rtf`, `gzip`, `script`, `data`.
    pub file_type: &'static str,
}

/// Hashes and file type of `bytes`.
pub fn examine(bytes: &[u8]) -> SampleFacts {
    SampleFacts {
        size: bytes.len() as u64,
        md5: format!("{:x}", Md5::digest(bytes)),
        sha1: format!("{:x}", Sha1::digest(bytes)),
        sha256: format!("{:x}", Sha256::digest(bytes)),
        file_type: file_type(bytes),
    }
}

fn u16_le(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_le(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// The basic type of a file (see the module doc).
pub fn file_type(b: &[u8]) -> &'static str {
    if b.starts_with(b"MZ") {
        let pe = u32_le(b, 0x3c).and_then(|off| usize::try_from(off).ok());
        if let Some(off) = pe
            && b.get(off..off + 4) == Some(b"PE\0\0")
        {
            // COFF characteristics: IMAGE_FILE_DLL is 0x2000.
            let dll = u16_le(b, off + 22).is_some_and(|c| c & 0x2000 != 0);
            return if dll { "pe-dll" } else { "pe-exe" };
        }
        return "data";
    }
    if b.starts_with(b"\x7fELF") {
        return "elf";
    }
    if [b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe"]
        .iter()
        .any(|m| b.starts_with(*m))
    {
        return "macho";
    }
    if b.starts_with(b"dex\n") {
        return "dex";
    }
    if b.starts_with(b"PK\x03\x04") {
        // The central directory when it reads; else the local headers (a
        // truncated upload still says what it was meant to be).
        let names: Vec<String> = match zip::ZipArchive::new(Cursor::new(b)) {
            Ok(a) => a.file_names().take(100_000).map(str::to_owned).collect(),
            Err(_) => zip_entry_names(b, 10_000),
        };
        let has = |n: &str| names.iter().any(|x| x == n);
        if has("AndroidManifest.xml") && names.iter().any(|n| n.starts_with("classes") && n.ends_with(".dex")) {
            return "apk";
        }
        if has("META-INF/MANIFEST.MF") && names.iter().any(|n| n.ends_with(".class")) {
            return "jar";
        }
        return "zip";
    }
    if b.starts_with(b"%PDF-") {
        return "pdf";
    }
    if b.starts_with(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1") {
        return "ole2";
    }
    if b.starts_with(b"{\\rtf") {
        return "rtf";
    }
    if b.starts_with(b"\x1f\x8b") {
        return "gzip";
    }
    if b.starts_with(b"#!") {
        return "script";
    }
    "data"
}

/// Names in a zip's local file headers, in order, at most `max`. Stops at
/// the first entry whose sizes are only in a data descriptor (they cannot
/// be skipped without decompressing).
fn zip_entry_names(b: &[u8], max: usize) -> Vec<String> {
    let mut names = Vec::new();
    let mut at = 0usize;
    while names.len() < max && b.get(at..at + 4) == Some(b"PK\x03\x04") {
        let (Some(flags), Some(compressed), Some(name_len), Some(extra_len)) =
            (u16_le(b, at + 6), u32_le(b, at + 18), u16_le(b, at + 26), u16_le(b, at + 28))
        else {
            break;
        };
        let name_start = at + 30;
        let Some(name) = b.get(name_start..name_start + usize::from(name_len)) else { break };
        names.push(String::from_utf8_lossy(name).into_owned());
        if flags & 0x0008 != 0 {
            break;
        }
        let Ok(compressed) = usize::try_from(compressed) else { break };
        at = name_start + usize::from(name_len) + usize::from(extra_len) + compressed;
    }
    names
}

/// Why an upload could not be unpacked.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum SampleError {
    #[error("not a readable zip archive: {0}")]
    NotZip(String),
    #[error("entry {name:?}: wrong password (samples are zipped with {CONVENTIONAL_PASSWORD:?} by convention)")]
    WrongPassword { name: String },
    #[error("entry {name:?}: {reason}")]
    Entry { name: String, reason: String },
    #[error("the archive holds more than {0} files")]
    TooManyEntries(usize),
    #[error("the archive unpacks to more than {0} bytes")]
    TooLarge(u64),
    #[error("writing the archive: {0}")]
    Write(String),
}

/// One file from an archive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unpacked {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// Files in a zip (directories skipped), decrypted with `password` where
/// encrypted. At most `max_entries` files and `max_bytes` in all.
pub fn unpack_zip(
    bytes: &[u8],
    password: &str,
    max_entries: usize,
    max_bytes: u64,
) -> Result<Vec<Unpacked>, SampleError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| SampleError::NotZip(e.to_string()))?;
    let mut out = Vec::new();
    let mut total = 0u64;
    for i in 0..archive.len() {
        let (encrypted, entry_name) = {
            let entry = archive.by_index_raw(i).map_err(|e| SampleError::NotZip(e.to_string()))?;
            if entry.is_dir() {
                continue;
            }
            (entry.encrypted(), entry.name().to_owned())
        };
        if out.len() >= max_entries {
            return Err(SampleError::TooManyEntries(max_entries));
        }
        let entry = if encrypted { archive.by_index_decrypt(i, password.as_bytes()) } else { archive.by_index(i) };
        let mut entry = match entry {
            Ok(e) => e,
            Err(zip::result::ZipError::InvalidPassword) => {
                return Err(SampleError::WrongPassword { name: entry_name });
            }
            Err(e) => return Err(SampleError::NotZip(e.to_string())),
        };
        let name = entry.name().to_owned();
        let remaining = max_bytes.saturating_sub(total);
        let mut buf = Vec::new();
        (&mut entry)
            .take(remaining.saturating_add(1))
            .read_to_end(&mut buf)
            // ZipCrypto lets 1 in 256 wrong passwords past its check byte;
            // they then fail as bad deflate data or a bad CRC.
            .map_err(|e| {
                if encrypted {
                    SampleError::WrongPassword { name: name.clone() }
                } else {
                    SampleError::Entry { name: name.clone(), reason: e.to_string() }
                }
            })?;
        total += buf.len() as u64;
        if total > max_bytes {
            return Err(SampleError::TooLarge(max_bytes));
        }
        out.push(Unpacked { name, bytes: buf });
    }
    Ok(out)
}

/// `bytes` as the single file `name` of a zip encrypted with `password`
/// (ZipCrypto, what sample-sharing tools expect).
pub fn pack_zip(name: &str, bytes: &[u8], password: &str) -> Result<Vec<u8>, SampleError> {
    use zip::unstable::write::FileOptionsExt;
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .with_deprecated_encryption(password.as_bytes());
    let write = |e: &dyn std::fmt::Display| SampleError::Write(e.to_string());
    w.start_file(name, options).map_err(|e| write(&e))?;
    w.write_all(bytes).map_err(|e| write(&e))?;
    Ok(w.finish().map_err(|e| write(&e))?.into_inner())
}
