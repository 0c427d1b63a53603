// The C API over toml++: converts a parsed document into plain C nodes.
#include "toml_c.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include <toml++/toml.h>

namespace {

char *dup_string(std::string_view s)
{
	char *p = static_cast<char *>(std::malloc(s.size() + 1));
	if (!p)
		throw std::bad_alloc();
	std::memcpy(p, s.data(), s.size());
	p[s.size()] = '\0';
	return p;
}

void fill(tval *out, const toml::node &n, const char *key);

/* A key or string that C would see cut short, or a key with control characters. */
struct bad_text {
	int line, col;
	const char *what;
};

bool has_nul(std::string_view s)
{
	return s.find('\0') != std::string_view::npos;
}

bool has_control(std::string_view s)
{
	for (unsigned char c : s)
		if (c < 0x20 || c == 0x7f)
			return true;
	return false;
}

tval *alloc_items(size_t count)
{
	if (count == 0)
		return nullptr;
	auto *items = static_cast<tval *>(std::calloc(count, sizeof(tval)));
	if (!items)
		throw std::bad_alloc();
	return items;
}

void fill(tval *out, const toml::node &n, const char *key)
{
	out->line = static_cast<int>(n.source().begin.line);
	out->col = static_cast<int>(n.source().begin.column);
	out->key = key ? dup_string(key) : nullptr;
	if (auto t = n.as_table()) {
		out->type = TV_TABLE;
		out->items = alloc_items(t->size());
		for (auto &&[k, v] : *t) {
			tval *item = &out->items[out->count++];
			if (has_control(k.str()))
				throw bad_text{ static_cast<int>(k.source().begin.line), static_cast<int>(k.source().begin.column),
						"a key holds a NUL or control character" };
			std::string ks(k.str());
			fill(item, v, ks.c_str());
			/* a key's own position is more useful than its value's for errors */
			if (k.source().begin.line)
				item->line = static_cast<int>(k.source().begin.line);
		}
	} else if (auto a = n.as_array()) {
		out->type = TV_ARRAY;
		out->items = alloc_items(a->size());
		for (auto &&v : *a)
			fill(&out->items[out->count++], v, nullptr);
	} else if (auto s = n.as_string()) {
		if (has_nul(s->get()))
			throw bad_text{ out->line, out->col, "a string holds a NUL character" };
		out->type = TV_STRING;
		out->u.s = dup_string(s->get());
	} else if (auto i = n.as_integer()) {
		out->type = TV_INT;
		out->u.i = i->get();
	} else if (auto f = n.as_floating_point()) {
		out->type = TV_FLOAT;
		out->u.f = f->get();
	} else if (auto b = n.as_boolean()) {
		out->type = TV_BOOL;
		out->u.b = b->get();
	} else {
		out->type = TV_OTHER;
	}
}

void free_node(tval *n)
{
	for (size_t i = 0; i < n->count; i++)
		free_node(&n->items[i]);
	std::free(n->items);
	std::free(n->key);
	if (n->type == TV_STRING)
		std::free(n->u.s);
}

} // namespace

extern "C" struct tval *tval_parse_text(const char *text, size_t len, const char *path, char *err, size_t err_len,
				       int *err_line)
{
	*err_line = 0;
	auto *root = static_cast<tval *>(std::calloc(1, sizeof(tval)));
	if (!root) {
		std::snprintf(err, err_len, "out of memory");
		return nullptr;
	}
	try {
		toml::table doc = toml::parse(std::string_view(text, len), std::string_view(path));
		fill(root, doc, nullptr);
		root->line = root->col = 1;
		return root;
	} catch (const toml::parse_error &e) {
		*err_line = static_cast<int>(e.source().begin.line);
		std::snprintf(err, err_len, "%d:%d: %.*s", *err_line,
			      static_cast<int>(e.source().begin.column),
			      static_cast<int>(e.description().size()), e.description().data());
	} catch (const bad_text &e) {
		*err_line = e.line;
		std::snprintf(err, err_len, "%d:%d: %s", e.line, e.col, e.what);
	} catch (const std::exception &e) {
		std::snprintf(err, err_len, "%s", e.what());
	}
	free_node(root);
	std::free(root);
	return nullptr;
}

extern "C" void tval_free(struct tval *root)
{
	if (!root)
		return;
	free_node(root);
	std::free(root);
}

extern "C" const char *tval_type_name(enum tval_type t)
{
	switch (t) {
	case TV_TABLE: return "table";
	case TV_ARRAY: return "array";
	case TV_STRING: return "string";
	case TV_INT: return "integer";
	case TV_FLOAT: return "float";
	case TV_BOOL: return "boolean";
	case TV_OTHER: break;
	}
	return "date/time";
}

extern "C" const struct tval *tval_get(const struct tval *table, const char *key)
{
	if (!table || table->type != TV_TABLE)
		return nullptr;
	for (size_t i = 0; i < table->count; i++)
		if (std::strcmp(table->items[i].key, key) == 0)
			return &table->items[i];
	return nullptr;
}
