#include "net/tls.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "lib/mem.h"

struct tls_sni_entry {
	char *name;
	SSL_CTX *ctx;
};

struct tls_ctx {
	SSL_CTX *ctx;
	struct tls_sni_entry *sni;
	size_t sni_count;
};

/* Error text of the last failed call, as the header promises. */
static char tls_error[512];

static const char *tls_fail(const char *what, const char *path)
{
	unsigned long e = ERR_get_error();
	char detail[256] = "";

	if (e != 0)
		ERR_error_string_n(e, detail, sizeof(detail));
	ERR_clear_error();
	snprintf(tls_error, sizeof(tls_error), "%s%s%s%s%s", what,
		 path ? " " : "", path ? path : "", *detail ? ": " : "",
		 detail);
	return tls_error;
}

/* Settings every context shares, server or client. */
static SSL_CTX *tls_base_ctx(const SSL_METHOD *method, int min_version)
{
	SSL_CTX *ctx = SSL_CTX_new(method);

	if (ctx == NULL)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, min_version >= 13 ? TLS1_3_VERSION
							     : TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION |
					 SSL_OP_NO_RENEGOTIATION |
					 SSL_OP_CIPHER_SERVER_PREFERENCE);
	/* conn.c writes from a buffer that may move between partial writes.
	 * RELEASE_BUFFERS: the ~17 KiB read and write record buffers are
	 * freed whenever they are empty, not kept for the connection's life;
	 * 10,000 sessions in IMAP IDLE would otherwise hold ~330 MiB. */
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
				      SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
				      SSL_MODE_RELEASE_BUFFERS);
	return ctx;
}

static SSL_CTX *tls_load_server(const char *cert, const char *key,
				int min_version, const char **error_r)
{
	SSL_CTX *ctx = tls_base_ctx(TLS_server_method(), min_version);

	if (ctx == NULL) {
		*error_r = tls_fail("cannot create TLS context", NULL);
		return NULL;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		*error_r = tls_fail("cannot load certificate", cert);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		*error_r = tls_fail("cannot load private key", key);
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		*error_r =
			tls_fail("private key does not match certificate", key);
		goto fail;
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

/* "*.example.org" matches one label, as RFC 6125 6.4.3 allows. */
static int tls_name_match(const char *pattern, const char *name)
{
	const char *dot;

	if (strcasecmp(pattern, name) == 0)
		return 1;
	if (pattern[0] != '*' || pattern[1] != '.')
		return 0;
	dot = strchr(name, '.');
	return dot != NULL && dot != name && strcasecmp(dot, pattern + 1) == 0;
}

static int tls_servername_cb(SSL *ssl, int *alert, void *arg)
{
	struct tls_ctx *tls = arg;
	const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);

	(void)alert;
	if (name == NULL)
		return SSL_TLSEXT_ERR_NOACK;
	for (size_t i = 0; i < tls->sni_count; i++) {
		if (tls_name_match(tls->sni[i].name, name)) {
			SSL_set_SSL_CTX(ssl, tls->sni[i].ctx);
			return SSL_TLSEXT_ERR_OK;
		}
	}
	/* Unknown names get the default certificate, not a failure. */
	return SSL_TLSEXT_ERR_OK;
}

struct tls_ctx *tls_ctx_server_new(const struct tls_server_params *params,
				   const char **error_r)
{
	struct tls_ctx *tls = xcalloc(1, sizeof(*tls));

	tls->ctx = tls_load_server(params->cert, params->key,
				   params->min_version, error_r);
	if (tls->ctx == NULL)
		goto fail;
	tls->sni = xcalloc(params->sni_count, sizeof(*tls->sni));
	for (size_t i = 0; i < params->sni_count; i++) {
		const struct tls_sni_cert *s = &params->sni[i];

		tls->sni[i].ctx = tls_load_server(s->cert, s->key,
						  params->min_version, error_r);
		if (tls->sni[i].ctx == NULL)
			goto fail;
		tls->sni[i].name = xstrdup(s->name);
		tls->sni_count++;
	}
	SSL_CTX_set_tlsext_servername_callback(tls->ctx, tls_servername_cb);
	SSL_CTX_set_tlsext_servername_arg(tls->ctx, tls);
	return tls;
fail:
	tls_ctx_free(&tls);
	return NULL;
}

struct tls_ctx *tls_ctx_client_new(const char **error_r)
{
	struct tls_ctx *tls = xcalloc(1, sizeof(*tls));

	tls->ctx = tls_base_ctx(TLS_client_method(), 12);
	if (tls->ctx == NULL) {
		*error_r = tls_fail("cannot create TLS context", NULL);
		xfree(&tls);
		return NULL;
	}
	if (SSL_CTX_set_default_verify_paths(tls->ctx) != 1)
		ERR_clear_error(); /* no trust store: verification fails later
				    */
	return tls;
}

struct tls_ctx *tls_ctx_client_legacy_new(const char **error_r)
{
	struct tls_ctx *tls = xcalloc(1, sizeof(*tls));

	tls->ctx = tls_base_ctx(TLS_client_method(), 12);
	/* Level 0: OpenSSL 3 refuses TLS 1.0/1.1 (SHA-1) at level 1. */
	if (tls->ctx == NULL ||
	    SSL_CTX_set_min_proto_version(tls->ctx, TLS1_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(tls->ctx, TLS1_1_VERSION) != 1 ||
	    SSL_CTX_set_cipher_list(tls->ctx, "DEFAULT@SECLEVEL=0") != 1) {
		*error_r = tls_fail("cannot create TLS 1.0/1.1 context", NULL);
		tls_ctx_free(&tls);
		return NULL;
	}
	SSL_CTX_set_security_level(tls->ctx, 0);
	return tls;
}

int tls_ctx_add_ca_file(struct tls_ctx *ctx, const char *path,
			const char **error_r)
{
	if (SSL_CTX_load_verify_locations(ctx->ctx, path, NULL) != 1) {
		*error_r = tls_fail("cannot load CA file", path);
		return -1;
	}
	return 0;
}

void tls_ctx_free(struct tls_ctx **ctxp)
{
	struct tls_ctx *tls = *ctxp;

	if (tls == NULL)
		return;
	for (size_t i = 0; i < tls->sni_count; i++) {
		SSL_CTX_free(tls->sni[i].ctx);
		free(tls->sni[i].name);
	}
	free(tls->sni);
	SSL_CTX_free(tls->ctx);
	free(tls);
	*ctxp = NULL;
}

void *tls_ctx_ssl_ctx(struct tls_ctx *ctx)
{
	return ctx->ctx;
}

static X509 *tls_make_cert(EVP_PKEY *pkey, const char *hostname, int days)
{
	X509 *x = X509_new();
	X509_NAME *name;
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	char san[300];
	unsigned char serial[16];
	BIGNUM *bn;

	if (x == NULL)
		return NULL;
	X509_set_version(x, 2);
	/* Random serial: a regenerated cert must differ from the old one. */
	if (RAND_bytes(serial, sizeof(serial)) != 1)
		goto fail;
	serial[0] &= 0x7f;
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
	BN_free(bn);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), (long)days * 86400);
	X509_set_pubkey(x, pkey);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
				   (const unsigned char *)hostname, -1, -1, 0);
	X509_set_issuer_name(x, name);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	snprintf(san, sizeof(san), "DNS:%s", hostname);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, san);
	if (ext == NULL || X509_add_ext(x, ext, -1) != 1) {
		X509_EXTENSION_free(ext);
		goto fail;
	}
	X509_EXTENSION_free(ext);
	if (X509_sign(x, pkey, EVP_sha256()) == 0)
		goto fail;
	return x;
fail:
	X509_free(x);
	return NULL;
}

static int tls_write_pem(const char *path, int mode, EVP_PKEY *pkey, X509 *x)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	FILE *fp;
	int ok;

	if (fd < 0)
		return -1;
	fp = fdopen(fd, "w");
	if (fp == NULL) {
		close(fd);
		return -1;
	}
	ok = pkey ? PEM_write_PrivateKey(fp, pkey, NULL, NULL, 0, NULL, NULL)
		  : PEM_write_X509(fp, x);
	if (fflush(fp) != 0 || fsync(fileno(fp)) != 0)
		ok = 0;
	if (fclose(fp) != 0)
		ok = 0;
	return ok ? 0 : -1;
}

int tls_selfsigned_write(const char *cert_path, const char *key_path,
			 const char *hostname, int days, const char **error_r)
{
	EVP_PKEY *pkey = EVP_EC_gen("P-256");
	X509 *x = NULL;
	int ret = -1;

	if (pkey == NULL) {
		*error_r = tls_fail("cannot generate key", NULL);
		return -1;
	}
	x = tls_make_cert(pkey, hostname, days);
	if (x == NULL) {
		*error_r = tls_fail("cannot create certificate for", hostname);
	} else if (tls_write_pem(key_path, 0600, pkey, NULL) < 0) {
		snprintf(tls_error, sizeof(tls_error), "cannot write %s: %s",
			 key_path, strerror(errno));
		*error_r = tls_error;
	} else if (tls_write_pem(cert_path, 0644, NULL, x) < 0) {
		snprintf(tls_error, sizeof(tls_error), "cannot write %s: %s",
			 cert_path, strerror(errno));
		*error_r = tls_error;
	} else {
		ret = 0;
	}
	X509_free(x);
	EVP_PKEY_free(pkey);
	return ret;
}

/* ASN1_TIME as seconds since the epoch; 0 when it cannot be read. */
static long long tls_asn1_time(const ASN1_TIME *t)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return (long long)timegm(&tm);
}

static char *tls_name_text(const X509_NAME *name)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char text[1024];
	char *out = NULL;
	int n;

	if (bio == NULL)
		return NULL;
	if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253) >= 0) {
		n = BIO_read(bio, text, sizeof(text) - 1);
		if (n > 0) {
			text[n] = '\0';
			out = xstrdup(text);
		}
	}
	BIO_free(bio);
	return out;
}

/* The chain alone: trust store, signatures, validity; not the name. */
static long tls_chain_result(SSL *ssl, X509 *leaf)
{
	X509_STORE *store = SSL_CTX_get_cert_store(SSL_get_SSL_CTX(ssl));
	X509_STORE_CTX *sc = X509_STORE_CTX_new();
	long res = X509_V_ERR_UNSPECIFIED;

	if (sc == NULL)
		return res;
	if (X509_STORE_CTX_init(sc, store, leaf,
				SSL_get_peer_cert_chain(ssl)) == 1) {
		X509_STORE_CTX_set_default(sc, "ssl_server");
		res = X509_verify_cert(sc) == 1 ? X509_V_OK
						: X509_STORE_CTX_get_error(sc);
	}
	X509_STORE_CTX_free(sc);
	return res;
}

void tls_peer_cert_inspect(void *ssl_, const char *servername,
			   struct tls_peer_cert *pc)
{
	SSL *ssl = ssl_;
	X509 *x = SSL_get0_peer_certificate(ssl);
	long res = SSL_get_verify_result(ssl);

	memset(pc, 0, sizeof(*pc));
	if (x == NULL) {
		pc->chain_error = "no certificate";
		return;
	}
	pc->issuer = tls_name_text(X509_get_issuer_name(x));
	pc->not_before = tls_asn1_time(X509_get0_notBefore(x));
	pc->not_after = tls_asn1_time(X509_get0_notAfter(x));
	if (servername != NULL)
		pc->name_ok = X509_check_ip_asc(x, servername, 0) == 1 ||
			      X509_check_host(x, servername, 0, 0, NULL) == 1;
	if (res != X509_V_OK)
		res = tls_chain_result(ssl, x);
	pc->chain_ok = res == X509_V_OK;
	if (!pc->chain_ok)
		pc->chain_error = X509_verify_cert_error_string(res);
	ERR_clear_error();
}

void tls_peer_cert_fini(struct tls_peer_cert *pc)
{
	free(pc->issuer);
	memset(pc, 0, sizeof(*pc));
}
