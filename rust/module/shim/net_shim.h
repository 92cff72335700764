/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rsiscsi control-plane shim: the static inline kernel helpers and struct sock
 * fields that Rust cannot reach through the 7.3 bindings. Declared in Rust in
 * rust/module/abs/ffi.rs; keep both in step.
 */
#ifndef RSISCSI_NET_SHIM_H
#define RSISCSI_NET_SHIM_H

#include <linux/types.h>

struct workqueue_struct;
struct sk_buff;
struct genl_info;
struct genl_family;
struct netlink_callback;
struct netlink_ext_ack;
struct net;
struct socket;
struct nlattr;

/* workqueue */
struct workqueue_struct *rsiscsi_alloc_wq(const char *name, unsigned int flags);

/* generic netlink */
struct net *rsiscsi_genl_info_net(const struct genl_info *info);
struct sk_buff *rsiscsi_genlmsg_new(size_t payload);
void *rsiscsi_genlmsg_put_reply(struct sk_buff *skb, const struct genl_info *info,
				const struct genl_family *family, u8 cmd);
void *rsiscsi_genlmsg_put_dump(struct sk_buff *skb, struct netlink_callback *cb,
			       const struct genl_family *family, u8 cmd);
void *rsiscsi_genlmsg_put_event(struct sk_buff *skb, const struct genl_family *family,
				u8 cmd);
void rsiscsi_genlmsg_end(struct sk_buff *skb, void *hdr);
void rsiscsi_genlmsg_cancel(struct sk_buff *skb, void *hdr);
int rsiscsi_genlmsg_reply(struct sk_buff *skb, struct genl_info *info);
int rsiscsi_genlmsg_multicast_netns(const struct genl_family *family, struct net *net,
				    struct sk_buff *skb, unsigned int group);
void rsiscsi_nlmsg_free(struct sk_buff *skb);
unsigned int rsiscsi_skb_len(const struct sk_buff *skb);
int rsiscsi_nla_put_u64(struct sk_buff *skb, int type, u64 value, int pad);
struct nlattr *rsiscsi_nla_nest_start(struct sk_buff *skb, int type);
void rsiscsi_nla_nest_end(struct sk_buff *skb, struct nlattr *start);
void rsiscsi_nla_nest_cancel(struct sk_buff *skb, struct nlattr *start);
const struct genl_family *rsiscsi_dump_family(struct netlink_callback *cb);
struct net *rsiscsi_dump_net(struct netlink_callback *cb);
struct nlattr *rsiscsi_dump_attr(struct netlink_callback *cb, unsigned int type);
void rsiscsi_extack_msg(struct netlink_ext_ack *extack, const char *msg, size_t len);
struct net *rsiscsi_get_net(struct net *net);
void rsiscsi_put_net(struct net *net);
struct net *rsiscsi_maybe_get_net(struct net *net);
int rsiscsi_pernet_register(void *ctx, void (*fn)(void *ctx, struct net *net));
void rsiscsi_pernet_unregister(void);

/* TCP sockets */
int rsiscsi_sock_create(struct net *net, int family, struct socket **res);
void rsiscsi_sock_release(struct socket *sock);
void rsiscsi_sock_set_timeouts(struct socket *sock, long snd_ms, long rcv_ms);
int rsiscsi_sock_bind_dev(struct socket *sock, const char *ifname);
int rsiscsi_sock_keepalive(struct socket *sock, int idle_s, unsigned int user_timeout_ms);
int rsiscsi_sock_send(struct socket *sock, const void *buf, size_t len, bool nonblock);
int rsiscsi_sock_recv(struct socket *sock, void *buf, size_t len, bool waitall, bool nonblock);
int rsiscsi_sock_state(struct socket *sock);
bool rsiscsi_sock_readable(struct socket *sock);
int rsiscsi_sock_install_callbacks(struct socket *sock, void *ctx,
				   void (*event)(void *ctx, int kind));
void *rsiscsi_sock_restore_callbacks(struct socket *sock);

#endif
