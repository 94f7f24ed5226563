/*
 * Raw DEFLATE (RFC 1951) in both directions of a connection, as IMAP
 * COMPRESS=DEFLATE (RFC 4978) asks: the connection layer inflates what it
 * reads (after TLS) and deflates what it writes (before TLS), with a sync
 * flush at the end of each batch of output so every response reaches the
 * client whole.
 *
 * SECURITY: inflated output goes only into a bounded buffer given by the
 * caller, so a small compressed input cannot grow memory (a "zip bomb"
 * only fills the connection's input buffer, then reading pauses). The
 * deflate side keeps a small window (COMPRESS_WBITS) to hold memory per
 * connection near 50 KiB.
 */
#ifndef NET_COMPRESS_H
#define NET_COMPRESS_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"

/* Deflate window (2^12 = 4 KiB) and memory level: small state per
 * connection; RFC 4978 4 leaves the sender free to choose. Inflate always
 * takes the full 32 KiB window a client may use. */
#define COMPRESS_WBITS 12
#define COMPRESS_MEMLEVEL 5
/* Compressed input held before inflating (as much as a connection's
 * input buffer, which may all move here when compression starts). */
#define COMPRESS_IN_MAX ((size_t)64 * 1024)

struct compress;

/* A new pair of streams; the caller frees it with compress_free(). */
struct compress *compress_new(void);
void compress_free(struct compress **zp);

/*
 * Compressed input read from the peer, waiting to be inflated (bounded by
 * COMPRESS_IN_MAX): the caller appends to it, then calls
 * compress_inflate().
 */
struct buf *compress_input(struct compress *z);

/* Is there input to inflate (held compressed, or inside zlib)? */
bool compress_has_input(const struct compress *z);

/*
 * Inflate what compress_input() holds into out, as far as out has room.
 * Returns the octets added to out (0 when out is full or more input is
 * needed), or -1 when the stream is corrupt or ended (the peer sent a
 * final block: RFC 4978 has no end).
 */
long compress_inflate(struct compress *z, struct buf *out);

/*
 * Deflate in[0..len) with a sync flush into the compressed output
 * (compress_output()), whose maximum is max. Returns 0, or -1 when zlib
 * fails or the output would pass max.
 */
int compress_deflate(struct compress *z, const char *in, size_t len,
		     size_t max);
/* Deflated octets waiting to be written; the caller consumes them. */
struct buf *compress_output(struct compress *z);
/* Give back the memory of emptied buffers (an idle connection). */
void compress_trim(struct compress *z);

#endif
