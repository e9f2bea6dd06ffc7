// SPDX-License-Identifier: GPL-2.0-only
/*
 * The instruction layer's register-independent decode (insn_decode):
 * prefixes, sizes, lengths, statuses and the Capstone fix-ups, table
 * driven; plus the random-string statistics as a TAP comment.
 */
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "test.h"
#include "test_common.h"

#define M64	X86EMUL_MODE_PROT64
#define M32	X86EMUL_MODE_PROT32
#define M16	X86EMUL_MODE_REAL

struct decode_case {
	const char *hex;
	enum x86emul_mode mode;
	enum insn_status status;
	u8 len, op_bytes, ad_bytes;
	unsigned int mem_bytes;		/* KVM's r/m access size */
	unsigned int cs_mem_bytes;	/* what Capstone 4 says (fix-up cases) */
	u32 fixups;			/* must be set */
	const char *name;		/* family, NULL: don't care */
};

static const struct decode_case decode_cases[] = {
	/* plain moves and prefixes */
	{ "8b07", M64, INSN_OK, 2, 4, 8, 4, 4, 0, "mov r,r/m" },
	{ "8b07", M32, INSN_OK, 2, 4, 4, 4, 4, 0, "mov r,r/m" },
	{ "8b07", M16, INSN_OK, 2, 2, 2, 2, 2, 0, "mov r,r/m" },
	{ "488b07", M64, INSN_OK, 3, 8, 8, 8, 8, 0, NULL },
	{ "66488b07", M64, INSN_OK, 4, 8, 8, 8, 8, 0, NULL },		/* REX.W beats 66 */
	{ "48668b07", M64, INSN_OK, 4, 2, 8, 2, 2, 0, NULL },		/* 66 after REX cancels it */
	{ "678b07", M64, INSN_OK, 3, 4, 4, 4, 4, 0, NULL },
	{ "678b07", M32, INSN_OK, 3, 4, 2, 4, 4, 0, NULL },
	{ "8a07", M64, INSN_OK, 2, 4, 8, 1, 1, 0, "mov r8,r/m8" },
	{ "c6470100", M64, INSN_OK, 4, 4, 8, 1, 1, 0, "mov r/m8,imm8" },
	{ "48c70778563412", M64, INSN_OK, 7, 8, 8, 8, 8, 0, "mov r/m,imm" },
	{ "a1efcdab8967452301", M64, INSN_OK, 9, 4, 8, 0, 0, 0, "mov eax,moffs" },
	{ "a1fefffff0", M32, INSN_OK, 5, 4, 4, 0, 0, 0, "mov eax,moffs" },
	{ "48b8efcdab8967452301", M64, INSN_OK, 10, 8, 8, 0, 0, 0, "mov r,imm" },
	{ "8b840000000000", M64, INSN_OK, 7, 4, 8, 4, 4, 0, NULL },	/* SIB + disp32 */
	/* sizes KVM decides */
	{ "0fb707", M64, INSN_OK, 3, 4, 8, 2, 2, 0, "movzx r,r/m16" },
	{ "0fbe07", M32, INSN_OK, 3, 4, 4, 1, 1, 0, "movsx r,r/m8" },
	{ "0fc70f", M64, INSN_OK, 3, 4, 8, 8, 8, 0, "cmpxchg8b/16b" },
	{ "480fc70f", M64, INSN_OK, 4, 8, 8, 16, 16, 0, "cmpxchg8b/16b" },
	{ "f30f6f07", M64, INSN_OK, 4, 16, 8, 16, 16, 0, "movdqu xmm,m" },
	{ "660fe707", M32, INSN_OK, 4, 16, 4, 16, 16, 0, "movntdq m,xmm" },
	{ "0f6f07", M64, INSN_OK, 3, 8, 8, 8, 8, 0, "movq mm,mm/m64" },
	{ "ff37", M64, INSN_OK, 2, 8, 8, 8, 8, INSN_FIX_IMPLICIT_STACK, "push r/m" },
	{ "66ff37", M64, INSN_OK, 3, 2, 8, 2, 2, 0, "push r/m" },
	{ "ff37", M32, INSN_OK, 2, 4, 4, 4, 4, 0, "push r/m" },
	{ "6a80", M64, INSN_OK, 2, 8, 8, 0, 0, INSN_FIX_IMPLICIT_STACK, "push imm8" },
	{ "c8100000", M64, INSN_OK, 4, 8, 8, 0, 0, INSN_FIX_IMPLICIT_STACK, "enter" },
	{ "f3a4", M64, INSN_OK, 2, 4, 8, 0, 0, INSN_FIX_IMPLICIT_STRING, "movsb" },
	{ "d7", M32, INSN_OK, 1, 4, 4, 0, 0, INSN_FIX_IMPLICIT_STRING, "xlat" },
	/* fix-ups: Capstone 4 differs from KVM */
	{ "666307", M64, INSN_OK, 3, 2, 8, 4, 4, INSN_FIX_PREFIX, "movsxd r,r/m32" },
	{ "488c07", M64, INSN_OK, 3, 8, 8, 8, 2, INSN_FIX_SIZE, "mov r/m,sreg" },
	{ "0fb207", M64, INSN_OK, 3, 4, 8, 6, 8, INSN_FIX_SIZE, "lss" },
	{ "480fb207", M64, INSN_OK, 4, 8, 8, 10, 8, INSN_FIX_SIZE, "lss" },
	{ "c407", M32, INSN_OK, 2, 4, 4, 6, 4, INSN_FIX_SIZE, "les" },
	/* movnti is No16 in KVM's table: 66 still stores 4 bytes (seen on 6.18.44) */
	{ "660fc307", M64, INSN_OK, 4, 4, 8, 4, 4, 0, "movnti m,r" },
	{ "0fa307", M64, INSN_OK, 3, 4, 8, 4, 4, INSN_FIX_BIT_OFFSET, "bt r/m,r" },
	{ "66e800000000", M64, INSN_OK, 6, 8, 8, 0, 0, INSN_FIX_LENGTH, "call rel" },
	{ "66c3", M64, INSN_OK, 2, 8, 8, 0, 0, INSN_FIX_IMPLICIT_STACK, "ret" },
	{ "f08b07", M64, INSN_OK, 3, 4, 8, 4, 4, INSN_FIX_CS_REJECTS, "mov r,r/m" },
	{ "8e37", M64, INSN_OK, 2, 4, 8, 2, 0, INSN_FIX_CS_REJECTS, "mov sreg,r/m16" },
	{ "8c37", M32, INSN_OK, 2, 4, 4, 4, 0, INSN_FIX_CS_REJECTS, "mov r/m,sreg" },
	/* exceptions, failures, gaps */
	{ "60", M64, INSN_EXCEPTION, 0, 0, 0, 0, 0, 0, "pusha" },
	{ "0607", M64, INSN_EXCEPTION, 0, 0, 0, 0, 0, 0, "push es" },
	{ "60", M32, INSN_OK, 1, 4, 4, 0, 0, 0, "pusha" },
	{ "c5f96f07", M64, INSN_NOT_EMULATED, 0, 0, 0, 0, 0, 0, NULL },	/* VEX */
	{ "c5f96f07", M32, INSN_NOT_EMULATED, 0, 0, 0, 0, 0, 0, NULL },
	/* 16-bit movbe: KVM's 0f 38 f0 has a 66 entry (R 2, then #UD here) */
	{ "660f38f007", M64, INSN_OK, 5, 2, 8, 2, 2, 0, "movbe r,m" },
	{ "f20f6f07", M64, INSN_NOT_EMULATED, 0, 0, 0, 0, 0, 0, NULL },
	{ "66f30f6f07", M64, INSN_NOT_EMULATED, 0, 0, 0, 0, 0, 0, NULL },	/* 66 + F3 */
	{ "f30f1007", M64, INSN_NOT_EMULATED, 0, 0, 0, 0, 0, 0, NULL },	/* movss */
	{ "660ffe07", M64, INSN_NOT_EMULATED, 0, 0, 0, 0, 0, 0, NULL },	/* paddd */
	{ "c8080001", M64, INSN_NOT_EMULATED, 4, 8, 8, 0, 0, 0, "enter" },
	{ "0f04", M64, INSN_UNDECODABLE, 0, 0, 0, 0, 0, 0, NULL },
	{ "8b", M64, INSN_UNDECODABLE, 0, 0, 0, 0, 0, 0, NULL },
	{ "6307", M32, INSN_NOT_EMULATED, 0, 0, 0, 0, 0, 0, NULL },		/* arpl */
	{ "cd80", M64, INSN_NOT_MODELLED, 0, 0, 0, 0, 0, 0, NULL },	/* int */
	{ "e2fe", M32, INSN_NOT_MODELLED, 0, 0, 0, 0, 0, 0, NULL },	/* loop */
	{ "cf", M32, INSN_NOT_EMULATED, 0, 0, 0, 0, 0, 0, NULL },	/* protected-mode iret */
	{ "cf", M64, INSN_NOT_EMULATED, 0, 0, 0, 0, 0, 0, NULL },
	{ "ffd8", M32, INSN_EXCEPTION, 0, 0, 0, 0, 0, 0, "call far m" },	/* far ptr in a reg */
	{ "ffe8", M64, INSN_EXCEPTION, 0, 0, 0, 0, 0, 0, "jmp far m" },
	{ "9a785634120800", M64, INSN_EXCEPTION, 0, 0, 0, 0, 0, 0, "call far ptr" },
	/* port I/O, far transfers, iret */
	{ "e410", M64, INSN_OK, 2, 4, 8, 0, 0, 0, "in al,imm8" },
	{ "ef", M16, INSN_OK, 1, 2, 2, 0, 0, 0, "out dx,eax" },
	{ "f36c", M32, INSN_OK, 2, 4, 4, 0, 0, INSN_FIX_IMPLICIT_STRING, "insb" },
	{ "f3486d", M64, INSN_OK, 3, 8, 8, 0, 0, INSN_FIX_IMPLICIT_STRING, "ins" },
	{ "666f", M32, INSN_OK, 2, 2, 4, 0, 0, INSN_FIX_IMPLICIT_STRING, "outs" },
	{ "ff1f", M64, INSN_OK, 2, 4, 8, 6, 10, INSN_FIX_SIZE | INSN_FIX_IMPLICIT_STACK,
	  "call far m" },
	{ "48ff1f", M64, INSN_OK, 3, 8, 8, 10, 10, 0, "call far m" },
	{ "66ff1f", M32, INSN_OK, 3, 2, 4, 4, 6, INSN_FIX_SIZE, "call far m" },
	{ "ff2f", M16, INSN_OK, 2, 2, 2, 4, 4, 0, "jmp far m" },
	{ "9a785634120800", M32, INSN_OK, 7, 4, 4, 0, 0, INSN_FIX_IMPLICIT_STACK,
	  "call far ptr" },
	{ "ea78563412", M16, INSN_OK, 5, 2, 2, 0, 0, 0, "jmp far ptr" },
	{ "ca0400", M64, INSN_OK, 3, 4, 8, 0, 0, INSN_FIX_IMPLICIT_STACK, "retf imm16" },
	{ "48cb", M64, INSN_OK, 2, 8, 8, 0, 0, 0, "retf" },
	{ "cf", M16, INSN_OK, 1, 2, 2, 0, 0, INSN_FIX_IMPLICIT_STACK, "iret" },
	{ "66cf", M16, INSN_OK, 2, 4, 2, 0, 0, 0, "iret" },
	/* fxsave: decoded in 64-bit mode too, where em_fxsave() gives up (check_fxsr) */
	{ "0fae07", M64, INSN_OK, 3, 4, 8, 4, 0, 0, "fxsave" },
	{ "f30fae0d", M16, INSN_OK, 4, 2, 2, 2, 0, 0, "fxrstor" },
	{ "0faec8", M32, INSN_UNDECODABLE, 0, 0, 0, 0, 0, 0, NULL },	/* group 15 mod 3 /1: no row */
};

TEST(decode_table_cases)
{
	struct insn_decoder dec;
	unsigned int i;

	TEST_ASSERT(!insn_decoder_init(&dec), "insn_decoder_init failed");
	for (i = 0; i < ARRAY_SIZE(decode_cases); i++) {
		const struct decode_case *c = &decode_cases[i];
		struct insn_decoded d;
		u8 b[INSN_MAX_LEN];
		unsigned int n = hex_bytes(c->hex, b, INSN_MAX_LEN);
		bool ok;

		insn_decode(&dec, c->mode, b, n, &d);
		ok = d.status == c->status;
		if (ok && c->name)
			ok = d.name && !strcmp(d.name, c->name);
		if (ok && c->len)
			ok = d.len == c->len && d.op_bytes == c->op_bytes &&
			     d.ad_bytes == c->ad_bytes && d.mem_bytes == c->mem_bytes;
		if (ok && c->status == INSN_OK && c->cs_mem_bytes && d.cs_len)
			ok = d.cs_mem_bytes == c->cs_mem_bytes;
		if (ok)
			ok = (d.fixups & c->fixups) == c->fixups;
		if (!ok) {
			insn_decoder_fini(&dec);
			TEST_FAIL("%s (mode %d): status %d name %s len %u op %u ad %u mem %u cs_mem %u fixups 0x%x",
				  c->hex, c->mode, d.status, d.name ? d.name : "-", d.len,
				  d.op_bytes, d.ad_bytes, d.mem_bytes, d.cs_mem_bytes, d.fixups);
		}
	}
	insn_decoder_fini(&dec);
}

/* every fix-up kind really is needed: Capstone and KVM disagree there */
TEST(decode_fixups_are_real)
{
	static const struct { const char *hex; enum x86emul_mode mode; } sizes[] = {
		{ "488c07", M64 }, { "0fb207", M64 }, { "c407", M32 },
	};
	struct insn_decoder dec;
	unsigned int i;

	TEST_ASSERT(!insn_decoder_init(&dec), "insn_decoder_init failed");
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		struct insn_decoded d;
		u8 b[INSN_MAX_LEN];
		unsigned int n = hex_bytes(sizes[i].hex, b, INSN_MAX_LEN);

		insn_decode(&dec, sizes[i].mode, b, n, &d);
		if (!d.cs_len || d.cs_mem_bytes == d.mem_bytes) {
			insn_decoder_fini(&dec);
			TEST_FAIL("%s: Capstone agrees (%u) - fix-up not needed", sizes[i].hex,
				  d.cs_mem_bytes);
		}
	}
	insn_decoder_fini(&dec);
}

TEST(decode_is_deterministic_and_allocation_free)
{
	struct insn_decoder dec;
	struct insn_decoded a, b;
	const u8 bytes[] = { 0xf0, 0x0f, 0xb1, 0x0f };

	TEST_ASSERT(!insn_decoder_init(&dec), "insn_decoder_init failed");
	insn_decode(&dec, M64, bytes, sizeof(bytes), &a);
	insn_decode(&dec, M32, bytes, sizeof(bytes), &b);
	insn_decode(&dec, M64, bytes, sizeof(bytes), &b);
	insn_decoder_fini(&dec);
	TEST_ASSERT(!memcmp(&a, &b, sizeof(a)), "decode differs on repetition");
	TEST_ASSERT_EQ(a.status, INSN_OK, "status");
	TEST_ASSERT(a.lock_prefix, "lock prefix lost");
}

TEST(decode_stats_random_strings)
{
	static const struct { enum x86emul_mode mode; const char *name; } modes[] = {
		{ X86EMUL_MODE_REAL, "16" }, { X86EMUL_MODE_PROT32, "32" },
		{ X86EMUL_MODE_PROT64, "64" },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(modes); i++) {
		struct insn_stats st;

		insn_stats(100000, 0x5eed, modes[i].mode, &st);
		printf("# stats mode=%s-bit strings=%u capstone=%u kvm_decoded=%u emulated=%u "
		       "memory=%u not_modelled=%u exception=%u\n", modes[i].name, st.total,
		       st.capstone_ok, st.kvm_decoded, st.emulated, st.memory, st.not_modelled,
		       st.exception);
		TEST_ASSERT_EQ(st.total, 100000, "strings drawn");
		TEST_ASSERT(st.memory <= st.emulated && st.emulated <= st.kvm_decoded,
			    "inconsistent counts");
		TEST_ASSERT(st.emulated > 0 && st.capstone_ok > st.emulated / 2,
			    "implausible counts");
	}
}

/*
 * The Capstone cache (insn_cs_facts by mode and bytes) gives what Capstone
 * itself gives: random strings decoded with an emptied cache, then twice
 * more through a small cache that evicts all the time, in another order.
 */
TEST(decode_capstone_cache_is_transparent)
{
	enum { N = 3000 };
	static const enum x86emul_mode modes[] = { M16, M32, M64 };
	struct insn_decoder *dec = calloc(1, sizeof(*dec));
	struct insn_decoded *want = calloc(N, sizeof(*want)), got;
	static u8 bytes[N][INSN_MAX_LEN];
	u64 x = 0x9e3779b97f4a7c15ULL;
	unsigned int i, j, pass;

	TEST_ASSERT(dec && want && !insn_decoder_init(dec), "insn_decoder_init failed");
	for (i = 0; i < N; i++) {
		for (j = 0; j < INSN_MAX_LEN; j++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			bytes[i][j] = (u8)x;
		}
		memset(dec->cs_cache, 0, sizeof(dec->cs_cache));
		insn_decode(dec, modes[i % 3], bytes[i], INSN_MAX_LEN, &want[i]);
	}
	dec->cs_calls = dec->cs_hits = 0;
	for (pass = 0; pass < 2; pass++) {
		for (i = N; i-- > 0;) {
			insn_decode(dec, modes[i % 3], bytes[i], INSN_MAX_LEN, &got);
			if (memcmp(&got, &want[i], sizeof(got))) {
				insn_decoder_fini(dec);
				TEST_FAIL("string %u: cached decode differs (status %d, wanted %d)",
					  i, got.status, want[i].status);
			}
		}
	}
	insn_decoder_fini(dec);
	TEST_ASSERT(dec->cs_hits > 0 && dec->cs_hits < dec->cs_calls,
		    "Wanted some hits and some misses, got %llu of %llu",
		    (unsigned long long)dec->cs_hits, (unsigned long long)dec->cs_calls);
	free(want);
	free(dec);
}
