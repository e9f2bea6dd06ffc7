/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The kernel's own kvm:kvm_mmio events of one thread, for the real-KVM
 * backend (backend_kvm.c).  Two sources give the same events:
 *
 *  - perf (the default): the tracepoint opened with perf_event_open() for
 *    the thread, one sample per event with the raw record, read from the
 *    mmap()ed ring.  A case costs no system call and no text: the record's
 *    fields are at the offsets the event's tracefs "format" file gives.
 *  - tracefs: a private instance (instances/fragfuzz-kvm-PID-N) filtered to
 *    the thread through set_event_pid, read as text from its trace_pipe.
 *    Used when perf cannot open the tracepoint (perf_event_paranoid, a
 *    seccomp filter), or with FRAGFUZZ_KVM_TRACE=tracefs.
 *
 * The tracepoint's id and format come from tracefs, which is mounted at
 * /sys/kernel/tracing when it is not there yet (root only; the mount is
 * left in place).
 */
#ifndef FRAGFUZZ_KVM_TRACE_H
#define FRAGFUZZ_KVM_TRACE_H

#include <stddef.h>

#include "trace.h"

struct kvm_trace;

/*
 * Start following the calling thread's kvm_mmio events.  NULL, with the
 * reason in @why, when neither source can be used.
 */
struct kvm_trace *kvm_trace_open(char *why, size_t whylen);
void kvm_trace_close(struct kvm_trace *kt);

/* "perf" or "tracefs" */
const char *kvm_trace_source(const struct kvm_trace *kt);

/*
 * Follow the calling thread if it is not the one followed (a fuzzer may
 * call from another thread than the one that opened).  0 or -errno.
 */
int kvm_trace_follow(struct kvm_trace *kt);

/*
 * Take every event recorded since the last call: appended to @t, or
 * dropped when @t is NULL.  Events past @t's room, and events the kernel
 * could not record (a full ring), count in t->lost.
 */
void kvm_trace_read(struct kvm_trace *kt, struct kvm_mmio_trace *t);

#endif
