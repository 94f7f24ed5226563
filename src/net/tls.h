/*
 * TLS contexts (OpenSSL 3). net/ is the only folder that includes OpenSSL
 * headers; everything above sees opaque contexts and plain strings.
 *
 * SECURITY: TLS 1.2 is the floor (RFC 8314 4.1, RFC 8996); compression and
 * renegotiation are off; the private key is read by the master while it
 * still has the privileges to, and workers inherit the context at fork.
 */
#ifndef NET_TLS_H
#define NET_TLS_H

#include <stddef.h>

struct tls_ctx;

struct tls_sni_cert {
	const char *name; /* host name a client asks for (SNI) */
	const char *cert; /* PEM chain */
	const char *key;  /* PEM private key */
};

struct tls_server_params {
	const char *cert; /* default certificate chain, PEM */
	const char *key;
	int min_version; /* 12 or 13 */
	const struct tls_sni_cert *sni;
	size_t sni_count;
};

/*
 * Load the certificates and build a server context. Returns a context the
 * caller frees with tls_ctx_free(), or NULL with *error_r set to a message
 * naming the file (valid until the next call into this module).
 */
struct tls_ctx *tls_ctx_server_new(const struct tls_server_params *params,
				   const char **error_r);

/*
 * A client context for outbound connections: system trust store loaded,
 * TLS 1.2 minimum. Verification policy is the caller's (per destination).
 */
struct tls_ctx *tls_ctx_client_new(const char **error_r);

void tls_ctx_free(struct tls_ctx **ctxp);

/*
 * Write a new self-signed certificate for hostname (P-256 key, SAN
 * DNS:hostname, valid for days) to cert_path and key_path (mode 0600).
 * Returns 0, or -1 with *error_r set as above.
 */
int tls_selfsigned_write(const char *cert_path, const char *key_path,
			 const char *hostname, int days, const char **error_r)
	__attribute__((warn_unused_result));

/* For net/conn.c only: the OpenSSL SSL_CTX behind ctx (as void *). */
void *tls_ctx_ssl_ctx(struct tls_ctx *ctx);

#endif
