// SPDX-License-Identifier: GPL-2.0-only
/*
 * Violation kinds and the known-issues registry: behaviour that upstream
 * knows and keeps, per profile, with the reference that says so.  The fuzz
 * targets only stop on a known kind when FRAGFUZZ_REPORT_KNOWN=1.
 * fuzz/known-issues.md lists the same table for people.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "violation.h"

static const char *const violation_names[NR_VIOLATION_KINDS] = {
	[V_UNSATISFIED_READ_TRACE] = "unsatisfied-read-trace",
	[V_COMPLETION_READ_TRACE] = "completion-read-trace",
	[V_COMPLETION_READ_GPA] = "completion-read-gpa",
	[V_INKERNEL_READ_TRACE] = "inkernel-read-trace",
	[V_WRITE_TRACE] = "write-trace",
	[V_PHANTOM_TRACE] = "phantom-trace",
	[V_EXIT_CHUNKING] = "exit-chunking",
	[V_EXIT_SEQUENCE] = "exit-sequence",
	[V_EXIT_WRITE_DATA] = "exit-write-data",
	[V_READ_DATA] = "read-data",
	[V_REPLAY_MISMATCH] = "replay-mismatch",
	[V_WRITE_DROPPED] = "write-dropped",
	[V_TRANSLATION] = "translation",
	[V_NONCANONICAL_ACCESS] = "noncanonical-access",
	[V_PENDING_MMIO] = "pending-mmio",
	[V_KVM_WARN] = "kvm-warn",
	[V_KVM_BUG] = "kvm-bug",
	[V_SINGLESTEP_LOST] = "singlestep-lost",
	[V_IOBUS_MISSED] = "iobus-missed",
	[V_FIDELITY] = "fidelity",
};

struct known_issue {
	enum violation_kind kind;
	const char *profiles;	/* space separated; "*" for all */
	const char *ref;
};

static const struct known_issue known_issues[] = {
	{ V_COMPLETION_READ_GPA, "*",
	  "completion 'read' trace uses frag0's advanced GPA; series patch 03 "
	  "(4f11fded5381) documents it as technically wrong and keeps it (spec 4, T4)" },
	{ V_WRITE_DROPPED, "*",
	  "only the last fragment-producing write of an instruction exits; "
	  "described in 0dc902267cb3 and still so in 7.1 (spec 2.4, 10.2)" },
	{ V_PHANTOM_TRACE, "*",
	  "a split access whose second page faults has already traced its first "
	  "piece (seen on 6.18.44; 7.1 also for unsatisfied-read, spec 4 notes)" },
	{ V_REPLAY_MISMATCH, "*",
	  "fragfuzz finding, confirmed on 6.18.44 with harness/kvm/kvm_probe.c (POPA "
	  "from an MMIO stack pops from ESP+0,4,0xc,0x1c,...): the emulator's register "
	  "cache survives the no-decode replay after a read exit; not yet reported upstream" },
	{ V_NONCANONICAL_ACCESS, "*",
	  "__linearize checks only the first byte; seen on 6.18.44 "
	  "(kvm-on-these-machines.md, canonical boundary)" },
	{ V_IOBUS_MISSED, "*",
	  "fragfuzz finding, confirmed on 6.18.44 with harness/kvm/iobus_order.c: a "
	  "bus device registered after a zero-length ioeventfd at its end address is "
	  "out of kvm_io_bus_cmp() order and the bus search misses it; not yet reported "
	  "upstream" },
	{ V_SINGLESTEP_LOST, "*",
	  "complete_emulated_mmio() resumes the guest after an MMIO write without "
	  "re-entering the emulator (its FIXME; spec 5.1), as after an OUT that exits "
	  "with KVM_EXIT_IO: no single-step #DB; seen on 6.18.44 (corpus t01, t03)" },
};

const char *violation_name(enum violation_kind kind)
{
	return kind < NR_VIOLATION_KINDS ? violation_names[kind] : "unknown";
}

int violation_from_name(const char *name)
{
	unsigned int i;

	for (i = 0; i < NR_VIOLATION_KINDS; i++)
		if (!strcmp(violation_names[i], name))
			return i;
	return -1;
}

static bool profile_listed(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p = list;

	if (!strcmp(list, "*"))
		return true;
	while ((p = strstr(p, name))) {
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || !p[n]))
			return true;
		p += n;
	}
	return false;
}

bool violation_is_known(enum violation_kind kind, const struct kvm_profile *p,
			const char **ref)
{
	unsigned int i;

	for (i = 0; i < sizeof(known_issues) / sizeof(known_issues[0]); i++) {
		if (known_issues[i].kind != kind || !profile_listed(known_issues[i].profiles, p->name))
			continue;
		if (ref)
			*ref = known_issues[i].ref;
		return true;
	}
	return false;
}

void violation_add(struct violation_list *l, const struct kvm_profile *p,
		   enum violation_kind kind, const char *fmt, ...)
{
	struct violation *v;
	va_list ap;

	if (l->nr == MAX_VIOLATIONS)
		return;
	v = &l->v[l->nr++];
	v->kind = kind;
	v->known = violation_is_known(kind, p, NULL);
	if (!v->known)
		l->nr_unknown++;
	v->detail[0] = 0;
	if (l->terse)
		return;
	va_start(ap, fmt);
	vsnprintf(v->detail, sizeof(v->detail), fmt, ap);
	va_end(ap);
}

bool violation_list_has(const struct violation_list *l, enum violation_kind kind)
{
	unsigned int i;

	for (i = 0; i < l->nr; i++)
		if (l->v[i].kind == kind)
			return true;
	return false;
}
