// SPDX-License-Identifier: GPL-2.0-only
/*
 * The real kernel agrees with the model where the model predicted a KVM
 * bug: POPA from an MMIO stack (corpus/f01-popa-mmio-stack-replay.txt).
 * Runs build/kvm-probe on /dev/kvm; skips with one line without it.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "kvm/backend_kvm.h"
#include "test.h"
#include "test_common.h"

TEST(kvm_popa_mmio_stack_exits_match_the_model)
{
	static const char *const text =
		"mode prot32\ninsn 61\nreg rsp 0x40001004\nmap 0x40001000 0x40001000 mmio\n";
	char dir[PATH_MAX], cmd[PATH_MAX + 64], line[256], err[128];
	struct model_backend *mb;
	static struct run_result r;
	struct scenario s;
	unsigned long long gpa;
	unsigned int n = 0, len, idx;
	FILE *p;

	TEST_REQUIRE(kvm_backend_available(NULL, 0), "/dev/kvm not available");
	TEST_ASSERT(exe_dir(dir, sizeof(dir), 1), "cannot find the build directory");
	snprintf(cmd, sizeof(cmd), "%s/kvm-probe --esp 0x40001004 61 2>&1", dir);

	TEST_ASSERT(!scenario_parse_text(&s, text, err, sizeof(err)), "scenario: %s", err);
	mb = model_backend_create();
	TEST_ASSERT(mb, "no model backend");
	TEST_ASSERT(!model_backend_run(mb, &s, kvm_profile_find("6.18.24"), &r), "model run");
	model_backend_destroy(mb);
	TEST_ASSERT_EQ(r.nr_exits, 7, "model exits");

	p = popen(cmd, "r");
	TEST_ASSERT(p, "cannot run %s", cmd);
	while (fgets(line, sizeof(line), p)) {
		if (sscanf(line, " exit %u: MMIO R gpa %llx len %u", &idx, &gpa, &len) != 3)
			continue;
		if (n < r.nr_exits) {
			TEST_ASSERT_EQ(gpa, r.exits[n].gpa, "kernel exit gpa = model exit gpa");
			TEST_ASSERT_EQ(len, r.exits[n].len, "kernel exit len = model exit len");
		}
		n++;
	}
	pclose(p);
	TEST_ASSERT_EQ(n, r.nr_exits, "kernel read exits = model read exits");
}

/*
 * KVM's MMIO bus misses a coalesced zone registered after a zero-length
 * ioeventfd at the zone's end (build/kvm-iobus-order, iobus-missed): the
 * zones-first order coalesces the write, the other two orders exit.  Seen
 * on 6.18.44; the control row must hold on any kernel.
 */
TEST(kvm_iobus_order_misses_a_zone_after_a_zero_length_ioeventfd)
{
	static const struct {
		const char *order;
		const char *want;
	} rows[] = {
		{ "(order ABE)", "ok" },
		{ "(order AEB)", "EXIT" },
		{ "(order EAB)", "EXIT" },
		{ "(order p)", "ok" },		/* one PIO ioeventfd at 0x86 */
		{ "(order P)", "EXIT" },	/* 1/2/4 at every port: 0x86 missed */
	};
	char dir[PATH_MAX], cmd[PATH_MAX + 64], line[256];
	unsigned int i, seen = 0;
	FILE *p;

	TEST_REQUIRE(kvm_backend_available(NULL, 0), "/dev/kvm not available");
	TEST_ASSERT(exe_dir(dir, sizeof(dir), 1), "cannot find the build directory");
	snprintf(cmd, sizeof(cmd), "%s/kvm-iobus-order 2>&1", dir);
	p = popen(cmd, "r");
	TEST_ASSERT(p, "cannot run %s", cmd);
	while (fgets(line, sizeof(line), p)) {
		for (i = 0; i < ARRAY_SIZE(rows); i++) {
			size_t n = strlen(rows[i].want);

			if (!strstr(line, rows[i].order))
				continue;
			seen++;
			if (strncmp(line, rows[i].want, n) || line[n] != ' ') {
				pclose(p);
				TEST_FAIL("Wanted '%s' for %s, got '%s'", rows[i].want,
					  rows[i].order, line);
			}
		}
	}
	pclose(p);
	TEST_ASSERT_EQ(seen, ARRAY_SIZE(rows), "cases kvm-iobus-order printed");
}
