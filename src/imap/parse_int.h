/*
 * Private to parse.c and parse_values.c: the cursor primitives the value
 * readers are built on. Same contracts as parse.h: failures leave the
 * cursor where it was and set a->error.
 */
#ifndef IMAP_PARSE_INT_H
#define IMAP_PARSE_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "imap/parse.h"

/* n octets in the cursor's arena (freed by imap_args_fini). */
void *imap_arena_alloc(struct imap_args *a, size_t n);
/* Set a->error to why (static text); returns -1. */
int imap_args_fail(struct imap_args *a, const char *why);
/* Where the next argument starts, after its separating SP; NULL (and
 * a->error set) when it is missing. */
const char *imap_args_start(struct imap_args *a);
/* The argument ended just before p: an SP is due before the next. */
void imap_args_done(struct imap_args *a, const char *p);
/* Octets from p that ok() accepts and stop (may be NULL) does not hold. */
size_t imap_span(const char *p, const char *end, bool (*ok)(unsigned char),
		 const char *stop);
/* RFC 3501 9 ATOM-CHAR and ASTRING-CHAR. */
bool imap_is_atom_char(unsigned char c);
bool imap_is_astring_char(unsigned char c);

#endif
