/*
 * A connection: a non-blocking socket with bounded input, a write queue
 * with back-pressure, idle timeouts, TLS (implicit or upgraded in place)
 * and an orderly close. The owner sees one callback with an event code,
 * as in OpenSMTPD's io layer; TLS is invisible above conn_start_tls().
 *
 * Events are delivered from the event loop only, never from inside a
 * conn_* call, so an owner never re-enters itself.
 *
 * SECURITY: conn_start_tls() discards every byte buffered before the
 * handshake: a command pipelined after STARTTLS in plaintext must never be
 * executed as if it came over TLS (CVE-2011-0411 class).
 */
#ifndef NET_CONN_H
#define NET_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/queue.h>

#include "lib/linereader.h"

struct event_base;
struct tls_ctx;
struct tls_peer_cert;
struct conn;

enum conn_event {
	CONN_EV_DATA,	  /* new input is buffered */
	CONN_EV_FLUSHED,  /* output fell from above the high mark to empty */
	CONN_EV_TLS_DONE, /* TLS handshake completed */
	CONN_EV_TIMEOUT,  /* no input for the idle timeout */
	CONN_EV_CLOSED,	  /* closed (by us, the peer, or an error): free it */
	CONN_EV_SHUTDOWN, /* the server drains: finish and close soon */
	CONN_EV_WAKE,	  /* the pause asked with conn_delay() is over */
};

typedef void conn_cb(struct conn *conn, enum conn_event ev, void *arg);

/* A set of connections, so a worker can count and drain them. */
struct conn_set {
	TAILQ_HEAD(, conn) head;
	size_t count;
};

void conn_set_init(struct conn_set *set);
/* Connections in set whose peer has address ip (as conn_peer_ip()). */
size_t conn_set_count_ip(const struct conn_set *set, const char *ip);
/* Deliver CONN_EV_SHUTDOWN to every connection (from the event loop). */
void conn_set_shutdown(struct conn_set *set);

/*
 * Wrap the connected socket fd (made non-blocking here; the conn owns and
 * closes it). set may be NULL. max_line is the longest line, CRLF
 * included, that conn_read_line() returns. Events go to cb(arg) once
 * conn_set_callback() or this call gave one; cb may be NULL at first.
 */
struct conn *conn_new(struct event_base *base, int fd, struct conn_set *set,
		      size_t max_line);
/* Frees the conn, closing the socket without flushing. Accepts NULL. */
void conn_free(struct conn **connp);

void conn_set_callback(struct conn *conn, conn_cb *cb, void *arg);
/* Seconds without input before CONN_EV_TIMEOUT; 0 disables. */
void conn_set_timeout(struct conn *conn, int seconds);
/* Change the longest accepted line (e.g. SMTP command vs text line). */
void conn_set_max_line(struct conn *conn, size_t max_line);

/* Session id for log lines, unique per connection (NUL-terminated). */
const char *conn_sid(const struct conn *conn);
/* Peer address as text ("192.0.2.1", "2001:db8::1") and port. */
const char *conn_peer_ip(const struct conn *conn);
int conn_peer_port(const struct conn *conn);
const char *conn_local_ip(const struct conn *conn);
int conn_local_port(const struct conn *conn);

/*
 * Next line of input. Returns a linereader result; for LINE_OK,
 * LINE_BARE_LF, LINE_BARE_CR and LINE_TOO_LONG, *line_r and *len_r give the
 * line (without terminator, not NUL-terminated, valid until the next
 * conn_* call) and *flags_r the LINE_F_* flags. LINE_MORE: wait for
 * CONN_EV_DATA.
 */
enum linereader_result conn_read_line(struct conn *conn, const char **line_r,
				      size_t *len_r, unsigned *flags_r);
/* Raw input (for DATA, BDAT and literals): bytes buffered, and dropping. */
const char *conn_input(const struct conn *conn, size_t *len_r);
void conn_input_consume(struct conn *conn, size_t n);

/*
 * Stop delivering CONN_EV_DATA (the owner waits for something else) and
 * resume; resuming with input buffered delivers CONN_EV_DATA again.
 */
void conn_pause(struct conn *conn);
void conn_resume(struct conn *conn);

/*
 * Pause input for ms milliseconds, then deliver CONN_EV_WAKE (and
 * CONN_EV_DATA for input that arrived meanwhile): a failed login is
 * answered late without blocking the worker.
 */
void conn_delay(struct conn *conn, int ms);
/*
 * Deliver CONN_EV_WAKE after ms milliseconds without pausing input: a
 * poll timer (IMAP IDLE checking its mailbox). Shares the
 * timer of conn_delay(): arming either replaces the other.
 */
void conn_wake_after(struct conn *conn, int ms);

/* Queue output. A peer that lets the queue exceed its cap is dropped. */
void conn_write(struct conn *conn, const void *data, size_t len);
void conn_printf(struct conn *conn, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* More queued than the high mark: stop producing until FLUSHED. */
bool conn_output_blocked(const struct conn *conn);

/*
 * Begin TLS once the output queued so far (the "220 Ready" reply) is
 * written. Buffered input is discarded now. servername NULL: server side;
 * else client side with SNI servername. CONN_EV_TLS_DONE follows, or
 * CONN_EV_CLOSED when the handshake fails.
 */
void conn_start_tls(struct conn *conn, struct tls_ctx *ctx,
		    const char *servername);
bool conn_is_tls(const struct conn *conn);
/* "TLSv1.3", "TLS_AES_256_GCM_SHA384"; NULL before TLS. */
const char *conn_tls_version(const struct conn *conn);
const char *conn_tls_cipher(const struct conn *conn);
/*
 * Client side, once TLS is up: the server's certificate chains to the
 * trust store and matches the servername given to conn_start_tls()
 * (OpenSSL's RFC 6125 host check). The handshake never fails for this;
 * the owner enforces it per destination. False on the server side.
 */
bool conn_tls_verified(const struct conn *conn);
/* Why not verified ("self-signed certificate"), or NULL (static text). */
const char *conn_tls_verify_error(const struct conn *conn);
/*
 * Client side: the server certificate's subject (RFC 2253 text) and its
 * DNS subjectAltNames joined by ","; NULL when absent. Untrusted text.
 */
const char *conn_tls_peer_subject(const struct conn *conn);
const char *conn_tls_peer_sans(const struct conn *conn);
/*
 * Client side, once TLS is up: issuer, validity, name match and chain
 * result of the server certificate (net/tls.h), for reports; NULL before
 * TLS and on the server side. Owned by the conn.
 */
const struct tls_peer_cert *conn_tls_peer_cert(const struct conn *conn);

/*
 * Begin raw DEFLATE both ways (IMAP COMPRESS=DEFLATE, RFC 4978 3): output
 * queued so far (the tagged OK) still goes plain, everything after it is
 * compressed (inside TLS); input still buffered came after the command
 * and is inflated from here on. Returns 0, or -1 when compression is on
 * already (or the input held is too large to take over).
 */
int conn_start_compress(struct conn *conn);
bool conn_is_compressed(const struct conn *conn);

/*
 * Orderly close: stop reading, flush the output (bounded by the idle
 * timeout), send TLS close_notify, close, then CONN_EV_CLOSED.
 */
void conn_close(struct conn *conn);

#endif
