/*
 * IMAP SEARCH programs (RFC 3501 6.4.4, RFC 9051 6.4.4, RFC 7162 3.1.5):
 * parse the criteria into a tree, then match one message at a time
 * against its metadata and, only when a key needs it, its content.
 *
 * Pure: no I/O, no globals. The content comes through a callback the
 * caller gives, called at most once per message and only when a key
 * that reads headers or bodies is reached (AND evaluates the cheap keys
 * first, so "UNSEEN SUBJECT x" never loads a seen message).
 *
 * Strings match as RFC 3501 says: case-insensitive substrings, here on
 * UTF-8 with simple case folding (ASCII, Latin-1, Latin Extended-A,
 * Greek, Cyrillic), against header values with RFC 2047 encoded words
 * decoded and against text bodies with their transfer encoding undone and
 * their charset made UTF-8 (mail/mime.h). Body parts of types other than
 * text and message are not searched (RFC 3501 6.4.4 allows it).
 *
 * Dates: BEFORE/ON/SINCE take the day of the internal date in UTC;
 * SENTBEFORE/SENTON/SENTSINCE the day written in the Date: header (its
 * own zone, "disregarding time and timezone"); a message without a
 * readable Date: matches none of them.
 *
 * SECURITY: the program comes from an authenticated client but is
 * hostile input: nesting is bounded by SEARCH_DEPTH_MAX (NOT and OR
 * chains as well as parentheses), the number of keys by SEARCH_KEYS_MAX,
 * so parsing and each message's evaluation are bounded. Tested in
 * tests/unit/imap/test_search.c, fuzzed by tests/fuzz/fuzz_imap_search.c.
 */
#ifndef IMAP_SEARCH_H
#define IMAP_SEARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "imap/parse.h"

/* Deepest nesting of NOT, OR and parenthesized groups. */
#define SEARCH_DEPTH_MAX 32
/* Most keys in one program (each costs work for every message). */
#define SEARCH_KEYS_MAX 1000

/* search_parse() results besides 0 and -1. */
#define SEARCH_ERR_CHARSET (-2) /* NO [BADCHARSET (UTF-8 US-ASCII)] */

/* ESEARCH result options (RFC 9051 6.4.4, RFC 4731). */
enum search_return {
	SEARCH_RET_MIN = 0x01,
	SEARCH_RET_MAX = 0x02,
	SEARCH_RET_ALL = 0x04,
	SEARCH_RET_COUNT = 0x08,
	SEARCH_RET_SAVE = 0x10, /* RFC 9051 6.4.4.1: set "$" */
};

struct search_key;

/* What a content key needs to read of a message. */
enum search_need {
	SEARCH_NEED_FIELDS, /* a header block holding the fields it names */
	SEARCH_NEED_HEADER, /* the whole header block */
	SEARCH_NEED_ALL,    /* header and body (BODY, TEXT) */
};

struct search_program {
	struct search_key *root;
	/* A RETURN (...) was given: answer with ESEARCH, these options. */
	bool esearch;
	unsigned ret; /* enum search_return bits */
	/* A message sequence number set appears in the criteria (UID
	 * SEARCH must then not send EXPUNGE/VANISHED, RFC 7162 3.2.10.2). */
	bool uses_seq;
	/* A MODSEQ key appears: the answer carries the highest MODSEQ
	 * (RFC 7162 3.1.5) and CONDSTORE is turned on. */
	bool uses_modseq;
	/* Some key reads headers or bodies. */
	bool needs_content;
	/* What the content keys need loaded: search_use_fields() may lower
	 * SEARCH_NEED_HEADER to SEARCH_NEED_FIELDS. */
	enum search_need need;
};

/* What a message is besides its bytes. keywords: space-separated or
 * NULL; flags: store/store.h enum store_flag bits. */
struct search_msg {
	uint32_t seq, uid;
	unsigned flags;
	const char *keywords;
	bool recent;
	uint64_t modseq;
	time_t internaldate;
	uint64_t size;
};

/*
 * The message's bytes, when a key needs them: return 0 with a malloc'd
 * buffer in *data_r (the evaluator frees it) or -1 when it cannot be
 * read (the message then has no header and no body: content keys do not
 * match it). need is the program's: less than the whole message will do
 * unless it is SEARCH_NEED_ALL.
 */
typedef int search_load_fn(void *ctx, const struct search_msg *m,
			   enum search_need need, char **data_r, size_t *len_r);

/*
 * Read the arguments of SEARCH (after the command name): optional
 * "RETURN (...)", optional "CHARSET x", then one or more search keys up
 * to the end of the command. Returns 0 with *prog_r (caller frees with
 * search_program_free), -1 for a syntax error (a->error says why: BAD),
 * or SEARCH_ERR_CHARSET for a charset other than UTF-8 and US-ASCII.
 * Strings in the program are copies: it outlives a.
 */
int search_parse(struct imap_args *a, struct search_program **prog_r)
	__attribute__((warn_unused_result));
void search_program_free(struct search_program **progp);

/*
 * Before matching, once per program: "*" in sequence sets becomes count
 * (messages in the view) and in UID sets max_uid (the highest UID in the
 * view); "$" becomes the UIDs saved[0..n_saved) (ascending); sets are
 * sorted and merged for binary search.
 */
void search_prepare(struct search_program *prog, uint32_t count,
		    uint32_t max_uid, const uint32_t *saved, size_t n_saved);

/*
 * When cached(name) holds for every header field the program reads (FROM
 * reads "From", SENTON "Date"...), a block of those fields is enough: need
 * becomes SEARCH_NEED_FIELDS. A program that needs the whole message, or
 * none of it, is left as it is.
 */
void search_use_fields(struct search_program *prog,
		       bool (*cached)(const char *name));

/* 1 when m matches, 0 when not. load may be NULL (content unknown). */
int search_match(const struct search_program *prog, const struct search_msg *m,
		 search_load_fn *load, void *ctx);

/*
 * Case-insensitive substring test as SEARCH does it (exposed for the
 * tests): is needle in hay, both UTF-8?
 */
bool search_text_contains(const char *hay, size_t hay_len, const char *needle);

/*
 * Read the day of an RFC 5322 date-time ("Tue, 1 Jul 2003 10:52:37
 * +0200", obsolete two-digit years too) as the time_t of 00:00 UTC of
 * that day as written. -1 when it cannot be read.
 */
int search_parse_sent_day(const char *value, time_t *day_r);

#endif
