//! What the four flow-export targets share: one persistent decoder with
//! small limits per fuzzing process, so template state, waiting data sets
//! and their bounds are exercised across inputs. The decoder must never
//! panic and its held state must stay within the configured bounds.

use std::cell::RefCell;
use std::time::Duration;

use anbao_flow::{Decoder, DecoderConfig, Timestamp};

const MAX_SOURCES: usize = 8;
const MAX_TEMPLATES: usize = 16;

thread_local! {
    static DECODER: RefCell<(Decoder, i64)> = RefCell::new((
        Decoder::new(DecoderConfig {
            max_sources: MAX_SOURCES,
            max_templates_per_source: MAX_TEMPLATES,
            max_template_fields: 512,
            max_pending_sets: 4,
            max_pending_bytes: 16 << 10,
            pending_max_age: Duration::from_secs(5),
            ..DecoderConfig::default()
        }),
        0,
    ));
}

/// `data`'s first byte picks one of four exporters; the rest follows
/// `version` (the format's version field, prepended so that every input
/// reaches that format's decoder).
pub fn decode_after_version(version: &[u8], data: &[u8]) {
    let Some((&who, payload)) = data.split_first() else { return };
    let mut datagram = Vec::with_capacity(payload.len() + version.len());
    datagram.extend_from_slice(version);
    datagram.extend_from_slice(payload);
    DECODER.with(|d| {
        let (decoder, clock) = &mut *d.borrow_mut();
        *clock += 1;
        let exporter = std::net::IpAddr::from([192, 0, 2, who & 3]);
        let _ = decoder.decode(exporter, Timestamp(*clock * 1_000_000_000), &datagram, &mut |f| {
            std::hint::black_box(f);
        });
        assert!(decoder.sources().count() <= MAX_SOURCES);
        assert!(decoder.sources().all(|(_, h)| h.templates <= MAX_TEMPLATES as u64));
    });
}
