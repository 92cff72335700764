// SPDX-License-Identifier: GPL-2.0
//! What can go wrong, and the exit code each failure maps to.
//!
//! The codes follow iscsiadm where it has one (`include/iscsi_err.h`):
//! 4 transport, 5 login, 24 authentication; the rest are ours.

use std::fmt;

/// A failure that ends the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiagError {
    /// Bad command line.
    Usage(String),
    /// TCP connect, read or write failed.
    Connection(String),
    /// The target refused the login (or the login exchange broke down).
    Login(String),
    /// The target refused our credentials, or failed to prove its own.
    Auth(String),
    /// The target broke the protocol (malformed PDU, bad sequence, Reject).
    Protocol(String),
    /// A SCSI command completed with a status other than GOOD.
    Scsi(String),
    /// Data read back differs from what was written.
    Mismatch(String),
    /// The target refused an additional connection of the session
    /// (everything else succeeded on the connections it accepted).
    ConnectionRefused(String),
}

impl DiagError {
    /// Process exit code for this failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            DiagError::Usage(_) => 2,
            DiagError::Connection(_) => 4,
            DiagError::Login(_) => 5,
            DiagError::Auth(_) => 24,
            DiagError::Protocol(_) => 9,
            DiagError::Scsi(_) => 40,
            DiagError::Mismatch(_) => 41,
            DiagError::ConnectionRefused(_) => 42,
        }
    }
}

impl fmt::Display for DiagError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DiagError::Usage(m) => write!(f, "usage error: {m}"),
            DiagError::Connection(m) => write!(f, "connection failed: {m}"),
            DiagError::Login(m) | DiagError::Auth(m) => write!(f, "login failed: {m}"),
            DiagError::Protocol(m) => write!(f, "protocol error: {m}"),
            DiagError::Scsi(m) => write!(f, "SCSI command failed: {m}"),
            DiagError::Mismatch(m) => write!(f, "data mismatch: {m}"),
            DiagError::ConnectionRefused(m) => write!(f, "additional connection refused: {m}"),
        }
    }
}

/// Shorthand for a protocol error from anything printable.
pub fn protocol(what: impl fmt::Display) -> DiagError {
    DiagError::Protocol(what.to_string())
}

/// A protocol error from a core error value, with some context.
pub fn core_err(context: &str, e: impl fmt::Debug) -> DiagError {
    DiagError::Protocol(format!("{context}: {e:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_and_usage_is_2() {
        let all = [
            DiagError::Usage(String::new()),
            DiagError::Connection(String::new()),
            DiagError::Login(String::new()),
            DiagError::Auth(String::new()),
            DiagError::Protocol(String::new()),
            DiagError::Scsi(String::new()),
            DiagError::Mismatch(String::new()),
            DiagError::ConnectionRefused(String::new()),
        ];
        assert_eq!(all[0].exit_code(), 2);
        for (i, a) in all.iter().enumerate() {
            assert_ne!(a.exit_code(), 0);
            for b in all.iter().skip(i + 1) {
                assert_ne!(a.exit_code(), b.exit_code());
            }
        }
    }
}
