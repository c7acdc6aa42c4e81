//! Integration tests of anbao-inventory: the files in `test_data/`, round
//! trips through our exports, and a real nmap scan of local listeners.

mod csv_files;
mod golden;
mod json_files;
mod nmap_files;
mod nmap_real;
mod round_trip;

use std::path::PathBuf;

/// A file from the crate's `test_data/`.
pub fn test_data(name: &str) -> Vec<u8> {
    let path = test_data_dir().join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

pub fn test_data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("test_data")
}

/// (line, field) of each error, for exact comparisons.
pub fn error_places(p: &anbao_inventory::ImportParse) -> Vec<(usize, Option<&str>)> {
    p.errors.iter().map(|e| (e.line, e.field.as_deref())).collect()
}
