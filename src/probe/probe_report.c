/*
 * The report: the same findings as text for a person and as one JSON
 * document for a program. Both are pure functions of the model.
 */
#include "probe/probe.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/mem.h"
#include "probe/json.h"

/* "2027-11-22" (date only) or "2027-11-22T10:00:00Z"; "" when unknown. */
static void fmt_time(char *out, size_t size, long long when, bool full)
{
	time_t t = (time_t)when;
	struct tm tm;

	out[0] = '\0';
	if (when != 0 && gmtime_r(&t, &tm) != NULL)
		strftime(out, size, full ? "%Y-%m-%dT%H:%M:%SZ" : "%Y-%m-%d",
			 &tm);
}

static const char *status_text(const struct probe_target *t)
{
	switch (t->status) {
	case PROBE_ST_OPEN:
		return "open";
	case PROBE_ST_CLOSED:
		return "closed on the server (connection refused)";
	case PROBE_ST_BLOCKED:
		return "no answer: probably blocked by your network (or a "
		       "firewall drops it)";
	case PROBE_ST_UNREACHABLE:
		return "unreachable";
	case PROBE_ST_SILENT:
		return "connected, but the server sent no greeting in time";
	case PROBE_ST_FAILED:
		return "failed";
	case PROBE_ST_PENDING:
		break;
	}
	return "not probed";
}

static void text_list(FILE *fp, const char *label, const struct probe_list *l)
{
	fprintf(fp, "  %s: ", label);
	if (l->n == 0)
		fputs("none", fp);
	for (size_t i = 0; i < l->n; i++)
		fprintf(fp, "%s%s", i > 0 ? ", " : "", l->v[i]);
	fputc('\n', fp);
}

static void text_tls(FILE *fp, const struct probe_target *t, long long now)
{
	const struct probe_tls *s = &t->tls;
	char date[32];

	fprintf(fp, "  TLS: %s, %s, %s\n", probe_tls_mode_name(t->role->tls),
		s->version, s->cipher);
	fprintf(fp, "  certificate: %s\n", s->subject ? s->subject : "?");
	fprintf(fp, "    names: %s\n", s->sans ? s->sans : "none");
	fprintf(fp, "    issuer: %s\n", s->issuer ? s->issuer : "?");
	fmt_time(date, sizeof(date), s->not_after, false);
	if (s->not_after != 0)
		fprintf(fp, "    valid until: %s (%s)\n", date,
			now > s->not_after ? "EXPIRED" : "in date");
	fprintf(fp, "    matches %s: %s\n", t->host, s->name_ok ? "yes" : "NO");
	fprintf(fp, "    trusted: %s%s%s%s\n", s->chain_ok ? "yes" : "NO",
		s->chain_ok ? "" : " (",
		s->chain_ok ? "" : (s->chain_error ? s->chain_error : "?"),
		s->chain_ok ? "" : ")");
}

static const char *login_name(enum probe_login l)
{
	switch (l) {
	case PROBE_LOGIN_OK:
		return "ok";
	case PROBE_LOGIN_FAILED:
		return "failed";
	case PROBE_LOGIN_NO_TLS:
		return "no_tls";
	case PROBE_LOGIN_NOT_TRIED:
		break;
	}
	return "not_tried";
}

static void text_open(FILE *fp, const struct probe_target *t, long long now)
{
	bool smtp = t->role->proto == PROBE_SMTP;

	fprintf(fp, "  greeting: %s\n", t->greeting ? t->greeting : "");
	if (t->role->tls == PROBE_STARTTLS) {
		text_list(fp,
			  smtp ? "EHLO before TLS"
			       : "capabilities "
				 "before TLS",
			  &t->caps_plain);
		if (smtp)
			text_list(fp, "AUTH before TLS", &t->auth_plain);
		fprintf(fp, "  STARTTLS: %s\n",
			t->starttls ? "offered" : "NOT offered");
	}
	if (t->tls_error != NULL)
		fprintf(fp, "  TLS: failed (%s)\n", t->tls_error);
	if (t->tls.done) {
		text_tls(fp, t, now);
		text_list(fp,
			  smtp ? "EHLO after TLS"
			       : "capabilities "
				 "after TLS",
			  &t->caps_tls);
		if (smtp)
			text_list(fp, "AUTH after TLS", &t->auth_tls);
	}
	if (smtp && t->size)
		fprintf(fp, "  SIZE limit: %llu bytes\n",
			(unsigned long long)t->size_max);
	if (t->legacy >= 0)
		fprintf(fp, "  TLS 1.0/1.1: %s%s%s\n",
			t->legacy ? "ACCEPTED (" : "refused",
			t->legacy ? t->legacy_version : "",
			t->legacy ? ")" : "");
	if (t->login != PROBE_LOGIN_NOT_TRIED)
		fprintf(fp, "  login: %s%s%s\n", login_name(t->login),
			t->login_detail ? ": " : "",
			t->login_detail ? t->login_detail : "");
}

static void text_target(FILE *fp, const struct probe_target *t, long long now)
{
	fprintf(fp, "\nport %d (%s, %s) on %s [%s]", t->role->port,
		t->role->service, probe_tls_mode_name(t->role->tls), t->host,
		t->ip);
	if (t->port != t->role->port)
		fprintf(fp, " port %d", t->port);
	fprintf(fp, "%s: %s", t->mx ? " (MX)" : "", status_text(t));
	if (t->status != PROBE_ST_OPEN && t->detail != NULL)
		fprintf(fp, " (%s)", t->detail);
	fputc('\n', fp);
	if (t->status == PROBE_ST_OPEN)
		text_open(fp, t, now);
	for (size_t i = 0; i < t->warnings.n; i++)
		fprintf(fp, "  warning: %s\n", t->warnings.v[i]);
}

void probe_report_text(FILE *fp, const struct probe_run *run,
		       const struct probe_advice *a, long long now)
{
	struct probe_list advice = {0};
	int code = probe_exit_code(run);

	fprintf(fp, "postern probe %s%s\n", run->o->host,
		run->domain ? " (mail domain)" : "");
	if (run->note != NULL)
		fprintf(fp, "%s\n", run->note);
	if (run->error != NULL)
		fprintf(fp, "could not probe: %s\n", run->error);
	for (size_t i = 0; i < run->n; i++)
		text_target(fp, &run->t[i], now);
	if (run->n > 0) {
		fputs("\nrecommendation:\n", fp);
		probe_advice_text(run, a, &advice);
		for (size_t i = 0; i < advice.n; i++)
			fprintf(fp, "  %s\n", advice.v[i]);
		probe_list_free(&advice);
	}
	if (run->warnings.n > 0) {
		fprintf(fp, "\n%zu problem%s found:\n", run->warnings.n,
			run->warnings.n == 1 ? "" : "s");
		for (size_t i = 0; i < run->warnings.n; i++)
			fprintf(fp, "  - %s\n", run->warnings.v[i]);
	} else if (code == 0) {
		fputs("\nno problems found\n", fp);
	}
}

static void json_list(struct json_writer *w, const char *key,
		      const struct probe_list *l)
{
	json_array(w, key);
	for (size_t i = 0; i < l->n; i++)
		json_str(w, NULL, l->v[i]);
	json_end(w);
}

static void json_tls(struct json_writer *w, const struct probe_target *t,
		     long long now)
{
	const struct probe_tls *s = &t->tls;
	char date[32];

	if (!s->done) {
		json_null(w, "tls");
		return;
	}
	json_object(w, "tls");
	json_str(w, "mode",
		 t->role->tls == PROBE_IMPLICIT ? "implicit" : "starttls");
	json_str(w, "version", s->version);
	json_str(w, "cipher", s->cipher);
	json_str(w, "subject", s->subject);
	json_array(w, "sans");
	for (const char *p = s->sans; p != NULL && *p != '\0';) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		char *one = xstrndup(p, len);

		json_str(w, NULL, one);
		free(one);
		p = e ? e + 1 : p + len;
	}
	json_end(w);
	json_str(w, "issuer", s->issuer);
	fmt_time(date, sizeof(date), s->not_after, true);
	json_str(w, "not_after", s->not_after ? date : NULL);
	json_bool(w, "expired", s->not_after != 0 && now > s->not_after);
	json_bool(w, "name_match", s->name_ok);
	json_bool(w, "trusted", s->chain_ok);
	json_str(w, "verify_error", s->chain_error);
	json_end(w);
}

static void json_target(struct json_writer *w, const struct probe_target *t,
			long long now)
{
	bool smtp = t->role->proto == PROBE_SMTP;

	json_object(w, NULL);
	json_str(w, "host", t->host);
	json_str(w, "address", t->ip);
	json_int(w, "port", t->port);
	json_int(w, "role", t->role->port);
	json_str(w, "service", t->role->service);
	json_str(w, "protocol",
		 smtp ? "smtp"
		      : (t->role->proto == PROBE_IMAP ? "imap" : "pop3"));
	json_str(w, "tls_mode",
		 t->role->tls == PROBE_IMPLICIT ? "implicit" : "starttls");
	json_bool(w, "mx", t->mx);
	json_str(w, "status", probe_status_name(t->status));
	json_str(w, "detail", t->detail);
	json_str(w, "greeting", t->greeting);
	json_list(w, smtp ? "ehlo" : "capabilities", &t->caps_plain);
	json_list(w, smtp ? "ehlo_tls" : "capabilities_tls", &t->caps_tls);
	json_bool(w, "starttls", t->starttls);
	if (smtp) {
		if (t->size)
			json_int(w, "size_max", (long long)t->size_max);
		else
			json_null(w, "size_max");
	}
	json_list(w, "auth", &t->auth_plain);
	json_list(w, "auth_tls", &t->auth_tls);
	json_bool(w, "login_before_tls", t->login_plain);
	json_tls(w, t, now);
	json_str(w, "tls_error", t->tls_error);
	if (t->legacy < 0)
		json_null(w, "legacy_tls");
	else
		json_str(w, "legacy_tls", t->legacy ? t->legacy_version : "");
	json_str(w, "login", login_name(t->login));
	json_str(w, "login_detail", t->login_detail);
	json_list(w, "warnings", &t->warnings);
	json_end(w);
}

static void json_pick(struct json_writer *w, const char *key,
		      const struct probe_pick *p)
{
	if (p->t == NULL) {
		json_null(w, key);
		return;
	}
	json_object(w, key);
	json_str(w, "host", p->t->host);
	json_int(w, "port", p->t->port);
	json_int(w, "role", p->t->role->port);
	json_str(w, "tls",
		 p->t->role->tls == PROBE_IMPLICIT ? "implicit" : "starttls");
	json_end(w);
}

void probe_report_json(FILE *fp, const struct probe_run *run,
		       const struct probe_advice *a, long long now)
{
	struct json_writer w;
	struct probe_list advice = {0};

	json_init(&w, fp);
	json_object(&w, NULL);
	json_str(&w, "host", run->o->host);
	json_str(&w, "kind", run->domain ? "domain" : "host");
	json_bool(&w, "null_mx", run->null_mx);
	json_str(&w, "note", run->note);
	json_str(&w, "error", run->error);
	json_int(&w, "timeout", run->o->timeout_s);
	json_array(&w, "targets");
	for (size_t i = 0; i < run->n; i++)
		json_target(&w, &run->t[i], now);
	json_end(&w);
	json_object(&w, "recommendation");
	json_pick(&w, "submission", &a->submission);
	json_pick(&w, "imap", &a->imap);
	json_pick(&w, "pop3", &a->pop3);
	json_str(&w, "port25", probe_port25_name(a->port25));
	probe_advice_text(run, a, &advice);
	json_list(&w, "text", &advice);
	probe_list_free(&advice);
	json_end(&w);
	json_list(&w, "warnings", &run->warnings);
	json_int(&w, "exit", probe_exit_code(run));
	json_end(&w);
}
