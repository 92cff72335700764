// SPDX-License-Identifier: GPL-2.0
/*
 * rsiscsi control-plane shim. Only what Rust cannot do through the 7.3
 * bindings: static inline helpers, macros (alloc_workqueue, NETLINK_CB) and
 * struct sock fields (the header is not in the bindings). Every function is
 * a thin wrapper; the policy lives in Rust (rust/module/abs/).
 */
#include <linux/workqueue.h>
#include <linux/netdevice.h>
#include <linux/net.h>
#include <linux/tcp.h>
#include <linux/slab.h>
#include <net/genetlink.h>
#include <net/sock.h>
#include <net/tcp.h>
#include <net/net_namespace.h>
#include "net_shim.h"

struct workqueue_struct *rsiscsi_alloc_wq(const char *name, unsigned int flags)
{
	return alloc_workqueue("%s", flags, 0, name);
}

struct net *rsiscsi_genl_info_net(const struct genl_info *info)
{
	return genl_info_net(info);
}

struct sk_buff *rsiscsi_genlmsg_new(size_t payload)
{
	return genlmsg_new(payload, GFP_KERNEL);
}

void *rsiscsi_genlmsg_put_reply(struct sk_buff *skb, const struct genl_info *info,
				const struct genl_family *family, u8 cmd)
{
	return genlmsg_put(skb, info->snd_portid, info->snd_seq, family, 0, cmd);
}

void *rsiscsi_genlmsg_put_dump(struct sk_buff *skb, struct netlink_callback *cb,
			       const struct genl_family *family, u8 cmd)
{
	return genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			   family, NLM_F_MULTI, cmd);
}

void *rsiscsi_genlmsg_put_event(struct sk_buff *skb, const struct genl_family *family,
				u8 cmd)
{
	return genlmsg_put(skb, 0, 0, family, 0, cmd);
}

void rsiscsi_genlmsg_end(struct sk_buff *skb, void *hdr)
{
	genlmsg_end(skb, hdr);
}

void rsiscsi_genlmsg_cancel(struct sk_buff *skb, void *hdr)
{
	genlmsg_cancel(skb, hdr);
}

int rsiscsi_genlmsg_reply(struct sk_buff *skb, struct genl_info *info)
{
	return genlmsg_reply(skb, info);
}

int rsiscsi_genlmsg_multicast_netns(const struct genl_family *family, struct net *net,
				    struct sk_buff *skb, unsigned int group)
{
	return genlmsg_multicast_netns(family, net, skb, 0, group, GFP_KERNEL);
}

void rsiscsi_nlmsg_free(struct sk_buff *skb)
{
	nlmsg_free(skb);
}

unsigned int rsiscsi_skb_len(const struct sk_buff *skb)
{
	return skb->len;
}

int rsiscsi_nla_put_u64(struct sk_buff *skb, int type, u64 value, int pad)
{
	return nla_put_u64_64bit(skb, type, value, pad);
}

struct nlattr *rsiscsi_nla_nest_start(struct sk_buff *skb, int type)
{
	return nla_nest_start(skb, type);
}

void rsiscsi_nla_nest_end(struct sk_buff *skb, struct nlattr *start)
{
	nla_nest_end(skb, start);
}

void rsiscsi_nla_nest_cancel(struct sk_buff *skb, struct nlattr *start)
{
	nla_nest_cancel(skb, start);
}

const struct genl_family *rsiscsi_dump_family(struct netlink_callback *cb)
{
	return genl_dumpit_info(cb)->info.family;
}

struct net *rsiscsi_dump_net(struct netlink_callback *cb)
{
	return sock_net(cb->skb->sk);
}

struct nlattr *rsiscsi_dump_attr(struct netlink_callback *cb, unsigned int type)
{
	const struct genl_dumpit_info *info = genl_dumpit_info(cb);

	if (!info->info.attrs || type > info->op.maxattr)
		return NULL;
	return info->info.attrs[type];
}

void rsiscsi_extack_msg(struct netlink_ext_ack *extack, const char *msg, size_t len)
{
	if (!extack)
		return;
	if (len >= NETLINK_MAX_FMTMSG_LEN)
		len = NETLINK_MAX_FMTMSG_LEN - 1;
	memcpy(extack->_msg_buf, msg, len);
	extack->_msg_buf[len] = 0;
	extack->_msg = extack->_msg_buf;
}

struct net *rsiscsi_get_net(struct net *net)
{
	return get_net(net);
}

void rsiscsi_put_net(struct net *net)
{
	put_net(net);
}

struct net *rsiscsi_maybe_get_net(struct net *net)
{
	return maybe_get_net(net);
}

/*
 * One pernet registration per module: pre_exit runs while a dying
 * namespace's devices are still up, so its sessions can log out.
 */
static void *rsiscsi_pernet_ctx;
static void (*rsiscsi_pernet_fn)(void *ctx, struct net *net);

static void rsiscsi_pernet_pre_exit(struct net *net)
{
	rsiscsi_pernet_fn(rsiscsi_pernet_ctx, net);
}

static struct pernet_operations rsiscsi_pernet_ops = {
	.pre_exit = rsiscsi_pernet_pre_exit,
};

int rsiscsi_pernet_register(void *ctx, void (*fn)(void *ctx, struct net *net))
{
	int err;

	if (rsiscsi_pernet_fn)
		return -EBUSY;
	rsiscsi_pernet_ctx = ctx;
	rsiscsi_pernet_fn = fn;
	err = register_pernet_subsys(&rsiscsi_pernet_ops);
	if (err)
		rsiscsi_pernet_fn = NULL;
	return err;
}

void rsiscsi_pernet_unregister(void)
{
	unregister_pernet_subsys(&rsiscsi_pernet_ops);
	rsiscsi_pernet_fn = NULL;
}

/*
 * A TCP socket for a storage transport: holds no reference on its netns
 * (the pernet hook closes it before the namespace goes), allocates with GFP_NOIO and may dip into the emergency reserves, so that
 * writeback to a disk behind it can make progress under memory pressure
 * (iscsi_tcp.c does the same).
 */
int rsiscsi_sock_create(struct net *net, int family, struct socket **res)
{
	int err = sock_create_kern(net, family, SOCK_STREAM, IPPROTO_TCP, res);

	if (err)
		return err;
	(*res)->sk->sk_allocation = GFP_NOIO;
	(*res)->sk->sk_use_task_frag = false;
	sk_set_memalloc((*res)->sk);
	tcp_sock_set_nodelay((*res)->sk);
	return 0;
}

/* The memalloc flag holds a static key reference: drop it with the socket. */
void rsiscsi_sock_release(struct socket *sock)
{
	if (sock_flag(sock->sk, SOCK_MEMALLOC))
		sk_clear_memalloc(sock->sk);
	sock_release(sock);
}

void rsiscsi_sock_set_timeouts(struct socket *sock, long snd_ms, long rcv_ms)
{
	struct sock *sk = sock->sk;

	lock_sock(sk);
	WRITE_ONCE(sk->sk_sndtimeo, snd_ms ? msecs_to_jiffies(snd_ms) : MAX_SCHEDULE_TIMEOUT);
	WRITE_ONCE(sk->sk_rcvtimeo, rcv_ms ? msecs_to_jiffies(rcv_ms) : MAX_SCHEDULE_TIMEOUT);
	release_sock(sk);
}

int rsiscsi_sock_bind_dev(struct socket *sock, const char *ifname)
{
	struct net_device *dev;
	int ifindex;

	dev = dev_get_by_name(sock_net(sock->sk), ifname);
	if (!dev)
		return -ENODEV;
	ifindex = dev->ifindex;
	dev_put(dev);
	return sock_bindtoindex(sock->sk, ifindex, true);
}

int rsiscsi_sock_keepalive(struct socket *sock, int idle_s, unsigned int user_timeout_ms)
{
	int err;

	sock_set_keepalive(sock->sk);
	err = tcp_sock_set_keepidle(sock->sk, idle_s);
	if (err)
		return err;
	return tcp_sock_set_user_timeout(sock->sk, user_timeout_ms);
}

int rsiscsi_sock_send(struct socket *sock, const void *buf, size_t len, bool nonblock)
{
	struct msghdr msg = { .msg_flags = MSG_NOSIGNAL | (nonblock ? MSG_DONTWAIT : 0) };
	struct kvec iov = { .iov_base = (void *)buf, .iov_len = len };

	return kernel_sendmsg(sock, &msg, &iov, 1, len);
}

int rsiscsi_sock_recv(struct socket *sock, void *buf, size_t len, bool waitall, bool nonblock)
{
	struct msghdr msg = { .msg_flags = 0 };
	struct kvec iov = { .iov_base = buf, .iov_len = len };
	int flags = (waitall ? MSG_WAITALL : 0) | (nonblock ? MSG_DONTWAIT : 0);

	return kernel_recvmsg(sock, &msg, &iov, 1, len, flags);
}

int rsiscsi_sock_state(struct socket *sock)
{
	return READ_ONCE(sock->sk->sk_state);
}

/*
 * Whether a receive would return something: data, an error or the end of the
 * stream. Anything that makes it true later calls sk_data_ready or (a reset,
 * a FIN, a close) sk_state_change, which queue the receive work again.
 */
bool rsiscsi_sock_readable(struct socket *sock)
{
	struct sock *sk = sock->sk;

	return !skb_queue_empty_lockless(&sk->sk_receive_queue) ||
	       READ_ONCE(sk->sk_err) ||
	       (READ_ONCE(sk->sk_shutdown) & RCV_SHUTDOWN) ||
	       READ_ONCE(sk->sk_state) != TCP_ESTABLISHED;
}

/*
 * Callback interposition. sk_user_data points at this record while the
 * callbacks are installed; the callbacks run in softirq under
 * sk_callback_lock (read) and only hand the event to Rust, which queues work.
 */
struct rsiscsi_sk_cb {
	void (*data_ready)(struct sock *sk);
	void (*state_change)(struct sock *sk);
	void (*write_space)(struct sock *sk);
	void (*event)(void *ctx, int kind);
	void *ctx;
};

enum { RSISCSI_SK_DATA = 1, RSISCSI_SK_STATE = 2, RSISCSI_SK_WRITE = 3 };

static void rsiscsi_sk_notify(struct sock *sk, int kind)
{
	struct rsiscsi_sk_cb *cb;

	read_lock_bh(&sk->sk_callback_lock);
	cb = sk->sk_user_data;
	if (cb)
		cb->event(cb->ctx, kind);
	read_unlock_bh(&sk->sk_callback_lock);
}

static void rsiscsi_sk_data_ready(struct sock *sk)
{
	rsiscsi_sk_notify(sk, RSISCSI_SK_DATA);
}

static void rsiscsi_sk_state_change(struct sock *sk)
{
	void (*orig)(struct sock *sk) = NULL;
	struct rsiscsi_sk_cb *cb;

	rsiscsi_sk_notify(sk, RSISCSI_SK_STATE);
	read_lock_bh(&sk->sk_callback_lock);
	cb = sk->sk_user_data;
	if (cb)
		orig = cb->state_change;
	read_unlock_bh(&sk->sk_callback_lock);
	if (orig)
		orig(sk);
}

static void rsiscsi_sk_write_space(struct sock *sk)
{
	void (*orig)(struct sock *sk) = NULL;
	struct rsiscsi_sk_cb *cb;

	read_lock_bh(&sk->sk_callback_lock);
	cb = sk->sk_user_data;
	if (cb)
		orig = cb->write_space;
	read_unlock_bh(&sk->sk_callback_lock);
	if (orig)
		orig(sk);
	rsiscsi_sk_notify(sk, RSISCSI_SK_WRITE);
}

int rsiscsi_sock_install_callbacks(struct socket *sock, void *ctx,
				   void (*event)(void *ctx, int kind))
{
	struct rsiscsi_sk_cb *cb = kzalloc(sizeof(*cb), GFP_KERNEL);
	struct sock *sk = sock->sk;

	if (!cb)
		return -ENOMEM;
	cb->event = event;
	cb->ctx = ctx;
	write_lock_bh(&sk->sk_callback_lock);
	if (sk->sk_user_data) {
		write_unlock_bh(&sk->sk_callback_lock);
		kfree(cb);
		return -EBUSY;
	}
	cb->data_ready = sk->sk_data_ready;
	cb->state_change = sk->sk_state_change;
	cb->write_space = sk->sk_write_space;
	sk->sk_user_data = cb;
	sk->sk_data_ready = rsiscsi_sk_data_ready;
	sk->sk_state_change = rsiscsi_sk_state_change;
	sk->sk_write_space = rsiscsi_sk_write_space;
	write_unlock_bh(&sk->sk_callback_lock);
	return 0;
}

/* Returns the ctx given to install, or NULL if nothing was installed. */
void *rsiscsi_sock_restore_callbacks(struct socket *sock)
{
	struct sock *sk = sock->sk;
	struct rsiscsi_sk_cb *cb;
	void *ctx = NULL;

	write_lock_bh(&sk->sk_callback_lock);
	cb = sk->sk_user_data;
	if (cb) {
		sk->sk_data_ready = cb->data_ready;
		sk->sk_state_change = cb->state_change;
		sk->sk_write_space = cb->write_space;
		sk->sk_user_data = NULL;
		ctx = cb->ctx;
	}
	write_unlock_bh(&sk->sk_callback_lock);
	kfree(cb);
	return ctx;
}
