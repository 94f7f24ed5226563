/*
 * A small JSON writer (RFC 8259) for `postern probe --json`: strings are
 * escaped here, structure is tracked on a bounded stack so commas and
 * indentation come out right. No parser: postern only writes JSON.
 */
#ifndef PROBE_JSON_H
#define PROBE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Nesting the writer tracks; deeper opens are a panic() (a bug). */
#define JSON_DEPTH_MAX 16

struct json_writer {
	FILE *fp;
	int depth;
	bool first[JSON_DEPTH_MAX]; /* nothing written yet at this level */
	char kind[JSON_DEPTH_MAX];  /* '{' or '[' opened below this level */
};

/*
 * Write s[0..len) as a JSON string, quotes included: '"', '\' and the
 * control characters are escaped (\n, \r, \t, else \u00XX), and so is
 * DEL; a byte that is not part of well-formed UTF-8 becomes \ufffd, so
 * the output is valid UTF-8 whatever a server sent. s may be NULL with
 * len 0 ("").
 */
void json_write_string(FILE *fp, const char *s, size_t len);

void json_init(struct json_writer *w, FILE *fp);
/*
 * Members of an object take a key; elements of an array take NULL.
 * json_end() closes the innermost object or array.
 */
void json_object(struct json_writer *w, const char *key);
void json_array(struct json_writer *w, const char *key);
void json_end(struct json_writer *w);
/* A string value; NULL writes null. */
void json_str(struct json_writer *w, const char *key, const char *value);
void json_int(struct json_writer *w, const char *key, long long value);
void json_bool(struct json_writer *w, const char *key, bool value);
void json_null(struct json_writer *w, const char *key);

#endif
