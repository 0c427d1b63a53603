/* mech_why() and load_why(): the reason a probe, setup or measure gives. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "loadgen.h"
#include "mechanism.h"

int bench_vwhy(char *buf, size_t len, int rc, bool with_errno, const char *fmt, va_list ap)
{
	int saved = errno;
	int w = vsnprintf(buf, len, fmt, ap);
	if (with_errno && w >= 0 && (size_t)w < len)
		snprintf(buf + w, len - (size_t)w, ": %s", strerror(saved));
	return rc;
}

int mech_why(struct mech_ctx *ctx, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	bench_vwhy(ctx->why, sizeof(ctx->why), rc, false, fmt, ap);
	va_end(ap);
	return rc;
}

int mech_why_errno(struct mech_ctx *ctx, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	bench_vwhy(ctx->why, sizeof(ctx->why), rc, true, fmt, ap);
	va_end(ap);
	return rc;
}

int load_why(struct load_ctx *ctx, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	bench_vwhy(ctx->why, sizeof(ctx->why), rc, false, fmt, ap);
	va_end(ap);
	return rc;
}

void mech_abort(struct mech_ctx *ctx, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	bench_vwhy(ctx->why, sizeof(ctx->why), rc, false, fmt, ap);
	va_end(ap);
	if (ctx->abort_case)
		ctx->abort_case(ctx, rc);
	_exit(1);
}
