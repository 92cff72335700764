// SPDX-License-Identifier: GPL-2.0

//! Kernel TCP sockets for an iSCSI transport.
//!
//! `TcpSocket` owns a `struct socket` created in a given network namespace,
//! set up the way a storage transport needs it: `GFP_NOIO` allocations and
//! access to the memory reserves (`sk_set_memalloc`), `TCP_NODELAY`,
//! optional keepalive and `TCP_USER_TIMEOUT`. Data-ready, state-change and
//! write-space notifications can be routed to a `SocketEvents` object; they
//! run in softirq context and must only queue work.
//!
//! Page-level transmit and receive (for the data path) are added by
//! `abs/net_pages.rs` in a further `impl TcpSocket` block, through `raw()`.

use super::ffi;
use super::netns::{NetRef, SocketGuard};
use kernel::bindings;
use kernel::error::to_result;
use kernel::ffi::{c_int, c_void};
use kernel::prelude::*;
use kernel::str::CStr;
use kernel::sync::{Arc, ArcBorrow};

/// An IPv4 or IPv6 address (network byte order).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum IpAddr {
    /// IPv4.
    V4([u8; 4]),
    /// IPv6.
    V6([u8; 16]),
}

impl IpAddr {
    /// From a 4- or 16-byte netlink attribute.
    pub(crate) fn from_bytes(b: &[u8]) -> Option<IpAddr> {
        if let Ok(a) = <[u8; 4]>::try_from(b) {
            Some(IpAddr::V4(a))
        } else {
            <[u8; 16]>::try_from(b).ok().map(IpAddr::V6)
        }
    }

    /// The address bytes.
    pub(crate) fn bytes(&self) -> &[u8] {
        match self {
            IpAddr::V4(a) => a,
            IpAddr::V6(a) => a,
        }
    }
}

/// An address and TCP port.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct SockAddr {
    /// Address.
    pub(crate) ip: IpAddr,
    /// Port (host order).
    pub(crate) port: u16,
}

/// Room for any `struct sockaddr` (a `sockaddr_storage`).
#[repr(C, align(8))]
struct RawAddr([u8; 128]);

impl SockAddr {
    fn family(&self) -> c_int {
        match self.ip {
            IpAddr::V4(_) => bindings::AF_INET as c_int,
            IpAddr::V6(_) => bindings::AF_INET6 as c_int,
        }
    }

    /// Encodes `sockaddr_in` / `sockaddr_in6`; returns the length used.
    fn encode(&self, raw: &mut RawAddr) -> c_int {
        let b = &mut raw.0;
        b.fill(0);
        b[0..2].copy_from_slice(&(self.family() as u16).to_ne_bytes());
        b[2..4].copy_from_slice(&self.port.to_be_bytes());
        match self.ip {
            IpAddr::V4(a) => {
                b[4..8].copy_from_slice(&a);
                16
            }
            IpAddr::V6(a) => {
                // sin6_flowinfo (4 bytes) precedes the address.
                b[8..24].copy_from_slice(&a);
                28
            }
        }
    }

    fn decode(raw: &RawAddr) -> Option<SockAddr> {
        let b = &raw.0;
        let family = u16::from_ne_bytes([b[0], b[1]]);
        let port = u16::from_be_bytes([b[2], b[3]]);
        let ip = if u32::from(family) == bindings::AF_INET {
            IpAddr::V4(b[4..8].try_into().ok()?)
        } else if u32::from(family) == bindings::AF_INET6 {
            IpAddr::V6(b[8..24].try_into().ok()?)
        } else {
            return None;
        };
        Some(SockAddr { ip, port })
    }
}

/// A socket notification (what woke the callback).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum SocketEvent {
    /// Data arrived (`sk_data_ready`).
    DataReady,
    /// The TCP state changed (`sk_state_change`), e.g. the peer closed.
    StateChange,
    /// Send buffer space became available (`sk_write_space`).
    WriteSpace,
}

/// Receives socket notifications. Called in softirq context with the socket's
/// callback lock held: implementations only queue work.
pub(crate) trait SocketEvents: Send + Sync + 'static {
    /// One notification.
    fn on_event(this: ArcBorrow<'_, Self>, ev: SocketEvent);
}

/// The TCP states the transport cares about (`include/net/tcp_states.h`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum TcpState {
    /// TCP_ESTABLISHED.
    Established,
    /// TCP_CLOSE_WAIT: the peer sent FIN.
    CloseWait,
    /// TCP_CLOSE.
    Closed,
    /// Any other state.
    Other(i32),
}

/// An owned kernel TCP socket.
///
/// # Invariants
///
/// `sock` is a valid socket created by `sock_create_kern` and released only
/// by `drop`. If `cb_release` is set, callbacks are installed whose context
/// `cb_release` drops.
pub(crate) struct TcpSocket {
    sock: *mut bindings::socket,
    cb_release: Option<unsafe fn(*mut c_void)>,
    /// Holds the namespace's exit until the socket is released (after
    /// `drop` released it: fields drop last).
    _net: SocketGuard,
}

// SAFETY: a kernel socket may be used from any thread; the kernel locks
// its own state (`lock_sock`).
unsafe impl Send for TcpSocket {}
// SAFETY: as above: concurrent socket calls are serialised by the kernel.
unsafe impl Sync for TcpSocket {}

/// Where and how to connect.
pub(crate) struct ConnectSpec<'a> {
    /// Namespace to create the socket in.
    pub(crate) net: &'a NetRef,
    /// The target portal.
    pub(crate) peer: SockAddr,
    /// Local address to bind (port 0: any).
    pub(crate) source: Option<IpAddr>,
    /// Interface to bind to (SO_BINDTODEVICE).
    pub(crate) iface: Option<&'a CStr>,
    /// Connect timeout in milliseconds.
    pub(crate) timeout_ms: u32,
}

fn errno(r: c_int) -> Result<usize> {
    if r < 0 {
        Err(Error::from_errno(r))
    } else {
        Ok(r as usize)
    }
}

impl TcpSocket {
    /// Creates a socket and connects it as `spec` says.
    ///
    /// Errors are the kernel's (`ECONNREFUSED`, `EHOSTUNREACH`,
    /// `ENETUNREACH`...); a connect that does not finish in time gives
    /// `ETIMEDOUT`, one in a namespace that is going away `ENETDOWN`.
    pub(crate) fn connect(spec: &ConnectSpec<'_>) -> Result<TcpSocket> {
        let net = spec.net.get().ok_or(ENETDOWN)?;
        // Counted before the socket exists, so the namespace's exit cannot
        // miss it once our reference `net` goes.
        let guard = spec.net.socket_guard();
        let mut sock: *mut bindings::socket = core::ptr::null_mut();
        // SAFETY: `net` is a live namespace (we hold a reference); `sock`
        // is a valid out-pointer.
        to_result(unsafe {
            ffi::rsiscsi_sock_create(net.as_ptr(), spec.peer.family(), &mut sock)
        })?;
        // INVARIANT: `sock_create_kern` succeeded; `drop` releases it.
        let s = TcpSocket {
            sock,
            cb_release: None,
            _net: guard,
        };
        if let Some(dev) = spec.iface {
            // SAFETY: `sock` is valid and `dev` NUL-terminated.
            to_result(unsafe { ffi::rsiscsi_sock_bind_dev(s.sock, dev.as_char_ptr()) })?;
        }
        let mut raw = RawAddr([0; 128]);
        if let Some(ip) = spec.source {
            let len = SockAddr { ip, port: 0 }.encode(&mut raw);
            // SAFETY: `raw` holds a `sockaddr` of `len` bytes.
            to_result(unsafe { bindings::kernel_bind(s.sock, raw.0.as_mut_ptr().cast(), len) })?;
        }
        // A blocking connect waits for at most the send timeout.
        s.set_timeouts(spec.timeout_ms, 0);
        let len = spec.peer.encode(&mut raw);
        // SAFETY: `raw` holds a `sockaddr` of `len` bytes.
        let r = unsafe { bindings::kernel_connect(s.sock, raw.0.as_mut_ptr().cast(), len, 0) };
        s.set_timeouts(0, 0);
        if r == -(bindings::EINPROGRESS as c_int) || r == -(bindings::EAGAIN as c_int) {
            return Err(ETIMEDOUT);
        }
        to_result(r)?;
        Ok(s)
    }

    /// The raw socket, for the page-level transfers of `abs/net_pages.rs`.
    pub(crate) fn raw(&self) -> *mut bindings::socket {
        self.sock
    }

    /// Send and receive timeouts for blocking calls, in milliseconds
    /// (0: wait forever).
    pub(crate) fn set_timeouts(&self, snd_ms: u32, rcv_ms: u32) {
        // SAFETY: `sock` is valid (type invariant).
        unsafe { ffi::rsiscsi_sock_set_timeouts(self.sock, i64::from(snd_ms), i64::from(rcv_ms)) };
    }

    /// TCP keepalive after `idle_s` idle seconds, and `TCP_USER_TIMEOUT`:
    /// the connection fails if sent data stays unacknowledged for
    /// `user_timeout_ms`.
    pub(crate) fn set_keepalive(&self, idle_s: u32, user_timeout_ms: u32) -> Result {
        let idle = c_int::try_from(idle_s.max(1)).map_err(|_| EINVAL)?;
        // SAFETY: `sock` is valid.
        to_result(unsafe { ffi::rsiscsi_sock_keepalive(self.sock, idle, user_timeout_ms) })
    }

    /// Sends from `buf`; returns how much was queued. In non-blocking mode
    /// a full send buffer gives `EAGAIN`.
    pub(crate) fn send(&self, buf: &[u8], nonblock: bool) -> Result<usize> {
        // SAFETY: `sock` is valid and `buf` readable for its length.
        errno(unsafe {
            ffi::rsiscsi_sock_send(self.sock, buf.as_ptr().cast(), buf.len(), nonblock)
        })
    }

    /// Sends all of `buf` (blocking), across partial sends.
    pub(crate) fn send_all(&self, mut buf: &[u8]) -> Result {
        while !buf.is_empty() {
            match self.send(buf, false) {
                Ok(0) => return Err(ECONNRESET),
                Ok(n) => buf = &buf[n.min(buf.len())..],
                Err(e) if e == EAGAIN => return Err(ETIMEDOUT),
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Receives into `buf`; returns the byte count (0: the peer closed).
    /// In non-blocking mode no data gives `EAGAIN`.
    pub(crate) fn recv(&self, buf: &mut [u8], nonblock: bool) -> Result<usize> {
        // SAFETY: `sock` is valid and `buf` writable for its length.
        errno(unsafe {
            ffi::rsiscsi_sock_recv(
                self.sock,
                buf.as_mut_ptr().cast(),
                buf.len(),
                false,
                nonblock,
            )
        })
    }

    /// Fills all of `buf` (blocking, within the receive timeout: `ETIMEDOUT`
    /// when it expires, `ECONNRESET` if the peer closes first).
    pub(crate) fn recv_exact(&self, mut buf: &mut [u8]) -> Result {
        while !buf.is_empty() {
            // SAFETY: `sock` is valid and `buf` writable for its length.
            let r = unsafe {
                ffi::rsiscsi_sock_recv(self.sock, buf.as_mut_ptr().cast(), buf.len(), true, false)
            };
            match errno(r) {
                Ok(0) => return Err(ECONNRESET),
                Ok(n) => {
                    let n = n.min(buf.len());
                    buf = &mut buf[n..];
                }
                Err(e) if e == EAGAIN => return Err(ETIMEDOUT),
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Shuts both directions down; blocked calls return.
    pub(crate) fn shutdown(&self) {
        // SAFETY: `sock` is valid.
        unsafe { bindings::kernel_sock_shutdown(self.sock, bindings::sock_shutdown_cmd_SHUT_RDWR) };
    }

    /// Whether a receive would return something now (data, an error, the
    /// end of the stream); cheaper than a receive that finds nothing.
    pub(crate) fn readable(&self) -> bool {
        // SAFETY: `sock` is valid.
        unsafe { ffi::rsiscsi_sock_readable(self.sock) }
    }

    /// The TCP state.
    pub(crate) fn state(&self) -> TcpState {
        // SAFETY: `sock` is valid.
        match unsafe { ffi::rsiscsi_sock_state(self.sock) } {
            1 => TcpState::Established,
            7 => TcpState::Closed,
            8 => TcpState::CloseWait,
            s => TcpState::Other(s),
        }
    }

    /// Our address.
    pub(crate) fn local_addr(&self) -> Option<SockAddr> {
        let mut raw = RawAddr([0; 128]);
        // SAFETY: `sock` is valid; `raw` has room for any address.
        let r = unsafe { bindings::kernel_getsockname(self.sock, raw.0.as_mut_ptr().cast()) };
        if r < 0 {
            return None;
        }
        SockAddr::decode(&raw)
    }

    /// The peer's address.
    pub(crate) fn peer_addr(&self) -> Option<SockAddr> {
        let mut raw = RawAddr([0; 128]);
        // SAFETY: `sock` is valid; `raw` has room for any address.
        let r = unsafe { bindings::kernel_getpeername(self.sock, raw.0.as_mut_ptr().cast()) };
        if r < 0 {
            return None;
        }
        SockAddr::decode(&raw)
    }

    /// Routes the socket's notifications to `ctx` until
    /// `restore_callbacks` or drop. `EBUSY` if some are installed already.
    pub(crate) fn install_callbacks<C: SocketEvents>(&mut self, ctx: Arc<C>) -> Result {
        if self.cb_release.is_some() {
            return Err(EBUSY);
        }
        let p = Arc::into_raw(ctx).cast_mut().cast::<c_void>();
        // SAFETY: `sock` is valid; `p` stays valid until the callbacks are
        // restored, because we own one reference on it until then.
        let r = unsafe { ffi::rsiscsi_sock_install_callbacks(self.sock, p, event_tramp::<C>) };
        if r != 0 {
            // SAFETY: `p` came from `Arc::into_raw` and was not handed over.
            drop(unsafe { Arc::<C>::from_raw(p.cast::<C>()) });
            return to_result(r);
        }
        // INVARIANT: callbacks are installed with a context `release::<C>`
        // frees.
        self.cb_release = Some(release::<C>);
        Ok(())
    }

    /// Puts the original callbacks back. When this returns no notification
    /// runs or will run (they run under the callback lock that the shim
    /// takes for writing here).
    pub(crate) fn restore_callbacks(&mut self) {
        if let Some(rel) = self.cb_release.take() {
            // SAFETY: `sock` is valid.
            let p = unsafe { ffi::rsiscsi_sock_restore_callbacks(self.sock) };
            if !p.is_null() {
                // SAFETY: `p` is the context installed with `rel`'s type,
                // and no callback can use it any more.
                unsafe { rel(p) };
            }
        }
    }
}

/// # Safety
///
/// `p` must come from `Arc::<C>::into_raw` and be owned by the caller.
unsafe fn release<C: SocketEvents>(p: *mut c_void) {
    // SAFETY: guaranteed by the caller.
    drop(unsafe { Arc::<C>::from_raw(p.cast::<C>()) });
}

/// # Safety
///
/// Called by the shim with the context given to `install_callbacks::<C>`,
/// under the socket's callback lock, so the context is alive.
unsafe extern "C" fn event_tramp<C: SocketEvents>(ctx: *mut c_void, kind: c_int) {
    let ev = match kind {
        1 => SocketEvent::DataReady,
        2 => SocketEvent::StateChange,
        _ => SocketEvent::WriteSpace,
    };
    // SAFETY: the installed reference keeps `ctx` alive while the callback
    // lock is held (see the function's safety section).
    let c = unsafe { ArcBorrow::<C>::from_raw(ctx.cast::<C>()) };
    C::on_event(c, ev);
}

impl Drop for TcpSocket {
    fn drop(&mut self) {
        self.restore_callbacks();
        // SAFETY: `sock` is valid and released only here (the shim also
        // drops the memalloc reference `rsiscsi_sock_create` took).
        unsafe { ffi::rsiscsi_sock_release(self.sock) };
    }
}
