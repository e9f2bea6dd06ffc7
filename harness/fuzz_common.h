/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the libFuzzer targets (fragfuzz_model, fragfuzz_kvm) share: the
 * FRAGFUZZ_IGNORE list and one crash site per violation kind, so that crash
 * dedupe by top frames keeps distinct bugs apart.
 */
#ifndef FRAGFUZZ_FUZZ_COMMON_H
#define FRAGFUZZ_FUZZ_COMMON_H

#include "backend.h"
#include "violation.h"

/*
 * Per-input limits of the fuzz targets (fragfuzz_model: 64 exits, 256
 * emulator passes; fragfuzz_kvm: 32 exits, 4096 passes and 5 ms, see
 * fuzz_kvm.c; both: 16 entries at the same RIP, FUZZ_MAX_ENTRIES);
 * FRAGFUZZ_MAX_EXITS, FRAGFUZZ_MAX_PASSES and FRAGFUZZ_MAX_ENTRIES override
 * @defaults.  Far below what
 * `fragfuzz run` allows (RUN_LIMITS_DEFAULT), so that one rep string with
 * a huge RCX does not cost as much as a thousand ordinary inputs; every
 * access pattern the oracle checks (two fragments, 8-byte chunks, the
 * page split) still fits.  Exits with a message naming @target on a bad
 * value.
 */
/*
 * What both targets take from the environment: FRAGFUZZ_KERNEL (else
 * @default_kernel), FRAGFUZZ_REPORT_KNOWN, FRAGFUZZ_IGNORE and the limits
 * (@limits are the defaults).  Exits with a message naming @target on a
 * bad value.
 */
struct fuzz_env {
	const struct kvm_profile *profile;
	bool report_known;
	bool ignore[NR_VIOLATION_KINDS];
	struct run_limits limits;
};

void fuzz_parse_env(const char *target, const char *default_kernel, struct run_limits limits,
		    struct fuzz_env *env);

#define FUZZ_MAX_EXITS		64
#define FUZZ_MAX_PASSES		256
#define FUZZ_MAX_ENTRIES	16
struct run_limits fuzz_parse_limits(const char *target, struct run_limits defaults);

/*
 * Parse "kind,kind,..." or "all" into @ignore.  Exits with a message
 * naming @target on an unknown kind (a campaign misconfiguration).
 */
void fuzz_parse_ignore(const char *target, const char *list,
		       bool ignore[NR_VIOLATION_KINDS]);

/* Abort in the function named after @kind. */
__attribute__((noreturn)) void fuzz_violation_site(enum violation_kind kind);

#endif
