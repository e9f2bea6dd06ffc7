// SPDX-License-Identifier: GPL-2.0-only
/*
 * The kernel's kvm:kvm_mmio events of one thread (see kvm_trace.h).
 *
 * Why perf first: reading trace_pipe cost a case two read() calls and the
 * kernel's printing of every event, 11-30 us of a 155-210 us kernel case
 * (throwaway timing code in backend_kvm.c, fragfuzz_kvm from the seeds).
 * A perf ring is read from memory: the kernel writes each event's raw
 * record as the tracepoint fires, in the thread's own context and so in
 * the order the events happened.
 *
 * The raw record is the tracepoint's entry as the event's "format" file
 * describes it (on 6.18: type u32 at 8, len u32 at 12, gpa u64 at 16,
 * val u64 at 24; the values of type are those of KVM_TRACE_MMIO_*).  The
 * offsets are read from that file, not assumed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kvm/kvm_trace.h"

#define TRACEFS		"/sys/kernel/tracing"
#define EVENT_DIR	TRACEFS "/events/kvm/kvm_mmio"

/*
 * 64 pages of ring: a sample is 48 bytes (header, size, 32-byte record
 * padded), so 5,400 events fit; a case has at most a few hundred, and the
 * ring is emptied before and after each case.
 */
#define PERF_RING_PAGES	64
#define PERF_REC_MAX	256	/* a kvm_mmio sample is 48 bytes */

enum kvm_trace_kind { KVM_TRACE_PERF, KVM_TRACE_TRACEFS };

struct kvm_trace {
	enum kvm_trace_kind kind;
	pid_t tid;			/* the thread followed */

	/* perf */
	int perf_fd;
	unsigned long long event_id;
	struct perf_event_mmap_page *meta;	/* then the ring's data pages */
	size_t map_size, ring_size;
	unsigned int off_type, off_len, off_gpa, off_val, rec_min;

	/* tracefs */
	char dir[128];
	int pipe_fd;			/* trace_pipe, non-blocking */
	char tbuf[16384];
	size_t tlen;
};

static unsigned int kt_instances;	/* names this process's instances */

static int write_file(const char *dir, const char *file, const char *text)
{
	char path[256];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	n = n < 0 ? -errno : 0;
	close(fd);
	return (int)n;
}

static bool tracefs_mounted(void)
{
	struct stat st;

	return stat(TRACEFS "/instances", &st) == 0 && S_ISDIR(st.st_mode);
}

static int tracefs_mount(char *why, size_t whylen)
{
	if (!tracefs_mounted() && geteuid() == 0)
		mount("nodev", TRACEFS, "tracefs", 0, NULL);
	if (tracefs_mounted())
		return 0;
	snprintf(why, whylen, "%s is not mounted and cannot be mounted", TRACEFS);
	return -ENOENT;
}

/* ---- perf ---- */

/*
 * The offset of field @name in the event's format file, whose lines read
 * "field:u64 gpa;	offset:16;	size:8;	signed:0;".  0 and the size
 * in *@size, or -ENOENT.
 */
static int format_field(const char *fmt, const char *name, unsigned int *off,
			unsigned int *size)
{
	const char *p = fmt;
	size_t n = strlen(name);

	while ((p = strstr(p, "field:"))) {
		const char *semi = strchr(p, ';');

		if (!semi)
			break;
		/* the name is the word just before the ';' */
		if ((size_t)(semi - p) > n && !strncmp(semi - n, name, n) &&
		    (semi[-(long)n - 1] == ' ' || semi[-(long)n - 1] == '\t') &&
		    sscanf(semi, "; offset:%u; size:%u;", off, size) == 2)
			return 0;
		p = semi;
	}
	return -ENOENT;
}

static int read_text(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	n = n < 0 ? -errno : n;
	close(fd);
	if (n < 0)
		return (int)n;
	buf[n] = 0;
	return 0;
}

/* The tracepoint's id and the offsets of its fields; 0 or -errno. */
static int perf_describe(struct kvm_trace *kt, char *why, size_t whylen)
{
	static const struct {
		const char *name;
		unsigned int size;
		size_t at;
	} want[] = {
		{ "type", 4, offsetof(struct kvm_trace, off_type) },
		{ "len", 4, offsetof(struct kvm_trace, off_len) },
		{ "gpa", 8, offsetof(struct kvm_trace, off_gpa) },
		{ "val", 8, offsetof(struct kvm_trace, off_val) },
	};
	char fmt[4096], id[32];
	unsigned int i, off, size;
	int r;

	r = read_text(EVENT_DIR "/id", id, sizeof(id));
	if (!r)
		r = read_text(EVENT_DIR "/format", fmt, sizeof(fmt));
	if (r) {
		snprintf(why, whylen, "cannot read %s: %s", EVENT_DIR, strerror(-r));
		return r;
	}
	kt->event_id = strtoull(id, NULL, 10);
	kt->rec_min = 0;
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		if (format_field(fmt, want[i].name, &off, &size) || size != want[i].size) {
			snprintf(why, whylen, "%s/format: no %u-byte field '%s'", EVENT_DIR,
				 want[i].size, want[i].name);
			return -EPROTO;
		}
		*(unsigned int *)((char *)kt + want[i].at) = off;
		if (off + size > kt->rec_min)
			kt->rec_min = off + size;
	}
	return 0;
}

static void perf_close(struct kvm_trace *kt)
{
	if (kt->meta && kt->meta != MAP_FAILED)
		munmap(kt->meta, kt->map_size);
	kt->meta = NULL;
	if (kt->perf_fd >= 0)
		close(kt->perf_fd);
	kt->perf_fd = -1;
}

/* The tracepoint for the calling thread, and its ring; 0 or -errno. */
static int perf_open(struct kvm_trace *kt, char *why, size_t whylen)
{
	struct perf_event_attr pa = {
		.type = PERF_TYPE_TRACEPOINT,
		.size = sizeof(pa),
		.config = kt->event_id,
		.sample_period = 1,
		.sample_type = PERF_SAMPLE_RAW,
	};
	long page = sysconf(_SC_PAGESIZE);
	int r;

	kt->tid = gettid();
	kt->perf_fd = (int)syscall(SYS_perf_event_open, &pa, kt->tid, -1, -1,
				   PERF_FLAG_FD_CLOEXEC);
	if (kt->perf_fd < 0) {
		r = -errno;
		snprintf(why, whylen, "perf_event_open(kvm:kvm_mmio): %s", strerror(errno));
		return r;
	}
	kt->ring_size = (size_t)PERF_RING_PAGES * page;
	kt->map_size = kt->ring_size + page;
	/* writable: the kernel then never overwrites what is not read yet */
	kt->meta = mmap(NULL, kt->map_size, PROT_READ | PROT_WRITE, MAP_SHARED, kt->perf_fd, 0);
	if (kt->meta == MAP_FAILED) {
		r = -errno;
		snprintf(why, whylen, "mmap of the perf ring: %s", strerror(errno));
		perf_close(kt);
		return r;
	}
	return 0;
}

/* @len bytes of the ring from position @pos, across its end if need be */
static void ring_copy(const struct kvm_trace *kt, unsigned long long pos, void *to, size_t len)
{
	const unsigned char *data = (const unsigned char *)kt->meta + kt->meta->data_offset;
	size_t at = pos % kt->ring_size, first = kt->ring_size - at;

	if (first >= len) {
		memcpy(to, data + at, len);
		return;
	}
	memcpy(to, data + at, first);
	memcpy((unsigned char *)to + first, data, len - first);
}

static unsigned long long rec_field(const unsigned char *raw, unsigned int off, unsigned int size)
{
	unsigned long long v = 0;
	unsigned int v32;

	if (size == 4) {
		memcpy(&v32, raw + off, 4);
		return v32;
	}
	memcpy(&v, raw + off, 8);
	return v;
}

static void trace_add(struct kvm_mmio_trace *t, unsigned int type, unsigned int len,
		      unsigned long long gpa, unsigned long long val)
{
	if (t->nr == KVM_MMIO_TRACE_MAX) {
		t->lost++;
		return;
	}
	t->ev[t->nr++] = (struct kvm_mmio_event){
		.type = (u8)type, .len = len, .gpa = gpa, .val = val,
	};
}

/* One PERF_RECORD_SAMPLE: u32 size, then the raw record. */
static void perf_sample(const struct kvm_trace *kt, const unsigned char *rec, size_t len,
			struct kvm_mmio_trace *t)
{
	const unsigned char *raw = rec + sizeof(struct perf_event_header) + 4;
	unsigned int size, type;
	unsigned short common_type;

	if (len < sizeof(struct perf_event_header) + 4)
		return;
	memcpy(&size, rec + sizeof(struct perf_event_header), 4);
	if (size < kt->rec_min || size > len - sizeof(struct perf_event_header) - 4)
		return;
	memcpy(&common_type, raw, sizeof(common_type));
	if (common_type != kt->event_id)
		return;
	type = (unsigned int)rec_field(raw, kt->off_type, 4);
	if (type > KVM_TRACE_MMIO_WRITE)
		return;
	trace_add(t, type, (unsigned int)rec_field(raw, kt->off_len, 4),
		  rec_field(raw, kt->off_gpa, 8), rec_field(raw, kt->off_val, 8));
}

static void perf_read(struct kvm_trace *kt, struct kvm_mmio_trace *t)
{
	unsigned long long head = __atomic_load_n(&kt->meta->data_head, __ATOMIC_ACQUIRE);
	unsigned long long tail = kt->meta->data_tail;
	unsigned char rec[PERF_REC_MAX];
	struct perf_event_header h;

	while (t && tail + sizeof(h) <= head) {
		ring_copy(kt, tail, &h, sizeof(h));
		if (h.size < sizeof(h) || tail + h.size > head)
			break;		/* cannot be: drop the rest */
		if (h.size <= sizeof(rec)) {
			ring_copy(kt, tail, rec, h.size);
			if (h.type == PERF_RECORD_SAMPLE) {
				perf_sample(kt, rec, h.size, t);
			} else if (h.type == PERF_RECORD_LOST && h.size >= sizeof(h) + 16) {
				unsigned long long lost;

				memcpy(&lost, rec + sizeof(h) + 8, sizeof(lost));
				t->lost += (unsigned int)lost;
			}
		}
		tail += h.size;
	}
	__atomic_store_n(&kt->meta->data_tail, head, __ATOMIC_RELEASE);
}

/* ---- tracefs ---- */

static int tracefs_set_pid(struct kvm_trace *kt)
{
	char pid[32];

	kt->tid = gettid();
	snprintf(pid, sizeof(pid), "%d\n", (int)kt->tid);
	return write_file(kt->dir, "set_event_pid", pid);
}

/*
 * Instances left behind by processes that died without closing them (a
 * fuzz target that aborted on a finding, a crash): remove them.
 */
static void tracefs_remove_stale(void)
{
	char dir[300];
	struct dirent *e;
	DIR *d = opendir(TRACEFS "/instances");
	int pid, n;

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (sscanf(e->d_name, "fragfuzz-kvm-%d-%d", &pid, &n) != 2 || pid <= 0 ||
		    pid == (int)getpid() || kill(pid, 0) == 0 || errno != ESRCH)
			continue;
		snprintf(dir, sizeof(dir), "%s/instances/%s", TRACEFS, e->d_name);
		write_file(dir, "events/kvm/kvm_mmio/enable", "0\n");
		rmdir(dir);
	}
	closedir(d);
}

static void tracefs_close(struct kvm_trace *kt)
{
	if (kt->pipe_fd >= 0)
		close(kt->pipe_fd);
	kt->pipe_fd = -1;
	if (!kt->dir[0])
		return;
	write_file(kt->dir, "events/kvm/kvm_mmio/enable", "0\n");
	if (rmdir(kt->dir) < 0)
		fprintf(stderr, "fragfuzz: kvm trace: rmdir %s: %s\n", kt->dir, strerror(errno));
	kt->dir[0] = 0;
}

/* 0, or -errno with the reason in @why */
static int tracefs_open(struct kvm_trace *kt, char *why, size_t whylen)
{
	char path[256];
	int r;

	tracefs_remove_stale();
	snprintf(kt->dir, sizeof(kt->dir), "%s/instances/fragfuzz-kvm-%d-%u", TRACEFS,
		 (int)getpid(), kt_instances++);
	if (mkdir(kt->dir, 0700) < 0) {
		r = -errno;
		snprintf(why, whylen, "mkdir %.160s: %s", kt->dir, strerror(errno));
		kt->dir[0] = 0;
		return r;
	}
	r = tracefs_set_pid(kt);
	if (!r)
		r = write_file(kt->dir, "events/kvm/kvm_mmio/enable", "1\n");
	if (r) {
		snprintf(why, whylen, "cannot enable kvm:kvm_mmio in %.160s: %s", kt->dir,
			 strerror(-r));
		return r;
	}
	snprintf(path, sizeof(path), "%s/trace_pipe", kt->dir);
	kt->pipe_fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (kt->pipe_fd < 0) {
		r = -errno;
		snprintf(why, whylen, "open %.160s: %s", path, strerror(errno));
		return r;
	}
	return 0;
}

/* "<word> <number>" at *p: the number (base 0: 0x... hex), *p past it */
static bool text_field(const char **p, const char *word, unsigned long long *v)
{
	size_t n = strlen(word);
	char *end;

	if (strncmp(*p, word, n) || (*p)[n] != ' ')
		return false;
	*v = strtoull(*p + n + 1, &end, 0);
	if (end == *p + n + 1)
		return false;
	*p = end + (*end == ' ');
	return true;
}

/*
 * One line of trace_pipe: "... kvm_mmio: mmio <type> len <n> gpa 0x<gpa>
 * val 0x<val>".  Parsed by hand: a case can have a hundred events, and
 * sscanf() was a visible part of a case's time.
 */
static void text_parse_line(const char *line, struct kvm_mmio_trace *t)
{
	static const char prefix[] = "kvm_mmio: mmio ";
	const char *p = strstr(line, prefix), *type;
	unsigned long long len, gpa, val;
	size_t tlen;
	int ty;

	if (!p)
		return;
	type = p + sizeof(prefix) - 1;
	p = strchr(type, ' ');
	if (!p)
		return;
	tlen = (size_t)(p - type);
	p++;
	if (!text_field(&p, "len", &len) || !text_field(&p, "gpa", &gpa) ||
	    !text_field(&p, "val", &val))
		return;
	if (tlen == 16 && !strncmp(type, "unsatisfied-read", 16))
		ty = KVM_TRACE_MMIO_READ_UNSATISFIED;
	else if (tlen == 4 && !strncmp(type, "read", 4))
		ty = KVM_TRACE_MMIO_READ;
	else if (tlen == 5 && !strncmp(type, "write", 5))
		ty = KVM_TRACE_MMIO_WRITE;
	else
		return;
	trace_add(t, (unsigned int)ty, (unsigned int)len, gpa, val);
}

static void tracefs_read(struct kvm_trace *kt, struct kvm_mmio_trace *t)
{
	kt->tlen = 0;
	for (;;) {
		ssize_t n = read(kt->pipe_fd, kt->tbuf + kt->tlen, sizeof(kt->tbuf) - 1 - kt->tlen);
		char *line, *nl;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		kt->tlen += n;
		kt->tbuf[kt->tlen] = 0;
		line = kt->tbuf;
		while ((nl = strchr(line, '\n'))) {
			*nl = 0;
			if (t)
				text_parse_line(line, t);
			line = nl + 1;
		}
		kt->tlen = strlen(line);
		memmove(kt->tbuf, line, kt->tlen);
		if (kt->tlen == sizeof(kt->tbuf) - 1)
			kt->tlen = 0;	/* a line this long is no event */
	}
}

/* ---- the interface ---- */

struct kvm_trace *kvm_trace_open(char *why, size_t whylen)
{
	const char *want = getenv("FRAGFUZZ_KVM_TRACE");
	struct kvm_trace *kt = calloc(1, sizeof(*kt));
	char perf_why[200] = "";

	if (!kt) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	kt->perf_fd = kt->pipe_fd = -1;
	if (tracefs_mount(why, whylen))
		goto fail;
	if (!want || strcmp(want, "tracefs")) {
		kt->kind = KVM_TRACE_PERF;
		if (!perf_describe(kt, perf_why, sizeof(perf_why)) &&
		    !perf_open(kt, perf_why, sizeof(perf_why)))
			return kt;
	}
	kt->kind = KVM_TRACE_TRACEFS;
	if (!tracefs_open(kt, why, whylen))
		return kt;
	if (perf_why[0]) {
		size_t n = strlen(why);

		snprintf(why + n, whylen - n, " (and %s)", perf_why);
	}
fail:
	kvm_trace_close(kt);
	return NULL;
}

void kvm_trace_close(struct kvm_trace *kt)
{
	if (!kt)
		return;
	perf_close(kt);
	tracefs_close(kt);
	free(kt);
}

const char *kvm_trace_source(const struct kvm_trace *kt)
{
	return kt->kind == KVM_TRACE_PERF ? "perf" : "tracefs";
}

int kvm_trace_follow(struct kvm_trace *kt)
{
	char why[200];

	if (gettid() == kt->tid)
		return 0;
	if (kt->kind == KVM_TRACE_TRACEFS)
		return tracefs_set_pid(kt);
	/* a perf event follows one thread for good: open it again */
	perf_close(kt);
	return perf_open(kt, why, sizeof(why));
}

void kvm_trace_read(struct kvm_trace *kt, struct kvm_mmio_trace *t)
{
	if (kt->kind == KVM_TRACE_PERF) {
		if (kt->meta)
			perf_read(kt, t);
	} else {
		tracefs_read(kt, t);
	}
}
