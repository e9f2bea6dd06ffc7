// SPDX-License-Identifier: GPL-2.0-only
/*
 * Oracle (see oracle.h).  Structure:
 *   1. oracle_build(): walk the access list in order, split every access
 *      at 4 KiB linear boundaries (with the 32-bit wrap), translate each
 *      piece through the scenario's own map list, classify the backing, and
 *      append the events a correct kernel emits to per-type expectation
 *      lists (in-kernel reads, unsatisfied reads, completion reads, writes,
 *      exits).  Events KVM emits for accesses that then fault are marked
 *      "phantom": tolerated, but reported as their own kind.
 *   2. One check function per invariant compares one list with what the
 *      backend saw and adds a violation of its kind.
 */
#include <string.h>

#include "backend.h"
#include "emulate.h"
#include "oracle.h"

#define ORACLE_MAX_EVENTS	96
#define ORACLE_MAX_EXITS	RESULT_MAX_EXITS
#define ORACLE_MAX_SHADOW	512

enum backing {
	B_RAM,
	B_ROM,
	B_USER,		/* userspace MMIO */
	B_IOAPIC,
	B_IOEVENTFD,
	B_COALESCED,
	B_LAPIC,
};

struct piece {
	u64 la;
	u32 off;		/* offset in the access */
	u32 len;
	bool fault;
	bool noncanonical;
	u64 gpa;
	enum backing b;
	u64 ev_addr;		/* ioeventfd */
	u32 ev_len;
};

struct exp_event {
	u8 type;
	u32 len;
	u64 gpa;
	u64 val;
	bool check_val;
	bool phantom;
};

struct exp_list {
	struct exp_event e[ORACLE_MAX_EVENTS];
	unsigned int nr;
	bool overflow;
};

struct exp_exit {
	u64 gpa;
	u32 len;
	bool write;
	u8 data[8];
	bool check_data;
	int access;		/* index of the read access it delivers to */
};

struct shadow_byte {
	u64 gpa;
	u8 val;
};

struct oracle {
	const struct scenario *s;
	const struct kvm_profile *p;
	const struct run_result *r;
	const struct emul_access_log *log;
	struct violation_list *out;

	struct scn_map maps[SCN_MAX_MAPS];
	unsigned int nr_maps;
	bool long_mode, paging, irqchip;
	bool harness_memory;	/* an access touched the harness's own pages */

	struct exp_list t1, t3, t4, t2;
	struct exp_exit exits[ORACLE_MAX_EXITS];
	unsigned int nr_exits;
	bool exits_overflow;

	/* the write exchange an invocation would deliver at its end */
	int pending_write;
	struct piece pending_pieces[2];
	unsigned int nr_pending;

	struct shadow_byte shadow[ORACLE_MAX_SHADOW];
	unsigned int nr_shadow;

	unsigned int ring_used;		/* coalesced ring entries since the last exit */
};

/* ---- layout: translation and backing, from the scenario only ---- */

static const struct scn_map *oracle_map_by_gpa(const struct oracle *o, u64 gpa)
{
	unsigned int i;

	for (i = 0; i < o->nr_maps; i++)
		if (o->maps[i].gpa == (gpa & PAGE_MASK))
			return &o->maps[i];
	return NULL;
}

static void oracle_backing(const struct oracle *o, struct piece *pc, bool write)
{
	const struct scn_map *m = oracle_map_by_gpa(o, pc->gpa);
	u64 frame = pc->gpa & PAGE_MASK;

	/* the APIC page is MMIO whatever backs it (spec 3.1) */
	if (frame == APIC_DEFAULT_PHYS_BASE) {
		pc->b = o->irqchip ? B_LAPIC : B_USER;
		return;
	}
	if (!m) {
		pc->b = B_USER;		/* no memslot */
		return;
	}
	switch (m->kind) {
	case SCN_KIND_RAM:
		pc->b = B_RAM;
		break;
	case SCN_KIND_ROM:
		pc->b = write ? B_USER : B_ROM;
		break;
	case SCN_KIND_IOAPIC:
		pc->b = o->irqchip ? B_IOAPIC : B_USER;
		break;
	case SCN_KIND_IOEVENTFD:
		pc->b = B_IOEVENTFD;
		pc->ev_addr = frame + m->ev_offset;
		pc->ev_len = m->ev_len;
		break;
	case SCN_KIND_COALESCED:
		pc->b = B_COALESCED;
		break;
	case SCN_KIND_LAPIC:
		pc->b = o->irqchip ? B_LAPIC : B_USER;
		break;
	default:
		pc->b = B_USER;
		break;
	}
}

static void oracle_translate(const struct oracle *o, struct piece *pc, bool write)
{
	u64 page = pc->la & PAGE_MASK;
	bool user = o->s->cpl == 3;
	unsigned int i;

	pc->fault = false;
	if (!o->paging) {
		pc->gpa = pc->la;
		return;
	}
	if (o->long_mode && !is_canonical(pc->la)) {
		/* the walker only sees bits 47:0: that is the alias it uses */
		pc->noncanonical = true;
		page = (u64)((s64)(page << 16) >> 16);
	}
	for (i = 0; i < o->nr_maps; i++) {
		const struct scn_map *m = &o->maps[i];

		if (m->gva != page)
			continue;
		if (m->flags & SCN_MAP_NOT_PRESENT)
			break;
		/* NX is a reserved bit while EFER.NXE is clear */
		if (o->long_mode && (m->flags & SCN_MAP_NX) && !(o->s->ctl & SCN_CTL_EFER_NXE))
			break;
		if (user && !(m->flags & SCN_MAP_USER))
			break;
		if (write && !(m->flags & SCN_MAP_WRITE) &&
		    (user || (o->s->ctl & SCN_CTL_CR0_WP)))
			break;
		pc->gpa = m->gpa | offset_in_page(pc->la);
		return;
	}
	pc->fault = true;
}

/* Split at 4 KiB linear boundaries, wrapping at 4 GiB outside long mode. */
static unsigned int oracle_split(const struct oracle *o, const struct emul_access *a,
				 struct piece pcs[2])
{
	u64 la = a->la;
	u32 n = a->bytes;
	unsigned int nr = 0;

	if (((la + n - 1) ^ la) & PAGE_MASK) {
		u32 now = (u32)(PAGE_SIZE - offset_in_page(la));

		pcs[nr++] = (struct piece){ .la = la, .off = 0, .len = now };
		la += now;
		if (!o->long_mode)
			la = (u32)la;
		pcs[nr++] = (struct piece){ .la = la, .off = now, .len = n - now };
	} else {
		pcs[nr++] = (struct piece){ .la = la, .off = 0, .len = n };
	}
	return nr;
}

/* ---- expectation lists ---- */

static u64 data_val(const struct emul_access *a, u32 off, u32 len, bool *known)
{
	u64 v = 0;
	u32 i, n = min_t(u32, len, 8);

	*known = off + n <= EMUL_ACCESS_DATA;
	for (i = 0; i < n && off + i < EMUL_ACCESS_DATA; i++)
		v |= (u64)a->data[off + i] << (8 * i);
	return v;
}

static void exp_add(struct exp_list *l, u8 type, u32 len, u64 gpa, u64 val,
		    bool check_val, bool phantom)
{
	if (l->nr == ORACLE_MAX_EVENTS) {
		l->overflow = true;
		return;
	}
	l->e[l->nr++] = (struct exp_event){ type, len, gpa, val, check_val, phantom };
}

static void exp_exits_for(struct oracle *o, const struct emul_access *a, int idx,
			  const struct piece *pc, u32 handled, bool write)
{
	u32 off;

	for (off = handled; off < pc->len; off += 8) {
		struct exp_exit *x;
		u32 i;

		if (o->nr_exits == ORACLE_MAX_EXITS) {
			o->exits_overflow = true;
			return;
		}
		x = &o->exits[o->nr_exits++];
		*x = (struct exp_exit){
			.gpa = pc->gpa + off,
			.len = min_t(u32, 8, pc->len - off),
			.write = write,
			.access = idx,
		};
		x->check_data = write && pc->off + off + x->len <= EMUL_ACCESS_DATA;
		for (i = 0; write && i < x->len && pc->off + off + i < EMUL_ACCESS_DATA; i++)
			x->data[i] = a->data[pc->off + off + i];
	}
}

/*
 * Does an in-kernel device take this chunk?  (spec 3.3)  The coalesced
 * ring holds KVM_COALESCED_MMIO_MAX - 1 entries and userspace empties it
 * at every exit; a full ring sends the chunk to userspace.
 */
static bool oracle_device_accepts(struct oracle *o, const struct piece *pc, u64 addr,
				  u32 len, bool write)
{
	switch (pc->b) {
	case B_LAPIC:
		return true;
	case B_IOAPIC:
		return addr >= IOAPIC_DEFAULT_BASE &&
		       addr + len <= IOAPIC_DEFAULT_BASE + IOAPIC_MEM_LENGTH;
	case B_IOEVENTFD:
		return write && addr == pc->ev_addr && (!pc->ev_len || pc->ev_len == len);
	case B_COALESCED:
		if (!write || o->ring_used == KVM_COALESCED_MMIO_MAX - 1)
			return false;
		o->ring_used++;
		return true;
	default:
		return false;
	}
}

/* Leading run of accepted 8-byte chunks; reads trace each (T1). */
static u32 oracle_handled(struct oracle *o, const struct emul_access *a,
			  const struct piece *pc, bool write, bool phantom)
{
	u32 off = 0;

	while (off < pc->len) {
		u32 c = min_t(u32, 8, pc->len - off);
		bool known;
		u64 v;

		if (!oracle_device_accepts(o, pc, pc->gpa + off, c, write))
			break;
		if (!write) {
			v = data_val(a, pc->off + off, c, &known);
			exp_add(&o->t1, KVM_TRACE_MMIO_READ, c, pc->gpa + off, v,
				known && a->result == X86EMUL_CONTINUE, phantom);
		}
		off += c;
	}
	return off;
}

static bool is_ram_piece(const struct piece *pc)
{
	return pc->b == B_RAM || pc->b == B_ROM;
}

static void shadow_write(struct oracle *o, u64 gpa, u8 val)
{
	unsigned int i;

	for (i = 0; i < o->nr_shadow; i++) {
		if (o->shadow[i].gpa == gpa) {
			o->shadow[i].val = val;
			return;
		}
	}
	if (o->nr_shadow < ORACLE_MAX_SHADOW)
		o->shadow[o->nr_shadow++] = (struct shadow_byte){ gpa, val };
}

static u8 ram_byte(const struct oracle *o, u64 gpa)
{
	unsigned int i;

	for (i = 0; i < o->nr_shadow; i++)
		if (o->shadow[i].gpa == gpa)
			return o->shadow[i].val;
	return ram_pattern_byte(gpa);
}

/* The pending write exchange of this invocation is replaced or lost. */
static void drop_pending_write(struct oracle *o, const char *why)
{
	if (o->pending_write < 0)
		return;
	violation_add(o->out, o->p, V_WRITE_DROPPED,
		      "access %d: its %u MMIO piece(s) never reach userspace (%s)",
		      o->pending_write, o->nr_pending, why);
	o->pending_write = -1;
}

static void flush_pending_write(struct oracle *o, bool delivered)
{
	const struct emul_access *a;
	unsigned int i;

	if (o->pending_write < 0)
		return;
	if (!delivered) {
		o->pending_write = -1;
		return;
	}
	a = &o->log->a[o->pending_write];
	o->ring_used = 0;	/* the write exits: userspace empties the ring */
	for (i = 0; i < o->nr_pending; i++)
		exp_exits_for(o, a, o->pending_write, &o->pending_pieces[i], 0, true);
	o->pending_write = -1;
}

static void oracle_write(struct oracle *o, const struct emul_access *a, int idx,
			 struct piece *pcs, unsigned int nr, bool aborted)
{
	struct piece user[2];
	unsigned int i, nr_user = 0;
	bool known;
	u64 v;

	for (i = 0; i < nr; i++) {
		struct piece *pc = &pcs[i];
		u32 handled;

		if (pc->fault)
			break;
		if (pc->b == B_RAM)
			continue;
		v = data_val(a, pc->off, pc->len, &known);
		exp_add(&o->t2, KVM_TRACE_MMIO_WRITE, pc->len, pc->gpa, v, known, aborted);
		handled = oracle_handled(o, a, pc, true, aborted);
		if (handled < pc->len) {
			/* the piece's exits start after the in-kernel prefix */
			struct piece *u = &user[nr_user++];

			*u = *pc;
			u->gpa += handled;
			u->off += handled;
			u->len -= handled;
		}
	}
	if (aborted || !nr_user)
		return;
	drop_pending_write(o, "a later write replaced its fragments");
	o->pending_write = idx;
	o->nr_pending = nr_user;
	for (i = 0; i < nr_user; i++)
		o->pending_pieces[i] = user[i];
}

static void oracle_read(struct oracle *o, const struct emul_access *a, int idx,
			struct piece *pcs, unsigned int nr, bool phantom)
{
	struct piece unsat[2];
	unsigned int i, nr_unsat = 0;
	bool known;

	if (a->completion) {
		/* the completing replay of an earlier exchange (T4) */
		u64 v = data_val(a, 0, a->bytes, &known);

		exp_add(&o->t4, KVM_TRACE_MMIO_READ, a->bytes, pcs[0].gpa, v, known, false);
		return;
	}
	for (i = 0; i < nr; i++) {
		struct piece *pc = &pcs[i];
		u32 handled;

		if (pc->fault)
			break;
		if (is_ram_piece(pc))
			continue;
		handled = oracle_handled(o, a, pc, false, phantom);
		if (handled == pc->len)
			continue;
		unsat[nr_unsat] = *pc;
		unsat[nr_unsat].gpa = pc->gpa + handled;
		unsat[nr_unsat].off = pc->off + handled;
		unsat[nr_unsat].len = pc->len - handled;
		exp_add(&o->t3, KVM_TRACE_MMIO_READ_UNSATISFIED, unsat[nr_unsat].len,
			unsat[nr_unsat].gpa, 0, true, phantom);
		nr_unsat++;
	}
	if (phantom || !nr_unsat)
		return;
	/* a read exchange starts now: a pending write would be replaced */
	drop_pending_write(o, "a read exchange replaced its fragments");
	o->ring_used = 0;	/* the read exits: userspace empties the ring */
	for (i = 0; i < nr_unsat; i++)
		exp_exits_for(o, a, idx, &unsat[i], 0, false);
}

static void oracle_build(struct oracle *o)
{
	const struct emul_access_log *log = o->log;
	u32 inv = 0;
	unsigned int i;

	o->pending_write = -1;
	for (i = 0; i < log->nr; i++) {
		const struct emul_access *a = &log->a[i];
		struct piece pcs[2];
		unsigned int nr, k;
		bool ended_badly, faulted;

		if (a->invocation != inv) {
			flush_pending_write(o, inv != log->exception_invocation &&
					       inv != log->failure_invocation);
			inv = a->invocation;
		}
		/* events of an instruction that faults or fails never count */
		ended_badly = inv == log->exception_invocation ||
			      inv == log->failure_invocation;
		faulted = a->result == X86EMUL_PROPAGATE_FAULT;

		nr = oracle_split(o, a, pcs);
		for (k = 0; k < nr; k++) {
			oracle_translate(o, &pcs[k], a->write);
			if (pcs[k].noncanonical)
				violation_add(o->out, o->p, V_NONCANONICAL_ACCESS,
					      "access %u at 0x%llx+%u reaches non-canonical 0x%llx",
					      i, (unsigned long long)a->la, a->bytes,
					      (unsigned long long)pcs[k].la);
			if (!pcs[k].fault)
				oracle_backing(o, &pcs[k], a->write);
			if (!pcs[k].fault && pcs[k].gpa + pcs[k].len > SCN_RESERVED_START &&
			    pcs[k].gpa < SCN_RESERVED_END)
				o->harness_memory = true;
		}

		/*
		 * The layout decides whether the access faults, not the model.
		 * The CPU's own access (a->native, emulator/README.md "The
		 * CPU's first access") reaches a later page only through RAM:
		 * a page that traps ends it, and it moves no data, so it
		 * expects no event.
		 */
		for (k = 0; k < nr; k++)
			if (pcs[k].fault || (a->native && !is_ram_piece(&pcs[k])))
				break;
		if (a->native && k < nr && !pcs[k].fault)
			k = nr;
		if ((k < nr) != faulted && !a->completion &&
		    a->result != X86EMUL_UNHANDLEABLE) {
			violation_add(o->out, o->p, V_TRANSLATION,
				      "access %u at 0x%llx+%u: layout says %s, emulator got %s",
				      i, (unsigned long long)a->la, a->bytes,
				      k < nr ? "#PF" : "no fault",
				      faulted ? "a fault" : "no fault");
		}

		if (a->native)
			continue;
		if (a->write)
			oracle_write(o, a, i, pcs, nr, ended_badly || faulted ||
				     a->result != X86EMUL_CONTINUE);
		else
			oracle_read(o, a, i, pcs, nr, ended_badly && faulted);
	}
	flush_pending_write(o, inv != log->exception_invocation &&
			       inv != log->failure_invocation);
}

/* ---- checks: one per invariant, each its own violation kind ---- */

/*
 * Compare an expectation list with the events of @type the backend traced.
 * Phantom expectations may be present or absent; present ones are
 * reported as V_PHANTOM_TRACE.  Returns false at the first mismatch,
 * describing it in @why.
 */
static bool oracle_match_events(struct oracle *o, const struct exp_list *l, u8 type,
				char *why, size_t n, bool *phantom_seen)
{
	const struct kvm_mmio_trace *t = &o->r->trace;
	unsigned int i, j = 0;

	for (i = 0; i < t->nr; i++) {
		const struct kvm_mmio_event *ev = &t->ev[i];
		bool matched = false;

		if (ev->type != type)
			continue;
		while (j < l->nr) {
			const struct exp_event *x = &l->e[j];
			bool same = x->len == ev->len && x->gpa == ev->gpa &&
				    (!x->check_val || x->val == ev->val);

			j++;
			if (same) {
				if (x->phantom)
					*phantom_seen = true;
				matched = true;
				break;
			}
			if (!x->phantom) {
				snprintf(why, n, "wanted 'mmio %s len %u gpa 0x%llx val 0x%llx', got "
					 "'mmio %s len %u gpa 0x%llx val 0x%llx'",
					 kvm_mmio_type_name(type), x->len,
					 (unsigned long long)x->gpa, (unsigned long long)x->val,
					 kvm_mmio_type_name(type), ev->len,
					 (unsigned long long)ev->gpa, (unsigned long long)ev->val);
				return false;
			}
		}
		if (!matched) {
			snprintf(why, n, "unexpected 'mmio %s len %u gpa 0x%llx val 0x%llx'",
				 kvm_mmio_type_name(type), ev->len,
				 (unsigned long long)ev->gpa, (unsigned long long)ev->val);
			return false;
		}
	}
	/* a run cut at a limit stops somewhere in the expected events */
	if (o->r->outcome == OUTCOME_BUDGET)
		return true;
	for (; j < l->nr; j++) {
		if (!l->e[j].phantom) {
			snprintf(why, n, "missing 'mmio %s len %u gpa 0x%llx'",
				 kvm_mmio_type_name(type), l->e[j].len,
				 (unsigned long long)l->e[j].gpa);
			return false;
		}
	}
	return true;
}

static void oracle_check_trace(struct oracle *o, const struct exp_list *l, u8 type,
			       enum violation_kind kind)
{
	bool phantom = false;
	char why[VIOLATION_DETAIL - 16];

	if (l->overflow || o->r->trace.lost)
		return;
	if (!oracle_match_events(o, l, type, why, sizeof(why), &phantom))
		violation_add(o->out, o->p, kind, "%s", why);
	if (phantom)
		violation_add(o->out, o->p, V_PHANTOM_TRACE,
			      "'%s' traced for an access that faulted", kvm_mmio_type_name(type));
}

static void oracle_check_unsatisfied_reads(struct oracle *o)
{
	oracle_check_trace(o, &o->t3, KVM_TRACE_MMIO_READ_UNSATISFIED, V_UNSATISFIED_READ_TRACE);
}

/* The "read" type carries both T1 and T4: check them in one ordered pass. */
static void oracle_check_reads(struct oracle *o)
{
	const struct kvm_mmio_trace *t = &o->r->trace;
	unsigned int i, k, j1 = 0, j4 = 0;

	if (o->t1.overflow || t->lost)
		return;
	for (i = 0; i < t->nr; i++) {
		const struct kvm_mmio_event *ev = &t->ev[i];
		const struct exp_event *x;

		if (ev->type != KVM_TRACE_MMIO_READ)
			continue;
		/*
		 * A T1 expectation matching exactly wins (phantoms before it
		 * may be skipped); else it is a T4 and nothing is consumed.
		 */
		k = j1;
		while (k < o->t1.nr && o->t1.e[k].phantom &&
		       (o->t1.e[k].len != ev->len || o->t1.e[k].gpa != ev->gpa))
			k++;
		if (k < o->t1.nr && o->t1.e[k].len == ev->len && o->t1.e[k].gpa == ev->gpa) {
			j1 = k + 1;
			x = &o->t1.e[k];
			if (x->check_val && x->val != ev->val)
				violation_add(o->out, o->p, V_INKERNEL_READ_TRACE,
					      "in-kernel read at 0x%llx len %u: val 0x%llx, data 0x%llx",
					      (unsigned long long)ev->gpa, ev->len,
					      (unsigned long long)ev->val, (unsigned long long)x->val);
			if (x->phantom)
				violation_add(o->out, o->p, V_PHANTOM_TRACE,
					      "'read' traced for an access that faulted");
			continue;
		}
		if (j4 < o->t4.nr) {
			x = &o->t4.e[j4++];
			if (x->len != ev->len || (x->check_val && x->val != ev->val))
				violation_add(o->out, o->p, V_COMPLETION_READ_TRACE,
					      "wanted 'mmio read len %u ... val 0x%llx', got "
					      "'mmio read len %u gpa 0x%llx val 0x%llx'",
					      x->len, (unsigned long long)x->val, ev->len,
					      (unsigned long long)ev->gpa, (unsigned long long)ev->val);
			else if (x->gpa != ev->gpa)
				violation_add(o->out, o->p, V_COMPLETION_READ_GPA,
					      "completion 'mmio read len %u' at gpa 0x%llx, the access "
					      "starts at 0x%llx", ev->len,
					      (unsigned long long)ev->gpa, (unsigned long long)x->gpa);
			continue;
		}
		violation_add(o->out, o->p, V_INKERNEL_READ_TRACE,
			      "unexpected 'mmio read len %u gpa 0x%llx val 0x%llx'",
			      ev->len, (unsigned long long)ev->gpa, (unsigned long long)ev->val);
		return;
	}
	for (; j1 < o->t1.nr; j1++)
		if (!o->t1.e[j1].phantom) {
			violation_add(o->out, o->p, V_INKERNEL_READ_TRACE,
				      "missing in-kernel 'mmio read len %u gpa 0x%llx'",
				      o->t1.e[j1].len, (unsigned long long)o->t1.e[j1].gpa);
			break;
		}
	if (j4 < o->t4.nr && o->r->outcome != OUTCOME_BUDGET)
		violation_add(o->out, o->p, V_COMPLETION_READ_TRACE,
			      "missing completion 'mmio read len %u' for a finished exchange",
			      o->t4.e[j4].len);
}

static void oracle_check_writes(struct oracle *o)
{
	oracle_check_trace(o, &o->t2, KVM_TRACE_MMIO_WRITE, V_WRITE_TRACE);
}

/* spec 10.7: len in [1,8], never crossing a page */
static void oracle_check_exit_chunking(struct oracle *o)
{
	unsigned int i;

	for (i = 0; i < o->r->nr_exits; i++) {
		const struct run_exit *x = &o->r->exits[i];

		if (x->len < 1 || x->len > 8 ||
		    ((x->gpa + x->len - 1) ^ x->gpa) & PAGE_MASK) {
			violation_add(o->out, o->p, V_EXIT_CHUNKING,
				      "exit %u: gpa 0x%llx len %u", i,
				      (unsigned long long)x->gpa, x->len);
			return;
		}
	}
}

static void oracle_check_exit_sequence(struct oracle *o)
{
	const struct run_result *r = o->r;
	unsigned int i, n = min_t(unsigned int, r->nr_exits, o->nr_exits);

	if (o->exits_overflow || r->exits_lost)
		return;
	for (i = 0; i < n; i++) {
		const struct run_exit *x = &r->exits[i];
		const struct exp_exit *w = &o->exits[i];

		if (x->gpa != w->gpa || x->len != w->len || x->write != w->write) {
			violation_add(o->out, o->p, V_EXIT_SEQUENCE,
				      "exit %u: wanted {0x%llx,%u,%c}, got {0x%llx,%u,%c}", i,
				      (unsigned long long)w->gpa, w->len, w->write ? 'W' : 'R',
				      (unsigned long long)x->gpa, x->len, x->write ? 'W' : 'R');
			return;
		}
	}
	if (r->nr_exits != o->nr_exits && r->outcome != OUTCOME_BUDGET)
		violation_add(o->out, o->p, V_EXIT_SEQUENCE, "wanted %u exits, got %u",
			      o->nr_exits, r->nr_exits);
}

static void oracle_check_exit_write_data(struct oracle *o)
{
	const struct run_result *r = o->r;
	unsigned int i, n = min_t(unsigned int, r->nr_exits, o->nr_exits);

	for (i = 0; i < n; i++) {
		const struct run_exit *x = &r->exits[i];
		const struct exp_exit *w = &o->exits[i];

		if (x->gpa != w->gpa || x->len != w->len || x->write != w->write)
			return;		/* the sequence check reports it */
		if (w->write && w->check_data && memcmp(x->data, w->data, w->len)) {
			u64 got = 0, want = 0;

			memcpy(&got, x->data, w->len);
			memcpy(&want, w->data, w->len);
			violation_add(o->out, o->p, V_EXIT_WRITE_DATA,
				      "exit %u {0x%llx,%u,W}: wanted data 0x%llx, got 0x%llx", i,
				      (unsigned long long)x->gpa, x->len,
				      (unsigned long long)want, (unsigned long long)got);
			return;
		}
	}
}

/* What userspace answered for @gpa in the read exits of access @idx. */
static bool userspace_byte(const struct oracle *o, int idx, u64 gpa, u8 *b)
{
	unsigned int i, n = min_t(unsigned int, o->r->nr_exits, o->nr_exits);

	for (i = 0; i < n; i++) {
		const struct run_exit *x = &o->r->exits[i];

		if (x->write || gpa < x->gpa || gpa >= x->gpa + x->len)
			continue;
		if (o->exits[i].gpa != x->gpa || o->exits[i].len != x->len)
			return false;
		*b = x->data[gpa - x->gpa];
		/* the latest exchange for this GPA before the completion wins */
		if (o->exits[i].access >= idx)
			break;
	}
	return i < n || n > 0;
}

/*
 * RAM pieces of a write change guest memory as soon as they are done, even
 * when a later piece faults (spec 2.4): replay them in access order.
 */
static void oracle_shadow_ram_write(struct oracle *o, const struct emul_access *a)
{
	struct piece pcs[2];
	unsigned int nr, k;
	u32 b;

	if (a->result != X86EMUL_CONTINUE && a->result != X86EMUL_PROPAGATE_FAULT)
		return;
	nr = oracle_split(o, a, pcs);
	for (k = 0; k < nr; k++) {
		oracle_translate(o, &pcs[k], true);
		if (pcs[k].fault)
			return;
		oracle_backing(o, &pcs[k], true);
		if (pcs[k].b != B_RAM)
			continue;
		for (b = 0; b < pcs[k].len && pcs[k].off + b < EMUL_ACCESS_DATA; b++)
			shadow_write(o, pcs[k].gpa + b, a->data[pcs[k].off + b]);
	}
}

/*
 * The replay after a read exit must complete the very access that exited:
 * same linear address and size.  Returns true (and reports) if not; the
 * data delivered then belongs to another address, so it is not checked.
 */
static bool oracle_check_replay(struct oracle *o, unsigned int i, int exchange)
{
	const struct emul_access *a = &o->log->a[i], *x;

	if (exchange < 0)
		return false;
	x = &o->log->a[exchange];
	if (x->la == a->la && x->bytes == a->bytes)
		return false;
	violation_add(o->out, o->p, V_REPLAY_MISMATCH,
		      "access %u completes the exchange of access %d (0x%llx+%u) at 0x%llx+%u",
		      i, exchange, (unsigned long long)x->la, x->bytes,
		      (unsigned long long)a->la, a->bytes);
	return true;
}

/* Values delivered to the instruction equal the bytes behind each GPA. */
static void oracle_check_read_data(struct oracle *o)
{
	const struct emul_access_log *log = o->log;
	int last_exchange = -1;
	unsigned int i;

	o->nr_shadow = 0;
	for (i = 0; i < log->nr; i++) {
		const struct emul_access *a = &log->a[i];
		struct piece pcs[2];
		unsigned int nr, k;

		if (a->write) {
			oracle_shadow_ram_write(o, a);
			continue;
		}
		if (a->result == X86EMUL_IO_NEEDED) {
			last_exchange = i;
			continue;
		}
		if (a->result != X86EMUL_CONTINUE)
			continue;
		if (a->completion && oracle_check_replay(o, i, last_exchange))
			continue;
		nr = oracle_split(o, a, pcs);
		for (k = 0; k < nr; k++) {
			struct piece *pc = &pcs[k];
			u32 b;

			oracle_translate(o, pc, false);
			if (pc->fault)
				break;
			oracle_backing(o, pc, false);
			for (b = 0; b < pc->len && pc->off + b < EMUL_ACCESS_DATA; b++) {
				u64 gpa = pc->gpa + b;
				u8 want = 0, got = a->data[pc->off + b];

				if (is_ram_piece(pc))
					want = ram_byte(o, gpa);
				else if (pc->b == B_USER && a->completion && last_exchange >= 0 &&
					 userspace_byte(o, last_exchange, gpa, &want))
					;
				else
					continue;	/* device registers: not modelled here */
				if (want != got) {
					violation_add(o->out, o->p, V_READ_DATA,
						      "access %u byte %u (gpa 0x%llx): wanted 0x%02x, got 0x%02x",
						      i, pc->off + b, (unsigned long long)gpa, want, got);
					return;
				}
			}
		}
	}
}

static void oracle_check_state(struct oracle *o)
{
	const struct run_result *r = o->r;

	if (r->mmio_pending && r->outcome != OUTCOME_BUDGET)
		violation_add(o->out, o->p, V_PENDING_MMIO,
			      "mmio_needed still set after the instruction ended (%s)",
			      run_outcome_name(r->outcome));
	if (r->warnings)
		violation_add(o->out, o->p, V_KVM_WARN, "WARN sites hit: 0x%x", r->warnings);
	if (r->outcome == OUTCOME_KVM_ERROR || r->outcome == OUTCOME_HOST_BUG)
		violation_add(o->out, o->p, V_KVM_BUG, "%s (errno %d)",
			      run_outcome_name(r->outcome), r->kvm_errno);
}

/*
 * RFLAGS.TF when the instruction starts: once it completes, the single-step
 * #DB trap follows (SDM vol. 3, 18.3.1.4), whatever its accesses were.
 */
static void oracle_check_singlestep(struct oracle *o)
{
	if ((scenario_reg(o->s, SCN_REG_RFLAGS) & X86_EFLAGS_TF) &&
	    o->r->outcome == OUTCOME_RETIRED)
		violation_add(o->out, o->p, V_SINGLESTEP_LOST,
			      "TF was set and the instruction retired without the #DB trap");
}

/*
 * A write exited that a device the kvm backend registered on KVM's MMIO
 * bus takes (run_result.iobus_missed): KVM's bus search missed the device
 * (harness/kvm/iobus_order.c).  The exits and events after it differ from
 * a correct kernel's for that reason alone, so nothing else is judged.
 */
static bool oracle_check_iobus(struct oracle *o)
{
	if (!o->r->iobus_missed)
		return false;
	violation_add(o->out, o->p, V_IOBUS_MISSED,
		      "write at 0x%llx exited although a device registered on the MMIO bus takes it",
		      (unsigned long long)o->r->iobus_missed_gpa);
	return true;
}

void oracle_check(const struct scenario *s, const struct kvm_profile *p,
		  const struct run_result *r, const struct emul_access_log *accesses,
		  struct violation_list *out)
{
	struct oracle *o, stack_o;

	o = &stack_o;
	/* the expectation arrays are large: only their counts need clearing */
	memset(o, 0, offsetof(struct oracle, t1));
	o->t1.nr = o->t3.nr = o->t4.nr = o->t2.nr = 0;
	o->t1.overflow = o->t3.overflow = o->t4.overflow = o->t2.overflow = false;
	o->nr_exits = 0;
	o->exits_overflow = false;
	o->pending_write = -1;
	o->nr_pending = 0;
	o->nr_shadow = 0;
	o->ring_used = 0;
	o->s = s;
	o->p = p;
	o->r = r;
	o->log = accesses;
	o->out = out;
	o->nr_maps = scenario_maps(s, o->maps);
	o->long_mode = s->mode == SCN_MODE_LONG64;
	o->paging = scenario_paging(s);
	o->irqchip = !(s->ctl & SCN_CTL_NO_IRQCHIP);

	if (r->outcome == OUTCOME_NOT_RUN || oracle_check_iobus(o))
		return;
	oracle_build(o);
	/*
	 * Code, page tables and descriptor tables differ between backends:
	 * an access to them has no backend-independent expectation.
	 */
	if (!accesses->lost && !o->harness_memory) {
		oracle_check_unsatisfied_reads(o);
		oracle_check_reads(o);
		oracle_check_writes(o);
		oracle_check_exit_sequence(o);
		oracle_check_exit_write_data(o);
		oracle_check_read_data(o);
	}
	oracle_check_exit_chunking(o);
	oracle_check_state(o);
	oracle_check_singlestep(o);
}

unsigned int oracle_access_fragments(const struct scenario *s, const struct emul_access *a)
{
	struct oracle *o, stack_o;
	struct piece pcs[2];
	unsigned int nr, k, frags = 0;

	o = &stack_o;
	memset(o, 0, offsetof(struct oracle, t1));
	o->s = s;
	o->nr_maps = scenario_maps(s, o->maps);
	o->long_mode = s->mode == SCN_MODE_LONG64;
	o->paging = scenario_paging(s);
	o->irqchip = !(s->ctl & SCN_CTL_NO_IRQCHIP);
	nr = oracle_split(o, a, pcs);
	for (k = 0; k < nr; k++) {
		oracle_translate(o, &pcs[k], a->write);
		if (pcs[k].fault)
			break;
		oracle_backing(o, &pcs[k], a->write);
		if (!is_ram_piece(&pcs[k]) && pcs[k].b != B_LAPIC && pcs[k].b != B_IOAPIC &&
		    pcs[k].b != B_COALESCED)
			frags++;
	}
	return frags;
}
