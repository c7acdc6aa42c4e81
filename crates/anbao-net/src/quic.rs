//! QUIC Initial packets (RFC 9000/9001, and v2 RFC 9369): derive the public
//! Initial keys from the client's Destination Connection ID, remove header
//! protection, decrypt, and collect CRYPTO frames until the ClientHello is
//! whole (it may span several Initial packets and datagrams).
//!
//! OWNER: helper B. Stub until filled.
