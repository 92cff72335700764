// SPDX-License-Identifier: GPL-2.0
/*
 * rsiscsi: scatterlist walking and page-level socket I/O.
 *
 * Transmit hands the command's pages to TCP with MSG_SPLICE_PAGES (no copy)
 * when the page may be referenced by an skb (sendpages_ok: not slab, e.g. a
 * SCSI INQUIRY's kmalloc buffer is copied instead). Receive copies from the
 * skbs straight into the command's pages.
 */
#include <linux/bvec.h>
#include <linux/crc32.h>
#include <linux/highmem.h>
#include <linux/net.h>
#include <linux/scatterlist.h>
#include <linux/socket.h>
#include <linux/uio.h>
#include <linux/tcp.h>
#include <net/sock.h>

#include "sg_shim.h"

/* bio_vecs per sendmsg/recvmsg call: stack use stays at 256 bytes. */
#define RSISCSI_BVECS 16

struct scatterlist *rsiscsi_sg_next(struct scatterlist *sg)
{
	return sg_next(sg);
}

void rsiscsi_sg_entry(struct scatterlist *sg, u32 *offset, u32 *length)
{
	*offset = sg->offset;
	*length = sg->length;
}

/* Moves to the entry holding byte @*skip; leaves the offset inside it. */
static struct scatterlist *sg_seek(struct scatterlist *sg, u32 *skip)
{
	while (sg && *skip >= sg->length) {
		*skip -= sg->length;
		sg = sg_next(sg);
	}
	return sg;
}

u32 rsiscsi_sg_crc32c(u32 crc, struct scatterlist *sg, u32 skip, u32 len)
{
	sg = sg_seek(sg, &skip);
	while (sg && len) {
		u32 off = sg->offset + skip;
		u32 left = min(sg->length - skip, len);

		skip = 0;
		len -= left;
		while (left) {
			struct page *page = sg_page(sg) + (off >> PAGE_SHIFT);
			u32 in_page = off & ~PAGE_MASK;
			u32 n = min_t(u32, left, PAGE_SIZE - in_page);
			void *va = kmap_local_page(page);

			crc = crc32c(crc, va + in_page, n);
			kunmap_local(va);
			off += n;
			left -= n;
		}
		sg = sg_next(sg);
	}
	return crc;
}

/*
 * Fills up to RSISCSI_BVECS bio_vecs from @*sg/@*skip, at most @len bytes;
 * with @splice, stops where sendpages_ok() changes so one call never mixes
 * spliceable and non-spliceable pages. Returns the bytes covered.
 */
static u32 fill_bvecs(struct bio_vec *bv, unsigned int *nr,
		      struct scatterlist **sgp, u32 *skip, u32 len,
		      bool splice, bool *ok)
{
	struct scatterlist *sg = *sgp;
	u32 total = 0;

	*nr = 0;
	while (sg && len && *nr < RSISCSI_BVECS) {
		u32 n = min(sg->length - *skip, len);
		u32 off = sg->offset + *skip;
		bool this_ok = splice && sendpages_ok(sg_page(sg), n, off);

		if (*nr == 0)
			*ok = this_ok;
		else if (this_ok != *ok)
			break;
		bvec_set_page(&bv[(*nr)++], sg_page(sg), n, off);
		total += n;
		len -= n;
		*skip += n;
		if (*skip == sg->length) {
			*skip = 0;
			sg = sg_next(sg);
		}
	}
	*sgp = sg;
	return total;
}

/*
 * Queues bytes [@skip, @skip + @len) of @sg without waiting for send buffer
 * space. Returns the bytes queued (less than @len when the buffer filled up),
 * -EAGAIN if none could be, or another negative errno.
 */
int rsiscsi_sock_send_sg(struct socket *sock, struct scatterlist *sg,
			 u32 skip, u32 len, bool more, bool splice)
{
	struct bio_vec bv[RSISCSI_BVECS];
	u32 done = 0;

	sg = sg_seek(sg, &skip);
	while (len) {
		struct msghdr msg = {};
		unsigned int nr;
		bool ok = false;
		u32 n = fill_bvecs(bv, &nr, &sg, &skip, len, splice, &ok);

		if (!n)
			return -EINVAL;
		len -= n;
		msg.msg_flags = MSG_NOSIGNAL | MSG_DONTWAIT;
		if (more || len)
			msg.msg_flags |= MSG_MORE;
		if (ok)
			msg.msg_flags |= MSG_SPLICE_PAGES;
		iov_iter_bvec(&msg.msg_iter, ITER_SOURCE, bv, nr, n);
		while (msg_data_left(&msg)) {
			int rc = sock_sendmsg(sock, &msg);

			if (rc == -EAGAIN)
				return done ? done : rc;
			if (rc < 0)
				return rc;
			if (rc == 0)
				return -EPIPE;
			done += rc;
		}
	}
	return done;
}

/*
 * Queues a PDU header (or padding and digest) with MSG_MORE, without waiting:
 * the pieces of a batch of PDUs leave in full segments; rsiscsi_sock_push()
 * ends the batch. Returns the bytes queued, -EAGAIN if none could be, or
 * another negative errno.
 */
int rsiscsi_sock_send_buf(struct socket *sock, const void *buf, u32 len)
{
	struct kvec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = { .msg_flags = MSG_NOSIGNAL | MSG_MORE | MSG_DONTWAIT };
	u32 done = 0;

	iov_iter_kvec(&msg.msg_iter, ITER_SOURCE, &iov, 1, len);
	while (msg_data_left(&msg)) {
		int rc = sock_sendmsg(sock, &msg);

		if (rc == -EAGAIN)
			return done ? done : rc;
		if (rc < 0)
			return rc;
		if (rc == 0)
			return -EPIPE;
		done += rc;
	}
	return done;
}

/* Sends what MSG_MORE held back. */
void rsiscsi_sock_push(struct socket *sock)
{
	tcp_sock_set_cork(sock->sk, false);
}

int rsiscsi_sock_recv_sg(struct socket *sock, struct scatterlist *sg,
			 u32 skip, u32 len)
{
	struct bio_vec bv[RSISCSI_BVECS];
	struct msghdr msg = {};
	unsigned int nr;
	bool ok;
	u32 n;

	sg = sg_seek(sg, &skip);
	n = fill_bvecs(bv, &nr, &sg, &skip, len, false, &ok);
	if (!n)
		return -EINVAL;
	iov_iter_bvec(&msg.msg_iter, ITER_DEST, bv, nr, n);
	return sock_recvmsg(sock, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
}
