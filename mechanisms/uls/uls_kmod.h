/* upcall-kmod (uls_kmod.c): the upcall of the gapbench_upcall module. */
#pragma once
#include "mechanism.h"

int uls_kmod_setup(struct mech_ctx *ctx);
int uls_kmod_measure(struct mech_ctx *ctx, struct samples *s);
void uls_kmod_teardown(struct mech_ctx *ctx);
