/*
 * Named limits, in one place (curl's habit). Defaults only: the ones an
 * operator may need to change are overridable in the configuration.
 */
#ifndef LIB_LIMITS_H
#define LIB_LIMITS_H

/* RFC 5321 4.5.3.1.4: command line, CRLF included. */
#define LIMIT_SMTP_COMMAND_LINE 512
/* RFC 5321 4.5.3.1.6: text line, CRLF included. */
#define LIMIT_SMTP_TEXT_LINE 1000
/* Default largest message (SIZE), recipients per message (RFC 5321
 * 4.5.3.1.8 asks for at least 100) and errors before a session is cut. */
#define LIMIT_SMTP_MESSAGE_SIZE (50 * 1024 * 1024)
#define LIMIT_SMTP_RECIPIENTS 100
#define LIMIT_SMTP_ERRORS 10
/* Seconds a server waits for the next DATA/BDAT block. */
#define LIMIT_SMTP_DATA_TIMEOUT 300
/* Outbound queue (RFC 5321 4.5.4.1: give up after 4-5 days). */
#define LIMIT_QUEUE_LIFETIME (5 * 86400)
#define LIMIT_QUEUE_WARN_AFTER (4 * 3600)
#define LIMIT_QUEUE_CONCURRENCY 20
/* Outbound SMTP connections: all, and to one destination (Postfix's
 * default_process_limit and default_destination_concurrency_limit). */
#define LIMIT_QUEUE_CONNECTIONS 100
#define LIMIT_QUEUE_PER_DESTINATION 20
/* Input buffered per connection before reading pauses (back-pressure). */
#define LIMIT_CONN_INPUT (64 * 1024)
/* Output queued per connection before the writer must wait for FLUSHED. */
#define LIMIT_CONN_OUTPUT_HIGH (256 * 1024)
/* Hard cap on queued output: a peer that never reads is disconnected. */
#define LIMIT_CONN_OUTPUT_MAX (4 * 1024 * 1024)
/* Default idle timeout (seconds): RFC 5321 4.5.3.2.7 asks for 5 minutes. */
#define LIMIT_IDLE_TIMEOUT 300
/* TLS handshake must finish within this many seconds. */
#define LIMIT_TLS_HANDSHAKE_TIMEOUT 30
/* Default connection limits per worker process and per client address. */
#define LIMIT_MAX_CONNECTIONS 1000
#define LIMIT_MAX_CONNECTIONS_PER_IP 20
/* Seconds SIGTERM waits for sessions in flight before closing them. */
#define LIMIT_SHUTDOWN_TIMEOUT 30
/* Config file size read by `postern config check`. */
#define LIMIT_CONFIG_LISTENERS 64

#endif
