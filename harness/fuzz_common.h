/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the libFuzzer targets (fragfuzz_model, fragfuzz_kvm) share: the
 * FRAGFUZZ_IGNORE list and one crash site per violation kind, so that crash
 * dedupe by top frames keeps distinct bugs apart.
 */
#ifndef FRAGFUZZ_FUZZ_COMMON_H
#define FRAGFUZZ_FUZZ_COMMON_H

#include "violation.h"

/*
 * Parse "kind,kind,..." or "all" into @ignore.  Exits with a message
 * naming @target on an unknown kind (a campaign misconfiguration).
 */
void fuzz_parse_ignore(const char *target, const char *list,
		       bool ignore[NR_VIOLATION_KINDS]);

/* Abort in the function named after @kind. */
__attribute__((noreturn)) void fuzz_violation_site(enum violation_kind kind);

#endif
