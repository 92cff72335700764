// SPDX-License-Identifier: GPL-2.0
//! Netlink attributes (TLVs): building a request and reading a reply.

use std::net::IpAddr;

/// Netlink attributes are padded to 4 bytes.
pub const NLA_ALIGN: usize = 4;
/// Header: u16 length (header included), u16 type.
pub const NLA_HDRLEN: usize = 4;
/// Type bits (the top two are the nested / byte-order flags).
const NLA_TYPE_MASK: u16 = 0x3fff;
/// Set on the type of an attribute whose payload is attributes: strict
/// validation rejects a nested attribute without it.
pub const NLA_F_NESTED: u16 = 0x8000;

/// Rounds `n` up to the attribute alignment.
pub fn align(n: usize) -> usize {
    (n + NLA_ALIGN - 1) & !(NLA_ALIGN - 1)
}

/// A request's attribute section, built in order.
#[derive(Debug, Default, Clone)]
pub struct AttrBuf {
    buf: Vec<u8>,
}

impl AttrBuf {
    /// Empty.
    pub fn new() -> Self {
        Self::default()
    }

    /// Raw attribute `ty` with payload `data`.
    pub fn put(&mut self, ty: u16, data: &[u8]) -> &mut Self {
        let len = NLA_HDRLEN + data.len();
        self.buf.extend_from_slice(&(len as u16).to_ne_bytes());
        self.buf.extend_from_slice(&ty.to_ne_bytes());
        self.buf.extend_from_slice(data);
        self.buf.resize(align(self.buf.len()), 0);
        self
    }

    /// A u8.
    pub fn put_u8(&mut self, ty: u16, v: u8) -> &mut Self {
        self.put(ty, &[v])
    }

    /// A u16.
    pub fn put_u16(&mut self, ty: u16, v: u16) -> &mut Self {
        self.put(ty, &v.to_ne_bytes())
    }

    /// A u32.
    pub fn put_u32(&mut self, ty: u16, v: u32) -> &mut Self {
        self.put(ty, &v.to_ne_bytes())
    }

    /// An address: its 4 or 16 bytes in network order.
    pub fn put_ip(&mut self, ty: u16, ip: IpAddr) -> &mut Self {
        match ip {
            IpAddr::V4(a) => self.put(ty, &a.octets()),
            IpAddr::V6(a) => self.put(ty, &a.octets()),
        }
    }

    /// A NUL-terminated string.
    pub fn put_str(&mut self, ty: u16, s: &str) -> &mut Self {
        let mut v = s.as_bytes().to_vec();
        v.push(0);
        self.put(ty, &v)
    }

    /// Attribute `ty` holding the attributes of `inner`, marked nested.
    pub fn put_nested(&mut self, ty: u16, inner: &AttrBuf) -> &mut Self {
        self.put(ty | NLA_F_NESTED, inner.bytes())
    }

    /// Every attribute of `other`, after ours (both are padded, so the
    /// bytes simply follow).
    pub fn append(&mut self, other: &AttrBuf) -> &mut Self {
        self.buf.extend_from_slice(&other.buf);
        self
    }

    /// The encoded bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }
}

/// Attributes of a received message, in order of appearance.
#[derive(Debug, Clone, Default)]
pub struct Attrs<'a> {
    list: Vec<(u16, &'a [u8])>,
}

impl<'a> Attrs<'a> {
    /// Parses `buf`; a truncated tail is ignored.
    pub fn parse(mut buf: &'a [u8]) -> Attrs<'a> {
        let mut list = Vec::new();
        while buf.len() >= NLA_HDRLEN {
            let len = usize::from(u16::from_ne_bytes([buf[0], buf[1]]));
            let ty = u16::from_ne_bytes([buf[2], buf[3]]) & NLA_TYPE_MASK;
            if len < NLA_HDRLEN || len > buf.len() {
                break;
            }
            list.push((ty, &buf[NLA_HDRLEN..len]));
            buf = &buf[align(len).min(buf.len())..];
        }
        Attrs { list }
    }

    /// The first attribute `ty`.
    pub fn get(&self, ty: u16) -> Option<&'a [u8]> {
        self.list.iter().find(|(t, _)| *t == ty).map(|(_, d)| *d)
    }

    /// Every attribute `ty` (repeated nests).
    pub fn all(&self, ty: u16) -> impl Iterator<Item = &'a [u8]> + '_ {
        self.list
            .iter()
            .filter(move |(t, _)| *t == ty)
            .map(|(_, d)| *d)
    }

    /// Every attribute regardless of type (members of a nested array).
    pub fn all_any(&self) -> impl Iterator<Item = &'a [u8]> + '_ {
        self.list.iter().map(|(_, d)| *d)
    }

    /// The types present, in order (flags masked).
    #[cfg(test)]
    pub fn types(&self) -> impl Iterator<Item = u16> + '_ {
        self.list.iter().map(|(t, _)| *t)
    }

    /// A u8.
    pub fn u8(&self, ty: u16) -> Option<u8> {
        self.get(ty).and_then(|d| d.first().copied())
    }

    /// A u16.
    pub fn u16(&self, ty: u16) -> Option<u16> {
        self.get(ty)
            .and_then(|d| Some(u16::from_ne_bytes(d.get(..2)?.try_into().ok()?)))
    }

    /// A u32.
    pub fn u32(&self, ty: u16) -> Option<u32> {
        self.get(ty)
            .and_then(|d| Some(u32::from_ne_bytes(d.get(..4)?.try_into().ok()?)))
    }

    /// A u64.
    pub fn u64(&self, ty: u16) -> Option<u64> {
        self.get(ty)
            .and_then(|d| Some(u64::from_ne_bytes(d.get(..8)?.try_into().ok()?)))
    }

    /// A string (up to its NUL).
    pub fn str(&self, ty: u16) -> Option<String> {
        self.get(ty).map(|d| {
            let end = d.iter().position(|&b| b == 0).unwrap_or(d.len());
            String::from_utf8_lossy(&d[..end]).into_owned()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_is_padded_and_round_trips() {
        let mut b = AttrBuf::new();
        b.put_u8(14, 1)
            .put_u16(7, 3260)
            .put_u32(2, 42)
            .put_str(3, "iqn.x");
        let bytes = b.bytes();
        // u8: 4 header + 1 payload, padded to 8.
        assert_eq!(&bytes[..4], &[5, 0, 14, 0]);
        assert_eq!(bytes.len(), 8 + 8 + 8 + align(4 + 6));
        let a = Attrs::parse(bytes);
        assert_eq!(a.u8(14), Some(1));
        assert_eq!(a.u16(7), Some(3260));
        assert_eq!(a.u32(2), Some(42));
        assert_eq!(a.str(3).as_deref(), Some("iqn.x"));
        assert_eq!(a.get(99), None);
    }

    #[test]
    fn parse_stops_at_garbage() {
        let mut b = AttrBuf::new();
        b.put_u32(2, 1);
        let mut v = b.bytes().to_vec();
        v.extend_from_slice(&[200, 0, 1, 0]);
        let a = Attrs::parse(&v);
        assert_eq!(a.u32(2), Some(1));
        assert_eq!(a.list.len(), 1);
    }

    #[test]
    fn nested_is_flagged_and_parses_back() {
        let mut inner = AttrBuf::new();
        inner.put_u8(14, 1);
        let mut b = AttrBuf::new();
        b.put_nested(29, &inner);
        let bytes = b.bytes();
        assert_eq!(u16::from_ne_bytes([bytes[2], bytes[3]]), 29 | NLA_F_NESTED);
        let a = Attrs::parse(bytes);
        assert_eq!(Attrs::parse(a.get(29).unwrap()).u8(14), Some(1));
    }

    #[test]
    fn nested_flag_is_masked() {
        let mut v = vec![8u8, 0];
        v.extend_from_slice(&(29u16 | 0x8000).to_ne_bytes());
        v.extend_from_slice(&[1, 2, 3, 4]);
        let a = Attrs::parse(&v);
        assert_eq!(a.get(29), Some(&[1u8, 2, 3, 4][..]));
    }
}
