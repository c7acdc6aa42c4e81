//! Tests of `dns`.
