//! HTTP/1.x request heads: method, target, Host, User-Agent.
//!
//! OWNER: helper B. Stub until filled.

use crate::event::Http;

#[derive(Debug, Clone, PartialEq)]
pub enum HeadStatus {
    /// A whole head; `consumed` bytes up to and including the blank line.
    Complete { request: Http, consumed: usize },
    /// Looks like a request so far; give more bytes.
    Partial,
    /// Not an HTTP/1.x request (or the head is over the size limit).
    NotHttp,
}

/// Largest request head we read.
pub const MAX_HEAD: usize = 16 * 1024;

pub fn parse_request_head(bytes: &[u8]) -> HeadStatus {
    let _ = bytes;
    HeadStatus::NotHttp
}
