// SPDX-License-Identifier: GPL-2.0-only
/*
 * Scenario tests: defaults, the text grammar and its errors, the binary
 * decoder's normalisation, and round trips between the two forms (random
 * binaries from a fixed xorshift seed, and hand-written texts).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pagetable.h"
#include "profile.h"
#include "scenario.h"
#include "test.h"

#define ERRLEN	256

/* ---- helpers ---- */

/*
 * Field-by-field comparison.  Returns true if equal, else describes the
 * first difference in @why.
 */
static bool scn_equal(const struct scenario *a, const struct scenario *b,
		      char *why, size_t n)
{
	unsigned int i;

#define DIFF(field, fmt, ...)						\
	do {								\
		snprintf(why, n, field ": " fmt, ##__VA_ARGS__);	\
		return false;						\
	} while (0)

	if (a->profile != b->profile)
		DIFF("profile", "%d vs %d", a->profile, b->profile);
	if (a->mode != b->mode)
		DIFF("mode", "%u vs %u", a->mode, b->mode);
	if (a->cpl != b->cpl)
		DIFF("cpl", "%u vs %u", a->cpl, b->cpl);
	if (a->ctl != b->ctl)
		DIFF("ctl", "0x%x vs 0x%x", a->ctl, b->ctl);
	if (a->insn_len != b->insn_len)
		DIFF("insn_len", "%u vs %u", a->insn_len, b->insn_len);
	for (i = 0; i < SCN_MAX_INSN; i++)
		if (a->insn[i] != b->insn[i])
			DIFF("insn", "byte %u: 0x%x vs 0x%x", i, a->insn[i], b->insn[i]);
	if (a->regs_set != b->regs_set)
		DIFF("regs_set", "0x%x vs 0x%x", a->regs_set, b->regs_set);
	for (i = 0; i < SCN_MAX_REGS; i++)
		if (a->regs[i] != b->regs[i])
			DIFF("regs", "%u: 0x%llx vs 0x%llx", i,
			     (unsigned long long)a->regs[i],
			     (unsigned long long)b->regs[i]);
	if (a->segs_set != b->segs_set)
		DIFF("segs_set", "0x%x vs 0x%x", a->segs_set, b->segs_set);
	for (i = 0; i < SCN_NR_SEGS; i++) {
		if (a->segs[i].base != b->segs[i].base)
			DIFF("seg base", "%u: 0x%x vs 0x%x", i, a->segs[i].base,
			     b->segs[i].base);
		if (a->segs[i].limit != b->segs[i].limit)
			DIFF("seg limit", "%u: 0x%x vs 0x%x", i, a->segs[i].limit,
			     b->segs[i].limit);
	}
	if (a->nr_maps != b->nr_maps)
		DIFF("nr_maps", "%u vs %u", a->nr_maps, b->nr_maps);
	for (i = 0; i < SCN_MAX_MAPS; i++) {
		const struct scn_map *x = &a->maps[i], *y = &b->maps[i];

		if (x->gva != y->gva)
			DIFF("map gva", "%u: 0x%llx vs 0x%llx", i,
			     (unsigned long long)x->gva, (unsigned long long)y->gva);
		if (x->gpa != y->gpa)
			DIFF("map gpa", "%u: 0x%llx vs 0x%llx", i,
			     (unsigned long long)x->gpa, (unsigned long long)y->gpa);
		if (x->kind != y->kind)
			DIFF("map kind", "%u: %u vs %u", i, x->kind, y->kind);
		if (x->flags != y->flags)
			DIFF("map flags", "%u: 0x%x vs 0x%x", i, x->flags, y->flags);
		if (x->ev_offset != y->ev_offset)
			DIFF("map ev_offset", "%u: 0x%x vs 0x%x", i, x->ev_offset,
			     y->ev_offset);
		if (x->ev_len != y->ev_len)
			DIFF("map ev_len", "%u: %u vs %u", i, x->ev_len, y->ev_len);
	}
	if (a->mmio_data_len != b->mmio_data_len)
		DIFF("mmio_data_len", "%u vs %u", a->mmio_data_len, b->mmio_data_len);
	for (i = 0; i < SCN_MAX_MMIO_DATA; i++)
		if (a->mmio_data[i] != b->mmio_data[i])
			DIFF("mmio_data", "byte %u: 0x%x vs 0x%x", i,
			     a->mmio_data[i], b->mmio_data[i]);
#undef DIFF
	return true;
}

/* The text form of @s in a malloc'd string. */
static char *format_to_string(const struct scenario *s)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	scenario_format_text(s, f);
	fclose(f);
	return text;
}

/* A little-endian byte builder for hand-made binaries. */
struct bin {
	u8 b[512];
	size_t n;
};

static void put(struct bin *b, u64 v, unsigned int bytes)
{
	unsigned int i;

	for (i = 0; i < bytes; i++)
		b->b[b->n++] = v >> (8 * i);
}

static u64 xorshift64(u64 *state)
{
	u64 x = *state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *state = x;
}

/*
 * A decoded layout must be buildable: page tables as the harness builds
 * them (2-level for prot32-paging, 4-level for long64) accept every map.
 */
static int build_tables(const struct scenario *s, char *why, size_t n)
{
	static u8 pool[SCN_PT_POOL_PAGES][PAGE_SIZE];
	struct scn_map maps[SCN_MAX_MAPS];
	unsigned int i, nr = scenario_maps(s, maps);
	enum pt_format fmt = s->mode == SCN_MODE_LONG64 ? PT_4LEVEL : PT_2LEVEL;
	struct pt_builder b;
	int r;

	if (!scenario_paging(s))
		return 0;
	r = pt_init(&b, fmt, &pool[0][0], SCN_PT_POOL_GPA, SCN_PT_POOL_PAGES);
	for (i = 0; !r && i < nr; i++) {
		u64 flags = 0;

		if (maps[i].flags & SCN_MAP_WRITE)
			flags |= PT_WRITABLE;
		if (maps[i].flags & SCN_MAP_USER)
			flags |= PT_USER;
		if ((maps[i].flags & SCN_MAP_NX) && fmt == PT_4LEVEL)
			flags |= PT64_NX;
		r = pt_map(&b, maps[i].gva, maps[i].gpa, flags,
			   maps[i].flags & SCN_MAP_NOT_PRESENT);
		if (r)
			snprintf(why, n, "map %u (0x%llx -> 0x%llx): %d", i,
				 (unsigned long long)maps[i].gva,
				 (unsigned long long)maps[i].gpa, r);
	}
	return r;
}

/* ---- defaults ---- */

TEST(scenario_anchor_per_mode)
{
	TEST_ASSERT_EQ(scenario_anchor(SCN_MODE_REAL16), 0x8000, "real16 anchor");
	TEST_ASSERT_EQ(scenario_anchor(SCN_MODE_PROT16), 0x8000, "prot16 anchor");
	TEST_ASSERT_EQ(scenario_anchor(SCN_MODE_PROT32), 0x40000000, "prot32 anchor");
	TEST_ASSERT_EQ(scenario_anchor(SCN_MODE_PROT32_PAGING), 0x40000000,
		       "prot32-paging anchor");
	TEST_ASSERT_EQ(scenario_anchor(SCN_MODE_LONG64), 0x40000000, "long64 anchor");
}

TEST(scenario_init_defaults)
{
	struct scenario s;
	struct scn_segment seg;
	struct scn_map maps[SCN_MAX_MAPS];
	unsigned int i;

	memset(&s, 0xa5, sizeof(s));
	scenario_init(&s);
	TEST_ASSERT_EQ(s.profile, -1, "profile unset");
	TEST_ASSERT_EQ(s.mode, SCN_MODE_LONG64, "default mode");
	TEST_ASSERT_EQ(s.cpl, 0, "default cpl");
	TEST_ASSERT_EQ(s.ctl, SCN_CTL_CR0_WP | SCN_CTL_EFER_NXE | SCN_CTL_CR4_OSFXSR, "default ctl");
	TEST_ASSERT_EQ(s.insn_len, 0, "no insn");
	TEST_ASSERT_EQ(s.regs_set, 0, "no regs set");
	TEST_ASSERT_EQ(s.segs_set, 0, "no segs set");
	TEST_ASSERT_EQ(s.nr_maps, 0, "no maps");
	TEST_ASSERT_EQ(s.mmio_data_len, 0, "no mmio data");
	TEST_ASSERT(scenario_paging(&s), "long64 pages");

	TEST_ASSERT_EQ(scenario_reg(&s, 0), 0x40000ffe, "default rax");
	TEST_ASSERT_EQ(scenario_reg(&s, 1), 3, "default rcx");
	TEST_ASSERT_EQ(scenario_reg(&s, 2), 0x40000ff9, "default rdx");
	TEST_ASSERT_EQ(scenario_reg(&s, 3), 0x40000ffc, "default rbx");
	TEST_ASSERT_EQ(scenario_reg(&s, 4), 0x40001004, "default rsp");
	TEST_ASSERT_EQ(scenario_reg(&s, 5), 0x40000ff8, "default rbp");
	TEST_ASSERT_EQ(scenario_reg(&s, 6), 0x40000ffd, "default rsi");
	TEST_ASSERT_EQ(scenario_reg(&s, 7), 0x40001ffe, "default rdi");
	for (i = 8; i < 16; i++)
		TEST_ASSERT_EQ(scenario_reg(&s, i), 0x40000ff0 + i - 8, "default r8..r15");
	TEST_ASSERT_EQ(scenario_reg(&s, SCN_REG_RIP), SCN_CODE_GPA, "default rip (long64)");
	TEST_ASSERT_EQ(scenario_reg(&s, SCN_REG_RFLAGS), 0x2, "default rflags");

	seg = scenario_segment(&s, 1);
	TEST_ASSERT_EQ(seg.base, 0, "long64 cs base");
	TEST_ASSERT_EQ(seg.limit, 0xffffffff, "long64 cs limit");

	TEST_ASSERT_EQ(scenario_maps(&s, maps), 2, "default layout has two maps");
	TEST_ASSERT_EQ(maps[0].gva, 0x40000000, "default map 0 gva");
	TEST_ASSERT_EQ(maps[0].gpa, 0x1000, "default map 0 gpa");
	TEST_ASSERT_EQ(maps[1].gva, 0x40001000, "default map 1 gva");
	TEST_ASSERT_EQ(maps[1].gpa, 0x2000, "default map 1 gpa");
	for (i = 0; i < 2; i++) {
		TEST_ASSERT_EQ(maps[i].kind, SCN_KIND_MMIO, "default maps are mmio");
		TEST_ASSERT_EQ(maps[i].flags, SCN_MAP_WRITE, "default maps are writable");
	}
	TEST_ASSERT_EQ(s.nr_maps, 0, "scenario_maps leaves the stored struct alone");
}

TEST(scenario_defaults_16bit_and_explicit)
{
	struct scenario s;
	struct scn_segment seg;
	struct scn_map maps[SCN_MAX_MAPS];

	scenario_init(&s);
	s.mode = SCN_MODE_REAL16;
	TEST_ASSERT(!scenario_paging(&s), "real16 does not page");
	TEST_ASSERT_EQ(scenario_reg(&s, 0), 0x8ffe, "real16 default rax");
	TEST_ASSERT_EQ(scenario_reg(&s, 7), 0x9ffe, "real16 default rdi");
	TEST_ASSERT_EQ(scenario_reg(&s, SCN_REG_RIP), 0, "real16 default rip");
	seg = scenario_segment(&s, 1);
	TEST_ASSERT_EQ(seg.base, SCN_CODE_GPA, "real16 cs base");
	TEST_ASSERT_EQ(seg.limit, 0xffff, "real16 cs limit");
	seg = scenario_segment(&s, 3);
	TEST_ASSERT_EQ(seg.base, 0, "real16 ds base");
	TEST_ASSERT_EQ(seg.limit, 0xffff, "real16 ds limit");
	TEST_ASSERT_EQ(scenario_maps(&s, maps), 2, "default layout, paging off");
	TEST_ASSERT_EQ(maps[0].gpa, 0x8000, "identity frame at the anchor");
	TEST_ASSERT_EQ(maps[0].gva, 0x8000, "gva = gpa with paging off");
	TEST_ASSERT_EQ(maps[1].gpa, 0x9000, "identity frame after the anchor");

	s.mode = SCN_MODE_PROT32;
	TEST_ASSERT_EQ(scenario_maps(&s, maps), 2, "default layout, prot32");
	TEST_ASSERT_EQ(maps[1].gpa, 0x40001000, "prot32 identity frame");

	s.regs[7] = 0x1234;
	s.regs_set |= BIT(7);
	TEST_ASSERT_EQ(scenario_reg(&s, 7), 0x1234, "explicit rdi wins");
	s.segs[3] = (struct scn_segment){ .base = 0x100, .limit = 0x1ff };
	s.segs_set |= BIT(3);
	TEST_ASSERT_EQ(scenario_segment(&s, 3).base, 0x100, "explicit ds base");
	TEST_ASSERT_EQ(scenario_segment(&s, 3).limit, 0x1ff, "explicit ds limit");
	s.mode = SCN_MODE_PROT32_PAGING;
	TEST_ASSERT(scenario_paging(&s), "prot32-paging pages");
}

TEST(scenario_names)
{
	TEST_ASSERT(!strcmp(scenario_mode_name(SCN_MODE_PROT32_PAGING), "prot32-paging"),
		    "mode name");
	TEST_ASSERT(!strcmp(scenario_mode_name(SCN_MODE_LONG64), "long64"), "mode name");
	TEST_ASSERT(!strcmp(scenario_kind_name(SCN_KIND_IOEVENTFD), "ioeventfd"),
		    "kind name");
	TEST_ASSERT(!strcmp(scenario_kind_name(SCN_KIND_LAPIC), "lapic"), "kind name");
	TEST_ASSERT(scenario_mode_name(SCN_NR_MODES) != NULL, "out-of-range mode name");
	TEST_ASSERT(scenario_kind_name(200) != NULL, "out-of-range kind name");
}

/* ---- text form ---- */

static const char issue_example[] =
	"# E1 on 6.18.24: a 4-byte read across an MMIO/RAM boundary\n"
	"kernel 6.18.24\n"
	"mmu shadow\n"
	"mode long64\n"
	"cpl 0\n"
	"insn 8b 07          # mov eax, [rdi]\n"
	"reg rdi 0x40000ffe\n"
	"\n"
	"map 0x40000000 0xc0001000 mmio\n"
	"map 0x40001000 0x10007000 ram\n"
	"mmio-data 11 22 33 44\n";

TEST(scenario_text_issue_example)
{
	char err[ERRLEN] = "";
	struct scenario s;
	int r = scenario_parse_text(&s, issue_example, err, sizeof(err));

	TEST_ASSERT(r == 0, "parse failed: %s", err);
	TEST_ASSERT(s.profile >= 0, "kernel profile set");
	TEST_ASSERT(!strcmp(kvm_profile_at(s.profile)->name, "6.18.24"), "profile is 6.18.24");
	TEST_ASSERT_EQ(s.ctl & SCN_CTL_TDP, 0, "mmu shadow clears TDP");
	TEST_ASSERT_EQ(s.mode, SCN_MODE_LONG64, "mode");
	TEST_ASSERT_EQ(s.cpl, 0, "cpl");
	TEST_ASSERT_EQ(s.insn_len, 2, "insn length");
	TEST_ASSERT_EQ(s.insn[0], 0x8b, "insn byte 0");
	TEST_ASSERT_EQ(s.insn[1], 0x07, "insn byte 1");
	TEST_ASSERT_EQ(s.regs_set, BIT(7), "only rdi set");
	TEST_ASSERT_EQ(s.regs[7], 0x40000ffe, "rdi");
	TEST_ASSERT_EQ(scenario_reg(&s, 6), 0x40000ffd, "rsi keeps its default");
	TEST_ASSERT_EQ(s.nr_maps, 2, "two maps");
	TEST_ASSERT_EQ(s.maps[0].gva, 0x40000000, "map 0 gva");
	TEST_ASSERT_EQ(s.maps[0].gpa, 0xc0001000, "map 0 gpa");
	TEST_ASSERT_EQ(s.maps[0].kind, SCN_KIND_MMIO, "map 0 kind");
	TEST_ASSERT_EQ(s.maps[0].flags, SCN_MAP_WRITE, "map 0 writable by default");
	TEST_ASSERT_EQ(s.maps[1].gva, 0x40001000, "map 1 gva");
	TEST_ASSERT_EQ(s.maps[1].gpa, 0x10007000, "map 1 gpa");
	TEST_ASSERT_EQ(s.maps[1].kind, SCN_KIND_RAM, "map 1 kind");
	TEST_ASSERT_EQ(s.mmio_data_len, 4, "mmio-data length");
	TEST_ASSERT_EQ(s.mmio_data[0], 0x11, "mmio-data byte 0");
	TEST_ASSERT_EQ(s.mmio_data[3], 0x44, "mmio-data byte 3");
}

TEST(scenario_text_all_directives)
{
	static const char text[] =
		"kernel 7.1\n"
		"mmu tdp\n"
		"irqchip off\n"
		"split-lock on\n"
		"mode prot32-paging\n"
		"cpl 3\n"
		"cr0.wp 0\n"
		"efer.nxe 0\n"
		"cr4.osfxsr 1\n"
		"insn f0 0f b1 0f\n"
		"reg rflags 0x202\n"
		"reg r15 12345\n"
		"reg rip 0x600000\n"
		"seg fs 0x1000 0xfffff\n"
		"map 0x40000000 0x3000 ioeventfd ro user nx np ev=0x10:4\n"
		"map 0x40001000 0x3000 ioeventfd ev=16:4\n"
		"map 0x40002000 0xfec00000 ioapic\n"
		"map 0x40003000 0xfee00000 lapic\n"
		"map 0x40004000 0x4000 coalesced\n"
		"map 0x40005000 0x5000 rom\n"
		"mmio-data 01 02\n"
		"mmio-data 3 04\n";
	char err[ERRLEN] = "";
	struct scenario s;
	int r = scenario_parse_text(&s, text, err, sizeof(err));

	TEST_ASSERT(r == 0, "parse failed: %s", err);
	TEST_ASSERT(!strcmp(kvm_profile_at(s.profile)->name, "7.1"), "profile is 7.1");
	TEST_ASSERT_EQ(s.ctl, SCN_CTL_TDP | SCN_CTL_NO_IRQCHIP | SCN_CTL_SPLIT_LOCK |
		       SCN_CTL_CR4_OSFXSR, "ctl bits");
	TEST_ASSERT_EQ(s.mode, SCN_MODE_PROT32_PAGING, "mode");
	TEST_ASSERT_EQ(s.cpl, 3, "cpl");
	TEST_ASSERT_EQ(s.insn_len, 4, "insn length");
	TEST_ASSERT_EQ(s.regs[SCN_REG_RFLAGS], 0x202, "rflags");
	TEST_ASSERT_EQ(s.regs[15], 12345, "r15 in decimal");
	TEST_ASSERT_EQ(s.regs_set, BIT(15) | BIT(SCN_REG_RIP) | BIT(SCN_REG_RFLAGS),
		       "regs_set");
	TEST_ASSERT_EQ(s.segs_set, BIT(4), "fs set");
	TEST_ASSERT_EQ(s.segs[4].base, 0x1000, "fs base");
	TEST_ASSERT_EQ(s.segs[4].limit, 0xfffff, "fs limit");
	TEST_ASSERT_EQ(s.nr_maps, 6, "six maps");
	TEST_ASSERT_EQ(s.maps[0].flags, SCN_MAP_USER | SCN_MAP_NX | SCN_MAP_NOT_PRESENT,
		       "ro user nx np");
	TEST_ASSERT_EQ(s.maps[0].ev_offset, 0x10, "ev offset");
	TEST_ASSERT_EQ(s.maps[0].ev_len, 4, "ev len");
	TEST_ASSERT_EQ(s.maps[2].kind, SCN_KIND_IOAPIC, "ioapic kind");
	TEST_ASSERT_EQ(s.maps[3].kind, SCN_KIND_LAPIC, "lapic kind");
	TEST_ASSERT_EQ(s.maps[4].kind, SCN_KIND_COALESCED, "coalesced kind");
	TEST_ASSERT_EQ(s.maps[5].kind, SCN_KIND_ROM, "rom kind");
	TEST_ASSERT_EQ(s.mmio_data_len, 4, "mmio-data lines append");
	TEST_ASSERT_EQ(s.mmio_data[2], 0x03, "one-digit hex byte");
}

struct text_error_case {
	const char *name;
	const char *text;
	unsigned int line;
	const char *needle;	/* expected in the message after "line N: " */
};

#define MAP9 \
	"map 0x40000000 0x1000 ram\nmap 0x40001000 0x2000 ram\n"	\
	"map 0x40002000 0x3000 ram\nmap 0x40003000 0x4000 ram\n"	\
	"map 0x40004000 0x5000 ram\nmap 0x40005000 0x6000 ram\n"	\
	"map 0x40006000 0x7000 ram\nmap 0x40007000 0x8000 ram\n"	\
	"map 0x40008000 0x9000 ram\n"
#define DATA16	"mmio-data 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f\n"
#define DATA256	DATA16 DATA16 DATA16 DATA16 DATA16 DATA16 DATA16 DATA16 \
		DATA16 DATA16 DATA16 DATA16 DATA16 DATA16 DATA16 DATA16

static const struct text_error_case text_error_cases[] = {
	{ "unknown_directive", "mode long64\nfrobnicate 1\n", 2, "unknown directive" },
	{ "unknown_directive_after_comment", "# c\nmode long64 # c\n\nbogus\n", 4,
	  "unknown directive" },
	{ "unknown_mmu", "mmu nested\n", 1, "unknown mmu" },
	{ "unknown_irqchip", "irqchip maybe\n", 1, "unknown irqchip" },
	{ "unknown_split_lock", "split-lock 1\n", 1, "unknown split-lock" },
	{ "unknown_mode", "mode vm86\n", 1, "unknown mode" },
	{ "unknown_profile", "kernel 2.6.32\n", 1, "unknown kernel profile" },
	{ "unknown_register", "reg eax 1\n", 1, "unknown register" },
	{ "unknown_segment", "seg xs 0 0\n", 1, "unknown segment" },
	{ "unknown_kind", "map 0x40000000 0x1000 flash\n", 1, "unknown map kind" },
	{ "unknown_map_option", "map 0x40000000 0x1000 mmio rw\n", 1,
	  "unknown map option" },
	{ "malformed_hex", "reg rax 0x12g\n", 1, "malformed number" },
	{ "malformed_decimal", "reg rax 12abc\n", 1, "malformed number" },
	{ "malformed_empty_hex", "reg rax 0x\n", 1, "malformed number" },
	{ "malformed_negative", "reg rax -1\n", 1, "malformed number" },
	{ "overflowing_number", "reg rax 0x10000000000000000\n", 1, "malformed number" },
	{ "malformed_insn_byte", "insn 8b 0g\n", 1, "malformed hex byte" },
	{ "three_digit_insn_byte", "insn 8b 007\n", 1, "malformed hex byte" },
	{ "malformed_mmio_byte", "mmio-data zz\n", 1, "malformed hex byte" },
	{ "malformed_ev", "map 0x40000000 0x1000 ioeventfd ev=4\n", 1, "malformed" },
	{ "missing_value", "reg rax\n", 1, "missing" },
	{ "missing_kind", "map 0x40000000 0x1000\n", 1, "missing" },
	{ "trailing_token", "mode long64 real16\n", 1, "unexpected" },
	{ "empty_insn", "insn\n", 1, "at least one" },
	{ "insn_twice", "insn 90\ninsn 90\n", 2, "already" },
	{ "cpl_1", "cpl 1\n", 1, "cpl must be 0 or 3" },
	{ "cpl_big", "cpl 4\n", 1, "out of range" },
	{ "cr0_wp_2", "cr0.wp 2\n", 1, "out of range" },
	{ "efer_nxe_2", "efer.nxe 2\n", 1, "out of range" },
	{ "cr4_osfxsr_2", "cr4.osfxsr 0x10\n", 1, "out of range" },
	{ "seg_base_range", "seg cs 0x100000000 0\n", 1, "out of range" },
	{ "seg_limit_range", "seg cs 0 0x100000000\n", 1, "out of range" },
	{ "gpa_range", "map 0x40000000 0x100000000000 ram\n", 1, "out of range" },
	{ "ev_offset_range", "map 0x40000000 0x1000 ioeventfd ev=0x1000:4\n", 1,
	  "out of range" },
	{ "ev_len_range", "map 0x40000000 0x1000 ioeventfd ev=0:3\n", 1, "out of range" },
	{ "insn_16_bytes", "insn 0 1 2 3 4 5 6 7 8 9 a b c d e f\n", 1,
	  "more than 15 insn bytes" },
	{ "nine_maps", MAP9, 9, "more than 8 maps" },
	{ "mmio_data_257", DATA256 "mmio-data ff\n", 17, "more than 256" },
	{ "unaligned_gva", "map 0x40000ffe 0x1000 ram\n", 1, "not page aligned" },
	{ "unaligned_gpa", "map 0x40000000 0x1008 ram\n", 1, "not page aligned" },
	{ "reserved_frame_start", "map 0x40000000 0x600000 ram\n", 1, "reserved" },
	{ "reserved_frame_end", "map 0x40000000 0x9ff000 mmio\n", 1, "reserved" },
	{ "ioapic_wrong_gpa", "map 0x40000000 0x1000 ioapic\n", 1, "must have gpa" },
	{ "lapic_wrong_gpa", "map 0x40000000 0xfec00000 lapic\n", 1, "must have gpa" },
	{ "paging_off_gva_ne_gpa", "mode prot32\nmap 0x40000000 0x1000 mmio\n", 2,
	  "must equal gpa" },
	{ "paging_off_mode_after_map", "map 0x40000000 0x1000 mmio\nmode real16\n", 1,
	  "must equal gpa" },
	{ "same_gva_twice",
	  "map 0x40000000 0x1000 ram\n# x\nmap 0x40000000 0x2000 ram\n", 3,
	  "already mapped on line 1" },
	{ "same_gpa_two_kinds",
	  "map 0x40000000 0x1000 ram\nmap 0x40001000 0x1000 mmio\n", 2, "line 1" },
	{ "same_gpa_two_ioeventfds",
	  "map 0x40000000 0x1000 ioeventfd ev=0:4\n"
	  "map 0x40001000 0x1000 ioeventfd ev=8:4\n", 2, "different ioeventfd" },
	{ "cpl3_real16", "cpl 3\nmode real16\n", 1, "real16" },
	{ "noncanonical_gva", "map 0x0000800000000000 0x1000 ram\n", 1, "canonical" },
	{ "gva_over_32bit_paging", "mode prot32-paging\nmap 0x140000000 0x1000 ram\n", 2,
	  "32 bits" },
	{ "gpa_over_32bit_paging", "mode prot32-paging\nmap 0x40000000 0x100000000 ram\n", 2,
	  "32 bits" },
	{ "ev_on_mmio", "map 0x40000000 0x1000 mmio ev=0:4\n", 1, "only ioeventfd" },
};

static void run_text_error_case(struct test_ctx *t, const void *arg)
{
	const struct text_error_case *c = arg;
	char err[ERRLEN] = "", prefix[32];
	struct scenario s;
	int r = scenario_parse_text(&s, c->text, err, sizeof(err));

	TEST_ASSERT_EQ(r, -EINVAL, "parse_text return value");
	snprintf(prefix, sizeof(prefix), "line %u: ", c->line);
	TEST_ASSERT(!strncmp(err, prefix, strlen(prefix)),
		    "message '%s' should start with '%s'", err, prefix);
	TEST_ASSERT(strstr(err, c->needle), "message '%s' should mention '%s'",
		    err, c->needle);
}

__attribute__((constructor)) static void register_text_error_cases(void)
{
	static char names[ARRAY_SIZE(text_error_cases)][80];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(text_error_cases); i++) {
		snprintf(names[i], sizeof(names[i]), "scenario_text_error_%s",
			 text_error_cases[i].name);
		test_register(names[i], run_text_error_case, &text_error_cases[i]);
	}
}

/* Texts that must parse, and survive format/parse and encode/decode. */
static const char *const roundtrip_texts[] = {
	issue_example,
	"",
	"# only a comment\n",
	"mode real16\ninsn 8b 05\nseg cs 0x600000 0xffff\nseg ds 0 0xffff\n"
	"map 0x8000 0x8000 mmio\nmap 0x9000 0x9000 ram ro\nmmio-data aa bb\n",
	"mode prot16\ncpl 3\nreg rsp 0xfffe\nmap 0x0 0x0 ram\n",
	"mode prot32\nmap 0x40000000 0x40000000 ioeventfd ev=0xffc:8\n"
	"map 0xfec00000 0xfec00000 ioapic\nmap 0xfee00000 0xfee00000 lapic\n",
	"mode prot32-paging\nkernel 3.13\nmap 0xfffff000 0xfffff000 coalesced user\n"
	"map 0x40000000 0xfffff000 coalesced nx\nreg rip 0xffffffffffffffff\n",
	"mode prot32\nmap 0xfffffff000 0xfffffff000 ram\n",
	"mode prot16\nmap 0x1000 0x1000 ioeventfd ev=0xfff:1\n"
	"map 0xfffffff000 0xfffffff000 ram\n",
	"kernel 4.14\nmap 0xffff800000000000 0x1000 mmio np\n"
	"map 0x7ffffffff000 0x2000 rom ro\nmap 0x3ff80000 0xffff000 ram\n"
	"map 0x40080000 0x10000000 ram\nreg rax 0x3fff8000\nreg rbx 0x40007fff\n"
	"reg rcx 0x40008000\nreg rdx 0x3fff7fff\n",
	"kernel 6.2\nmmu tdp\nirqchip off\nsplit-lock on\ncr0.wp 0\nefer.nxe 0\n"
	"cr4.osfxsr 1\ninsn 0f 11 07 90 90 90 90 90 90 90 90 90 90 90 90\n"
	DATA16 DATA16 "mmio-data 1\n",
	DATA256,
	"kernel 6.18\nmap 0x40000000 0x3000 ioeventfd ev=4:2\n"
	"map 0x40001000 0x3000 ioeventfd ev=4:2 ro\n"
	"map 0x40002000 0x0 ioeventfd\nmap 0x40003000 0x5000 ioeventfd ev=0:0\n",
};

TEST(scenario_text_roundtrip)
{
	char err[ERRLEN] = "", why[ERRLEN];
	struct scenario s1, s2, s3;
	u8 bin[2048];
	unsigned int i;
	int r, n;

	for (i = 0; i < ARRAY_SIZE(roundtrip_texts); i++) {
		char *text;

		r = scenario_parse_text(&s1, roundtrip_texts[i], err, sizeof(err));
		TEST_ASSERT(r == 0, "text %u does not parse: %s", i, err);

		text = format_to_string(&s1);
		TEST_ASSERT(text, "format text %u", i);
		r = scenario_parse_text(&s2, text, err, sizeof(err));
		TEST_ASSERT(r == 0, "formatted text %u does not parse: %s\n%s", i, err, text);
		TEST_ASSERT(scn_equal(&s1, &s2, why, sizeof(why)),
			    "text %u: parse(format(s)) differs: %s\n%s", i, why, text);
		TEST_ASSERT(scenario_is_text((const u8 *)text, strlen(text)),
			    "formatted text %u is recognised as text", i);
		free(text);

		n = scenario_encode(&s1, bin, sizeof(bin));
		TEST_ASSERT(n > 0, "encode text %u", i);
		r = scenario_decode(&s3, bin, n, err, sizeof(err));
		TEST_ASSERT(r == 0, "decode of encoded text %u: %s", i, err);
		TEST_ASSERT(scn_equal(&s1, &s3, why, sizeof(why)),
			    "text %u: decode(encode(s)) differs: %s", i, why);
	}
}

TEST(scenario_text_error_keeps_valid_scenario)
{
	char err[ERRLEN] = "", why[ERRLEN];
	struct scenario s, init;

	TEST_ASSERT_EQ(scenario_parse_text(&s, "mode real16\ncpl 3\n", err, sizeof(err)),
		       -EINVAL, "cpl 3 in real16");
	scenario_init(&init);
	TEST_ASSERT(scn_equal(&s, &init, why, sizeof(why)),
		    "a failed parse leaves the defaults: %s", why);
	TEST_ASSERT_EQ(scenario_parse_text(&s, "bogus\n", NULL, 0), -EINVAL,
		       "parse without an error buffer");
}

struct is_text_case {
	const char *data;
	size_t size;		/* 0: strlen */
	bool text;
};

static const struct is_text_case is_text_cases[] = {
	{ "# a comment\n", 0, true },
	{ "\n\n  kernel 6.2\n", 0, true },
	{ "map 0x1000 0x1000 ram", 0, true },
	{ "mode#comment\n", 0, true },
	{ "mmio-data 11\r\n", 0, true },
	{ "", 0, false },
	{ "   \n\t", 0, false },
	{ "hello world\n", 0, false },
	{ "kernelx 6.2\n", 0, false },
	{ "fz\001\001\004", 5, false },
	{ "mode long64\0", 12, false },
	{ "mode long64\n\x80", 0, false },
};

TEST(scenario_is_text_detection)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(is_text_cases); i++) {
		const struct is_text_case *c = &is_text_cases[i];
		size_t size = c->size ? c->size : strlen(c->data);

		TEST_ASSERT(scenario_is_text((const u8 *)c->data, size) == c->text,
			    "case %u ('%.20s') should%s be text", i, c->data,
			    c->text ? "" : " not");
	}
}

/* ---- binary form ---- */

TEST(scenario_decode_empty_is_default)
{
	char err[ERRLEN] = "", why[ERRLEN];
	struct scenario s, init;

	scenario_init(&init);
	TEST_ASSERT_EQ(scenario_decode(&s, NULL, 0, err, sizeof(err)), 0, "decode of nothing");
	TEST_ASSERT(scn_equal(&s, &init, why, sizeof(why)), "empty input: %s", why);
	TEST_ASSERT_EQ(scenario_decode(&s, (const u8[]){ 'f', 'z', SCN_VERSION }, 3,
				       err, sizeof(err)), 0,
		       "decode of a bare header");
	TEST_ASSERT(scn_equal(&s, &init, why, sizeof(why)), "bare header: %s", why);
}

TEST(scenario_decode_unknown_version)
{
	static const u8 versions[] = { 0, 1, 3, 0xff };
	char err[ERRLEN], want[ERRLEN];
	struct scenario s;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(versions); i++) {
		u8 in[] = { 'f', 'z', versions[i], 1, 4, 0 };

		err[0] = '\0';
		TEST_ASSERT_EQ(scenario_decode(&s, in, sizeof(in), err, sizeof(err)),
			       -EINVAL, "decode with an unknown version");
		snprintf(want, sizeof(want),
			 "unsupported scenario version %u (this build reads 2)", versions[i]);
		TEST_ASSERT(!strcmp(err, want), "message '%s', wanted '%s'", err, want);
	}
}

/* A scenario using every field, relative and raw forms. */
static void rich_scenario(struct scenario *s)
{
	char err[ERRLEN];

	scenario_parse_text(s,
			    "kernel 6.18.24\nmode long64\ncpl 3\nmmu tdp\n"
			    "insn 66 0f 6f 07\nreg rdi 0x40000ffe\nreg r9 0x123456789\n"
			    "seg gs 0x1000 0x2000\n"
			    "map 0x40000000 0xc0001000 mmio\n"
			    "map 0x40001000 0x7000 ioeventfd ev=0x20:8\n"
			    "map 0xffff800000000000 0xfec00000 ioapic ro\n"
			    "mmio-data 11 22 33 44 55 66 77 88\n", err, sizeof(err));
}

TEST(scenario_decode_truncated_prefixes)
{
	char err[ERRLEN] = "", why[ERRLEN];
	struct scenario s, p1, p2;
	u8 bin[1024], again[1024];
	int n, m, len, r;

	rich_scenario(&s);
	TEST_ASSERT_EQ(s.nr_maps, 3, "rich scenario parsed");
	n = scenario_encode(&s, bin, sizeof(bin));
	TEST_ASSERT(n > 3, "encode rich scenario (%d)", n);
	for (len = 0; len <= n; len++) {
		r = scenario_decode(&p1, bin, len, err, sizeof(err));
		TEST_ASSERT(r == 0, "prefix of %d bytes: %s", len, err);
		/* without the header too: a headerless body */
		if (len >= 3) {
			r = scenario_decode(&p2, bin + 3, len - 3, err, sizeof(err));
			TEST_ASSERT(r == 0, "headerless prefix of %d bytes: %s", len - 3, err);
			TEST_ASSERT(scn_equal(&p1, &p2, why, sizeof(why)),
				    "header and headerless prefix %d differ: %s", len, why);
		}
		m = scenario_encode(&p1, again, sizeof(again));
		TEST_ASSERT(m > 0, "re-encode prefix %d", len);
		r = scenario_decode(&p2, again, m, err, sizeof(err));
		TEST_ASSERT(r == 0, "re-decode prefix %d: %s", len, err);
		TEST_ASSERT(scn_equal(&p1, &p2, why, sizeof(why)),
			    "prefix %d does not round-trip: %s", len, why);
	}
	TEST_ASSERT(scn_equal(&p1, &s, why, sizeof(why)),
		    "the whole encoding decodes to the scenario: %s", why);
}

TEST(scenario_encode_no_space)
{
	struct scenario s;
	u8 bin[1024];
	int n;

	rich_scenario(&s);
	n = scenario_encode(&s, bin, sizeof(bin));
	TEST_ASSERT(n > 0, "encode (%d)", n);
	TEST_ASSERT_EQ(scenario_encode(&s, bin, n - 1), -ENOSPC, "one byte short");
	TEST_ASSERT_EQ(scenario_encode(&s, NULL, 0), -ENOSPC, "no buffer");
	TEST_ASSERT_EQ(scenario_encode(&s, bin, n), n, "exact size");
	TEST_ASSERT(bin[0] == 'f' && bin[1] == 'z' && bin[2] == SCN_VERSION,
		    "encode writes the header");
}

/* map form byte: kind code, placement, flags code (see scenario.c) */
#define MK_RAM		0
#define MK_ROM		1
#define MK_MMIO		2
#define MK_IOAPIC	3
#define MK_IOEVENTFD	4
#define MK_MMIO2	7
#define MP_NEAR		(0 << 3)
#define MP_NEAR5	(5 << 3)
#define MP_REL		(6 << 3)
#define MP_RAW		(7 << 3)
#define MF_W		(0 << 6)
#define MF_W2		(1 << 6)
#define MF_RO		(2 << 6)
#define MF_BYTE		(3 << 6)
/* register id byte: form in bits 5-7 */
#define RF_NEAR		(0 << 5)
#define RF_NEAR5	(5 << 5)
#define RF_REL		(6 << 5)
#define RF_RAW		(7 << 5)

TEST(scenario_decode_fields_and_normalisation)
{
	char err[ERRLEN] = "";
	struct scenario s;
	struct bin b = { .n = 0 };
	int r;

	put(&b, 5, 1);			/* profile 4: "6.18.24" */
	put(&b, 4 + SCN_NR_MODES, 1);	/* long64 (modulo) */
	put(&b, 0x81 | SCN_CTL_TDP << 1, 1);	/* bits 0 and 7: cpl 3; tdp */
	put(&b, 2 + 16, 1);		/* literal insn_len 2 (modulo 16) */
	put(&b, 0x078b, 2);
	put(&b, 8 + 9, 1);		/* eight maps (modulo 9) */
	/* ioapic, writable, raw: gpa forced to 0xfec00000 */
	put(&b, MK_IOAPIC | MP_RAW | MF_W, 1);
	put(&b, 0x40000123, 8);		/* gva, offset masked */
	put(&b, 0x1234000, 8);
	/* read-only ram in the reserved range: dropped */
	put(&b, MK_RAM | MP_RAW | MF_RO, 1);
	put(&b, 0x40001000, 8);
	put(&b, 0x600000, 8);
	/* same gva as the first: dropped */
	put(&b, MK_MMIO2 | MP_RAW | MF_W, 1);
	put(&b, 0x40000000, 8);
	put(&b, 0x3000, 8);
	/* non-canonical: dropped */
	put(&b, MK_MMIO | MP_RAW | MF_W, 1);
	put(&b, 0x0000800000000000ULL, 8);
	put(&b, 0x3000, 8);
	/* ram on the ioapic frame: becomes ioapic */
	put(&b, MK_RAM | MP_RAW | MF_W2, 1);
	put(&b, 0x40002000, 8);
	put(&b, 0xfec00000, 8);
	/*
	 * relative ioeventfd with a flags byte (nx, high bits ignored):
	 * page -1, frame 0x10, offset & 0xfff, len code 7 % 5
	 */
	put(&b, MK_IOEVENTFD | MP_REL | MF_BYTE, 1);
	put(&b, 0xf0 | SCN_MAP_NX, 1);
	put(&b, 0xff, 1);
	put(&b, 0x10, 2);
	put(&b, 0x1abc, 2);
	put(&b, 7, 1);
	/* near mmio: page 3 - 2, frame 1 + 4 */
	put(&b, MK_MMIO | MP_NEAR | MF_W, 1);
	put(&b, 3 | 4 << 3, 1);
	/* near read-only rom (placement 5 is near too): page -2, frame 32 */
	put(&b, MK_ROM | MP_NEAR5 | MF_RO, 1);
	put(&b, 0xf8, 1);
	put(&b, 3 + 19, 1);		/* three registers (modulo 19) */
	put(&b, 7 | RF_REL, 1);		/* rdi, relative 0x8ffe: anchor + 0xffe */
	put(&b, 0x8ffe, 2);
	put(&b, 18 | RF_RAW, 1);	/* 18 % 18: rax, raw */
	put(&b, 0x1122334455667788ULL, 8);
	put(&b, 4 | RF_NEAR5, 1);	/* rsp, near: page 3 - 2, offset 0xff0 + 4 */
	put(&b, 3 << 5 | 4, 1);
	put(&b, 1 + 7, 1);		/* one segment (modulo 7) */
	put(&b, 7, 1);			/* id 7 % 6: cs */
	put(&b, 0x1000, 4);
	put(&b, 0xfff, 4);
	put(&b, 3, 2);			/* mmio_data_len 3, only 2 present */
	put(&b, 0xbbaa, 2);

	r = scenario_decode(&s, b.b, b.n, err, sizeof(err));
	TEST_ASSERT(r == 0, "decode: %s", err);
	TEST_ASSERT(!strcmp(kvm_profile_at(s.profile)->name, "6.18.24"), "profile byte 5");
	TEST_ASSERT_EQ(s.mode, SCN_MODE_LONG64, "mode modulo");
	TEST_ASSERT_EQ(s.cpl, 3, "cpl 3 allowed in long64");
	TEST_ASSERT_EQ(s.ctl, SCN_CTL_TDP, "ctl from bits 1-6");
	TEST_ASSERT_EQ(s.insn_len, 2, "insn_len modulo 16");
	TEST_ASSERT_EQ(s.insn[0], 0x8b, "insn byte 0");
	TEST_ASSERT_EQ(s.nr_maps, 5, "three maps dropped");
	TEST_ASSERT_EQ(s.maps[0].gva, 0x40000000, "raw gva page aligned");
	TEST_ASSERT_EQ(s.maps[0].gpa, 0xfec00000, "ioapic gpa forced");
	TEST_ASSERT_EQ(s.maps[0].kind, SCN_KIND_IOAPIC, "ioapic kind");
	TEST_ASSERT_EQ(s.maps[0].flags, SCN_MAP_WRITE, "flags code 0: writable");
	TEST_ASSERT_EQ(s.maps[1].gva, 0x40002000, "same-frame map kept");
	TEST_ASSERT_EQ(s.maps[1].kind, SCN_KIND_IOAPIC, "same frame takes the earlier kind");
	TEST_ASSERT_EQ(s.maps[1].flags, SCN_MAP_WRITE, "flags code 1: writable");
	TEST_ASSERT_EQ(s.maps[2].gva, 0x3ffff000, "relative gva: anchor - 1 page");
	TEST_ASSERT_EQ(s.maps[2].gpa, 0x10000, "relative gpa: frame 0x10");
	TEST_ASSERT_EQ(s.maps[2].kind, SCN_KIND_IOEVENTFD, "ioeventfd kind");
	TEST_ASSERT_EQ(s.maps[2].flags, SCN_MAP_NX, "flags byte");
	TEST_ASSERT_EQ(s.maps[2].ev_offset, 0xabc, "ev offset masked");
	TEST_ASSERT_EQ(s.maps[2].ev_len, 2, "ev len code 7 % 5 = 2");
	TEST_ASSERT_EQ(s.maps[3].gva, 0x40001000, "near gva: anchor + 1 page");
	TEST_ASSERT_EQ(s.maps[3].gpa, 0x5000, "near gpa: frame 5");
	TEST_ASSERT_EQ(s.maps[3].kind, SCN_KIND_MMIO, "mmio kind");
	TEST_ASSERT_EQ(s.maps[4].gva, 0x3fffe000, "near gva: anchor - 2 pages");
	TEST_ASSERT_EQ(s.maps[4].gpa, 0x20000, "near gpa: frame 32");
	TEST_ASSERT_EQ(s.maps[4].kind, SCN_KIND_ROM, "rom kind");
	TEST_ASSERT_EQ(s.maps[4].flags, 0, "flags code 2: read-only");
	TEST_ASSERT_EQ(s.regs_set, BIT(0) | BIT(4) | BIT(7), "rax, rsp and rdi set");
	TEST_ASSERT_EQ(s.regs[7], 0x40000ffe, "relative rdi");
	TEST_ASSERT_EQ(s.regs[0], 0x1122334455667788ULL, "raw rax");
	TEST_ASSERT_EQ(s.regs[4], 0x40001ff4, "near rsp");
	TEST_ASSERT_EQ(s.segs_set, BIT(1), "cs set");
	TEST_ASSERT_EQ(s.segs[1].base, 0x1000, "cs base");
	TEST_ASSERT_EQ(s.segs[1].limit, 0xfff, "cs limit");
	TEST_ASSERT_EQ(s.mmio_data_len, 2, "mmio data truncated to what is there");
	TEST_ASSERT_EQ(s.mmio_data[1], 0xbb, "mmio data byte 1");
}

TEST(scenario_decode_counts_and_cpl)
{
	char err[ERRLEN] = "";
	struct scenario s;
	struct bin b = { .n = 0 };

	/* cpl 3 needs bits 0 and 7; nr_regs >= 128 and nr_segs >= 64: none */
	put(&b, 0, 1);
	put(&b, SCN_MODE_PROT32, 1);
	put(&b, 0x01, 1);
	put(&b, 0, 1);			/* no insn */
	put(&b, 0, 1);			/* no maps */
	put(&b, 128 + 2, 1);		/* no registers: no register bytes */
	put(&b, 64 + 1, 1);		/* no segments: no segment bytes */
	put(&b, 1, 2);
	put(&b, 0x5a, 1);
	TEST_ASSERT_EQ(scenario_decode(&s, b.b, b.n, err, sizeof(err)), 0, "decode");
	TEST_ASSERT_EQ(s.cpl, 0, "bit 0 alone is cpl 0");
	TEST_ASSERT_EQ(s.regs_set, 0, "nr_regs 130: none");
	TEST_ASSERT_EQ(s.segs_set, 0, "nr_segs 65: none");
	TEST_ASSERT_EQ(s.mmio_data_len, 1, "mmio data right after the counts");
	TEST_ASSERT_EQ(s.mmio_data[0], 0x5a, "mmio data byte");

	b.b[2] = 0x80;
	TEST_ASSERT_EQ(scenario_decode(&s, b.b, b.n, err, sizeof(err)), 0, "decode");
	TEST_ASSERT_EQ(s.cpl, 0, "bit 7 alone is cpl 0");
	b.b[2] = 0xff;
	TEST_ASSERT_EQ(scenario_decode(&s, b.b, b.n, err, sizeof(err)), 0, "decode");
	TEST_ASSERT_EQ(s.cpl, 3, "bits 0 and 7: cpl 3");
	TEST_ASSERT_EQ(s.ctl, SCN_CTL_MASK, "ctl from bits 1-6");
}

struct tmpl_case {
	u8 mode;
	u8 tmpl;	/* the insn byte */
	u8 variant;
	u8 len;
	u8 insn[SCN_MAX_INSN];
};

static const struct tmpl_case tmpl_cases[] = {
	/* mov r, [rdi]; 128 + 64 is the same template */
	{ SCN_MODE_LONG64, 128, 0, 2, { 0x8b, 0x07 } },
	{ SCN_MODE_LONG64, 128 + 64, 0x1f, 4, { 0x66, 0x48, 0x8b, 0x3f } },
	{ SCN_MODE_PROT32, 128, 0x1f, 3, { 0x66, 0x8b, 0x3f } },
	{ SCN_MODE_PROT32_PAGING, 128, 0x02, 2, { 0x8b, 0x07 } },
	/* 16-bit addressing: [rdi] becomes [di], [rsi] [si], [rbx] [bx] */
	{ SCN_MODE_REAL16, 128, 0x1f, 3, { 0x66, 0x8b, 0x3d } },
	{ SCN_MODE_PROT16, 128 + 41, 0, 2, { 0xff, 0x34 } },
	{ SCN_MODE_PROT16, 128 + 3, 0x08, 2, { 0x89, 0x17 } },
	/* lock cmpxchg: 66 first, REX after the lock, reg replaced */
	{ SCN_MODE_LONG64, 128 + 22, 0x03, 6, { 0x66, 0xf0, 0x48, 0x0f, 0xb1, 0x07 } },
	/* a group's reg field stays */
	{ SCN_MODE_LONG64, 128 + 13, 0x1c, 3, { 0x83, 0x07, 0x05 } },
	/* mandatory 66: no second one */
	{ SCN_MODE_LONG64, 128 + 56, 0x01, 4, { 0x66, 0x0f, 0x6f, 0x07 } },
	/* no ModRM */
	{ SCN_MODE_LONG64, 128 + 63 + 64, 0x06, 5, { 0x48, 0x0f, 0x38, 0xf0, 0x0f } },
	{ SCN_MODE_PROT32, 128 + 46, 0x03, 3, { 0x66, 0xf3, 0xa5 } },
};

TEST(scenario_decode_insn_templates)
{
	char err[ERRLEN] = "", why[ERRLEN];
	struct scenario s, s2;
	u8 out[256];
	unsigned int i, j;
	int n;

	for (i = 0; i < ARRAY_SIZE(tmpl_cases); i++) {
		const struct tmpl_case *c = &tmpl_cases[i];
		u8 in[] = { 0, c->mode, 0, c->tmpl, c->variant };

		TEST_ASSERT_EQ(scenario_decode(&s, in, sizeof(in), err, sizeof(err)), 0,
			       "decode");
		TEST_ASSERT(s.insn_len == c->len, "case %u: insn_len %u, wanted %u",
			    i, s.insn_len, c->len);
		for (j = 0; j < c->len; j++)
			TEST_ASSERT(s.insn[j] == c->insn[j],
				    "case %u: insn byte %u is 0x%02x, wanted 0x%02x",
				    i, j, s.insn[j], c->insn[j]);
		/* stored literally: encoded with a literal length byte */
		n = scenario_encode(&s, out, sizeof(out));
		TEST_ASSERT(n > 6 + c->len, "case %u: encode", i);
		TEST_ASSERT_EQ(out[6], c->len, "literal insn length byte");
		TEST_ASSERT(!memcmp(out + 7, c->insn, c->len), "case %u: literal bytes", i);
		TEST_ASSERT_EQ(scenario_decode(&s2, out, n, err, sizeof(err)), 0, "re-decode");
		TEST_ASSERT(scn_equal(&s, &s2, why, sizeof(why)),
			    "case %u: decode(encode(s)) differs: %s", i, why);
	}

	/* every template in every mode, with every variant, fits */
	for (i = 0; i < 2 * 64; i++) {
		for (j = 0; j < 256 * SCN_NR_MODES; j++) {
			u8 in[] = { 0, j / 256, 0, 128 + i, j % 256 };

			TEST_ASSERT_EQ(scenario_decode(&s, in, sizeof(in), err, sizeof(err)),
				       0, "decode");
			TEST_ASSERT(s.insn_len > 0 && s.insn_len <= SCN_MAX_INSN,
				    "template %u, mode %u, variant 0x%x: length %u",
				    i, j / 256, j % 256, s.insn_len);
		}
	}
}

/* Encoded size of a text scenario, without the header. */
static int body_size(const char *text)
{
	char err[ERRLEN] = "", why[ERRLEN];
	struct scenario s, s2;
	u8 out[512];
	int n;

	if (scenario_parse_text(&s, text, err, sizeof(err)))
		return -1;
	n = scenario_encode(&s, out, sizeof(out));
	if (n < 3 || scenario_decode(&s2, out, n, err, sizeof(err)) ||
	    !scn_equal(&s, &s2, why, sizeof(why)))
		return -1;
	return n - 3;
}

TEST(scenario_encode_shortest_forms)
{
	/* profile, mode, cpu, insn len, nr_maps, nr_regs, nr_segs, u16 data len */
	const int fixed = 9;

	TEST_ASSERT_EQ(body_size(""), fixed, "no maps, registers or segments");
	/* near map: form + page/frame byte */
	TEST_ASSERT_EQ(body_size("map 0x40001000 0x5000 mmio\n"), fixed + 2, "near map");
	TEST_ASSERT_EQ(body_size("map 0x3fffe000 0x20000 ram ro\n"), fixed + 2,
		       "near map, lowest page, highest frame, read-only");
	TEST_ASSERT_EQ(body_size("map 0x40005000 0x1000 rom user\n"), fixed + 3,
		       "near map with a flags byte");
	TEST_ASSERT_EQ(body_size("map 0x40000000 0xfec00000 ioapic\n"), fixed + 2,
		       "near map: a forced frame");
	TEST_ASSERT_EQ(body_size("map 0x40001000 0x3000 ioeventfd ev=8:4\n"), fixed + 5,
		       "near ioeventfd map");
	TEST_ASSERT_EQ(body_size("mode prot32\nmap 0x40005000 0x40005000 mmio\n"),
		       fixed + 2, "near map, paging off");
	/* relative map: form + s8 page + u16 frame */
	TEST_ASSERT_EQ(body_size("map 0x40006000 0x5000 mmio\n"), fixed + 4,
		       "page past the near range");
	TEST_ASSERT_EQ(body_size("map 0x40001000 0x21000 mmio\n"), fixed + 4,
		       "frame past the near range");
	TEST_ASSERT_EQ(body_size("map 0x40001000 0x0 mmio\n"), fixed + 4,
		       "frame 0 is not near");
	TEST_ASSERT_EQ(body_size("mode real16\nmap 0x9000 0x9000 mmio\n"), fixed + 2,
		       "near map, real16");
	/* raw map: form + u64 + u64 */
	TEST_ASSERT_EQ(body_size("map 0xffff800000000000 0x1000 mmio\n"), fixed + 17,
		       "raw map");
	/* registers: id + near byte, id + u16, id + u64 */
	TEST_ASSERT_EQ(body_size("reg rdi 0x40001ffe\n"), fixed + 2, "near register");
	TEST_ASSERT_EQ(body_size("reg rax 0x3fffeff0\n"), fixed + 2,
		       "near register, lowest value");
	TEST_ASSERT_EQ(body_size("reg rax 0x4000600f\n"), fixed + 2,
		       "near register, highest value");
	TEST_ASSERT_EQ(body_size("reg rax 0x40006010\n"), fixed + 3, "relative register");
	TEST_ASSERT_EQ(body_size("reg rax 0x40000fef\n"), fixed + 3,
		       "relative register below the near offsets");
	TEST_ASSERT_EQ(body_size("reg rax 0x1234\n"), fixed + 9, "raw register");
	TEST_ASSERT_EQ(body_size("mode real16\nreg rsi 0x7ffd\n"), fixed + 2,
		       "near register, real16");
}

TEST(scenario_decode_paging_off_and_32bit)
{
	char err[ERRLEN] = "";
	struct scenario s;
	struct bin b = { .n = 0 };

	/* real16: cpl forced to 0, relative and near maps identity */
	put(&b, 0, 1);
	put(&b, SCN_MODE_REAL16, 1);
	put(&b, 0x81, 1);		/* cpl 3, ctl 0 */
	put(&b, 0, 1);			/* no insn */
	put(&b, 4, 1);
	put(&b, MK_MMIO | MP_REL, 1);	/* relative page 1, frame ignored */
	put(&b, 1, 1);
	put(&b, 0x1234, 2);
	put(&b, MK_RAM | MP_RAW, 1);	/* raw: gva replaced by gpa */
	put(&b, 0xdead000, 8);
	put(&b, 0xfffff0001000ULL, 8);	/* masked to SCN_MAX_GPA */
	put(&b, MK_RAM | MP_REL, 1);	/* relative page -9: wraps, masked */
	put(&b, 0xf7, 1);
	put(&b, 0, 2);
	put(&b, MK_MMIO | MP_NEAR, 1);	/* near page 5 - 2, frame bits ignored */
	put(&b, 0xf5, 1);
	TEST_ASSERT_EQ(scenario_decode(&s, b.b, b.n, err, sizeof(err)), 0, "decode real16");
	TEST_ASSERT_EQ(s.cpl, 0, "cpl 3 forced to 0 in real16");
	TEST_ASSERT_EQ(s.ctl, 0, "ctl from the cpu byte");
	TEST_ASSERT_EQ(s.nr_maps, 4, "four maps");
	TEST_ASSERT_EQ(s.maps[0].gpa, 0x9000, "relative gpa = anchor + 1 page");
	TEST_ASSERT_EQ(s.maps[0].gva, 0x9000, "relative gva = gpa");
	TEST_ASSERT_EQ(s.maps[1].gpa, 0xffff0001000ULL, "raw gpa masked to SCN_MAX_GPA");
	TEST_ASSERT_EQ(s.maps[1].gva, s.maps[1].gpa, "raw gva = gpa with paging off");
	TEST_ASSERT_EQ(s.maps[2].gpa, SCN_MAX_GPA & PAGE_MASK, "wrapped gpa masked");
	TEST_ASSERT_EQ(s.maps[2].gva, s.maps[2].gpa, "wrapped gva = gpa");
	TEST_ASSERT_EQ(s.maps[3].gpa, 0xb000, "near gpa = anchor + 3 pages");
	TEST_ASSERT_EQ(s.maps[3].gva, 0xb000, "near gva = gpa");

	/* prot16 keeps cpl 3; prot32-paging truncates gvas and gpas to 32 bits */
	b.n = 0;
	put(&b, 0, 1);
	put(&b, SCN_MODE_PROT16, 1);
	put(&b, 0x81, 1);
	TEST_ASSERT_EQ(scenario_decode(&s, b.b, b.n, err, sizeof(err)), 0, "decode prot16");
	TEST_ASSERT_EQ(s.cpl, 3, "cpl 3 allowed in prot16");
	TEST_ASSERT_EQ(s.ctl, 0, "ctl 0");

	b.n = 0;
	put(&b, 0, 1);
	put(&b, SCN_MODE_PROT32_PAGING, 1);
	put(&b, 0, 1);
	put(&b, 0, 1);
	put(&b, 2, 1);
	put(&b, MK_RAM | MP_RAW, 1);
	put(&b, 0x140000000ULL, 8);
	put(&b, 0x300005000ULL, 8);
	put(&b, MK_RAM | MP_RAW, 1);	/* same page after truncation: dropped */
	put(&b, 0x40000000, 8);
	put(&b, 0x6000, 8);
	TEST_ASSERT_EQ(scenario_decode(&s, b.b, b.n, err, sizeof(err)), 0,
		       "decode prot32-paging");
	TEST_ASSERT_EQ(s.nr_maps, 1, "duplicate after truncation dropped");
	TEST_ASSERT_EQ(s.maps[0].gva, 0x40000000, "gva truncated to 32 bits");
	TEST_ASSERT_EQ(s.maps[0].gpa, 0x5000, "gpa truncated to 32 bits");
}

#define NR_RANDOM	20000
#define MAX_RANDOM	200

TEST(scenario_random_binary_roundtrip)
{
	char err[ERRLEN] = "", why[ERRLEN];
	u64 seed = 0x9e3779b97f4a7c15ULL;
	unsigned int i, j, rejected = 0, with_maps = 0;

	for (i = 0; i < NR_RANDOM; i++) {
		struct scenario s1, s2, s3;
		u8 in[MAX_RANDOM], out[2048];
		size_t len = xorshift64(&seed) % (MAX_RANDOM + 1);
		char *text;
		int n, r;

		for (j = 0; j < len; j++)
			in[j] = xorshift64(&seed);
		/* now and then, a header in front */
		if (len >= 3 && (i & 7) == 0) {
			in[0] = 'f';
			in[1] = 'z';
			in[2] = SCN_VERSION;
		}
		r = scenario_decode(&s1, in, len, err, sizeof(err));
		if (r) {
			TEST_ASSERT(len >= 3 && in[0] == 'f' && in[1] == 'z' &&
				    in[2] != SCN_VERSION,
				    "input %u: only an unknown version may fail: %s", i, err);
			rejected++;
			continue;
		}
		with_maps += s1.nr_maps > 0;
		r = build_tables(&s1, why, sizeof(why));
		TEST_ASSERT(r == 0, "input %u: page tables for the layout: %s", i, why);

		n = scenario_encode(&s1, out, sizeof(out));
		TEST_ASSERT(n > 0, "input %u: encode", i);
		r = scenario_decode(&s2, out, n, err, sizeof(err));
		TEST_ASSERT(r == 0, "input %u: decode of encode: %s", i, err);
		TEST_ASSERT(scn_equal(&s1, &s2, why, sizeof(why)),
			    "input %u: decode(encode(s)) != s: %s", i, why);

		text = format_to_string(&s1);
		TEST_ASSERT(text, "input %u: format", i);
		r = scenario_parse_text(&s3, text, err, sizeof(err));
		if (r)
			TEST_FAIL("input %u: formatted text does not parse: %s\n%s", i, err, text);
		if (!scn_equal(&s1, &s3, why, sizeof(why)))
			TEST_FAIL("input %u: parse(format(s)) != s: %s\n%s", i, why, text);
		free(text);
	}
	TEST_ASSERT(rejected < NR_RANDOM / 100, "few inputs rejected (%u)", rejected);
	TEST_ASSERT(with_maps > NR_RANDOM / 2, "most inputs have maps (%u)", with_maps);
}
