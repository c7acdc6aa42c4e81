//! DNS messages: never panics; every printed name (qname, owners, name
//! data) follows the escaping rules of event.rs and fits 255 wire bytes;
//! answers stay under the limit; both entry points agree.
#![no_main]

use anbao_net::dns::{MAX_ANSWERS, parse_message, parse_message_detailed};
use anbao_net::event::AnswerData;
use libfuzzer_sys::fuzz_target;

/// `.` alone, or non-empty labels joined by `.`, each of `!`..`~` bytes with
/// `.`, `\` and bytes outside that range written as `\DDD`.
fn check_name(name: &str) {
    if name == "." {
        return;
    }
    let mut wire_len = 1;
    for label in name.split('.') {
        let mut bytes = label.bytes();
        let mut label_len = 0;
        while let Some(byte) = bytes.next() {
            assert!(byte.is_ascii_graphic(), "{name:?}: byte {byte:#x} is not escaped");
            if byte == b'\\' {
                let digits: Vec<u8> = bytes.by_ref().take(3).collect();
                assert!(digits.len() == 3 && digits.iter().all(u8::is_ascii_digit), "{name:?}: bad escape");
                let value: u32 = std::str::from_utf8(&digits).unwrap().parse().unwrap();
                let value = u8::try_from(value).unwrap_or_else(|_| panic!("{name:?}: escape over 255"));
                assert!(
                    !value.is_ascii_graphic() || value == b'.' || value == b'\\',
                    "{name:?}: {value:#x} escaped needlessly"
                );
            }
            label_len += 1;
        }
        assert!((1..=63).contains(&label_len), "{name:?}: label of {label_len} bytes");
        wire_len += 1 + label_len;
    }
    assert!(wire_len <= 255, "{name:?}: {wire_len} bytes on the wire");
}

fuzz_target!(|data: &[u8]| {
    let Ok(parsed) = parse_message_detailed(data) else {
        assert!(parse_message(data).is_err());
        return;
    };
    let dns = &parsed.dns;
    check_name(&dns.qname);
    assert!(dns.answers.len() <= MAX_ANSWERS);
    for answer in &dns.answers {
        check_name(&answer.name);
        if let AnswerData::Name(name) = &answer.data {
            check_name(name);
        }
    }
    if let Some(damage) = &parsed.damage {
        assert!(damage.offset <= data.len(), "{damage:?} beyond {} bytes", data.len());
    }
    assert_eq!(parse_message(data).as_ref(), Ok(dns));
});
