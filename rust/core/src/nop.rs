// SPDX-License-Identifier: GPL-2.0
//! Connection liveness with NOP-Out / NOP-In (RFC 7143 §11.18, §11.19), as a
//! sans-IO timer machine: the caller passes `now` (monotonic milliseconds),
//! asks [`NopKeeper::poll_timeout`] when to call back, and gets events.
//!
//! Policy, as open-iscsi does it: ping only a connection that has been quiet
//! for NopInterval, and declare it failed only when nothing at all arrived
//! for NopTimeout after the ping. Any received PDU proves the peer alive; on
//! a busy connection the NOP-In echo can sit behind megabytes of Data-In.
//! A failed connection is what starts ERL 2 connection recovery (§7.2.1).
//!
//! On top of that, stall detection: a connection with commands outstanding
//! that receives nothing at all is not idle but stuck, and on an MC/S
//! session a stuck connection holds up the others too (the target executes
//! in CmdSN order, so every later command waits for the ones it lost). Such
//! a connection is pinged after the stall time rather than NopInterval, and
//! that ping gets the stall time to be answered. The target answers an
//! immediate NOP-Out at once even while its commands wait, so a live path
//! passes; a dead one fails after twice the stall time.

use super::pdu::{self, Lun, RESERVED_TAG};

/// Liveness configuration for one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NopConfig {
    /// NopInterval: ping after this long without receiving anything;
    /// 0 disables pinging.
    pub interval_ms: u64,
    /// NopTimeout: fail the connection when nothing arrives this long after
    /// a ping. 0 is treated as 1 ms (a ping must be answerable).
    pub timeout_ms: u64,
    /// Stall time: ping a connection with commands outstanding after this
    /// long without receiving anything, and fail it when that ping is not
    /// answered within as long again (or NopTimeout, if shorter); 0 turns
    /// stall detection off.
    pub stall_ms: u64,
}

impl NopConfig {
    /// Default stall time: a silently dead path is left within twice this,
    /// 1.5 s, while a live one, however loaded, answers an immediate ping
    /// within a round trip.
    pub const DEFAULT_STALL_MS: u64 = 750;

    /// open-iscsi's defaults (`noop_out_interval` = `noop_out_timeout` = 5 s)
    /// and [`NopConfig::DEFAULT_STALL_MS`].
    pub const DEFAULT: NopConfig = NopConfig {
        interval_ms: 5_000,
        timeout_ms: 5_000,
        stall_ms: Self::DEFAULT_STALL_MS,
    };
}

/// What the liveness timer wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NopEvent {
    /// Time to ping: allocate an ITT, send [`NopKeeper::ping`]'s NOP-Out and
    /// report it with [`NopKeeper::ping_sent`].
    PingDue,
    /// The ping with this ITT went unanswered for NopTimeout: treat the
    /// connection as failed (§7.2.1; at ERL 2 start connection recovery).
    ConnectionFailed {
        /// ITT of the unanswered ping, free for reuse.
        itt: u32,
        /// It was a stall ping (commands were outstanding), timed by the
        /// stall time rather than NopTimeout.
        stalled: bool,
    },
}

/// The header fields of a NOP-Out to send (RFC 7143 §11.18). CmdSN and
/// ExpStatSN come from the session and connection state at send time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NopOutFields {
    /// I bit. Pings and replies are immediate so they neither wait for nor
    /// consume the CmdSN window (§11.18: an immediate NOP-Out's CmdSN is not
    /// advanced).
    pub immediate: bool,
    /// Initiator Task Tag: allocated for a ping, 0xffffffff for a reply.
    pub itt: u32,
    /// Target Transfer Tag: 0xffffffff for a ping, the target's for a reply.
    pub ttt: u32,
    /// LUN: 0 for a ping, echoed from the NOP-In for a reply (§11.18.3).
    pub lun: Lun,
}

impl NopOutFields {
    /// The NOP-Out header, without ping data, with the session's current
    /// `cmd_sn` (not advanced by an immediate NOP-Out) and the connection's
    /// `exp_stat_sn`.
    pub fn to_pdu(&self, cmd_sn: u32, exp_stat_sn: u32) -> pdu::NopOut {
        self.to_pdu_with_data(cmd_sn, exp_stat_sn, &[])
    }

    /// Like [`Self::to_pdu`], for a NOP-Out carrying `data` as its data
    /// segment: ping data the target reflects in its NOP-In (§11.18.5), or
    /// the data of a target's ping echoed back. The caller sends `data`
    /// after the header and keeps it within the target's
    /// MaxRecvDataSegmentLength. Taking the data rather than a length keeps
    /// DataSegmentLength and the bytes sent from disagreeing; a slice too
    /// long for the 24-bit field makes `encode` fail instead of wrapping.
    pub fn to_pdu_with_data(&self, cmd_sn: u32, exp_stat_sn: u32, data: &[u8]) -> pdu::NopOut {
        pdu::NopOut {
            immediate: self.immediate,
            data_segment_length: u32::try_from(data.len()).unwrap_or(u32::MAX),
            lun: self.lun,
            itt: self.itt,
            ttt: self.ttt,
            cmd_sn,
            exp_stat_sn,
        }
    }
}

/// What a NOP-In means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NopInAction {
    /// The echo of our ping; its StatSN is a real status number.
    PingAnswered {
        /// Round-trip time in milliseconds.
        rtt_ms: u64,
    },
    /// The target pings us: send this NOP-Out (ITT 0xffffffff, same TTT and
    /// LUN, §11.19.3), without data: a target ping carries none to echo.
    Reply(NopOutFields),
    /// ITT and TTT both 0xffffffff: the target only pushes ExpCmdSN/MaxCmdSN;
    /// nothing to answer and its StatSN is not consumed (§11.19.2).
    WindowUpdate,
}

/// Why a NOP-In was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NopError {
    /// A NOP-In with an ITT that is not the outstanding ping.
    UnknownItt(u32),
    /// Both ITT and TTT set: a NOP-In cannot be an echo and a ping at once
    /// (§11.19: TTT must be 0xffffffff in a response).
    IttAndTttBothSet,
    /// A NOP-In that answers no NOP-Out (ITT 0xffffffff: a target ping or
    /// a window update) with a data segment, which §11.19 forbids.
    UnsolicitedData,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Ping {
    itt: u32,
    sent_at: u64,
    /// Sent while commands were outstanding: the stall time applies.
    stalled: bool,
}

/// Per-connection liveness state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NopKeeper {
    config: NopConfig,
    last_rx: u64,
    ping: Option<Ping>,
    ping_due_reported: bool,
    busy: bool,
}

impl NopKeeper {
    /// Start tracking a connection that entered Full Feature Phase at `now`.
    pub fn new(config: NopConfig, now: u64) -> Self {
        Self {
            config,
            last_rx: now,
            ping: None,
            ping_due_reported: false,
            busy: false,
        }
    }

    /// Current configuration.
    pub fn config(&self) -> NopConfig {
        self.config
    }

    /// Change NopInterval / NopTimeout; takes effect at the next deadline.
    pub fn set_config(&mut self, config: NopConfig) {
        self.config = config;
    }

    /// The ITT of the ping in flight, if any.
    pub fn outstanding_ping(&self) -> Option<u32> {
        self.ping.map(|p| p.itt)
    }

    fn timeout_ms(&self, ping: &Ping) -> u64 {
        let t = match (ping.stalled, self.config.stall_ms) {
            (true, s) if s != 0 => s.min(self.config.timeout_ms),
            _ => self.config.timeout_ms,
        };
        t.max(1)
    }

    /// Whether the connection has commands outstanding; the caller says so
    /// before each [`Self::poll_timeout`] / [`Self::handle_timeout`].
    pub fn set_busy(&mut self, busy: bool) {
        self.busy = busy;
    }

    /// When to call [`Self::handle_timeout`] next, or `None` for never.
    pub fn poll_timeout(&self) -> Option<u64> {
        if let Some(p) = &self.ping {
            return Some(self.last_rx.saturating_add(self.timeout_ms(p)));
        }
        if self.ping_due_reported {
            return None;
        }
        let after = |ms: u64| (ms != 0).then(|| self.last_rx.saturating_add(ms));
        let idle = after(self.config.interval_ms);
        let stall = if self.busy {
            after(self.config.stall_ms)
        } else {
            None
        };
        match (idle, stall) {
            (Some(i), Some(s)) => Some(i.min(s)),
            (i, s) => i.or(s),
        }
    }

    /// Any PDU arrived on the connection at `now`.
    pub fn on_receive(&mut self, now: u64) {
        if now > self.last_rx {
            self.last_rx = now;
        }
        self.ping_due_reported = false;
    }

    /// Check the deadlines at `now`.
    pub fn handle_timeout(&mut self, now: u64) -> Option<NopEvent> {
        let deadline = self.poll_timeout()?;
        if now < deadline {
            return None;
        }
        if let Some(ping) = self.ping.take() {
            return Some(NopEvent::ConnectionFailed {
                itt: ping.itt,
                stalled: ping.stalled && self.config.stall_ms != 0,
            });
        }
        self.ping_due_reported = true;
        Some(NopEvent::PingDue)
    }

    /// The NOP-Out for a ping with the ITT the caller allocated: TTT
    /// 0xffffffff asks the target for a NOP-In echo (§11.18.2).
    pub fn ping(itt: u32) -> NopOutFields {
        NopOutFields {
            immediate: true,
            itt,
            ttt: RESERVED_TAG,
            lun: Lun::ZERO,
        }
    }

    /// A ping with `itt` went out at `now` (also for pings the caller sends
    /// on its own, e.g. to probe a connection before reusing it). The
    /// timeout runs from the send, or from the last receive if later.
    pub fn ping_sent(&mut self, itt: u32, now: u64) {
        self.ping = Some(Ping {
            itt,
            sent_at: now,
            stalled: self.busy,
        });
        self.ping_due_reported = false;
        if now > self.last_rx {
            self.last_rx = now;
        }
    }

    /// The ping [`NopEvent::PingDue`] asked for could not be sent (no ITT
    /// free): ask for it again at the next [`Self::handle_timeout`].
    pub fn ping_skipped(&mut self) {
        self.ping_due_reported = false;
    }

    /// Classify a NOP-In received at `now` (call [`Self::on_receive`] for it
    /// too, or let this do it: it counts as activity either way).
    pub fn on_nop_in(&mut self, nop: &pdu::NopIn, now: u64) -> Result<NopInAction, NopError> {
        self.on_receive(now);
        // Only the echo of our ping may carry data (ours, reflected); a
        // target ping has none to send back (§11.19).
        if nop.itt == RESERVED_TAG && nop.data_segment_length != 0 {
            return Err(NopError::UnsolicitedData);
        }
        match (nop.itt == RESERVED_TAG, nop.ttt == RESERVED_TAG) {
            (true, true) => Ok(NopInAction::WindowUpdate),
            (true, false) => Ok(NopInAction::Reply(NopOutFields {
                immediate: true,
                itt: RESERVED_TAG,
                ttt: nop.ttt,
                lun: nop.lun,
            })),
            (false, false) => Err(NopError::IttAndTttBothSet),
            (false, true) => match self.ping {
                Some(p) if p.itt == nop.itt => {
                    self.ping = None;
                    Ok(NopInAction::PingAnswered {
                        rtt_ms: now.saturating_sub(p.sent_at),
                    })
                }
                _ => Err(NopError::UnknownItt(nop.itt)),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nop_in(itt: u32, ttt: u32, lun: Lun) -> pdu::NopIn {
        pdu::NopIn {
            data_segment_length: 0,
            lun,
            itt,
            ttt,
            stat_sn: 0,
            exp_cmd_sn: 0,
            max_cmd_sn: 0,
        }
    }

    const CFG: NopConfig = NopConfig {
        interval_ms: 1000,
        timeout_ms: 300,
        stall_ms: 0,
    };

    const STALL: NopConfig = NopConfig {
        interval_ms: 5000,
        timeout_ms: 5000,
        stall_ms: 200,
    };

    #[test]
    fn busy_quiet_connection_is_pinged_after_the_stall_time() {
        let mut k = NopKeeper::new(STALL, 1000);
        // Idle: only NopInterval counts.
        assert_eq!(k.poll_timeout(), Some(6000));
        k.set_busy(true);
        assert_eq!(k.poll_timeout(), Some(1200));
        // Data keeps coming: no ping.
        k.on_receive(1150);
        assert_eq!(k.handle_timeout(1200), None);
        assert_eq!(k.handle_timeout(1350), Some(NopEvent::PingDue));
        k.ping_sent(3, 1360);
        // The stall time, not NopTimeout, bounds the answer.
        assert_eq!(k.poll_timeout(), Some(1560));
        assert_eq!(k.handle_timeout(1559), None);
        assert_eq!(
            k.handle_timeout(1560),
            Some(NopEvent::ConnectionFailed {
                itt: 3,
                stalled: true
            })
        );
    }

    #[test]
    fn stall_ping_answered_keeps_the_connection() {
        let mut k = NopKeeper::new(STALL, 0);
        k.set_busy(true);
        assert_eq!(k.handle_timeout(200), Some(NopEvent::PingDue));
        k.ping_sent(4, 200);
        let echo = nop_in(4, RESERVED_TAG, Lun::ZERO);
        assert_eq!(
            k.on_nop_in(&echo, 250),
            Ok(NopInAction::PingAnswered { rtt_ms: 50 })
        );
        // Still waiting on the target (a long command): probed again.
        assert_eq!(k.poll_timeout(), Some(450));
        // Its commands done, the connection is idle again.
        k.set_busy(false);
        assert_eq!(k.poll_timeout(), Some(5250));
    }

    #[test]
    fn stall_ping_timeout_is_capped_by_nop_timeout() {
        let cfg = NopConfig {
            interval_ms: 0,
            timeout_ms: 100,
            stall_ms: 400,
        };
        let mut k = NopKeeper::new(cfg, 0);
        assert_eq!(k.poll_timeout(), None);
        k.set_busy(true);
        assert_eq!(k.handle_timeout(400), Some(NopEvent::PingDue));
        k.ping_sent(1, 400);
        assert_eq!(k.poll_timeout(), Some(500));
    }

    #[test]
    fn skipped_ping_is_asked_for_again() {
        let mut k = NopKeeper::new(STALL, 0);
        k.set_busy(true);
        assert_eq!(k.handle_timeout(200), Some(NopEvent::PingDue));
        assert_eq!(k.poll_timeout(), None);
        k.ping_skipped();
        assert_eq!(k.handle_timeout(210), Some(NopEvent::PingDue));
    }

    #[test]
    fn idle_ping_on_a_connection_that_turns_busy_keeps_nop_timeout() {
        let mut k = NopKeeper::new(STALL, 0);
        assert_eq!(k.handle_timeout(5000), Some(NopEvent::PingDue));
        k.ping_sent(2, 5000);
        k.set_busy(true);
        assert_eq!(k.poll_timeout(), Some(10_000));
    }

    #[test]
    fn idle_connection_is_pinged_after_interval() {
        let mut k = NopKeeper::new(CFG, 10_000);
        assert_eq!(k.poll_timeout(), Some(11_000));
        assert_eq!(k.handle_timeout(10_999), None);
        assert_eq!(k.handle_timeout(11_000), Some(NopEvent::PingDue));
        // Reported once, not on every poll.
        assert_eq!(k.poll_timeout(), None);
        assert_eq!(k.handle_timeout(11_500), None);
        let out = NopKeeper::ping(0x42);
        assert_eq!(
            out,
            NopOutFields {
                immediate: true,
                itt: 0x42,
                ttt: 0xffff_ffff,
                lun: Lun::ZERO
            }
        );
        k.ping_sent(0x42, 11_010);
        assert_eq!(k.poll_timeout(), Some(11_310));
        let echo = nop_in(0x42, 0xffff_ffff, Lun::ZERO);
        assert_eq!(
            k.on_nop_in(&echo, 11_050),
            Ok(NopInAction::PingAnswered { rtt_ms: 40 })
        );
        assert_eq!(k.outstanding_ping(), None);
        assert_eq!(k.poll_timeout(), Some(12_050));
        // The same echo again is no longer expected.
        assert_eq!(k.on_nop_in(&echo, 11_060), Err(NopError::UnknownItt(0x42)));
    }

    #[test]
    fn ping_carries_its_data_length() {
        let ping = NopKeeper::ping(7);
        let data = [0xa5u8; 64];
        let out = ping.to_pdu_with_data(100, 200, &data);
        assert_eq!(out.data_segment_length, 64);
        assert_eq!(
            (out.itt, out.ttt, out.cmd_sn, out.exp_stat_sn),
            (7, RESERVED_TAG, 100, 200)
        );
        let mut bhs = [0u8; pdu::BHS_LEN];
        out.encode(&mut bhs).unwrap();
        assert_eq!(pdu::NopOut::decode(&bhs).unwrap(), out);
        assert_eq!(&bhs[5..8], &[0, 0, 64]);
        // Without data the header says so.
        assert_eq!(ping.to_pdu(100, 200).data_segment_length, 0);
    }

    #[test]
    fn traffic_postpones_the_ping() {
        let mut k = NopKeeper::new(CFG, 0);
        k.on_receive(900);
        assert_eq!(k.handle_timeout(1000), None);
        assert_eq!(k.poll_timeout(), Some(1900));
    }

    #[test]
    fn unanswered_ping_fails_the_connection() {
        let mut k = NopKeeper::new(CFG, 0);
        assert_eq!(k.handle_timeout(1000), Some(NopEvent::PingDue));
        k.ping_sent(7, 1000);
        // Data keeps arriving: the connection is alive even without the echo.
        k.on_receive(1200);
        assert_eq!(k.handle_timeout(1300), None);
        assert_eq!(
            k.handle_timeout(1500),
            Some(NopEvent::ConnectionFailed {
                itt: 7,
                stalled: false
            })
        );
        assert_eq!(k.outstanding_ping(), None);
    }

    #[test]
    fn target_ping_is_answered_with_its_ttt_and_lun() {
        let mut k = NopKeeper::new(CFG, 0);
        let lun = Lun::single_level(3).unwrap();
        let nop = nop_in(0xffff_ffff, 0x0bad_cafe, lun);
        assert_eq!(
            k.on_nop_in(&nop, 5),
            Ok(NopInAction::Reply(NopOutFields {
                immediate: true,
                itt: 0xffff_ffff,
                ttt: 0x0bad_cafe,
                lun
            }))
        );
        assert_eq!(k.poll_timeout(), Some(1005));
    }

    #[test]
    fn reply_encodes_as_immediate_nop_out() {
        let mut k = NopKeeper::new(CFG, 0);
        let lun = Lun::single_level(1).unwrap();
        let Ok(NopInAction::Reply(f)) = k.on_nop_in(&nop_in(0xffff_ffff, 0x0102_0304, lun), 0)
        else {
            panic!("expected a reply");
        };
        let mut bhs = [0u8; pdu::BHS_LEN];
        f.to_pdu(10, 20).encode(&mut bhs).unwrap();
        // Byte 0: I bit + opcode 0x00; byte 1: F bit (RFC 7143 §11.18).
        assert_eq!(&bhs[..2], &[0x40, 0x80]);
        assert_eq!(&bhs[8..10], &[0, 1]);
        assert_eq!(
            &bhs[16..32],
            &[0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4, 0, 0, 0, 10, 0, 0, 0, 20]
        );
    }

    #[test]
    fn unsolicited_nop_in_and_malformed_tags() {
        let mut k = NopKeeper::new(CFG, 0);
        let nop = nop_in(0xffff_ffff, 0xffff_ffff, Lun::ZERO);
        assert_eq!(k.on_nop_in(&nop, 1), Ok(NopInAction::WindowUpdate));
        let both = nop_in(1, 2, Lun::ZERO);
        assert_eq!(k.on_nop_in(&both, 1), Err(NopError::IttAndTttBothSet));
    }

    /// A NOP-In that answers no NOP-Out of ours (a target ping or a window
    /// update) must carry no data (RFC 7143 §11.19): there is nothing to
    /// echo, and echoing it would desynchronise LIO, which reads no data
    /// segment from a NOP-Out with a valid TTT. Such a PDU is refused,
    /// as open-iscsi does (ISCSI_ERR_PROTO).
    #[test]
    fn unsolicited_nop_in_with_data_is_refused() {
        let mut k = NopKeeper::new(CFG, 0);
        for ttt in [0x0bad_cafe, RESERVED_TAG] {
            let mut nop = nop_in(RESERVED_TAG, ttt, Lun::ZERO);
            nop.data_segment_length = 4;
            assert_eq!(k.on_nop_in(&nop, 1), Err(NopError::UnsolicitedData));
        }
        // The echo of our own ping carries our ping data back: fine.
        k.ping_sent(5, 2);
        let mut echo = nop_in(5, RESERVED_TAG, Lun::ZERO);
        echo.data_segment_length = 16;
        assert_eq!(
            k.on_nop_in(&echo, 3),
            Ok(NopInAction::PingAnswered { rtt_ms: 1 })
        );
    }

    #[test]
    fn disabled_interval_never_pings_but_explicit_ping_still_times_out() {
        let cfg = NopConfig {
            interval_ms: 0,
            timeout_ms: 0,
            stall_ms: 0,
        };
        let mut k = NopKeeper::new(cfg, 0);
        assert_eq!(k.poll_timeout(), None);
        assert_eq!(k.handle_timeout(u64::MAX), None);
        k.ping_sent(9, 100);
        assert_eq!(k.poll_timeout(), Some(101));
        assert_eq!(
            k.handle_timeout(101),
            Some(NopEvent::ConnectionFailed {
                itt: 9,
                stalled: false
            })
        );
    }
}
