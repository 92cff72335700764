// SPDX-License-Identifier: GPL-2.0
//! A scripted LIO-like target for the login tests: answers Login requests
//! the way `drivers/target/iscsi` does (CHAP with the four digests, numeric
//! rules, LO keys on non-leading connections answered NotUnderstood,
//! boolean answers left out when the offer decides them), with
//! knobs for the failure cases.

use crate::chap::{algorithm_from_chap_a, response};
use crate::keys::{lookup, rules, KeyType, KeyUse};
use crate::pdu::login::{ISCSI_VERSION, STATUS_CLASS_SUCCESS};
use crate::pdu::{Bhs, LoginRequest, LoginResponse, Stage};
use crate::text::{self, BinaryEncoding, Pairs, TextWriter};

pub(crate) struct FakeChap {
    pub user: &'static [u8],
    pub secret: &'static [u8],
    /// Name and secret the target proves itself with (mutual CHAP).
    pub mutual: Option<(&'static [u8], &'static [u8])>,
    /// CHAP_A values the target accepts, in its preference order.
    pub algorithms: &'static [u8],
    pub encoding: BinaryEncoding,
}

pub(crate) struct FakeTarget {
    pub name: &'static [u8],
    pub chap: Option<FakeChap>,
    pub tsih: u16,
    /// Target-side values for the numeric keys (MaxConnections, ERL ...).
    pub numbers: [(&'static [u8], u64); 6],
    pub max_recv_data_segment_length: u64,
    /// Target-side values for the boolean keys (default Yes).
    pub booleans: [(&'static [u8], bool); 2],
    /// Largest data segment per response; longer text goes out with C=1.
    pub chunk: usize,
    /// Status to answer the first request with (class, detail, data).
    pub fail_first: Option<(u8, u8, &'static [u8])>,
    /// A key the target offers itself in its first operational response.
    pub offer: Option<&'static [u8]>,
    /// Whether the session already exists (non-leading connections).
    pub leading: bool,
    /// A key of ours the target leaves unanswered (a broken target).
    pub silent: Option<&'static [u8]>,
    // Run-time state.
    challenge: [u8; 16],
    chap_id: u8,
    chap_alg: u8,
    authed: bool,
    offered: bool,
    pending: [u8; 4096],
    pending_len: usize,
    pending_off: usize,
    pending_hdr: Option<LoginResponse>,
    stat_sn: u32,
    pub requests: u32,
}

impl FakeTarget {
    pub fn lio(name: &'static [u8]) -> Self {
        FakeTarget {
            name,
            chap: None,
            tsih: 0x0102,
            numbers: [
                (b"MaxConnections", 4),
                (b"ErrorRecoveryLevel", 2),
                (b"MaxBurstLength", 262_144),
                (b"FirstBurstLength", 65_536),
                (b"MaxOutstandingR2T", 1),
                (b"DefaultTime2Wait", 2),
            ],
            max_recv_data_segment_length: 65_536,
            booleans: [(b"ImmediateData", true), (b"InitialR2T", true)],
            chunk: 8192,
            fail_first: None,
            offer: None,
            leading: true,
            silent: None,
            challenge: [0x3c; 16],
            chap_id: 0x21,
            chap_alg: 0,
            authed: false,
            offered: false,
            pending: [0; 4096],
            pending_len: 0,
            pending_off: 0,
            pending_hdr: None,
            stat_sn: 0x1000,
            requests: 0,
        }
    }

    fn number(&self, key: &[u8]) -> Option<u64> {
        self.numbers
            .iter()
            .find(|(k, _)| *k == key)
            .map(|&(_, v)| v)
    }

    /// Answers one request; returns the response data length.
    pub fn respond(
        &mut self,
        req_bhs: &Bhs,
        req_data: &[u8],
        bhs: &mut Bhs,
        out: &mut [u8],
    ) -> usize {
        self.requests += 1;
        let req = LoginRequest::decode(req_bhs).expect("initiator sent a bad Login BHS");
        assert_eq!(req.data_segment_length as usize, req_data.len());
        let mut hdr = LoginResponse {
            transit: None,
            continue_flag: false,
            csg: req.csg,
            version_max: ISCSI_VERSION,
            version_active: ISCSI_VERSION,
            data_segment_length: 0,
            isid: req.isid,
            tsih: req.tsih,
            itt: req.itt,
            stat_sn: self.stat_sn,
            exp_cmd_sn: req.cmd_sn,
            max_cmd_sn: req.cmd_sn.wrapping_add(31),
            status_class: STATUS_CLASS_SUCCESS,
            status_detail: 0,
        };
        if self.pending_len > 0 {
            assert!(req_data.is_empty(), "C-bit acknowledgement must be empty");
            return self.send_chunk(bhs, out);
        }
        if let Some((class, detail, text)) = self.fail_first.take() {
            hdr.status_class = class;
            hdr.status_detail = detail;
            return self.send_whole(hdr, text, bhs, out);
        }
        let mut buf = [0u8; 4096];
        let mut w = TextWriter::new(&mut buf);
        let mut status = (0u8, 0u8);
        match req.csg {
            Stage::SecurityNegotiation => {
                status = self.security(&req, req_data, &mut w);
                if status.0 == 0 && req.transit.is_some() && (self.chap.is_none() || self.authed) {
                    hdr.transit = Some(Stage::LoginOperationalNegotiation);
                }
            }
            Stage::LoginOperationalNegotiation => {
                let open_offer = self.operational(req_data, &mut w);
                if req.transit.is_some() && !open_offer {
                    hdr.transit = Some(Stage::FullFeaturePhase);
                    if req.tsih == 0 {
                        hdr.tsih = self.tsih;
                    }
                }
            }
            Stage::FullFeaturePhase => panic!("login request in FFP"),
        }
        hdr.status_class = status.0;
        hdr.status_detail = status.1;
        let len = w.len();
        self.send_whole(hdr, &buf[..len], bhs, out)
    }

    fn send_whole(
        &mut self,
        hdr: LoginResponse,
        text: &[u8],
        bhs: &mut Bhs,
        out: &mut [u8],
    ) -> usize {
        self.pending[..text.len()].copy_from_slice(text);
        self.pending_len = text.len();
        self.pending_off = 0;
        self.pending_hdr = Some(hdr);
        self.send_chunk(bhs, out)
    }

    fn send_chunk(&mut self, bhs: &mut Bhs, out: &mut [u8]) -> usize {
        let mut hdr = self.pending_hdr.expect("no pending response");
        let rest = self.pending_len - self.pending_off;
        let n = rest.min(self.chunk);
        out[..n].copy_from_slice(&self.pending[self.pending_off..self.pending_off + n]);
        self.pending_off += n;
        let more = self.pending_off < self.pending_len;
        if more {
            // RFC 7143 §11.13: T must be 0 while C is 1.
            hdr.continue_flag = true;
            hdr.transit = None;
        } else {
            self.pending_len = 0;
            self.pending_off = 0;
        }
        hdr.data_segment_length = n as u32;
        hdr.encode(bhs).unwrap();
        n
    }

    fn security(&mut self, req: &LoginRequest, data: &[u8], w: &mut TextWriter<'_>) -> (u8, u8) {
        let mut chap_n: &[u8] = &[];
        let mut chap_r = [0u8; 64];
        let mut chap_r_len = None;
        let mut their_id = None;
        let mut their_c = [0u8; 1024];
        let mut their_c_len = 0;
        let mut saw_name = false;
        for p in Pairs::new(data) {
            let p = p.expect("initiator sent bad text");
            match p.key {
                b"InitiatorName" => saw_name = true,
                b"TargetName" if p.value != self.name => return (2, 3),
                b"SessionType" | b"InitiatorAlias" => {}
                b"AuthMethod" => {
                    let want: &[u8] = if self.chap.is_some() {
                        b"CHAP"
                    } else {
                        b"None"
                    };
                    if !text::Values::new(p.value).any(|v| v == want) {
                        return (2, 1);
                    }
                    w.push(b"AuthMethod", want).unwrap();
                    w.push(b"TargetPortalGroupTag", b"1").unwrap();
                }
                b"CHAP_A" => {
                    let c = self.chap.as_ref().expect("CHAP_A without CHAP");
                    let pick = text::Values::new(p.value)
                        .filter_map(|v| text::parse_number(v).ok())
                        .find(|&a| c.algorithms.contains(&(a as u8)));
                    let Some(a) = pick else { return (2, 1) };
                    self.chap_alg = a as u8;
                    w.push_number(b"CHAP_A", a).unwrap();
                    w.push_number(b"CHAP_I", u64::from(self.chap_id)).unwrap();
                    w.push_binary(b"CHAP_C", &self.challenge, c.encoding)
                        .unwrap();
                }
                b"CHAP_N" => chap_n = p.value,
                b"CHAP_R" => chap_r_len = text::decode_binary(p.value, &mut chap_r).ok(),
                b"CHAP_I" => their_id = text::parse_number(p.value).ok(),
                b"CHAP_C" => their_c_len = text::decode_binary(p.value, &mut their_c).unwrap_or(0),
                _ => {}
            }
        }
        if req.tsih == 0 && self.requests == 1 && !saw_name {
            return (2, 7);
        }
        if let Some(rlen) = chap_r_len {
            let c = self.chap.as_ref().expect("CHAP_R without CHAP");
            let alg = algorithm_from_chap_a(u64::from(self.chap_alg)).unwrap();
            let want = response(alg, self.chap_id, c.secret, &self.challenge);
            if chap_n != c.user || &chap_r[..rlen] != want.as_bytes() {
                return (2, 1);
            }
            self.authed = true;
            if let (Some(id), Some((name, secret))) = (their_id, c.mutual) {
                let r = response(alg, id as u8, secret, &their_c[..their_c_len]);
                w.push(b"CHAP_N", name).unwrap();
                w.push_binary(b"CHAP_R", r.as_bytes(), c.encoding).unwrap();
            }
        }
        (0, 0)
    }

    /// Answers operational keys; returns whether the target left an offer
    /// of its own open (so it must not transit yet).
    fn operational(&mut self, data: &[u8], w: &mut TextWriter<'_>) -> bool {
        let mut open = false;
        for p in Pairs::new(data) {
            let p = p.expect("initiator sent bad text");
            let Some(def) = lookup(p.key) else {
                w.push(p.key, b"NotUnderstood").unwrap();
                continue;
            };
            if self.silent == Some(p.key) {
                continue;
            }
            if def.usage == KeyUse::LeadingOnly && !self.leading {
                // LIO: iscsi_target_parameters.c answers these NotUnderstood.
                w.push(p.key, b"NotUnderstood").unwrap();
                continue;
            }
            if text::parse_number(p.value).is_err()
                && text::parse_bool(p.value).is_err()
                && def.kind != KeyType::List
            {
                // A reply to our own offer (or a special value): no answer.
                continue;
            }
            match def.kind {
                KeyType::Declarative => {
                    if p.key == b"MaxRecvDataSegmentLength" {
                        w.push_number(p.key, self.max_recv_data_segment_length)
                            .unwrap();
                    }
                }
                KeyType::List => {
                    if self.offered && self.offer.is_some_and(|o| o.starts_with(p.key)) {
                        continue;
                    }
                    let first = text::Values::new(p.value).next().unwrap_or(b"None");
                    w.push(p.key, first).unwrap();
                }
                KeyType::NumericalMin | KeyType::NumericalMax => {
                    let theirs = text::parse_number(p.value).unwrap();
                    if self.offered && self.offer.is_some_and(|o| o.starts_with(p.key)) {
                        continue;
                    }
                    let ours = self.number(p.key).unwrap_or(theirs);
                    match rules::respond_numeric(def, ours, theirs) {
                        Ok(v) => w.push_number(p.key, v).unwrap(),
                        Err(_) => w.push(p.key, b"Reject").unwrap(),
                    }
                }
                KeyType::BooleanAnd | KeyType::BooleanOr => {
                    let b = text::parse_bool(p.value).unwrap();
                    // LIO (iscsi_check_acceptor_state) sends no answer when
                    // the offer alone decides the result, as RFC 7143
                    // §6.2.1 allows: No to an AND key, Yes to an OR key.
                    if b == (def.kind == KeyType::BooleanOr) {
                        continue;
                    }
                    let ours = self
                        .booleans
                        .iter()
                        .find(|(k, _)| *k == p.key)
                        .is_none_or(|&(_, v)| v);
                    w.push_bool(p.key, rules::respond_bool(def, ours, b).unwrap())
                        .unwrap();
                }
            }
        }
        if let Some(o) = self.offer {
            if !self.offered {
                self.offered = true;
                let eq = o.iter().position(|&c| c == b'=').unwrap();
                w.push(&o[..eq], &o[eq + 1..]).unwrap();
                open = true;
            }
        }
        open
    }
}
