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

#include <stdbool.h>
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

/*
 * For `postern probe` only: a client context that offers nothing but
 * TLS 1.0 and 1.1 (security level 0), to learn whether a server still
 * accepts them. Never use it to send mail. Returns it, or NULL with
 * *error_r set as above.
 */
struct tls_ctx *tls_ctx_client_legacy_new(const char **error_r);

/*
 * Trust the PEM certificates in path too, besides the system trust store
 * (a private CA, a test certificate). Returns 0, or -1 with *error_r set
 * as above.
 */
int tls_ctx_add_ca_file(struct tls_ctx *ctx, const char *path,
			const char **error_r)
	__attribute__((warn_unused_result));

void tls_ctx_free(struct tls_ctx **ctxp);

/*
 * What a client learnt about the server's certificate, for reports
 * (postern probe). The name check and the chain check are separate
 * answers, as an operator fixes them separately. Strings are owned by
 * the struct (untrusted text from the certificate).
 */
struct tls_peer_cert {
	char *issuer;		 /* RFC 2253 text, or NULL */
	long long not_before;	 /* validity, seconds since the epoch; */
	long long not_after;	 /* 0 when unknown */
	bool name_ok;		 /* matches the servername (RFC 6125 6.4) */
	bool chain_ok;		 /* chains to the trust store, in validity */
	const char *chain_error; /* why not chain_ok (static), or NULL */
};

/*
 * For net/conn.c only: fill *pc from the completed client handshake of
 * ssl (an SSL *) to servername (a host name or an IP address). The chain
 * is checked again without the name when OpenSSL's own verification
 * failed, since it stops at the first error.
 */
void tls_peer_cert_inspect(void *ssl, const char *servername,
			   struct tls_peer_cert *pc);
void tls_peer_cert_fini(struct tls_peer_cert *pc);

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
