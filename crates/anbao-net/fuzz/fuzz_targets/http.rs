//! HTTP request heads: never panics; a complete head is stable (the same
//! when given only its own bytes) and within MAX_HEAD; partial only under
//! MAX_HEAD.
#![no_main]

use anbao_net::http::{HeadStatus, MAX_HEAD, parse_request_head};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match parse_request_head(data) {
        HeadStatus::Complete { request, consumed } => {
            assert!(consumed <= data.len() && consumed <= MAX_HEAD);
            assert!(!request.method.is_empty() && !request.uri.is_empty());
            let again = parse_request_head(&data[..consumed]);
            assert_eq!(again, HeadStatus::Complete { request, consumed });
        }
        HeadStatus::Partial => assert!(data.len() < MAX_HEAD),
        HeadStatus::NotHttp => {}
    }
});
