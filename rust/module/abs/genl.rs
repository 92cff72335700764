// SPDX-License-Identifier: GPL-2.0

//! Generic netlink families with operations.
//!
//! 7.3's `kernel::net::netlink` only exposes multicast groups. This adds what
//! a control interface needs: `doit` and `dumpit` operations with per-operation
//! attribute policies (strictly validated by the kernel before a handler
//! runs), `GENL_ADMIN_PERM` (or `GENL_UNS_ADMIN_PERM`) on every operation,
//! network-namespace awareness,
//! unicast replies, dumps and multicasts.
//!
//! The attribute numbering and types come from the shared ABI crate
//! (`crate::abi`); a policy is a list of `abi::Attr`, turned here into the
//! kernel's `nla_policy` table.

use super::ffi;
use crate::abi;
use core::marker::PhantomData;
use core::sync::atomic::{AtomicBool, Ordering};
use kernel::bindings;
use kernel::error::{from_result, to_result};
use kernel::ffi::{c_int, c_long, c_uint};
use kernel::prelude::*;
use kernel::sync::{Arc, ArcBorrow};
use kernel::types::Opaque;
use kernel::ThisModule;

/// Room asked for a reply or event message; genetlink grows nothing, so a
/// handler that needs more gets `EMSGSIZE`.
const MSG_SIZE: usize = 4096;

/// One operation of a family.
#[derive(Clone, Copy)]
pub(crate) struct OpSpec {
    /// Command number.
    pub(crate) cmd: abi::Cmd,
    /// Whether requests are answered by `Handler::doit` (else `dumpit`).
    pub(crate) dump: bool,
}

/// What a family does with its requests.
pub(crate) trait Handler: Send + Sync + Sized + 'static {
    /// Handles a `doit` request; an error goes back to the sender as the
    /// netlink error code (with the message set by `Request::set_error`).
    fn doit(family: ArcBorrow<'_, Family<Self>>, req: &mut Request<'_>) -> Result;

    /// Fills one buffer of a dump; called again until it adds nothing.
    fn dumpit(family: ArcBorrow<'_, Family<Self>>, dump: &mut Dump<'_>) -> Result;
}

/// A network namespace reference (`get_net`/`put_net`).
///
/// # Invariants
///
/// `ptr` is a valid `struct net` on which this object holds a reference.
pub(crate) struct Net {
    ptr: *mut bindings::net,
}

// SAFETY: a reference on a netns may be held and dropped on any thread.
unsafe impl Send for Net {}
// SAFETY: `Net` only exposes the pointer value and refcounting.
unsafe impl Sync for Net {}

impl Net {
    /// Takes a new reference on `ptr`.
    ///
    /// # Safety
    ///
    /// `ptr` must be a live `struct net` for the duration of the call.
    unsafe fn get(ptr: *mut bindings::net) -> Net {
        // SAFETY: the caller guarantees `ptr` is live.
        let ptr = unsafe { ffi::rsiscsi_get_net(ptr) };
        // INVARIANT: we took a reference just now.
        Net { ptr }
    }

    /// Takes over a reference the caller holds on `ptr`.
    ///
    /// # Safety
    ///
    /// The caller holds a count on `ptr` and gives it up.
    pub(super) unsafe fn adopt(ptr: *mut bindings::net) -> Net {
        // INVARIANT: the caller's reference is now ours.
        Net { ptr }
    }

    /// Identity of the namespace, to look objects up per namespace.
    pub(crate) fn id(&self) -> usize {
        self.ptr as usize
    }

    pub(crate) fn as_ptr(&self) -> *mut bindings::net {
        self.ptr
    }
}

impl Clone for Net {
    fn clone(&self) -> Net {
        // SAFETY: by the type invariant `self.ptr` is live.
        unsafe { Net::get(self.ptr) }
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        // SAFETY: by the type invariant we hold a reference to drop.
        unsafe { ffi::rsiscsi_put_net(self.ptr) };
    }
}

/// A validated attribute of a request.
#[derive(Clone, Copy)]
pub(crate) struct AttrRef<'a> {
    data: &'a [u8],
}

impl<'a> AttrRef<'a> {
    /// # Safety
    ///
    /// `nla` must point at an attribute validated by the kernel that stays
    /// valid for `'a`.
    unsafe fn from_raw(nla: *const bindings::nlattr) -> AttrRef<'a> {
        // NLA_HDRLEN: the payload follows the 4-byte aligned header.
        const HDRLEN: usize = 4;
        // SAFETY: the caller guarantees `nla` is a valid attribute.
        let len = usize::from(unsafe { (*nla).nla_len }).saturating_sub(HDRLEN);
        // SAFETY: a validated attribute has `nla_len` bytes, header
        // included, inside the message, which lives for `'a`.
        let data = unsafe { core::slice::from_raw_parts(nla.cast::<u8>().add(HDRLEN), len) };
        AttrRef { data }
    }

    /// The raw payload.
    pub(crate) fn bytes(&self) -> &'a [u8] {
        self.data
    }

    /// A string payload without its NUL terminator.
    pub(crate) fn str_bytes(&self) -> &'a [u8] {
        match self.data.iter().position(|&b| b == 0) {
            Some(n) => &self.data[..n],
            None => self.data,
        }
    }

    fn fixed<const N: usize>(&self) -> [u8; N] {
        let mut b = [0u8; N];
        if let Some(s) = self.data.get(..N) {
            b.copy_from_slice(s);
        }
        b
    }

    /// A `u8` payload (the policy guarantees the length).
    pub(crate) fn u8(&self) -> u8 {
        self.fixed::<1>()[0]
    }

    /// A `u16` payload.
    pub(crate) fn u16(&self) -> u16 {
        u16::from_ne_bytes(self.fixed())
    }

    /// A `u32` payload.
    pub(crate) fn u32(&self) -> u32 {
        u32::from_ne_bytes(self.fixed())
    }

    /// The entries of a nested-array payload, in order.
    pub(crate) fn entries(&self) -> Entries<'a> {
        Entries { rest: self.data }
    }
}

/// Something that holds validated attributes by number: a request, or one
/// entry of a nested array.
pub(crate) trait Attrs {
    /// Attribute `a`, if present.
    fn get(&self, a: abi::Attr) -> Option<AttrRef<'_>>;
}

/// Iterator over the entries of a validated nested array (each one a set of
/// attributes).
pub(crate) struct Entries<'a> {
    rest: &'a [u8],
}

/// Netlink attribute header length, and the alignment of attributes.
const NLA_HDRLEN: usize = 4;

/// Splits the next attribute off `rest`: its type (flags masked) and
/// payload. `None` at the end or on a header the kernel would not have
/// validated (the payload was validated, so that does not happen).
fn next_attr<'a>(rest: &mut &'a [u8]) -> Option<(u16, &'a [u8])> {
    let hdr = rest.get(..NLA_HDRLEN)?;
    let len = usize::from(u16::from_ne_bytes([hdr[0], hdr[1]]));
    // NLA_TYPE_MASK: without NLA_F_NESTED and NLA_F_NET_BYTEORDER.
    let ty = u16::from_ne_bytes([hdr[2], hdr[3]]) & 0x3fff;
    let payload = rest.get(NLA_HDRLEN..len)?;
    let step = (len + NLA_HDRLEN - 1) & !(NLA_HDRLEN - 1);
    *rest = rest.get(step..).unwrap_or(&[]);
    Some((ty, payload))
}

impl<'a> Iterator for Entries<'a> {
    type Item = AttrSet<'a>;

    fn next(&mut self) -> Option<AttrSet<'a>> {
        let (_, payload) = next_attr(&mut self.rest)?;
        Some(AttrSet { data: payload })
    }
}

/// One entry of a nested array: attributes validated against the array's
/// policy.
#[derive(Clone, Copy)]
pub(crate) struct AttrSet<'a> {
    data: &'a [u8],
}

impl Attrs for AttrSet<'_> {
    fn get(&self, a: abi::Attr) -> Option<AttrRef<'_>> {
        let mut rest = self.data;
        let mut found = None;
        // The last one wins, as in `nla_parse`.
        while let Some((ty, payload)) = next_attr(&mut rest) {
            if ty == a as u16 {
                found = Some(AttrRef { data: payload });
            }
        }
        found
    }
}

impl Attrs for Request<'_> {
    fn get(&self, a: abi::Attr) -> Option<AttrRef<'_>> {
        self.attr(a)
    }
}

/// A `doit` request: its validated attributes, its namespace, and the way
/// back to the sender.
pub(crate) struct Request<'a> {
    info: *mut bindings::genl_info,
    family: *const bindings::genl_family,
    cmd: abi::Cmd,
    _p: PhantomData<&'a bindings::genl_info>,
}

impl Request<'_> {
    /// The command.
    pub(crate) fn cmd(&self) -> abi::Cmd {
        self.cmd
    }

    /// Attribute `a` if the request carries it.
    pub(crate) fn attr(&self, a: abi::Attr) -> Option<AttrRef<'_>> {
        // SAFETY: `info` is valid for the request's lifetime (type invariant
        // of `Request`); `attrs` has `ATTR_MAX + 1` entries because every
        // operation's `maxattr` is `ATTR_MAX`.
        let nla = unsafe {
            let attrs = (*self.info).attrs;
            if attrs.is_null() {
                return None;
            }
            *attrs.add(usize::from(a as u16))
        };
        if nla.is_null() {
            return None;
        }
        // SAFETY: the kernel validated this attribute against the policy.
        Some(unsafe { AttrRef::from_raw(nla) })
    }

    /// The sender's network namespace.
    pub(crate) fn net(&self) -> Net {
        // SAFETY: `info` is valid, and so is the namespace it records for
        // the duration of the request.
        unsafe { Net::get(ffi::rsiscsi_genl_info_net(self.info)) }
    }

    /// Sets the extended-ack message returned with an error (at most 79
    /// bytes are kept).
    pub(crate) fn set_error(&mut self, msg: &[u8]) {
        // SAFETY: `info` is valid; the shim copies `msg` into the extack.
        unsafe { ffi::rsiscsi_extack_msg((*self.info).extack, msg.as_ptr().cast(), msg.len()) };
    }

    /// Sends a reply message `cmd` whose attributes `fill` writes.
    pub(crate) fn reply(
        &mut self,
        cmd: abi::Cmd,
        fill: impl FnOnce(&mut MsgWriter<'_>) -> Result,
    ) -> Result {
        // SAFETY: plain allocation.
        let skb = unsafe { ffi::rsiscsi_genlmsg_new(MSG_SIZE) };
        if skb.is_null() {
            return Err(ENOMEM);
        }
        // SAFETY: `skb` is a fresh message; `info` and `family` are valid.
        let hdr = unsafe { ffi::rsiscsi_genlmsg_put_reply(skb, self.info, self.family, cmd as u8) };
        if hdr.is_null() {
            // SAFETY: we own `skb`.
            unsafe { ffi::rsiscsi_nlmsg_free(skb) };
            return Err(EMSGSIZE);
        }
        let mut w = MsgWriter {
            skb,
            _p: PhantomData,
        };
        if let Err(e) = fill(&mut w) {
            // SAFETY: we own `skb`.
            unsafe { ffi::rsiscsi_nlmsg_free(skb) };
            return Err(e);
        }
        // SAFETY: `hdr` was put into `skb`; `genlmsg_reply` consumes `skb`.
        to_result(unsafe {
            ffi::rsiscsi_genlmsg_end(skb, hdr);
            ffi::rsiscsi_genlmsg_reply(skb, self.info)
        })
    }
}

/// One buffer of a dump.
pub(crate) struct Dump<'a> {
    skb: *mut bindings::sk_buff,
    cb: *mut bindings::netlink_callback,
    family: *const bindings::genl_family,
    cmd: abi::Cmd,
    added: usize,
    _p: PhantomData<&'a bindings::netlink_callback>,
}

impl Dump<'_> {
    /// The dumped command.
    pub(crate) fn cmd(&self) -> abi::Cmd {
        self.cmd
    }

    /// Where the previous buffer stopped (0 at the start).
    pub(crate) fn cursor(&self) -> u64 {
        // SAFETY: `cb` is valid during the dump call; `args` is plain data.
        unsafe { (*self.cb).__bindgen_anon_1.args[0] as u64 }
    }

    /// Records where the next buffer starts.
    pub(crate) fn set_cursor(&mut self, c: u64) {
        // SAFETY: as in `cursor`.
        unsafe { (*self.cb).__bindgen_anon_1.args[0] = c as c_long };
    }

    /// The dumping socket's network namespace.
    pub(crate) fn net(&self) -> Net {
        // SAFETY: `cb` and its socket are valid during the dump call.
        unsafe { Net::get(ffi::rsiscsi_dump_net(self.cb)) }
    }

    /// Attribute `a` of the dump request, if given.
    pub(crate) fn attr(&self, a: abi::Attr) -> Option<AttrRef<'_>> {
        // SAFETY: `cb` is valid during the dump call.
        let nla = unsafe { ffi::rsiscsi_dump_attr(self.cb, c_uint::from(a as u16)) };
        if nla.is_null() {
            return None;
        }
        // SAFETY: genetlink validated the request against the policy and
        // keeps it for the whole dump.
        Some(unsafe { AttrRef::from_raw(nla) })
    }

    /// Adds one message `cmd`; `Ok(false)` if the buffer is full (the dump
    /// continues in the next buffer: keep the cursor on this object).
    pub(crate) fn add(
        &mut self,
        cmd: abi::Cmd,
        fill: impl FnOnce(&mut MsgWriter<'_>) -> Result,
    ) -> Result<bool> {
        // SAFETY: `skb` and `cb` are valid during the dump call.
        let hdr =
            unsafe { ffi::rsiscsi_genlmsg_put_dump(self.skb, self.cb, self.family, cmd as u8) };
        if hdr.is_null() {
            return self.full();
        }
        let mut w = MsgWriter {
            skb: self.skb,
            _p: PhantomData,
        };
        match fill(&mut w) {
            Ok(()) => {
                // SAFETY: `hdr` is the message just put into `skb`.
                unsafe { ffi::rsiscsi_genlmsg_end(self.skb, hdr) };
                self.added += 1;
                Ok(true)
            }
            Err(e) => {
                // SAFETY: `hdr` is the message just put into `skb`.
                unsafe { ffi::rsiscsi_genlmsg_cancel(self.skb, hdr) };
                if e == EMSGSIZE {
                    self.full()
                } else {
                    Err(e)
                }
            }
        }
    }

    fn full(&self) -> Result<bool> {
        // One object that does not fit in an empty buffer never will.
        if self.added == 0 {
            Err(EMSGSIZE)
        } else {
            Ok(false)
        }
    }
}

/// Writes the attributes of one message.
pub(crate) struct MsgWriter<'a> {
    skb: *mut bindings::sk_buff,
    _p: PhantomData<&'a mut bindings::sk_buff>,
}

impl MsgWriter<'_> {
    /// Attribute `a` with payload `data`.
    pub(crate) fn put_bytes(&mut self, a: abi::Attr, data: &[u8]) -> Result {
        let len = c_int::try_from(data.len()).map_err(|_| EMSGSIZE)?;
        // SAFETY: `skb` is a message under construction; `data` is readable.
        let r = unsafe {
            bindings::nla_put(self.skb, c_int::from(a as u16), len, data.as_ptr().cast())
        };
        if r != 0 {
            return Err(EMSGSIZE);
        }
        Ok(())
    }

    /// A NUL-terminated string attribute.
    pub(crate) fn put_str(&mut self, a: abi::Attr, s: &[u8]) -> Result {
        let len = c_int::try_from(s.len() + 1).map_err(|_| EMSGSIZE)?;
        // SAFETY: `skb` is a message under construction.
        let nla = unsafe { bindings::nla_reserve(self.skb, c_int::from(a as u16), len) };
        if nla.is_null() {
            return Err(EMSGSIZE);
        }
        // SAFETY: `nla_reserve` made room for `len` payload bytes right
        // after the 4-byte header.
        unsafe {
            let p = nla.cast::<u8>().add(4);
            core::ptr::copy_nonoverlapping(s.as_ptr(), p, s.len());
            *p.add(s.len()) = 0;
        }
        Ok(())
    }

    /// A `u8` attribute.
    pub(crate) fn put_u8(&mut self, a: abi::Attr, v: u8) -> Result {
        self.put_bytes(a, &[v])
    }

    /// A `u16` attribute.
    pub(crate) fn put_u16(&mut self, a: abi::Attr, v: u16) -> Result {
        self.put_bytes(a, &v.to_ne_bytes())
    }

    /// A `u32` attribute.
    pub(crate) fn put_u32(&mut self, a: abi::Attr, v: u32) -> Result {
        self.put_bytes(a, &v.to_ne_bytes())
    }

    /// A `u64` attribute, 8-byte aligned with `abi::Attr::Pad`.
    pub(crate) fn put_u64(&mut self, a: abi::Attr, v: u64) -> Result {
        // SAFETY: `skb` is a message under construction.
        let r = unsafe {
            ffi::rsiscsi_nla_put_u64(self.skb, c_int::from(a as u16), v, abi::Attr::Pad as c_int)
        };
        if r != 0 {
            return Err(EMSGSIZE);
        }
        Ok(())
    }

    /// A nested attribute whose members `fill` writes.
    pub(crate) fn nest(
        &mut self,
        a: abi::Attr,
        fill: impl FnOnce(&mut MsgWriter<'_>) -> Result,
    ) -> Result {
        // SAFETY: `skb` is a message under construction.
        let start = unsafe { ffi::rsiscsi_nla_nest_start(self.skb, c_int::from(a as u16)) };
        if start.is_null() {
            return Err(EMSGSIZE);
        }
        let r = fill(self);
        // SAFETY: `start` is the nest just opened in `skb`.
        unsafe {
            if r.is_ok() {
                ffi::rsiscsi_nla_nest_end(self.skb, start);
            } else {
                ffi::rsiscsi_nla_nest_cancel(self.skb, start);
            }
        }
        r
    }
}

fn nla_policy_of(t: abi::AttrType) -> bindings::nla_policy {
    let mut p = bindings::nla_policy::default();
    let (ty, len) = match t {
        abi::AttrType::Flag => (bindings::NLA_FLAG, 0),
        abi::AttrType::U8 => (bindings::NLA_U8, 0),
        abi::AttrType::U16 => (bindings::NLA_U16, 0),
        abi::AttrType::U32 => (bindings::NLA_U32, 0),
        abi::AttrType::U64 => (bindings::NLA_U64, 0),
        abi::AttrType::String { max } => (bindings::NLA_NUL_STRING, max),
        abi::AttrType::Binary { max } => (bindings::NLA_BINARY, max),
        abi::AttrType::Nested => (bindings::NLA_NESTED, 0),
        // `Family::new` adds the nested policy.
        abi::AttrType::NestedArray { .. } => (bindings::NLA_NESTED_ARRAY, abi::ATTR_MAX),
    };
    p.type_ = ty as u8;
    p.len = len;
    p
}

/// The `nla_policy` table (indexed by attribute number) that accepts the
/// attributes `list` and rejects every other one.
fn policy_table(list: &[abi::Attr]) -> Result<KVec<bindings::nla_policy>> {
    let mut p = KVec::with_capacity(usize::from(abi::ATTR_MAX) + 1, GFP_KERNEL)?;
    for _ in 0..=abi::ATTR_MAX {
        // Unlisted attributes stay NLA_UNSPEC, which strict validation
        // rejects.
        p.push(bindings::nla_policy::default(), GFP_KERNEL)?;
    }
    for a in list {
        if let Some(slot) = p.get_mut(usize::from(*a as u16)) {
            *slot = nla_policy_of(a.kind());
        }
    }
    Ok(p)
}

/// A registered generic netlink family whose requests go to `T`.
///
/// # Invariants
///
/// `raw` points at `ops`, `mcgrps` and the policies in `policies`, which
/// point at those in `nested`; none is modified while the family exists. While `registered` is true the
/// family is registered with genetlink.
#[pin_data(PinnedDrop)]
pub(crate) struct Family<T: Handler> {
    #[pin]
    raw: Opaque<bindings::genl_family>,
    ops: KVec<bindings::genl_ops>,
    policies: KVec<KVec<bindings::nla_policy>>,
    nested: KVec<KVec<bindings::nla_policy>>,
    mcgrps: KVec<bindings::genl_multicast_group>,
    registered: AtomicBool,
    data: T,
}

// SAFETY: genetlink serialises its own accesses to the C struct; the Rust
// side only reads the immutable tables and `data`, which is `Sync`.
unsafe impl<T: Handler> Sync for Family<T> {}
// SAFETY: nothing in the family is tied to the creating thread.
unsafe impl<T: Handler> Send for Family<T> {}

fn name16(s: &str) -> Result<[kernel::ffi::c_char; 16]> {
    let mut n = [0; 16];
    if s.len() >= n.len() {
        return Err(EINVAL);
    }
    for (d, &b) in n.iter_mut().zip(s.as_bytes()) {
        *d = b as kernel::ffi::c_char;
    }
    Ok(n)
}

impl<T: Handler> Family<T> {
    /// Builds (but does not register) family `name` with operations `ops`
    /// (each with the policy `abi::policy(cmd)`), one multicast group
    /// `mcgrp`, and handler state `data`. Every operation needs
    /// `CAP_NET_ADMIN`: over the initial user namespace, or with `userns`
    /// over the user namespace owning the sender's network namespace.
    pub(crate) fn new(
        module: &'static ThisModule,
        name: &str,
        version: u8,
        ops: &[OpSpec],
        mcgrp: &str,
        userns: bool,
        data: T,
    ) -> Result<Arc<Self>> {
        let perm = if userns {
            bindings::GENL_UNS_ADMIN_PERM
        } else {
            bindings::GENL_ADMIN_PERM
        };
        let mut policies = KVec::with_capacity(ops.len(), GFP_KERNEL)?;
        let mut nested = KVec::new();
        for op in ops {
            let mut p = policy_table(abi::policy(op.cmd))?;
            for a in abi::policy(op.cmd) {
                if let abi::AttrType::NestedArray { policy } = a.kind() {
                    let inner = policy_table(policy)?;
                    // The kernel validates each entry against `inner`,
                    // whose heap buffer stays put when the vector holding
                    // it moves.
                    if let Some(slot) = p.get_mut(usize::from(*a as u16)) {
                        slot.__bindgen_anon_1.nested_policy = inner.as_ptr();
                    }
                    nested.push(inner, GFP_KERNEL)?;
                }
            }
            policies.push(p, GFP_KERNEL)?;
        }
        let mut raw_ops = KVec::with_capacity(ops.len(), GFP_KERNEL)?;
        for (op, p) in ops.iter().zip(policies.iter()) {
            let mut o = bindings::genl_ops {
                cmd: op.cmd as u8,
                flags: perm as u8,
                policy: p.as_ptr(),
                maxattr: c_uint::from(abi::ATTR_MAX),
                ..Default::default()
            };
            // validate = 0: strict, including NLA_UNSPEC and trailing data.
            if op.dump {
                o.dumpit = Some(Self::dumpit_tramp);
            } else {
                o.doit = Some(Self::doit_tramp);
            }
            raw_ops.push(o, GFP_KERNEL)?;
        }
        let mut mcgrps = KVec::with_capacity(1, GFP_KERNEL)?;
        mcgrps.push(
            bindings::genl_multicast_group {
                name: name16(mcgrp)?,
                flags: 0,
            },
            GFP_KERNEL,
        )?;
        let mut f = bindings::genl_family {
            name: name16(name)?,
            version: c_uint::from(version),
            maxattr: c_uint::from(abi::ATTR_MAX),
            ..Default::default()
        };
        f.set_netnsok(1);
        // Handlers may sleep for a whole login: do not hold genl_mutex.
        f.set_parallel_ops(1);
        f.module = module.as_ptr();
        f.ops = raw_ops.as_ptr();
        f.n_ops = u8::try_from(raw_ops.len()).map_err(|_| EINVAL)?;
        // Every command is new: reserved header fields are checked and
        // policies are mandatory from the first one on.
        f.resv_start_op = 1;
        f.mcgrps = mcgrps.as_ptr();
        f.n_mcgrps = 1;
        // INVARIANT: `f` points into the vectors moved in below (the nested
        // policies through the top-level ones); their heap buffers do not
        // move with them and are never modified again.
        Arc::pin_init(
            try_pin_init!(Family {
                raw: Opaque::new(f),
                ops: raw_ops,
                policies,
                nested,
                mcgrps,
                registered: AtomicBool::new(false),
                data,
            }),
            GFP_KERNEL,
        )
    }

    /// Registers the family with genetlink; requests flow from now on.
    pub(crate) fn register(&self) -> Result {
        // SAFETY: `raw` is a fully set-up family that stays pinned inside
        // the `Arc` until it is unregistered (in `unregister` or on drop).
        to_result(unsafe { bindings::genl_register_family(self.raw.get()) })?;
        self.registered.store(true, Ordering::Release);
        Ok(())
    }

    /// Unregisters the family; waits for running handlers to return.
    pub(crate) fn unregister(&self) {
        if self.registered.swap(false, Ordering::AcqRel) {
            // SAFETY: the family was registered by `register`.
            unsafe { bindings::genl_unregister_family(self.raw.get()) };
        }
    }

    /// The handler state.
    pub(crate) fn data(&self) -> &T {
        &self.data
    }

    /// Multicasts message `cmd` to the event group in namespace `net`.
    /// Nobody listening is not an error.
    pub(crate) fn multicast(
        &self,
        net: &Net,
        cmd: abi::Cmd,
        fill: impl FnOnce(&mut MsgWriter<'_>) -> Result,
    ) -> Result {
        if !self.registered.load(Ordering::Acquire) {
            return Ok(());
        }
        // SAFETY: plain allocation.
        let skb = unsafe { ffi::rsiscsi_genlmsg_new(MSG_SIZE) };
        if skb.is_null() {
            return Err(ENOMEM);
        }
        // SAFETY: `skb` is a fresh message and `raw` a registered family.
        let hdr = unsafe { ffi::rsiscsi_genlmsg_put_event(skb, self.raw.get(), cmd as u8) };
        if hdr.is_null() {
            // SAFETY: we own `skb`.
            unsafe { ffi::rsiscsi_nlmsg_free(skb) };
            return Err(EMSGSIZE);
        }
        let mut w = MsgWriter {
            skb,
            _p: PhantomData,
        };
        if let Err(e) = fill(&mut w) {
            // SAFETY: we own `skb`.
            unsafe { ffi::rsiscsi_nlmsg_free(skb) };
            return Err(e);
        }
        // SAFETY: `hdr` is in `skb`; the multicast consumes `skb`; `net` is
        // a live namespace we hold a reference on.
        let r = unsafe {
            ffi::rsiscsi_genlmsg_end(skb, hdr);
            ffi::rsiscsi_genlmsg_multicast_netns(self.raw.get(), net.as_ptr(), skb, 0)
        };
        if r == -(bindings::ESRCH as c_int) {
            return Ok(());
        }
        to_result(r)
    }

    /// # Safety
    ///
    /// `raw` must be the `genl_family` of a live `Family<T>` kept alive by an
    /// `Arc` for `'a`.
    unsafe fn from_raw<'a>(raw: *const bindings::genl_family) -> ArcBorrow<'a, Family<T>> {
        let raw = raw.cast::<Opaque<bindings::genl_family>>().cast_mut();
        // SAFETY: the caller guarantees `raw` is the `raw` field of a
        // `Family<T>`.
        let f = unsafe { kernel::container_of!(raw, Family<T>, raw) };
        // SAFETY: the family lives in an `Arc` that the module keeps while
        // it is registered, and genetlink only calls it while registered.
        unsafe { ArcBorrow::from_raw(f) }
    }

    /// # Safety
    ///
    /// Called by genetlink with a valid `skb` and `info` for an operation of
    /// a registered `Family<T>`.
    unsafe extern "C" fn doit_tramp(
        _skb: *mut bindings::sk_buff,
        info: *mut bindings::genl_info,
    ) -> c_int {
        from_result(|| {
            // SAFETY: genetlink passes a valid `info` for one of our ops.
            let (family, cmd) = unsafe { ((*info).family, (*(*info).genlhdr).cmd) };
            let cmd = abi::Cmd::from_u8(cmd).ok_or(EOPNOTSUPP)?;
            // SAFETY: `family` is ours (see the function's safety section).
            let fam = unsafe { Self::from_raw(family) };
            let mut req = Request {
                info,
                family,
                cmd,
                _p: PhantomData,
            };
            T::doit(fam, &mut req)?;
            Ok(0)
        })
    }

    /// # Safety
    ///
    /// Called by genetlink with a valid `skb` and `cb` for a dump operation
    /// of a registered `Family<T>`.
    unsafe extern "C" fn dumpit_tramp(
        skb: *mut bindings::sk_buff,
        cb: *mut bindings::netlink_callback,
    ) -> c_int {
        from_result(|| {
            // SAFETY: genetlink passes a valid `cb` for one of our ops.
            let family = unsafe { ffi::rsiscsi_dump_family(cb) };
            // SAFETY: the request header was validated by genetlink.
            let cmd = unsafe {
                let nlh = (*cb).nlh.cast::<u8>();
                // struct genlmsghdr follows the 16-byte nlmsghdr.
                *nlh.add(16)
            };
            let cmd = abi::Cmd::from_u8(cmd).ok_or(EOPNOTSUPP)?;
            // SAFETY: `family` is ours.
            let fam = unsafe { Self::from_raw(family) };
            let mut dump = Dump {
                skb,
                cb,
                family,
                cmd,
                added: 0,
                _p: PhantomData,
            };
            T::dumpit(fam, &mut dump)?;
            if dump.added == 0 {
                return Ok(0);
            }
            // SAFETY: `skb` is valid during the call.
            Ok(unsafe { ffi::rsiscsi_skb_len(skb) } as c_int)
        })
    }
}

#[pinned_drop]
impl<T: Handler> PinnedDrop for Family<T> {
    fn drop(self: Pin<&mut Self>) {
        self.unregister();
    }
}
