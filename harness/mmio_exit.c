// SPDX-License-Identifier: GPL-2.0-only
/*
 * Userspace's side of KVM_EXIT_MMIO, the same for every backend: record
 * the exit and answer a read with the scenario's mmio-data bytes in order,
 * then mmio_default_byte() of each GPA.
 */
#include <string.h>

#include "backend.h"

void mmio_exit_record(struct run_result *r, const struct scenario *s, unsigned int *pos,
		      u64 gpa, u32 len, bool write, u8 data[8])
{
	struct run_exit *x = &r->exits[r->nr_exits++];
	unsigned int i;

	x->gpa = gpa;
	x->len = len;
	x->write = write;
	if (!write)
		for (i = 0; i < len && i < 8; i++)
			data[i] = *pos < s->mmio_data_len ? s->mmio_data[(*pos)++] :
				  mmio_default_byte(gpa + i);
	memcpy(x->data, data, min_t(u32, len, 8));
}
