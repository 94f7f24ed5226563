#include "probe/json.h"

#include <string.h>

#include "lib/log.h"
#include "lib/utf8.h"

void json_write_string(FILE *fp, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	fputc('"', fp);
	while (i < len) {
		unsigned char ch = p[i];
		size_t n;

		/* RFC 8259 7: '"', '\' and U+0000 to U+001F must be escaped */
		if (ch == '"' || ch == '\\') {
			fputc('\\', fp);
			fputc(ch, fp);
		} else if (ch == '\n') {
			fputs("\\n", fp);
		} else if (ch == '\r') {
			fputs("\\r", fp);
		} else if (ch == '\t') {
			fputs("\\t", fp);
		} else if (ch < 0x20 || ch == 0x7f) {
			fprintf(fp, "\\u%04x", ch);
		} else if (ch < 0x80) {
			fputc(ch, fp);
		} else if ((n = utf8_seq(p + i, len - i)) > 0) {
			fwrite(p + i, 1, n, fp);
			i += n;
			continue;
		} else {
			fputs("\\ufffd", fp);
		}
		i++;
	}
	fputc('"', fp);
}

void json_init(struct json_writer *w, FILE *fp)
{
	w->fp = fp;
	w->depth = 0;
	w->first[0] = true;
}

static void json_indent(struct json_writer *w, int depth)
{
	fputc('\n', w->fp);
	for (int i = 0; i < depth; i++)
		fputs("  ", w->fp);
}

/* Separator, indentation and key before a value. */
static void json_key(struct json_writer *w, const char *key)
{
	if (w->depth > 0) {
		if (!w->first[w->depth])
			fputc(',', w->fp);
		json_indent(w, w->depth);
	}
	w->first[w->depth] = false;
	if (key != NULL) {
		json_write_string(w->fp, key, strlen(key));
		fputs(": ", w->fp);
	}
}

static void json_open(struct json_writer *w, const char *key, char ch)
{
	json_key(w, key);
	if (w->depth + 1 >= JSON_DEPTH_MAX)
		panic("json nesting deeper than %d", JSON_DEPTH_MAX);
	fputc(ch, w->fp);
	w->kind[w->depth] = ch;
	w->depth++;
	w->first[w->depth] = true;
}

void json_object(struct json_writer *w, const char *key)
{
	json_open(w, key, '{');
}

void json_array(struct json_writer *w, const char *key)
{
	json_open(w, key, '[');
}

void json_end(struct json_writer *w)
{
	bool empty = w->first[w->depth];

	if (w->depth == 0)
		panic("json_end without an open object or array");
	w->depth--;
	if (!empty)
		json_indent(w, w->depth);
	fputc(w->kind[w->depth] == '{' ? '}' : ']', w->fp);
	if (w->depth == 0)
		fputc('\n', w->fp);
}

void json_str(struct json_writer *w, const char *key, const char *value)
{
	json_key(w, key);
	if (value == NULL)
		fputs("null", w->fp);
	else
		json_write_string(w->fp, value, strlen(value));
}

void json_int(struct json_writer *w, const char *key, long long value)
{
	json_key(w, key);
	fprintf(w->fp, "%lld", value);
}

void json_bool(struct json_writer *w, const char *key, bool value)
{
	json_key(w, key);
	fputs(value ? "true" : "false", w->fp);
}

void json_null(struct json_writer *w, const char *key)
{
	json_key(w, key);
	fputs("null", w->fp);
}
