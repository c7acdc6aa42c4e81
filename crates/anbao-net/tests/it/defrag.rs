//! Tests of `defrag`.
