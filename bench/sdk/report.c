#include "report.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* The item for key, replaced or new; NULL (counted as dropped) when full. */
static struct report_item *item_for(struct report *r, const char *key)
{
	for (unsigned i = 0; i < r->count; i++)
		if (strcmp(r->items[i].key, key) == 0) {
			memset(&r->items[i], 0, sizeof(r->items[i]));
			snprintf(r->items[i].key, sizeof(r->items[i].key), "%s", key);
			return &r->items[i];
		}
	if (r->count >= REPORT_MAX_ITEMS) {
		r->dropped++;
		return NULL;
	}
	struct report_item *it = &r->items[r->count++];
	memset(it, 0, sizeof(*it));
	snprintf(it->key, sizeof(it->key), "%s", key);
	return it;
}

void report_kv(struct report *r, const char *key, const char *fmt, ...)
{
	struct report_item *it = item_for(r, key);
	if (!it)
		return;
	it->type = REPORT_TEXT;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(it->val, sizeof(it->val), fmt, ap);
	va_end(ap);
}

static struct report_item *number_item(struct report *r, const char *key, enum report_type type, const char *unit)
{
	struct report_item *it = item_for(r, key);
	if (it) {
		it->type = (unsigned char)type;
		snprintf(it->unit, sizeof(it->unit), "%s", unit ? unit : "");
	}
	return it;
}

void report_int(struct report *r, const char *key, int64_t value, const char *unit)
{
	struct report_item *it = number_item(r, key, REPORT_INT, unit);
	if (it)
		it->i = value;
}

void report_real(struct report *r, const char *key, double value, const char *unit)
{
	struct report_item *it = number_item(r, key, REPORT_REAL, unit);
	if (it)
		it->d = value;
}
