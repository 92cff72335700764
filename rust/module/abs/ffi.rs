// SPDX-License-Identifier: GPL-2.0

//! The C shim's functions (rust/module/shim/net_shim.{c,h}), declared once.
//!
//! Each wraps a static inline kernel helper, a macro or a `struct sock` field
//! that the 7.3 bindings do not reach. Only the abstractions in this
//! directory call them.

use kernel::bindings;
use kernel::ffi::{c_char, c_int, c_uint, c_void};

// Only pointers cross; rustc cannot see that the kernel structs behind them
// (with bindgen's zero-length arrays) are never passed by value.
#[expect(improper_ctypes, reason = "opaque kernel structs behind pointers")]
extern "C" {
    pub(crate) fn rsiscsi_alloc_wq(
        name: *const c_char,
        flags: c_uint,
    ) -> *mut bindings::workqueue_struct;

    pub(crate) fn rsiscsi_genl_info_net(info: *const bindings::genl_info) -> *mut bindings::net;
    pub(crate) fn rsiscsi_genlmsg_new(payload: usize) -> *mut bindings::sk_buff;
    pub(crate) fn rsiscsi_genlmsg_put_reply(
        skb: *mut bindings::sk_buff,
        info: *const bindings::genl_info,
        family: *const bindings::genl_family,
        cmd: u8,
    ) -> *mut c_void;
    pub(crate) fn rsiscsi_genlmsg_put_dump(
        skb: *mut bindings::sk_buff,
        cb: *mut bindings::netlink_callback,
        family: *const bindings::genl_family,
        cmd: u8,
    ) -> *mut c_void;
    pub(crate) fn rsiscsi_genlmsg_put_event(
        skb: *mut bindings::sk_buff,
        family: *const bindings::genl_family,
        cmd: u8,
    ) -> *mut c_void;
    pub(crate) fn rsiscsi_genlmsg_end(skb: *mut bindings::sk_buff, hdr: *mut c_void);
    pub(crate) fn rsiscsi_genlmsg_cancel(skb: *mut bindings::sk_buff, hdr: *mut c_void);
    pub(crate) fn rsiscsi_genlmsg_reply(
        skb: *mut bindings::sk_buff,
        info: *mut bindings::genl_info,
    ) -> c_int;
    pub(crate) fn rsiscsi_genlmsg_multicast_netns(
        family: *const bindings::genl_family,
        net: *mut bindings::net,
        skb: *mut bindings::sk_buff,
        group: c_uint,
    ) -> c_int;
    pub(crate) fn rsiscsi_nlmsg_free(skb: *mut bindings::sk_buff);
    pub(crate) fn rsiscsi_skb_len(skb: *const bindings::sk_buff) -> c_uint;
    pub(crate) fn rsiscsi_nla_put_u64(
        skb: *mut bindings::sk_buff,
        ty: c_int,
        value: u64,
        pad: c_int,
    ) -> c_int;
    pub(crate) fn rsiscsi_nla_nest_start(
        skb: *mut bindings::sk_buff,
        ty: c_int,
    ) -> *mut bindings::nlattr;
    pub(crate) fn rsiscsi_nla_nest_end(skb: *mut bindings::sk_buff, start: *mut bindings::nlattr);
    pub(crate) fn rsiscsi_nla_nest_cancel(
        skb: *mut bindings::sk_buff,
        start: *mut bindings::nlattr,
    );
    pub(crate) fn rsiscsi_dump_family(
        cb: *mut bindings::netlink_callback,
    ) -> *const bindings::genl_family;
    pub(crate) fn rsiscsi_dump_net(cb: *mut bindings::netlink_callback) -> *mut bindings::net;
    pub(crate) fn rsiscsi_dump_attr(
        cb: *mut bindings::netlink_callback,
        ty: c_uint,
    ) -> *mut bindings::nlattr;
    pub(crate) fn rsiscsi_extack_msg(
        extack: *mut bindings::netlink_ext_ack,
        msg: *const c_char,
        len: usize,
    );
    pub(crate) fn rsiscsi_get_net(net: *mut bindings::net) -> *mut bindings::net;
    pub(crate) fn rsiscsi_put_net(net: *mut bindings::net);
    pub(crate) fn rsiscsi_maybe_get_net(net: *mut bindings::net) -> *mut bindings::net;
    pub(crate) fn rsiscsi_pernet_register(
        ctx: *mut c_void,
        f: Option<unsafe extern "C" fn(ctx: *mut c_void, net: *mut bindings::net)>,
    ) -> c_int;
    pub(crate) fn rsiscsi_pernet_unregister();

    pub(crate) fn rsiscsi_sock_create(
        net: *mut bindings::net,
        family: c_int,
        res: *mut *mut bindings::socket,
    ) -> c_int;
    pub(crate) fn rsiscsi_sock_release(sock: *mut bindings::socket);
    pub(crate) fn rsiscsi_sock_set_timeouts(sock: *mut bindings::socket, snd_ms: i64, rcv_ms: i64);
    pub(crate) fn rsiscsi_sock_bind_dev(
        sock: *mut bindings::socket,
        ifname: *const c_char,
    ) -> c_int;
    pub(crate) fn rsiscsi_sock_keepalive(
        sock: *mut bindings::socket,
        idle_s: c_int,
        user_timeout_ms: c_uint,
    ) -> c_int;
    pub(crate) fn rsiscsi_sock_send(
        sock: *mut bindings::socket,
        buf: *const c_void,
        len: usize,
        nonblock: bool,
    ) -> c_int;
    pub(crate) fn rsiscsi_sock_recv(
        sock: *mut bindings::socket,
        buf: *mut c_void,
        len: usize,
        waitall: bool,
        nonblock: bool,
    ) -> c_int;
    pub(crate) fn rsiscsi_sock_state(sock: *mut bindings::socket) -> c_int;
    pub(crate) fn rsiscsi_sock_readable(sock: *mut bindings::socket) -> bool;
    pub(crate) fn rsiscsi_sock_install_callbacks(
        sock: *mut bindings::socket,
        ctx: *mut c_void,
        event: unsafe extern "C" fn(ctx: *mut c_void, kind: c_int),
    ) -> c_int;
    pub(crate) fn rsiscsi_sock_restore_callbacks(sock: *mut bindings::socket) -> *mut c_void;
}
