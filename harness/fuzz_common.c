// SPDX-License-Identifier: GPL-2.0-only
/*
 * Shared by the libFuzzer targets (see fuzz_common.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
/* CVE-2026-31588 is a use of a dead stack frame: ASan must look for it */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "detect_stack_use_after_return=1:detect_leaks=0";
}
#endif
#endif

void fuzz_parse_ignore(const char *target, const char *list,
		       bool ignore[NR_VIOLATION_KINDS])
{
	char buf[512], *tok, *save = NULL;
	int kind;

	memset(ignore, 0, NR_VIOLATION_KINDS * sizeof(ignore[0]));
	if (!list)
		return;
	snprintf(buf, sizeof(buf), "%s", list);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "all")) {
			memset(ignore, 1, NR_VIOLATION_KINDS * sizeof(ignore[0]));
			continue;
		}
		kind = violation_from_name(tok);
		if (kind < 0) {
			fprintf(stderr, "%s: unknown violation kind '%s' in FRAGFUZZ_IGNORE\n",
				target, tok);
			exit(2);
		}
		ignore[kind] = true;
	}
}

static unsigned int fuzz_env_uint(const char *target, const char *name,
				  unsigned int def, unsigned int max)
{
	const char *v = getenv(name);
	unsigned long n;
	char *end;

	if (!v || !*v)
		return def;
	n = strtoul(v, &end, 0);
	if (*end || n < 1 || n > max) {
		fprintf(stderr, "%s: %s wants 1..%u, got '%s'\n", target, name, max, v);
		exit(2);
	}
	return (unsigned int)n;
}

struct run_limits fuzz_parse_limits(const char *target, struct run_limits defaults)
{
	struct run_limits lim = defaults;

	lim.max_exits = fuzz_env_uint(target, "FRAGFUZZ_MAX_EXITS", defaults.max_exits,
				      RESULT_MAX_EXITS);
	lim.max_passes = fuzz_env_uint(target, "FRAGFUZZ_MAX_PASSES", defaults.max_passes,
				       RUN_LIMITS_DEFAULT.max_passes);
	lim.max_entries = fuzz_env_uint(target, "FRAGFUZZ_MAX_ENTRIES",
					run_limits_entries(defaults), RUN_LIMITS_DEFAULT_ENTRIES);
	if (defaults.max_ns)
		lim.max_ns = fuzz_env_uint(target, "FRAGFUZZ_MAX_NS", defaults.max_ns,
					   RUN_LIMITS_DEFAULT.max_ns);
	return lim;
}

void fuzz_parse_env(const char *target, const char *default_kernel, struct run_limits limits,
		    struct fuzz_env *env)
{
	const char *kernel = getenv("FRAGFUZZ_KERNEL");
	const char *known = getenv("FRAGFUZZ_REPORT_KNOWN");

	env->profile = kvm_profile_find(kernel ? kernel : default_kernel);
	if (!env->profile) {
		fprintf(stderr, "%s: unknown FRAGFUZZ_KERNEL '%s'\n", target, kernel);
		exit(2);
	}
	env->report_known = known && strcmp(known, "0");
	fuzz_parse_ignore(target, getenv("FRAGFUZZ_IGNORE"), env->ignore);
	env->limits = fuzz_parse_limits(target, limits);
}

/* One crash site per violation kind (ClusterFuzz keeps frames by name). */
#define VIOLATION_SITE(fn)						\
	__attribute__((noinline, noreturn)) static void fn(void)	\
	{								\
		__asm__ volatile("");					\
		abort();						\
	}

VIOLATION_SITE(violation_unsatisfied_read_trace)
VIOLATION_SITE(violation_completion_read_trace)
VIOLATION_SITE(violation_completion_read_gpa)
VIOLATION_SITE(violation_inkernel_read_trace)
VIOLATION_SITE(violation_write_trace)
VIOLATION_SITE(violation_phantom_trace)
VIOLATION_SITE(violation_exit_chunking)
VIOLATION_SITE(violation_exit_sequence)
VIOLATION_SITE(violation_exit_write_data)
VIOLATION_SITE(violation_read_data)
VIOLATION_SITE(violation_replay_mismatch)
VIOLATION_SITE(violation_write_dropped)
VIOLATION_SITE(violation_translation)
VIOLATION_SITE(violation_noncanonical_access)
VIOLATION_SITE(violation_pending_mmio)
VIOLATION_SITE(violation_kvm_warn)
VIOLATION_SITE(violation_kvm_bug)
VIOLATION_SITE(violation_singlestep_lost)
VIOLATION_SITE(violation_iobus_missed)
VIOLATION_SITE(violation_fidelity)

static void (*const violation_sites[NR_VIOLATION_KINDS])(void) = {
	[V_UNSATISFIED_READ_TRACE] = violation_unsatisfied_read_trace,
	[V_COMPLETION_READ_TRACE] = violation_completion_read_trace,
	[V_COMPLETION_READ_GPA] = violation_completion_read_gpa,
	[V_INKERNEL_READ_TRACE] = violation_inkernel_read_trace,
	[V_WRITE_TRACE] = violation_write_trace,
	[V_PHANTOM_TRACE] = violation_phantom_trace,
	[V_EXIT_CHUNKING] = violation_exit_chunking,
	[V_EXIT_SEQUENCE] = violation_exit_sequence,
	[V_EXIT_WRITE_DATA] = violation_exit_write_data,
	[V_READ_DATA] = violation_read_data,
	[V_REPLAY_MISMATCH] = violation_replay_mismatch,
	[V_WRITE_DROPPED] = violation_write_dropped,
	[V_TRANSLATION] = violation_translation,
	[V_NONCANONICAL_ACCESS] = violation_noncanonical_access,
	[V_PENDING_MMIO] = violation_pending_mmio,
	[V_KVM_WARN] = violation_kvm_warn,
	[V_KVM_BUG] = violation_kvm_bug,
	[V_SINGLESTEP_LOST] = violation_singlestep_lost,
	[V_IOBUS_MISSED] = violation_iobus_missed,
	[V_FIDELITY] = violation_fidelity,
};

void fuzz_violation_site(enum violation_kind kind)
{
	if (kind < NR_VIOLATION_KINDS && violation_sites[kind])
		violation_sites[kind]();
	abort();
}
