// SPDX-License-Identifier: GPL-2.0
//! `rsiscsi-diag io`: log in, find a disk LUN, identify it, write and read
//! back patterns sized to exercise immediate data, unsolicited Data-Out and
//! R2T-solicited Data-Out, then add connections to the same session (MC/S),
//! cross-check data between connections, ping, and log everything out.

use crate::args::IoArgs;
use crate::cdb::{self, Capacity};
use crate::error::DiagError;
use crate::login::{self, LoginSpec};
use crate::logout::logout;
use crate::pattern;
use crate::ping::ping;
use crate::scsi::{execute, DataDir, ScsiResult, WritePaths};
use crate::session::{Connection, Session};
use rsiscsi_core::logout::LogoutKind;
use rsiscsi_core::pdu::{Lun, Residual};

/// SCSI status GOOD.
const GOOD: u8 = 0x00;
/// SCSI status CHECK CONDITION.
const CHECK_CONDITION: u8 = 0x02;
/// How often a command is retried after UNIT ATTENTION.
const UA_RETRIES: usize = 4;

/// What the run saw, for the summary.
#[derive(Debug, Default)]
struct Tally {
    commands: u32,
    bytes_written: u64,
    bytes_verified: u64,
    paths: WritePaths,
    pings: u32,
}

impl Tally {
    fn add_paths(&mut self, p: &WritePaths) {
        let t = &mut self.paths;
        t.immediate += p.immediate;
        t.unsolicited_pdus += p.unsolicited_pdus;
        t.unsolicited_bytes += p.unsolicited_bytes;
        t.r2ts += p.r2ts;
        t.solicited_pdus += p.solicited_pdus;
        t.solicited_bytes += p.solicited_bytes;
    }
}

/// One logged-in session with its connections (index 0 is the leading one).
struct Run {
    sess: Session,
    conns: Vec<Connection>,
    lun: Lun,
    tally: Tally,
    seed: u64,
}

fn status_text(r: &ScsiResult) -> String {
    match r.sense {
        Some(s) => format!(
            "status 0x{:02x}, sense key 0x{:x} asc 0x{:02x} ascq 0x{:02x}",
            r.status, s.key, s.asc, s.ascq
        ),
        None => format!("status 0x{:02x}", r.status),
    }
}

impl Run {
    /// Runs a command on connection `c`, retrying after UNIT ATTENTION;
    /// any other non-GOOD status is an error.
    fn command(
        &mut self,
        c: usize,
        lun: Lun,
        what: &str,
        cdb: &[u8],
        dir: DataDir<'_>,
    ) -> Result<ScsiResult, DiagError> {
        let r = self.try_command(c, lun, cdb, dir)?;
        if r.status == GOOD {
            return Ok(r);
        }
        Err(DiagError::Scsi(format!("{what}: {}", status_text(&r))))
    }

    /// Like [`Run::command`] but hands back any final status.
    fn try_command(
        &mut self,
        c: usize,
        lun: Lun,
        cdb: &[u8],
        dir: DataDir<'_>,
    ) -> Result<ScsiResult, DiagError> {
        let conn = self
            .conns
            .get_mut(c)
            .ok_or_else(|| DiagError::Protocol(format!("no connection {c}")))?;
        let mut tries = 0;
        loop {
            let r = execute(&mut self.sess, conn, lun, cdb, dir)?;
            self.tally.commands += 1;
            let ua = r.status == CHECK_CONDITION && r.sense.is_some_and(|s| s.is_unit_attention());
            if ua && tries < UA_RETRIES {
                tries += 1;
                say!("  (unit attention, retrying)");
                continue;
            }
            return Ok(r);
        }
    }

    fn cid(&self, c: usize) -> u16 {
        self.conns.get(c).map_or(0, |x| x.cid)
    }

    /// REPORT LUNS on LUN 0, then the first LUN whose INQUIRY says disk.
    fn find_disk(&mut self) -> Result<Lun, DiagError> {
        let r = self.command(
            0,
            Lun::ZERO,
            "REPORT LUNS",
            &cdb::report_luns(4096),
            DataDir::Read(4096),
        )?;
        let luns = cdb::parse_report_luns(&r.data)
            .ok_or_else(|| DiagError::Protocol("short REPORT LUNS data".into()))?;
        say!("REPORT LUNS: {} LUN(s)", luns.len());
        for raw in luns {
            let lun = Lun(raw);
            let r = self.command(0, lun, "INQUIRY", &cdb::inquiry(96), DataDir::Read(96))?;
            if cdb::parse_inquiry(&r.data).is_some_and(|i| i.device_type == 0) {
                return Ok(lun);
            }
        }
        Err(DiagError::Scsi("no disk LUN behind this target".into()))
    }

    fn identify(&mut self) -> Result<Capacity, DiagError> {
        let lun = self.lun;
        let n = lun.to_single_level().map_or(-1, i32::from);
        self.command(
            0,
            lun,
            "TEST UNIT READY",
            &cdb::test_unit_ready(),
            DataDir::None,
        )?;
        say!("TEST UNIT READY lun {n}: ok");
        let r = self.command(0, lun, "INQUIRY", &cdb::inquiry(96), DataDir::Read(96))?;
        let inq = cdb::parse_inquiry(&r.data)
            .ok_or_else(|| DiagError::Protocol("short INQUIRY data".into()))?;
        say!(
            "INQUIRY lun {n}: vendor '{}' product '{}' revision '{}'",
            inq.vendor,
            inq.product,
            inq.revision
        );
        let r = self.command(
            0,
            lun,
            "READ CAPACITY(10)",
            &cdb::read_capacity10(),
            DataDir::Read(8),
        )?;
        let cap10 = cdb::parse_read_capacity10(&r.data)
            .ok_or_else(|| DiagError::Protocol("short READ CAPACITY(10) data".into()))?;
        say!(
            "READ CAPACITY(10): {} blocks of {} bytes ({} bytes)",
            cap10.blocks,
            cap10.block_len,
            cap10.bytes()
        );
        let r = self.try_command(
            0,
            lun,
            &cdb::read_capacity16(),
            DataDir::Read(cdb::READ_CAPACITY16_LEN),
        )?;
        let cap = if r.status == GOOD {
            let c = cdb::parse_read_capacity16(&r.data)
                .ok_or_else(|| DiagError::Protocol("short READ CAPACITY(16) data".into()))?;
            say!(
                "READ CAPACITY(16): {} blocks of {} bytes ({} bytes)",
                c.blocks,
                c.block_len,
                c.bytes()
            );
            if c.block_len != cap10.block_len
                || (cap10.blocks <= u64::from(u32::MAX) && c.blocks != cap10.blocks)
            {
                return Err(DiagError::Protocol(
                    "READ CAPACITY(10) and (16) disagree".into(),
                ));
            }
            c
        } else {
            say!("READ CAPACITY(16): not supported ({})", status_text(&r));
            cap10
        };
        if cap.block_len == 0 || cap.block_len > 65536 || cap.blocks == 0 {
            return Err(DiagError::Protocol(format!(
                "implausible capacity: {} blocks of {} bytes",
                cap.blocks, cap.block_len
            )));
        }
        Ok(cap)
    }

    /// WRITE(10) on connection `w`, READ(10) back on connection `r`,
    /// compare.
    fn write_read(
        &mut self,
        w: usize,
        r: usize,
        lba: u32,
        blocks: u16,
        block_len: u32,
    ) -> Result<(), DiagError> {
        let len = usize::from(blocks) * block_len as usize;
        let data = pattern::fill(self.seed, u64::from(lba), len);
        let lun = self.lun;
        let res = self.command(
            w,
            lun,
            "WRITE(10)",
            &cdb::write10(lba, blocks),
            DataDir::Write(&data),
        )?;
        let p = res.paths;
        say!(
            "WRITE(10) cid {} lba {lba} blocks {blocks} ({len} bytes): immediate {}, unsolicited {} in {} PDU(s), {} R2T(s) for {} in {} PDU(s)",
            self.cid(w),
            p.immediate,
            p.unsolicited_bytes,
            p.unsolicited_pdus,
            p.r2ts,
            p.solicited_bytes,
            p.solicited_pdus
        );
        self.tally.add_paths(&p);
        self.tally.bytes_written += len as u64;
        let back = self.read_back(r, lba, blocks, block_len)?;
        if let Some(at) = pattern::first_difference(&data, &back) {
            return Err(DiagError::Mismatch(format!(
                "lba {lba}: read back {} bytes on cid {}, first difference at byte {at}",
                back.len(),
                self.cid(r)
            )));
        }
        say!(
            "READ(10) cid {} lba {lba} blocks {blocks}: {len} bytes match",
            self.cid(r)
        );
        self.tally.bytes_verified += len as u64;
        Ok(())
    }

    /// One READ(10) of `blocks` blocks from `lba` on connection `c`. tgt
    /// answers it with a single Data-In sequence even beyond
    /// MaxBurstLength, which the core tolerates by default
    /// (`BurstLimit::Tolerate`), so reads are not split.
    fn read_back(
        &mut self,
        c: usize,
        lba: u32,
        blocks: u16,
        block_len: u32,
    ) -> Result<Vec<u8>, DiagError> {
        let len = u32::from(blocks) * block_len;
        let res = self.command(
            c,
            self.lun,
            "READ(10)",
            &cdb::read10(lba, blocks),
            DataDir::Read(len),
        )?;
        if res.residual != Residual::None || res.data.len() != len as usize {
            return Err(DiagError::Protocol(format!(
                "READ(10) lba {lba}: {} bytes, residual {:?}",
                res.data.len(),
                res.residual
            )));
        }
        Ok(res.data)
    }

    fn ping(&mut self, c: usize) -> Result<(), DiagError> {
        let payload = pattern::fill(self.seed, 0x6e6f70 + c as u64, 64);
        let cid = self.cid(c);
        let conn = self
            .conns
            .get_mut(c)
            .ok_or_else(|| DiagError::Protocol(format!("no connection {c}")))?;
        let rtt = ping(&mut self.sess, conn, &payload)?;
        say!("NOP-Out ping cid {cid}: echoed, {rtt} ms");
        self.tally.pings += 1;
        Ok(())
    }
}

/// Transfer sizes, in blocks, that make the negotiated session use each
/// write path: (label, blocks).
fn write_plan(run: &Run, cap: &Capacity) -> Vec<(&'static str, u16)> {
    let s = &run.sess.params;
    let bl = cap.block_len.max(1);
    let max_xmit = run
        .conns
        .first()
        .map_or(8192, |c| c.params.max_xmit_data_segment_length);
    let blocks = |bytes: u32| u16::try_from(bytes.div_ceil(bl).max(1)).unwrap_or(u16::MAX);
    let mut plan = vec![("one block", 1u16)];
    // Immediate data fills one PDU; with InitialR2T=No the rest of the
    // first burst follows unsolicited.
    plan.push(("immediate + unsolicited", blocks(max_xmit.max(bl) + bl * 2)));
    plan.push(("first burst", blocks(s.first_burst_length)));
    // Beyond the first burst the target must solicit the rest with R2Ts;
    // more than MaxBurstLength needs several.
    plan.push((
        "solicited (R2T)",
        blocks(s.first_burst_length.saturating_add(s.max_burst_length) + bl * 3),
    ));
    let fits = |b: u16| u64::from(b) <= cap.blocks;
    plan.retain(|&(_, b)| fits(b));
    plan
}

/// Runs the whole `io` scenario.
pub fn run(a: &IoArgs) -> Result<(), DiagError> {
    let spec = LoginSpec::normal(a);
    let (sess, conn, info) = login::login_leading(&spec)?;
    say!("login cid {}: {info}", conn.cid);
    let mut run = Run {
        sess,
        conns: vec![conn],
        lun: Lun::ZERO,
        tally: Tally::default(),
        seed: pattern::run_seed(),
    };
    let result = exercise(a, &spec, &mut run);
    let connections = run.conns.len();
    // Log out whatever is still logged in, also after a SCSI failure or a
    // mismatch; after a protocol or connection error the connections'
    // state is unknown, so they are just closed.
    let out = match &result {
        Err(DiagError::Protocol(_) | DiagError::Connection(_)) => {
            for c in &run.conns {
                c.wire.shutdown();
            }
            say!("connections closed without logout after the error");
            Ok(())
        }
        _ => log_out_all(&mut run),
    };
    let summary = format!(
        "summary: {connections} connection(s), {} commands, {} bytes written, {} bytes verified, immediate {} B, unsolicited {} B, {} R2T(s), {} ping(s)",
        run.tally.commands,
        run.tally.bytes_written,
        run.tally.bytes_verified,
        run.tally.paths.immediate,
        run.tally.paths.unsolicited_bytes,
        run.tally.paths.r2ts,
        run.tally.pings
    );
    say!("{summary}");
    result.and(out)
}

fn exercise(a: &IoArgs, spec: &LoginSpec, run: &mut Run) -> Result<(), DiagError> {
    run.lun = run.find_disk()?;
    let cap = run.identify()?;
    let plan = write_plan(run, &cap);
    write_paths(run, &cap, &plan)?;
    run.ping(0)?;
    let refused = add_connections(a, spec, run)?;
    if run.conns.len() > 1 {
        // The largest size of the plan: immediate, unsolicited and
        // solicited data on every connection.
        let blocks = plan.last().map_or(1, |p| p.1);
        cross_connections(run, &cap, blocks)?;
    }
    match refused {
        Some(m) => Err(DiagError::ConnectionRefused(m)),
        None => Ok(()),
    }
}

/// Every size of the plan on the leading connection, at the start, middle
/// and end of the disk, then a check that each write path the negotiated
/// values allow was taken.
fn write_paths(run: &mut Run, cap: &Capacity, plan: &[(&str, u16)]) -> Result<(), DiagError> {
    let blocks_max = u64::from(plan.iter().map(|p| p.1).max().unwrap_or(1));
    let last = cap.blocks.saturating_sub(blocks_max);
    let lbas = [0, last / 2, last];
    for (&(label, blocks), lba) in plan.iter().zip(lbas.iter().cycle()) {
        say!("write test: {label}");
        let lba = u32::try_from(*lba).unwrap_or(0);
        run.write_read(0, 0, lba, blocks, cap.block_len)?;
    }
    let s = &run.sess.params;
    let p = &run.tally.paths;
    check_path("immediate data", s.immediate_data, p.immediate > 0)?;
    check_path(
        "unsolicited Data-Out",
        !s.initial_r2t,
        p.unsolicited_pdus > 0,
    )?;
    check_path("R2T-solicited Data-Out", true, p.r2ts > 0)
}

/// Logs in connections 1..N to the session, within the negotiated
/// MaxConnections. A refusal stops there and is returned as a message:
/// the rest of the run goes on with the connections that were accepted.
fn add_connections(
    a: &IoArgs,
    spec: &LoginSpec,
    run: &mut Run,
) -> Result<Option<String>, DiagError> {
    let allowed = run.sess.params.max_connections;
    if a.connections > allowed {
        say!(
            "MC/S: the target allows MaxConnections={allowed}, not adding {} more",
            a.connections - allowed
        );
    }
    for cid in 1..a.connections.min(allowed) {
        match login::login_additional(spec, &mut run.sess, cid) {
            Ok((conn, info)) => {
                say!(
                    "login cid {cid} (added to TSIH 0x{:04x}): {info}",
                    run.sess.tsih
                );
                run.conns.push(conn);
            }
            Err(DiagError::Login(m) | DiagError::Auth(m)) => {
                say!("login cid {cid}: refused by the target: {m}");
                return Ok(Some(format!("connection {cid}: {m}")));
            }
            Err(e) => return Err(e),
        }
    }
    Ok((a.connections > allowed).then(|| format!("target negotiated MaxConnections={allowed}")))
}

/// Each connection writes a region the next one reads back, so data
/// crosses the session's connections both ways; then a ping on each.
fn cross_connections(run: &mut Run, cap: &Capacity, blocks: u16) -> Result<(), DiagError> {
    let n = run.conns.len();
    for w in 0..n {
        let r = (w + 1) % n;
        let lba = (w as u64 + 1) * u64::from(blocks) * 2;
        let Some(lba) = u32::try_from(lba)
            .ok()
            .filter(|&l| u64::from(l) + u64::from(blocks) <= cap.blocks)
        else {
            return Err(DiagError::Scsi(format!(
                "LUN too small for the MC/S test ({} blocks)",
                cap.blocks
            )));
        };
        run.write_read(w, r, lba, blocks, cap.block_len)?;
    }
    for c in 0..n {
        run.ping(c)?;
    }
    say!("MC/S: {n} connections carried commands with one CmdSN sequence");
    Ok(())
}

fn check_path(what: &str, allowed: bool, used: bool) -> Result<(), DiagError> {
    match (allowed, used) {
        (true, true) => {
            say!("path {what}: exercised");
            Ok(())
        }
        (false, false) => {
            say!("path {what}: not allowed by the negotiated parameters");
            Ok(())
        }
        (true, false) => Err(DiagError::Protocol(format!("{what} was never used"))),
        (false, true) => Err(DiagError::Protocol(format!(
            "{what} was used although not negotiated"
        ))),
    }
}

/// Logs out the added connections one by one, then the session on the
/// leading connection.
fn log_out_all(run: &mut Run) -> Result<(), DiagError> {
    let mut first_err = None;
    while run.conns.len() > 1 {
        let Some(mut conn) = run.conns.pop() else {
            break;
        };
        let cid = conn.cid;
        match logout(
            &mut run.sess,
            &mut conn,
            LogoutKind::CloseConnection { cid },
        ) {
            Ok(_) => say!("logout cid {cid}: connection closed"),
            Err(e) => {
                say!("logout cid {cid}: {e}");
                first_err.get_or_insert(e);
            }
        }
    }
    if let Some(conn) = run.conns.first_mut() {
        match logout(&mut run.sess, conn, LogoutKind::CloseSession) {
            Ok(_) => say!("logout cid {}: session closed", conn.cid),
            Err(e) => {
                say!("logout cid {}: {e}", conn.cid);
                first_err.get_or_insert(e);
            }
        }
    }
    first_err.map_or(Ok(()), Err)
}
