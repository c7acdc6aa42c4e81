//! Big-endian reads that return errors naming what and where.

use crate::error::FlowError;

/// A read-only view of a buffer that remembers where it starts in the
/// datagram (`base`), so errors carry datagram offsets.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bytes<'a> {
    pub data: &'a [u8],
    pub base: usize,
}

impl<'a> Bytes<'a> {
    pub fn new(data: &'a [u8], base: usize) -> Self {
        Bytes { data, base }
    }

    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// `len` bytes at `at` (relative), or `Truncated` naming `what`.
    pub fn slice(&self, at: usize, len: usize, what: &'static str) -> Result<Bytes<'a>, FlowError> {
        at.checked_add(len)
            .and_then(|end| self.data.get(at..end))
            .map(|data| Bytes { data, base: self.base.saturating_add(at) })
            .ok_or(FlowError::Truncated {
                what,
                at: self.base.saturating_add(at),
                needed: len,
                available: self.data.len().saturating_sub(at),
            })
    }

    /// Everything from `at` on (empty past the end).
    pub fn rest(&self, at: usize) -> Bytes<'a> {
        Bytes { data: self.data.get(at..).unwrap_or_default(), base: self.base.saturating_add(at) }
    }

    pub fn u8(&self, at: usize, what: &'static str) -> Result<u8, FlowError> {
        let b = self.slice(at, 1, what)?;
        Ok(b.data.first().copied().unwrap_or_default())
    }

    pub fn u16(&self, at: usize, what: &'static str) -> Result<u16, FlowError> {
        let b = self.slice(at, 2, what)?;
        Ok(u16::from_be_bytes(b.data.try_into().unwrap_or_default()))
    }

    pub fn u32(&self, at: usize, what: &'static str) -> Result<u32, FlowError> {
        let b = self.slice(at, 4, what)?;
        Ok(u32::from_be_bytes(b.data.try_into().unwrap_or_default()))
    }

    pub fn array<const N: usize>(&self, at: usize, what: &'static str) -> Result<[u8; N], FlowError> {
        let b = self.slice(at, N, what)?;
        Ok(b.data.try_into().unwrap_or([0; N]))
    }
}

/// An unsigned integer of 1 to 8 bytes (IPFIX reduced-size encoding);
/// `None` for other lengths.
#[inline]
pub(crate) fn uint(bytes: &[u8]) -> Option<u64> {
    // The common widths without the byte loop.
    match *bytes {
        [a] => Some(u64::from(a)),
        [a, b] => Some(u64::from(u16::from_be_bytes([a, b]))),
        [a, b, c, d] => Some(u64::from(u32::from_be_bytes([a, b, c, d]))),
        [a, b, c, d, e, f, g, h] => Some(u64::from_be_bytes([a, b, c, d, e, f, g, h])),
        [] => None,
        _ if bytes.len() > 8 => None,
        _ => Some(bytes.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_report_datagram_offsets() {
        let b = Bytes::new(&[1, 2, 3], 10);
        assert_eq!(b.u16(1, "x").unwrap(), 0x0203);
        assert_eq!(b.u32(1, "field"), Err(FlowError::Truncated { what: "field", at: 11, needed: 4, available: 2 }));
        assert!(b.slice(usize::MAX, 2, "huge").unwrap_err().to_string().contains("byte"));
        assert_eq!(uint(&[1, 0]), Some(256));
        assert_eq!(uint(&[0; 9]), None);
    }
}
