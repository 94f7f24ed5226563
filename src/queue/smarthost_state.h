/*
 * What relay.port = auto found out: the port of the smart host that
 * worked last, kept in <data_dir>/queue/smarthost so that a restart does
 * not probe blocked ports again. One line:
 *
 *   <host> <port>\n
 *
 * host is relay.host as configured (1..SMARTHOST_HOST_MAX bytes of
 * printable ASCII without space); port is 1..65535 in decimal without
 * leading zeros. A record for another host is ignored, so changing
 * relay.host starts over.
 *
 * The parser and formatter are pure (unit tested and fuzzed); load and
 * save do the I/O. The file is a hint, never the truth: a missing,
 * unreadable or malformed file just means "probe the list".
 */
#ifndef QUEUE_SMARTHOST_STATE_H
#define QUEUE_SMARTHOST_STATE_H

#include <stddef.h>

#define SMARTHOST_HOST_MAX 255
/* Longest record: host, space, five digits, LF. */
#define SMARTHOST_STATE_MAX (SMARTHOST_HOST_MAX + 7)

/*
 * Parse a record of len bytes (not NUL-terminated). Returns the port when
 * the record is well formed and names host, 0 when it names another host,
 * -1 when it is malformed (*error_r: a static string).
 */
int smarthost_state_parse(const char *buf, size_t len, const char *host,
			  const char **error_r)
	__attribute__((warn_unused_result));

/*
 * The record for host and port into buf (size bytes, NUL-terminated).
 * Returns its length, or -1 when host or port break the rules above or
 * buf is too small (SMARTHOST_STATE_MAX + 1 is always enough).
 */
int smarthost_state_format(char *buf, size_t size, const char *host, int port)
	__attribute__((warn_unused_result));

/* The remembered port for host, or 0 (none, another host, unreadable). */
int smarthost_state_load(const char *data_dir, const char *host);

/*
 * Remember port for host: written to a temp file and renamed over the old
 * record (no fsync: losing it costs one probe). Returns 0, or -1 with
 * *error_r (a static buffer valid until the next call).
 */
int smarthost_state_save(const char *data_dir, const char *host, int port,
			 const char **error_r)
	__attribute__((warn_unused_result));

#endif
