// SPDX-License-Identifier: GPL-2.0-only
/*
 * Findings filed by class, for campaigns that go on (see fuzz_findings.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_findings.h"

int fuzz_findings_init(struct fuzz_findings *ff, const char *dir)
{
	memset(ff, 0, sizeof(*ff));
	if (strlen(dir) >= sizeof(ff->dir) - FUZZ_FINDING_KEY - 16)
		return -ENAMETOOLONG;
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	snprintf(ff->dir, sizeof(ff->dir), "%s", dir);
	return 0;
}

/* Opcodes whose ModRM reg field picks the instruction (groups 1-17). */
static bool opcode_is_group(u8 op, bool two_byte)
{
	if (two_byte)
		return op == 0x00 || op == 0x01 || op == 0x18 || op == 0x71 || op == 0x72 ||
		       op == 0x73 || op == 0xae || op == 0xba || op == 0xc7;
	return (op >= 0x80 && op <= 0x83) || op == 0x8f || op == 0xc0 || op == 0xc1 ||
	       op == 0xc6 || op == 0xc7 || (op >= 0xd0 && op <= 0xd3) || op == 0xf6 ||
	       op == 0xf7 || op == 0xfe || op == 0xff;
}

/* The leading word of a fidelity detail: "rsp: model ..." gives "rsp". */
static void detail_field(const char *detail, char *out, size_t size)
{
	size_t n = 0;

	while (n + 1 < size && ((detail[n] >= 'a' && detail[n] <= 'z') ||
				(detail[n] >= '0' && detail[n] <= '9') || detail[n] == '-')) {
		out[n] = detail[n];
		n++;
	}
	out[n] = 0;
}

void fuzz_finding_key(const struct scenario *s, const struct violation *v, char *key,
		      size_t size)
{
	static const u8 keep[] = { 0x66, 0x67, 0xf2, 0xf3, 0xf0 };
	unsigned int at = scenario_opcode_offset(s, NULL), i, k;
	char op[32] = "", field[20] = "";
	size_t n = 0;
	bool two;

	/* the kept prefixes, in a fixed order, then "." */
	for (k = 0; k < sizeof(keep); k++)
		for (i = 0; i < at; i++)
			if (s->insn[i] == keep[k]) {
				n += snprintf(op + n, sizeof(op) - n, "%02x", keep[k]);
				break;
			}
	if (n)
		n += snprintf(op + n, sizeof(op) - n, ".");
	if (at >= s->insn_len) {
		snprintf(op + n, sizeof(op) - n, "none");
	} else {
		two = s->insn[at] == 0x0f && at + 1 < s->insn_len;
		if (two && (s->insn[at + 1] == 0x38 || s->insn[at + 1] == 0x3a) &&
		    at + 2 < s->insn_len)
			n += snprintf(op + n, sizeof(op) - n, "0f%02x%02x", s->insn[at + 1],
				      s->insn[at + 2]);
		else if (two)
			n += snprintf(op + n, sizeof(op) - n, "0f%02x", s->insn[at + 1]);
		else
			n += snprintf(op + n, sizeof(op) - n, "%02x", s->insn[at]);
		i = at + 1 + two;
		if (opcode_is_group(s->insn[at + two], two) && i < s->insn_len)
			snprintf(op + n, sizeof(op) - n, "-r%u", (s->insn[i] >> 3) & 7);
	}
	if (v->kind == V_FIDELITY)
		detail_field(v->detail, field, sizeof(field));
	snprintf(key, size, "%s-%s-%s%s%s", violation_name(v->kind), scenario_mode_name(s->mode),
		 op, field[0] ? "-" : "", field);
}

FILE *fuzz_findings_open(const struct fuzz_findings *ff, const char *key, const char *ext)
{
	char path[sizeof(ff->dir) + FUZZ_FINDING_KEY + 16];

	snprintf(path, sizeof(path), "%s/%s.%s", ff->dir, key, ext);
	return fopen(path, "w");
}

FILE *fuzz_findings_open_nth(const struct fuzz_findings *ff, const char *key, const char *sub,
			     unsigned int n)
{
	char path[sizeof(ff->dir) + FUZZ_FINDING_KEY + 48];

	snprintf(path, sizeof(path), "%s/%s.%s", ff->dir, key, sub);
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return NULL;
	snprintf(path, sizeof(path), "%s/%s.%s/%03u.txt", ff->dir, key, sub, n);
	return fopen(path, "w");
}

FILE *fuzz_findings_add(struct fuzz_findings *ff, const char *key)
{
	unsigned int i;

	ff->total++;
	for (i = 0; i < ff->nr; i++)
		if (!strcmp(ff->cls[i].key, key)) {
			ff->cls[i].count++;
			return NULL;
		}
	if (ff->nr == FUZZ_FINDING_CLASSES) {
		ff->unfiled++;
		return NULL;
	}
	snprintf(ff->cls[ff->nr].key, FUZZ_FINDING_KEY, "%s", key);
	ff->cls[ff->nr++].count = 1;
	return fuzz_findings_open(ff, key, "txt");
}

void fuzz_findings_summary(const struct fuzz_findings *ff, FILE *out)
{
	FILE *f = fuzz_findings_open(ff, "summary", "txt");
	unsigned int i;

	if (f) {
		fprintf(f, "# findings: %lu in %u classes%s\n", ff->total, ff->nr,
			ff->unfiled ? " (and more classes, not filed)" : "");
		for (i = 0; i < ff->nr; i++)
			fprintf(f, "%8lu %s\n", ff->cls[i].count, ff->cls[i].key);
		fclose(f);
	}
	fprintf(out, "fragfuzz: findings: %lu in %u classes, %s/summary.txt\n", ff->total,
		ff->nr, ff->dir);
}
