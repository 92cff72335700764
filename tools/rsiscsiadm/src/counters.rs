// SPDX-License-Identifier: GPL-2.0
//! The I/O counters of a session or of one connection, as SESSION_GET
//! reports them, in the `list -P 1` (human) and `stats` (machine) forms.

use crate::attrs::Attrs;
use rsiscsi_abi::Attr;

/// Counters; `None` for one the kernel did not report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// SCSI commands issued.
    pub cmds: Option<u64>,
    /// Bytes sent.
    pub tx_bytes: Option<u64>,
    /// Bytes received.
    pub rx_bytes: Option<u64>,
    /// Commands completed with an error.
    pub errors: Option<u64>,
    /// Commands outstanding now.
    pub outstanding: Option<u32>,
    /// Bytes of the commands outstanding now.
    pub outstanding_bytes: Option<u64>,
    /// Moving average of command latency, microseconds.
    pub latency_us: Option<u32>,
}

/// A byte count, with a binary-unit rendering once it is large enough for
/// the plain number to be hard to read.
fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if n < 1024 {
        return n.to_string();
    }
    let mut v = n as f64 / 1024.0;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    format!("{n} ({v:.1} {})", UNITS[u])
}

/// `v`, or `-` when absent.
pub fn or_dash<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(|| "-".into(), |v| v.to_string())
}

impl Counters {
    /// From the attributes of a session message or a Conn nest.
    pub fn from_attrs(a: &Attrs<'_>) -> Counters {
        Counters {
            cmds: a.u64(Attr::StatCmds as u16),
            tx_bytes: a.u64(Attr::StatTxBytes as u16),
            rx_bytes: a.u64(Attr::StatRxBytes as u16),
            errors: a.u64(Attr::StatErrors as u16),
            outstanding: a.u32(Attr::StatOutstanding as u16),
            outstanding_bytes: a.u64(Attr::StatOutstandingBytes as u16),
            latency_us: a.u32(Attr::StatLatencyUs as u16),
        }
    }

    /// The reported counters as `-P 1` lines: label, value.
    pub fn human(&self) -> Vec<(&'static str, String)> {
        [
            ("commands", self.cmds.map(|v| v.to_string())),
            ("tx_bytes", self.tx_bytes.map(bytes)),
            ("rx_bytes", self.rx_bytes.map(bytes)),
            ("errors", self.errors.map(|v| v.to_string())),
            ("outstanding", self.outstanding.map(|v| v.to_string())),
            ("outstanding_bytes", self.outstanding_bytes.map(bytes)),
            ("latency", self.latency_us.map(|v| format!("{v} us"))),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect()
    }

    /// The `stats` fields every line has:
    /// `cmds=N tx_bytes=N rx_bytes=N errors=N outstanding=N`.
    pub fn machine(&self) -> String {
        format!(
            "cmds={} tx_bytes={} rx_bytes={} errors={} outstanding={}",
            or_dash(self.cmds),
            or_dash(self.tx_bytes),
            or_dash(self.rx_bytes),
            or_dash(self.errors),
            or_dash(self.outstanding)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attrs::AttrBuf;

    #[test]
    fn from_attributes_and_forms() {
        let mut b = AttrBuf::new();
        b.put(Attr::StatCmds as u16, &12u64.to_ne_bytes())
            .put(Attr::StatTxBytes as u16, &(3u64 << 20).to_ne_bytes())
            .put(Attr::StatRxBytes as u16, &100u64.to_ne_bytes())
            .put_u32(Attr::StatOutstanding as u16, 2)
            .put_u32(Attr::StatLatencyUs as u16, 250);
        let c = Counters::from_attrs(&Attrs::parse(b.bytes()));
        assert_eq!(c.errors, None);
        assert_eq!(
            c.machine(),
            "cmds=12 tx_bytes=3145728 rx_bytes=100 errors=- outstanding=2"
        );
        assert_eq!(
            c.human(),
            vec![
                ("commands", "12".to_string()),
                ("tx_bytes", "3145728 (3.0 MiB)".to_string()),
                ("rx_bytes", "100".to_string()),
                ("outstanding", "2".to_string()),
                ("latency", "250 us".to_string()),
            ]
        );
        assert_eq!(bytes(1536), "1536 (1.5 KiB)");
    }
}
