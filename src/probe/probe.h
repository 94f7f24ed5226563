/*
 * `postern probe`: check a mail host's ports, TLS and extensions from
 * this network, and say which port a mail client should use. One event
 * loop; every (host, port) is probed concurrently, each step with its own
 * deadline. SMTP goes through the outbound client (smtp/client.h), names
 * through the resolver (dns/resolver.h), TLS through net/; IMAP and POP3
 * are spoken by a small line driver (probe_mailbox.c).
 *
 * This header is the model every part shares: the port roles, what was
 * found on one (host, port), and the advice drawn from all of them. The
 * report (probe_report.c) and the advice (probe_advice.c) are pure
 * functions over it, so they are unit tested.
 *
 * SECURITY: everything a server sends is untrusted text; it is cut to
 * PROBE_TEXT_MAX and control characters are replaced before it is kept.
 * Credentials are sent only over TLS (smtp_client enforces it for SMTP;
 * probe_mailbox.c checks conn_is_tls() before LOGIN/USER/AUTH).
 */
#ifndef PROBE_PROBE_H
#define PROBE_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

/* Text kept from a server (greeting, one keyword line), NUL included. */
#define PROBE_TEXT_MAX 512
/* Keyword lines kept per list (EHLO, CAPABILITY, CAPA, AUTH). */
#define PROBE_LIST_MAX 64
/* (host, port) pairs one probe checks, and addresses tried per host. */
#define PROBE_TARGETS_MAX 64
#define PROBE_ADDRS_MAX 4
/* Longest IMAP/POP3 line read (RFC 3501 has no limit; 8 KB is plenty). */
#define PROBE_LINE_MAX 8192
/* Default deadline of one step (connect, greeting, a reply, TLS), s. */
#define PROBE_DEFAULT_TIMEOUT 10

enum probe_proto {
	PROBE_SMTP,
	PROBE_IMAP,
	PROBE_POP3,
};

enum probe_tls_mode {
	PROBE_STARTTLS, /* STARTTLS / STLS after a plaintext greeting */
	PROBE_IMPLICIT, /* TLS from the first byte (RFC 8314) */
};

/* A standard port and what is spoken there (DESIGN.md 1). */
struct probe_role {
	int port;
	const char *service; /* "smtp", "submission", "imaps" ... */
	enum probe_proto proto;
	enum probe_tls_mode tls;
	bool submission; /* a mail client sends here (AUTH is tried) */
};

/* The eight roles, in the order the report lists them. */
extern const struct probe_role probe_roles[];
extern const size_t probe_nroles;
/* The role of a standard port, or NULL. */
const struct probe_role *probe_role_find(int port);
const char *probe_tls_mode_name(enum probe_tls_mode m); /* "STARTTLS" */

enum probe_status {
	PROBE_ST_PENDING,     /* not probed (yet) */
	PROBE_ST_OPEN,	      /* connected and greeted */
	PROBE_ST_CLOSED,      /* connection refused: closed on the server */
	PROBE_ST_BLOCKED,     /* connect timed out: silently dropped */
	PROBE_ST_UNREACHABLE, /* no route to the host or network */
	PROBE_ST_SILENT,      /* connected, but no greeting in time */
	PROBE_ST_FAILED,      /* connected, then the protocol broke */
};

/* "open", "closed", "blocked" ...: the JSON value. */
const char *probe_status_name(enum probe_status st);

/* Lines of untrusted text, each cut and cleaned (probe_list_add). */
struct probe_list {
	char *v[PROBE_LIST_MAX];
	size_t n;
};

/*
 * Append text[0..len) with bytes below 0x20 and 0x7f made '?', cut at
 * PROBE_TEXT_MAX - 1; nothing past PROBE_LIST_MAX entries.
 */
void probe_list_add(struct probe_list *l, const char *text, size_t len);
void probe_list_addf(struct probe_list *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* An entry equal to s, ignoring case; or one starting with s + ' '. */
bool probe_list_has(const struct probe_list *l, const char *s);
void probe_list_free(struct probe_list *l);
/* text[0..len) cut and cleaned as probe_list_add() does; caller frees. */
char *probe_clean(const char *text, size_t len);

/* What one TLS handshake showed. */
struct probe_tls {
	bool done;	  /* a handshake completed */
	char version[32]; /* "TLSv1.3" */
	char cipher[64];  /* "TLS_AES_256_GCM_SHA384" */
	char *subject;	  /* certificate fields (untrusted), or NULL */
	char *sans;	  /* DNS names joined by ',' */
	char *issuer;
	long long not_after; /* seconds since the epoch; 0: unknown */
	long long not_before;
	bool name_ok;	   /* matches the host name probed */
	bool chain_ok;	   /* chains to the trust store, in validity */
	char *chain_error; /* why not, or NULL */
};

enum probe_login {
	PROBE_LOGIN_NOT_TRIED, /* no credentials, or not a login port */
	PROBE_LOGIN_OK,
	PROBE_LOGIN_FAILED,
	PROBE_LOGIN_NO_TLS, /* not tried: no TLS, never sent in clear */
};

/* Everything found on one (host, port). */
struct probe_target {
	const struct probe_role *role;
	int port;   /* the port connected to (role->port unless remapped) */
	char *host; /* name probed, or the address literal */
	bool mx;    /* an MX host of the domain */
	struct sockaddr_storage addrs[PROBE_ADDRS_MAX];
	size_t naddrs;
	char ip[64]; /* the address connected to, or the first one */

	enum probe_status status;
	char *detail; /* why it failed, in plain words, or NULL */
	char *greeting;
	/* EHLO keyword lines / CAPABILITY words / CAPA lines. */
	struct probe_list caps_plain;
	struct probe_list caps_tls;
	bool starttls; /* offered on the plaintext connection */
	bool size;
	uint64_t size_max;	      /* SIZE limit after TLS (else before) */
	struct probe_list auth_plain; /* mechanisms offered before TLS */
	struct probe_list auth_tls;   /* and after */
	bool login_plain;	      /* IMAP LOGIN / POP3 USER before TLS */

	struct probe_tls tls;
	char *tls_error; /* the handshake failed: why, or NULL */
	int legacy;	 /* TLS 1.0/1.1: -1 not tested, 0 refused, 1 ok */
	char legacy_version[32];

	enum probe_login login;
	char *login_detail;

	struct probe_list warnings; /* filled by probe_target_warnings() */
};

void probe_target_free_fields(struct probe_target *t);
/* Note that TLS 1.0/1.1 worked: version as the handshake named it. */
void probe_target_legacy(struct probe_target *t, const char *version);

/*
 * Capability parsers (probe_parse.c), pure: record one line a server
 * sent into t's lists for before or after TLS (tls).
 * - probe_smtp_keyword: one EHLO keyword line (not the first line);
 *   AUTH mechanisms, STARTTLS (before TLS) and SIZE are noted too.
 * - probe_imap_capability: the words after "* CAPABILITY "; AUTH=x
 *   words give mechanisms.
 * - probe_pop3_capa: one CAPA line (dot-unstuffed); "SASL m..." gives
 *   mechanisms.
 */
void probe_smtp_keyword(struct probe_target *t, bool tls, const char *text,
			size_t len);
void probe_imap_capability(struct probe_target *t, bool tls, const char *s,
			   size_t len);
void probe_pop3_capa(struct probe_target *t, bool tls, const char *s,
		     size_t len);

/* Options of one run. */
struct probe_opts {
	const char *host;
	const struct probe_role *roles[16]; /* which roles, in order */
	int ports[16];			    /* the port for each role */
	size_t nroles;
	int timeout_s;		 /* per step; <= 0: PROBE_DEFAULT_TIMEOUT */
	const char *dns_forward; /* "ip[@port]", or NULL: resolv.conf */
	const char *ca_file;	 /* extra trust anchors, or NULL */
	const char *user;	 /* credentials, or NULL */
	const char *password;
	const char *helo; /* EHLO name; NULL: "probe.invalid" */
	bool no_legacy;	  /* skip the TLS 1.0/1.1 check */
	long long now;	  /* the clock for certificate expiry; 0: time() */
};

/* The whole run. */
struct probe_run {
	const struct probe_opts *o;
	bool domain; /* HOST had MX records: a mail domain */
	bool null_mx;
	char *error; /* could not probe: why (exit 2), or NULL */
	char *note;  /* what the DNS said, for the report, or NULL */
	struct probe_target t[PROBE_TARGETS_MAX];
	size_t n;
	struct probe_list warnings; /* every target's, then global ones */
};

/*
 * Probe o->host as the options say, filling run (zeroed by the caller).
 * Returns 0 when something was probed, -1 when nothing could be (then
 * run->error says why). run->o points at o.
 */
int probe_run(struct probe_run *run, const struct probe_opts *o)
	__attribute__((warn_unused_result));
void probe_run_free(struct probe_run *run);

/* Where a mail client should go for one kind of service. */
struct probe_pick {
	const struct probe_target *t; /* NULL: nothing usable */
};

enum probe_port25 {
	PROBE_25_NOT_CHECKED,
	PROBE_25_USABLE,  /* an MX answered on port 25 */
	PROBE_25_BLOCKED, /* every attempt timed out: the network drops it */
	PROBE_25_CLOSED,  /* refused or broken on the server side */
};

struct probe_advice {
	struct probe_pick submission; /* 587 STARTTLS > 465 > 2525 */
	struct probe_pick imap;	      /* 993 > 143 STARTTLS */
	struct probe_pick pop3;	      /* 995 > 110 STLS */
	enum probe_port25 port25;
	bool submission_checked; /* some submission role was probed */
	bool imap_checked;
	bool pop3_checked;
};

/*
 * Warnings of one target from what it found (pure; now is the clock for
 * expiry): appended to t->warnings.
 */
void probe_target_warnings(struct probe_target *t, long long now);

/*
 * The advice from the targets (pure). A pick is usable when the port
 * greeted, TLS worked in its mode, and (with credentials) login worked.
 */
void probe_advise(const struct probe_target *t, size_t n,
		  struct probe_advice *a);
const char *probe_port25_name(enum probe_port25 p);

/*
 * Fill run->warnings: every target's warnings (probe_target_warnings)
 * prefixed with "host:port", then the global ones from the advice.
 */
void probe_collect_warnings(struct probe_run *run, const struct probe_advice *a,
			    long long now);

/* 0 all good, 1 problems found, 2 could not probe. */
int probe_exit_code(const struct probe_run *run);

/* The report as text, and as one JSON document (pretty-printed). */
void probe_report_text(FILE *fp, const struct probe_run *run,
		       const struct probe_advice *a, long long now);
void probe_report_json(FILE *fp, const struct probe_run *run,
		       const struct probe_advice *a, long long now);

/* The advice in plain words, one sentence each (lines, caller frees). */
void probe_advice_text(const struct probe_run *run,
		       const struct probe_advice *a, struct probe_list *out);

#endif
