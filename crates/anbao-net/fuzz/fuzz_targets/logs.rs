//! Every log reader over the same arbitrary bytes, line by line: never
//! panics, every line is counted exactly once, and every DNS name that comes
//! out is in presentation form (printable ASCII, no spaces); EVE's fast path
//! answers what serde would wherever it answers.
#![no_main]

use anbao_net::Message;
use anbao_net::logs::{LogFormat, LogOptions, LogReader, MAX_ANSWERS};
use libfuzzer_sys::fuzz_target;

fn presentation_form(name: &str) -> bool {
    name.bytes().all(|b| (0x21..=0x7e).contains(&b))
}

fuzz_target!(|data: &[u8]| {
    let _ = LogFormat::sniff(data);
    let options = LogOptions { utc_offset_seconds: i32::from(data.first().copied().unwrap_or(0)) * 900 - 43_200 };
    for format in LogFormat::ALL {
        let mut reader = LogReader::with_options(format, options);
        let mut lines = 0u64;
        for line in data.split(|&b| b == b'\n') {
            lines += 1;
            if format == LogFormat::SuricataEve
                && let Err(difference) = anbao_net::logs::eve_fast_path_agrees(line)
            {
                panic!("EVE fast path and serde differ: {difference}");
            }
            if let Ok(Some(event)) = reader.line(line) {
                let _ = event.ts.to_string();
                if let Message::Dns(dns) = &event.message {
                    assert!(presentation_form(&dns.qname), "{format}: qname {:?}", dns.qname);
                    assert!(dns.answers.len() <= MAX_ANSWERS);
                    for answer in &dns.answers {
                        assert!(presentation_form(&answer.name), "{format}: answer name {:?}", answer.name);
                    }
                }
            }
        }
        let counts = reader.counts();
        assert_eq!(counts.lines, lines);
        assert_eq!(counts.events + counts.headers + counts.skipped + counts.errors, lines, "{format}: {counts:?}");
    }
});
