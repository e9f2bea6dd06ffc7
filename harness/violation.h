/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Oracle violation kinds.  Each has a stable id (its name, used in crash
 * file names, JSON and the known-issues registry) and its own crash site in
 * the fuzz targets, so crash dedupe by top frames keeps them apart.
 */
#ifndef FRAGFUZZ_VIOLATION_H
#define FRAGFUZZ_VIOLATION_H

#include "profile.h"

enum violation_kind {
	V_UNSATISFIED_READ_TRACE,	/* unsatisfied-read != userspace pieces */
	V_COMPLETION_READ_TRACE,	/* completion read: missing, len or val */
	V_COMPLETION_READ_GPA,		/* completion read: gpa != access start */
	V_INKERNEL_READ_TRACE,		/* T1 != in-kernel handled chunks */
	V_WRITE_TRACE,			/* write != one per non-RAM piece */
	V_PHANTOM_TRACE,		/* event for an access that faulted */
	V_EXIT_CHUNKING,		/* exit len/page/fragment rules */
	V_EXIT_SEQUENCE,		/* exits != userspace bytes of the access */
	V_EXIT_WRITE_DATA,		/* write exit data != bytes written */
	V_READ_DATA,			/* value delivered != backing bytes */
	V_REPLAY_MISMATCH,		/* replay completed a different access */
	V_WRITE_DROPPED,		/* non-RAM bytes written never delivered */
	V_TRANSLATION,			/* GPA or fault differs from the layout */
	V_NONCANONICAL_ACCESS,		/* access ran past the canonical boundary */
	V_PENDING_MMIO,			/* MMIO exchange left pending at the end */
	V_KVM_WARN,			/* a kernel WARN site was hit */
	V_KVM_BUG,			/* VM bugged, BUG(), or KVM_RUN error */
	V_SINGLESTEP_LOST,		/* TF set, retired without the #DB trap */
	V_IOBUS_MISSED,			/* a registered bus device missed a write */
	V_FIDELITY,			/* model and kernel disagree */
	NR_VIOLATION_KINDS,
};

#define VIOLATION_DETAIL	160
#define MAX_VIOLATIONS		16

struct violation {
	enum violation_kind kind;
	bool known;
	char detail[VIOLATION_DETAIL];
};

struct violation_list {
	struct violation v[MAX_VIOLATIONS];
	unsigned int nr;
	unsigned int nr_unknown;
	bool terse;		/* kinds only, no detail text (fuzz hot path) */
};

const char *violation_name(enum violation_kind kind);
int violation_from_name(const char *name);
/* Known upstream behaviour for this profile?  Sets *ref to the reference. */
bool violation_is_known(enum violation_kind kind, const struct kvm_profile *p,
			const char **ref);
void violation_add(struct violation_list *l, const struct kvm_profile *p,
		   enum violation_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
bool violation_list_has(const struct violation_list *l, enum violation_kind kind);

#endif
