// SPDX-License-Identifier: GPL-2.0-only
/*
 * In-kernel MMIO (spec 3.3, 4 notes (b)): the IOAPIC register window,
 * coalesced MMIO zones and their ring, ioeventfds with and without
 * datamatch, and read-only memslots.  Chunks are min(8, rest) from the
 * piece start; the first unhandled chunk sends the rest to userspace.
 */
#include <stdlib.h>
#include <string.h>

#include "test_model.h"

static const struct script_insn mov_mem_ax = {
	.name = "mov [rdi],ax", .execute = em_mov, .d = Mov,
	.op_bytes = 2, .ad_bytes = 8, .len = 3,
	.src = SCRIPT_REG(2, VCPU_REGS_RAX), .dst = SCRIPT_MEM(2, VCPU_REGS_RDI, 0),
};

static const struct script_insn mov_mem_rax = {
	.name = "mov [rdi],rax", .execute = em_mov, .d = Mov,
	.op_bytes = 8, .ad_bytes = 8, .len = 3,
	.src = SCRIPT_REG(8, VCPU_REGS_RAX), .dst = SCRIPT_MEM(8, VCPU_REGS_RDI, 0),
};

/* ---- IOAPIC ---- */

static struct env *ioapic_env(const struct pcase *c, const struct script_insn *insn)
{
	struct env *e = model_env(c, ENV_LONG64, false, insn);

	if (kvm_register_ioapic(&e->kvm, IOAPIC_DEFAULT_BASE))
		abort();
	env_map(e, V0, IOAPIC_DEFAULT_BASE, RW);
	return e;
}

MODEL_CASE(ioapic_read16, "IOAPIC 16-byte read fully in kernel: two T1 traces, no exit",
	   all_profiles)
{
	struct env *e = ioapic_env(c, &movdqu_load);

	e->kvm.mmio_bus[0].ioapic.ioregsel = 0x12;
	e->vcpu.regs[VCPU_REGS_RDI] = V0;
	memset(e->vcpu.xmm[0], 0xff, 16);
	env_run(e);

	/* IOREGSEL at +0; +8 is no register and reads as 0 */
	ENV_TRACE(e, 0, "mmio read len 8 gpa 0xfec00000 val 0x12");
	ENV_TRACE(e, 1, "mmio read len 8 gpa 0xfec00008 val 0x0");
	TEST_ASSERT_EQ(e->vcpu.trace.nr, 2, "number of trace events");
	TEST_ASSERT_EQ(e->nr_exits, 0, "number of exits");
	TEST_ASSERT_EQ(e->vcpu.stat_mmio_exits, 0, "stat.mmio_exits");
	TEST_ASSERT_EQ(le_bytes(e->vcpu.xmm[0], 8), 0x12, "XMM0 low qword");
	TEST_ASSERT_EQ(le_bytes(e->vcpu.xmm[0] + 8, 8), 0, "XMM0 high qword");
	check_retired(t, e, 4);
	env_destroy(e);
}

MODEL_CASE(ioapic_select_window, "IOAPIC: write IOREGSEL, read IOWIN (version), both in kernel",
	   all_profiles)
{
	struct env *e = ioapic_env(c, &mov_mem_eax);

	e->vcpu.regs[VCPU_REGS_RAX] = 1;
	e->vcpu.regs[VCPU_REGS_RDI] = V0;
	env_run(e);
	check_retired(t, e, 2);

	e->insn = mov_eax_mem;
	e->vcpu.regs[VCPU_REGS_RDI] = V0 + 0x10;
	env_run(e);

	ENV_TRACE(e, 0, "mmio write len 4 gpa 0xfec00000 val 0x1");
	ENV_TRACE(e, 1, "mmio read len 4 gpa 0xfec00010 val 0x170011");
	TEST_ASSERT_EQ(e->vcpu.trace.nr, 2, "number of trace events");
	TEST_ASSERT_EQ(e->nr_exits, 0, "number of exits");
	TEST_ASSERT_EQ(e->vcpu.regs[VCPU_REGS_RAX], 0x170011, "EAX (IOAPIC version)");
	check_retired(t, e, 2);
	env_destroy(e);
}

MODEL_CASE(ioapic_read16_end, "IOAPIC 16-byte read at 0xfec000f8: 1st chunk in kernel, frag0 0xfec00100",
	   all_profiles)
{
	struct env *e = ioapic_env(c, &movdqu_load);
	unsigned int n = 0;

	e->vcpu.regs[VCPU_REGS_RDI] = V0 + 0xf8;
	env_read_data(e, pattern, 8);
	env_run(e);

	ENV_TRACE(e, n++, "mmio read len 8 gpa 0xfec000f8 val 0x0");
	/* v6.18: whole access length; 7.1: bytes left after the in-kernel chunk */
	if (per_page_t3(c))
		ENV_TRACE(e, n++, "mmio unsatisfied-read len 8 gpa 0xfec00100 val 0x0");
	else
		ENV_TRACE(e, n++, "mmio unsatisfied-read len 16 gpa 0xfec00100 val 0x0");
	/* T4: full length, frag0's GPA (note (b)), val = in-kernel low qword */
	ENV_TRACE(e, n++, "mmio read len 16 gpa 0xfec00100 val 0x0");
	TEST_ASSERT_EQ(e->vcpu.trace.nr, n, "number of trace events");
	TEST_ASSERT_EQ(e->nr_exits, 1, "number of exits");
	ENV_EXIT(e, 0, 0xfec00100, 8, false);
	TEST_ASSERT_EQ(le_bytes(e->vcpu.xmm[0], 8), 0, "XMM0 low qword (IOAPIC)");
	TEST_ASSERT_EQ(le_bytes(e->vcpu.xmm[0] + 8, 8), 0x4746454443424140ULL,
		       "XMM0 high qword (userspace)");
	check_retired(t, e, 4);
	env_destroy(e);
}

/* ---- coalesced MMIO ---- */

static struct env *coalesced_env(const struct pcase *c, const struct script_insn *insn)
{
	struct env *e = model_env(c, ENV_LONG64, false, insn);

	if (kvm_register_coalesced_mmio(&e->kvm, 0x4000, 0x1000))
		abort();
	env_map(e, V0, 0x4000, RW);
	memcpy(e->vcpu.xmm[0], pattern, 16);
	e->vcpu.regs[VCPU_REGS_RAX] = 0xaabbccdd;
	return e;
}

MODEL_CASE(coalesced_write4, "coalesced zone absorbs a 4-byte write into the ring, no exit",
	   all_profiles)
{
	struct env *e = coalesced_env(c, &mov_mem_eax);
	struct kvm_coalesced_ring *ring = &e->kvm.coalesced_ring;

	e->vcpu.regs[VCPU_REGS_RDI] = V0 + 0x10;
	env_run(e);

	TEST_ASSERT_EQ(e->vcpu.trace.nr, 1, "number of trace events");
	TEST_ASSERT_EQ(e->vcpu.trace.ev[0].gpa, 0x4010, "write trace gpa");
	TEST_ASSERT_EQ(e->vcpu.trace.ev[0].len, 4, "write trace len");
	TEST_ASSERT_EQ(e->nr_exits, 0, "number of exits");
	TEST_ASSERT_EQ(ring->last, 1, "ring entries");
	TEST_ASSERT_EQ(ring->entries[0].phys_addr, 0x4010, "ring entry gpa");
	TEST_ASSERT_EQ(ring->entries[0].len, 4, "ring entry len");
	TEST_ASSERT_EQ(le_bytes(ring->entries[0].data, 8), 0xaabbccdd, "ring entry data");
	check_retired(t, e, 2);
	env_destroy(e);
}

MODEL_CASE(coalesced_write16, "coalesced zone: 16-byte write becomes two 8-byte ring entries",
	   all_profiles)
{
	struct env *e = coalesced_env(c, &movdqu_store);
	struct kvm_coalesced_ring *ring = &e->kvm.coalesced_ring;

	e->vcpu.regs[VCPU_REGS_RDI] = V0 + 0x100;
	env_run(e);

	ENV_TRACE(e, 0, "mmio write len 16 gpa 0x4100 val 0x4746454443424140");
	TEST_ASSERT_EQ(e->nr_exits, 0, "number of exits");
	TEST_ASSERT_EQ(ring->last, 2, "ring entries");
	TEST_ASSERT_EQ(ring->entries[0].phys_addr, 0x4100, "ring entry 0 gpa");
	TEST_ASSERT_EQ(le_bytes(ring->entries[0].data, 8), 0x4746454443424140ULL, "entry 0 data");
	TEST_ASSERT_EQ(ring->entries[1].phys_addr, 0x4108, "ring entry 1 gpa");
	TEST_ASSERT_EQ(ring->entries[1].len, 8, "ring entry 1 len");
	TEST_ASSERT_EQ(le_bytes(ring->entries[1].data, 8), 0x4f4e4d4c4b4a4948ULL, "entry 1 data");
	check_retired(t, e, 4);
	env_destroy(e);
}

MODEL_CASE(coalesced_full, "coalesced zone with a full ring: the write goes to userspace",
	   all_profiles)
{
	struct env *e = coalesced_env(c, &mov_mem_eax);
	struct kvm_coalesced_ring *ring = &e->kvm.coalesced_ring;

	ring->first = 0;
	ring->last = KVM_COALESCED_MMIO_MAX - 1;
	e->vcpu.regs[VCPU_REGS_RDI] = V0 + 0x10;
	env_run(e);

	TEST_ASSERT_EQ(e->vcpu.trace.nr, 1, "number of trace events");
	TEST_ASSERT_EQ(e->nr_exits, 1, "number of exits");
	ENV_EXIT(e, 0, 0x4010, 4, true);
	TEST_ASSERT_EQ(env_exit_data(e, 0), 0xaabbccdd, "exit data");
	TEST_ASSERT_EQ(ring->last, KVM_COALESCED_MMIO_MAX - 1, "ring unchanged");
	check_retired(t, e, 2);
	env_destroy(e);
}

MODEL_CASE(coalesced_one_slot, "coalesced ring with one free slot: 1st chunk absorbed, 2nd exits",
	   all_profiles)
{
	struct env *e = coalesced_env(c, &movdqu_store);
	struct kvm_coalesced_ring *ring = &e->kvm.coalesced_ring;

	ring->first = 0;
	ring->last = KVM_COALESCED_MMIO_MAX - 2;
	e->vcpu.regs[VCPU_REGS_RDI] = V0 + 0x100;
	env_run(e);

	ENV_TRACE(e, 0, "mmio write len 16 gpa 0x4100 val 0x4746454443424140");
	TEST_ASSERT_EQ(e->nr_exits, 1, "number of exits");
	ENV_EXIT(e, 0, 0x4108, 8, true);
	TEST_ASSERT_EQ(env_exit_data(e, 0), 0x4f4e4d4c4b4a4948ULL, "exit data (high qword)");
	TEST_ASSERT_EQ(ring->last, KVM_COALESCED_MMIO_MAX - 1, "ring took one entry");
	TEST_ASSERT_EQ(ring->entries[KVM_COALESCED_MMIO_MAX - 2].phys_addr, 0x4100,
		       "ring entry gpa");
	check_retired(t, e, 4);
	env_destroy(e);
}

MODEL_CASE(coalesced_read, "coalesced zone does not handle reads: read exit",
	   all_profiles)
{
	struct env *e = coalesced_env(c, &mov_eax_mem);

	e->vcpu.regs[VCPU_REGS_RDI] = V0 + 0x10;
	env_read_data(e, (u8[]){ 1, 2, 3, 4 }, 4);
	env_run(e);

	TEST_ASSERT_EQ(e->nr_exits, 1, "number of exits");
	ENV_EXIT(e, 0, 0x4010, 4, false);
	TEST_ASSERT_EQ(e->vcpu.regs[VCPU_REGS_RAX], 0x04030201, "EAX");
	TEST_ASSERT_EQ(e->kvm.coalesced_ring.last, 0, "ring untouched");
	check_retired(t, e, 2);
	env_destroy(e);
}

/* ---- ioeventfd ---- */

struct ioeventfd_row {
	const char *title;
	u32 len;
	bool has_datamatch;
	u64 datamatch;
	const struct script_insn *insn;
	u64 value;
	unsigned int signals;
	unsigned int nr_exits;
	u64 exit_gpa;
	u32 exit_len;
};

static const struct ioeventfd_row ioeventfd_rows[] = {
	{ "ioeventfd {0x5000,4,datamatch 0x1234}: matching write signals, no exit",
	  4, true, 0x1234, &mov_mem_eax, 0x1234, 1, 0, 0, 0 },
	{ "ioeventfd {0x5000,4,datamatch 0x1234}: other value exits",
	  4, true, 0x1234, &mov_mem_eax, 0x1235, 0, 1, 0x5000, 4 },
	{ "ioeventfd {0x5000,4,datamatch 0x1234}: 2-byte write of the value exits",
	  4, true, 0x1234, &mov_mem_ax, 0x1234, 0, 1, 0x5000, 2 },
	{ "ioeventfd {0x5000,4}: 8-byte write (length mismatch) exits",
	  4, false, 0, &mov_mem_rax, 0x1234, 0, 1, 0x5000, 8 },
	{ "ioeventfd {0x5000,0}: any length at the address signals",
	  0, false, 0, &mov_mem_rax, 0x1234, 1, 0, 0, 0 },
	{ "ioeventfd {0x5000,0}: 16-byte write, 2nd chunk at 0x5008 exits",
	  0, false, 0, &movdqu_store, 0, 1, 1, 0x5008, 8 },
	{ "ioeventfd {0x5000,8}: read exits (ioeventfds are write only)",
	  8, false, 0, &mov_eax_mem, 0, 0, 1, 0x5000, 4 },
};

static void ioeventfd_run(struct test_ctx *t, const void *arg)
{
	const struct pcase *c = arg;
	const struct ioeventfd_row *r = c->row;
	struct env *e = model_env(c, ENV_LONG64, false, r->insn);
	bool write = r->insn != &mov_eax_mem;

	if (kvm_register_ioeventfd(&e->kvm, 0x5000, r->len, r->has_datamatch, r->datamatch))
		abort();
	env_map(e, V0, 0x5000, RW);
	memcpy(e->vcpu.xmm[0], pattern, 16);
	e->vcpu.regs[VCPU_REGS_RAX] = r->value;
	e->vcpu.regs[VCPU_REGS_RDI] = V0;
	env_run(e);

	TEST_ASSERT_EQ(e->kvm.mmio_bus[0].ioeventfd.signals, r->signals, "ioeventfd signals");
	TEST_ASSERT_EQ(e->nr_exits, r->nr_exits, "number of exits");
	if (r->nr_exits) {
		ENV_EXIT(e, 0, r->exit_gpa, r->exit_len, write);
		if (write && r->insn != &movdqu_store)
			TEST_ASSERT_EQ(env_exit_data(e, 0), r->value, "exit data");
		if (r->insn == &movdqu_store)
			TEST_ASSERT_EQ(env_exit_data(e, 0), 0x4f4e4d4c4b4a4948ULL, "exit data");
	}
	if (write) {
		TEST_ASSERT_EQ(e->vcpu.trace.nr, 1, "number of trace events");
		TEST_ASSERT_EQ(e->vcpu.trace.ev[0].type, KVM_TRACE_MMIO_WRITE, "trace type");
		TEST_ASSERT_EQ(e->vcpu.trace.ev[0].len, r->insn->dst.bytes, "write trace len");
	}
	check_retired(t, e, r->insn->len);
	env_destroy(e);
}

MODEL_ROWS(ioeventfd_rows, ioeventfd_run);

/* ---- read-only memslots (spec 3.2) ---- */

MODEL_CASE(rom_read, "read-only memslot: read served from RAM, no trace, no exit",
	   all_profiles)
{
	struct env *e = model_env(c, ENV_LONG64, false, &movdqu_load);
	u8 *rom = env_ram(e, 0x1000, true);

	memcpy(rom + 0xff8, pattern, 8);
	memcpy(rom + 0xff0, pattern + 8, 8);
	env_map(e, V0, 0x1000, RW);
	e->vcpu.regs[VCPU_REGS_RDI] = V0 + 0xff0;
	env_run(e);

	TEST_ASSERT_EQ(e->vcpu.trace.nr, 0, "number of trace events");
	TEST_ASSERT_EQ(e->nr_exits, 0, "number of exits");
	TEST_ASSERT_EQ(le_bytes(e->vcpu.xmm[0], 8), 0x4f4e4d4c4b4a4948ULL, "XMM0 low");
	TEST_ASSERT_EQ(le_bytes(e->vcpu.xmm[0] + 8, 8), 0x4746454443424140ULL, "XMM0 high");
	check_retired(t, e, 4);
	env_destroy(e);
}

MODEL_CASE(rom_write, "read-only memslot: write traced and exits, memory unchanged",
	   all_profiles)
{
	struct env *e = model_env(c, ENV_LONG64, false, &mov_mem_eax);
	u8 *rom = env_ram(e, 0x1000, true);

	env_map(e, V0, 0x1000, RW);
	e->vcpu.regs[VCPU_REGS_RAX] = 0xaabbccdd;
	e->vcpu.regs[VCPU_REGS_RDI] = V0 + 0x20;
	env_run(e);

	TEST_ASSERT_EQ(e->vcpu.trace.nr, 1, "number of trace events");
	TEST_ASSERT_EQ(e->vcpu.trace.ev[0].gpa, 0x1020, "write trace gpa");
	TEST_ASSERT_EQ(e->nr_exits, 1, "number of exits");
	ENV_EXIT(e, 0, 0x1020, 4, true);
	TEST_ASSERT_EQ(env_exit_data(e, 0), 0xaabbccdd, "exit data");
	TEST_ASSERT_EQ(le_bytes(rom + 0x20, 4), 0, "read-only memory unchanged");
	check_retired(t, e, 2);
	env_destroy(e);
}

MODEL_CASE(rom_write_split, "write split RAM|read-only slot: RAM piece stored, ROM piece exits",
	   modern_profiles)
{
	struct env *e = model_env(c, ENV_LONG64, false, &mov_mem_eax);
	u8 *ram = env_ram(e, 0x1000, false), *rom = env_ram(e, 0x2000, true);

	env_map(e, V0, 0x1000, RW);
	env_map(e, V1, 0x2000, RW);
	e->vcpu.regs[VCPU_REGS_RAX] = 0xaabbccdd;
	e->vcpu.regs[VCPU_REGS_RDI] = V0 + 0xfff;
	env_run(e);

	ENV_TRACE(e, 0, "mmio write len 3 gpa 0x2000 val 0xaabbcc");
	TEST_ASSERT_EQ(e->vcpu.trace.nr, 1, "number of trace events");
	TEST_ASSERT_EQ(e->nr_exits, 1, "number of exits");
	ENV_EXIT(e, 0, 0x2000, 3, true);
	TEST_ASSERT_EQ(env_exit_data(e, 0), 0xaabbcc, "exit data");
	TEST_ASSERT_EQ(ram[0xfff], 0xdd, "RAM piece");
	TEST_ASSERT_EQ(le_bytes(rom, 3), 0, "read-only piece unchanged");
	check_retired(t, e, 2);
	env_destroy(e);
}

/* ---- in-kernel xAPIC and IOAPIC details, as measured on 6.18.44 ---- */

/*
 * Readable xAPIC registers return their reset value; the others (and
 * offsets past 0x3f0) leave the destination as it was.  Measured with a
 * stale read buffer of 0x44332211 (tests/test_kvm_backend.c).
 */
TEST(lapic_reset_values_and_readable_registers)
{
	static const struct {
		u32 off;
		bool readable;
		u32 val;
	} rows[] = {
		{ 0x000, false, 0 },	  { 0x010, false, 0 },	  { 0x020, true, 0 },
		{ 0x030, true, 0x50014 }, { 0x040, false, 0 },	  { 0x070, false, 0 },
		{ 0x080, true, 0 },	  { 0x090, true, 0 },	  { 0x0a0, true, 0 },
		{ 0x0b0, false, 0 },	  { 0x0c0, false, 0 },	  { 0x0d0, true, 0 },
		{ 0x0e0, true, 0xffffffff }, { 0x0f0, true, 0xff }, { 0x100, true, 0 },
		{ 0x270, true, 0 },	  { 0x280, true, 0 },	  { 0x290, false, 0 },
		{ 0x2f0, false, 0 },	  { 0x300, true, 0 },	  { 0x310, true, 0 },
		{ 0x320, true, 0x10000 }, { 0x330, true, 0x10000 }, { 0x340, true, 0x10000 },
		{ 0x350, true, 0x700 },	  { 0x360, true, 0x10000 }, { 0x370, true, 0x10000 },
		{ 0x380, true, 0 },	  { 0x390, true, 0 },	  { 0x3a0, false, 0 },
		{ 0x3d0, false, 0 },	  { 0x3e0, true, 0 },	  { 0x3f0, false, 0 },
		{ 0x400, false, 0 },	  { 0xff0, false, 0 },
	};
	struct kvm_lapic apic;
	unsigned int i;

	kvm_lapic_reset(&apic);
	apic.hw_enabled = true;
	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		u32 v = 0x44332211;

		u32 want = rows[i].readable ? rows[i].val : 0x44332211;
		int r = kvm_lapic_mmio_read(&apic, APIC_DEFAULT_PHYS_BASE + rows[i].off, 4, &v);

		TEST_ASSERT(!r, "read at 0x%x: wanted handled, got %d", rows[i].off, r);
		TEST_ASSERT(v == want, "read at 0x%x (%s): wanted 0x%x, got 0x%x", rows[i].off,
			    rows[i].readable ? "readable" : "buffer untouched", want, v);
	}
}

/* 1, 2, 4 bytes within a register's first dword read; the rest do not. */
TEST(lapic_read_sizes)
{
	struct kvm_lapic apic;
	u64 v;

	kvm_lapic_reset(&apic);
	apic.hw_enabled = true;
	v = ~0ULL;
	kvm_lapic_mmio_read(&apic, APIC_DEFAULT_PHYS_BASE + 0x32, 1, &v);
	TEST_ASSERT_EQ(v, 0xffffffffffffff05ULL, "byte 2 of LVR");
	v = ~0ULL;
	kvm_lapic_mmio_read(&apic, APIC_DEFAULT_PHYS_BASE + 0x31, 2, &v);
	TEST_ASSERT_EQ(v, 0xffffffffffff0500ULL, "word at LVR+1");
	v = ~0ULL;
	kvm_lapic_mmio_read(&apic, APIC_DEFAULT_PHYS_BASE + 0x32, 4, &v);
	TEST_ASSERT_EQ(v, ~0ULL, "dword crossing LVR's first dword: untouched");
	v = ~0ULL;
	kvm_lapic_mmio_read(&apic, APIC_DEFAULT_PHYS_BASE + 0x30, 8, &v);
	TEST_ASSERT_EQ(v, ~0ULL, "qword at LVR: untouched");
	v = ~0ULL;
	kvm_lapic_mmio_read(&apic, APIC_DEFAULT_PHYS_BASE + 0x30, 3, &v);
	TEST_ASSERT_EQ(v, ~0ULL, "3 bytes at LVR: untouched");
}

/* A write to the xAPIC ID keeps its top byte only, as KVM's register write does. */
TEST(lapic_id_write_keeps_the_top_byte)
{
	struct kvm_lapic apic;
	u32 w = 0x50515253;
	u64 v = 0;

	kvm_lapic_reset(&apic);
	apic.hw_enabled = true;
	kvm_lapic_mmio_write(&apic, APIC_DEFAULT_PHYS_BASE + 0x20, 4, &w);
	kvm_lapic_mmio_read(&apic, APIC_DEFAULT_PHYS_BASE + 0x20, 4, &v);
	TEST_ASSERT_EQ(v, 0x50000000, "APIC ID after writing 0x50515253");
}

/* The redirection entries come out of reset masked. */
TEST(ioapic_rte_reset_masked)
{
	struct kvm kvm;
	u32 sel, v;

	kvm_init(&kvm);
	TEST_ASSERT_EQ(kvm_register_ioapic(&kvm, IOAPIC_DEFAULT_BASE), 0, "register IOAPIC");
	for (sel = 0x10; sel < 0x10 + 2 * IOAPIC_NUM_PINS; sel++) {
		u32 want = sel & 1 ? 0 : 0x10000;

		TEST_ASSERT_EQ(kvm_io_bus_write(&kvm, IOAPIC_DEFAULT_BASE, 4, &sel), 0,
			       "IOREGSEL write");
		v = 0x55555555;
		TEST_ASSERT_EQ(kvm_io_bus_read(&kvm, IOAPIC_DEFAULT_BASE + 0x10, 4, &v), 0,
			       "IOWIN read");
		TEST_ASSERT(v == want, "RTE register 0x%x: wanted 0x%x, got 0x%x", sel, want, v);
	}
}

/* Lengths other than 1, 2, 4, 8: reads leave the buffer, writes do nothing. */
TEST(ioapic_odd_lengths)
{
	static const int lens[] = { 3, 5, 6, 7 };
	struct kvm kvm;
	unsigned int i;
	u64 v;

	kvm_init(&kvm);
	TEST_ASSERT_EQ(kvm_register_ioapic(&kvm, IOAPIC_DEFAULT_BASE), 0, "register IOAPIC");
	kvm.mmio_bus[0].ioapic.ioregsel = 0x12;
	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		int rr, rw;

		v = 0x8877665544332211ULL;
		rr = kvm_io_bus_read(&kvm, IOAPIC_DEFAULT_BASE, lens[i], &v);
		TEST_ASSERT(!rr, "read len %d: wanted handled, got %d", lens[i], rr);
		TEST_ASSERT(v == 0x8877665544332211ULL,
			    "read len %d: wanted the buffer untouched, got 0x%llx", lens[i],
			    (unsigned long long)v);
		rw = kvm_io_bus_write(&kvm, IOAPIC_DEFAULT_BASE, lens[i], &v);
		TEST_ASSERT(!rw, "write len %d: wanted handled, got %d", lens[i], rw);
		TEST_ASSERT(kvm.mmio_bus[0].ioapic.ioregsel == 0x12,
			    "write len %d: wanted IOREGSEL 0x12 kept, got 0x%x", lens[i],
			    kvm.mmio_bus[0].ioapic.ioregsel);
	}
	v = 0x8877665544332211ULL;
	kvm_io_bus_read(&kvm, IOAPIC_DEFAULT_BASE, 8, &v);
	TEST_ASSERT_EQ(v, 0x12, "read len 8: IOREGSEL zero-extended");
	v = 0x3456;
	kvm_io_bus_write(&kvm, IOAPIC_DEFAULT_BASE, 2, &v);
	TEST_ASSERT_EQ(kvm.mmio_bus[0].ioapic.ioregsel, 0x56, "IOREGSEL after a 2-byte write");
}

/*
 * Split 1+3 read MMIO|IOAPIC: the 3-byte IOAPIC piece is handled (T1
 * trace, no exit) but reads nothing, so EAX's upper bytes are the read
 * buffer's (zero in a fresh vCPU), not IOREGSEL.
 */
MODEL_CASE(ioapic_split_read3, "split read MMIO|IOAPIC 1+3: the IOAPIC piece reads nothing",
	   modern_profiles)
{
	struct env *e = model_env(c, ENV_LONG64, false, &mov_eax_mem);

	if (kvm_register_ioapic(&e->kvm, IOAPIC_DEFAULT_BASE))
		abort();
	e->kvm.mmio_bus[0].ioapic.ioregsel = 0x12;
	env_map(e, V0, 0x5000, RW);
	env_map(e, V1, IOAPIC_DEFAULT_BASE, RW);
	e->vcpu.regs[VCPU_REGS_RDI] = V0 + 0xfff;
	env_read_data(e, (u8[]){ 0x11 }, 1);
	env_run(e);

	/* 7.1 traces the userspace piece's unsatisfied-read first */
	ENV_TRACE(e, per_page_t3(c) ? 1 : 0, "mmio read len 3 gpa 0xfec00000 val 0x0");
	TEST_ASSERT_EQ(e->nr_exits, 1, "number of exits");
	ENV_EXIT(e, 0, 0x5fff, 1, false);
	TEST_ASSERT_EQ(e->vcpu.regs[VCPU_REGS_RAX], 0x11, "EAX");
	check_retired(t, e, 2);
	env_destroy(e);
}
