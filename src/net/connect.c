#include "net/connect.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "lib/log.h"
#include "lib/mem.h"

struct net_connect {
	struct event *ev; /* socket writable, the deadline, or "now" */
	int fd;
	int error; /* known before the loop runs: reported at once */
	net_connect_cb *cb;
	void *arg;
};

static void net_connect_free(struct net_connect *c)
{
	event_free(c->ev);
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}

/* Writable (the handshake finished one way or the other) or timed out. */
static void net_connect_on_event(evutil_socket_t fd, short what, void *arg)
{
	struct net_connect *c = arg;
	net_connect_cb *cb = c->cb;
	void *cb_arg = c->arg;
	int error = c->error;
	int result = -1;

	(void)fd;
	if (error == 0 && (what & EV_WRITE)) {
		socklen_t len = sizeof(error);

		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0)
			error = errno;
	} else if (error == 0) {
		error = ETIMEDOUT;
	}
	if (error == 0) {
		result = c->fd;
		c->fd = -1; /* handed over */
	}
	net_connect_free(c);
	cb(cb_arg, result, error);
}

/* Bind c->fd to source (same family as the destination, length len). */
static int net_connect_bind(struct net_connect *c,
			    const struct sockaddr_storage *source,
			    sa_family_t family, socklen_t len)
{
	struct sockaddr_storage src = *source;
	int one = 1;

	if (src.ss_family != family)
		return EAFNOSUPPORT;
	if (family == AF_INET)
		((struct sockaddr_in *)&src)->sin_port = 0;
	else
		((struct sockaddr_in6 *)&src)->sin6_port = 0;
#ifdef IP_BIND_ADDRESS_NO_PORT
	/* Choose the port at connect() time, per destination: bind() with
	 * port 0 would reserve one for good, and run out sooner. */
	if (setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
		       sizeof(one)) != 0)
		log_debug(NULL, "IP_BIND_ADDRESS_NO_PORT refused", "error=%d",
			  errno);
#else
	(void)one;
#endif
	return bind(c->fd, (struct sockaddr *)&src, len) == 0 ? 0 : errno;
}

/* A socket for addr, with the connect started. Returns 0 or an errno. */
static int net_connect_socket(struct net_connect *c,
			      const struct sockaddr_storage *addr,
			      const struct sockaddr_storage *source, int port)
{
	struct sockaddr_storage sa = *addr;
	socklen_t len;
	int one = 1, error;

	if (sa.ss_family == AF_INET) {
		((struct sockaddr_in *)&sa)->sin_port = htons((uint16_t)port);
		len = sizeof(struct sockaddr_in);
	} else if (sa.ss_family == AF_INET6) {
		((struct sockaddr_in6 *)&sa)->sin6_port = htons((uint16_t)port);
		len = sizeof(struct sockaddr_in6);
	} else {
		return EAFNOSUPPORT;
	}
	c->fd = socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		       0);
	if (c->fd < 0)
		return errno;
	/* Commands are small and each waits for its reply. */
	if (setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0)
		log_debug(NULL, "TCP_NODELAY refused", "error=%d", errno);
	if (source != NULL &&
	    (error = net_connect_bind(c, source, sa.ss_family, len)) != 0)
		return error;
	if (connect(c->fd, (struct sockaddr *)&sa, len) == 0)
		return 0; /* at once (loopback): still reported from the loop */
	return errno == EINPROGRESS ? 0 : errno;
}

struct net_connect *net_connect_start(struct event_base *base,
				      const struct sockaddr_storage *addr,
				      const struct sockaddr_storage *source,
				      int port, int timeout_ms,
				      net_connect_cb *cb, void *arg)
{
	struct net_connect *c = xcalloc(1, sizeof(*c));
	struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};

	if (port <= 0 || port > 65535 || timeout_ms <= 0)
		panic("net_connect_start: port %d timeout %d", port,
		      timeout_ms);
	c->cb = cb;
	c->arg = arg;
	c->fd = -1;
	c->error = net_connect_socket(c, addr, source, port);
	if (c->error != 0) {
		if (c->fd >= 0)
			close(c->fd);
		c->fd = -1;
		/* A pure timer that fires on the next loop turn. */
		c->ev = event_new(base, -1, 0, net_connect_on_event, c);
		tv.tv_sec = 0;
		tv.tv_usec = 0;
	} else {
		c->ev = event_new(base, c->fd, EV_WRITE, net_connect_on_event,
				  c);
	}
	if (c->ev == NULL || event_add(c->ev, &tv) != 0)
		fatal("cannot create connect event");
	return c;
}

void net_connect_cancel(struct net_connect **cp)
{
	if (cp == NULL || *cp == NULL)
		return;
	net_connect_free(*cp);
	*cp = NULL;
}
