//! Integration tests of anbao-detect: events built as the decoders build
//! them, matched against an index built from indicators.

mod heuristics;
mod matching;
