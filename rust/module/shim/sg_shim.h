/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rsiscsi: scatterlist pages for Rust (7.3's rust/kernel/scatterlist.rs only
 * knows DMA addresses) and moving them over a TCP socket without a copy on
 * transmit. Declared again in rust/module/abs/sg.rs and abs/net_pages.rs.
 */
#ifndef RSISCSI_SG_SHIM_H
#define RSISCSI_SG_SHIM_H

#include <linux/types.h>

struct scatterlist;
struct socket;

struct scatterlist *rsiscsi_sg_next(struct scatterlist *sg);
void rsiscsi_sg_entry(struct scatterlist *sg, u32 *offset, u32 *length);
u32 rsiscsi_sg_crc32c(u32 crc, struct scatterlist *sg, u32 skip, u32 len);
int rsiscsi_sock_send_sg(struct socket *sock, struct scatterlist *sg,
			 u32 skip, u32 len, bool more, bool splice);
int rsiscsi_sock_send_buf(struct socket *sock, const void *buf, u32 len);
void rsiscsi_sock_push(struct socket *sock);
int rsiscsi_sock_recv_sg(struct socket *sock, struct scatterlist *sg,
			 u32 skip, u32 len);

#endif
