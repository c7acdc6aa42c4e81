//! Tests for the allowlist module (being written).
