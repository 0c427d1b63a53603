/* The harness subcommands; main.c only dispatches to these. */
#pragma once
#include <stdbool.h>

int cmd_run(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_history(int argc, char **argv);
int cmd_ab(int argc, char **argv);

/* harness run ... --vm: true when argv has --vm or a --vm-* option; run_in_vm execs vm/run_vm.py. */
bool run_wants_vm(int argc, char **argv);
int run_in_vm(int argc, char **argv);
/*
 * In the guest of --vm under TCG: every case's samples, warm-up and duration_s
 * times $GAPBENCH_VM_SAMPLE_SCALE (in (0, 1]; samples not below
 * VM_SCALE_MIN_SAMPLES unless the suite asked for fewer; durations rounded,
 * at least 1 s).
 * The runner says so in each row's placement. 0, or -1 after a line on stderr.
 */
#define VM_SCALE_MIN_SAMPLES 200
struct suite;
int vm_scale_samples(struct suite *suite);
