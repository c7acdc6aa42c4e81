//! Tests for the misp module (being written).
