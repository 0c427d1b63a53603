/* The kmod transport (hijack_kmod.c): the gapbench_hijack module's executive. */
#pragma once
#include "mechanism.h"
#include "transport.h"

extern const struct hj_transport hj_transport_kmod;
/* The round trip through gapbench_hijack (variant kmod). */
int hj_rt_setup_kmod(struct mech_ctx *ctx);
/* roundtrip.c: the round trip's setup for any transport. */
int hj_rt_setup_transport(struct mech_ctx *ctx, const struct hj_transport *t);
