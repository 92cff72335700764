// SPDX-License-Identifier: GPL-2.0
//! Initiator-side operational negotiation (RFC 7143 §6.2, §6.3.3, §13).
//!
//! The [`Negotiator`] writes our offers, reads whatever the target sends
//! back (answers to our offers, its own offers, declarations), queues the
//! replies its offers need, and finally yields [`NegotiatedParams`]. It
//! knows nothing of PDUs: the login state machine feeds it key=value pairs.

use super::super::text::{self, Pair, TextError, TextWriter, MAX_KEY_LEN};
use super::params::{
    Alias, ConnectionParams, DigestType, InitiatorParams, NegotiatedParams, ParamsError,
    SessionParams, SessionType,
};
use super::rules::{self, RuleError};
use super::{lookup, KeyDef, KeyId, KeyType, KeyUse, Special, Stage};

/// How many replies to target offers one round may queue. LIO offers at
/// most a handful of keys; a target sending more unknown keys than this in
/// one PDU is treated as broken rather than given unbounded memory.
pub const MAX_REPLIES: usize = 16;

/// Why negotiation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NegotiationError {
    /// The initiator's own parameters are invalid.
    Params(ParamsError),
    /// The target answered our offer of this key with a value the RFC 7143
    /// §6.2.2 rules cannot produce.
    BadAnswer(KeyId, RuleError),
    /// The target declared a value out of range (MaxRecvDataSegmentLength,
    /// TargetPortalGroupTag).
    BadDeclaration(KeyId),
    /// The target ended the negotiation without answering our offer of
    /// this key, and the answer was not optional.
    Unanswered(KeyId),
    /// The target sent more offers in one round than [`MAX_REPLIES`].
    TooManyReplies,
    /// Writing offers or replies failed.
    Text(TextError),
}

impl From<TextError> for NegotiationError {
    fn from(e: TextError) -> Self {
        NegotiationError::Text(e)
    }
}

/// Bytes kept for the names of unknown keys awaiting `NotUnderstood`.
const NAME_POOL: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReplyKey {
    Known(KeyId),
    /// A name stored in the negotiator's pool at `start..start + len`.
    Unknown {
        start: u16,
        len: u8,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReplyValue {
    Number(u64),
    Bool(bool),
    Token(&'static [u8]),
    Special(Special),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Reply {
    key: ReplyKey,
    value: ReplyValue,
}

/// Operational keys an initiator offers on a leading Normal connection.
const LEADING_OFFERS: [KeyId; 14] = [
    KeyId::HeaderDigest,
    KeyId::DataDigest,
    KeyId::MaxRecvDataSegmentLength,
    KeyId::MaxConnections,
    KeyId::InitialR2T,
    KeyId::ImmediateData,
    KeyId::MaxBurstLength,
    KeyId::FirstBurstLength,
    KeyId::DefaultTime2Wait,
    KeyId::DefaultTime2Retain,
    KeyId::MaxOutstandingR2T,
    KeyId::DataPDUInOrder,
    KeyId::DataSequenceInOrder,
    KeyId::ErrorRecoveryLevel,
];

/// Connection-only keys: all a non-leading or Discovery connection offers
/// (LO keys there would only earn NotUnderstood from LIO).
const CONNECTION_OFFERS: [KeyId; 3] = [
    KeyId::HeaderDigest,
    KeyId::DataDigest,
    KeyId::MaxRecvDataSegmentLength,
];

/// The negotiation state of one connection's login.
#[derive(Debug, Clone)]
pub struct Negotiator {
    params: InitiatorParams,
    leading: bool,
    offered: u64,
    answered: u64,
    /// Offers whose answer RFC 7143 §6.2.1 makes optional: booleans our
    /// offer decides alone. Their result is set when the offer is written.
    optional: u64,
    result: NegotiatedParams,
    replies: [Option<Reply>; MAX_REPLIES],
    names: [u8; NAME_POOL],
    names_len: usize,
}

fn bit(id: KeyId) -> u64 {
    1u64 << (id.index() as u32 & 63)
}

impl Negotiator {
    /// A negotiator for the leading connection of a new session
    /// (`existing = None`) or for a connection joining a session whose
    /// session-wide values are already fixed (`existing = Some`).
    pub fn new(
        params: &InitiatorParams,
        session_type: SessionType,
        existing: Option<&SessionParams>,
    ) -> Result<Self, NegotiationError> {
        params.validate().map_err(NegotiationError::Params)?;
        let session = match existing {
            Some(s) => *s,
            None => SessionParams::rfc_defaults(session_type),
        };
        Ok(Negotiator {
            params: *params,
            leading: existing.is_none(),
            offered: 0,
            answered: 0,
            optional: 0,
            result: NegotiatedParams {
                session,
                connection: ConnectionParams {
                    max_recv_data_segment_length: params.max_recv_data_segment_length,
                    ..ConnectionParams::default()
                },
            },
            replies: [None; MAX_REPLIES],
            names: [0; NAME_POOL],
            names_len: 0,
        })
    }

    /// Whether this is the leading connection of its session.
    pub fn is_leading(&self) -> bool {
        self.leading
    }

    fn offer_list(&self) -> &'static [KeyId] {
        if self.leading && self.result.session.session_type == SessionType::Normal {
            &LEADING_OFFERS
        } else {
            &CONNECTION_OFFERS
        }
    }

    /// Writes our operational offers (RFC 7143 §6.3.3). Session-wide keys go
    /// out on the leading connection of a Normal session only.
    pub fn write_offers(&mut self, w: &mut TextWriter<'_>) -> Result<(), NegotiationError> {
        for &id in self.offer_list() {
            let name = id.name();
            match id {
                KeyId::HeaderDigest => w.push(name, self.params.header_digest.offer())?,
                KeyId::DataDigest => w.push(name, self.params.data_digest.offer())?,
                _ => match (self.params.number(id), self.params.boolean(id)) {
                    (Some(n), _) => w.push_number(name, n)?,
                    (None, Some(b)) => {
                        w.push_bool(name, b)?;
                        // The target may leave the answer out (LIO does):
                        // the result is ours now, not the RFC default.
                        if rules::offer_decides(id.def(), b) {
                            self.set_bool(id, b);
                            self.optional |= bit(id);
                        }
                    }
                    (None, None) => continue,
                },
            }
            self.offered |= bit(id);
        }
        Ok(())
    }

    /// Whether every key we offered has been answered, leaving out the
    /// offers whose answer is optional.
    pub fn all_answered(&self) -> bool {
        self.offered & !self.answered & !self.optional == 0
    }

    /// Fails with the first key we offered that still lacks an answer the
    /// RFC requires: without one, the result would hold the key's default,
    /// which neither side agreed to (it may exceed our offer). Declarations
    /// (MaxRecvDataSegmentLength) need no answer, nor do booleans our
    /// offer decided.
    pub fn check_answered(&self) -> Result<(), NegotiationError> {
        let missing = self.offered & !self.answered & !self.optional;
        match self
            .offer_list()
            .iter()
            .find(|&&id| missing & bit(id) != 0 && id.def().kind != KeyType::Declarative)
        {
            Some(&id) => Err(NegotiationError::Unanswered(id)),
            None => Ok(()),
        }
    }

    /// Whether target offers are waiting for our reply.
    pub fn has_replies(&self) -> bool {
        self.replies.iter().any(Option::is_some)
    }

    /// Processes one key=value the target sent in the operational stage (or
    /// a declaration such as TargetPortalGroupTag in any stage). Security
    /// keys are left to the authentication code and ignored here.
    pub fn handle(&mut self, pair: Pair<'_>) -> Result<(), NegotiationError> {
        let Some(def) = lookup(pair.key) else {
            return self.queue_unknown(pair.key);
        };
        if def.stage == Stage::Security {
            return Ok(());
        }
        let id = def.id;
        let ours = self.offered & bit(id) != 0 && self.answered & bit(id) == 0;
        if let Some(sp) = Special::parse(pair.value) {
            if ours {
                self.answered |= bit(id);
                if sp == Special::Irrelevant {
                    self.apply_own_offer(id);
                } else if self.digest_required(id) {
                    // Falling back to the default (None) would silently
                    // drop a digest the caller insisted on.
                    return Err(NegotiationError::BadAnswer(id, RuleError::NotAllowed));
                }
            }
            // A special value is never an offer, so nothing to reply.
            return Ok(());
        }
        if def.kind == KeyType::Declarative {
            if ours {
                self.answered |= bit(id);
            }
            return self.declaration(def, pair.value);
        }
        if ours {
            self.answered |= bit(id);
            self.answer(def, pair.value)
        } else {
            self.target_offer(def, pair.value)
        }
    }

    fn declaration(&mut self, def: &KeyDef, v: &[u8]) -> Result<(), NegotiationError> {
        match def.id {
            KeyId::MaxRecvDataSegmentLength => {
                let n = text::parse_number(v)
                    .ok()
                    .filter(|&n| rules::in_range(def, n))
                    .ok_or(NegotiationError::BadDeclaration(def.id))?;
                self.result.connection.max_xmit_data_segment_length = n as u32;
            }
            KeyId::TargetPortalGroupTag => {
                let n = text::parse_number(v)
                    .ok()
                    .filter(|&n| rules::in_range(def, n))
                    .ok_or(NegotiationError::BadDeclaration(def.id))?;
                self.result.session.target_portal_group_tag = Some(n as u16);
            }
            KeyId::TargetAlias => self.result.session.target_alias = Alias::new(v),
            // TargetName, TargetAddress, SessionType and the initiator's
            // own declarations carry nothing we must act on here.
            _ => {}
        }
        Ok(())
    }

    fn answer(&mut self, def: &KeyDef, v: &[u8]) -> Result<(), NegotiationError> {
        let id = def.id;
        let bad = |e| NegotiationError::BadAnswer(id, e);
        match def.kind {
            KeyType::List => {
                let pref = match id {
                    KeyId::HeaderDigest => self.params.header_digest,
                    KeyId::DataDigest => self.params.data_digest,
                    _ => return Ok(()),
                };
                let d = DigestType::parse(v)
                    .filter(|d| pref.choices().contains(d))
                    .ok_or(bad(RuleError::NotAllowed))?;
                self.set_digest(id, d);
            }
            KeyType::NumericalMin | KeyType::NumericalMax => {
                let offered = self.params.number(id).unwrap_or(0);
                let n = text::parse_number(v).map_err(|_| bad(RuleError::Malformed))?;
                let n = rules::check_numeric_answer(def, offered, n).map_err(bad)?;
                self.set_number(id, n);
            }
            KeyType::BooleanAnd | KeyType::BooleanOr => {
                let offered = self.params.boolean(id).unwrap_or(false);
                let b = text::parse_bool(v).map_err(|_| bad(RuleError::Malformed))?;
                let b = rules::check_bool_answer(def, offered, b).map_err(bad)?;
                self.set_bool(id, b);
            }
            KeyType::Declarative => {}
        }
        Ok(())
    }

    /// Works out our reply to a key the target offered first.
    fn target_offer(&mut self, def: &KeyDef, v: &[u8]) -> Result<(), NegotiationError> {
        let id = def.id;
        if def.usage == KeyUse::LeadingOnly && !self.leading {
            return self.queue(ReplyKey::Known(id), self.fixed_session_value(id));
        }
        if self.result.session.session_type == SessionType::Discovery && !def.discovery {
            return self.queue(
                ReplyKey::Known(id),
                ReplyValue::Special(Special::Irrelevant),
            );
        }
        if matches!(id, KeyId::OFMarkInt | KeyId::IFMarkInt) {
            // Meaningless once the marker keys are No, which we always answer.
            return self.queue(
                ReplyKey::Known(id),
                ReplyValue::Special(Special::Irrelevant),
            );
        }
        let reply = match def.kind {
            KeyType::List => self.choose_from_list(id, v),
            KeyType::NumericalMin | KeyType::NumericalMax => {
                let ours = self.params.number(id).unwrap_or(0);
                match text::parse_number(v).map(|n| rules::respond_numeric(def, ours, n)) {
                    Ok(Ok(n)) => {
                        self.set_number(id, n);
                        ReplyValue::Number(n)
                    }
                    _ => ReplyValue::Special(Special::Reject),
                }
            }
            KeyType::BooleanAnd | KeyType::BooleanOr => {
                let ours = self.params.boolean(id).unwrap_or(false);
                match text::parse_bool(v).map(|b| rules::respond_bool(def, ours, b)) {
                    Ok(Ok(b)) => {
                        self.set_bool(id, b);
                        ReplyValue::Bool(b)
                    }
                    _ => ReplyValue::Special(Special::Reject),
                }
            }
            KeyType::Declarative => return Ok(()),
        };
        self.queue(ReplyKey::Known(id), reply)
    }

    /// Our reply to an LO key offered on a non-leading connection. The
    /// session-wide values were settled by the leading login and cannot
    /// change (RFC 7143 §6.3, §13: LO keys are not negotiated elsewhere),
    /// so the reply restates what the session holds and touches nothing.
    /// Not Reject: tgt offers its LO keys on every connection and fails
    /// the login (0x0200) when they are rejected, which would rule out
    /// MC/S with it. Keys the session does not record (TaskReporter,
    /// iSCSIProtocolLevel) get Irrelevant.
    fn fixed_session_value(&self, id: KeyId) -> ReplyValue {
        let s = &self.result.session;
        match (s.number(id), s.boolean(id)) {
            (Some(n), _) => ReplyValue::Number(n),
            (None, Some(b)) => ReplyValue::Bool(b),
            (None, None) => ReplyValue::Special(Special::Irrelevant),
        }
    }

    fn choose_from_list(&mut self, id: KeyId, v: &[u8]) -> ReplyValue {
        let pref = match id {
            KeyId::HeaderDigest => self.params.header_digest,
            KeyId::DataDigest => self.params.data_digest,
            KeyId::TaskReporter => {
                // We implement only the RFC 3720 task reporting semantics.
                return if text::Values::new(v).any(|x| x == b"RFC3720") {
                    ReplyValue::Token(b"RFC3720")
                } else {
                    ReplyValue::Special(Special::Reject)
                };
            }
            _ => return ReplyValue::Special(Special::Reject),
        };
        // RFC 7143 §6.2.1: the responder takes the first value of the
        // offerer's list that it supports.
        for item in text::Values::new(v) {
            if let Some(d) = DigestType::parse(item).filter(|d| pref.choices().contains(d)) {
                self.set_digest(id, d);
                return ReplyValue::Token(d.as_bytes());
            }
        }
        ReplyValue::Special(Special::Reject)
    }

    fn queue_unknown(&mut self, key: &[u8]) -> Result<(), NegotiationError> {
        let existing = self.replies.iter().flatten().find_map(|r| match r.key {
            ReplyKey::Unknown { start, len } if self.name(start, len) == key => Some(r.key),
            _ => None,
        });
        let rk = match existing {
            Some(k) => k,
            None => {
                let start = self.names_len;
                let end = start.saturating_add(key.len().min(MAX_KEY_LEN));
                let dst = self
                    .names
                    .get_mut(start..end)
                    .ok_or(NegotiationError::TooManyReplies)?;
                dst.copy_from_slice(key.get(..end - start).unwrap_or(&[]));
                self.names_len = end;
                ReplyKey::Unknown {
                    start: start as u16,
                    len: (end - start) as u8,
                }
            }
        };
        self.queue(rk, ReplyValue::Special(Special::NotUnderstood))
    }

    fn name(&self, start: u16, len: u8) -> &[u8] {
        let start = usize::from(start);
        self.names
            .get(start..start + usize::from(len))
            .unwrap_or(&[])
    }

    fn queue(&mut self, key: ReplyKey, value: ReplyValue) -> Result<(), NegotiationError> {
        // A repeated offer replaces the queued reply rather than doubling it.
        let slot = match self
            .replies
            .iter()
            .position(|r| matches!(r, Some(r) if r.key == key))
        {
            Some(i) => self.replies.get_mut(i),
            None => self.replies.iter_mut().find(|r| r.is_none()),
        };
        let slot = slot.ok_or(NegotiationError::TooManyReplies)?;
        *slot = Some(Reply { key, value });
        Ok(())
    }

    /// Writes the queued replies to target offers and forgets them. Replies
    /// that do not fit stay queued for the next PDU.
    pub fn write_replies(&mut self, w: &mut TextWriter<'_>) -> Result<(), NegotiationError> {
        for i in 0..MAX_REPLIES {
            let Some(r) = self.replies.get(i).copied().flatten() else {
                continue;
            };
            let name: &[u8] = match r.key {
                ReplyKey::Known(id) => id.name(),
                ReplyKey::Unknown { start, len } => self.name(start, len),
            };
            match r.value {
                ReplyValue::Number(n) => w.push_number(name, n)?,
                ReplyValue::Bool(b) => w.push_bool(name, b)?,
                ReplyValue::Token(t) => w.push(name, t)?,
                ReplyValue::Special(s) => w.push(name, s.as_bytes())?,
            }
            if let Some(slot) = self.replies.get_mut(i) {
                *slot = None;
            }
        }
        // Every reply went out, so no stored name is referenced any more.
        self.names_len = 0;
        Ok(())
    }

    fn digest_required(&self, id: KeyId) -> bool {
        let pref = match id {
            KeyId::HeaderDigest => self.params.header_digest,
            KeyId::DataDigest => self.params.data_digest,
            _ => return false,
        };
        !pref.choices().contains(&DigestType::None)
    }

    fn apply_own_offer(&mut self, id: KeyId) {
        if let Some(n) = self.params.number(id) {
            self.set_number(id, n);
        } else if let Some(b) = self.params.boolean(id) {
            self.set_bool(id, b);
        }
    }

    fn set_digest(&mut self, id: KeyId, d: DigestType) {
        match id {
            KeyId::HeaderDigest => self.result.connection.header_digest = d,
            KeyId::DataDigest => self.result.connection.data_digest = d,
            _ => {}
        }
    }

    fn set_number(&mut self, id: KeyId, n: u64) {
        // Callers range-checked `n` against the key table, so the
        // narrowing conversions below cannot lose bits.
        let s = &mut self.result.session;
        let u16v = u16::try_from(n).unwrap_or(u16::MAX);
        let u32v = u32::try_from(n).unwrap_or(u32::MAX);
        match id {
            KeyId::MaxConnections => s.max_connections = u16v,
            KeyId::MaxBurstLength => s.max_burst_length = u32v,
            KeyId::FirstBurstLength => s.first_burst_length = u32v,
            KeyId::DefaultTime2Wait => s.default_time2wait = u16v,
            KeyId::DefaultTime2Retain => s.default_time2retain = u16v,
            KeyId::MaxOutstandingR2T => s.max_outstanding_r2t = u16v,
            KeyId::ErrorRecoveryLevel => s.error_recovery_level = u8::try_from(n).unwrap_or(0),
            _ => {}
        }
    }

    fn set_bool(&mut self, id: KeyId, b: bool) {
        let s = &mut self.result.session;
        match id {
            KeyId::InitialR2T => s.initial_r2t = b,
            KeyId::ImmediateData => s.immediate_data = b,
            KeyId::DataPDUInOrder => s.data_pdu_in_order = b,
            KeyId::DataSequenceInOrder => s.data_sequence_in_order = b,
            _ => {}
        }
    }

    /// The agreed values. Keys never answered keep their RFC defaults.
    /// FirstBurstLength is capped at MaxBurstLength (§13.14): each side took
    /// the minimum of each key separately, which can invert the two, and
    /// sending less unsolicited data than allowed is always safe.
    pub fn result(&self) -> NegotiatedParams {
        let mut r = self.result;
        if r.session.first_burst_length > r.session.max_burst_length {
            r.session.first_burst_length = r.session.max_burst_length;
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::params::DigestPref;
    use crate::text::Pairs;

    fn feed(n: &mut Negotiator, text: &[u8]) -> Result<(), NegotiationError> {
        for p in Pairs::new(text) {
            n.handle(p.unwrap())?;
        }
        Ok(())
    }

    fn offers(n: &mut Negotiator) -> ([u8; 1024], usize) {
        let mut buf = [0u8; 1024];
        let mut w = TextWriter::new(&mut buf);
        n.write_offers(&mut w).unwrap();
        let len = w.len();
        (buf, len)
    }

    #[test]
    fn leading_offer_lists_every_session_key() {
        let p = InitiatorParams {
            error_recovery_level: 2,
            max_connections: 4,
            header_digest: DigestPref::PreferCrc32c,
            ..InitiatorParams::default()
        };
        let mut n = Negotiator::new(&p, SessionType::Normal, None).unwrap();
        let (buf, len) = offers(&mut n);
        let want: &[u8] = b"HeaderDigest=CRC32C,None\0DataDigest=None\0MaxRecvDataSegmentLength=8192\0\
MaxConnections=4\0InitialR2T=Yes\0ImmediateData=Yes\0MaxBurstLength=262144\0FirstBurstLength=65536\0\
DefaultTime2Wait=2\0DefaultTime2Retain=20\0MaxOutstandingR2T=1\0DataPDUInOrder=Yes\0\
DataSequenceInOrder=Yes\0ErrorRecoveryLevel=2\0";
        assert_eq!(&buf[..len], want);
        assert!(!n.all_answered());
    }

    #[test]
    fn non_leading_connection_sends_no_lo_keys() {
        let leading = SessionParams::rfc_defaults(SessionType::Normal);
        let p = InitiatorParams {
            max_connections: 4,
            ..InitiatorParams::default()
        };
        let mut n = Negotiator::new(&p, SessionType::Normal, Some(&leading)).unwrap();
        let (buf, len) = offers(&mut n);
        assert_eq!(
            &buf[..len],
            b"HeaderDigest=None\0DataDigest=None\0MaxRecvDataSegmentLength=8192\0"
        );
        // An LO key offered to us here gets the session's value back, and
        // the session values stay.
        feed(&mut n, b"MaxBurstLength=1024\0").unwrap();
        let mut rb = [0u8; 64];
        let mut w = TextWriter::new(&mut rb);
        n.write_replies(&mut w).unwrap();
        assert_eq!(w.written(), b"MaxBurstLength=262144\0");
        assert_eq!(n.result().session, leading);
    }

    /// What tgt sends on a connection added to a session: its connection
    /// keys plus every LO key it holds a non-default value for. Each LO key
    /// is answered with the value the leading login agreed (never Reject,
    /// which makes tgt fail the login with 0x0200), and none of them
    /// changes the session.
    #[test]
    fn tgt_lo_offers_on_added_connection_get_session_values() {
        let existing = SessionParams {
            max_connections: 2,
            initial_r2t: false,
            immediate_data: true,
            max_burst_length: 131_072,
            first_burst_length: 32_768,
            default_time2wait: 2,
            default_time2retain: 20,
            max_outstanding_r2t: 1,
            error_recovery_level: 0,
            target_portal_group_tag: Some(1),
            ..SessionParams::rfc_defaults(SessionType::Normal)
        };
        let p = InitiatorParams {
            max_connections: 2,
            initial_r2t: false,
            max_recv_data_segment_length: 65_536,
            ..InitiatorParams::default()
        };
        let mut n = Negotiator::new(&p, SessionType::Normal, Some(&existing)).unwrap();
        offers(&mut n);
        feed(
            &mut n,
            b"TargetPortalGroupTag=1\0HeaderDigest=None\0DataDigest=None\0\
MaxRecvDataSegmentLength=8192\0MaxConnections=4\0InitialR2T=Yes\0ImmediateData=No\0\
MaxBurstLength=1048576\0FirstBurstLength=512\0DefaultTime2Wait=0\0ErrorRecoveryLevel=2\0\
DataSequenceInOrder=No\0TaskReporter=RFC3720\0iSCSIProtocolLevel=1\0",
        )
        .unwrap();
        assert!(n.all_answered());
        let mut rb = [0u8; 512];
        let mut w = TextWriter::new(&mut rb);
        n.write_replies(&mut w).unwrap();
        assert_eq!(
            w.written(),
            &b"MaxConnections=2\0InitialR2T=No\0ImmediateData=Yes\0MaxBurstLength=131072\0\
FirstBurstLength=32768\0DefaultTime2Wait=2\0ErrorRecoveryLevel=0\0DataSequenceInOrder=Yes\0\
TaskReporter=Irrelevant\0iSCSIProtocolLevel=Irrelevant\0"[..]
        );
        let r = n.result();
        assert_eq!(r.session, existing);
        assert_eq!(r.connection.max_xmit_data_segment_length, 8192);
    }

    #[test]
    fn lio_like_answers_give_rfc_results() {
        let p = InitiatorParams {
            error_recovery_level: 2,
            max_connections: 8,
            max_outstanding_r2t: 8,
            immediate_data: true,
            initial_r2t: false,
            header_digest: DigestPref::PreferCrc32c,
            max_recv_data_segment_length: 262_144,
            ..InitiatorParams::default()
        };
        let mut n = Negotiator::new(&p, SessionType::Normal, None).unwrap();
        offers(&mut n);
        // LIO with ERL 2 and DataSequenceInOrder=Yes answers
        // MaxOutstandingR2T=1: a legal numerical-min result.
        feed(
            &mut n,
            b"TargetPortalGroupTag=1\0TargetAlias=LIO Target\0HeaderDigest=CRC32C\0DataDigest=None\0\
MaxRecvDataSegmentLength=65536\0MaxConnections=4\0InitialR2T=Yes\0ImmediateData=No\0\
MaxBurstLength=1048576\0FirstBurstLength=65536\0DefaultTime2Wait=2\0DefaultTime2Retain=20\0\
MaxOutstandingR2T=1\0DataPDUInOrder=Yes\0DataSequenceInOrder=Yes\0ErrorRecoveryLevel=2\0",
        )
        .unwrap_err();
        // MaxBurstLength=1048576 above our 262144 offer breaks numerical-min.
        let mut n = Negotiator::new(&p, SessionType::Normal, None).unwrap();
        offers(&mut n);
        feed(
            &mut n,
            b"TargetPortalGroupTag=1\0TargetAlias=LIO Target\0HeaderDigest=CRC32C\0DataDigest=None\0\
MaxRecvDataSegmentLength=65536\0MaxConnections=4\0InitialR2T=Yes\0ImmediateData=No\0\
MaxBurstLength=131072\0FirstBurstLength=65536\0DefaultTime2Wait=3\0DefaultTime2Retain=20\0\
MaxOutstandingR2T=1\0DataPDUInOrder=Yes\0DataSequenceInOrder=Yes\0ErrorRecoveryLevel=2\0",
        )
        .unwrap();
        assert!(n.all_answered());
        assert!(!n.has_replies());
        let r = n.result();
        assert_eq!(r.session.target_portal_group_tag, Some(1));
        assert_eq!(r.session.target_alias.as_bytes(), b"LIO Target");
        assert_eq!(r.connection.header_digest, DigestType::Crc32c);
        assert_eq!(r.connection.max_xmit_data_segment_length, 65_536);
        assert_eq!(r.connection.max_recv_data_segment_length, 262_144);
        assert_eq!(r.session.max_connections, 4);
        assert!(r.session.initial_r2t);
        assert!(!r.session.immediate_data);
        assert_eq!(r.session.max_burst_length, 131_072);
        assert_eq!(r.session.default_time2wait, 3);
        assert_eq!(r.session.max_outstanding_r2t, 1);
        assert_eq!(r.session.error_recovery_level, 2);
    }

    /// RFC 7143 §6.2.1 lets the responder leave out its answer when our
    /// offer alone decides a boolean (No to an AND key, Yes to an OR key),
    /// and LIO does (`iscsi_check_acceptor_state` marks them reply
    /// optional). The result must then be our offer, not the RFC default:
    /// ImmediateData=No must stay No although its default is Yes.
    #[test]
    fn omitted_optional_boolean_answers_take_our_offer() {
        let p = InitiatorParams {
            immediate_data: false,
            initial_r2t: true,
            data_pdu_in_order: true,
            data_sequence_in_order: true,
            ..InitiatorParams::default()
        };
        let mut n = Negotiator::new(&p, SessionType::Normal, None).unwrap();
        offers(&mut n);
        feed(
            &mut n,
            b"TargetPortalGroupTag=1\0HeaderDigest=None\0DataDigest=None\0\
MaxRecvDataSegmentLength=65536\0MaxConnections=1\0MaxBurstLength=262144\0\
FirstBurstLength=65536\0DefaultTime2Wait=2\0DefaultTime2Retain=20\0MaxOutstandingR2T=1\0\
ErrorRecoveryLevel=0\0",
        )
        .unwrap();
        assert!(n.all_answered());
        assert!(!n.has_replies());
        let s = n.result().session;
        assert!(!s.immediate_data);
        assert!(s.initial_r2t && s.data_pdu_in_order && s.data_sequence_in_order);
        // The target may still answer; the only legal answer changes nothing.
        let mut n = Negotiator::new(&p, SessionType::Normal, None).unwrap();
        offers(&mut n);
        feed(&mut n, b"ImmediateData=No\0InitialR2T=Yes\0").unwrap();
        assert!(!n.result().session.immediate_data);
        assert!(n.result().session.initial_r2t);
        // An offer that does not decide the result still needs its answer:
        // InitialR2T=No against a target that wants Yes.
        let p = InitiatorParams {
            initial_r2t: false,
            ..p
        };
        let mut n = Negotiator::new(&p, SessionType::Normal, None).unwrap();
        offers(&mut n);
        feed(&mut n, b"InitialR2T=Yes\0").unwrap();
        assert!(n.result().session.initial_r2t);
    }

    /// A key we offered that the target never answered (and whose answer
    /// the RFC does not make optional) fails the check the login makes
    /// before Full Feature Phase: its RFC default may exceed our offer
    /// (MaxBurstLength), so the result would claim a value nobody agreed.
    #[test]
    fn unanswered_offers_fail_the_check() {
        let p = InitiatorParams {
            max_burst_length: 65_536,
            first_burst_length: 65_536,
            immediate_data: false,
            ..InitiatorParams::default()
        };
        let mut n = Negotiator::new(&p, SessionType::Normal, None).unwrap();
        offers(&mut n);
        let all = b"HeaderDigest=None\0DataDigest=None\0MaxConnections=1\0\
InitialR2T=Yes\0MaxBurstLength=65536\0FirstBurstLength=65536\0DefaultTime2Wait=2\0\
DefaultTime2Retain=20\0MaxOutstandingR2T=1\0DataPDUInOrder=Yes\0DataSequenceInOrder=Yes\0";
        feed(&mut n, all).unwrap();
        assert_eq!(
            n.check_answered(),
            Err(NegotiationError::Unanswered(KeyId::ErrorRecoveryLevel))
        );
        // Irrelevant is an answer; MaxRecvDataSegmentLength (declarative)
        // and ImmediateData=No (decided by us) need none.
        feed(&mut n, b"ErrorRecoveryLevel=Irrelevant\0").unwrap();
        assert_eq!(n.check_answered(), Ok(()));
        // A digest list must be answered as well.
        let mut n = Negotiator::new(&p, SessionType::Discovery, None).unwrap();
        offers(&mut n);
        feed(&mut n, b"HeaderDigest=None\0").unwrap();
        assert_eq!(
            n.check_answered(),
            Err(NegotiationError::Unanswered(KeyId::DataDigest))
        );
    }

    #[test]
    fn target_offers_get_answers() {
        let p = InitiatorParams {
            max_burst_length: 65_536,
            first_burst_length: 65_536,
            data_digest: DigestPref::PreferNone,
            ..InitiatorParams::default()
        };
        let mut n = Negotiator::new(&p, SessionType::Normal, None).unwrap();
        feed(
            &mut n,
            b"MaxBurstLength=131072\0DefaultTime2Wait=0\0DataDigest=CRC32C,None\0\
ErrorRecoveryLevel=7\0OFMarker=Yes\0IFMarkInt=2048\0X-com.example.Foo=1\0InitialR2T=No\0\
TaskReporter=ResponseFence,RFC3720\0",
        )
        .unwrap();
        let mut rb = [0u8; 512];
        let mut w = TextWriter::new(&mut rb);
        n.write_replies(&mut w).unwrap();
        assert_eq!(
            w.written(),
            &b"MaxBurstLength=65536\0DefaultTime2Wait=2\0DataDigest=CRC32C\0\
ErrorRecoveryLevel=Reject\0OFMarker=No\0IFMarkInt=Irrelevant\0\
X-com.example.Foo=NotUnderstood\0InitialR2T=Yes\0TaskReporter=RFC3720\0"[..]
        );
        assert!(!n.has_replies());
        let r = n.result();
        assert_eq!(r.connection.data_digest, DigestType::Crc32c);
        assert_eq!(r.session.max_burst_length, 65_536);
        assert_eq!(r.session.error_recovery_level, 0);
    }

    #[test]
    fn special_answers_keep_defaults() {
        let p = InitiatorParams {
            error_recovery_level: 1,
            max_connections: 2,
            ..InitiatorParams::default()
        };
        let mut n = Negotiator::new(&p, SessionType::Normal, None).unwrap();
        offers(&mut n);
        feed(
            &mut n,
            b"ErrorRecoveryLevel=NotUnderstood\0MaxConnections=Reject\0FirstBurstLength=Irrelevant\0",
        )
        .unwrap();
        let r = n.result();
        assert_eq!(r.session.error_recovery_level, 0);
        assert_eq!(r.session.max_connections, 1);
        assert_eq!(r.session.first_burst_length, 65_536);
        assert!(!n.has_replies());
    }

    #[test]
    fn refused_required_digest_fails() {
        let p = InitiatorParams {
            data_digest: DigestPref::Crc32cOnly,
            ..InitiatorParams::default()
        };
        let mut n = Negotiator::new(&p, SessionType::Normal, None).unwrap();
        offers(&mut n);
        assert_eq!(
            feed(&mut n, b"DataDigest=Reject\0"),
            Err(NegotiationError::BadAnswer(
                KeyId::DataDigest,
                RuleError::NotAllowed
            ))
        );
        // With None acceptable, a refusal just leaves digests off.
        let p = InitiatorParams {
            data_digest: DigestPref::PreferCrc32c,
            ..InitiatorParams::default()
        };
        let mut n = Negotiator::new(&p, SessionType::Normal, None).unwrap();
        offers(&mut n);
        feed(&mut n, b"DataDigest=Reject\0").unwrap();
        assert_eq!(n.result().connection.data_digest, DigestType::None);
    }

    #[test]
    fn bad_answers_fail() {
        let p = InitiatorParams::default();
        for (text, key) in [
            (&b"HeaderDigest=CRC32C\0"[..], KeyId::HeaderDigest),
            (b"ImmediateData=Maybe\0", KeyId::ImmediateData),
            (b"ErrorRecoveryLevel=1\0", KeyId::ErrorRecoveryLevel),
            (b"DataPDUInOrder=No\0", KeyId::DataPDUInOrder),
        ] {
            let mut n = Negotiator::new(&p, SessionType::Normal, None).unwrap();
            offers(&mut n);
            match feed(&mut n, text) {
                Err(NegotiationError::BadAnswer(k, _)) => assert_eq!(k, key),
                other => panic!("{other:?}"),
            }
        }
        let mut n = Negotiator::new(&p, SessionType::Normal, None).unwrap();
        assert_eq!(
            feed(&mut n, b"MaxRecvDataSegmentLength=100\0"),
            Err(NegotiationError::BadDeclaration(
                KeyId::MaxRecvDataSegmentLength
            ))
        );
    }

    #[test]
    fn discovery_session_offers_connection_keys_only() {
        let p = InitiatorParams::default();
        let mut n = Negotiator::new(&p, SessionType::Discovery, None).unwrap();
        let (buf, len) = offers(&mut n);
        assert_eq!(
            &buf[..len],
            b"HeaderDigest=None\0DataDigest=None\0MaxRecvDataSegmentLength=8192\0"
        );
        feed(&mut n, b"MaxBurstLength=4096\0").unwrap();
        let mut rb = [0u8; 64];
        let mut w = TextWriter::new(&mut rb);
        n.write_replies(&mut w).unwrap();
        assert_eq!(w.written(), b"MaxBurstLength=Irrelevant\0");
    }

    #[test]
    fn first_burst_capped_by_max_burst() {
        let mut n =
            Negotiator::new(&InitiatorParams::default(), SessionType::Normal, None).unwrap();
        offers(&mut n);
        feed(&mut n, b"MaxBurstLength=16384\0FirstBurstLength=65536\0").unwrap();
        assert_eq!(n.result().session.first_burst_length, 16_384);
    }

    #[test]
    fn unknown_names_share_a_bounded_pool() {
        let mut n =
            Negotiator::new(&InitiatorParams::default(), SessionType::Normal, None).unwrap();
        let mut name = [b'X'; 63];
        name[1] = b'-';
        for i in 0..4u8 {
            name[2] = b'a' + i;
            let mut t = [0u8; 80];
            let mut w = TextWriter::new(&mut t);
            w.push(&name, b"1").unwrap();
            let len = w.len();
            feed(&mut n, &t[..len]).unwrap();
            // The same unknown key again queues no second reply.
            feed(&mut n, &t[..len]).unwrap();
        }
        name[2] = b'z';
        let mut t = [0u8; 80];
        let mut w = TextWriter::new(&mut t);
        w.push(&name, b"1").unwrap();
        let len = w.len();
        assert_eq!(
            feed(&mut n, &t[..len]),
            Err(NegotiationError::TooManyReplies)
        );
        let mut out = [0u8; 512];
        let mut w = TextWriter::new(&mut out);
        n.write_replies(&mut w).unwrap();
        assert_eq!(Pairs::new(w.written()).count(), 4);
        // Writing the replies frees the pool.
        feed(&mut n, &t[..len]).unwrap();
    }

    #[test]
    fn too_many_unknown_keys() {
        let mut n =
            Negotiator::new(&InitiatorParams::default(), SessionType::Normal, None).unwrap();
        let mut buf = [0u8; 512];
        let mut w = TextWriter::new(&mut buf);
        for i in 0..=MAX_REPLIES {
            let name = [b'X', b'-', b'a' + i as u8];
            w.push(&name, b"1").unwrap();
        }
        let len = w.len();
        assert_eq!(
            feed(&mut n, &buf[..len]),
            Err(NegotiationError::TooManyReplies)
        );
    }
}
