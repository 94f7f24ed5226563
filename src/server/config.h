/*
 * Configuration: the libconfig file of DESIGN.md, validated as a whole.
 * Every error names file, line and key; unknown keys are errors, so a typo
 * never silently falls back to a default.
 *
 * The struct is read-only after loading: workers receive it at fork and a
 * reload builds a new one.
 */
#ifndef SERVER_CONFIG_H
#define SERVER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/cidr.h"
#include "lib/log.h"

enum config_service {
	SERVICE_SMTP,	    /* MX, port 25 */
	SERVICE_SUBMISSION, /* 587, 465, 2525 */
	SERVICE_IMAP,
	SERVICE_POP3,
};

enum config_tls_mode {
	CONFIG_TLS_NONE,
	CONFIG_TLS_STARTTLS,
	CONFIG_TLS_IMPLICIT,
};

/* Most queue.tls_policy entries (each one is a compare per delivery). */
#define CONFIG_TLS_POLICY_MAX 1000

struct config_listener {
	char *address; /* numeric IPv4 or IPv6 address */
	int port;
	enum config_service service;
	enum config_tls_mode tls;
	int line; /* where it was defined, for errors found later */
};

struct config_sni {
	char *name; /* host name the client asks for */
	char *cert;
	char *key;
	int line;
};

struct config {
	char *path;	/* the file loaded */
	char *hostname; /* greeting and Received: name */
	char *data_dir; /* absolute */
	char *user;	/* drop privileges to this user when root; NULL: no */
	int workers;	/* front worker processes, >= 1 after loading */

	enum log_level log_level;
	char *log_file; /* NULL: stderr */

	struct {
		char *cert; /* absolute paths, NULL when TLS is not set up */
		char *key;
		int min_version; /* 12 or 13 (TLS 1.2 / 1.3) */
		struct config_sni *sni;
		size_t sni_count;
		int line; /* line of the tls group, for load errors */
	} tls;

	struct {
		int max_connections;	    /* per worker */
		int max_connections_per_ip; /* per worker */
		int idle_timeout;	    /* seconds */
		int shutdown_timeout;	    /* seconds */
	} limits;

	struct {
		int max_message_size; /* octets, SIZE of RFC 1870 */
		int max_recipients;   /* per transaction */
		int max_errors;	      /* per session, then 421 and close */
		int data_timeout;     /* seconds waiting inside DATA/BDAT */
		bool vrfy;	      /* answer VRFY truthfully */
		bool expn;	      /* answer EXPN */
		char **etrn_domains;  /* ETRN allowed for these; NULL-ended */
		size_t etrn_count;
		struct cidr *etrn_networks; /* may ETRN; none: anyone */
		size_t etrn_net_count;
		bool mx_auth;	     /* offer AUTH (over TLS) on smtp too */
		bool hide_client_ip; /* no client address in Received */
		struct cidr *relay_networks; /* may relay without AUTH */
		size_t relay_count;
	} smtp;

	struct {
		int lifetime;	 /* seconds before giving up, with a DSN */
		int warn_after;	 /* seconds before a delay DSN; 0: never */
		int concurrency; /* messages being delivered at once */
		int mx_port;	 /* port of MX hosts: 25 (tests change it) */
		int max_connections;	 /* outbound SMTP connections */
		int max_per_destination; /* ... to one domain (smart host) */
		/* Source address of outbound SMTP connections to IPv4 / IPv6
		 * servers (MX and smart host), numeric as written; NULL: the
		 * kernel's choice (Postfix's smtp_bind_address(6)). */
		char *bind_address;
		char *bind_address6;
		/* Waits between attempts, the last repeating; none: the
		 * defaults of queue/schedule.h. */
		int retry[16];
		size_t retry_count;
		/* queue.tls_policy: STARTTLS per destination domain for MX
		 * delivery (at most CONFIG_TLS_POLICY_MAX); a domain not
		 * listed (and no "*") gets "may". */
		struct config_tls_policy {
			char *domain; /* as written; "*": every other one */
			enum config_out_tls {
				CONFIG_OUT_TLS_NONE,	/* never STARTTLS */
				CONFIG_OUT_TLS_MAY,	/* when offered */
				CONFIG_OUT_TLS_ENCRYPT, /* required */
			} tls;
			int line;
		} * tls_policy;
		size_t tls_policy_count;
	} queue;

	struct {
		char *forward; /* "ip[@port]" upstream; NULL: resolv.conf */
		char *trust_anchor; /* DNSSEC root key file; NULL: none */
	} dns;

	struct {
		char *host;	     /* smart host; NULL: deliver to MX hosts */
		int port;	     /* 0: auto (587, 465, 2525, 25) */
		char *user;	     /* AUTH to the smart host, over TLS only */
		char *password_file; /* file holding the password */
		/* port = auto: the candidates in order; none given: 587
		 * STARTTLS, 465 implicit TLS, 2525 STARTTLS, 25 may. */
		struct config_relay_port {
			int port;
			enum config_relay_tls {
				CONFIG_RELAY_TLS_MAY,	   /* when offered */
				CONFIG_RELAY_TLS_STARTTLS, /* required */
				CONFIG_RELAY_TLS_IMPLICIT, /* RFC 8314 */
			} tls;
		} auto_ports[8];
		size_t auto_count;
	} relay;

	struct config_listener *listeners;
	size_t listener_count;
};

/* Errors found while loading, each "FILE:LINE: message". */
struct config_errors {
	char **msgs;
	size_t count;
};

void config_errors_fini(struct config_errors *errors);

/*
 * Load and validate path. Returns a config the caller frees with
 * config_free(), or NULL with every problem appended to errors (the caller
 * initialises errors to {0} and finis it). Relative paths in the file are
 * taken relative to the file's folder.
 */
struct config *config_load(const char *path, struct config_errors *errors);

/*
 * The same for a configuration held in memory; name is used in error
 * messages and base_dir to resolve relative paths.
 */
struct config *config_parse_string(const char *text, const char *name,
				   const char *base_dir,
				   struct config_errors *errors);

void config_free(struct config **cfgp);

/* "smtp", "submission", "imap", "pop3". */
const char *config_service_name(enum config_service service);
/* "none", "starttls", "implicit". */
const char *config_tls_mode_name(enum config_tls_mode mode);

#endif
