// SPDX-License-Identifier: GPL-2.0-only
/*
 * Scenarios: defaults, the binary form for fuzzers and the text form for
 * people.
 *
 * Binary form, little endian, read field by field.  An optional header
 * "fz" + version byte comes first; without it the whole input is a
 * version-2 body (version 1 is rejected like any unknown version).
 * Wherever the input ends, the remaining fields keep their defaults (a
 * field cut in the middle reads the missing bytes as 0), so every input
 * is a scenario.  The body is laid out so that random bytes mostly make
 * an emulated access near a page boundary: instruction templates, "near"
 * forms for maps and registers around the anchor page, and default
 * registers and segments for most count bytes.  Decoding is many-to-one;
 * encoding writes the shortest form that decodes back exactly.
 *
 *   u8  profile	0: unset, else profile (v - 1) % kvm_profile_count()
 *   u8  mode		% SCN_NR_MODES
 *   u8  cpu		bits 0 and 7 both set: CPL 3, bits 1-6: SCN_CTL_*
 *   u8  insn		< 128: literal, length v % 16, then that many bytes
 *			>= 128: template (v - 128) % 64 of insn_tmpls[], then
 *			u8 variant: bit 0: 66, bit 1: REX.W (long64), bits
 *			2-4: ModRM.reg (where it names a register); in
 *			16-bit modes a mod=00 base register becomes its
 *			16-bit addressing counterpart; the resulting bytes
 *			are stored (and encoded) literally
 *   u8  nr_maps	% 9, then per map:
 *	u8 form		bits 0-2: kind (map_kinds[]), 3-5: placement (0-5
 *			near, 6 relative, 7 raw), 6-7: flags (map_flags[];
 *			3: a u8 of SCN_MAP_* follows the form byte)
 *	near:		u8 p: page anchor + p % 8 - 2; paging on: gpa =
 *			frame 1 + p / 8, paging off: gpa = gva
 *	relative:	s8 page, u16 frame; paging on: gva = anchor + page
 *			pages, gpa = frame; paging off: gva = gpa = anchor +
 *			page pages (frame ignored)
 *	raw:		u64 gva, u64 gpa (page aligned, gpa masked to SCN_MAX_GPA)
 *	ioeventfd:	u16 offset (& 0xfff), u8 len code (% 5: 0 1 2 4 8)
 *   u8  nr_regs	>= 128: none, else % 19, then per register:
 *	u8 id		bits 0-4: register % SCN_MAX_REGS, 5-7: form
 *	near (0-5):	u8 v: anchor + ((v >> 5) - 2) pages + 0xff0 + (v & 0x1f)
 *	relative (6):	u16 v: anchor + ((v >> 12) - 8) pages + (v & 0xfff)
 *	raw (7):	u64
 *   u8  nr_segs	>= 64: none, else % 7, then per segment: u8 id % 6,
 *			u32 base, u32 limit
 *   u16 mmio_data_len	% 257, then that many bytes
 *
 * Decoding normalises what would be contradictory (see normalise_map());
 * the text parser reports the same contradictions as errors instead.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "profile.h"
#include "scenario.h"

#define SCN_IOAPIC_GPA		0xfec00000ULL
#define SCN_LAPIC_GPA		0xfee00000ULL
#define SCN_REL_MAP_PAGES	128	/* relative map: s8 page */
#define SCN_REL_REG_PAGES	8	/* relative register: (v >> 12) - 8 */
#define SCN_NEAR_PAGES		8	/* near map or register: 8 pages, */
#define SCN_NEAR_BEFORE		2	/* anchor - 2 .. anchor + 5 */
#define SCN_NEAR_MAP_FRAMES	32	/* near map: frames 1..32 */
#define SCN_NEAR_REG_OFFSET	0xff0	/* near register: 0xff0..0x100f */
#define SCN_CPU_CPL3		0x81	/* cpu byte: both bits for CPL 3 */
#define SCN_INSN_TMPL		128	/* insn_len bytes from here: a template */
#define SCN_REGS_DEFAULT	128	/* nr_regs bytes from here: none */
#define SCN_SEGS_DEFAULT	64	/* nr_segs bytes from here: none */

static const char *const mode_names[SCN_NR_MODES] = {
	[SCN_MODE_REAL16] = "real16",
	[SCN_MODE_PROT16] = "prot16",
	[SCN_MODE_PROT32] = "prot32",
	[SCN_MODE_PROT32_PAGING] = "prot32-paging",
	[SCN_MODE_LONG64] = "long64",
};

static const char *const kind_names[SCN_NR_KINDS] = {
	[SCN_KIND_RAM] = "ram",
	[SCN_KIND_ROM] = "rom",
	[SCN_KIND_MMIO] = "mmio",
	[SCN_KIND_IOAPIC] = "ioapic",
	[SCN_KIND_IOEVENTFD] = "ioeventfd",
	[SCN_KIND_COALESCED] = "coalesced",
	[SCN_KIND_LAPIC] = "lapic",
};

/* SCN_MAX_REGS names, in VCPU_REGS_* order, then rip and rflags */
static const char *const reg_names[SCN_MAX_REGS] = {
	"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
	"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
	"rip", "rflags",
};

static const char *const seg_names[SCN_NR_SEGS] = {
	"es", "cs", "ss", "ds", "fs", "gs",
};

/* ioeventfd length codes of the binary form */
static const u8 ev_lens[] = { 0, 1, 2, 4, 8 };

const char *scenario_mode_name(unsigned int mode)
{
	return mode < SCN_NR_MODES ? mode_names[mode] : "?";
}

const char *scenario_kind_name(unsigned int kind)
{
	return kind < SCN_NR_KINDS ? kind_names[kind] : "?";
}

static bool mode_is_16bit(unsigned int mode)
{
	return mode == SCN_MODE_REAL16 || mode == SCN_MODE_PROT16;
}

u64 scenario_anchor(enum scn_mode mode)
{
	return mode_is_16bit(mode) ? 0x8000 : 0x40000000;
}

void scenario_init(struct scenario *s)
{
	memset(s, 0, sizeof(*s));
	s->profile = -1;
	s->mode = SCN_MODE_LONG64;
	s->ctl = SCN_CTL_CR0_WP | SCN_CTL_EFER_NXE | SCN_CTL_CR4_OSFXSR;
}

bool scenario_paging(const struct scenario *s)
{
	return s->mode == SCN_MODE_PROT32_PAGING || s->mode == SCN_MODE_LONG64;
}

u64 scenario_reg(const struct scenario *s, unsigned int reg)
{
	u64 a = scenario_anchor(s->mode);

	if (reg >= SCN_MAX_REGS)
		return 0;
	if (s->regs_set & BIT(reg))
		return s->regs[reg];

	/* Defaults put most memory operands near the end of a page. */
	switch (reg) {
	case 0:		/* rax */
		return a + 0xffe;
	case 1:		/* rcx */
		return 3;
	case 2:		/* rdx */
		return a + 0xff9;
	case 3:		/* rbx */
		return a + 0xffc;
	case 4:		/* rsp */
		return a + 0x1004;
	case 5:		/* rbp */
		return a + 0xff8;
	case 6:		/* rsi */
		return a + 0xffd;
	case 7:		/* rdi */
		return a + 0x1ffe;
	case SCN_REG_RIP:
		return mode_is_16bit(s->mode) ? 0 : SCN_CODE_GPA;
	case SCN_REG_RFLAGS:
		return 0x2;
	default:	/* r8..r15 */
		return a + 0xff0 + (reg - 8);
	}
}

unsigned int scenario_opcode_offset(const struct scenario *s, bool *rep)
{
	unsigned int i;

	if (rep)
		*rep = false;
	for (i = 0; i < s->insn_len; i++) {
		u8 b = s->insn[i];

		if (b == 0xf2 || b == 0xf3) {
			if (rep)
				*rep = true;
		} else if (b != 0x66 && b != 0x67 && b != 0xf0 && b != 0x2e && b != 0x36 &&
			   b != 0x3e && b != 0x26 && b != 0x64 && b != 0x65 &&
			   !(s->mode == SCN_MODE_LONG64 && (b & 0xf0) == 0x40)) {
			break;
		}
	}
	return i;
}

struct scn_segment scenario_segment(const struct scenario *s, unsigned int seg)
{
	struct scn_segment d = { .base = 0, .limit = 0xffffffff };

	if (seg < SCN_NR_SEGS && (s->segs_set & BIT(seg)))
		return s->segs[seg];
	if (mode_is_16bit(s->mode)) {
		d.limit = 0xffff;
		if (seg == 1)	/* cs */
			d.base = SCN_CODE_GPA;
	}
	return d;
}

unsigned int scenario_maps(const struct scenario *s, struct scn_map *out)
{
	u64 a = scenario_anchor(s->mode);
	bool paging = scenario_paging(s);
	unsigned int i;

	if (s->nr_maps) {
		for (i = 0; i < s->nr_maps && i < SCN_MAX_MAPS; i++)
			out[i] = s->maps[i];
		return i;
	}
	for (i = 0; i < 2; i++) {
		out[i] = (struct scn_map){
			.gva = a + i * PAGE_SIZE,
			.gpa = paging ? 0x1000 + i * PAGE_SIZE : a + i * PAGE_SIZE,
			.kind = SCN_KIND_MMIO,
			.flags = SCN_MAP_WRITE,
		};
	}
	return 2;
}

/* ---- map rules shared by the decoder and the text parser ---- */

static bool gva_canonical(u64 gva)
{
	return (u64)((s64)(gva << 16) >> 16) == gva;
}

static bool gpa_reserved(u64 gpa)
{
	return gpa >= SCN_RESERVED_START && gpa < SCN_RESERVED_END;
}

static u64 forced_gpa(unsigned int kind)
{
	if (kind == SCN_KIND_IOAPIC)
		return SCN_IOAPIC_GPA;
	if (kind == SCN_KIND_LAPIC)
		return SCN_LAPIC_GPA;
	return 0;
}

static const struct scn_map *find_frame(const struct scn_map *maps, unsigned int n,
					u64 gpa)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (maps[i].gpa == gpa)
			return &maps[i];
	return NULL;
}

static const struct scn_map *find_page(const struct scn_map *maps, unsigned int n,
				       u64 gva)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (maps[i].gva == gva)
			return &maps[i];
	return NULL;
}

/*
 * Make @m consistent with the scenario's mode and the maps kept so far:
 * IOAPIC and LAPIC frames sit at their fixed GPAs, paging off means
 * gva = gpa, prot32-paging gvas and gpas are 32 bits (its page tables are
 * 2-level), and a frame mapped twice
 * keeps the kind (and ioeventfd) it was first given.  Returns false if the
 * map must be dropped: a frame in the harness's reserved range, a
 * non-canonical gva in long64, or a gva page already mapped.
 */
static bool normalise_map(const struct scenario *s, struct scn_map *m)
{
	const struct scn_map *same;

	m->gva &= PAGE_MASK;
	m->gpa &= PAGE_MASK & SCN_MAX_GPA;
	m->flags &= SCN_MAP_FLAGS;
	if (forced_gpa(m->kind))
		m->gpa = forced_gpa(m->kind);
	if (m->kind != SCN_KIND_IOEVENTFD) {
		m->ev_offset = 0;
		m->ev_len = 0;
	}
	if (!scenario_paging(s))
		m->gva = m->gpa;
	else if (s->mode == SCN_MODE_PROT32_PAGING) {
		/* 2-level tables: 32-bit linear addresses and frames */
		m->gva &= 0xffffffffULL;
		m->gpa &= 0xffffffffULL;
	}

	if (gpa_reserved(m->gpa))
		return false;
	if (s->mode == SCN_MODE_LONG64 && !gva_canonical(m->gva))
		return false;
	if (find_page(s->maps, s->nr_maps, m->gva))
		return false;

	same = find_frame(s->maps, s->nr_maps, m->gpa);
	if (same) {
		m->kind = same->kind;
		m->ev_offset = same->ev_offset;
		m->ev_len = same->ev_len;
	}
	return true;
}

/* ---- binary form ---- */

struct reader {
	const u8 *data;
	size_t size;
	size_t pos;
};

static bool rd_more(const struct reader *r)
{
	return r->pos < r->size;
}

static size_t rd_left(const struct reader *r)
{
	return r->size - r->pos;
}

/* @bytes little-endian bytes; bytes past the end read as 0. */
static u64 rd_le(struct reader *r, unsigned int bytes)
{
	u64 v = 0;
	unsigned int i;

	for (i = 0; i < bytes; i++)
		if (r->pos < r->size)
			v |= (u64)r->data[r->pos++] << (8 * i);
	return v;
}

static u8 rd_u8(struct reader *r)
{
	return rd_le(r, 1);
}

static u16 rd_u16(struct reader *r)
{
	return rd_le(r, 2);
}

static u32 rd_u32(struct reader *r)
{
	return rd_le(r, 4);
}

static u64 rd_u64(struct reader *r)
{
	return rd_le(r, 8);
}

static void rd_bytes(struct reader *r, u8 *out, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		out[i] = rd_u8(r);
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/*
 * Instruction templates: memory-touching instructions KVM emulates, for
 * an insn_len byte >= SCN_INSN_TMPL.  The variant byte that follows may
 * add 66, add REX.W (long64) after the template's own prefixes, and
 * replace ModRM.reg where it names a register (TM_REG) rather than a
 * group's operation.  In 16-bit modes a mod=00 ModRM's base register is
 * replaced by its 16-bit addressing counterpart.
 */
#define TM_REG			BIT(0)	/* ModRM.reg is a register operand */
#define TM_NO66			BIT(1)	/* has a mandatory prefix: no extra 66 */

struct insn_tmpl {
	u8 len;
	u8 npfx;	/* leading prefixes; REX goes after them */
	u8 modrm;	/* offset of the ModRM byte, 0: none */
	u8 flags;	/* TM_* */
	u8 b[6];
};

#define T(f, m, p, ...)							\
	{ .len = sizeof((u8[]){ __VA_ARGS__ }), .npfx = (p), .modrm = (m),	\
	  .flags = (f), .b = { __VA_ARGS__ } }

static const struct insn_tmpl insn_tmpls[] = {
	T(TM_REG, 1, 0, 0x8b, 0x07),		/* mov r, [rdi] */
	T(TM_REG, 1, 0, 0x89, 0x07),		/* mov [rdi], r */
	T(TM_REG, 1, 0, 0x8b, 0x06),		/* mov r, [rsi] */
	T(TM_REG, 1, 0, 0x89, 0x03),		/* mov [rbx], r */
	T(TM_REG, 1, 0, 0x8b, 0x03),		/* mov r, [rbx] */
	T(TM_REG, 1, 0, 0x89, 0x06),		/* mov [rsi], r */
	T(TM_REG, 1, 0, 0x8b, 0x02),		/* mov r, [rdx] */
	T(TM_REG, 1, 0, 0x88, 0x07),		/* mov [rdi], r8 */
	T(TM_REG, 1, 0, 0x8a, 0x06),		/* mov r8, [rsi] */
	T(0, 1, 0, 0xc7, 0x07, 0x78, 0x56, 0x34, 0x12), /* mov [rdi], imm */
	T(TM_REG, 1, 0, 0x01, 0x07),		/* add [rdi], r */
	T(TM_REG, 1, 0, 0x03, 0x03),		/* add r, [rbx] */
	T(TM_REG, 1, 0, 0x3b, 0x07),		/* cmp r, [rdi] */
	T(0, 1, 0, 0x83, 0x07, 0x05),		/* add [rdi], 5 */
	T(0, 1, 0, 0x80, 0x37, 0x01),		/* xor byte [rdi], 1 */
	T(0, 1, 0, 0xf7, 0x17),			/* not [rdi] */
	T(0, 1, 0, 0xff, 0x07),			/* inc [rdi] */
	T(0, 1, 0, 0xf6, 0x27),			/* mul byte [rdi] */
	T(TM_REG, 2, 0, 0x0f, 0xb6, 0x07),	/* movzx r, byte [rdi] */
	T(TM_REG, 2, 0, 0x0f, 0xbf, 0x06),	/* movsx r, word [rsi] */
	T(TM_REG, 1, 0, 0x63, 0x07),		/* movsxd (arpl outside long64) */
	T(TM_REG, 1, 0, 0x87, 0x07),		/* xchg [rdi], r */
	T(TM_REG, 3, 1, 0xf0, 0x0f, 0xb1, 0x0f),	/* lock cmpxchg [rdi], r */
	T(TM_REG, 2, 0, 0x0f, 0xb1, 0x0f),	/* cmpxchg [rdi], r */
	T(TM_REG, 3, 1, 0xf0, 0x0f, 0xc1, 0x07),	/* lock xadd [rdi], r */
	T(0, 2, 0, 0x0f, 0xc7, 0x0f),		/* cmpxchg8b [rdi] */
	T(TM_REG, 2, 0, 0x0f, 0xab, 0x07),	/* bts [rdi], r */
	T(TM_REG, 2, 0, 0x0f, 0xa3, 0x07),	/* bt [rdi], r */
	T(0, 2, 0, 0x0f, 0xba, 0x2f, 0x07),	/* bts [rdi], 7 */
	T(0, 1, 0, 0xd1, 0x27),			/* shl [rdi], 1 */
	T(0, 1, 0, 0xc1, 0x2f, 0x03),		/* shr [rdi], 3 */
	T(0, 0, 0, 0xc8, 0x08, 0x00, 0x00),	/* enter 8, 0 */
	T(0, 0, 0, 0xc8, 0x00, 0x00, 0x00),	/* enter 0, 0 */
	T(0, 0, 0, 0xc9),			/* leave */
	T(0, 0, 0, 0x60),			/* pusha (#UD in long64) */
	T(0, 0, 0, 0x61),			/* popa (#UD in long64) */
	T(0, 0, 0, 0x50),			/* push rax */
	T(0, 0, 0, 0x58),			/* pop rax */
	T(0, 0, 0, 0x6a, 0x12),			/* push 0x12 */
	T(0, 0, 0, 0x9c),			/* pushf */
	T(0, 0, 0, 0x9d),			/* popf */
	T(0, 1, 0, 0xff, 0x36),			/* push [rsi] */
	T(0, 1, 0, 0x8f, 0x07),			/* pop [rdi] */
	T(0, 1, 0, 0xff, 0x17),			/* call [rdi] */
	T(0, 0, 0, 0xc3),			/* ret */
	T(0, 0, 1, 0xf3, 0xa4),			/* rep movsb */
	T(0, 0, 1, 0xf3, 0xa5),			/* rep movs */
	T(0, 0, 0, 0xa5),			/* movs */
	T(0, 0, 1, 0xf3, 0xab),			/* rep stos */
	T(0, 0, 0, 0xab),			/* stos */
	T(0, 0, 0, 0xad),			/* lods */
	T(0, 0, 0, 0xa6),			/* cmpsb */
	T(0, 0, 1, 0xf3, 0xa6),			/* repe cmpsb */
	T(0, 0, 0, 0xae),			/* scasb */
	T(TM_REG | TM_NO66, 3, 1, 0xf3, 0x0f, 0x6f, 0x07),	/* movdqu x, [rdi] */
	T(TM_REG | TM_NO66, 3, 1, 0xf3, 0x0f, 0x7f, 0x07),	/* movdqu [rdi], x */
	T(TM_REG | TM_NO66, 3, 1, 0x66, 0x0f, 0x6f, 0x07),	/* movdqa x, [rdi] */
	T(TM_REG | TM_NO66, 3, 1, 0x66, 0x0f, 0xe7, 0x07),	/* movntdq [rdi], x */
	T(TM_REG, 2, 0, 0x0f, 0x11, 0x07),	/* movups [rdi], x */
	T(TM_REG, 2, 0, 0x0f, 0x10, 0x06),	/* movups x, [rsi] */
	T(TM_REG, 1, 0, 0xc4, 0x3f),		/* les (VEX in long64) */
	T(TM_REG, 2, 0, 0x0f, 0xb4, 0x07),	/* lfs r, [rdi] */
	T(TM_REG, 2, 0, 0x0f, 0xc3, 0x07),	/* movnti [rdi], r */
	T(TM_REG, 3, 0, 0x0f, 0x38, 0xf0, 0x07),	/* movbe r, [rdi] */
};

#undef T

/*
 * A mod=00 ModRM.rm in 16-bit addressing, by 32/64-bit base register:
 * rax: [bx+si], rcx: [bx+di], rdx: [bp+si], rbx: [bx], rsi: [si],
 * rdi: [di] (the templates use no SIB or displacement-only forms).
 */
static const u8 rm16[8] = { 0, 1, 2, 7, 4, 5, 4, 5 };

static void decode_insn_tmpl(struct scenario *s, struct reader *r, u8 b)
{
	const struct insn_tmpl *t = &insn_tmpls[(b - SCN_INSN_TMPL) % ARRAY_SIZE(insn_tmpls)];
	u8 v = rd_u8(r), *p = s->insn;
	unsigned int i;

	if ((v & 1) && !(t->flags & TM_NO66))
		*p++ = 0x66;
	for (i = 0; i < t->npfx; i++)
		*p++ = t->b[i];
	if ((v & 2) && s->mode == SCN_MODE_LONG64)
		*p++ = 0x48;
	for (; i < t->len; i++) {
		u8 c = t->b[i];

		if (i == t->modrm) {
			if (t->flags & TM_REG)
				c = (c & ~0x38) | (v & 0x1c) << 1;
			if (mode_is_16bit(s->mode) && !(c & 0xc0))
				c = (c & ~7) | rm16[c & 7];
		}
		*p++ = c;
	}
	s->insn_len = p - s->insn;
}

/* map kinds of the binary form (bits 0-2 of the form byte) */
static const u8 map_kinds[8] = {
	SCN_KIND_RAM, SCN_KIND_ROM, SCN_KIND_MMIO, SCN_KIND_IOAPIC,
	SCN_KIND_IOEVENTFD, SCN_KIND_COALESCED, SCN_KIND_LAPIC, SCN_KIND_MMIO,
};

/* map flags codes of the binary form (bits 6-7 of the form byte) */
#define MAP_FLAGS_BYTE		3	/* an explicit flags byte follows */
static const u8 map_flags[MAP_FLAGS_BYTE] = {
	SCN_MAP_WRITE, SCN_MAP_WRITE, 0,
};

/* map placement of the binary form (bits 3-5 of the form byte) */
#define MAP_REL			6
#define MAP_RAW			7

static void decode_map(struct scenario *s, struct reader *r)
{
	u64 a = scenario_anchor(s->mode);
	struct scn_map m = { 0 };
	u8 form = rd_u8(r), where = (form >> 3) & 7;

	m.kind = map_kinds[form & 7];
	if ((form >> 6) == MAP_FLAGS_BYTE)
		m.flags = rd_u8(r) & SCN_MAP_FLAGS;
	else
		m.flags = map_flags[form >> 6];
	if (where == MAP_RAW) {
		m.gva = rd_u64(r);
		m.gpa = rd_u64(r);
	} else if (where == MAP_REL) {
		s64 page = (int8_t)rd_u8(r);
		u64 frame = rd_u16(r);

		m.gva = a + (u64)page * PAGE_SIZE;
		m.gpa = scenario_paging(s) ? frame << PAGE_SHIFT : m.gva;
	} else {
		u8 p = rd_u8(r);
		s64 page = (s64)(p % SCN_NEAR_PAGES) - SCN_NEAR_BEFORE;

		m.gva = a + (u64)page * PAGE_SIZE;
		m.gpa = scenario_paging(s) ?
			(u64)(1 + p / SCN_NEAR_PAGES) << PAGE_SHIFT : m.gva;
	}
	if (m.kind == SCN_KIND_IOEVENTFD) {
		m.ev_offset = rd_u16(r) & 0xfff;
		m.ev_len = ev_lens[rd_u8(r) % ARRAY_SIZE(ev_lens)];
	}
	if (normalise_map(s, &m))
		s->maps[s->nr_maps++] = m;
}

/* register forms of the binary form (bits 5-7 of the id byte) */
#define REG_REL			6
#define REG_RAW			7

static u64 near_reg_base(const struct scenario *s)
{
	return scenario_anchor(s->mode) - SCN_NEAR_BEFORE * PAGE_SIZE +
	       SCN_NEAR_REG_OFFSET;
}

static void decode_reg(struct scenario *s, struct reader *r)
{
	u8 b = rd_u8(r), form = b >> 5;
	unsigned int id = (b & 0x1f) % SCN_MAX_REGS;
	u64 v;

	if (form == REG_RAW) {
		v = rd_u64(r);
	} else if (form == REG_REL) {
		u16 rel = rd_u16(r);
		s64 page = (s64)(rel >> 12) - SCN_REL_REG_PAGES;

		v = scenario_anchor(s->mode) + (u64)page * PAGE_SIZE + (rel & 0xfff);
	} else {
		u8 near = rd_u8(r);

		v = near_reg_base(s) + (u64)(near >> 5) * PAGE_SIZE + (near & 0x1f);
	}
	s->regs[id] = v;
	s->regs_set |= BIT(id);
}

int scenario_decode(struct scenario *s, const u8 *data, size_t size,
		    char *err, size_t errlen)
{
	struct reader r = { .data = data, .size = size };
	unsigned int i, n;
	u8 v;

	scenario_init(s);
	if (size >= 2 && data[0] == SCN_MAGIC0 && data[1] == SCN_MAGIC1) {
		if (size >= 3 && data[2] != SCN_VERSION) {
			set_err(err, errlen,
				"unsupported scenario version %u (this build reads %u)",
				data[2], SCN_VERSION);
			return -EINVAL;
		}
		r.pos = size >= 3 ? 3 : 2;
	}

	if (!rd_more(&r))
		return 0;
	v = rd_u8(&r);
	if (v)
		s->profile = (v - 1) % kvm_profile_count();

	if (!rd_more(&r))
		return 0;
	s->mode = rd_u8(&r) % SCN_NR_MODES;

	if (!rd_more(&r))
		return 0;
	v = rd_u8(&r);
	s->cpl = (v & SCN_CPU_CPL3) == SCN_CPU_CPL3 && s->mode != SCN_MODE_REAL16 ? 3 : 0;
	s->ctl = (v >> 1) & SCN_CTL_MASK;

	v = rd_u8(&r);
	if (v >= SCN_INSN_TMPL) {
		decode_insn_tmpl(s, &r, v);
	} else {
		n = v % (SCN_MAX_INSN + 1);
		s->insn_len = min_t(size_t, n, rd_left(&r));
		rd_bytes(&r, s->insn, s->insn_len);
	}

	n = rd_u8(&r) % (SCN_MAX_MAPS + 1);
	for (i = 0; i < n && rd_more(&r); i++)
		decode_map(s, &r);

	v = rd_u8(&r);
	n = v < SCN_REGS_DEFAULT ? v % (SCN_MAX_REGS + 1) : 0;
	for (i = 0; i < n && rd_more(&r); i++)
		decode_reg(s, &r);

	v = rd_u8(&r);
	n = v < SCN_SEGS_DEFAULT ? v % (SCN_NR_SEGS + 1) : 0;
	for (i = 0; i < n && rd_more(&r); i++) {
		unsigned int id = rd_u8(&r) % SCN_NR_SEGS;

		s->segs[id].base = rd_u32(&r);
		s->segs[id].limit = rd_u32(&r);
		s->segs_set |= BIT(id);
	}

	n = rd_u16(&r) % (SCN_MAX_MMIO_DATA + 1);
	s->mmio_data_len = min_t(size_t, n, rd_left(&r));
	rd_bytes(&r, s->mmio_data, s->mmio_data_len);
	return 0;
}

struct writer {
	u8 *out;
	size_t size;
	size_t pos;
};

static void wr_le(struct writer *w, u64 v, unsigned int bytes)
{
	unsigned int i;

	for (i = 0; i < bytes; i++, w->pos++)
		if (w->pos < w->size)
			w->out[w->pos] = v >> (8 * i);
}

static void wr_u8(struct writer *w, u8 v)
{
	wr_le(w, v, 1);
}


/* The index of @v in @codes[@n], or @n if it is not there. */
static u8 code_of(const u8 *codes, unsigned int n, u8 v)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (codes[i] == v)
			return i;
	return n;
}

static void encode_map(const struct scenario *s, const struct scn_map *m,
		       struct writer *w)
{
	u64 a = scenario_anchor(s->mode);
	bool paging = scenario_paging(s);
	s64 page = (s64)(m->gva - a) / (s64)PAGE_SIZE;
	bool aligned = (s64)(m->gva - a) % (s64)PAGE_SIZE == 0;
	/* a forced frame decodes the same whatever the input says */
	u64 frame = forced_gpa(m->kind) ? 1 : m->gpa >> PAGE_SHIFT;
	u8 fl = code_of(map_flags, ARRAY_SIZE(map_flags), m->flags & SCN_MAP_FLAGS);
	u8 form = (code_of(map_kinds, ARRAY_SIZE(map_kinds), m->kind) & 7) | fl << 6;
	bool rel, near;

	near = aligned && page >= -SCN_NEAR_BEFORE &&
	       page < SCN_NEAR_PAGES - SCN_NEAR_BEFORE;
	rel = aligned && page >= -SCN_REL_MAP_PAGES && page < SCN_REL_MAP_PAGES;
	if (paging) {
		near = near && !offset_in_page(m->gpa) && frame >= 1 &&
		       frame <= SCN_NEAR_MAP_FRAMES;
		rel = rel && frame < 0x10000 && !offset_in_page(m->gpa);
	} else {
		near = near && m->gva == m->gpa;
		rel = rel && m->gva == m->gpa;
	}

	wr_u8(w, form | (near ? 0 : rel ? MAP_REL : MAP_RAW) << 3);
	if (fl == MAP_FLAGS_BYTE)
		wr_u8(w, m->flags & SCN_MAP_FLAGS);
	if (near) {
		wr_u8(w, (page + SCN_NEAR_BEFORE) +
			 (paging ? (frame - 1) * SCN_NEAR_PAGES : 0));
	} else if (rel) {
		wr_u8(w, (u8)page);
		wr_le(w, paging ? frame : 0, 2);
	} else {
		wr_le(w, m->gva, 8);
		wr_le(w, m->gpa, 8);
	}
	if (m->kind == SCN_KIND_IOEVENTFD) {
		wr_le(w, m->ev_offset, 2);
		wr_u8(w, code_of(ev_lens, ARRAY_SIZE(ev_lens), m->ev_len) % ARRAY_SIZE(ev_lens));
	}
}

int scenario_encode(const struct scenario *s, u8 *out, size_t size)
{
	struct writer w = { .out = out, .size = size };
	u64 a = scenario_anchor(s->mode);
	u64 rel_base = a - SCN_REL_REG_PAGES * PAGE_SIZE;
	u64 near_base = near_reg_base(s);
	unsigned int i, n;

	wr_u8(&w, SCN_MAGIC0);
	wr_u8(&w, SCN_MAGIC1);
	wr_u8(&w, SCN_VERSION);

	wr_u8(&w, s->profile < 0 ? 0 : s->profile + 1);
	wr_u8(&w, s->mode);
	wr_u8(&w, (s->cpl == 3 ? SCN_CPU_CPL3 : 0) | (s->ctl & SCN_CTL_MASK) << 1);

	n = min_t(unsigned int, s->insn_len, SCN_MAX_INSN);
	wr_u8(&w, n);
	for (i = 0; i < n; i++)
		wr_u8(&w, s->insn[i]);

	n = min_t(unsigned int, s->nr_maps, SCN_MAX_MAPS);
	wr_u8(&w, n);
	for (i = 0; i < n; i++)
		encode_map(s, &s->maps[i], &w);

	for (i = 0, n = 0; i < SCN_MAX_REGS; i++)
		n += !!(s->regs_set & BIT(i));
	wr_u8(&w, n);
	for (i = 0; i < SCN_MAX_REGS; i++) {
		u64 v = s->regs[i];

		if (!(s->regs_set & BIT(i)))
			continue;
		if (v - near_base < SCN_NEAR_PAGES * PAGE_SIZE &&
		    offset_in_page(v - near_base) < 0x20) {
			wr_u8(&w, i);
			wr_u8(&w, (v - near_base) >> PAGE_SHIFT << 5 |
				  offset_in_page(v - near_base));
		} else if (v - rel_base < 2 * SCN_REL_REG_PAGES * PAGE_SIZE) {
			wr_u8(&w, i | REG_REL << 5);
			wr_le(&w, v - rel_base, 2);
		} else {
			wr_u8(&w, i | REG_RAW << 5);
			wr_le(&w, v, 8);
		}
	}

	for (i = 0, n = 0; i < SCN_NR_SEGS; i++)
		n += !!(s->segs_set & BIT(i));
	wr_u8(&w, n);
	for (i = 0; i < SCN_NR_SEGS; i++) {
		if (!(s->segs_set & BIT(i)))
			continue;
		wr_u8(&w, i);
		wr_le(&w, s->segs[i].base, 4);
		wr_le(&w, s->segs[i].limit, 4);
	}

	n = min_t(unsigned int, s->mmio_data_len, SCN_MAX_MMIO_DATA);
	wr_le(&w, n, 2);
	for (i = 0; i < n; i++)
		wr_u8(&w, s->mmio_data[i]);

	if (w.pos > size)
		return -ENOSPC;
	return w.pos;
}

/* ---- text form ---- */

struct parser {
	struct scenario *s;
	unsigned int line;
	char *err;
	size_t errlen;
	unsigned int cpl_line;
	unsigned int insn_line;
	unsigned int map_line[SCN_MAX_MAPS];
};

static int perr(struct parser *p, unsigned int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int perr(struct parser *p, unsigned int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!p->err || !p->errlen)
		return -EINVAL;
	n = snprintf(p->err, p->errlen, "line %u: ", line);
	if (n >= 0 && (size_t)n < p->errlen) {
		va_start(ap, fmt);
		vsnprintf(p->err + n, p->errlen - n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Next whitespace-separated token of the line at *@cur, or NULL. */
static char *next_tok(char **cur)
{
	char *p = *cur, *tok;

	while (is_space(*p))
		p++;
	if (!*p) {
		*cur = p;
		return NULL;
	}
	tok = p;
	while (*p && !is_space(*p))
		p++;
	if (*p)
		*p++ = '\0';
	*cur = p;
	return tok;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Hex with 0x prefix, else decimal; the whole token, no overflow. */
static bool parse_u64(const char *tok, u64 *out)
{
	unsigned int base = 10;
	u64 v = 0;
	int d;

	if (tok[0] == '0' && (tok[1] == 'x' || tok[1] == 'X')) {
		base = 16;
		tok += 2;
	}
	if (!*tok)
		return false;
	for (; *tok; tok++) {
		d = hex_digit(*tok);
		if (d < 0 || (unsigned int)d >= base)
			return false;
		if (v > (UINT64_MAX - d) / base)
			return false;
		v = v * base + d;
	}
	*out = v;
	return true;
}

/* One or two hex digits, without prefix. */
static bool parse_hex_byte(const char *tok, u8 *out)
{
	int hi = hex_digit(tok[0]), lo;

	if (hi < 0)
		return false;
	if (!tok[1]) {
		*out = hi;
		return true;
	}
	lo = hex_digit(tok[1]);
	if (lo < 0 || tok[2])
		return false;
	*out = hi << 4 | lo;
	return true;
}

static int lookup(const char *const *names, unsigned int n, const char *tok)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (names[i] && !strcmp(names[i], tok))
			return i;
	return -1;
}

static int need_tok(struct parser *p, char **cur, const char *what, char **tok)
{
	*tok = next_tok(cur);
	if (!*tok)
		return perr(p, p->line, "missing %s", what);
	return 0;
}

static int need_num(struct parser *p, char **cur, const char *what, u64 max, u64 *v)
{
	char *tok;
	int r = need_tok(p, cur, what, &tok);

	if (r)
		return r;
	if (!parse_u64(tok, v))
		return perr(p, p->line, "malformed number '%s' for %s", tok, what);
	if (*v > max)
		return perr(p, p->line, "%s %s out of range (at most 0x%llx)", what,
			    tok, (unsigned long long)max);
	return 0;
}

/* "on"/"off"-style keyword pairs: sets *@on to whether @yes was given */
static int need_choice(struct parser *p, char **cur, const char *what,
		       const char *yes, const char *no, bool *on)
{
	char *tok;
	int r = need_tok(p, cur, what, &tok);

	if (r)
		return r;
	if (!strcmp(tok, yes))
		*on = true;
	else if (!strcmp(tok, no))
		*on = false;
	else
		return perr(p, p->line, "unknown %s '%s' (expected %s or %s)",
			    what, tok, yes, no);
	return 0;
}

static void set_ctl(struct scenario *s, u8 bit, bool on)
{
	if (on)
		s->ctl |= bit;
	else
		s->ctl &= ~bit;
}

static int dir_kernel(struct parser *p, char **cur)
{
	const struct kvm_profile *prof;
	unsigned int i;
	char *tok;
	int r = need_tok(p, cur, "kernel profile", &tok);

	if (r)
		return r;
	prof = kvm_profile_find(tok);
	for (i = 0; prof && i < kvm_profile_count(); i++) {
		if (kvm_profile_at(i) == prof) {
			p->s->profile = i;
			return 0;
		}
	}
	return perr(p, p->line, "unknown kernel profile '%s'", tok);
}

static int dir_mmu(struct parser *p, char **cur)
{
	bool tdp;
	int r = need_choice(p, cur, "mmu", "tdp", "shadow", &tdp);

	if (!r)
		set_ctl(p->s, SCN_CTL_TDP, tdp);
	return r;
}

static int dir_irqchip(struct parser *p, char **cur)
{
	bool on;
	int r = need_choice(p, cur, "irqchip setting", "on", "off", &on);

	if (!r)
		set_ctl(p->s, SCN_CTL_NO_IRQCHIP, !on);
	return r;
}

static int dir_split_lock(struct parser *p, char **cur)
{
	bool on;
	int r = need_choice(p, cur, "split-lock setting", "on", "off", &on);

	if (!r)
		set_ctl(p->s, SCN_CTL_SPLIT_LOCK, on);
	return r;
}

static int dir_mode(struct parser *p, char **cur)
{
	char *tok;
	int r = need_tok(p, cur, "mode", &tok), m;

	if (r)
		return r;
	m = lookup(mode_names, SCN_NR_MODES, tok);
	if (m < 0)
		return perr(p, p->line, "unknown mode '%s'", tok);
	p->s->mode = m;
	return 0;
}

static int dir_cpl(struct parser *p, char **cur)
{
	u64 v;
	int r = need_num(p, cur, "cpl", 3, &v);

	if (r)
		return r;
	if (v != 0 && v != 3)
		return perr(p, p->line, "cpl must be 0 or 3, not %llu",
			    (unsigned long long)v);
	p->s->cpl = v;
	p->cpl_line = p->line;
	return 0;
}

static int dir_bit(struct parser *p, char **cur, const char *what, u8 bit)
{
	u64 v;
	int r = need_num(p, cur, what, 1, &v);

	if (!r)
		set_ctl(p->s, bit, v);
	return r;
}

static int dir_cr0_wp(struct parser *p, char **cur)
{
	return dir_bit(p, cur, "cr0.wp", SCN_CTL_CR0_WP);
}

static int dir_efer_nxe(struct parser *p, char **cur)
{
	return dir_bit(p, cur, "efer.nxe", SCN_CTL_EFER_NXE);
}

static int dir_cr4_osfxsr(struct parser *p, char **cur)
{
	return dir_bit(p, cur, "cr4.osfxsr", SCN_CTL_CR4_OSFXSR);
}

/* Appends hex bytes to @buf (holding *@len of at most @max bytes). */
static int hex_bytes(struct parser *p, char **cur, const char *what,
		     u8 *buf, unsigned int *len, unsigned int max)
{
	unsigned int n = 0;
	char *tok;

	while ((tok = next_tok(cur))) {
		u8 b;

		if (!parse_hex_byte(tok, &b))
			return perr(p, p->line, "malformed hex byte '%s' in %s",
				    tok, what);
		if (*len >= max)
			return perr(p, p->line, "more than %u %s bytes", max, what);
		buf[(*len)++] = b;
		n++;
	}
	if (!n)
		return perr(p, p->line, "%s needs at least one hex byte", what);
	return 0;
}

static int dir_insn(struct parser *p, char **cur)
{
	unsigned int len = 0;
	int r;

	if (p->insn_line)
		return perr(p, p->line, "insn already given on line %u",
			    p->insn_line);
	r = hex_bytes(p, cur, "insn", p->s->insn, &len, SCN_MAX_INSN);
	if (r)
		return r;
	p->s->insn_len = len;
	p->insn_line = p->line;
	return 0;
}

static int dir_reg(struct parser *p, char **cur)
{
	char *tok;
	int r = need_tok(p, cur, "register", &tok), id;
	u64 v;

	if (r)
		return r;
	id = lookup(reg_names, SCN_MAX_REGS, tok);
	if (id < 0)
		return perr(p, p->line, "unknown register '%s'", tok);
	r = need_num(p, cur, "register value", UINT64_MAX, &v);
	if (r)
		return r;
	p->s->regs[id] = v;
	p->s->regs_set |= BIT(id);
	return 0;
}

static int dir_seg(struct parser *p, char **cur)
{
	char *tok;
	int r = need_tok(p, cur, "segment", &tok), id;
	u64 base, limit;

	if (r)
		return r;
	id = lookup(seg_names, SCN_NR_SEGS, tok);
	if (id < 0)
		return perr(p, p->line, "unknown segment '%s'", tok);
	r = need_num(p, cur, "segment base", 0xffffffff, &base);
	if (!r)
		r = need_num(p, cur, "segment limit", 0xffffffff, &limit);
	if (r)
		return r;
	p->s->segs[id].base = base;
	p->s->segs[id].limit = limit;
	p->s->segs_set |= BIT(id);
	return 0;
}

static int map_option(struct parser *p, struct scn_map *m, char *tok, bool *ev)
{
	u64 off, len;
	char *colon;

	if (!strcmp(tok, "ro")) {
		m->flags &= ~SCN_MAP_WRITE;
	} else if (!strcmp(tok, "user")) {
		m->flags |= SCN_MAP_USER;
	} else if (!strcmp(tok, "nx")) {
		m->flags |= SCN_MAP_NX;
	} else if (!strcmp(tok, "np")) {
		m->flags |= SCN_MAP_NOT_PRESENT;
	} else if (!strncmp(tok, "ev=", 3)) {
		colon = strchr(tok + 3, ':');
		if (!colon)
			return perr(p, p->line, "malformed '%s' (expected ev=<offset>:<len>)",
				    tok);
		*colon = '\0';
		if (!parse_u64(tok + 3, &off) || !parse_u64(colon + 1, &len))
			return perr(p, p->line, "malformed number in ev=%s:%s",
				    tok + 3, colon + 1);
		if (off > 0xfff)
			return perr(p, p->line, "ioeventfd offset %s out of range (at most 0xfff)",
				    tok + 3);
		if (len != 0 && len != 1 && len != 2 && len != 4 && len != 8)
			return perr(p, p->line, "ioeventfd length %s out of range (0, 1, 2, 4 or 8)",
				    colon + 1);
		if (m->kind != SCN_KIND_IOEVENTFD)
			return perr(p, p->line, "ev= on a %s map (only ioeventfd maps have one)",
				    kind_names[m->kind]);
		m->ev_offset = off;
		m->ev_len = len;
		*ev = true;
	} else {
		return perr(p, p->line, "unknown map option '%s'", tok);
	}
	return 0;
}

static int dir_map(struct parser *p, char **cur)
{
	struct scenario *s = p->s;
	struct scn_map m = { .flags = SCN_MAP_WRITE };
	bool ev = false;
	char *tok;
	u64 gva, gpa;
	int r, kind;

	if (s->nr_maps >= SCN_MAX_MAPS)
		return perr(p, p->line, "more than %u maps", SCN_MAX_MAPS);
	r = need_num(p, cur, "gva", UINT64_MAX, &gva);
	if (!r)
		r = need_num(p, cur, "gpa", SCN_MAX_GPA, &gpa);
	if (!r)
		r = need_tok(p, cur, "map kind", &tok);
	if (r)
		return r;
	if (offset_in_page(gva))
		return perr(p, p->line, "gva 0x%llx is not page aligned",
			    (unsigned long long)gva);
	if (offset_in_page(gpa))
		return perr(p, p->line, "gpa 0x%llx is not page aligned",
			    (unsigned long long)gpa);
	kind = lookup(kind_names, SCN_NR_KINDS, tok);
	if (kind < 0)
		return perr(p, p->line, "unknown map kind '%s'", tok);
	m.gva = gva;
	m.gpa = gpa;
	m.kind = kind;
	while ((tok = next_tok(cur))) {
		r = map_option(p, &m, tok, &ev);
		if (r)
			return r;
	}
	p->map_line[s->nr_maps] = p->line;
	s->maps[s->nr_maps++] = m;
	return 0;
}

static int dir_mmio_data(struct parser *p, char **cur)
{
	unsigned int len = p->s->mmio_data_len;
	int r = hex_bytes(p, cur, "mmio-data", p->s->mmio_data, &len,
			  SCN_MAX_MMIO_DATA);

	p->s->mmio_data_len = len;
	return r;
}

struct directive {
	const char *name;
	int (*fn)(struct parser *p, char **cur);
};

static const struct directive directives[] = {
	{ "kernel", dir_kernel },
	{ "mmu", dir_mmu },
	{ "irqchip", dir_irqchip },
	{ "split-lock", dir_split_lock },
	{ "mode", dir_mode },
	{ "cpl", dir_cpl },
	{ "cr0.wp", dir_cr0_wp },
	{ "efer.nxe", dir_efer_nxe },
	{ "cr4.osfxsr", dir_cr4_osfxsr },
	{ "insn", dir_insn },
	{ "reg", dir_reg },
	{ "seg", dir_seg },
	{ "map", dir_map },
	{ "mmio-data", dir_mmio_data },
};

static const struct directive *find_directive(const char *name, size_t len)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(directives); i++)
		if (strlen(directives[i].name) == len &&
		    !strncmp(directives[i].name, name, len))
			return &directives[i];
	return NULL;
}

/*
 * Whole-scenario checks, once the mode is known: everything the decoder
 * would silently normalise is an error here.
 */
static int check_text(struct parser *p)
{
	struct scenario *s = p->s;
	unsigned int i;

	if (s->cpl == 3 && s->mode == SCN_MODE_REAL16)
		return perr(p, p->cpl_line, "cpl 3 is not possible in real16");

	for (i = 0; i < s->nr_maps; i++) {
		const struct scn_map *m = &s->maps[i], *o;
		unsigned int line = p->map_line[i];

		if (forced_gpa(m->kind) && m->gpa != forced_gpa(m->kind))
			return perr(p, line, "%s map must have gpa 0x%llx, not 0x%llx",
				    kind_names[m->kind],
				    (unsigned long long)forced_gpa(m->kind),
				    (unsigned long long)m->gpa);
		if (gpa_reserved(m->gpa))
			return perr(p, line, "gpa 0x%llx is in the harness's reserved range [0x%llx, 0x%llx)",
				    (unsigned long long)m->gpa,
				    SCN_RESERVED_START, SCN_RESERVED_END);
		if (!scenario_paging(s) && m->gva != m->gpa)
			return perr(p, line, "paging is off in %s: gva 0x%llx must equal gpa 0x%llx",
				    mode_names[s->mode], (unsigned long long)m->gva,
				    (unsigned long long)m->gpa);
		if (s->mode == SCN_MODE_PROT32_PAGING && m->gva > 0xffffffffULL)
			return perr(p, line, "gva 0x%llx out of range in prot32-paging (32 bits)",
				    (unsigned long long)m->gva);
		if (s->mode == SCN_MODE_PROT32_PAGING && m->gpa > 0xffffffffULL)
			return perr(p, line, "gpa 0x%llx out of range in prot32-paging (32 bits)",
				    (unsigned long long)m->gpa);
		if (s->mode == SCN_MODE_LONG64 && !gva_canonical(m->gva))
			return perr(p, line, "gva 0x%llx is not canonical",
				    (unsigned long long)m->gva);
		o = find_page(s->maps, i, m->gva);
		if (o)
			return perr(p, line, "gva 0x%llx already mapped on line %u",
				    (unsigned long long)m->gva,
				    p->map_line[o - s->maps]);
		o = find_frame(s->maps, i, m->gpa);
		if (o && o->kind != m->kind)
			return perr(p, line, "gpa 0x%llx is %s here but %s on line %u",
				    (unsigned long long)m->gpa, kind_names[m->kind],
				    kind_names[o->kind], p->map_line[o - s->maps]);
		if (o && (o->ev_offset != m->ev_offset || o->ev_len != m->ev_len))
			return perr(p, line, "gpa 0x%llx has a different ioeventfd than on line %u",
				    (unsigned long long)m->gpa,
				    p->map_line[o - s->maps]);
	}
	return 0;
}

int scenario_parse_text(struct scenario *s, const char *text, char *err, size_t errlen)
{
	struct parser p = { .s = s, .err = err, .errlen = errlen };
	char *buf, *line, *next;
	int r = 0;

	scenario_init(s);
	buf = strdup(text);
	if (!buf) {
		set_err(err, errlen, "out of memory");
		return -ENOMEM;
	}

	for (line = buf; line && !r; line = next) {
		const struct directive *d;
		char *cur, *tok, *hash;

		p.line++;
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		hash = strchr(line, '#');
		if (hash)
			*hash = '\0';

		cur = line;
		tok = next_tok(&cur);
		if (!tok)
			continue;
		d = find_directive(tok, strlen(tok));
		if (!d) {
			r = perr(&p, p.line, "unknown directive '%s'", tok);
			break;
		}
		r = d->fn(&p, &cur);
		if (!r && (tok = next_tok(&cur)))
			r = perr(&p, p.line, "unexpected '%s' after %s", tok, d->name);
	}
	free(buf);
	if (!r)
		r = check_text(&p);
	if (r) {
		/* leave a valid scenario behind, never a half-parsed one */
		scenario_init(s);
	}
	return r;
}

static void format_bytes(FILE *f, const char *what, const u8 *b, unsigned int n)
{
	unsigned int i;

	fputs(what, f);
	for (i = 0; i < n; i++)
		fprintf(f, " %02x", b[i]);
	fputc('\n', f);
}

void scenario_format_text(const struct scenario *s, FILE *f)
{
	const struct kvm_profile *prof = s->profile >= 0 ? kvm_profile_at(s->profile) : NULL;
	unsigned int i, n;

	fprintf(f, "# fragfuzz scenario (text form, see harness/scenario.h)\n");
	if (prof)
		fprintf(f, "kernel %s\n", prof->name);
	fprintf(f, "mmu %s\n", s->ctl & SCN_CTL_TDP ? "tdp" : "shadow");
	fprintf(f, "irqchip %s\n", s->ctl & SCN_CTL_NO_IRQCHIP ? "off" : "on");
	fprintf(f, "split-lock %s\n", s->ctl & SCN_CTL_SPLIT_LOCK ? "on" : "off");
	fprintf(f, "mode %s\n", scenario_mode_name(s->mode));
	fprintf(f, "cpl %u\n", s->cpl);
	fprintf(f, "cr0.wp %u\n", !!(s->ctl & SCN_CTL_CR0_WP));
	fprintf(f, "efer.nxe %u\n", !!(s->ctl & SCN_CTL_EFER_NXE));
	fprintf(f, "cr4.osfxsr %u\n", !!(s->ctl & SCN_CTL_CR4_OSFXSR));
	if (s->insn_len)
		format_bytes(f, "insn", s->insn, min_t(unsigned int, s->insn_len, SCN_MAX_INSN));

	for (i = 0; i < SCN_MAX_REGS; i++)
		if (s->regs_set & BIT(i))
			fprintf(f, "reg %s 0x%llx\n", reg_names[i],
				(unsigned long long)s->regs[i]);
	for (i = 0; i < SCN_NR_SEGS; i++)
		if (s->segs_set & BIT(i))
			fprintf(f, "seg %s 0x%x 0x%x\n", seg_names[i],
				s->segs[i].base, s->segs[i].limit);

	for (i = 0; i < s->nr_maps && i < SCN_MAX_MAPS; i++) {
		const struct scn_map *m = &s->maps[i];

		fprintf(f, "map 0x%llx 0x%llx %s", (unsigned long long)m->gva,
			(unsigned long long)m->gpa, scenario_kind_name(m->kind));
		if (!(m->flags & SCN_MAP_WRITE))
			fputs(" ro", f);
		if (m->flags & SCN_MAP_USER)
			fputs(" user", f);
		if (m->flags & SCN_MAP_NX)
			fputs(" nx", f);
		if (m->flags & SCN_MAP_NOT_PRESENT)
			fputs(" np", f);
		if (m->kind == SCN_KIND_IOEVENTFD)
			fprintf(f, " ev=0x%x:%u", m->ev_offset, m->ev_len);
		fputc('\n', f);
	}

	n = min_t(unsigned int, s->mmio_data_len, SCN_MAX_MMIO_DATA);
	for (i = 0; i < n; i += 16)
		format_bytes(f, "mmio-data", s->mmio_data + i, min_t(unsigned int, n - i, 16));
}

bool scenario_is_text(const u8 *data, size_t size)
{
	size_t i, start, end;

	if (!size)
		return false;
	for (i = 0; i < size; i++) {
		u8 c = data[i];

		if (!(c >= 0x20 && c < 0x7f) && c != '\n' && !is_space(c))
			return false;
	}
	for (start = 0; start < size && (data[start] == '\n' || is_space(data[start])); start++)
		;
	if (start == size)
		return false;
	if (data[start] == '#')
		return true;
	for (end = start; end < size && data[end] != '#' && data[end] != '\n' &&
	     !is_space(data[end]); end++)
		;
	return find_directive((const char *)data + start, end - start) != NULL;
}
