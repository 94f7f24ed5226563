/*
 * Raw DEFLATE streams for a connection (compress.h), over zlib.
 */
#include "net/compress.h"

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "lib/log.h"
#include "lib/mem.h"

/* Larger empty buffers are freed (memory per idle connection). */
#define COMPRESS_KEEP_BUFFER 4096

struct compress {
	z_stream in, out;
	struct buf zin;	 /* compressed input not inflated yet */
	struct buf zout; /* deflated output not written yet */
	bool ended;
	bool pending; /* inflate filled its output: it may hold more */
};

struct compress *compress_new(void)
{
	struct compress *z = xcalloc(1, sizeof(*z));

	/* Negative window bits: raw DEFLATE, no zlib header (RFC 4978 2). */
	if (inflateInit2(&z->in, -15) != Z_OK ||
	    deflateInit2(&z->out, 1, Z_DEFLATED, -COMPRESS_WBITS,
			 COMPRESS_MEMLEVEL, Z_DEFAULT_STRATEGY) != Z_OK)
		fatal("zlib: cannot set up DEFLATE streams");
	buf_init(&z->zin, COMPRESS_IN_MAX);
	buf_init(&z->zout, SIZE_MAX);
	return z;
}

void compress_free(struct compress **zp)
{
	struct compress *z = *zp;

	if (z == NULL)
		return;
	inflateEnd(&z->in);
	deflateEnd(&z->out);
	buf_fini(&z->zin);
	buf_fini(&z->zout);
	free(z);
	*zp = NULL;
}

struct buf *compress_input(struct compress *z)
{
	return &z->zin;
}

struct buf *compress_output(struct compress *z)
{
	return &z->zout;
}

bool compress_has_input(const struct compress *z)
{
	return buf_len(&z->zin) > 0 || z->pending;
}

long compress_inflate(struct compress *z, struct buf *out)
{
	size_t room, before = buf_len(out);
	char *space;
	int r;

	if (z->ended)
		return -1;
	while (compress_has_input(z)) {
		space = buf_space(out, 16384, &room);
		if (room == 0)
			break;
		if (room > UINT_MAX)
			room = UINT_MAX;
		z->in.next_in = (Bytef *)buf_data(&z->zin);
		z->in.avail_in =
			(uInt)buf_len(&z->zin); /* <= COMPRESS_IN_MAX */
		z->in.next_out = (Bytef *)space;
		z->in.avail_out = (uInt)room;
		r = inflate(&z->in, Z_SYNC_FLUSH);
		buf_consume(&z->zin, buf_len(&z->zin) - z->in.avail_in);
		buf_commit(out, room - z->in.avail_out);
		/* Output space ran out: zlib may hold more for next time. */
		z->pending = z->in.avail_out == 0;
		if (r == Z_STREAM_END) {
			z->ended = true;
			return -1;
		}
		if (r == Z_BUF_ERROR)
			break; /* no progress: needs more input */
		if (r != Z_OK)
			return -1;
	}
	return (long)(buf_len(out) - before);
}

int compress_deflate(struct compress *z, const char *in, size_t len, size_t max)
{
	z->out.next_in = (Bytef *)in;
	z->out.avail_in = (uInt)len;
	if (len > UINT_MAX)
		return -1;
	do {
		size_t room;
		char *space = buf_space(&z->zout, len / 2 + 64, &room);
		int r;

		if (room == 0 || buf_len(&z->zout) > max)
			return -1;
		z->out.next_out = (Bytef *)space;
		z->out.avail_out = (uInt)(room > UINT_MAX ? UINT_MAX : room);
		r = deflate(&z->out, Z_SYNC_FLUSH);
		buf_commit(&z->zout, (room > UINT_MAX ? UINT_MAX : room) -
					     z->out.avail_out);
		if (r != Z_OK && r != Z_BUF_ERROR)
			return -1;
		/* Done once all input is taken and zlib had room to spare. */
	} while (z->out.avail_in > 0 || z->out.avail_out == 0);
	return buf_len(&z->zout) > max ? -1 : 0;
}

void compress_trim(struct compress *z)
{
	if (buf_len(&z->zout) == 0 && z->zout.cap > COMPRESS_KEEP_BUFFER) {
		buf_fini(&z->zout);
		buf_init(&z->zout, SIZE_MAX);
	}
	if (buf_len(&z->zin) == 0 && z->zin.cap > COMPRESS_KEEP_BUFFER) {
		buf_fini(&z->zin);
		buf_init(&z->zin, COMPRESS_IN_MAX);
	}
}
