//! Integration tests of anbao-intel: normalisation tables, index matching
//! rules, and the index compared with a linear scan.

mod index;
mod normalize;
mod prop;
mod stix;
mod misp;
mod lists;
mod allowlist;
mod export;
mod compress;
