/*
 * Typed access to libconfig settings, with errors that name file, line
 * and key. Shared by the configuration module's parsers.
 */
#include "server/config_get.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/mem.h"

/*
 * An error is one line whatever the file held: the control octets of a
 * value echoed back ("got ...") are written as \n, \r, \t or \xHH.
 * Takes msg; returns it or its escaped copy.
 */
static char *one_line(char *msg)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0, o = 0;
	char *out;

	for (const char *p = msg; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			n++;
	if (n == 0)
		return msg;
	out = xmalloc(strlen(msg) + 3 * n + 1);
	for (const char *p = msg; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;
		const char *named = c == '\n'	? "\\n"
				    : c == '\r' ? "\\r"
				    : c == '\t' ? "\\t"
						: NULL;

		if (named != NULL) {
			memcpy(out + o, named, 2);
			o += 2;
		} else if (c < 0x20 || c == 0x7f) {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		} else {
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
	free(msg);
	return out;
}

void config_errors_add(struct config_errors *errors, char *msg)
{
	msg = one_line(msg);
	errors->msgs = xrealloc(errors->msgs,
				(errors->count + 1) * sizeof(*errors->msgs));
	errors->msgs[errors->count++] = msg;
}

void config_errors_fini(struct config_errors *errors)
{
	for (size_t i = 0; i < errors->count; i++)
		free(errors->msgs[i]);
	free(errors->msgs);
	errors->msgs = NULL;
	errors->count = 0;
}

/*
 * Make path absolute against base (already absolute) and drop "." parts
 * and repeated slashes. ".." stays: with symbolic links only the file
 * system knows where it leads. The caller frees the result.
 */
char *config_path_resolve(const char *base, const char *path)
{
	char *p =
		path[0] == '/' ? xstrdup(path) : xasprintf("%s/%s", base, path);
	char *out = p;
	const char *in = p;

	while (*in != '\0') {
		const char *part;
		size_t len;

		while (*in == '/')
			in++;
		part = in;
		while (*in != '\0' && *in != '/')
			in++;
		len = (size_t)(in - part);
		if (len == 0 || (len == 1 && part[0] == '.'))
			continue;
		*out++ = '/';
		memmove(out, part, len);
		out += len;
	}
	if (out == p)
		*out++ = '/';
	*out = '\0';
	return p;
}

/*
 * Name of the file a setting or error comes from: the name the caller gave
 * for the main file, an absolute path for an @include (libconfig keeps the
 * name as written). The caller frees it.
 */
char *config_source_name(const struct config_loader *ld, const char *file)
{
	if (file == NULL)
		return xstrdup(ld->name);
	return config_path_resolve(ld->base_dir, file);
}

/*
 * Record "FILE:LINE: parent.key: message" for setting where. parent and key
 * may each be NULL. The root group has no line; its errors (missing
 * top-level keys) point at line 1.
 */
void config_report(struct config_loader *ld, const config_setting_t *where,
		   const char *parent, const char *key, const char *fmt, ...)
{
	char *file = config_source_name(ld, config_setting_source_file(where));
	unsigned int line = config_setting_source_line(where);
	va_list ap;
	char *body;

	va_start(ap, fmt);
	if (vasprintf(&body, fmt, ap) < 0)
		fatal("out of memory formatting a configuration error");
	va_end(ap);
	if (line == 0)
		line = 1;
	config_errors_add(ld->errors,
			  xasprintf("%s:%u: %s%s%s%s%s", file, line,
				    parent != NULL ? parent : "",
				    parent != NULL && key != NULL ? "." : "",
				    key != NULL ? key : "",
				    parent != NULL || key != NULL ? ": " : "",
				    body));
	free(body);
	free(file);
}

const char *config_type_name(const config_setting_t *s)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_GROUP:
		return "a group";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		return "an integer";
	case CONFIG_TYPE_FLOAT:
		return "a float";
	case CONFIG_TYPE_STRING:
		return "a string";
	case CONFIG_TYPE_BOOL:
		return "a boolean";
	case CONFIG_TYPE_ARRAY:
		return "an array";
	case CONFIG_TYPE_LIST:
		return "a list";
	default:
		return "nothing";
	}
}

static size_t min3(size_t a, size_t b, size_t c)
{
	size_t m = a < b ? a : b;

	return m < c ? m : c;
}

/*
 * Edit distance where swapping two neighbours counts as one edit ("prot"
 * for "port"), for "did you mean". Long names count as far.
 */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t rows[3][32]; /* rows i-2, i-1, i, rotating */

	if (la >= COUNT(rows[0]) || lb >= COUNT(rows[0]))
		return (size_t)-1;
	for (size_t j = 0; j <= lb; j++)
		rows[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t *cur = rows[i % 3], *prev = rows[(i - 1) % 3];
		size_t *prev2 = rows[(i + 1) % 3];

		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1];

			cur[j] = min3(prev[j] + 1, cur[j - 1] + 1,
				      prev[j - 1] + cost);
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && prev2[j - 2] + 1 < cur[j])
				cur[j] = prev2[j - 2] + 1;
		}
	}
	return rows[la % 3][lb];
}

/* One edit away, or two for names long enough to tell apart. */
static int near_miss(const char *name, const char *known)
{
	size_t d = edit_distance(name, known);

	return d == 1 || (d == 2 && strlen(known) >= 6);
}

/* Report every member of group whose name is not in known[]. */
void config_check_keys(struct config_loader *ld, config_setting_t *group,
		       const char *path, const char *const *known, size_t n)
{
	for (int i = 0; i < config_setting_length(group); i++) {
		config_setting_t *s = config_setting_get_elem(group, i);
		const char *name = config_setting_name(s);
		const char *near = NULL;
		size_t k;

		for (k = 0; k < n && strcmp(name, known[k]) != 0; k++) {
			if (near == NULL && near_miss(name, known[k]))
				near = known[k];
		}
		if (k < n)
			continue;
		if (near != NULL)
			config_report(ld, s, path, NULL,
				      "unknown key '%s' (did you mean '%s'?)",
				      name, near);
		else
			config_report(ld, s, path, NULL, "unknown key '%s'",
				      name);
	}
}

/*
 * Typed getters. Each returns 1 when key is present and valid, 0 when it
 * is absent, -1 when it is invalid (already reported).
 */
int config_get_string(struct config_loader *ld, config_setting_t *group,
		      const char *path, const char *key, const char **value_r)
{
	config_setting_t *s = config_setting_get_member(group, key);

	if (s == NULL)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		config_report(ld, s, path, key, "must be a string (got %s)",
			      config_type_name(s));
		return -1;
	}
	*value_r = config_setting_get_string(s);
	return 1;
}

/* A non-empty string. */
int config_get_text(struct config_loader *ld, config_setting_t *group,
		    const char *path, const char *key, const char **value_r)
{
	int ret = config_get_string(ld, group, path, key, value_r);

	if (ret == 1 && (*value_r)[0] == '\0') {
		config_report(ld, config_setting_get_member(group, key), path,
			      key, "must not be empty");
		return -1;
	}
	return ret;
}

/*
 * Note: libconfig 1.5 wraps integers that overflow 32 bits without a word;
 * only values written with an L suffix arrive as 64-bit.
 */
int config_get_int(struct config_loader *ld, config_setting_t *group,
		   const char *path, const char *key, long long min,
		   long long max, int *value_r)
{
	config_setting_t *s = config_setting_get_member(group, key);
	long long v;

	if (s == NULL)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64) {
		config_report(ld, s, path, key, "must be an integer (got %s)",
			      config_type_name(s));
		return -1;
	}
	v = config_setting_get_int64(s);
	if (v < min || v > max) {
		config_report(ld, s, path, key, "must be %lld..%lld (got %lld)",
			      min, max, v);
		return -1;
	}
	*value_r = (int)v;
	return 1;
}

/* "\"a\", \"b\" or \"c\"", for messages; the caller frees it. */
static char *config_join_names(const char *const *names, size_t n)
{
	char *s = xasprintf("\"%s\"", names[0]);

	for (size_t i = 1; i < n; i++) {
		char *next = xasprintf("%s%s\"%s\"", s,
				       i + 1 == n ? " or " : ", ", names[i]);

		free(s);
		s = next;
	}
	return s;
}

/* A string that must be one of names[]; *value_r gets its index. */
int config_get_enum(struct config_loader *ld, config_setting_t *group,
		    const char *path, const char *key, const char *const *names,
		    size_t n, int *value_r)
{
	const char *value;
	int ret = config_get_string(ld, group, path, key, &value);
	char *expected;

	if (ret != 1)
		return ret;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(value, names[i]) == 0) {
			*value_r = (int)i;
			return 1;
		}
	}
	expected = config_join_names(names, n);
	config_report(ld, config_setting_get_member(group, key), path, key,
		      "must be %s (got \"%s\")", expected, value);
	free(expected);
	return -1;
}

/* A non-empty path, made absolute; *value_r is owned by the caller. */
int config_get_path(struct config_loader *ld, config_setting_t *group,
		    const char *path, const char *key, char **value_r)
{
	const char *value;
	int ret = config_get_text(ld, group, path, key, &value);

	if (ret == 1)
		*value_r = config_path_resolve(ld->base_dir, value);
	return ret;
}

/* A group member that must itself be a group; NULL when absent or not. */
config_setting_t *config_get_group(struct config_loader *ld,
				   config_setting_t *parent, const char *key)
{
	config_setting_t *s = config_setting_get_member(parent, key);

	if (s == NULL)
		return NULL;
	if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
		config_report(ld, s, NULL, key,
			      "must be a group { ... } (got %s)",
			      config_type_name(s));
		return NULL;
	}
	return s;
}

/* A list of groups ( { ... }, ... ); NULL when absent or not. */
config_setting_t *config_get_group_list(struct config_loader *ld,
					config_setting_t *parent,
					const char *path, const char *key)
{
	config_setting_t *s = config_setting_get_member(parent, key);
	int ok = 1;

	if (s == NULL)
		return NULL;
	if (config_setting_type(s) != CONFIG_TYPE_LIST) {
		config_report(
			ld, s, path, key,
			"must be a list of groups ( { ... }, ... ) (got %s)",
			config_type_name(s));
		return NULL;
	}
	for (int i = 0; i < config_setting_length(s); i++) {
		config_setting_t *e = config_setting_get_elem(s, i);

		if (config_setting_type(e) != CONFIG_TYPE_GROUP) {
			char *name = xasprintf("%s%s%s.[%d]",
					       path != NULL ? path : "",
					       path != NULL ? "." : "", key, i);

			config_report(ld, e, name, NULL,
				      "must be a group { ... } (got %s)",
				      config_type_name(e));
			free(name);
			ok = 0;
		}
	}
	return ok ? s : NULL;
}

void config_report_missing(struct config_loader *ld,
			   const config_setting_t *where, const char *path,
			   const char *key)
{
	config_report(ld, where, path, key, "required setting is missing");
}

int config_get_bool(struct config_loader *ld, config_setting_t *group,
		    const char *path, const char *key, bool *value_r)
{
	config_setting_t *s = config_setting_get_member(group, key);

	if (s == NULL)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		config_report(ld, s, path, key,
			      "must be true or false (got %s)",
			      config_type_name(s));
		return -1;
	}
	*value_r = config_setting_get_bool(s) != 0;
	return 1;
}

int config_get_strings(struct config_loader *ld, config_setting_t *group,
		       const char *path, const char *key, char ***values_r,
		       size_t *count_r)
{
	config_setting_t *s = config_setting_get_member(group, key);
	char **v;
	int n;

	if (s == NULL)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_ARRAY &&
	    config_setting_type(s) != CONFIG_TYPE_LIST) {
		config_report(ld, s, path, key,
			      "must be an array of strings [ \"...\" ] "
			      "(got %s)",
			      config_type_name(s));
		return -1;
	}
	n = config_setting_length(s);
	v = xcalloc((size_t)n + 1, sizeof(*v));
	for (int i = 0; i < n; i++) {
		config_setting_t *e = config_setting_get_elem(s, i);
		const char *str = config_setting_get_string(e);

		if (str == NULL || *str == '\0') {
			config_report(ld, e, path, key,
				      "element %d must be a non-empty string",
				      i);
			for (int j = 0; j < i; j++)
				free(v[j]);
			free(v);
			return -1;
		}
		v[i] = xstrdup(str);
	}
	*values_r = v;
	*count_r = (size_t)n;
	return 1;
}
