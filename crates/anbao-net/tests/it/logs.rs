//! Tests of `logs`.
