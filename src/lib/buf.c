#include "lib/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/mem.h"

void buf_init(struct buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void buf_fini(struct buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

size_t buf_room(const struct buf *b)
{
	return b->max - buf_len(b);
}

/* Make room for want more bytes after len, compacting before growing. */
static int buf_reserve(struct buf *b, size_t want)
{
	size_t need, ncap;

	if (want > buf_room(b))
		return -1;
	if (b->cap - b->len >= want)
		return 0;
	if (b->off > 0) {
		memmove(b->data, b->data + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
		if (b->cap - b->len >= want)
			return 0;
	}
	need = b->len + want;
	ncap = b->cap ? b->cap : 256;
	while (ncap < need)
		ncap *= 2;
	if (ncap > b->max)
		ncap = b->max;
	b->data = xrealloc(b->data, ncap);
	b->cap = ncap;
	return 0;
}

int buf_append(struct buf *b, const void *data, size_t len)
{
	if (len == 0)
		return 0;
	if (buf_reserve(b, len) < 0)
		return -1;
	memcpy(b->data + b->len, data, len);
	b->len += len;
	return 0;
}

int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	char small[512];
	char *big;
	va_list ap2;
	int n, ret;

	va_copy(ap2, ap);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	if (n < 0 || (size_t)n < sizeof(small)) {
		va_end(ap2);
		return n < 0 ? -1 : buf_append(b, small, (size_t)n);
	}
	big = xmalloc((size_t)n + 1);
	vsnprintf(big, (size_t)n + 1, fmt, ap2);
	va_end(ap2);
	ret = buf_append(b, big, (size_t)n);
	free(big);
	return ret;
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return ret;
}

char *buf_space(struct buf *b, size_t want, size_t *len_r)
{
	size_t room = buf_room(b);

	if (want > room)
		want = room;
	if (want == 0 || buf_reserve(b, want) < 0) {
		*len_r = 0;
		return NULL;
	}
	*len_r = b->cap - b->len;
	if (*len_r > room)
		*len_r = room;
	return b->data + b->len;
}

void buf_commit(struct buf *b, size_t n)
{
	if (n > b->cap - b->len)
		panic("buf_commit past capacity: %zu > %zu", n,
		      b->cap - b->len);
	b->len += n;
}

void buf_consume(struct buf *b, size_t n)
{
	if (n > buf_len(b))
		panic("buf_consume past end: %zu > %zu", n, buf_len(b));
	b->off += n;
	if (b->off == b->len)
		b->off = b->len = 0;
}

void buf_reset(struct buf *b)
{
	b->off = b->len = 0;
}
