/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The oracle: from the scenario's layout alone it works out, for every
 * byte of every emulated access, the GPA and what backs it, and from that
 * the trace events and exits a correct kernel produces (spec section 10).
 * It compares them with what a backend observed and names each difference
 * as a violation kind.  It never asks the model how an access was split or
 * routed.
 */
#ifndef FRAGFUZZ_ORACLE_H
#define FRAGFUZZ_ORACLE_H

#include "result.h"
#include "scenario.h"
#include "violation.h"

/*
 * @accesses: the emulator's memory calls (from the model run of the same
 * scenario; for the model backend, @r's own).
 */
void oracle_check(const struct scenario *s, const struct kvm_profile *p,
		  const struct run_result *r, const struct emul_access_log *accesses,
		  struct violation_list *out);



/* How many of @a's page pieces the layout sends to userspace (0..2). */
unsigned int oracle_access_fragments(const struct scenario *s, const struct emul_access *a);
#endif
