#include "report.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void report_kv(struct report *r, const char *key, const char *fmt, ...)
{
	struct report_item *it = NULL;
	for (unsigned i = 0; i < r->count; i++) {
		if (strcmp(r->items[i].key, key) == 0) {
			it = &r->items[i];
			break;
		}
	}
	if (!it) {
		if (r->count >= REPORT_MAX_ITEMS) {
			r->dropped++;
			return;
		}
		it = &r->items[r->count++];
		snprintf(it->key, sizeof(it->key), "%s", key);
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(it->val, sizeof(it->val), fmt, ap);
	va_end(ap);
}

const char *report_get(const struct report *r, const char *key)
{
	for (unsigned i = 0; i < r->count; i++)
		if (strcmp(r->items[i].key, key) == 0)
			return r->items[i].val;
	return NULL;
}
