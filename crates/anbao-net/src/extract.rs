//! The [`Extractor`]: frame → link → IP (defragmented) → UDP/TCP
//! (reassembled) → DNS / HTTP / TLS / QUIC → [`Event`]s.
//!
//! OWNER: helper A (driver), using helper B's application decoders.

use crate::capture::Frame;
use crate::event::Event;

/// Bounds on the state the extractor keeps.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_tcp_flows: usize,
    pub max_fragment_datagrams: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_tcp_flows: 65_536, max_fragment_datagrams: 4_096 }
    }
}

/// Counters a user reads at the end of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ExtractStats {
    pub frames: u64,
    pub events: u64,
}

#[derive(Debug)]
pub struct Extractor {
    limits: Limits,
    stats: ExtractStats,
}

impl Extractor {
    pub fn new(limits: Limits) -> Self {
        Extractor { limits, stats: ExtractStats::default() }
    }

    /// Decodes one frame, calling `out` for each message it completes.
    pub fn frame(&mut self, frame: &Frame<'_>, out: &mut dyn FnMut(Event)) -> Option<crate::event::Endpoints> {
        let _ = (frame, out, self.limits);
        self.stats.frames += 1;
        None
    }

    pub fn stats(&self) -> &ExtractStats {
        &self.stats
    }
}
