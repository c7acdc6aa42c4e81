//! Tests of `quic`.
