// SPDX-License-Identifier: GPL-2.0
//! SendTargets discovery (RFC 7143 §13.3 and its SendTargets appendix): the Text
//! request payload and the parsing of the target list that comes back.
//!
//! The response is a run of `TargetName=` keys, each followed by zero or
//! more `TargetAddress=<host>[:<port>],<tpgt>` keys for the portals through
//! which that target is reached. A long answer arrives in several Text
//! responses with the C bit; glue them with a
//! [`TextAssembler`] and hand the complete text to
//! [`Targets`]; [`SendTargets`] runs the whole Text exchange that way.

use super::keys::KeyId;
use super::pdu::{Bhs, Lun, PduError, TextRequest, TextResponse, RESERVED_TAG};
use super::text::{Pair, Pairs, TextAssembler, TextError, TextWriter};
use core::net::IpAddr;

/// Well-known iSCSI TCP port (RFC 7143 §13.8: the default when a
/// TargetAddress omits the port).
pub const DEFAULT_PORT: u16 = 3260;

/// Which targets a SendTargets request asks for (RFC 7143 §13.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Query<'a> {
    /// `SendTargets=All`: every target (Discovery sessions only).
    All,
    /// `SendTargets=<iSCSI name>`: the portals of one target.
    Target(&'a [u8]),
    /// `SendTargets=` (empty): the target of the current Normal session.
    Current,
}

/// Writes the SendTargets key into a Text request payload.
pub fn write_request(w: &mut TextWriter<'_>, q: Query<'_>) -> Result<(), TextError> {
    let v: &[u8] = match q {
        Query::All => b"All",
        Query::Target(name) => name,
        Query::Current => b"",
    };
    w.push(KeyId::SendTargets.name(), v)
}

/// What is wrong with a SendTargets response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiscoveryError {
    /// The text itself is malformed.
    Text(TextError),
    /// A TargetAddress came before any TargetName.
    AddressWithoutTarget,
    /// A TargetName was empty.
    EmptyTargetName,
    /// A TargetAddress did not parse (bad port, missing `]`, bad tag).
    BadAddress,
    /// A Text request could not be encoded.
    Pdu(PduError),
    /// A Text response for another task (ITT) was handed in.
    UnexpectedItt,
    /// A final Text response carried a TTT other than 0xffffffff, or a
    /// non-final one carried 0xffffffff (RFC 7143 §11.11).
    BadTtt,
    /// A response arrived while no request was outstanding.
    UnexpectedResponse,
    /// The target kept the exchange going for more than
    /// [`MAX_TEXT_ROUNDS`] empty continuations.
    TooManyRounds,
}

impl From<TextError> for DiscoveryError {
    fn from(e: TextError) -> Self {
        DiscoveryError::Text(e)
    }
}

/// One portal from a TargetAddress value (RFC 7143 §13.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Portal<'a> {
    /// Host part: a DNS name, an IPv4 literal, or an IPv6 literal without
    /// its brackets.
    pub host: &'a [u8],
    /// TCP port ([`DEFAULT_PORT`] if absent).
    pub port: u16,
    /// Target portal group tag; absent only in Login redirections.
    pub tpgt: Option<u16>,
}

impl<'a> Portal<'a> {
    /// Parses `domainname[:port][,portal-group-tag]`, where an IPv6 literal
    /// is enclosed in brackets.
    pub fn parse(v: &'a [u8]) -> Result<Self, DiscoveryError> {
        let (addr, tpgt) = match v.iter().rposition(|&c| c == b',') {
            Some(i) => {
                let (a, t) = v.split_at(i);
                (a, Some(parse_u16(t.get(1..).unwrap_or(&[]))?))
            }
            None => (v, None),
        };
        let (host, port) = if let Some(rest) = addr.strip_prefix(b"[") {
            let close = rest
                .iter()
                .position(|&c| c == b']')
                .ok_or(DiscoveryError::BadAddress)?;
            let (h, after) = rest.split_at(close);
            let after = after.get(1..).unwrap_or(&[]);
            let port = match after {
                [] => DEFAULT_PORT,
                [b':', p @ ..] => parse_u16(p)?,
                _ => return Err(DiscoveryError::BadAddress),
            };
            (h, port)
        } else {
            let colons = addr.iter().filter(|&&c| c == b':').count();
            match colons {
                0 => (addr, DEFAULT_PORT),
                1 => {
                    let i = addr.iter().position(|&c| c == b':').unwrap_or(0);
                    let (h, p) = addr.split_at(i);
                    (h, parse_u16(p.get(1..).unwrap_or(&[]))?)
                }
                // A bare IPv6 literal: tolerated, though RFC 7143 asks
                // for brackets; it cannot carry a port.
                _ => (addr, DEFAULT_PORT),
            }
        };
        if host.is_empty() {
            return Err(DiscoveryError::BadAddress);
        }
        Ok(Portal { host, port, tpgt })
    }

    /// The host as an IP address, when it is a literal rather than a name.
    pub fn ip(&self) -> Option<IpAddr> {
        core::str::from_utf8(self.host).ok()?.parse().ok()
    }
}

fn parse_u16(v: &[u8]) -> Result<u16, DiscoveryError> {
    if v.is_empty() || v.len() > 5 || !v.iter().all(u8::is_ascii_digit) {
        return Err(DiscoveryError::BadAddress);
    }
    let n = v.iter().fold(0u32, |a, &c| a * 10 + u32::from(c - b'0'));
    u16::try_from(n).map_err(|_| DiscoveryError::BadAddress)
}

/// One target of a SendTargets answer.
#[derive(Debug, Clone)]
pub struct Target<'a> {
    /// Its iSCSI name.
    pub name: &'a [u8],
    /// The text after the TargetName key, scanned lazily by
    /// [`Target::portals`].
    rest: &'a [u8],
}

impl<'a> Target<'a> {
    /// The portals listed for this target, in the order given.
    pub fn portals(&self) -> Portals<'a> {
        Portals {
            pairs: Pairs::new(self.rest),
        }
    }
}

/// Iterator over one target's TargetAddress entries. Keys other than
/// TargetAddress (e.g. a TargetAlias some targets add) are skipped.
#[derive(Debug, Clone)]
pub struct Portals<'a> {
    pairs: Pairs<'a>,
}

impl<'a> Iterator for Portals<'a> {
    type Item = Result<Portal<'a>, DiscoveryError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.pairs.next()? {
                Err(e) => return Some(Err(e.into())),
                Ok(p) if p.key == KeyId::TargetName.name() => return None,
                Ok(p) if p.key == KeyId::TargetAddress.name() => {
                    return Some(Portal::parse(p.value));
                }
                Ok(_) => {}
            }
        }
    }
}

/// Iterator over the targets of a complete SendTargets answer.
#[derive(Debug, Clone)]
pub struct Targets<'a> {
    pairs: Pairs<'a>,
    text: &'a [u8],
    failed: bool,
    seen_target: bool,
}

impl<'a> Targets<'a> {
    /// Iterates over the targets in `text`.
    pub fn new(text: &'a [u8]) -> Self {
        Targets {
            pairs: Pairs::new(text),
            text,
            failed: false,
            seen_target: false,
        }
    }

    fn remaining(&self) -> &'a [u8] {
        // Pairs only ever advances through `text`, so its rest is a suffix.
        let consumed = self.text.len() - self.pairs.clone().rest_len();
        self.text.get(consumed..).unwrap_or(&[])
    }
}

impl<'a> Iterator for Targets<'a> {
    type Item = Result<Target<'a>, DiscoveryError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        loop {
            let r = match self.pairs.next()? {
                Err(e) => Err(e.into()),
                Ok(Pair { key, value }) if key == KeyId::TargetName.name() => {
                    if value.is_empty() {
                        Err(DiscoveryError::EmptyTargetName)
                    } else {
                        // Check this target's portals now, so errors surface
                        // here and `portals()` of a yielded target is clean.
                        self.seen_target = true;
                        let t = Target {
                            name: value,
                            rest: self.remaining(),
                        };
                        match t.portals().find_map(Result::err) {
                            Some(e) => Err(e),
                            None => Ok(t),
                        }
                    }
                }
                Ok(Pair { key, .. }) if key == KeyId::TargetAddress.name() => {
                    if self.seen_target {
                        // Already checked and handed out via `portals()`.
                        continue;
                    }
                    Err(DiscoveryError::AddressWithoutTarget)
                }
                // Unknown keys before the first target are ignored.
                Ok(_) => continue,
            };
            if r.is_err() {
                self.failed = true;
            }
            return Some(r);
        }
    }
}

/// Most responses without new text that one SendTargets exchange accepts
/// (non-empty pieces are bounded by the reassembly buffer).
pub const MAX_TEXT_ROUNDS: u32 = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StState {
    /// Next: the request carrying `SendTargets=`.
    SendQuery,
    /// Next: an empty request echoing the target's TTT, asking for more.
    SendContinue {
        ttt: u32,
    },
    Await,
    Done,
    Failed,
}

/// What the caller does after [`SendTargets::handle_response`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextProgress {
    /// Call [`SendTargets::poll_transmit`] and send what it produces.
    Transmit,
    /// The whole answer is in; read it with [`SendTargets::targets`].
    Done,
}

/// One SendTargets Text exchange (RFC 7143 §11.10-§11.11, §13.3) as a
/// sans-IO state machine.
///
/// The target may split its answer two ways, both handled here: the C bit
/// (one key=value may straddle PDUs) and F = 0 with a TTT (the answer goes on
/// in the next response). Either way the initiator answers with an empty,
/// final Text request that echoes the TTT. Every request is non-immediate
/// and so consumes one CmdSN, which the caller supplies; the caller also
/// applies each response's StatSN, ExpCmdSN and MaxCmdSN to its session.
#[derive(Debug)]
pub struct SendTargets<'a, const N: usize> {
    query: Query<'a>,
    itt: u32,
    rx: &'a mut TextAssembler<N>,
    state: StState,
    rounds: u32,
}

impl<'a, const N: usize> SendTargets<'a, N> {
    /// Prepares the exchange under task tag `itt`; the answer is gathered
    /// in `rx` (reset here).
    pub fn new(query: Query<'a>, itt: u32, rx: &'a mut TextAssembler<N>) -> Self {
        rx.reset();
        SendTargets {
            query,
            itt,
            rx,
            state: StState::SendQuery,
            rounds: 0,
        }
    }

    /// Fills `bhs` and `data` with the next Text request and returns the
    /// data length, or `None` if nothing is to be sent now. The request uses
    /// `cmd_sn` (the caller advances CmdSN by one for it) and acknowledges
    /// status up to `exp_stat_sn`. An error (e.g. `data` too small) sends
    /// nothing and leaves the exchange where it was.
    pub fn poll_transmit(
        &mut self,
        cmd_sn: u32,
        exp_stat_sn: u32,
        bhs: &mut Bhs,
        data: &mut [u8],
    ) -> Result<Option<usize>, DiscoveryError> {
        let (ttt, len) = match self.state {
            StState::SendQuery => {
                let mut w = TextWriter::new(data);
                write_request(&mut w, self.query)?;
                (RESERVED_TAG, w.len())
            }
            StState::SendContinue { ttt } => (ttt, 0),
            _ => return Ok(None),
        };
        let req = TextRequest {
            immediate: false,
            final_flag: true,
            continue_flag: false,
            data_segment_length: len as u32,
            lun: Lun::ZERO,
            itt: self.itt,
            ttt,
            cmd_sn,
            exp_stat_sn,
        };
        req.encode(bhs).map_err(DiscoveryError::Pdu)?;
        self.state = StState::Await;
        Ok(Some(len))
    }

    /// Processes one Text response (header decoded by the caller, data
    /// without padding and digest).
    pub fn handle_response(
        &mut self,
        resp: &TextResponse,
        data: &[u8],
    ) -> Result<TextProgress, DiscoveryError> {
        if self.state != StState::Await {
            return Err(DiscoveryError::UnexpectedResponse);
        }
        let r = self.step(resp, data);
        self.state = match r {
            Ok(TextProgress::Done) => StState::Done,
            Ok(TextProgress::Transmit) => self.state,
            Err(_) => StState::Failed,
        };
        r
    }

    fn step(&mut self, resp: &TextResponse, data: &[u8]) -> Result<TextProgress, DiscoveryError> {
        if resp.itt != self.itt {
            return Err(DiscoveryError::UnexpectedItt);
        }
        if usize::try_from(resp.data_segment_length).ok() != Some(data.len()) {
            return Err(DiscoveryError::Pdu(PduError::BadLength));
        }
        if resp.final_flag != (resp.ttt == RESERVED_TAG) {
            return Err(DiscoveryError::BadTtt);
        }
        if data.is_empty() {
            self.rounds += 1;
            if self.rounds > MAX_TEXT_ROUNDS {
                return Err(DiscoveryError::TooManyRounds);
            }
        }
        // Pieces of one answer keep accumulating until a final response; the
        // assembler's own C-bit flag must not restart the text in between.
        let last = resp.final_flag;
        self.rx.push(data, !last)?;
        if last {
            // A final response ends the text: an unterminated last pair is
            // an error the caller sees through `targets()`.
            Ok(TextProgress::Done)
        } else {
            self.state = StState::SendContinue { ttt: resp.ttt };
            Ok(TextProgress::Transmit)
        }
    }

    /// Whether the whole answer has arrived.
    pub fn is_done(&self) -> bool {
        self.state == StState::Done
    }

    /// The targets of the answer (empty until [`TextProgress::Done`]).
    pub fn targets(&self) -> Targets<'_> {
        if self.is_done() {
            Targets::new(self.rx.text())
        } else {
            Targets::new(&[])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::TextAssembler;
    use core::net::{Ipv4Addr, Ipv6Addr};

    #[test]
    fn request_payload() {
        let mut b = [0u8; 32];
        let mut w = TextWriter::new(&mut b);
        write_request(&mut w, Query::All).unwrap();
        assert_eq!(w.written(), b"SendTargets=All\0");
    }

    #[test]
    fn portal_forms() {
        let p = Portal::parse(b"10.0.0.1:3261,1").unwrap();
        assert_eq!((p.host, p.port, p.tpgt), (&b"10.0.0.1"[..], 3261, Some(1)));
        assert_eq!(p.ip(), Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))));
        let p = Portal::parse(b"[fe80::1]:3260,2").unwrap();
        assert_eq!((p.host, p.port, p.tpgt), (&b"fe80::1"[..], 3260, Some(2)));
        assert_eq!(
            p.ip(),
            Some(IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1)))
        );
        let p = Portal::parse(b"[2001:db8::5],7").unwrap();
        assert_eq!((p.port, p.tpgt), (DEFAULT_PORT, Some(7)));
        let p = Portal::parse(b"storage.example.com").unwrap();
        assert_eq!((p.port, p.tpgt, p.ip()), (DEFAULT_PORT, None, None));
        for bad in [
            &b"10.0.0.1:99999,1"[..],
            b"10.0.0.1:,1",
            b"[fe80::1,1",
            b"[fe80::1]x,1",
            b"10.0.0.1,",
            b":3260,1",
        ] {
            assert_eq!(
                Portal::parse(bad),
                Err(DiscoveryError::BadAddress),
                "{bad:?}"
            );
        }
    }

    const LIO_ANSWER: &[u8] = b"TargetName=iqn.2003-01.org.example:mcs\0\
TargetAddress=10.0.0.1:3260,1\0TargetAddress=10.0.1.1:3260,1\0\
TargetName=iqn.2003-01.org.example:v6\0TargetAddress=[fd00::1]:3260,2\0\
TargetName=iqn.2003-01.org.example:noportal\0";

    #[test]
    fn groups_addresses_by_target() {
        let mut it = Targets::new(LIO_ANSWER);
        let t = it.next().unwrap().unwrap();
        assert_eq!(t.name, b"iqn.2003-01.org.example:mcs");
        let mut ps = t.portals();
        assert_eq!(ps.next().unwrap().unwrap().host, b"10.0.0.1");
        assert_eq!(ps.next().unwrap().unwrap().host, b"10.0.1.1");
        assert!(ps.next().is_none());
        let t = it.next().unwrap().unwrap();
        assert_eq!(t.portals().count(), 1);
        assert_eq!(t.portals().next().unwrap().unwrap().tpgt, Some(2));
        let t = it.next().unwrap().unwrap();
        assert_eq!(t.name, b"iqn.2003-01.org.example:noportal");
        assert_eq!(t.portals().count(), 0);
        assert!(it.next().is_none());
    }

    #[test]
    fn multi_pdu_answer_split_mid_pair() {
        for cut in 1..LIO_ANSWER.len() {
            let mut a = TextAssembler::<256>::new();
            assert_eq!(a.push(&LIO_ANSWER[..cut], true), Ok(false));
            assert_eq!(a.push(&LIO_ANSWER[cut..], false), Ok(true));
            let names: usize = Targets::new(a.text())
                .map(|t| t.unwrap().portals().count())
                .sum();
            assert_eq!(names, 3);
        }
    }

    fn response(itt: u32, final_flag: bool, cont: bool, ttt: u32, len: usize) -> TextResponse {
        TextResponse {
            final_flag,
            continue_flag: cont,
            data_segment_length: len as u32,
            lun: Lun::ZERO,
            itt,
            ttt,
            stat_sn: 5,
            exp_cmd_sn: 2,
            max_cmd_sn: 9,
        }
    }

    /// Drives an exchange where the target hands out `LIO_ANSWER` in
    /// `chunk`-byte pieces, alternating C-bit and F=0/TTT continuations.
    fn exchange(chunk: usize) -> (usize, u32) {
        let mut rx = TextAssembler::<512>::new();
        let mut st = SendTargets::new(Query::All, 9, &mut rx);
        let mut bhs = [0u8; 48];
        let mut data = [0u8; 64];
        let mut off = 0;
        let mut cmd_sn = 1;
        let mut requests = 0;
        loop {
            let n = st
                .poll_transmit(cmd_sn, 5, &mut bhs, &mut data)
                .unwrap()
                .unwrap();
            let req = TextRequest::decode(&bhs).unwrap();
            assert_eq!(
                (req.itt, req.cmd_sn, req.final_flag, req.immediate),
                (9, cmd_sn, true, false)
            );
            if requests == 0 {
                assert_eq!(&data[..n], b"SendTargets=All\0");
                assert_eq!(req.ttt, RESERVED_TAG);
            } else {
                assert_eq!((n, req.ttt), (0, 0x77));
            }
            requests += 1;
            cmd_sn += 1;
            let end = (off + chunk).min(LIO_ANSWER.len());
            let last = end == LIO_ANSWER.len();
            let cont = !last && requests % 2 == 0;
            let ttt = if last { RESERVED_TAG } else { 0x77 };
            let r = response(9, last, cont, ttt, end - off);
            let p = st.handle_response(&r, &LIO_ANSWER[off..end]).unwrap();
            off = end;
            if p == TextProgress::Done {
                break;
            }
        }
        let count = st.targets().map(|t| t.unwrap().portals().count()).sum();
        (count, requests)
    }

    #[test]
    fn send_targets_exchange_over_many_pdus() {
        assert_eq!(exchange(4096), (3, 1));
        for chunk in [1, 5, 17, 64] {
            let (portals, requests) = exchange(chunk);
            assert_eq!(portals, 3, "chunk {chunk}");
            assert_eq!(requests as usize, LIO_ANSWER.len().div_ceil(chunk));
        }
    }

    #[test]
    fn send_targets_exchange_errors() {
        let mut rx = TextAssembler::<64>::new();
        let mut st = SendTargets::new(Query::Target(b"iqn.x"), 1, &mut rx);
        let mut bhs = [0u8; 48];
        let mut data = [0u8; 64];
        assert_eq!(
            st.handle_response(&response(1, true, false, RESERVED_TAG, 0), &[]),
            Err(DiscoveryError::UnexpectedResponse)
        );
        st.poll_transmit(1, 1, &mut bhs, &mut data).unwrap();
        assert_eq!(&data[..18], b"SendTargets=iqn.x\0");
        assert_eq!(st.poll_transmit(1, 1, &mut bhs, &mut data), Ok(None));
        assert_eq!(
            st.handle_response(&response(2, true, false, RESERVED_TAG, 0), &[]),
            Err(DiscoveryError::UnexpectedItt)
        );
        let mut rx = TextAssembler::<64>::new();
        let mut st = SendTargets::new(Query::All, 1, &mut rx);
        st.poll_transmit(1, 1, &mut bhs, &mut data).unwrap();
        assert_eq!(
            st.handle_response(&response(1, true, false, 5, 0), &[]),
            Err(DiscoveryError::BadTtt)
        );
        // A target that only ever sends empty non-final responses is cut off.
        let mut rx = TextAssembler::<64>::new();
        let mut st = SendTargets::new(Query::All, 1, &mut rx);
        let mut err = None;
        for _ in 0..100 {
            st.poll_transmit(1, 1, &mut bhs, &mut data).unwrap();
            if let Err(e) = st.handle_response(&response(1, false, false, 3, 0), &[]) {
                err = Some(e);
                break;
            }
        }
        assert_eq!(err, Some(DiscoveryError::TooManyRounds));
        assert_eq!(st.targets().count(), 0);
    }

    #[test]
    fn malformed_answers() {
        let mut it = Targets::new(b"TargetAddress=10.0.0.1:3260,1\0");
        assert_eq!(
            it.next().unwrap().err(),
            Some(DiscoveryError::AddressWithoutTarget)
        );
        assert!(it.next().is_none());
        let mut it = Targets::new(b"TargetName=a\0TargetAddress=[::1,1\0");
        assert_eq!(it.next().unwrap().err(), Some(DiscoveryError::BadAddress));
        let mut it = Targets::new(b"TargetName=\0");
        assert_eq!(
            it.next().unwrap().err(),
            Some(DiscoveryError::EmptyTargetName)
        );
        let mut it = Targets::new(b"TargetName=a\0TargetAddress=1.2.3.4");
        assert_eq!(
            it.next().unwrap().err(),
            Some(DiscoveryError::Text(TextError::Unterminated))
        );
    }
}
