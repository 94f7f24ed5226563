#include "net/conn.h"
#include "net/compress.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "lib/buf.h"
#include "lib/limits.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "net/tls.h"

enum conn_tls_state {
	CONN_TLS_OFF,
	CONN_TLS_PENDING, /* waiting for the plaintext reply to be written */
	CONN_TLS_HANDSHAKE,
	CONN_TLS_ON,
};

/* Events waiting for the deferred dispatcher, in delivery order. */
#define P_TLS_DONE 0x01
#define P_DATA 0x02
#define P_FLUSHED 0x04
#define P_TIMEOUT 0x08
#define P_SHUTDOWN 0x10
#define P_EOF 0x20
#define P_WAKE 0x40

#define CONN_READ_CHUNK 16384
/* Larger idle buffers are freed (memory per idle session). */
#define CONN_KEEP_BUFFER 4096
/* Peer certificate subject and SAN list kept for the owner. */
#define CONN_PEER_NAMES_MAX 2048

struct conn {
	TAILQ_ENTRY(conn) entry;
	struct conn_set *set;
	int fd;
	struct event *ev_read;
	struct event *ev_write;
	struct event *ev_timer;
	struct event *ev_defer;
	struct event *ev_delay;
	conn_cb *cb;
	void *arg;

	struct buf in;
	struct buf out;
	struct linereader lr;

	SSL *ssl;
	enum conn_tls_state tls_state;
	struct tls_ctx *tls_ctx;
	char *servername;

	unsigned pending;
	bool paused;	       /* by the owner */
	bool in_full;	       /* reading stopped: input buffer full */
	bool read_wants_write; /* SSL_read needs the socket writable */
	bool closing;	       /* flush, then close */
	bool dead;	       /* closed: only CONN_EV_CLOSED remains */
	bool closed_sent;      /* CONN_EV_CLOSED delivered */
	bool was_blocked;      /* output went over the high mark */
	bool delay_paused;     /* conn_delay() paused input until its WAKE */
	struct compress *z;    /* RFC 4978 DEFLATE, once started */
	size_t z_plain;	       /* output octets still to send uncompressed */
	int timeout;

	char sid[13];
	char peer_ip[INET6_ADDRSTRLEN];
	char local_ip[INET6_ADDRSTRLEN];
	int peer_port;
	int local_port;
	char tls_version[32];
	char tls_cipher[64];
	/* Client side only, set when the handshake completes. */
	long verify_result; /* X509_V_OK ... */
	char *peer_subject;
	char *peer_sans;
	struct tls_peer_cert peer_cert;
};

static void conn_on_read(evutil_socket_t fd, short what, void *arg);
static void conn_on_write(evutil_socket_t fd, short what, void *arg);
static void conn_on_timer(evutil_socket_t fd, short what, void *arg);
static void conn_on_defer(evutil_socket_t fd, short what, void *arg);
static void conn_handshake(struct conn *c);
static void conn_on_delay(evutil_socket_t fd, short what, void *arg);

void conn_set_init(struct conn_set *set)
{
	TAILQ_INIT(&set->head);
	set->count = 0;
}

size_t conn_set_count_ip(const struct conn_set *set, const char *ip)
{
	const struct conn *c;
	size_t n = 0;

	TAILQ_FOREACH(c, &set->head, entry)
	{
		if (strcmp(c->peer_ip, ip) == 0)
			n++;
	}
	return n;
}

static void conn_post(struct conn *c, unsigned bits)
{
	c->pending |= bits;
	event_active(c->ev_defer, EV_TIMEOUT, 0);
}

void conn_set_shutdown(struct conn_set *set)
{
	struct conn *c;

	TAILQ_FOREACH(c, &set->head, entry)
	conn_post(c, P_SHUTDOWN);
}

/* An unmapped textual address: "::ffff:192.0.2.1" logs as "192.0.2.1". */
static void conn_addr(const struct sockaddr_storage *ss, char *ip, size_t size,
		      int *port_r)
{
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)ss;

		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
			inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], ip,
				  (socklen_t)size);
		else
			inet_ntop(AF_INET6, &s6->sin6_addr, ip,
				  (socklen_t)size);
		*port_r = ntohs(s6->sin6_port);
	} else if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)ss;

		inet_ntop(AF_INET, &s4->sin_addr, ip, (socklen_t)size);
		*port_r = ntohs(s4->sin_port);
	} else {
		strlcpy_p(ip, "unknown", size);
		*port_r = 0;
	}
}

static void conn_fill_addrs(struct conn *c)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	memset(&ss, 0, sizeof(ss));
	if (getpeername(c->fd, (struct sockaddr *)&ss, &len) != 0)
		ss.ss_family = AF_UNSPEC;
	conn_addr(&ss, c->peer_ip, sizeof(c->peer_ip), &c->peer_port);
	len = sizeof(ss);
	memset(&ss, 0, sizeof(ss));
	if (getsockname(c->fd, (struct sockaddr *)&ss, &len) != 0)
		ss.ss_family = AF_UNSPEC;
	conn_addr(&ss, c->local_ip, sizeof(c->local_ip), &c->local_port);
}

static void conn_make_sid(char *sid)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char r[6];

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		fatal("getrandom failed: %s", strerror(errno));
	for (size_t i = 0; i < sizeof(r); i++) {
		sid[2 * i] = hex[r[i] >> 4];
		sid[2 * i + 1] = hex[r[i] & 15];
	}
	sid[2 * sizeof(r)] = '\0';
}

struct conn *conn_new(struct event_base *base, int fd, struct conn_set *set,
		      size_t max_line)
{
	struct conn *c = xcalloc(1, sizeof(*c));
	int flags = fcntl(fd, F_GETFL);

	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		fatal("cannot make socket non-blocking: %s", strerror(errno));
	c->fd = fd;
	c->ev_read = event_new(base, fd, EV_READ | EV_PERSIST, conn_on_read, c);
	c->ev_write =
		event_new(base, fd, EV_WRITE | EV_PERSIST, conn_on_write, c);
	c->ev_timer = evtimer_new(base, conn_on_timer, c);
	c->ev_defer = event_new(base, -1, 0, conn_on_defer, c);
	c->ev_delay = evtimer_new(base, conn_on_delay, c);
	if (!c->ev_read || !c->ev_write || !c->ev_timer || !c->ev_defer ||
	    !c->ev_delay)
		fatal("cannot create connection events");
	buf_init(&c->in, LIMIT_CONN_INPUT);
	buf_init(&c->out, LIMIT_CONN_OUTPUT_MAX);
	linereader_init(&c->lr, max_line);
	conn_make_sid(c->sid);
	conn_fill_addrs(c);
	c->set = set;
	if (set != NULL) {
		TAILQ_INSERT_TAIL(&set->head, c, entry);
		set->count++;
	}
	event_add(c->ev_read, NULL);
	return c;
}

void conn_free(struct conn **connp)
{
	struct conn *c = *connp;

	if (c == NULL)
		return;
	if (c->set != NULL) {
		TAILQ_REMOVE(&c->set->head, c, entry);
		c->set->count--;
	}
	event_free(c->ev_read);
	event_free(c->ev_write);
	event_free(c->ev_timer);
	event_free(c->ev_defer);
	event_free(c->ev_delay);
	SSL_free(c->ssl);
	if (c->fd >= 0)
		close(c->fd);
	buf_fini(&c->in);
	buf_fini(&c->out);
	compress_free(&c->z);
	free(c->servername);
	free(c->peer_subject);
	free(c->peer_sans);
	tls_peer_cert_fini(&c->peer_cert);
	free(c);
	*connp = NULL;
}

void conn_set_callback(struct conn *c, conn_cb *cb, void *arg)
{
	c->cb = cb;
	c->arg = arg;
}

static void conn_arm_timer(struct conn *c, int seconds)
{
	struct timeval tv = {.tv_sec = seconds, .tv_usec = 0};

	if (seconds > 0)
		evtimer_add(c->ev_timer, &tv);
	else
		evtimer_del(c->ev_timer);
}

void conn_set_timeout(struct conn *c, int seconds)
{
	c->timeout = seconds;
	if (c->tls_state != CONN_TLS_HANDSHAKE)
		conn_arm_timer(c, seconds);
}

void conn_set_max_line(struct conn *c, size_t max_line)
{
	linereader_init(&c->lr, max_line);
}

const char *conn_sid(const struct conn *c)
{
	return c->sid;
}

const char *conn_peer_ip(const struct conn *c)
{
	return c->peer_ip;
}

int conn_peer_port(const struct conn *c)
{
	return c->peer_port;
}

const char *conn_local_ip(const struct conn *c)
{
	return c->local_ip;
}

int conn_local_port(const struct conn *c)
{
	return c->local_port;
}

bool conn_is_tls(const struct conn *c)
{
	return c->tls_state == CONN_TLS_ON;
}

const char *conn_tls_version(const struct conn *c)
{
	return c->tls_state == CONN_TLS_ON ? c->tls_version : NULL;
}

const char *conn_tls_cipher(const struct conn *c)
{
	return c->tls_state == CONN_TLS_ON ? c->tls_cipher : NULL;
}

bool conn_tls_verified(const struct conn *c)
{
	return c->tls_state == CONN_TLS_ON && c->servername != NULL &&
	       c->verify_result == X509_V_OK;
}

const char *conn_tls_verify_error(const struct conn *c)
{
	if (c->tls_state != CONN_TLS_ON || c->servername == NULL ||
	    c->verify_result == X509_V_OK)
		return NULL;
	return X509_verify_cert_error_string(c->verify_result);
}

const char *conn_tls_peer_subject(const struct conn *c)
{
	return c->tls_state == CONN_TLS_ON ? c->peer_subject : NULL;
}

const char *conn_tls_peer_sans(const struct conn *c)
{
	return c->tls_state == CONN_TLS_ON ? c->peer_sans : NULL;
}

const struct tls_peer_cert *conn_tls_peer_cert(const struct conn *c)
{
	if (c->tls_state != CONN_TLS_ON || c->servername == NULL)
		return NULL;
	return &c->peer_cert;
}

/* Stop all I/O; only CONN_EV_CLOSED will be delivered. */
static void conn_die(struct conn *c)
{
	if (c->dead)
		return;
	c->dead = true;
	event_del(c->ev_read);
	event_del(c->ev_write);
	evtimer_del(c->ev_timer);
	event_active(c->ev_defer, EV_TIMEOUT, 0);
}

/* Log why TLS failed: a reason an operator can act on. */
static void conn_tls_error(struct conn *c, const char *what)
{
	char reason[256] = "unexpected EOF or reset";
	unsigned long e = ERR_get_error();

	if (e != 0)
		ERR_error_string_n(e, reason, sizeof(reason));
	ERR_clear_error();
	log_info(c->sid, what, "peer=%s reason=%s", c->peer_ip,
		 log_qs((char[300]){0}, 300, reason));
}

/*
 * Read what the socket has into c->in. Reading goes through a stack buffer
 * so that c->in only grows to what is actually pending: an idle session
 * keeps a few hundred octets, not a read chunk. Returns -1 on EOF or error.
 */
/* Inflate held compressed input into the input buffer, as room allows. */
static int conn_inflate(struct conn *c, bool *got_r)
{
	long n = compress_inflate(c->z, &c->in);

	if (n < 0) {
		log_info(c->sid, "compressed input corrupt", "peer=%s",
			 c->peer_ip);
		return -1;
	}
	if (n > 0)
		*got_r = true;
	return 0;
}

/* Octets read from the peer: to the input, through inflate if on. */
static int conn_take(struct conn *c, const char *data, size_t n, bool *got_r)
{
	struct buf *b = c->z != NULL ? compress_input(c->z) : &c->in;

	if (buf_append(b, data, n) < 0)
		panic("conn input over its room");
	if (c->z != NULL)
		return conn_inflate(c, got_r);
	*got_r = true;
	return 0;
}

static int conn_fill(struct conn *c, bool *got_r)
{
	char chunk[CONN_READ_CHUNK];

	/* After a burst, give the memory back (no line is held now). */
	if (buf_len(&c->in) == 0 && c->in.cap > CONN_KEEP_BUFFER) {
		buf_fini(&c->in);
		buf_init(&c->in, LIMIT_CONN_INPUT);
	}
	if (c->z != NULL && conn_inflate(c, got_r) < 0)
		return -1;
	for (;;) {
		size_t room = c->z != NULL ? buf_room(compress_input(c->z))
					   : buf_room(&c->in);
		size_t want = room < sizeof(chunk) ? room : sizeof(chunk);
		ssize_t n;

		if (want == 0) {
			/* Full: stop reading until the owner consumes. */
			c->in_full = true;
			event_del(c->ev_read);
			return 0;
		}
		if (c->ssl != NULL) {
			int r;

			/*
			 * OpenSSL's error queue is per thread, not per
			 * connection: clear it so SSL_get_error() judges
			 * this call, not another session's.
			 */
			ERR_clear_error();
			r = SSL_read(c->ssl, chunk, (int)want);
			if (r > 0) {
				if (conn_take(c, chunk, (size_t)r, got_r) < 0)
					return -1;
				continue;
			}
			switch (SSL_get_error(c->ssl, r)) {
			case SSL_ERROR_WANT_READ:
				return 0;
			case SSL_ERROR_WANT_WRITE:
				c->read_wants_write = true;
				event_add(c->ev_write, NULL);
				return 0;
			case SSL_ERROR_ZERO_RETURN:
				return -1;
			default:
				conn_tls_error(c, "tls read error");
				return -1;
			}
		}
		n = read(c->fd, chunk, want);
		if (n > 0) {
			if (conn_take(c, chunk, (size_t)n, got_r) < 0)
				return -1;
			if ((size_t)n < want)
				return 0;
		} else if (n == 0) {
			return -1;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			return 0;
		} else if (errno != EINTR) {
			log_debug(c->sid, "read error", "error=%s",
				  log_qs((char[128]){0}, 128, strerror(errno)));
			return -1;
		}
	}
}

static void conn_on_read(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	bool got = false;
	int r;

	(void)fd;
	(void)what;
	if (c->dead)
		return;
	if (c->tls_state == CONN_TLS_HANDSHAKE) {
		conn_handshake(c);
		return;
	}
	r = conn_fill(c, &got);
	if (got) {
		conn_arm_timer(c, c->timeout);
		conn_post(c, P_DATA);
	}
	if (r < 0) {
		event_del(c->ev_read);
		conn_post(c, P_EOF);
	}
}

/*
 * Write b (at most *limit octets when limit is not NULL, counting them
 * down). Returns 1 when that much is written, 0 to wait, -1.
 */
static int conn_write_buf(struct conn *c, struct buf *b, size_t *limit)
{
	while (buf_len(b) > 0 && (limit == NULL || *limit > 0)) {
		size_t len = buf_len(b);
		ssize_t n;

		if (limit != NULL && len > *limit)
			len = *limit;
		if (c->ssl != NULL) {
			int r;

			ERR_clear_error();
			r = SSL_write(c->ssl, buf_data(b),
				      (int)(len > INT32_MAX ? INT32_MAX : len));

			if (r > 0) {
				buf_consume(b, (size_t)r);
				if (limit != NULL)
					*limit -= (size_t)r;
				continue;
			}
			switch (SSL_get_error(c->ssl, r)) {
			case SSL_ERROR_WANT_WRITE:
			case SSL_ERROR_WANT_READ:
				return 0;
			default:
				conn_tls_error(c, "tls write error");
				return -1;
			}
		}
		n = send(c->fd, buf_data(b), len, MSG_NOSIGNAL);
		if (n >= 0) {
			buf_consume(b, (size_t)n);
			if (limit != NULL)
				*limit -= (size_t)n;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			return 0;
		} else if (errno != EINTR) {
			return -1;
		}
	}
	return 1;
}

/* Write queued output. Returns 1 when all is written, 0 to wait, -1. */
static int conn_flush(struct conn *c)
{
	int r;

	if (c->z == NULL)
		return conn_write_buf(c, &c->out, NULL);
	/* RFC 4978 3: compression starts right after COMPRESS's OK. */
	if (c->z_plain > 0) {
		r = conn_write_buf(c, &c->out, &c->z_plain);
		if (r <= 0)
			return r;
	}
	if (buf_len(&c->out) > 0) {
		if (compress_deflate(c->z, buf_data(&c->out), buf_len(&c->out),
				     LIMIT_CONN_OUTPUT_MAX) < 0)
			return -1;
		buf_consume(&c->out, buf_len(&c->out));
	}
	r = conn_write_buf(c, compress_output(c->z), NULL);
	if (r == 1)
		compress_trim(c->z);
	return r;
}

/* Output queued and not yet written, compressed or not. */
static size_t conn_out_pending(const struct conn *c)
{
	return buf_len(&c->out) +
	       (c->z != NULL ? buf_len(compress_output(c->z)) : 0);
}

static void conn_start_handshake(struct conn *c)
{
	SSL_CTX *ctx = tls_ctx_ssl_ctx(c->tls_ctx);

	c->ssl = SSL_new(ctx);
	if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1) {
		conn_tls_error(c, "tls setup failed");
		conn_die(c);
		return;
	}
	if (c->servername != NULL) {
		SSL_set_tlsext_host_name(c->ssl, c->servername);
		/* The chain is checked, not enforced: the owner decides. */
		SSL_set1_host(c->ssl, c->servername);
		SSL_set_connect_state(c->ssl);
	} else {
		SSL_set_accept_state(c->ssl);
	}
	c->tls_state = CONN_TLS_HANDSHAKE;
	conn_arm_timer(c, LIMIT_TLS_HANDSHAKE_TIMEOUT);
	conn_handshake(c);
}

/* The socket closes now: drop unread input so close() sends no RST. */
static void conn_finish_close(struct conn *c)
{
	char sink[4096];

	if (c->ssl != NULL && c->tls_state == CONN_TLS_ON &&
	    !SSL_in_init(c->ssl)) {
		/* close_notify, not waiting for the peer's */
		ERR_clear_error();
		SSL_shutdown(c->ssl);
		ERR_clear_error();
	}
	shutdown(c->fd, SHUT_WR);
	while (read(c->fd, sink, sizeof(sink)) > 0)
		;
	conn_die(c);
}

static void conn_on_write(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	int r;

	(void)fd;
	(void)what;
	if (c->dead)
		return;
	if (c->tls_state == CONN_TLS_HANDSHAKE) {
		conn_handshake(c);
		return;
	}
	if (c->read_wants_write) {
		c->read_wants_write = false;
		conn_on_read(c->fd, EV_READ, c);
		if (c->dead)
			return;
	}
	r = conn_flush(c);
	if (r < 0) {
		conn_die(c);
		return;
	}
	if (r == 0)
		return;
	event_del(c->ev_write);
	if (c->out.cap > CONN_KEEP_BUFFER) {
		buf_fini(&c->out);
		buf_init(&c->out, LIMIT_CONN_OUTPUT_MAX);
	}
	if (c->was_blocked) {
		c->was_blocked = false;
		conn_post(c, P_FLUSHED);
	}
	if (c->tls_state == CONN_TLS_PENDING)
		conn_start_handshake(c);
	else if (c->closing)
		conn_finish_close(c);
}

/* A SAN fit to list: printable, no separator (it is untrusted). */
static bool conn_dns_name(const unsigned char *d, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (d[i] <= 0x20 || d[i] >= 0x7f || d[i] == ',')
			return false;
	}
	return true;
}

/* The server's DNS names, comma separated, cut at a bound. */
static char *conn_peer_sans(X509 *x)
{
	GENERAL_NAMES *names =
		X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	char out[CONN_PEER_NAMES_MAX] = "";
	size_t len = 0;

	for (int i = 0; i < sk_GENERAL_NAME_num(names); i++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);
		const unsigned char *d;
		int n;

		if (gn->type != GEN_DNS)
			continue;
		d = ASN1_STRING_get0_data(gn->d.dNSName);
		n = ASN1_STRING_length(gn->d.dNSName);
		if (n <= 0 || !conn_dns_name(d, (size_t)n) ||
		    len + (size_t)n + 2 >= sizeof(out))
			continue;
		if (len > 0)
			out[len++] = ',';
		memcpy(out + len, d, (size_t)n);
		len += (size_t)n;
		out[len] = '\0';
	}
	GENERAL_NAMES_free(names);
	return len > 0 ? xstrdup(out) : NULL;
}

/* Client side: what the owner may check about the server's certificate. */
static void conn_peer_cert(struct conn *c)
{
	X509 *x = SSL_get0_peer_certificate(c->ssl);
	BIO *bio;
	char subject[CONN_PEER_NAMES_MAX];
	int n;

	c->verify_result = SSL_get_verify_result(c->ssl);
	if (x == NULL) {
		c->verify_result = X509_V_ERR_UNSPECIFIED;
		return;
	}
	c->peer_sans = conn_peer_sans(x);
	tls_peer_cert_inspect(c->ssl, c->servername, &c->peer_cert);
	bio = BIO_new(BIO_s_mem());
	if (bio == NULL)
		return;
	if (X509_NAME_print_ex(bio, X509_get_subject_name(x), 0,
			       XN_FLAG_RFC2253) >= 0) {
		n = BIO_read(bio, subject, sizeof(subject) - 1);
		if (n > 0) {
			subject[n] = '\0';
			c->peer_subject = xstrdup(subject);
		}
	}
	BIO_free(bio);
	ERR_clear_error();
}

static void conn_handshake(struct conn *c)
{
	int r;

	ERR_clear_error();
	r = SSL_do_handshake(c->ssl);

	if (r == 1) {
		c->tls_state = CONN_TLS_ON;
		strlcpy_p(c->tls_version, SSL_get_version(c->ssl),
			  sizeof(c->tls_version));
		strlcpy_p(c->tls_cipher, SSL_get_cipher_name(c->ssl),
			  sizeof(c->tls_cipher));
		if (c->servername != NULL)
			conn_peer_cert(c);
		conn_arm_timer(c, c->timeout);
		event_add(c->ev_read, NULL);
		if (buf_len(&c->out) > 0)
			event_add(c->ev_write, NULL);
		else
			event_del(c->ev_write);
		/* The client may have sent data in the handshake's last flight.
		 */
		event_active(c->ev_read, EV_READ, 0);
		conn_post(c, P_TLS_DONE);
		return;
	}
	switch (SSL_get_error(c->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		event_add(c->ev_read, NULL);
		event_del(c->ev_write);
		break;
	case SSL_ERROR_WANT_WRITE:
		event_add(c->ev_write, NULL);
		break;
	default:
		conn_tls_error(c, "tls handshake failed");
		conn_die(c);
		break;
	}
}

static void conn_on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	(void)what;
	if (c->tls_state == CONN_TLS_HANDSHAKE) {
		log_info(c->sid, "tls handshake timeout", "peer=%s",
			 c->peer_ip);
		conn_die(c);
	} else if (c->closing) {
		conn_die(c); /* the peer does not read its last reply */
	} else {
		conn_post(c, P_TIMEOUT);
	}
}

/* Pick the next pending event, in the order the header promises. */
static int conn_next_event(struct conn *c, enum conn_event *ev_r)
{
	static const struct {
		unsigned bit;
		enum conn_event ev;
	} order[] = {
		{P_TLS_DONE, CONN_EV_TLS_DONE}, {P_WAKE, CONN_EV_WAKE},
		{P_DATA, CONN_EV_DATA},		{P_FLUSHED, CONN_EV_FLUSHED},
		{P_TIMEOUT, CONN_EV_TIMEOUT},	{P_SHUTDOWN, CONN_EV_SHUTDOWN},
	};

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if ((c->pending & order[i].bit) == 0)
			continue;
		if (order[i].bit == P_DATA && c->paused)
			continue; /* kept until conn_resume() */
		c->pending &= ~order[i].bit;
		*ev_r = order[i].ev;
		return 1;
	}
	return 0;
}

static void conn_on_defer(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	enum conn_event ev;

	(void)fd;
	(void)what;
	if (c->dead) {
		c->pending = 0;
		if (c->closed_sent)
			return;
		c->closed_sent = true;
		if (c->cb != NULL)
			c->cb(c, CONN_EV_CLOSED, c->arg); /* may free c */
		return;
	}
	if (!conn_next_event(c, &ev)) {
		if ((c->pending & P_EOF) && !c->paused) {
			/* The peer is done: flush what we owe it, then close.
			 */
			c->pending &= ~P_EOF;
			conn_close(c);
		}
		return;
	}
	if (c->pending & ~(unsigned)(c->paused ? P_DATA : 0))
		event_active(c->ev_defer, EV_TIMEOUT, 0);
	if (c->cb != NULL)
		c->cb(c, ev, c->arg); /* last: the owner may free c */
}

enum linereader_result conn_read_line(struct conn *c, const char **line_r,
				      size_t *len_r, unsigned *flags_r)
{
	struct line line;
	enum linereader_result r;

	/* Dropping an over-long line's tail may uncover the next line. */
	do {
		r = linereader_next(&c->lr, buf_data(&c->in), buf_len(&c->in),
				    &line);
		*line_r = buf_data(&c->in);
		if (line.consumed > 0)
			conn_input_consume(c, line.consumed);
	} while (r == LINE_MORE && line.consumed > 0);
	*len_r = line.len;
	*flags_r = line.flags;
	return r;
}

const char *conn_input(const struct conn *c, size_t *len_r)
{
	*len_r = buf_len(&c->in);
	return buf_data(&c->in);
}

void conn_input_consume(struct conn *c, size_t n)
{
	buf_consume(&c->in, n);
	if (c->in_full && !c->dead && !c->closing) {
		c->in_full = false;
		event_add(c->ev_read, NULL);
		/* TLS may hold decrypted bytes the socket will not signal. */
		event_active(c->ev_read, EV_READ, 0);
	} else if (c->z != NULL && compress_has_input(c->z) && !c->dead &&
		   !c->closing) {
		/* Compressed input waits for room the owner just made. */
		event_active(c->ev_read, EV_READ, 0);
	}
}

void conn_pause(struct conn *c)
{
	c->paused = true;
}

void conn_resume(struct conn *c)
{
	c->paused = false;
	if (buf_len(&c->in) > 0)
		c->pending |= P_DATA;
	if (c->pending != 0)
		event_active(c->ev_defer, EV_TIMEOUT, 0);
}

void conn_delay(struct conn *c, int ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	c->paused = true;
	c->delay_paused = true;
	evtimer_add(c->ev_delay, &tv);
}

void conn_wake_after(struct conn *c, int ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	evtimer_add(c->ev_delay, &tv);
}

static void conn_on_delay(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	(void)what;
	if (c->dead || c->closing)
		return;
	if (c->delay_paused) {
		c->paused = false;
		c->delay_paused = false;
		if (buf_len(&c->in) > 0)
			c->pending |= P_DATA;
	}
	conn_post(c, P_WAKE);
}

/* Output was queued (r == 0) or would pass the cap (r < 0). */
static void conn_queued(struct conn *c, int r)
{
	if (r < 0) {
		log_info(c->sid, "output limit exceeded, disconnecting",
			 "peer=%s queued=%zu", c->peer_ip, buf_len(&c->out));
		conn_die(c);
		return;
	}
	if (c->tls_state == CONN_TLS_OFF || c->tls_state == CONN_TLS_ON)
		event_add(c->ev_write, NULL);
}

void conn_write(struct conn *c, const void *data, size_t len)
{
	if (!c->dead)
		conn_queued(c, buf_append(&c->out, data, len));
}

void conn_printf(struct conn *c, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (c->dead)
		return;
	va_start(ap, fmt);
	r = buf_vprintf(&c->out, fmt, ap);
	va_end(ap);
	conn_queued(c, r);
}

bool conn_output_blocked(const struct conn *c)
{
	struct conn *mc = (struct conn *)c;

	if (conn_out_pending(c) < LIMIT_CONN_OUTPUT_HIGH)
		return false;
	mc->was_blocked = true;
	return true;
}

void conn_start_tls(struct conn *c, struct tls_ctx *ctx, const char *servername)
{
	if (c->dead)
		return;
	if (c->tls_state != CONN_TLS_OFF)
		panic("conn_start_tls on a connection already in TLS");
	/* SECURITY: nothing read in plaintext survives the upgrade. */
	buf_reset(&c->in);
	linereader_init(&c->lr, c->lr.max);
	c->pending &= ~P_DATA;
	c->tls_ctx = ctx;
	c->servername = xstrdup(servername);
	c->tls_state = CONN_TLS_PENDING;
	event_del(c->ev_read);
	if (buf_len(&c->out) > 0)
		event_add(c->ev_write, NULL);
	else
		conn_start_handshake(c);
}

void conn_close(struct conn *c)
{
	if (c->dead || c->closing)
		return;
	c->closing = true;
	c->paused = true;
	event_del(c->ev_read);
	conn_arm_timer(c, c->timeout > 0 ? c->timeout : LIMIT_IDLE_TIMEOUT);
	if (c->tls_state == CONN_TLS_PENDING ||
	    c->tls_state == CONN_TLS_HANDSHAKE) {
		conn_die(c);
		return;
	}
	if (conn_out_pending(c) > 0)
		event_add(c->ev_write, NULL);
	else
		conn_finish_close(c);
}

int conn_start_compress(struct conn *c)
{
	struct buf *zin;
	bool got = false;

	if (c->dead || c->z != NULL)
		return -1;
	c->z = compress_new();
	c->z_plain = buf_len(&c->out);
	/* Input already buffered came after the command: compressed. */
	zin = compress_input(c->z);
	if (buf_append(zin, buf_data(&c->in), buf_len(&c->in)) < 0) {
		compress_free(&c->z);
		return -1;
	}
	buf_reset(&c->in);
	linereader_init(&c->lr, c->lr.max);
	c->pending &= ~P_DATA;
	if (conn_inflate(c, &got) < 0) {
		conn_die(c);
		return 0;
	}
	if (got)
		conn_post(c, P_DATA);
	return 0;
}

bool conn_is_compressed(const struct conn *c)
{
	return c->z != NULL;
}
