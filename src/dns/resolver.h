/*
 * Asynchronous DNS on libunbound: MX with the rules of RFC 5321 5.1 and
 * RFC 7505 for the outbound queue, addresses, and TXT, TLSA and PTR for
 * SPF, DKIM, DMARC and DANE. Answers are DNSSEC-validated when a trust
 * anchor is configured; every callback says whether its answer was
 * `secure` (validated), and a validation failure is DNS_BOGUS.
 *
 * libunbound works in a thread of its own; its answers come back through
 * a descriptor watched by the caller's event_base. Callbacks run from that
 * event loop only, never from inside a dns_* call, so an owner never
 * re-enters itself. Create the resolver in the process that uses it,
 * after any fork().
 *
 * A query handle (struct dns_query *) is valid until its callback is
 * called or it is cancelled, whichever comes first; each query calls its
 * callback exactly once unless cancelled. Data given to a callback
 * (hosts, addresses, strings, records) is owned by the resolver and valid
 * only during the call: copy what must be kept. A callback may cancel
 * other queries, start new ones, or free the resolver.
 *
 * SECURITY: answers are untrusted input. Each answer is cut to a fixed
 * number of records (DNS_MAX_*), names taken from answers are used only
 * when they are host names (letters, digits, '-', '_'; RFC 1035 lengths),
 * TXT records holding a NUL byte or longer than DNS_TXT_MAX are dropped.
 */
#ifndef DNS_RESOLVER_H
#define DNS_RESOLVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Longest name in text form, without the final dot (RFC 1035 2.3.4). */
#define DNS_NAME_MAX 253
/* Records kept per answer; the rest are ignored. */
#define DNS_MAX_MX 64
#define DNS_MAX_ADDRS 64
#define DNS_MAX_TXT 32
#define DNS_MAX_TLSA 32
#define DNS_MAX_PTR 16
/* Longest TXT record (its strings joined) and TLSA association data. */
#define DNS_TXT_MAX 4096
#define DNS_TLSA_DATA_MAX 2048
/* Whole-query limit when dns_config.timeout_ms is 0 or less. */
#define DNS_DEFAULT_TIMEOUT_MS 10000

struct event_base;
struct dns_resolver;
struct dns_query;

struct dns_config {
	const char *forward;	       /* "ip[@port]", NULL: /etc/resolv.conf */
	const char *trust_anchor_file; /* NULL: no DNSSEC validation */
	int timeout_ms;		       /* per query; <= 0: the default */
};

enum dns_status {
	DNS_OK,
	DNS_NXDOMAIN, /* the name does not exist */
	DNS_NODATA,   /* the name exists without the records asked for */
	DNS_TEMPFAIL, /* SERVFAIL, REFUSED, timeout, no memory: try later */
	DNS_NULL_MX,  /* RFC 7505: the domain accepts no mail */
	DNS_BOGUS,    /* DNSSEC validation failed */
};

/* "ok", "nxdomain", ...: for logs. */
const char *dns_status_str(enum dns_status st);

/*
 * Start a resolver on base. forward, when set, sends every query to that
 * recursive resolver ("127.0.0.1@5353", "::1"), names under "test." and
 * "127.in-addr.arpa." included (libunbound would otherwise answer them
 * itself), so tests can serve their zones; else the nameservers of
 * /etc/resolv.conf are used. trust_anchor_file is a file of DS or DNSKEY
 * records for the root (e.g. /usr/share/dns/root.key) or for a test
 * zone; it turns DNSSEC validation on. Returns the resolver, which the
 * caller frees with dns_resolver_free(), or NULL with *error_r set (a
 * static string, valid until the next call).
 */
struct dns_resolver *dns_resolver_new(struct event_base *base,
				      const struct dns_config *cfg,
				      const char **error_r);
/*
 * Cancel every outstanding query (their callbacks are not called), stop
 * libunbound's thread and free the resolver. Accepts NULL; sets *rp to
 * NULL.
 */
void dns_resolver_free(struct dns_resolver **rp);

/*
 * Cancel a query: its callback is not called afterwards. Accepts NULL
 * and a query whose callback is running; sets *qp to NULL.
 */
void dns_query_cancel(struct dns_query **qp);

/*
 * Every dns_resolve_* call returns the query, or NULL without calling the
 * callback when the request is invalid: a name that is empty, over
 * DNS_NAME_MAX characters (one final dot is allowed and ignored), with a
 * label over 63 characters or a character other than a letter, digit,
 * '-' or '_'; an unknown family or address. Failures after that (even no
 * memory in libunbound) reach the callback as DNS_TEMPFAIL.
 */

struct dns_mx_host {
	char name[DNS_NAME_MAX + 3]; /* without the final dot */
	unsigned preference;
	bool implicit; /* no MX: the domain itself (RFC 5321 5.1) */
};

/*
 * hosts is sorted by preference, lowest first; hosts of equal preference
 * are in random order, a new one on each query (RFC 5321 5.1 "MUST
 * randomize"). n > 0 only with DNS_OK.
 */
typedef void dns_mx_cb(void *arg, enum dns_status st,
		       const struct dns_mx_host *hosts, size_t n, bool secure);

/*
 * The mail exchangers of domain (RFC 5321 5.1, RFC 7505):
 * - MX records: the usable ones, sorted; exchanges that are "." or not a
 *   host name are unusable and skipped (RFC 7505 3 forbids "0 ." beside
 *   other MX records; if a domain has both, the others are used).
 * - only unusable MX records: DNS_NULL_MX if one of them is ".", else
 *   DNS_NODATA ("none of them are usable ... MUST be reported as an
 *   error"). Both are permanent.
 * - no MX records (NODATA): the implicit MX, one host named domain with
 *   preference 0 and implicit set, provided domain has an A or AAAA
 *   record; else DNS_NODATA (or DNS_TEMPFAIL / DNS_BOGUS when the
 *   address lookups fail so).
 * - NXDOMAIN: DNS_NXDOMAIN; SERVFAIL or timeout: DNS_TEMPFAIL.
 * secure is true only when every answer used was validated.
 */
struct dns_query *dns_resolve_mx(struct dns_resolver *r, const char *domain,
				 dns_mx_cb *cb, void *arg);

/*
 * addrs are sockaddr_in / sockaddr_in6 with port 0; AAAA records before A
 * records. n > 0 only with DNS_OK.
 */
typedef void dns_addr_cb(void *arg, enum dns_status st,
			 const struct sockaddr_storage *addrs, size_t n,
			 bool secure);

/*
 * The addresses of host: family AF_INET (A), AF_INET6 (AAAA) or
 * AF_UNSPEC (both). With both, DNS_OK when either gave addresses (the
 * failure of the other is then ignored and secure is false); else the
 * worse failure: DNS_BOGUS, DNS_TEMPFAIL, DNS_NXDOMAIN, DNS_NODATA.
 */
struct dns_query *dns_resolve_addr(struct dns_resolver *r, const char *host,
				   int family, dns_addr_cb *cb, void *arg);

/* Each TXT record, its strings joined (RFC 7208 3.3), NUL-terminated. */
typedef void dns_txt_cb(void *arg, enum dns_status st, char **txts, size_t n,
			bool secure);

/* The TXT records of name (SPF, "_dmarc.", "sel._domainkey."). */
struct dns_query *dns_resolve_txt(struct dns_resolver *r, const char *name,
				  dns_txt_cb *cb, void *arg);

/* One TLSA record (RFC 6698 2.1). */
struct dns_tlsa {
	uint8_t usage;
	uint8_t selector;
	uint8_t mtype;
	size_t len;
	const unsigned char *data; /* certificate association data */
};

typedef void dns_tlsa_cb(void *arg, enum dns_status st,
			 const struct dns_tlsa *recs, size_t n, bool secure);

/*
 * The TLSA records of "_port._tcp.host" (RFC 7672 for SMTP). DANE may use
 * them only when secure is true. Records that are malformed or whose data
 * exceeds DNS_TLSA_DATA_MAX are skipped.
 */
struct dns_query *dns_resolve_tlsa(struct dns_resolver *r, const char *host,
				   int port, dns_tlsa_cb *cb, void *arg);

/* Host names, without the final dot, NUL-terminated. */
typedef void dns_ptr_cb(void *arg, enum dns_status st, char **names, size_t n,
			bool secure);

/*
 * The PTR records of an address (sockaddr_in or sockaddr_in6; an
 * IPv4-mapped IPv6 address is looked up as IPv4): in-addr.arpa and
 * ip6.arpa names (RFC 1035 3.5, RFC 3596 2.5).
 */
struct dns_query *dns_resolve_ptr(struct dns_resolver *r,
				  const struct sockaddr *addr, dns_ptr_cb *cb,
				  void *arg);

#endif
