//! Tests for the lists module (being written).
