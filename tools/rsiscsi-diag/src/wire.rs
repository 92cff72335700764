// SPDX-License-Identifier: GPL-2.0
//! One TCP connection carrying iSCSI PDUs: framing, padding and digests all
//! come from `rsiscsi_core::pdu`; this only moves bytes.

use crate::error::{core_err, protocol, DiagError};
use rsiscsi_core::pdu::{
    header_digest_bytes, pad_len, verify_header_digest, Bhs, DataDigest, Digests, PduLayout,
    TargetPdu, BHS_LEN, DIGEST_LEN,
};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// How long to wait for the target before giving up on a PDU.
pub const IO_TIMEOUT: Duration = Duration::from_secs(20);

/// A received PDU: its decoded header and its data segment.
#[derive(Debug)]
pub struct Inbound {
    /// The raw BHS (the login state machine decodes it itself).
    pub bhs: Bhs,
    /// The header.
    pub pdu: TargetPdu,
    /// The data segment, without padding or digest.
    pub data: Vec<u8>,
}

/// A connected socket and the digests in force on it.
#[derive(Debug)]
pub struct Wire {
    stream: TcpStream,
    digests: Digests,
    max_recv: u32,
}

fn io_err(what: &str, e: std::io::Error) -> DiagError {
    match e.kind() {
        ErrorKind::WouldBlock | ErrorKind::TimedOut => {
            DiagError::Protocol(format!("timed out {what}"))
        }
        ErrorKind::UnexpectedEof => {
            DiagError::Connection(format!("target closed the connection while {what}"))
        }
        _ => DiagError::Connection(format!("{what}: {e}")),
    }
}

impl Wire {
    /// Connects to `portal`; no digests until login says otherwise.
    pub fn connect(portal: SocketAddr) -> Result<Self, DiagError> {
        let stream = TcpStream::connect_timeout(&portal, Duration::from_secs(10))
            .map_err(|e| DiagError::Connection(format!("{portal}: {e}")))?;
        stream
            .set_read_timeout(Some(IO_TIMEOUT))
            .and_then(|()| stream.set_write_timeout(Some(IO_TIMEOUT)))
            .and_then(|()| stream.set_nodelay(true))
            .map_err(|e| DiagError::Connection(format!("{portal}: {e}")))?;
        Ok(Wire {
            stream,
            digests: Digests::NONE,
            // RFC 7143 §6.1 / §13.12: the login phase default.
            max_recv: 8192,
        })
    }

    /// Switches digests on or off (after the final Login Response).
    pub fn set_digests(&mut self, digests: Digests) {
        self.digests = digests;
    }

    /// Sets the largest data segment we accept (our declared
    /// MaxRecvDataSegmentLength).
    pub fn set_max_recv(&mut self, max: u32) {
        self.max_recv = max;
    }

    /// Sends one PDU: BHS, AHS, header digest, data, pad, data digest.
    pub fn send(&mut self, bhs: &Bhs, ahs: &[u8], data: &[u8]) -> Result<(), DiagError> {
        let pad = pad_len(u32::try_from(data.len()).map_err(protocol)?) as usize;
        let mut buf = Vec::with_capacity(BHS_LEN + ahs.len() + data.len() + pad + 2 * DIGEST_LEN);
        buf.extend_from_slice(bhs);
        buf.extend_from_slice(ahs);
        if self.digests.header {
            buf.extend_from_slice(&header_digest_bytes(bhs, ahs));
        }
        if !data.is_empty() {
            buf.extend_from_slice(data);
            buf.extend_from_slice(&[0u8; 3][..pad]);
            if self.digests.data {
                let mut d = DataDigest::new();
                d.update(data);
                buf.extend_from_slice(&d.finish_bytes());
            }
        }
        self.stream
            .write_all(&buf)
            .map_err(|e| io_err("sending", e))
    }

    fn read_exact(&mut self, buf: &mut [u8]) -> Result<(), DiagError> {
        self.stream
            .read_exact(buf)
            .map_err(|e| io_err("waiting for the target", e))
    }

    /// Receives one PDU, checking its digests.
    pub fn recv(&mut self) -> Result<Inbound, DiagError> {
        let mut bhs: Bhs = [0; BHS_LEN];
        self.read_exact(&mut bhs)?;
        let layout = PduLayout::from_bhs(&bhs, self.digests);
        layout
            .check_max_data(self.max_recv)
            .map_err(|_| protocol(format!("data segment of {} bytes", layout.data_len)))?;
        let mut rest = vec![0u8; layout.header_rest_len()];
        self.read_exact(&mut rest)?;
        let (ahs, hd) = rest.split_at(layout.ahs_len);
        if layout.header_digest {
            let wire: [u8; DIGEST_LEN] = hd.try_into().map_err(protocol)?;
            verify_header_digest(&bhs, ahs, wire).map_err(|e| core_err("header digest", e))?;
        }
        let pdu = TargetPdu::decode(&bhs).map_err(|e| core_err("bad PDU", e))?;
        let mut tail = vec![0u8; layout.data_rest_len()];
        self.read_exact(&mut tail)?;
        let data_len = layout.data_len as usize;
        let pad_end = data_len + usize::from(layout.pad);
        if layout.data_digest {
            let mut d = DataDigest::new();
            d.update(&tail[..data_len]);
            let wire: [u8; DIGEST_LEN] = tail[pad_end..].try_into().map_err(protocol)?;
            d.verify(&tail[data_len..pad_end], wire)
                .map_err(|e| core_err("data digest", e))?;
        }
        tail.truncate(data_len);
        Ok(Inbound {
            bhs,
            pdu,
            data: tail,
        })
    }

    /// Closes both directions (errors ignored: the peer may be gone).
    pub fn shutdown(&self) {
        let _ = self.stream.shutdown(std::net::Shutdown::Both);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsiscsi_core::pdu::{Lun, NopIn};
    use std::net::TcpListener;

    /// A NOP-In with `data`, framed the way `digests` say.
    fn nop_in(data: &[u8], digests: Digests) -> Vec<u8> {
        let mut bhs: Bhs = [0; BHS_LEN];
        NopIn {
            data_segment_length: data.len() as u32,
            lun: Lun::ZERO,
            itt: 7,
            ttt: 0xffff_ffff,
            stat_sn: 1,
            exp_cmd_sn: 2,
            max_cmd_sn: 3,
        }
        .encode(&mut bhs)
        .unwrap();
        let mut out = bhs.to_vec();
        if digests.header {
            out.extend_from_slice(&header_digest_bytes(&bhs, &[]));
        }
        out.extend_from_slice(data);
        out.extend_from_slice(&[0u8; 3][..pad_len(data.len() as u32) as usize]);
        if digests.data {
            let mut d = DataDigest::new();
            d.update(data);
            out.extend_from_slice(&d.finish_bytes());
        }
        out
    }

    fn pair() -> (Wire, TcpStream) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let w = Wire::connect(l.local_addr().unwrap()).unwrap();
        let (s, _) = l.accept().unwrap();
        (w, s)
    }

    #[test]
    fn receives_with_and_without_digests() {
        let both = Digests {
            header: true,
            data: true,
        };
        for digests in [Digests::NONE, both] {
            let (mut w, mut s) = pair();
            w.set_digests(digests);
            s.write_all(&nop_in(b"hello", digests)).unwrap();
            let inb = w.recv().unwrap();
            assert_eq!(inb.pdu.itt(), 7);
            assert_eq!(inb.data, b"hello");
        }
    }

    #[test]
    fn corrupt_data_digest_is_a_protocol_error() {
        let both = Digests {
            header: true,
            data: true,
        };
        let (mut w, mut s) = pair();
        w.set_digests(both);
        let mut bytes = nop_in(b"hello", both);
        let n = bytes.len();
        bytes[n - 1] ^= 0x80;
        s.write_all(&bytes).unwrap();
        assert!(matches!(w.recv(), Err(DiagError::Protocol(_))));
    }

    #[test]
    fn oversized_segment_and_early_close() {
        let (mut w, mut s) = pair();
        w.set_max_recv(4);
        s.write_all(&nop_in(b"hello", Digests::NONE)).unwrap();
        assert!(matches!(w.recv(), Err(DiagError::Protocol(_))));
        let (mut w, s) = pair();
        drop(s);
        assert!(matches!(w.recv(), Err(DiagError::Connection(_))));
    }

    #[test]
    fn sends_what_it_frames() {
        let (mut w, mut s) = pair();
        w.set_digests(Digests {
            header: true,
            data: true,
        });
        let bhs: Bhs = [0x40; BHS_LEN];
        w.send(&bhs, &[], b"abcde").unwrap();
        let mut got = vec![0u8; BHS_LEN + 4 + 8 + 4];
        s.read_exact(&mut got).unwrap();
        assert_eq!(&got[..BHS_LEN], &bhs[..]);
        assert_eq!(&got[BHS_LEN + 4..BHS_LEN + 9], b"abcde");
        assert_eq!(&got[BHS_LEN + 9..BHS_LEN + 12], &[0, 0, 0]);
    }
}
