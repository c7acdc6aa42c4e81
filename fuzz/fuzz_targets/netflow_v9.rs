//! Fuzzes NetFlow v9: arbitrary bytes after the version (0x0009 prepended to each
//! datagram) into one persistent decoder with small limits, so template
//! state, waiting data sets and their bounds are exercised across inputs.
//! The decoder must never panic and its held state must stay within the
//! configured bounds.
#![no_main]

use std::cell::RefCell;
use std::time::Duration;

use anbao_flow::{Decoder, DecoderConfig, Timestamp};
use libfuzzer_sys::fuzz_target;

thread_local! {
    static DECODER: RefCell<(Decoder, i64)> = RefCell::new((
        Decoder::new(DecoderConfig {
            max_sources: 8,
            max_templates_per_source: 16,
            max_template_fields: 512,
            max_pending_sets: 4,
            max_pending_bytes: 16 << 10,
            pending_max_age: Duration::from_secs(5),
            ..DecoderConfig::default()
        }),
        0,
    ));
}

fuzz_target!(|data: &[u8]| {
    // The first byte picks one of four exporters.
    let Some((&who, payload)) = data.split_first() else { return };
    let mut datagram = Vec::with_capacity(payload.len() + 2);
    datagram.extend_from_slice(&[0u8, 9]);
    datagram.extend_from_slice(payload);
    DECODER.with(|d| {
        let (decoder, clock) = &mut *d.borrow_mut();
        *clock += 1;
        let exporter = std::net::IpAddr::from([192, 0, 2, who & 3]);
        let _ = decoder.decode(exporter, Timestamp(*clock * 1_000_000_000), &datagram, &mut |f| {
            std::hint::black_box(f);
        });
        assert!(decoder.sources().count() <= 8);
        assert!(decoder.sources().all(|(_, h)| h.templates <= 16));
    });
});
