/*
 * The registry of mechanisms and load generators (harness side), and an
 * experiment's effective values: the variant's where it sets them, the
 * mechanism's otherwise.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "loadgen.h"
#include "mechanism.h"

/*
 * Once, before the first lookup: check every registered table against the
 * case keys (an option named like a case key would never be reachable) and
 * each experiment's options against its mechanism's. Entries that fail are
 * refused with one line on stderr naming them. Returns how many were refused.
 */
unsigned registry_seal(const struct opt_desc *case_keys, const char *const *special_keys);

const struct mechanism_ops *mechanism_find(const char *name);
/* Iterate in name order: i from 0 until NULL. */
const struct mechanism_ops *mechanism_at(size_t i);
int mechanism_variant_index(const struct mechanism_ops *ops, const char *name);

const struct loadgen_ops *loadgen_find(const char *name);
const struct loadgen_ops *loadgen_at(size_t i);

/* The experiment's ops: the variant's where present, else the mechanism's (probe/teardown may be NULL). */
struct experiment_ops {
	int (*probe)(struct mech_ctx *ctx);
	int (*setup)(struct mech_ctx *ctx);
	int (*measure)(struct mech_ctx *ctx, struct samples *s);
	void (*teardown)(struct mech_ctx *ctx);
};
struct experiment_ops experiment_ops(const struct mechanism_ops *m, unsigned variant);
/* The mechanism's flags and the variant's together. */
unsigned experiment_flags(const struct mechanism_ops *m, unsigned variant);
/* The kernel module the experiment needs (MECH_NEEDS_KMOD), or NULL. */
const char *experiment_kmod(const struct mechanism_ops *m, unsigned variant);
/* SAMPLE_CYCLES or SAMPLE_NS. */
enum sample_unit experiment_unit(const struct mechanism_ops *m, unsigned variant);
/* An option of the experiment: its own table, then the mechanism's; NULL when it has none of that name. */
const struct opt_desc *experiment_opt_find(const struct mechanism_ops *m, unsigned variant, const char *name);
/* Iterate the experiment's options, the mechanism's first: i from 0 until NULL. */
const struct opt_desc *experiment_opt_at(const struct mechanism_ops *m, unsigned variant, size_t i);
