/*
 * The SMTP session of a probe, on the outbound client (smtp/client.h):
 * its reply_line hook shows the greeting and the EHLO keywords before and
 * after STARTTLS; its outcome says how far the session went.
 *
 * SECURITY: credentials go only to submission ports, and the client
 * itself refuses to send them without TLS.
 */
#include "probe/probe_int.h"

#include <stdlib.h>
#include <string.h>

#include "lib/mem.h"
#include "net/conn.h"
#include "smtp/client.h"

static void smtp_on_line(struct smtp_client *c, enum smtp_client_stage stage,
			 const struct smtp_reply_line *l, void *arg)
{
	struct probe_job *j = arg;
	struct probe_target *t = j->t;
	const struct conn *conn = smtp_client_conn(c);
	bool tls = conn != NULL && conn_is_tls(conn);
	size_t index = j->reply_lines++;

	if (l->last)
		j->reply_lines = 0;
	if (j->phase != PROBE_PHASE_MAIN)
		return;
	if (tls)
		probe_tls_capture(t, conn);
	if (stage == SMTP_STAGE_GREETING && index == 0 && !j->greeted) {
		char *text = probe_clean(l->text, l->text_len);

		j->greeted = true;
		free(t->greeting);
		t->greeting = xasprintf("%d %s", l->code, text);
		free(text);
		if (l->code == 220)
			t->status = PROBE_ST_OPEN;
	} else if (stage == SMTP_STAGE_EHLO && l->code == 250 && index > 0) {
		/* RFC 5321 4.1.1.1: every line but the first is a keyword */
		probe_smtp_keyword(t, tls, l->text, l->text_len);
	}
}

static void smtp_on_ready(struct smtp_client *c, void *arg)
{
	struct probe_job *j = arg;
	struct probe_target *t = j->t;
	const struct conn *conn = smtp_client_conn(c);

	if (j->phase == PROBE_PHASE_LEGACY) {
		probe_target_legacy(t, conn ? conn_tls_version(conn) : NULL);
	} else {
		if (conn != NULL)
			probe_tls_capture(t, conn);
		if (smtp_client_authenticated(c))
			t->login = PROBE_LOGIN_OK;
	}
	smtp_client_quit(c);
}

/* Before the greeting: why nothing usable came. */
static void smtp_failed_early(struct probe_target *t,
			      const struct smtp_client_result *r)
{
	if (r->code == 0 && strncmp(r->text, "timeout", 7) == 0) {
		t->status = PROBE_ST_SILENT;
		return;
	}
	t->status = PROBE_ST_FAILED;
	free(t->detail);
	if (r->stage == SMTP_STAGE_TLS)
		t->detail = xstrdup("the TLS handshake failed");
	else if (r->code != 0)
		t->detail = xasprintf("greeting %d %s", r->code, r->text);
	else
		t->detail = xstrdup(r->text);
}

static void smtp_on_failed(struct smtp_client *c,
			   const struct smtp_client_result *r, void *arg)
{
	struct probe_job *j = arg;
	struct probe_target *t = j->t;

	(void)c;
	if (j->phase == PROBE_PHASE_LEGACY) {
		if (r->stage == SMTP_STAGE_TLS)
			t->legacy = 0;
		return;
	}
	if (t->status != PROBE_ST_OPEN) {
		smtp_failed_early(t, r);
		return;
	}
	switch (r->stage) {
	case SMTP_STAGE_AUTH:
		t->login = PROBE_LOGIN_FAILED;
		t->login_detail = r->code ? xasprintf("%d %s", r->code, r->text)
					  : xstrdup(r->text);
		break;
	case SMTP_STAGE_STARTTLS:
		if (r->code == 0) { /* the client's own: no STARTTLS offered */
			t->login = PROBE_LOGIN_NO_TLS;
			break;
		}
		t->tls_error =
			xasprintf("STARTTLS refused: %d %s", r->code, r->text);
		break;
	case SMTP_STAGE_TLS:
		t->tls_error = xstrdup(r->text);
		break;
	default:
		t->status = PROBE_ST_FAILED;
		t->detail =
			r->code ? xasprintf("%s: %d %s",
					    smtp_client_stage_name(r->stage),
					    r->code, r->text)
				: xstrdup(r->text);
		break;
	}
}

static void smtp_on_closed(struct smtp_client *c, void *arg)
{
	struct probe_job *j = arg;

	smtp_client_free(&c);
	if (j->phase == PROBE_PHASE_MAIN && j->t->status == PROBE_ST_PENDING) {
		j->t->status = PROBE_ST_FAILED;
		j->t->detail = xstrdup("closed before the greeting");
	}
	probe_job_session_done(j);
}

void probe_smtp_start(struct probe_job *j, struct conn *conn)
{
	static const struct smtp_client_cb cb = {
		.ready = smtp_on_ready,
		.failed = smtp_on_failed,
		.closed = smtp_on_closed,
		.reply_line = smtp_on_line,
	};
	const struct probe_target *t = j->t;
	const struct probe_opts *o = j->ctx->o;
	bool implicit = t->role->tls == PROBE_IMPLICIT;
	struct smtp_client_params p = {
		.helo = j->ctx->helo,
		.tls = j->ctx->tls,
		.tls_mode = implicit ? SMTP_TLS_IMPLICIT : SMTP_TLS_MAY,
		.servername = t->host,
		/* Each RFC 5321 wait is 5 "minutes": one step's deadline. */
		.minute_ms =
			j->ctx->timeout_ms / 5 > 0 ? j->ctx->timeout_ms / 5 : 1,
	};

	if (j->phase == PROBE_PHASE_LEGACY) {
		p.tls = j->ctx->legacy;
		p.tls_mode = implicit ? SMTP_TLS_IMPLICIT : SMTP_TLS_ENCRYPT;
	} else if (o->user != NULL && t->role->submission) {
		p.auth_user = o->user;
		p.auth_password = o->password;
	}
	j->smtp = smtp_client_new(j->ctx->base, conn, &p, &cb, j);
}
