// SPDX-License-Identifier: GPL-2.0
/*
 * rsiscsi: SCSI host template and command accessors for the Rust side.
 *
 * Everything per I/O lives in the command's private area (cmd_size, which the
 * Rust side chooses); the host's private area holds only the Rust callback
 * table and its data pointer.
 */
#include <linux/module.h>
#include <scsi/scsi.h>
#include <scsi/scsi_cmnd.h>
#include <scsi/scsi_device.h>
#include <scsi/scsi_host.h>

#include "scsi_shim.h"

struct rsiscsi_host_data {
	const struct rsiscsi_scsi_ops *ops;
	void *data;
	bool stable_writes;
};

static struct rsiscsi_host_data *host_data(struct Scsi_Host *shost)
{
	return shost_priv(shost);
}

static enum scsi_qc_status rsiscsi_queuecommand(struct Scsi_Host *shost,
						struct scsi_cmnd *sc)
{
	struct rsiscsi_host_data *hd = host_data(shost);

	return hd->ops->queuecommand(hd->data, sc);
}

static int eh_result(bool ok)
{
	return ok ? SUCCESS : FAILED;
}

static int rsiscsi_eh_abort(struct scsi_cmnd *sc)
{
	struct rsiscsi_host_data *hd = host_data(sc->device->host);

	return eh_result(hd->ops->eh_abort(hd->data, sc));
}

static int rsiscsi_eh_device_reset(struct scsi_cmnd *sc)
{
	struct rsiscsi_host_data *hd = host_data(sc->device->host);

	return eh_result(hd->ops->eh_device_reset(hd->data, sc));
}

static int rsiscsi_eh_target_reset(struct scsi_cmnd *sc)
{
	struct rsiscsi_host_data *hd = host_data(sc->device->host);

	return eh_result(hd->ops->eh_target_reset(hd->data, sc));
}

static int rsiscsi_sdev_configure(struct scsi_device *sdev,
				  struct queue_limits *lim)
{
	/*
	 * Write data leaves straight from the page cache; with a data digest
	 * the pages must not change between digest and transmission.
	 */
	if (host_data(sdev->host)->stable_writes)
		lim->features |= BLK_FEAT_STABLE_WRITES;
	return 0;
}

/* cmd_size is fixed by the Rust type of the private area; set once. */
static struct scsi_host_template rsiscsi_sht = {
	.module = THIS_MODULE,
	.name = "rsiscsi iSCSI initiator",
	.proc_name = "rsiscsi",
	.queuecommand = rsiscsi_queuecommand,
	.eh_abort_handler = rsiscsi_eh_abort,
	.eh_device_reset_handler = rsiscsi_eh_device_reset,
	.eh_target_reset_handler = rsiscsi_eh_target_reset,
	.change_queue_depth = scsi_change_queue_depth,
	.sdev_configure = rsiscsi_sdev_configure,
	/* One page per segment: each maps to one bio_vec on the socket. */
	.dma_boundary = PAGE_SIZE - 1,
	.max_segment_size = PAGE_SIZE,
	.this_id = -1,
	.track_queue_depth = 1,
	.can_queue = 1,
	.sg_tablesize = 1,
	.max_sectors = 8,
	.cmd_per_lun = 1,
};

static DEFINE_MUTEX(rsiscsi_sht_lock);

struct Scsi_Host *rsiscsi_host_alloc(const struct rsiscsi_scsi_ops *ops,
				     void *data, unsigned int cmd_size,
				     const struct rsiscsi_host_limits *lim)
{
	struct rsiscsi_host_data *hd;
	struct Scsi_Host *shost;

	mutex_lock(&rsiscsi_sht_lock);
	if (!rsiscsi_sht.cmd_size)
		rsiscsi_sht.cmd_size = cmd_size;
	mutex_unlock(&rsiscsi_sht_lock);
	if (rsiscsi_sht.cmd_size != cmd_size)
		return NULL;

	shost = scsi_host_alloc(&rsiscsi_sht, sizeof(*hd));
	if (!shost)
		return NULL;
	hd = host_data(shost);
	hd->ops = ops;
	hd->data = data;
	hd->stable_writes = lim->stable_writes;
	shost->can_queue = lim->can_queue;
	shost->cmd_per_lun = lim->cmd_per_lun;
	shost->sg_tablesize = lim->sg_tablesize;
	shost->max_sectors = lim->max_sectors;
	shost->max_id = 1;
	shost->max_channel = 0;
	shost->max_lun = lim->max_lun;
	shost->max_cmd_len = SCSI_MAX_VARLEN_CDB_SIZE;
	return shost;
}

int rsiscsi_host_add(struct Scsi_Host *shost)
{
	return scsi_add_host(shost, NULL);
}

void rsiscsi_host_scan(struct Scsi_Host *shost)
{
	scsi_scan_host(shost);
}

void rsiscsi_host_remove(struct Scsi_Host *shost)
{
	scsi_remove_host(shost);
}

void rsiscsi_host_put(struct Scsi_Host *shost)
{
	scsi_host_put(shost);
}

unsigned int rsiscsi_host_no(struct Scsi_Host *shost)
{
	return shost->host_no;
}

void *rsiscsi_cmd_priv(struct scsi_cmnd *sc)
{
	return scsi_cmd_priv(sc);
}

const u8 *rsiscsi_cmd_cdb(struct scsi_cmnd *sc, u32 *len)
{
	*len = sc->cmd_len;
	return sc->cmnd;
}

u64 rsiscsi_cmd_lun(struct scsi_cmnd *sc)
{
	return sc->device->lun;
}

int rsiscsi_cmd_direction(struct scsi_cmnd *sc)
{
	switch (sc->sc_data_direction) {
	case DMA_FROM_DEVICE:
		return 1;
	case DMA_TO_DEVICE:
		return 2;
	case DMA_BIDIRECTIONAL:
		return 3;
	default:
		return 0;
	}
}

u32 rsiscsi_cmd_bufflen(struct scsi_cmnd *sc)
{
	return scsi_bufflen(sc);
}

struct scatterlist *rsiscsi_cmd_sglist(struct scsi_cmnd *sc, u32 *count)
{
	*count = scsi_sg_count(sc);
	return scsi_sglist(sc);
}

void rsiscsi_cmd_set_resid(struct scsi_cmnd *sc, u32 resid)
{
	scsi_set_resid(sc, resid);
}

u8 *rsiscsi_cmd_sense(struct scsi_cmnd *sc, u32 *len)
{
	*len = SCSI_SENSE_BUFFERSIZE;
	return sc->sense_buffer;
}

void rsiscsi_cmd_set_result(struct scsi_cmnd *sc, u8 host_byte, u8 status)
{
	sc->result = (host_byte << 16) | status;
}

void rsiscsi_cmd_done(struct scsi_cmnd *sc)
{
	scsi_done(sc);
}

