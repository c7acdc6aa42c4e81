//! Tests for the export module (being written).
