/*
 * SMTP AUTH (RFC 4954) over the shared SASL mechanisms of auth/.
 *
 * SECURITY: credentials only over TLS (DESIGN.md 7): AUTH is neither
 * advertised nor accepted before TLS. Failures are answered late and
 * throttled per address and per user. The password check runs on the
 * worker's offload pool (auth/sasl.h SASL_PENDING): meanwhile the
 * session reads nothing, and its end cancels the check.
 */
#include <string.h>
#include <time.h>

#include "auth/sasl.h"
#include "auth/throttle.h"
#include "lib/limits.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "net/conn.h"
#include "net/offload.h"
#include "smtp/session_int.h"

/* RFC 4954 4: an AUTH response line may be 12288 octets. */
#define SMTP_AUTH_LINE_MAX 12288

bool smtp_auth_offered(const struct smtp_session *s)
{
	return s->srv->auth && conn_is_tls(s->conn);
}

void smtp_auth_reset(struct smtp_session *s)
{
	sasl_server_free(&s->sasl); /* cancels a check in flight */
	s->auth_checking = false;
	if (s->state == SMTP_STATE_AUTH) {
		conn_set_max_line(s->conn, LIMIT_SMTP_COMMAND_LINE);
		smtp_session_set_state(s, SMTP_STATE_HELO);
	}
}

static void smtp_auth_fail(struct smtp_session *s, const char *who)
{
	char q[300];
	int ms = throttle_fail(s->srv->throttle, conn_peer_ip(s->conn), who,
			       time(NULL));

	log_info(conn_sid(s->conn), "auth failed",
		 "peer=%s user=%s delay_ms=%d", conn_peer_ip(s->conn),
		 log_qs(q, sizeof(q), who), ms);
	smtp_auth_reset(s);
	/* RFC 4954 6: 535, but only after a pause (brute force brake). */
	s->auth_failed_pending = true;
	conn_delay(s->conn, ms);
}

void smtp_session_wake(struct smtp_session *s)
{
	if (!s->auth_failed_pending)
		return;
	s->auth_failed_pending = false;
	/* Not a protocol error: the throttle, not the error limit, acts. */
	smtp_reply(s, 535, "5.7.8", "Authentication credentials invalid");
}

static void smtp_auth_result(struct smtp_session *s, enum sasl_result r,
			     const char *challenge);

/* The password check is over (from the event loop). */
static void smtp_auth_checked(void *arg)
{
	struct smtp_session *s = arg;

	s->auth_checking = false;
	conn_resume(s->conn); /* before a failure's conn_delay() */
	smtp_auth_result(s, sasl_server_finish(s->sasl), "");
}

/* Act on what the mechanism said about the last response. */
static void smtp_auth_result(struct smtp_session *s, enum sasl_result r,
			     const char *challenge)
{
	char q[300];

	switch (r) {
	case SASL_PENDING:
		if (sasl_server_verify(s->sasl, offload_default(),
				       smtp_auth_checked, s)) {
			/* pipelined input waits until the answer */
			s->auth_checking = true;
			conn_pause(s->conn);
			return;
		}
		smtp_auth_result(s, sasl_server_finish(s->sasl), "");
		return;
	case SASL_CONTINUE:
		smtp_reply(s, 334, NULL, "%s", challenge);
		if (s->state != SMTP_STATE_AUTH) {
			conn_set_max_line(s->conn, SMTP_AUTH_LINE_MAX);
			smtp_session_set_state(s, SMTP_STATE_AUTH);
		}
		return;
	case SASL_OK:
		if (throttle_check(s->srv->throttle, conn_peer_ip(s->conn),
				   sasl_server_user(s->sasl), time(NULL)) > 0) {
			/* The user is under attack from elsewhere. */
			smtp_auth_reset(s);
			smtp_reply(s, 454, "4.7.0",
				   "Too many failed logins for this user; try "
				   "again later");
			return;
		}
		strlcpy_p(s->user, sasl_server_user(s->sasl), sizeof(s->user));
		throttle_success(s->srv->throttle, conn_peer_ip(s->conn),
				 s->user, time(NULL));
		log_info(conn_sid(s->conn), "auth", "peer=%s user=%s",
			 conn_peer_ip(s->conn), log_qs(q, sizeof(q), s->user));
		smtp_auth_reset(s);
		smtp_reply(s, 235, "2.7.0", "Authentication successful");
		return;
	case SASL_FAIL:
		smtp_auth_fail(s, sasl_server_authcid(s->sasl));
		return;
	case SASL_MALFORMED:
		smtp_auth_reset(s);
		smtp_reply_error(s, 501, "5.5.2",
				 "Cannot decode the authentication response");
		return;
	case SASL_TEMPFAIL:
		smtp_auth_reset(s);
		smtp_reply(s, 454, "4.7.0", "Temporary authentication failure");
		return;
	}
}

static void smtp_auth_step(struct smtp_session *s, const char *in, size_t len,
			   bool have_input)
{
	char out[1024];
	size_t out_len = 0;
	enum sasl_result r;

	r = sasl_server_step(s->sasl, in, len, have_input, out, sizeof(out),
			     &out_len);
	out[out_len < sizeof(out) ? out_len : sizeof(out) - 1] = '\0';
	smtp_auth_result(s, r, out);
}

void smtp_auth_input(struct smtp_session *s, const char *line, size_t len)
{
	if (len == 1 && line[0] == '*') {
		/* RFC 4954 4: the client cancels. */
		smtp_auth_reset(s);
		smtp_reply_error(s, 501, "5.0.0", "Authentication cancelled");
		return;
	}
	smtp_auth_step(s, line, len, true);
}

void smtp_cmd_auth(struct smtp_session *s, const char *arg, size_t len)
{
	enum sasl_mech mech;
	size_t mlen = 0;
	int wait;

	if (!s->srv->auth) {
		smtp_reply_error(s, 502, "5.5.1", "AUTH not available");
		return;
	}
	if (!conn_is_tls(s->conn)) {
		/* RFC 4954 6 */
		smtp_reply_error(s, 538, "5.7.11",
				 "Encryption required for requested "
				 "authentication mechanism");
		return;
	}
	if (s->user[0] != '\0') {
		smtp_reply_error(s, 503, "5.5.1", "Already authenticated");
		return;
	}
	while (mlen < len && arg[mlen] != ' ')
		mlen++;
	if (sasl_mech_parse(arg, mlen, &mech) < 0) {
		smtp_reply_error(s, 504, "5.5.4",
				 "Unrecognized authentication type");
		return;
	}
	wait = throttle_check(s->srv->throttle, conn_peer_ip(s->conn), NULL,
			      time(NULL));
	if (wait > 0) {
		smtp_reply(s, 454, "4.7.0",
			   "Too many failed logins; try again in %d seconds",
			   wait);
		return;
	}
	s->sasl = sasl_server_new(mech, s->srv->userdb);
	if (mlen < len)
		smtp_auth_step(s, arg + mlen + 1, len - mlen - 1, true);
	else
		smtp_auth_step(s, "", 0, false);
}
