//! Integration tests of anbao-intel: normalisation tables, index matching
//! rules, and the index compared with a linear scan.

mod allowlist;
mod compress;
mod export;
mod index;
mod lists;
mod misp;
mod normalize;
mod prop;
mod sample;
mod stix;
