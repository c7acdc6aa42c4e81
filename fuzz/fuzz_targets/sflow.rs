//! Fuzzes sFlow v5: arbitrary bytes after the version field ([0u8, 0, 0, 5]
//! prepended to each input) into one persistent decoder (see flow_common.rs).
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "flow_common.rs"]
mod flow_common;

fuzz_target!(|data: &[u8]| flow_common::decode_after_version(&[0u8, 0, 0, 5], data));
