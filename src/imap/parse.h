/*
 * IMAP command parser (RFC 3501 9, RFC 9051 9): pure functions over one
 * complete command as it came off the wire, literals included.
 *
 * The session collects a command into one bounded buffer: the first line,
 * and for each line that ends in a literal announcement ("{n}", "{n+}",
 * "~{n}"), CRLF, the n literal octets and the line that follows. The
 * buffer holds the exact wire bytes without the final CRLF:
 *
 *   a1 LOGIN {5}\r\nalice {6+}\r\nsecret
 *
 * The parser reads it with a cursor, one grammar element per call, so each
 * command handler asks for exactly what its syntax says (an atom, an
 * astring, a list, a sequence set...). The cursor inserts the single SP
 * between arguments itself: every argument reader first takes the SP that
 * separates it from the previous argument at the same level (none after
 * "(" or at the start).
 *
 * Every reader returns 0 and advances, or -1 and leaves the cursor where
 * it was with a->error set to a static sentence for "tag BAD <sentence>".
 * Strings handed back (NUL-terminated) live in an arena owned by the
 * cursor and stay valid until imap_args_fini(); literal data returned by
 * imap_args_message() points into the caller's buffer instead.
 *
 * SECURITY: input is hostile and unauthenticated. Every read is bounded by
 * the buffer; literal sizes are checked against what is left; list nesting
 * is capped at IMAP_LIST_DEPTH_MAX; the arena never holds more than about
 * twice the input. No I/O, no globals: tests/fuzz/fuzz_imap_parse.c.
 */
#ifndef IMAP_PARSE_H
#define IMAP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Longest tag and command name we accept (atoms; RFC gives no limit). */
#define IMAP_TAG_MAX 64
#define IMAP_NAME_MAX 32
/* Deepest parenthesized list (SEARCH nesting, FETCH lists). */
#define IMAP_LIST_DEPTH_MAX 32
/* Most ranges in one sequence set. */
#define IMAP_SEQSET_RANGES_MAX 10000
/* Largest literal size the announcement parser accepts at all; the
 * session applies the real, configured caps below this. */
#define IMAP_LITERAL_ANNOUNCE_MAX UINT32_MAX

struct imap_arena_block;

/* The cursor over one command. Fields are private to parse.c. */
struct imap_args {
	const char *p;	 /* next unread byte */
	const char *end; /* end of the command */
	bool need_sp;	 /* an argument was read at this level */
	unsigned depth;	 /* open parentheses */
	const char *error;
	struct imap_arena_block *arena;
};

/* ---- The whole command ---- */

/*
 * Start a cursor over data[0..len) (borrowed: it must outlive the cursor
 * and every pointer returned). Never fails; errors show at the first read.
 */
void imap_args_init(struct imap_args *a, const char *data, size_t len);
/* Free the arena (every string returned). Safe to call twice. */
void imap_args_fini(struct imap_args *a);
/* x then y, NUL-terminated, in the arena (freed by imap_args_fini). */
const char *imap_args_concat(struct imap_args *a, const char *x, const char *y);

/*
 * The tag (RFC 3501 9: 1*<any ASTRING-CHAR except "+">) and the command
 * name (an atom, returned uppercased, at most IMAP_NAME_MAX octets). On -1
 * *tag_r is still set when a tag could be read ("*" otherwise), so the
 * caller can answer "tag BAD" or "* BAD".
 */
int imap_args_command(struct imap_args *a, const char **tag_r,
		      const char **name_r) __attribute__((warn_unused_result));

/* True when nothing is left at this level: end of command or ")". */
bool imap_args_at_end(const struct imap_args *a);
/* 0 when the whole command was read; -1 ("Unexpected arguments") if not. */
int imap_args_finish(struct imap_args *a) __attribute__((warn_unused_result));
/* The sentence of the last failure ("" when none): static text. */
const char *imap_args_error(const struct imap_args *a);

/* ---- Strings ---- */

/*
 * atom (RFC 3501 9: 1*ATOM-CHAR). Returned NUL-terminated as sent (not
 * case-folded). The ']' resp-special is not an atom char.
 */
int imap_args_atom(struct imap_args *a, const char **atom_r)
	__attribute__((warn_unused_result));
/*
 * An atom that also stops at any octet of stop (e.g. "[" for FETCH's
 * "BODY[", "<" for a partial): the building block for grammar whose words
 * run into punctuation. Needs at least one octet.
 */
int imap_args_atom_until(struct imap_args *a, const char *stop,
			 const char **atom_r)
	__attribute__((warn_unused_result));
/* Is the very next octet c (no SP skipped)? Does not move the cursor. */
bool imap_args_peek(const struct imap_args *a, char c);
/*
 * Take the punctuation octet c right here (no SP before it): "[", "]",
 * "<", ".", ">" of FETCH sections. Afterwards an SP is due before the next
 * argument only when c is one of "]", ">", ")".
 */
int imap_args_char(struct imap_args *a, char c)
	__attribute__((warn_unused_result));

/*
 * string: quoted (escapes \\ and \" undone) or literal, NUL-terminated;
 * *len_r (may be NULL) is its length. Refuses a NUL inside (RFC 3501 9:
 * CHAR8 excludes %x00), so the result is a proper C string.
 */
int imap_args_string(struct imap_args *a, const char **s_r, size_t *len_r)
	__attribute__((warn_unused_result));
/* astring: atom (']' allowed, ASTRING-CHAR) or string. */
int imap_args_astring(struct imap_args *a, const char **s_r, size_t *len_r)
	__attribute__((warn_unused_result));
/* nstring: NIL gives *s_r = NULL; else a string. */
int imap_args_nstring(struct imap_args *a, const char **s_r, size_t *len_r)
	__attribute__((warn_unused_result));
/*
 * A mailbox name: astring, with "INBOX" in any case given back as
 * "INBOX" (RFC 3501 5.1). Modified UTF-7 is left to the store.
 */
int imap_args_mailbox(struct imap_args *a, const char **name_r)
	__attribute__((warn_unused_result));
/*
 * list-mailbox (RFC 3501 9): like astring, but the atom form also takes
 * the wildcards "%" and "*" and ']'.
 */
int imap_args_list_mailbox(struct imap_args *a, const char **pattern_r)
	__attribute__((warn_unused_result));
/*
 * The message of APPEND: a literal ("{n}") or literal8 ("~{n}", RFC
 * 3516), returned in place (not copied, not NUL-terminated, NUL allowed)
 * so a 20 MB message is never duplicated. *binary_r (may be NULL) tells
 * literal8.
 */
int imap_args_message(struct imap_args *a, const char **data_r, size_t *len_r,
		      bool *binary_r) __attribute__((warn_unused_result));

/* ---- Lists ---- */

/* Open a parenthesized list: "(" (after the separating SP). */
int imap_args_list_open(struct imap_args *a)
	__attribute__((warn_unused_result));
/* Close it: ")" right here. */
int imap_args_list_close(struct imap_args *a)
	__attribute__((warn_unused_result));
/* Is a "(" next (after the separating SP)? Does not move. */
bool imap_args_is_list(const struct imap_args *a);
/* Is NIL (any case) next? Does not move. */
bool imap_args_is_nil(const struct imap_args *a);
/* Skip one argument of any kind, lists included (unknown extensions). */
int imap_args_skip(struct imap_args *a) __attribute__((warn_unused_result));

/* ---- Numbers ---- */

/* number (RFC 3501 9: 0 .. 4294967295). */
int imap_args_number(struct imap_args *a, uint32_t *n_r)
	__attribute__((warn_unused_result));
/* nz-number: 1 .. 4294967295. */
int imap_args_nz_number(struct imap_args *a, uint32_t *n_r)
	__attribute__((warn_unused_result));
/* number64 / mod-sequence-value (RFC 7162 7, RFC 9051 9): 0 .. 2^63-1. */
int imap_args_number64(struct imap_args *a, uint64_t *n_r)
	__attribute__((warn_unused_result));

/* ---- Sequence sets ---- */

/* "*" in a set: the largest number in use, resolved later. */
#define IMAP_SEQ_STAR 0

/*
 * One range lo:hi as sent: either bound may be IMAP_SEQ_STAR and lo may be
 * above hi ("4:2" is "2:4", RFC 3501 9 seq-range).
 */
struct imap_seq_range {
	uint32_t lo, hi;
};

/*
 * A sequence-set (RFC 3501 9), usable for message sequence numbers and
 * UIDs alike: the command knows which it is. ranges live in the arena.
 */
struct imap_seqset {
	struct imap_seq_range *ranges;
	size_t n;
	/* "$": the session's saved search result (RFC 9051 6.4.4.1),
	 * with no ranges; the command looks it up. */
	bool saved;
};

/*
 * sequence-set: "1", "2:4", "*", "5:*", "1,3:5,7", or "$" (saved). At
 * most IMAP_SEQSET_RANGES_MAX ranges.
 */
int imap_args_seqset(struct imap_args *a, struct imap_seqset *set_r)
	__attribute__((warn_unused_result));

/*
 * Parse a sequence set from text s[0..len), for callers that hold one
 * outside a command (QRESYNC's known-uids). Ranges in a's arena.
 */
int imap_seqset_parse(struct imap_args *a, const char *s, size_t len,
		      struct imap_seqset *set_r)
	__attribute__((warn_unused_result));

/*
 * Resolve in place: "*" becomes star (the highest sequence number or UID
 * in use; 0 for an empty mailbox), each range gets lo <= hi, ranges are
 * sorted and merged. Afterwards set->n may be smaller.
 */
void imap_seqset_resolve(struct imap_seqset *set, uint32_t star);
/* Is n in the set (resolved or not, "*" taken as star)? */
bool imap_seqset_contains(const struct imap_seqset *set, uint32_t n,
			  uint32_t star);

/* ---- Flags ---- */

/*
 * A flag list: "(" [flag *(SP flag)] ")", or with parens_optional (STORE,
 * RFC 3501 9 store-att-flags) also bare flags up to the end of the
 * command. *flags_r gets enum store_flag bits (\Seen \Answered \Flagged
 * \Deleted \Draft), *keywords_r the keywords space-separated in the arena
 * (NULL when none). \Recent and other "\" flags are refused ("\Recent
 * cannot be set"); keywords must be atoms of at most 64 octets. The bits
 * equal store/store.h's enum store_flag.
 */
int imap_args_flags(struct imap_args *a, bool parens_optional,
		    unsigned *flags_r, const char **keywords_r)
	__attribute__((warn_unused_result));

/* ---- Dates ---- */

/*
 * date (RFC 3501 9: "1-Feb-2024", optionally quoted) as the time_t of
 * that day's 00:00 UTC. SEARCH BEFORE/ON/SINCE compare days.
 */
int imap_args_date(struct imap_args *a, time_t *t_r)
	__attribute__((warn_unused_result));
/*
 * date-time (RFC 3501 9: "17-Jul-1996 02:44:25 -0700", quoted; the day
 * may be " 7" or "7") as a time_t.
 */
int imap_args_datetime(struct imap_args *a, time_t *t_r)
	__attribute__((warn_unused_result));

/* ---- LIST patterns ---- */

/* Longest LIST pattern (reference and mailbox joined). */
#define IMAP_PATTERN_MAX 1024

/*
 * Does mailbox name match a LIST pattern (RFC 3501 6.3.8): "*" matches
 * anything, "%" anything but the separator "/"; "INBOX" and its
 * hierarchy match in any case (5.1). False for a pattern longer than
 * IMAP_PATTERN_MAX.
 */
bool imap_list_match(const char *pattern, const char *name);

/* ---- Session helpers (pure) ---- */

/*
 * Does the line line[0..len) (without CRLF) end in a literal announcement
 * "{n}", "{n+}" (RFC 7888 non-synchronizing) or "~{n}" (RFC 3516
 * literal8)? Returns 1 with *size_r and *nonsync_r set, 0 when it does
 * not, -1 when it is malformed ("{" then not a number below 2^32).
 */
int imap_literal_announce(const char *line, size_t len, uint64_t *size_r,
			  bool *nonsync_r) __attribute__((warn_unused_result));

/*
 * The first two words of a command line, for the session to decide before
 * reading a literal (APPEND gets a larger cap): copies the tag (up to
 * IMAP_TAG_MAX) and the uppercased command name into tag/name (sizes
 * IMAP_TAG_MAX + 1 and IMAP_NAME_MAX + 1; "" when absent or invalid).
 */
void imap_peek_command(const char *line, size_t len, char *tag, char *name);

#endif
