/*
 * A real DNS server for tests: Debian's unbound(8), started in the
 * foreground on 127.0.0.1 at a free port with a temporary config that
 * serves the caller's local-zone / local-data lines and answers NXDOMAIN
 * for every other name, so nothing ever leaves the machine. Point a
 * resolver at it with forward "127.0.0.1@<port>".
 *
 * Used by unit tests (link tests/dns/testserver.c); integration tests can
 * start the same server with the config written by this helper as a model.
 */
#ifndef TESTS_DNS_TESTSERVER_H
#define TESTS_DNS_TESTSERVER_H

#include <sys/types.h>

struct dns_testserver {
	pid_t pid;
	int port;
	char dir[64];	  /* temporary directory: config and log */
	char forward[32]; /* "127.0.0.1@port" */
};

/*
 * Start unbound (found in PATH, /usr/sbin or /sbin) with zone: lines of
 * unbound server options such as
 *   local-zone: "example.test." static
 *   local-data: "example.test. MX 10 mx1.example.test."
 * and wait until it answers (at most a few seconds). Returns 0, or -1
 * with *error_r set (static text: unbound missing, or its log).
 */
int dns_testserver_start(struct dns_testserver *s, const char *zone,
			 const char **error_r);

/* Stop the server and remove its directory. Safe after a failed start. */
void dns_testserver_stop(struct dns_testserver *s);

#endif
