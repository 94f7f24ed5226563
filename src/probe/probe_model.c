/*
 * The probe's shared model: port roles, status names, lists of cleaned
 * server text.
 */
#include "probe/probe.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/mem.h"

/* DESIGN.md 1; the report's order: sending, then reading. */
const struct probe_role probe_roles[] = {
	{587, "submission", PROBE_SMTP, PROBE_STARTTLS, true},
	{465, "submissions", PROBE_SMTP, PROBE_IMPLICIT, true},
	{2525, "submission", PROBE_SMTP, PROBE_STARTTLS, true},
	{25, "smtp", PROBE_SMTP, PROBE_STARTTLS, false},
	{993, "imaps", PROBE_IMAP, PROBE_IMPLICIT, false},
	{143, "imap", PROBE_IMAP, PROBE_STARTTLS, false},
	{995, "pop3s", PROBE_POP3, PROBE_IMPLICIT, false},
	{110, "pop3", PROBE_POP3, PROBE_STARTTLS, false},
};
const size_t probe_nroles = sizeof(probe_roles) / sizeof(probe_roles[0]);

const struct probe_role *probe_role_find(int port)
{
	for (size_t i = 0; i < probe_nroles; i++) {
		if (probe_roles[i].port == port)
			return &probe_roles[i];
	}
	return NULL;
}

const char *probe_tls_mode_name(enum probe_tls_mode m)
{
	return m == PROBE_IMPLICIT ? "implicit TLS" : "STARTTLS";
}

const char *probe_status_name(enum probe_status st)
{
	static const char *const names[] = {
		[PROBE_ST_PENDING] = "not_probed",
		[PROBE_ST_OPEN] = "open",
		[PROBE_ST_CLOSED] = "closed",
		[PROBE_ST_BLOCKED] = "blocked",
		[PROBE_ST_UNREACHABLE] = "unreachable",
		[PROBE_ST_SILENT] = "silent",
		[PROBE_ST_FAILED] = "failed",
	};

	if ((size_t)st >= sizeof(names) / sizeof(names[0]))
		return "?";
	return names[st];
}

char *probe_clean(const char *text, size_t len)
{
	char *s;

	if (len > PROBE_TEXT_MAX - 1)
		len = PROBE_TEXT_MAX - 1;
	/* Not xstrndup(): a NUL inside must become '?', not end it. */
	s = xmalloc(len + 1);
	memcpy(s, text, len);
	s[len] = '\0';
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch < 0x20 || ch == 0x7f)
			s[i] = '?';
	}
	return s;
}

void probe_list_add(struct probe_list *l, const char *text, size_t len)
{
	if (l->n >= PROBE_LIST_MAX)
		return;
	l->v[l->n++] = probe_clean(text, len);
}

void probe_list_addf(struct probe_list *l, const char *fmt, ...)
{
	va_list ap;
	char buf[PROBE_TEXT_MAX];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	probe_list_add(l, buf, strlen(buf));
}

bool probe_list_has(const struct probe_list *l, const char *s)
{
	size_t n = strlen(s);

	for (size_t i = 0; i < l->n; i++) {
		if (strncasecmp(l->v[i], s, n) == 0 &&
		    (l->v[i][n] == '\0' || l->v[i][n] == ' '))
			return true;
	}
	return false;
}

void probe_list_free(struct probe_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	l->n = 0;
}

static void probe_tls_free(struct probe_tls *t)
{
	free(t->subject);
	free(t->sans);
	free(t->issuer);
	free(t->chain_error);
	memset(t, 0, sizeof(*t));
}

void probe_target_free_fields(struct probe_target *t)
{
	free(t->host);
	free(t->detail);
	free(t->greeting);
	probe_list_free(&t->caps_plain);
	probe_list_free(&t->caps_tls);
	probe_list_free(&t->auth_plain);
	probe_list_free(&t->auth_tls);
	probe_tls_free(&t->tls);
	free(t->tls_error);
	free(t->login_detail);
	probe_list_free(&t->warnings);
	memset(t, 0, sizeof(*t));
}

void probe_target_legacy(struct probe_target *t, const char *version)
{
	t->legacy = 1;
	strlcpy_p(t->legacy_version, version != NULL ? version : "TLSv1.x",
		  sizeof(t->legacy_version));
}
