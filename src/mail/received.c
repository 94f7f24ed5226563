/*
 * Received and Return-Path headers.
 *
 * SECURITY: HELO and reverse DNS text are peer-controlled; clean_name()
 * lets through only printable ASCII that cannot end a comment, escape, or
 * fake the date separator, and every field is length-capped, so the
 * header always has the shape written here.
 */
#include "mail/received.h"

#include <stdio.h>
#include <string.h>

/* RFC 5322 2.1.1: lines SHOULD be at most 78 characters. */
#define LINE_MAX_CHARS 78
/* Caps for fields other than HELO (a name or a path is never longer). */
#define NAME_CAP 255
#define SHORT_CAP 64
#define PATH_CAP 256
/* Cleaned text: a cap, the "..." marker and the NUL. */
#define FIELD_SIZE (PATH_CAP + 4)

struct out {
	char *buf;
	size_t size;
	size_t len;
	size_t line; /* characters on the current line */
	bool overflow;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->overflow || o->size - o->len <= n) {
		o->overflow = true;
		return;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
	o->line += n;
}

/* RFC 5322 2.2.3: fold by putting CRLF before the whitespace. */
static void fold(struct out *o)
{
	put(o, "\r\n\t", 3);
	o->line = 1;
}

/*
 * One word made of three parts, after a space; folded onto a new line
 * when the current one would pass LINE_MAX_CHARS. A word too long for any
 * line is written whole.
 */
static void word(struct out *o, const char *pre, const char *s,
		 const char *post)
{
	size_t n = strlen(pre) + strlen(s) + strlen(post);

	if (o->line > 1 && o->line + 1 + n > LINE_MAX_CHARS)
		fold(o);
	else
		put(o, " ", 1);
	put(o, pre, strlen(pre));
	put(o, s, strlen(s));
	put(o, post, strlen(post));
}

/* What clean() lets through; everything else becomes '?'. */
enum clean_mode {
	/* Printable ASCII but space, '(' ')' '\\' (they would end or escape
	 * the comment the text may sit in) and ';' (it ends the tokens before
	 * the date, RFC 5322 3.6.7). For names. */
	CLEAN_NAME,
	/* No control characters, nor the specials above or '<' '>'; space
	 * and UTF-8 stay (RFC 6531). For the "for" address. */
	CLEAN_ADDR,
	/* No control characters. For the Return-Path address. */
	CLEAN_TEXT,
};

static bool clean_ok(unsigned char c, enum clean_mode mode)
{
	if (c < 0x20 || c == 0x7f)
		return false;
	switch (mode) {
	case CLEAN_NAME:
		return c > 0x20 && c < 0x7f && strchr("()\\;", c) == NULL;
	case CLEAN_ADDR:
		return strchr("()\\;<>", c) == NULL;
	case CLEAN_TEXT:
		break;
	}
	return true;
}

/*
 * Copy at most max bytes of in to out (FIELD_SIZE bytes), replacing what
 * mode forbids with '?'; a longer input is cut and marked "...".
 */
static const char *clean(char *out, const char *in, size_t max,
			 enum clean_mode mode)
{
	size_t i;

	for (i = 0; i < max && in[i] != '\0'; i++) {
		char c = in[i];

		if (!clean_ok((unsigned char)c, mode))
			c = '?';
		out[i] = c;
	}
	if (in[i] != '\0') {
		memcpy(out + i, "...", 3);
		i += 3;
	}
	out[i] = '\0';
	return out;
}

const char *received_protocol(bool esmtp, bool tls, bool auth, bool utf8)
{
	/* Indexed by tls + 2 * auth. */
	static const char *const esmtp_names[] = {"ESMTP", "ESMTPS", "ESMTPA",
						  "ESMTPSA"};
	static const char *const utf8_names[] = {"UTF8SMTP", "UTF8SMTPS",
						 "UTF8SMTPA", "UTF8SMTPSA"};
	size_t i = (tls ? 1 : 0) + (auth ? 2 : 0);

	/* RFC 6531 4.3 */
	if (utf8)
		return utf8_names[i];
	/* RFC 3848 */
	if (!esmtp)
		return "SMTP";
	return esmtp_names[i];
}

size_t received_date(char *buf, size_t size, time_t when)
{
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed",
					   "Thu", "Fri", "Sat"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr",
					     "May", "Jun", "Jul", "Aug",
					     "Sep", "Oct", "Nov", "Dec"};
	struct tm tm;
	int n;

	if (size > 0)
		buf[0] = '\0';
	/* RFC 5322 3.3: a four-digit year at least 1900. */
	if (gmtime_r(&when, &tm) == NULL || tm.tm_year < 0 ||
	    tm.tm_year > 9999 - 1900 || tm.tm_wday < 0 || tm.tm_wday > 6 ||
	    tm.tm_mon < 0 || tm.tm_mon > 11)
		return 0;
	n = snprintf(buf, size, "%s, %d %s %d %02d:%02d:%02d +0000",
		     days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
		     tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
	if (n < 0 || (size_t)n >= size) {
		if (size > 0)
			buf[0] = '\0';
		return 0;
	}
	return (size_t)n;
}

/* "from <helo> (<rdns> [<ip>])": RFC 5321 4.4 From-domain, TCP-info. */
static void from_clause(struct out *o, const struct received_info *ri)
{
	char helo[FIELD_SIZE], rdns[FIELD_SIZE], ip[FIELD_SIZE];
	bool v6;

	const char *from = "unknown";

	if (ri->helo != NULL && ri->helo[0] != '\0')
		from = clean(helo, ri->helo, RECEIVED_HELO_MAX, CLEAN_NAME);
	/* Never fold between "from" and its domain: it reads as one. */
	put(o, "Received: from ", 15);
	put(o, from, strlen(from));
	if (ri->hide_ip || ri->peer_ip == NULL || ri->peer_ip[0] == '\0')
		return;
	clean(ip, ri->peer_ip, SHORT_CAP, CLEAN_NAME);
	/* RFC 5321 4.1.3: IPv6 address literals carry a tag. */
	v6 = strchr(ip, ':') != NULL;
	if (ri->peer_rdns != NULL && ri->peer_rdns[0] != '\0') {
		word(o, "(", clean(rdns, ri->peer_rdns, NAME_CAP, CLEAN_NAME),
		     "");
		word(o, v6 ? "[IPv6:" : "[", ip, "])");
	} else {
		word(o, v6 ? "([IPv6:" : "([", ip, "])");
	}
}

static void tls_clause(struct out *o, const struct received_info *ri)
{
	char version[FIELD_SIZE], cipher[FIELD_SIZE];

	if (ri->tls_version == NULL)
		return;
	fold(o);
	clean(version, ri->tls_version, SHORT_CAP, CLEAN_NAME);
	if (ri->tls_cipher == NULL) {
		put(o, "(using", 6);
		word(o, "", version, ")");
		return;
	}
	put(o, "(using", 6);
	word(o, "", version, "");
	word(o, "", "with", "");
	word(o, "", "cipher", "");
	word(o, "", clean(cipher, ri->tls_cipher, SHORT_CAP, CLEAN_NAME), ")");
}

/* "by <host> (postern) with <proto> id <id>", then ";" when no "for". */
static void by_clause(struct out *o, const struct received_info *ri)
{
	char host[FIELD_SIZE], proto[FIELD_SIZE], id[FIELD_SIZE];
	const char *semi = ri->for_rcpt == NULL ? ";" : "";
	bool has_proto = ri->protocol != NULL && ri->protocol[0] != '\0';
	bool has_id = ri->id != NULL && ri->id[0] != '\0';

	fold(o);
	put(o, "by", 2);
	word(o, "",
	     clean(host, ri->by_host != NULL ? ri->by_host : "localhost",
		   NAME_CAP, CLEAN_NAME),
	     "");
	word(o, "", "(postern)", has_proto || has_id ? "" : semi);
	if (has_proto) {
		word(o, "", "with", "");
		word(o, "", clean(proto, ri->protocol, SHORT_CAP, CLEAN_NAME),
		     has_id ? "" : semi);
	}
	if (has_id) {
		word(o, "", "id", "");
		word(o, "", clean(id, ri->id, SHORT_CAP, CLEAN_NAME), semi);
	}
}

size_t received_format(char *buf, size_t size, const struct received_info *ri)
{
	struct out o = {.buf = buf, .size = size};
	char rcpt[FIELD_SIZE], date[64];

	if (size > 0)
		buf[0] = '\0';
	if (received_date(date, sizeof(date), ri->when) == 0)
		return 0;
	from_clause(&o, ri);
	tls_clause(&o, ri);
	by_clause(&o, ri);
	if (ri->for_rcpt != NULL) {
		fold(&o);
		put(&o, "for", 3);
		word(&o, "<", clean(rcpt, ri->for_rcpt, PATH_CAP, CLEAN_ADDR),
		     ">;");
	}
	word(&o, "", date, "");
	put(&o, "\r\n", 2);
	if (o.overflow) {
		if (size > 0)
			buf[0] = '\0';
		return 0;
	}
	return o.len;
}

size_t received_return_path(char *buf, size_t size, const char *sender)
{
	char clean_sender[FIELD_SIZE];
	int n;

	if (size > 0)
		buf[0] = '\0';
	n = snprintf(buf, size, "Return-Path: <%s>\r\n",
		     clean(clean_sender, sender != NULL ? sender : "", PATH_CAP,
			   CLEAN_TEXT));
	if (n < 0 || (size_t)n >= size) {
		if (size > 0)
			buf[0] = '\0';
		return 0;
	}
	return (size_t)n;
}

void received_hops_feed(struct received_hops *h, const char *p, size_t n)
{
	static const char lower[] = "received:", upper[] = "RECEIVED:";

	for (size_t i = 0; i < n && !h->done; i++) {
		char c = p[i];

		if (c == '\n') {
			/* An empty line (CRLF alone) ends the header block. */
			h->done = h->cr;
			h->mid_line = h->mismatch = h->cr = false;
			h->matched = 0;
			continue;
		}
		h->cr = !h->mid_line && c == '\r';
		h->mid_line = true;
		if (h->mismatch)
			continue;
		if (c != lower[h->matched] && c != upper[h->matched]) {
			h->mismatch = true;
			continue;
		}
		if (++h->matched == sizeof(lower) - 1) {
			h->count++;
			h->mismatch = true; /* the rest is the field's value */
		}
	}
}
