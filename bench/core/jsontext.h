/* JSON strings from arbitrary C strings (suite text, reasons, files of /proc). */
#pragma once
#include <jansson.h>

/*
 * A JSON string holding s; bytes that are not valid UTF-8 (a multi-byte
 * character cut by truncation, a non-UTF-8 path) become '?'. Never NULL for
 * a non-NULL s, so it can go straight into json_pack's "o".
 */
json_t *json_text(const char *s);
