/*
 * Listening sockets. The master binds them (possibly as root, for ports
 * below 1024) before it forks; workers inherit the descriptors.
 */
#ifndef NET_LISTENER_H
#define NET_LISTENER_H

/*
 * Bind and listen on address:port (numeric IPv4 or IPv6), non-blocking,
 * close-on-exec, SO_REUSEADDR. Returns the descriptor, or -1 with
 * *error_r set (valid until the next call into this module).
 */
int listener_bind(const char *address, int port, const char **error_r);

/*
 * Accept one connection from a non-blocking listener. Returns the new
 * descriptor (non-blocking, close-on-exec), or -1 when there is nothing to
 * accept (another worker took it) or on a transient error.
 */
int listener_accept(int fd);

#endif
