#include "jsontext.h"

#include <stdlib.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at p, or 0 when it is not one. */
static size_t utf8_len(const unsigned char *p)
{
	size_t n;
	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xe0) == 0xc0 && p[0] >= 0xc2)
		n = 2;
	else if ((p[0] & 0xf0) == 0xe0)
		n = 3;
	else if ((p[0] & 0xf8) == 0xf0 && p[0] <= 0xf4)
		n = 4;
	else
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

json_t *json_text(const char *s)
{
	json_t *j = json_string(s ? s : "");
	if (j)
		return j;
	size_t len = strlen(s);
	char *clean = malloc(len + 1);
	if (!clean)
		return json_string("?");
	const unsigned char *p = (const unsigned char *)s;
	size_t out = 0;
	while (*p) {
		size_t n = utf8_len(p);
		if (n == 0) {
			clean[out++] = '?';
			p++;
		} else {
			memcpy(clean + out, p, n);
			out += n;
			p += n;
		}
	}
	clean[out] = '\0';
	j = json_string(clean);
	free(clean);
	return j ? j : json_string("?");
}
