//! Tests for the stix module (being written).
