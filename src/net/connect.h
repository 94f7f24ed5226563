/*
 * Outbound TCP connect on the event loop: a non-blocking connect() with
 * its own deadline, for the SMTP client of the queue worker.
 *
 * The result always comes from the event loop, never from inside
 * net_connect_start(), so a caller never re-enters itself.
 */
#ifndef NET_CONNECT_H
#define NET_CONNECT_H

#include <sys/socket.h>

struct event_base;
struct net_connect;

/*
 * The attempt is over. fd is a connected socket (non-blocking,
 * close-on-exec, TCP_NODELAY) that the callee now owns, or -1 with error
 * an errno value: ECONNREFUSED, ETIMEDOUT (no answer within the
 * deadline), EHOSTUNREACH, ENETUNREACH, EAFNOSUPPORT... The handle is
 * freed before cb runs: forget it there, never cancel it.
 */
typedef void net_connect_cb(void *arg, int fd, int error);

/*
 * Connect to addr (AF_INET or AF_INET6; its own port is ignored) on port,
 * giving up after timeout_ms (> 0). source, when not NULL, is the local
 * address to send from (Postfix's smtp_bind_address): the socket is
 * bound to it (its port ignored, the kernel picks one) before connect().
 * It must be of addr's family (else EAFNOSUPPORT); a bind() failure
 * (EADDRNOTAVAIL: not an address of this host) comes through cb with its
 * errno like any other failure. NULL: whatever address the kernel picks.
 * Returns a handle owned by the attempt until cb runs or
 * net_connect_cancel() is called; never NULL (a failure to create the
 * socket is reported through cb as well).
 */
struct net_connect *net_connect_start(struct event_base *base,
				      const struct sockaddr_storage *addr,
				      const struct sockaddr_storage *source,
				      int port, int timeout_ms,
				      net_connect_cb *cb, void *arg);

/*
 * Abandon an attempt whose callback has not run: the socket is closed and
 * cb is never called. Accepts NULL and *cp == NULL; sets *cp to NULL.
 */
void net_connect_cancel(struct net_connect **cp);

#endif
