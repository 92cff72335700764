// SPDX-License-Identifier: GPL-2.0
//! Errors and exit codes (iscsiadm's: open-iscsi include/iscsi_err.h).

use std::fmt;

/// What went wrong, with the exit code it maps to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdmError {
    /// Bad command line or a value the kernel rejected as invalid (7).
    Invalid(String),
    /// The session named does not exist (2).
    NoSession(String),
    /// Login failed for another reason than authentication (5).
    Login(String),
    /// Login failed: authentication (24).
    LoginAuth(String),
    /// Not allowed: the caller lacks CAP_NET_ADMIN (13).
    Access(String),
    /// A session to this target and portal exists already (15).
    Exists(String),
    /// Nothing to list or log out (21).
    NoObjects(String),
    /// rsiscsi.ko is not loaded (12, transport not found).
    NoModule,
    /// The logout exchange failed; the session is gone anyway (10).
    Logout(String),
    /// The session is busy, e.g. still logging in (28).
    Busy(String),
    /// Anything else (1).
    Other(String),
}

impl AdmError {
    /// iscsiadm's exit code for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            AdmError::Other(_) => 1,
            AdmError::NoSession(_) => 2,
            AdmError::Login(_) => 5,
            AdmError::Invalid(_) => 7,
            AdmError::Logout(_) => 10,
            AdmError::NoModule => 12,
            AdmError::Access(_) => 13,
            AdmError::Exists(_) => 15,
            AdmError::NoObjects(_) => 21,
            AdmError::LoginAuth(_) => 24,
            AdmError::Busy(_) => 28,
        }
    }
}

impl AdmError {
    /// The same error (and exit code) with another message.
    pub fn reworded(self, m: String) -> AdmError {
        match self {
            AdmError::Invalid(_) => AdmError::Invalid(m),
            AdmError::NoSession(_) => AdmError::NoSession(m),
            AdmError::Login(_) => AdmError::Login(m),
            AdmError::LoginAuth(_) => AdmError::LoginAuth(m),
            AdmError::Access(_) => AdmError::Access(m),
            AdmError::Exists(_) => AdmError::Exists(m),
            AdmError::NoObjects(_) => AdmError::NoObjects(m),
            AdmError::NoModule => AdmError::NoModule,
            AdmError::Logout(_) => AdmError::Logout(m),
            AdmError::Busy(_) => AdmError::Busy(m),
            AdmError::Other(_) => AdmError::Other(m),
        }
    }

    /// The message without the kind's own prefix.
    fn message(&self) -> &str {
        match self {
            AdmError::Invalid(m)
            | AdmError::NoSession(m)
            | AdmError::Login(m)
            | AdmError::LoginAuth(m)
            | AdmError::Access(m)
            | AdmError::Exists(m)
            | AdmError::NoObjects(m)
            | AdmError::Logout(m)
            | AdmError::Busy(m)
            | AdmError::Other(m) => m,
            AdmError::NoModule => "",
        }
    }

    /// The same error with `what: ` in front of its message.
    pub fn within(self, what: &str) -> AdmError {
        let m = format!("{what}: {}", self.message());
        self.reworded(m)
    }
}

impl fmt::Display for AdmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AdmError::Invalid(m) => write!(f, "invalid argument: {m}"),
            AdmError::NoSession(m)
            | AdmError::Access(m)
            | AdmError::Exists(m)
            | AdmError::NoObjects(m)
            | AdmError::Logout(m)
            | AdmError::Busy(m)
            | AdmError::Other(m) => f.write_str(m),
            AdmError::Login(m) | AdmError::LoginAuth(m) => write!(f, "login failed: {m}"),
            AdmError::NoModule => {
                f.write_str("rsiscsi.ko is not loaded (no \"rsiscsi\" netlink family)")
            }
        }
    }
}

/// A netlink error reply: the errno (positive) and the kernel's extended
/// ack message, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NlError {
    /// Positive errno.
    pub errno: i32,
    /// Extended ack message.
    pub msg: Option<String>,
}

impl NlError {
    /// The message, or the errno's description.
    pub fn text(&self) -> String {
        match &self.msg {
            Some(m) => m.clone(),
            None => std::io::Error::from_raw_os_error(self.errno).to_string(),
        }
    }

    /// The general mapping (EPERM and EINVAL for every command).
    pub fn into_adm(self) -> AdmError {
        match self.errno {
            libc::EPERM => AdmError::Access(format!(
                "permission denied: {} (rsiscsi needs CAP_NET_ADMIN)",
                self.text()
            )),
            libc::EINVAL => AdmError::Invalid(self.text()),
            libc::EEXIST => AdmError::Exists(format!("session exists: {}", self.text())),
            _ => AdmError::Other(self.text()),
        }
    }

    /// The mapping for a request on an existing session or connection
    /// (`what`, e.g. "session 3 connection 1"): ENOENT it does not exist
    /// (2), EBUSY the session is busy (28), then the general mapping.
    pub fn into_adm_on(self, what: &str) -> AdmError {
        match self.errno {
            libc::ENOENT => AdmError::NoSession(format!("{what}: {}", self.text())),
            libc::EBUSY => AdmError::Busy(format!("{what}: {}", self.text())),
            _ => self.into_adm(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_iscsiadm() {
        assert_eq!(AdmError::LoginAuth(String::new()).exit_code(), 24);
        assert_eq!(AdmError::Login(String::new()).exit_code(), 5);
        assert_eq!(AdmError::Access(String::new()).exit_code(), 13);
        assert_eq!(AdmError::Exists(String::new()).exit_code(), 15);
        assert_eq!(AdmError::NoObjects(String::new()).exit_code(), 21);
        assert_eq!(AdmError::NoSession(String::new()).exit_code(), 2);
        assert_eq!(AdmError::Invalid(String::new()).exit_code(), 7);
        assert_eq!(AdmError::Logout(String::new()).exit_code(), 10);
        assert_eq!(AdmError::Busy(String::new()).exit_code(), 28);
    }

    #[test]
    fn within_keeps_kind_and_one_prefix() {
        let e = AdmError::Invalid("weight: 'x' is not a number".into()).within("--path 10.2.0.2");
        assert_eq!(
            e.to_string(),
            "invalid argument: --path 10.2.0.2: weight: 'x' is not a number"
        );
        assert_eq!(e.exit_code(), 7);
    }

    #[test]
    fn login_message() {
        let e = AdmError::LoginAuth("authentication failed (0x0201)".into());
        assert_eq!(
            e.to_string(),
            "login failed: authentication failed (0x0201)"
        );
    }

    #[test]
    fn errno_mapping() {
        let e = NlError {
            errno: libc::EPERM,
            msg: None,
        }
        .into_adm();
        assert_eq!(e.exit_code(), 13);
        let e = NlError {
            errno: libc::EINVAL,
            msg: Some("x".into()),
        }
        .into_adm();
        assert_eq!(e, AdmError::Invalid("x".into()));
    }

    #[test]
    fn errno_mapping_on_a_session() {
        let on = |errno, msg: Option<&str>| {
            NlError {
                errno,
                msg: msg.map(String::from),
            }
            .into_adm_on("session 3 connection 1")
        };
        assert_eq!(
            on(libc::ENOENT, Some("no such connection")),
            AdmError::NoSession("session 3 connection 1: no such connection".into())
        );
        assert_eq!(on(libc::EBUSY, None).exit_code(), 28);
        assert_eq!(on(libc::EPERM, None).exit_code(), 13);
        assert_eq!(on(libc::EINVAL, None).exit_code(), 7);
        assert_eq!(on(libc::EUSERS, None).exit_code(), 1);
    }
}
