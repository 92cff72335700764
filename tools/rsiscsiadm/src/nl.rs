// SPDX-License-Identifier: GPL-2.0
//! A generic netlink socket: family lookup, requests with acks and extended
//! ack messages, dumps, and multicast membership.

use crate::attrs::{align, AttrBuf, Attrs};
use crate::error::NlError;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

const NLMSG_HDRLEN: usize = 16;
const GENL_HDRLEN: usize = 4;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const NLM_F_REQUEST: u16 = 1;
const NLM_F_ACK: u16 = 4;
const NLM_F_DUMP: u16 = 0x300;
const NLM_F_CAPPED: u16 = 0x100;
const NLM_F_ACK_TLVS: u16 = 0x200;
const NLMSGERR_ATTR_MSG: u16 = 1;
const SOL_NETLINK: libc::c_int = 270;
const NETLINK_ADD_MEMBERSHIP: libc::c_int = 1;
const NETLINK_CAP_ACK: libc::c_int = 10;
const NETLINK_EXT_ACK: libc::c_int = 11;
const GENL_ID_CTRL: u16 = 0x10;
const CTRL_CMD_GETFAMILY: u8 = 3;
const CTRL_ATTR_FAMILY_ID: u16 = 1;
const CTRL_ATTR_FAMILY_NAME: u16 = 2;
const CTRL_ATTR_MCAST_GROUPS: u16 = 7;
const CTRL_ATTR_MCAST_GRP_NAME: u16 = 1;
const CTRL_ATTR_MCAST_GRP_ID: u16 = 2;

/// A resolved generic netlink family.
#[derive(Debug, Clone)]
pub struct Family {
    /// The message type to use.
    pub id: u16,
    /// Multicast groups: name, id.
    pub groups: Vec<(String, u32)>,
}

/// One received netlink message.
#[derive(Debug, Clone)]
pub struct Message {
    /// nlmsg_type.
    pub ty: u16,
    /// nlmsg_flags.
    pub flags: u16,
    /// nlmsg_seq.
    pub seq: u32,
    /// Everything after the netlink header.
    pub payload: Vec<u8>,
}

impl Message {
    /// The genetlink command (first payload byte).
    pub fn genl_cmd(&self) -> u8 {
        self.payload.first().copied().unwrap_or(0)
    }

    /// The attributes after the genetlink header.
    pub fn attrs(&self) -> Attrs<'_> {
        Attrs::parse(self.payload.get(GENL_HDRLEN..).unwrap_or(&[]))
    }
}

/// Encodes one genetlink request.
pub fn encode(ty: u16, flags: u16, seq: u32, cmd: u8, version: u8, attrs: &[u8]) -> Vec<u8> {
    let len = NLMSG_HDRLEN + GENL_HDRLEN + attrs.len();
    let mut m = Vec::with_capacity(len);
    m.extend_from_slice(&(len as u32).to_ne_bytes());
    m.extend_from_slice(&ty.to_ne_bytes());
    m.extend_from_slice(&flags.to_ne_bytes());
    m.extend_from_slice(&seq.to_ne_bytes());
    m.extend_from_slice(&0u32.to_ne_bytes());
    m.extend_from_slice(&[cmd, version, 0, 0]);
    m.extend_from_slice(attrs);
    m
}

/// Splits a datagram into messages.
pub fn split(mut buf: &[u8]) -> Vec<Message> {
    let mut out = Vec::new();
    while buf.len() >= NLMSG_HDRLEN {
        let len = u32::from_ne_bytes(buf[0..4].try_into().unwrap_or_default()) as usize;
        if len < NLMSG_HDRLEN || len > buf.len() {
            break;
        }
        out.push(Message {
            ty: u16::from_ne_bytes([buf[4], buf[5]]),
            flags: u16::from_ne_bytes([buf[6], buf[7]]),
            seq: u32::from_ne_bytes(buf[8..12].try_into().unwrap_or_default()),
            payload: buf[NLMSG_HDRLEN..len].to_vec(),
        });
        buf = &buf[align(len).min(buf.len())..];
    }
    out
}

/// Decodes an NLMSG_ERROR (or NLMSG_DONE) payload: errno (positive, 0 for
/// an ack) and the extended ack message.
pub fn decode_error(m: &Message) -> NlError {
    let p = &m.payload;
    let err = p
        .get(..4)
        .map_or(0, |b| i32::from_ne_bytes(b.try_into().unwrap_or_default()));
    let mut msg = None;
    if m.flags & NLM_F_ACK_TLVS != 0 {
        let tlv_start = if m.ty == NLMSG_DONE {
            4
        } else if m.flags & NLM_F_CAPPED != 0 {
            4 + NLMSG_HDRLEN
        } else {
            // The whole request is echoed: skip it by its own length.
            let inner = p.get(4..8).map_or(0, |b| {
                u32::from_ne_bytes(b.try_into().unwrap_or_default()) as usize
            });
            4 + align(inner)
        };
        if let Some(t) = p.get(tlv_start..) {
            msg = Attrs::parse(t)
                .str(NLMSGERR_ATTR_MSG)
                .filter(|s| !s.is_empty());
        }
    }
    NlError { errno: -err, msg }
}

/// A NETLINK_GENERIC socket.
pub struct Nl {
    fd: OwnedFd,
    seq: u32,
}

fn io_err(e: io::Error) -> NlError {
    NlError {
        errno: e.raw_os_error().unwrap_or(libc::EIO),
        msg: Some(e.to_string()),
    }
}

impl Nl {
    /// Opens the socket, asking for extended acks and capped echoes.
    pub fn open() -> io::Result<Nl> {
        // SAFETY: plain socket(2) call.
        let fd = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                libc::NETLINK_GENERIC,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` is a new descriptor we own.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let nl = Nl {
            fd,
            seq: std::process::id(),
        };
        nl.setsockopt(NETLINK_EXT_ACK, 1)?;
        nl.setsockopt(NETLINK_CAP_ACK, 1)?;
        Ok(nl)
    }

    fn setsockopt(&self, opt: libc::c_int, v: libc::c_int) -> io::Result<()> {
        // SAFETY: `v` is a valid c_int for the duration of the call.
        let r = unsafe {
            libc::setsockopt(
                self.fd.as_raw_fd(),
                SOL_NETLINK,
                opt,
                (&v as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Sends raw bytes to the kernel.
    pub fn send_raw(&self, msg: &[u8]) -> io::Result<()> {
        // SAFETY: a zeroed sockaddr_nl addresses the kernel.
        let mut addr: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        addr.nl_family = libc::AF_NETLINK as libc::sa_family_t;
        // SAFETY: `msg` and `addr` are valid for the call.
        let r = unsafe {
            libc::sendto(
                self.fd.as_raw_fd(),
                msg.as_ptr().cast(),
                msg.len(),
                0,
                (&addr as *const libc::sockaddr_nl).cast(),
                std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
            )
        };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Receives one datagram's messages.
    pub fn recv(&self) -> io::Result<Vec<Message>> {
        let mut buf = vec![0u8; 65536];
        loop {
            // SAFETY: `buf` is writable for its length.
            let r =
                unsafe { libc::recv(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
            if r < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            return Ok(split(&buf[..r as usize]));
        }
    }

    fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }

    /// Sends request `cmd` to `family` and collects its replies until the
    /// ack; a negative ack is the error.
    pub fn request(
        &mut self,
        family: u16,
        cmd: u8,
        version: u8,
        attrs: &AttrBuf,
    ) -> Result<Vec<Message>, NlError> {
        let seq = self.next_seq();
        let msg = encode(
            family,
            NLM_F_REQUEST | NLM_F_ACK,
            seq,
            cmd,
            version,
            attrs.bytes(),
        );
        self.send_raw(&msg).map_err(io_err)?;
        let mut replies = Vec::new();
        loop {
            for m in self.recv().map_err(io_err)? {
                if m.seq != seq {
                    continue;
                }
                if m.ty == NLMSG_ERROR {
                    let e = decode_error(&m);
                    return if e.errno == 0 { Ok(replies) } else { Err(e) };
                }
                replies.push(m);
            }
        }
    }

    /// Dumps `cmd` of `family`: every message until NLMSG_DONE.
    pub fn dump(
        &mut self,
        family: u16,
        cmd: u8,
        version: u8,
        attrs: &AttrBuf,
    ) -> Result<Vec<Message>, NlError> {
        let seq = self.next_seq();
        let msg = encode(
            family,
            NLM_F_REQUEST | NLM_F_DUMP,
            seq,
            cmd,
            version,
            attrs.bytes(),
        );
        self.send_raw(&msg).map_err(io_err)?;
        let mut out = Vec::new();
        loop {
            for m in self.recv().map_err(io_err)? {
                if m.seq != seq {
                    continue;
                }
                match m.ty {
                    NLMSG_DONE => {
                        let e = decode_error(&m);
                        return if e.errno == 0 { Ok(out) } else { Err(e) };
                    }
                    NLMSG_ERROR => {
                        let e = decode_error(&m);
                        if e.errno != 0 {
                            return Err(e);
                        }
                    }
                    _ => out.push(m),
                }
            }
        }
    }

    /// Looks family `name` up; `ENOENT` if no such family is registered.
    pub fn resolve(&mut self, name: &str) -> Result<Family, NlError> {
        let mut a = AttrBuf::new();
        a.put_str(CTRL_ATTR_FAMILY_NAME, name);
        let replies = self.request(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1, &a)?;
        let m = replies.first().ok_or(NlError {
            errno: libc::ENOENT,
            msg: None,
        })?;
        let attrs = m.attrs();
        let id = attrs.u16(CTRL_ATTR_FAMILY_ID).ok_or(NlError {
            errno: libc::EPROTO,
            msg: Some("no family id in the reply".into()),
        })?;
        let mut groups = Vec::new();
        if let Some(g) = attrs.get(CTRL_ATTR_MCAST_GROUPS) {
            for one in Attrs::parse(g).all_any() {
                let ga = Attrs::parse(one);
                if let (Some(n), Some(i)) = (
                    ga.str(CTRL_ATTR_MCAST_GRP_NAME),
                    ga.u32(CTRL_ATTR_MCAST_GRP_ID),
                ) {
                    groups.push((n, i));
                }
            }
        }
        Ok(Family { id, groups })
    }

    /// Joins multicast group `group`.
    pub fn join(&self, group: u32) -> io::Result<()> {
        self.setsockopt(NETLINK_ADD_MEMBERSHIP, group as libc::c_int)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_then_split() {
        let mut a = AttrBuf::new();
        a.put_u32(2, 7);
        let m = encode(0x20, NLM_F_REQUEST, 9, 3, 1, a.bytes());
        assert_eq!(m.len(), 16 + 4 + 8);
        let v = split(&m);
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].ty, 0x20);
        assert_eq!(v[0].seq, 9);
        assert_eq!(v[0].genl_cmd(), 3);
        assert_eq!(v[0].attrs().u32(2), Some(7));
    }

    #[test]
    fn error_with_extack_message() {
        // errno -13, capped echo of a 16-byte header, then NLMSGERR_ATTR_MSG.
        let mut p = (-13i32).to_ne_bytes().to_vec();
        p.extend_from_slice(&[0u8; 16]);
        let mut t = AttrBuf::new();
        t.put_str(NLMSGERR_ATTR_MSG, "authentication failed (0x0201)");
        p.extend_from_slice(t.bytes());
        let m = Message {
            ty: NLMSG_ERROR,
            flags: NLM_F_CAPPED | NLM_F_ACK_TLVS,
            seq: 1,
            payload: p,
        };
        let e = decode_error(&m);
        assert_eq!(e.errno, 13);
        assert_eq!(e.msg.as_deref(), Some("authentication failed (0x0201)"));
    }

    #[test]
    fn plain_ack() {
        let m = Message {
            ty: NLMSG_ERROR,
            flags: NLM_F_CAPPED,
            seq: 1,
            payload: vec![0; 20],
        };
        assert_eq!(decode_error(&m).errno, 0);
    }
}
