//! Tests for the compress module (being written).
