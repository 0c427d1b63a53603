/* translator-kmod (translator_kmod.c): the translator as the gapbench_translator module's device. */
#pragma once
#include "mechanism.h"

int hjc_translator_kmod_setup(struct mech_ctx *ctx);
int hjc_translator_kmod_measure(struct mech_ctx *ctx, struct samples *s);
void hjc_translator_kmod_teardown(struct mech_ctx *ctx);
