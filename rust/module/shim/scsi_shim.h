/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rsiscsi: the SCSI midlayer as seen from Rust. 7.3's bindings carry no
 * SCSI header, so the host template lives here and Rust reaches hosts and
 * commands only through these functions (declared again in
 * rust/module/abs/scsi/ffi.rs).
 */
#ifndef RSISCSI_SCSI_SHIM_H
#define RSISCSI_SCSI_SHIM_H

#include <linux/types.h>

struct Scsi_Host;
struct scsi_cmnd;
struct scatterlist;

/*
 * Callbacks implemented in Rust. @data is the pointer given to
 * rsiscsi_host_alloc(). The eh callbacks return true for SUCCESS.
 */
struct rsiscsi_scsi_ops {
	int (*queuecommand)(void *data, struct scsi_cmnd *sc);
	bool (*eh_abort)(void *data, struct scsi_cmnd *sc);
	bool (*eh_device_reset)(void *data, struct scsi_cmnd *sc);
	bool (*eh_target_reset)(void *data, struct scsi_cmnd *sc);
};

/* Limits derived from the negotiated session parameters. */
struct rsiscsi_host_limits {
	u32 can_queue;
	u32 cmd_per_lun;
	u32 sg_tablesize;
	u32 max_sectors;
	u64 max_lun;
	bool stable_writes;
};

/* Return values of queuecommand besides 0. */
#define RSISCSI_QC_HOST_BUSY 0x1055

struct Scsi_Host *rsiscsi_host_alloc(const struct rsiscsi_scsi_ops *ops,
				     void *data, unsigned int cmd_size,
				     const struct rsiscsi_host_limits *lim);
int rsiscsi_host_add(struct Scsi_Host *shost);
void rsiscsi_host_scan(struct Scsi_Host *shost);
void rsiscsi_host_remove(struct Scsi_Host *shost);
void rsiscsi_host_put(struct Scsi_Host *shost);
unsigned int rsiscsi_host_no(struct Scsi_Host *shost);

void *rsiscsi_cmd_priv(struct scsi_cmnd *sc);
const u8 *rsiscsi_cmd_cdb(struct scsi_cmnd *sc, u32 *len);
u64 rsiscsi_cmd_lun(struct scsi_cmnd *sc);
/* 0 none, 1 read (from device), 2 write (to device), 3 bidirectional */
int rsiscsi_cmd_direction(struct scsi_cmnd *sc);
u32 rsiscsi_cmd_bufflen(struct scsi_cmnd *sc);
struct scatterlist *rsiscsi_cmd_sglist(struct scsi_cmnd *sc, u32 *count);
void rsiscsi_cmd_set_resid(struct scsi_cmnd *sc, u32 resid);
u8 *rsiscsi_cmd_sense(struct scsi_cmnd *sc, u32 *len);
void rsiscsi_cmd_set_result(struct scsi_cmnd *sc, u8 host_byte, u8 status);
void rsiscsi_cmd_done(struct scsi_cmnd *sc);

#endif
