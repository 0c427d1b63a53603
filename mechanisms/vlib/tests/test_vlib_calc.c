/*
 * Unit tests of what the vlib experiments compute without KVM: order
 * statistics and ratios (vlib_calc.c), the pairing of one KVM_RUN's host and
 * guest stamps into exit and entry, the KVM floor guest's code and expected
 * exit (kvm_floor.c), the lidar task (lidar_core.h) and the Darknet
 * stand-in (corunner_core.h).
 */
#include <string.h>
#include <linux/kvm.h>

#include "../../kvm/kvm_floor.h"
#include "../corunner_core.h"
#include "../lidar_core.h"
#include "../vlib_calc.h"
#include "check.h"

static void test_quantile(void)
{
	uint64_t v[] = { 50, 10, 40, 20, 30 };
	CHECK_EQ_U64(vlib_quantile(v, 5, 0.5), 30);
	CHECK_EQ_U64(vlib_quantile(v, 5, 1.0), 50);
	CHECK_EQ_U64(vlib_quantile(v, 5, 0.0), 10);
	uint64_t w[] = { 7, 3 };
	CHECK_EQ_U64(vlib_quantile(w, 2, 0.5), 3);
	CHECK_EQ_U64(vlib_quantile(NULL, 0, 0.5), 0);
	CHECK_NEAR(vlib_ratio(30, 10), 3.0, 1e-12);
	CHECK_NEAR(vlib_ratio(30, 0), 0.0, 1e-12);
	CHECK_NEAR(vlib_slowdown_pct(150, 100), 50.0, 1e-9);
	CHECK_NEAR(vlib_slowdown_pct(1, 0), 0.0, 1e-12);
}

static void test_floor_note(void)
{
	char note[256];
	double r = vlib_floor_note(note, sizeof(note), 29400, 97800, 17900);
	CHECK_NEAR(r, 127200.0 / 17900.0, 1e-9);
	CHECK_MSG(strstr(note, "= 127200 cycles") && strstr(note, "floor round trip p50 17900") && strstr(note, "7.11x"),
		  "note: %s", note);
}

/*
 * One run: the host enters at 1000, the guest resumes at 1300 (its entry
 * stamp), stamps again at 1500 before its hypercall, the host is back at
 * 1900. Exit 400, entry 300, and exit + entry within the 900 of the run.
 * (vm-entry used to subtract the PREVIOUS run's host stamp, which put a
 * whole round trip into every entry.)
 */
static void test_exit_entry(void)
{
	struct vlib_run_stamps r = { .h_enter = 1000, .g_entry = 1300, .g_exit = 1500, .h_exit = 1900 };
	uint64_t exit_cycles = 0, entry_cycles = 0;
	CHECK(vlib_exit_entry(&r, &exit_cycles, &entry_cycles));
	CHECK_EQ_U64(exit_cycles, 400);
	CHECK_EQ_U64(entry_cycles, 300);
	CHECK(exit_cycles + entry_cycles <= r.h_exit - r.h_enter);
	/* a guest stamp before the host's entry stamp: no common time base, nothing paired */
	struct vlib_run_stamps bad = { .h_enter = 1000, .g_entry = 900, .g_exit = 1500, .h_exit = 1900 };
	CHECK(!vlib_exit_entry(&bad, &exit_cycles, &entry_cycles));
	struct vlib_run_stamps late = { .h_enter = 1000, .g_entry = 1300, .g_exit = 2000, .h_exit = 1900 };
	CHECK(!vlib_exit_entry(&late, &exit_cycles, &entry_cycles));
}

static void test_floor_guest(void)
{
	/* out %al, $0x10 ; jmp back to the out (rel8 -4 from the end of the jmp) */
	CHECK(kvm_floor_code[0] == 0xe6 && kvm_floor_code[1] == KVM_FLOOR_PORT);
	CHECK(kvm_floor_code[2] == 0xeb && (int8_t)kvm_floor_code[3] == -4);
	CHECK(kvm_floor_exit_is_expected(KVM_EXIT_IO, KVM_FLOOR_PORT, KVM_EXIT_IO_OUT, 1));
	CHECK(!kvm_floor_exit_is_expected(KVM_EXIT_MMIO, KVM_FLOOR_PORT, KVM_EXIT_IO_OUT, 1));
	CHECK(!kvm_floor_exit_is_expected(KVM_EXIT_IO, KVM_FLOOR_PORT + 1, KVM_EXIT_IO_OUT, 1));
	CHECK(!kvm_floor_exit_is_expected(KVM_EXIT_IO, KVM_FLOOR_PORT, KVM_EXIT_IO_IN, 1));
	CHECK(!kvm_floor_exit_is_expected(KVM_EXIT_IO, KVM_FLOOR_PORT, KVM_EXIT_IO_OUT, 4));
	CHECK(KVM_FLOOR_CODE_GPA + sizeof(kvm_floor_code) <= KVM_FLOOR_RAM_BYTES);
}

static void scene(uint16_t mm[LIDAR_ANGLES], uint16_t far_mm)
{
	for (int a = 0; a < LIDAR_ANGLES; a++)
		mm[a] = far_mm;
}

static void test_lidar(void)
{
	uint16_t mm[LIDAR_ANGLES], back[LIDAR_ANGLES];
	uint8_t wire[LIDAR_SCAN_BYTES];
	CHECK(LIDAR_SCAN_BYTES == 720);   /* "around 700 bytes" */
	for (uint64_t n = 0; n < 50; n++) {
		lidar_scene(mm, n);
		lidar_encode(wire, mm);
		for (int i = 0; i < LIDAR_SCAN_BYTES; i++)
			CHECK(wire[i] >= 0x30 && wire[i] < 0x70);
		lidar_decode(back, wire);
		CHECK(memcmp(mm, back, sizeof(mm)) == 0);
	}
	scene(mm, 3000);
	CHECK(lidar_decide(mm) == LIDAR_STRAIGHT);
	/* an object ahead (100..140), open 10 degrees past it on the left, 25 on the right */
	scene(mm, 3000);
	for (int a = 100; a <= 140; a++)
		mm[a] = 300;
	for (int a = 141; a < 150; a++)
		mm[a] = 300;   /* the left side stays blocked up to 149 */
	for (int a = 80; a < 100; a++)
		mm[a] = 300;   /* the right side up to 80 */
	CHECK(lidar_decide(mm) == LIDAR_LEFT);    /* alpha 30 < beta 41 */
	for (int a = 150; a < 170; a++)
		mm[a] = 300;   /* now the left opens only from 170: alpha 50 > beta 41 */
	CHECK(lidar_decide(mm) == LIDAR_RIGHT);
	scene(mm, 300);
	CHECK(lidar_decide(mm) == LIDAR_STOP);
	/* dump: records append and wrap inside 4 MiB */
	static uint8_t dump[LIDAR_DUMP_BYTES];
	uint64_t offset = 0, per = sizeof(struct lidar_record), fit = LIDAR_DUMP_BYTES / per;
	lidar_scene(mm, 7);
	lidar_encode(wire, mm);
	for (uint64_t i = 0; i < fit; i++)
		lidar_period(wire, dump, &offset, (uint32_t)i);
	CHECK_EQ_U64(offset, fit * per);
	lidar_period(wire, dump, &offset, 12345);
	CHECK_EQ_U64(offset, per);   /* wrapped: the record went to the start */
	CHECK(((struct lidar_record *)dump)->period == 12345);
	CHECK(memcmp(((struct lidar_record *)dump)->mm, mm, sizeof(mm)) == 0);
}

static void test_corunner(void)
{
	static struct corunner_mats m;
	static uint64_t buf[(CORUNNER_SLICE_BYTES + 4096) / 8];
	corunner_init(&m);
	uint64_t pos = 0;
	CHECK_EQ_U64(corunner_round(&m, buf, sizeof(buf), &pos), CORUNNER_SLICE_BYTES);
	CHECK_EQ_U64(pos, CORUNNER_SLICE_BYTES / 8);
	/* c = a x b at one element, computed by hand */
	uint32_t s = 0;
	for (int k = 0; k < CORUNNER_N; k++)
		s += (uint32_t)(5 * 31 + k) * (uint32_t)(7 * 17 + k + 1);
	CHECK(m.c[5][7] == s);
	corunner_round(&m, buf, sizeof(buf), &pos);   /* the second round wraps around the small buffer */
	CHECK(pos < sizeof(buf) / 8);
	uint64_t tiny[16] = { 0 }, p = 0;
	CHECK_EQ_U64(corunner_round(&m, tiny, sizeof(tiny), &p), sizeof(tiny));
}

int main(void)
{
	test_quantile();
	test_floor_note();
	test_exit_entry();
	test_floor_guest();
	test_lidar();
	test_corunner();
	if (check_failures)
		fprintf(stderr, "%d failure(s)\n", check_failures);
	return check_failures ? 1 : 0;
}
