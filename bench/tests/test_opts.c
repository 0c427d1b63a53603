/* Option tables: defaults, typed setters, ranges, enums, formatting. */
#include <string.h>

#include "check.h"
#include "opts.h"

struct cfg {
	int64_t n;
	bool flag;
	char path[OPT_STR_MAX];
	int mode;
};

static const char *const modes[] = { "fast", "slow", NULL };

static const struct opt_desc table[] = {
	OPT_INT_FIELD(struct cfg, n, "10", 1, 100, "things", "how many"),
	OPT_BOOL_FIELD(struct cfg, flag, "true", "a switch"),
	OPT_STR_FIELD(struct cfg, path, "/tmp/x", "a path"),
	OPT_ENUM_FIELD(struct cfg, mode, "slow", modes, "a mode"),
	OPT_TABLE_END,
};

int main(void)
{
	struct cfg c;
	char why[256];
	memset(&c, 0, sizeof(c));
	CHECK(opt_apply_defaults(table, &c, why, sizeof(why)) == 0);
	CHECK(c.n == 10 && c.flag && strcmp(c.path, "/tmp/x") == 0 && c.mode == 1);
	CHECK_EQ_U64(opt_count(table), 4);

	const struct opt_desc *n = opt_find(table, "n"), *mode = opt_find(table, "mode");
	CHECK(n && mode && !opt_find(table, "missing"));
	CHECK(opt_set_int(n, &c, 100, why, sizeof(why)) == 0 && c.n == 100);
	CHECK(opt_set_int(n, &c, 101, why, sizeof(why)) != 0 && c.n == 100);
	CHECK(strcmp(why, "101 is out of range [1, 100]") == 0);
	CHECK(opt_set_int(n, &c, 0, why, sizeof(why)) != 0);
	CHECK(opt_set_bool(n, &c, true, why, sizeof(why)) != 0);
	CHECK(opt_set_str(mode, &c, "fast", why, sizeof(why)) == 0 && c.mode == 0);
	CHECK(opt_set_str(mode, &c, "medium", why, sizeof(why)) != 0);
	CHECK(strcmp(why, "'medium' is not one of: fast, slow") == 0);
	CHECK(opt_set_text(n, &c, "0x20", why, sizeof(why)) == 0 && c.n == 32);
	CHECK(opt_set_text(n, &c, "12abc", why, sizeof(why)) != 0);
	CHECK(opt_set_text(opt_find(table, "flag"), &c, "yes", why, sizeof(why)) != 0);

	char big[OPT_STR_MAX + 10];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK(opt_set_str(opt_find(table, "path"), &c, big, why, sizeof(why)) != 0);

	char buf[64];
	opt_format(n, &c, buf, sizeof(buf));
	CHECK(strcmp(buf, "32") == 0);
	opt_format(mode, &c, buf, sizeof(buf));
	CHECK(strcmp(buf, "fast") == 0);

	static const struct opt_desc bad_default[] = {
		OPT_INT_FIELD(struct cfg, n, "1000", 1, 100, "", "default out of range"),
		OPT_TABLE_END,
	};
	CHECK(opt_apply_defaults(bad_default, &c, why, sizeof(why)) != 0);
	CHECK_DONE();
}
