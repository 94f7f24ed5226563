/*
 * Private to imap/search.c and imap/search_text.c: the text helpers the
 * SEARCH evaluator shares. Not a public contract.
 */
#ifndef IMAP_SEARCH_TEXT_H
#define IMAP_SEARCH_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* A growable string, NUL-terminated once non-empty; p NULL when empty. */
struct sstr {
	char *p;
	size_t len, cap;
};

void search_sstr_add(struct sstr *s, const void *d, size_t n);
void search_sstr_fini(struct sstr *s);

/* Append s[0..len) case-folded (search.h); non-UTF-8 octets as they are. */
void search_fold_append(struct sstr *o, const char *s, size_t len);
/* Is needle in hay (both folded)? An empty needle is everywhere. */
bool search_folded_has(const char *hay, size_t hay_len, const char *needle,
		       size_t needle_len);

/* A raw value v[0..len) unfolded, RFC 2047 words decoded, case-folded,
 * appended to out. */
void search_add_decoded(struct sstr *out, const char *v, size_t len);
/* Every field of h as "name: value\n", decoded and folded (TEXT). */
void search_header_text(struct sstr *out, const char *h, size_t len);

#endif
