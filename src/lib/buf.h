/*
 * Bounded byte buffer. Every buffer has a maximum fixed at creation: there
 * is no unbounded constructor, so input from the network can never grow one
 * past its limit.
 */
#ifndef LIB_BUF_H
#define LIB_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *data;
	size_t off; /* start of unconsumed bytes */
	size_t len; /* end of valid bytes; unconsumed = len - off */
	size_t cap;
	size_t max;
};

/* Embed a buffer that may hold up to max bytes; allocates lazily. */
void buf_init(struct buf *b, size_t max);
void buf_fini(struct buf *b);

/* Unconsumed bytes and their count. */
static inline const char *buf_data(const struct buf *b)
{
	return b->data + b->off;
}
static inline size_t buf_len(const struct buf *b)
{
	return b->len - b->off;
}
/* Bytes that may still be appended before the maximum is reached. */
size_t buf_room(const struct buf *b);

/* Append len bytes. Returns 0, or -1 (nothing appended) past the maximum. */
int buf_append(struct buf *b, const void *data, size_t len)
	__attribute__((warn_unused_result));
/* Append a formatted string; -1 (nothing appended) past the maximum. */
int buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), warn_unused_result));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0), warn_unused_result));

/*
 * Space to read into directly: returns a pointer to at least *len_r
 * writable bytes (0 when full); buf_commit(b, n) then makes n of them valid.
 */
char *buf_space(struct buf *b, size_t want, size_t *len_r);
void buf_commit(struct buf *b, size_t n);

/* Drop n bytes from the front (n <= buf_len). */
void buf_consume(struct buf *b, size_t n);
/* Drop everything. */
void buf_reset(struct buf *b);

#endif
