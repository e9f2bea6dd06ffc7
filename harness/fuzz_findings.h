/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A campaign that goes on after its findings (fragfuzz_kvm with
 * FRAGFUZZ_FINDINGS=DIR).  libFuzzer stops at the first crash; its fork
 * mode goes on, but starts a new process per stop and per job, and the
 * kernel target then makes its VMs again and reruns its seeds: the
 * 10-minute fork campaign of 2026-11-25 ran at 6,958 exec/s where a
 * single process runs 8,600.  Here a finding is filed by its class and
 * the input returns normally.
 *
 * The class (fuzz_finding_key()): violation kind, CPU mode, the
 * instruction's opcode with its 66/67/F2/F3/F0 prefixes and, for opcodes
 * whose ModRM reg field picks the instruction, /reg; for a fidelity
 * finding also the first field that differs ("rsp", "outcome", "exits").
 * The first input of a class is written as DIR/<key>.txt (text scenario,
 * the finding in its first comment lines, runnable with `fragfuzz run`)
 * and DIR/<key>.report (both results); later ones are only counted.
 * DIR/summary.txt lists the classes with their counts.
 */
#ifndef FRAGFUZZ_FUZZ_FINDINGS_H
#define FRAGFUZZ_FUZZ_FINDINGS_H

#include <stdio.h>

#include "scenario.h"
#include "violation.h"

#define FUZZ_FINDING_KEY	96
#define FUZZ_FINDING_CLASSES	512

struct fuzz_finding_class {
	char key[FUZZ_FINDING_KEY];
	unsigned long count;
};

struct fuzz_findings {
	char dir[256];
	unsigned long total;		/* findings filed */
	unsigned long unfiled;		/* of classes past FUZZ_FINDING_CLASSES */
	unsigned int nr;
	struct fuzz_finding_class cls[FUZZ_FINDING_CLASSES];
};

/* Create @dir if need be; 0, or -errno. */
int fuzz_findings_init(struct fuzz_findings *ff, const char *dir);

/* The class of finding @v on @s, as a file name (see above). */
void fuzz_finding_key(const struct scenario *s, const struct violation *v, char *key,
		      size_t size);

/*
 * Count a finding of class @key.  Returns an open file DIR/<key>.<ext>
 * for the first of its class (the caller writes it, closes it, and may
 * open more files with fuzz_findings_open()), else NULL.
 */
FILE *fuzz_findings_add(struct fuzz_findings *ff, const char *key);
FILE *fuzz_findings_open(const struct fuzz_findings *ff, const char *key, const char *ext);

/*
 * DIR/<key>.<sub>/<n>.txt (three digits), the directory made if need be:
 * the cases run before an order-dependent finding.  NULL on an error.
 */
FILE *fuzz_findings_open_nth(const struct fuzz_findings *ff, const char *key, const char *sub,
			     unsigned int n);

/* DIR/summary.txt, and one line on @out. */
void fuzz_findings_summary(const struct fuzz_findings *ff, FILE *out);

#endif
