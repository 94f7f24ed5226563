/*
 * Delivery status notifications: policy and composition.
 *
 * SECURITY: every value that reaches the output goes through clean()
 * first, which lets no CR, LF or other control character through and caps
 * the length; put_folded() then keeps every line within 998 octets. The
 * returned original is copied only when it is CRLF text with short lines,
 * and the MIME boundary is checked against every part, so the original
 * and the remote diagnostic cannot end a part early or forge one.
 */
#include "mail/dsn.h"

#include <assert.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lib/buf.h"
#include "lib/log.h"
#include "lib/utf8.h"
#include "mail/header.h"

/* RFC 5322 2.1.1: lines SHOULD be at most 78, MUST be at most 998. */
#define LINE_SOFT 78
#define LINE_HARD 998
/* Cleaned text: the cap, "..." and the NUL. */
#define CLEAN_EXTRA 4
#define ADDR_SIZE (DSN_ADDRESS_MAX + CLEAN_EXTRA)
#define HOST_SIZE (DSN_HOST_MAX + CLEAN_EXTRA)
#define DIAG_SIZE (DSN_DIAGNOSTIC_MAX + CLEAN_EXTRA)
/* An ORCPT addr-type is a short atom ("rfc822", "utf-8"). */
#define TYPE_SIZE (32 + CLEAN_EXTRA)
/* Seed octets used in the boundary; the boundary stays under 70 (RFC
 * 2046 5.1.1). */
#define SEED_MAX 40
#define BOUNDARY_SIZE 72
/* Boundaries tried against the returned original before it is cut down:
 * only a crafted original collides even once. */
#define BOUNDARY_TRIES 16
/* Output bound besides the returned original: fixed text, and per
 * recipient both parts with every field at its cap and folded. */
#define BOUND_FIXED ((size_t)64 * 1024)
#define BOUND_RCPT ((size_t)16 * 1024)

bool dsn_wanted(unsigned notify_bits, enum dsn_action action,
		const char *sender)
{
	unsigned need;

	/* RFC 3461 6.1, RFC 5321 4.5.5: nothing goes back to <>. */
	if (sender == NULL || sender[0] == '\0')
		return false;
	notify_bits &= DSN_NOTIFY_ALL;
	/* RFC 3461 4.1: NEVER must stand alone; if not, it still wins. */
	if ((notify_bits & DSN_NOTIFY_NEVER) != 0)
		return false;
	/* RFC 3461 4.1: no NOTIFY may be read as FAILURE,DELAY. */
	if (notify_bits == 0)
		notify_bits = DSN_NOTIFY_FAILURE | DSN_NOTIFY_DELAY;
	switch (action) {
	case DSN_FAILED:
		need = DSN_NOTIFY_FAILURE;
		break;
	case DSN_DELAYED:
		need = DSN_NOTIFY_DELAY;
		break;
	case DSN_DELIVERED:
	case DSN_RELAYED:
	case DSN_EXPANDED:
		need = DSN_NOTIFY_SUCCESS;
		break;
	default:
		return false;
	}
	return (notify_bits & need) != 0;
}

/* ------------------------------------------------------------------ */
/* Cleaning untrusted values                                          */

enum clean_mode {
	/* Free text: controls and runs of white space become one space,
	 * 8-bit octets '?', no space at either end. */
	CLEAN_TEXT,
	/* An address: printable ASCII and space kept, the rest '?'. */
	CLEAN_ADDR,
	/* An address that may be UTF-8 (RFC 6531): as CLEAN_ADDR, and
	 * well-formed UTF-8 sequences kept. */
	CLEAN_ADDR_UTF8,
	/* A token (host, status, type): octets 33..126 kept, the rest '?'. */
	CLEAN_TOKEN,
};

static bool has_8bit(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] >= 0x80)
			return true;
	return false;
}

static bool utf8_valid(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		size_t n = 1;

		if (u[i] >= 0x80 && (n = utf8_seq(u + i, len - i)) == 0)
			return false;
		i += n;
	}
	return true;
}

/* Length of the character at s (a UTF-8 sequence when allowed), or 0
 * when it must be replaced. */
static size_t clean_char(const unsigned char *s, size_t len,
			 enum clean_mode mode)
{
	if (s[0] > 0x20 && s[0] < 0x7f)
		return 1;
	if (s[0] == ' ')
		return mode == CLEAN_TOKEN ? 0 : 1;
	if (s[0] >= 0x80 && mode == CLEAN_ADDR_UTF8)
		return utf8_seq(s, len);
	return 0;
}

/*
 * Copy src[0..len) into dst (size > CLEAN_EXTRA) cleaned as mode says,
 * cut to size - CLEAN_EXTRA octets with "..." appended when longer (never
 * inside a UTF-8 sequence). Returns dst.
 */
static const char *clean(char *dst, size_t size, const char *src, size_t len,
			 enum clean_mode mode)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t cap = size - CLEAN_EXTRA, o = 0, i = 0;

	assert(size > CLEAN_EXTRA);
	while (i < len) {
		size_t n = clean_char(s + i, len - i, mode);

		if (mode == CLEAN_TEXT && (n == 0 || s[i] == ' ') &&
		    s[i] < 0x80) {
			/* RFC 3461 9.2: the lines of a reply join with a
			 * space. */
			if (o > 0 && dst[o - 1] != ' ' && o < cap)
				dst[o++] = ' ';
			i++;
			continue;
		}
		if (o + (n == 0 ? 1 : n) > cap)
			break;
		if (n == 0) {
			dst[o++] = '?';
			n = 1;
		} else {
			memcpy(dst + o, s + i, n);
			o += n;
		}
		i += n;
	}
	if (mode == CLEAN_TEXT && o > 0 && dst[o - 1] == ' ')
		o--;
	if (i < len) {
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o] = '\0';
	return dst;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * RFC 3461 4: decode xtext ("+2B" is '+') into dst, at most size - 1
 * octets. A '+' not followed by two hex digits is kept as it is. Returns
 * the length; NUL octets are never produced.
 */
static size_t xtext_decode(char *dst, size_t size, const char *src)
{
	size_t o = 0;

	while (*src != '\0' && o + 1 < size) {
		int hi, lo;

		if (src[0] == '+' && (hi = hexval(src[1])) >= 0 &&
		    (lo = hexval(src[2])) >= 0 && (hi | lo) != 0) {
			dst[o++] = (char)(hi << 4 | lo);
			src += 3;
		} else {
			dst[o++] = *src++;
		}
	}
	dst[o] = '\0';
	return o;
}

/* ------------------------------------------------------------------ */
/* Output with line lengths                                           */

struct out {
	struct buf b;
	size_t col; /* octets on the current line */
};

static void out_init(struct out *o, size_t max)
{
	buf_init(&o->b, max);
	o->col = 0;
}

/* s holds no CR or LF. The bound is computed from the caps, so passing
 * it is a bug. */
static void put(struct out *o, const char *s, size_t n)
{
	if (buf_append(&o->b, s, n) < 0)
		panic("dsn: message over its computed bound");
	o->col += n;
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void put_crlf(struct out *o)
{
	put(o, "\r\n", 2);
	o->col = 0;
}

static void putf(struct out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void putf(struct out *o, const char *fmt, ...)
{
	size_t before = buf_len(&o->b);
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = buf_vprintf(&o->b, fmt, ap);
	va_end(ap);
	if (rc < 0)
		panic("dsn: message over its computed bound");
	o->col += buf_len(&o->b) - before;
}

/* Start a continuation line: indent NULL folds a header field (RFC 5322
 * 2.2.3: CRLF before the white space, which stays), else text indent. */
static void fold(struct out *o, const char *indent, size_t spaces)
{
	put_crlf(o);
	if (indent != NULL)
		puts_(o, indent);
	else if (spaces > 0)
		put(o, "                ", spaces < 16 ? spaces : 16);
	else
		put(o, " ", 1);
}

/*
 * Write text (cleaned: no control characters) after the current column,
 * a space before it when lead, then CRLF. A word that would pass column
 * LINE_SOFT goes to a continuation line; a word that would pass LINE_HARD
 * is cut there (only a cleaned diagnostic can hold one).
 */
static void put_folded(struct out *o, const char *text, bool lead,
		       const char *indent)
{
	size_t base = indent != NULL ? strlen(indent) : 1;
	const char *p = text;

	while (*p != '\0') {
		size_t sp = strspn(p, " "), wlen;
		const char *w = p + sp;

		if (*w == '\0')
			break;
		if (lead && sp == 0)
			sp = 1;
		lead = false;
		wlen = strcspn(w, " ");
		if (o->col > base && o->col + sp + wlen > LINE_SOFT)
			fold(o, indent, sp);
		else
			put(o, "                ", sp < 16 ? sp : 16);
		while (o->col + wlen > LINE_HARD) {
			size_t n = LINE_HARD - o->col;

			put(o, w, n);
			w += n;
			wlen -= n;
			fold(o, indent, 0);
		}
		put(o, w, wlen);
		p = w + wlen;
	}
	put_crlf(o);
}

/* "Name: value" (value cleaned), folded, CRLF. */
static void put_field(struct out *o, const char *name, const char *value)
{
	puts_(o, name);
	put(o, ":", 1);
	put_folded(o, value, true, NULL);
}

/* "Name: type;value": RFC 3464 2.1.2 "*-type" fields. */
static void put_typed(struct out *o, const char *name, const char *type,
		      const char *value)
{
	putf(o, "%s: %s;", name, type);
	put_folded(o, value, true, NULL);
}

/* RFC 5322 3.3 date; false (nothing written) when t is out of range. */
static bool put_date(struct out *o, const char *name, time_t t)
{
	char date[HEADER_DATE_SIZE];

	if (header_date_format(date, sizeof(date), t) == 0)
		return false;
	putf(o, "%s: %s", name, date);
	put_crlf(o);
	return true;
}

/* ------------------------------------------------------------------ */
/* What goes into the report                                          */

enum ret_kind { RET_NONE, RET_HEADERS, RET_FULL };

struct ctx {
	const struct dsn_report *r;
	/* RFC 6533: an address has 8-bit octets. */
	bool global;
	bool any_failed;
	bool any_delayed;
	char mta[HOST_SIZE];
	enum ret_kind ret;
	size_t header_len; /* of the original's header, CRLFs included */
};

/* One recipient's values, cleaned. */
struct rcpt_text {
	char addr[ADDR_SIZE];
	const char *addr_type;
	char orcpt_type[TYPE_SIZE]; /* "" without ORCPT */
	char orcpt[ADDR_SIZE];
	char status[16];
	char remote[HOST_SIZE]; /* "" without a remote MTA */
	char diag[DIAG_SIZE];	/* "" without a diagnostic */
	const char *diag_type;
};

/* RFC 3464 2.3.4: class "." 1*3DIGIT "." 1*3DIGIT, no leading zeros;
 * RFC 3463 2: the class is 2, 4 or 5. */
static bool status_valid(const char *s)
{
	if ((s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.')
		return false;
	s += 2;
	for (int part = 0; part < 2; part++) {
		size_t n = strspn(s, "0123456789");

		if (n == 0 || n > 3 || (n > 1 && s[0] == '0'))
			return false;
		s += n;
		if (part == 0 && *s++ != '.')
			return false;
	}
	return *s == '\0';
}

static const char *status_default(enum dsn_action a)
{
	/* RFC 3461 6.3 g */
	switch (a) {
	case DSN_FAILED:
		return "5.0.0";
	case DSN_DELAYED:
		return "4.0.0";
	default:
		return "2.0.0";
	}
}

/* An SMTP reply starts with its code (RFC 5321 4.2); anything else is
 * our own text, which "smtp" (RFC 3461 9.2) cannot carry. */
static const char *diag_type(const char *d)
{
	if (d[0] >= '2' && d[0] <= '5' && d[1] >= '0' && d[1] <= '9' &&
	    d[2] >= '0' && d[2] <= '9' &&
	    (d[3] == ' ' || d[3] == '-' || d[3] == '\0'))
		return "smtp";
	return "X-Postern";
}

/* RFC 3461 4.2 ORCPT "addr-type;xtext" into its type and address. */
static void orcpt_text(struct rcpt_text *t, const char *orcpt, bool global)
{
	char raw[2 * DSN_ADDRESS_MAX];
	const char *semi = strchr(orcpt, ';');
	const char *value = semi != NULL ? semi + 1 : orcpt;
	size_t n;

	if (semi == NULL)
		/* RFC 3464 2.3.1 */
		clean(t->orcpt_type, sizeof(t->orcpt_type), "unknown", 7,
		      CLEAN_TOKEN);
	else
		clean(t->orcpt_type, sizeof(t->orcpt_type), orcpt,
		      (size_t)(semi - orcpt), CLEAN_TOKEN);
	/* RFC 6533 3: utf-8-addr-xtext and -unitext are the DSN form as
	 * well; they hold no xtext "+XX". */
	if (strcasecmp(t->orcpt_type, "utf-8") == 0) {
		clean(t->orcpt, sizeof(t->orcpt), value, strlen(value),
		      global ? CLEAN_ADDR_UTF8 : CLEAN_ADDR);
		return;
	}
	/* A decoded value past sizeof(raw) is past the cap too, so clean()
	 * still marks the cut. */
	n = xtext_decode(raw, sizeof(raw), value);
	clean(t->orcpt, sizeof(t->orcpt), raw, n, CLEAN_ADDR);
}

static void rcpt_text(struct rcpt_text *t, const struct dsn_rcpt *rc,
		      bool global)
{
	const char *a = rc->address != NULL ? rc->address : "";

	clean(t->addr, sizeof(t->addr), a, strlen(a),
	      global ? CLEAN_ADDR_UTF8 : CLEAN_ADDR);
	/* RFC 6533 3: the utf-8 type only for an address that needs it. */
	t->addr_type = has_8bit(t->addr, strlen(t->addr)) ? "utf-8" : "rfc822";
	t->orcpt_type[0] = t->orcpt[0] = '\0';
	if (rc->orcpt != NULL && rc->orcpt[0] != '\0')
		orcpt_text(t, rc->orcpt, global);
	if (rc->status != NULL && status_valid(rc->status))
		clean(t->status, sizeof(t->status), rc->status,
		      strlen(rc->status), CLEAN_TOKEN);
	else
		clean(t->status, sizeof(t->status), status_default(rc->action),
		      5, CLEAN_TOKEN);
	t->remote[0] = '\0';
	if (rc->remote_mta != NULL)
		clean(t->remote, sizeof(t->remote), rc->remote_mta,
		      strlen(rc->remote_mta), CLEAN_TOKEN);
	t->diag[0] = '\0';
	if (rc->diagnostic != NULL)
		clean(t->diag, sizeof(t->diag), rc->diagnostic,
		      strlen(rc->diagnostic), CLEAN_TEXT);
	t->diag_type = diag_type(t->diag);
}

static const char *action_name(enum dsn_action a)
{
	/* RFC 3464 2.3.3 */
	switch (a) {
	case DSN_FAILED:
		return "failed";
	case DSN_DELAYED:
		return "delayed";
	case DSN_DELIVERED:
		return "delivered";
	case DSN_RELAYED:
		return "relayed";
	case DSN_EXPANDED:
		return "expanded";
	}
	panic("dsn: action %d", (int)a);
}

static const char *action_phrase(enum dsn_action a)
{
	switch (a) {
	case DSN_FAILED:
		return "delivery failed";
	case DSN_DELAYED:
		return "not delivered yet, still being retried";
	case DSN_DELIVERED:
		return "delivered";
	case DSN_RELAYED:
		return "relayed to a server that sends no delivery reports";
	case DSN_EXPANDED:
		return "delivered, and forwarded to further addresses";
	}
	panic("dsn: action %d", (int)a);
}

/* Octets of the header fields of message m, their CRLFs included, not
 * the empty line that ends them (RFC 5322 2.1); all of m without one. */
static size_t header_block_len(const char *m, size_t len)
{
	const char *end;

	if (len >= 2 && m[0] == '\r' && m[1] == '\n')
		return 0;
	end = memmem(m, len, "\r\n\r\n", 4);
	return end != NULL ? (size_t)(end - m) + 2 : len;
}

/* Text the 8bit transfer encoding can carry (RFC 2045 2.8): no NUL, no
 * lone CR or LF, lines of at most 998 octets. */
static bool returnable(const char *s, size_t len)
{
	size_t line = 0;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\r') {
			if (i + 1 >= len || s[i + 1] != '\n')
				return false;
			i++;
			line = 0;
		} else if (s[i] == '\n' || s[i] == '\0' || ++line > LINE_HARD) {
			return false;
		}
	}
	return true;
}

/* Return the header only, or nothing when the header cannot go either. */
static void return_less(struct ctx *c)
{
	if (c->ret == RET_FULL && c->header_len > 0 &&
	    returnable(c->r->original, c->header_len))
		c->ret = RET_HEADERS;
	else
		c->ret = RET_NONE;
}

static size_t return_len(const struct ctx *c)
{
	switch (c->ret) {
	case RET_FULL:
		return c->r->original_len;
	case RET_HEADERS:
		return c->header_len;
	default:
		return 0;
	}
}

static void choose_return(struct ctx *c)
{
	const struct dsn_report *r = c->r;

	c->ret = RET_NONE;
	c->header_len = 0;
	if (r->original == NULL || r->original_len == 0)
		return;
	c->header_len = header_block_len(r->original, r->original_len);
	/* RFC 3461 4.3: RET=FULL counts only when a recipient failed;
	 * 6.2: past an implementation limit the header is enough. */
	if (r->return_full && c->any_failed &&
	    (r->max_return == 0 || r->original_len <= r->max_return) &&
	    returnable(r->original, r->original_len))
		c->ret = RET_FULL;
	else if (c->header_len > 0 && returnable(r->original, c->header_len))
		c->ret = RET_HEADERS;
}

static void ctx_init(struct ctx *c, const struct dsn_report *r)
{
	const char *mta =
		r->reporting_mta[0] != '\0' ? r->reporting_mta : "localhost";

	memset(c, 0, sizeof(*c));
	c->r = r;
	for (size_t i = 0; i < r->nrcpts; i++) {
		const struct dsn_rcpt *rc = &r->rcpts[i];

		assert(rc->address != NULL);
		c->any_failed |= rc->action == DSN_FAILED;
		c->any_delayed |= rc->action == DSN_DELAYED;
		/* RFC 6533: what part 2 holds decides its type. */
		if ((rc->address != NULL &&
		     has_8bit(rc->address, strlen(rc->address))) ||
		    (rc->orcpt != NULL &&
		     has_8bit(rc->orcpt, strlen(rc->orcpt))))
			c->global = true;
	}
	clean(c->mta, sizeof(c->mta), mta, strlen(mta), CLEAN_TOKEN);
	choose_return(c);
}

/* ------------------------------------------------------------------ */
/* The parts                                                          */

/* One line of text at the current column, folded under indent. */
static void text_line(struct out *o, const char *indent, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void text_line(struct out *o, const char *indent, const char *fmt, ...)
{
	char line[ADDR_SIZE + DIAG_SIZE + HOST_SIZE + 64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	puts_(o, indent);
	put_folded(o, line, false, indent);
}

static void human_rcpt(struct out *o, const struct dsn_rcpt *rc,
		       const struct rcpt_text *t)
{
	char date[HEADER_DATE_SIZE];

	text_line(o, "", "<%s>: %s (status %s)", t->addr,
		  action_phrase(rc->action), t->status);
	if (t->orcpt_type[0] != '\0')
		text_line(o, "    ", "Original recipient: %s", t->orcpt);
	if (t->diag[0] != '\0' && t->remote[0] != '\0')
		text_line(o, "    ", "%s said: %s", t->remote, t->diag);
	else if (t->diag[0] != '\0')
		text_line(o, "    ", "Reason: %s", t->diag);
	else if (t->remote[0] != '\0')
		text_line(o, "    ", "Remote server: %s", t->remote);
	if (rc->action == DSN_DELAYED && rc->will_retry_until != 0 &&
	    header_date_format(date, sizeof(date), rc->will_retry_until) > 0)
		text_line(o, "    ", "Delivery will be tried until %s.", date);
	put_crlf(o);
}

/* Part 1 (RFC 6522 3): for a person. The sentence on the returned
 * message is added at assembly, once the boundary check settled it. */
static void human_part(struct out *o, const struct ctx *c)
{
	struct rcpt_text t;

	text_line(o, "", "This is the mail delivery system at %s.", c->mta);
	put_crlf(o);
	if (c->any_failed) {
		puts_(o, "Your message could not be delivered to one or more "
			 "of its recipients.");
		put_crlf(o);
		puts_(o, "The mail system has given up on them; the reasons "
			 "are below.");
	} else if (c->any_delayed) {
		puts_(o, "Your message has not been delivered yet to one or "
			 "more of its recipients.");
		put_crlf(o);
		puts_(o, "The mail system keeps trying; you need not send it "
			 "again.");
	} else {
		puts_(o, "This is the delivery report on your message that "
			 "you asked for.");
	}
	put_crlf(o);
	put_crlf(o);
	for (size_t i = 0; i < c->r->nrcpts; i++) {
		rcpt_text(&t, &c->r->rcpts[i], c->global);
		human_rcpt(o, &c->r->rcpts[i], &t);
	}
}

static void status_rcpt(struct out *o, const struct dsn_rcpt *rc,
			const struct rcpt_text *t)
{
	/* RFC 3464 2.3, in its order; RFC 3461 6.3 d-i. */
	put_crlf(o);
	if (t->orcpt_type[0] != '\0')
		put_typed(o, "Original-Recipient", t->orcpt_type, t->orcpt);
	put_typed(o, "Final-Recipient", t->addr_type, t->addr);
	put_field(o, "Action", action_name(rc->action));
	put_field(o, "Status", t->status);
	if (t->remote[0] != '\0')
		put_typed(o, "Remote-MTA", "dns", t->remote);
	if (t->diag[0] != '\0')
		put_typed(o, "Diagnostic-Code", t->diag_type, t->diag);
	/* RFC 3464 2.3.7: left out when not known. */
	if (rc->last_attempt != 0)
		put_date(o, "Last-Attempt-Date", rc->last_attempt);
	if (rc->action == DSN_DELAYED && rc->will_retry_until != 0)
		put_date(o, "Will-Retry-Until", rc->will_retry_until);
}

/* Part 2: message/delivery-status (RFC 3464 2.1). */
static void status_part(struct out *o, const struct ctx *c)
{
	const struct dsn_report *r = c->r;
	struct rcpt_text t;

	/* RFC 3461 6.3 a: present exactly when ENVID was, decoded. */
	if (r->envid != NULL && r->envid[0] != '\0') {
		char raw[2 * DSN_ADDRESS_MAX], envid[ADDR_SIZE];
		size_t n = xtext_decode(raw, sizeof(raw), r->envid);

		put_field(o, "Original-Envelope-Id",
			  clean(envid, sizeof(envid), raw, n, CLEAN_ADDR));
	}
	/* RFC 3461 6.3 b: "dns" only for a fully qualified name. */
	put_typed(o, "Reporting-MTA",
		  strchr(c->mta, '.') != NULL || c->mta[0] == '['
			  ? "dns"
			  : "x-local-hostname",
		  c->mta);
	if (r->arrival != 0)
		put_date(o, "Arrival-Date", r->arrival);
	for (size_t i = 0; i < r->nrcpts; i++) {
		rcpt_text(&t, &r->rcpts[i], c->global);
		status_rcpt(o, &r->rcpts[i], &t);
	}
}

/* ------------------------------------------------------------------ */
/* Assembly                                                           */

static bool holds(const struct out *o, const char *s)
{
	return memmem(buf_data(&o->b), buf_len(&o->b), s, strlen(s)) != NULL;
}

/* The seed's letters, digits, '-' and '_' (MIME bchars that are also
 * RFC 5322 atext), at most SEED_MAX; "dsn" when none. */
static void seed_clean(char *dst, const char *seed)
{
	size_t o = 0;

	for (; seed != NULL && *seed != '\0' && o < SEED_MAX; seed++)
		if ((*seed >= 'a' && *seed <= 'z') ||
		    (*seed >= 'A' && *seed <= 'Z') ||
		    (*seed >= '0' && *seed <= '9') || *seed == '-' ||
		    *seed == '_')
			dst[o++] = *seed;
	dst[o] = '\0';
	if (o == 0)
		memcpy(dst, "dsn", 4);
}

/*
 * RFC 2046 5.1.1: the boundary must not occur in any part. "=_" cannot
 * occur in base64 or quoted-printable text, and a seed the original's
 * author does not know makes a collision improbable; a crafted original
 * that still holds BOUNDARY_TRIES candidates is cut down to its header,
 * then left out. Parts 1 and 2 are bounded, so the loop ends.
 */
static void choose_boundary(struct ctx *c, const struct out *human,
			    const struct out *status, const char *seed,
			    char *boundary)
{
	unsigned i = 0;

	for (;;) {
		if (i == 0)
			snprintf(boundary, BOUNDARY_SIZE, "=_dsn_%s", seed);
		else
			snprintf(boundary, BOUNDARY_SIZE, "=_dsn_%s_%u", seed,
				 i);
		if (holds(human, boundary) || holds(status, boundary)) {
			i++;
			continue;
		}
		if (c->ret == RET_NONE ||
		    memmem(c->r->original, return_len(c), boundary,
			   strlen(boundary)) == NULL)
			return;
		if (i + 1 >= BOUNDARY_TRIES)
			return_less(c);
		else
			i++;
	}
}

static void put_part_head(struct out *o, const char *boundary, const char *type,
			  const char *desc, bool eightbit)
{
	/* RFC 2046 5.1.1: the CRLF before "--" belongs to the delimiter. */
	put_crlf(o);
	putf(o, "--%s", boundary);
	put_crlf(o);
	putf(o, "Content-Type: %s", type);
	put_crlf(o);
	putf(o, "Content-Description: %s", desc);
	put_crlf(o);
	if (eightbit) {
		/* RFC 6522 3, RFC 6532 3.7: not re-encoded. */
		puts_(o, "Content-Transfer-Encoding: 8bit");
		put_crlf(o);
	}
	put_crlf(o);
}

static const char *subject(const struct ctx *c)
{
	if (c->any_failed)
		return "Undelivered Mail Returned to Sender";
	if (c->any_delayed)
		return "Delayed Mail (still being retried)";
	return "Successful Mail Delivery Report";
}

/* Message-ID (RFC 5322 3.6.4): now, the seed and the kind of report;
 * left out only when neither domain is a valid one. */
static void put_message_id(struct out *o, const struct ctx *c, time_t now,
			   const char *seed)
{
	const char *dom = c->r->message_id_domain;
	char unique[SEED_MAX + 32], id[HOST_SIZE + sizeof(unique) + 4];

	snprintf(unique, sizeof(unique), "%lld.%s.%c", (long long)now, seed,
		 c->any_failed	  ? 'f'
		 : c->any_delayed ? 'd'
				  : 's');
	if ((dom != NULL && dom[0] != '\0' &&
	     header_message_id(id, sizeof(id), unique, dom) > 0) ||
	    header_message_id(id, sizeof(id), unique, c->mta) > 0) {
		putf(o, "Message-ID: %s", id);
		put_crlf(o);
	}
}

static void put_headers(struct out *o, const struct ctx *c, time_t now,
			const char *seed, const char *boundary, bool eightbit)
{
	const char *s = c->r->sender;
	char to[ADDR_SIZE];

	/* RFC 3464 2: From a person responsible; To the envelope sender. */
	putf(o, "From: Mail Delivery System <MAILER-DAEMON@%s>", c->mta);
	put_crlf(o);
	clean(to, sizeof(to), s, strlen(s), CLEAN_ADDR_UTF8);
	putf(o, "To: <%s>", to);
	put_crlf(o);
	putf(o, "Subject: %s", subject(c));
	put_crlf(o);
	if (!put_date(o, "Date", now))
		put_date(o, "Date", 0);
	put_message_id(o, c, now, seed);
	/* RFC 3834 5 */
	puts_(o, "Auto-Submitted: auto-replied");
	put_crlf(o);
	puts_(o, "MIME-Version: 1.0");
	put_crlf(o);
	/* RFC 6522 3: report-type is the subtype of part 2. */
	putf(o, "Content-Type: multipart/report; report-type=%s;",
	     c->global ? "global-delivery-status" : "delivery-status");
	put_crlf(o);
	putf(o, "\tboundary=\"%s\"", boundary);
	put_crlf(o);
	if (eightbit) {
		/* RFC 2045 6.4: a multipart is 8bit when a part is. */
		puts_(o, "Content-Transfer-Encoding: 8bit");
		put_crlf(o);
	}
	put_crlf(o);
	puts_(o, "This is a delivery status notification in MIME format.");
	put_crlf(o);
}

static const char *return_type(const struct ctx *c)
{
	const char *h = c->r->original;
	/* RFC 6532 3.7, RFC 6533: UTF-8 header fields. */
	bool intl = has_8bit(h, c->header_len) && utf8_valid(h, c->header_len);

	if (c->ret == RET_FULL)
		return intl ? "message/global" : "message/rfc822";
	return intl ? "message/global-headers" : "text/rfc822-headers";
}

static void put_body(struct out *o, const struct ctx *c,
		     const struct out *human, const struct out *status,
		     const char *boundary)
{
	const char *ret = c->r->original;
	size_t ret_len = return_len(c);

	put_part_head(o, boundary,
		      has_8bit(buf_data(&human->b), buf_len(&human->b))
			      ? "text/plain; charset=utf-8"
			      : "text/plain; charset=us-ascii",
		      "Notification",
		      has_8bit(buf_data(&human->b), buf_len(&human->b)));
	put(o, buf_data(&human->b), buf_len(&human->b));
	if (c->ret == RET_FULL)
		puts_(o, "Your message is attached below.");
	else if (c->ret == RET_HEADERS)
		puts_(o, "The header of your message is attached below.");
	put_crlf(o);
	put_part_head(o, boundary,
		      c->global ? "message/global-delivery-status"
				: "message/delivery-status",
		      "Delivery report",
		      has_8bit(buf_data(&status->b), buf_len(&status->b)));
	put(o, buf_data(&status->b), buf_len(&status->b));
	if (c->ret != RET_NONE) {
		put_part_head(o, boundary, return_type(c),
			      c->ret == RET_FULL ? "Original message"
						 : "Original message header",
			      has_8bit(ret, ret_len));
		put(o, ret, ret_len);
	}
	put_crlf(o);
	putf(o, "--%s--", boundary);
	put_crlf(o);
}

static size_t sat_add(size_t a, size_t b)
{
	return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

char *dsn_compose(const struct dsn_report *r, time_t now,
		  const char *boundary_seed, size_t *len_r)
{
	struct ctx c;
	struct out human, status, msg;
	char seed[SEED_MAX + 1], boundary[BOUNDARY_SIZE];
	size_t bound;
	bool eightbit;
	char *res;

	assert(r != NULL && r->reporting_mta != NULL);
	assert(r->nrcpts == 0 || r->rcpts != NULL);
	if (len_r != NULL)
		*len_r = 0;
	/* RFC 3461 6.1, RFC 5321 4.5.5: never a DSN to the null path. */
	if (r->sender == NULL || r->sender[0] == '\0' || r->nrcpts == 0)
		return NULL;
	ctx_init(&c, r);
	bound = r->nrcpts > SIZE_MAX / BOUND_RCPT ? SIZE_MAX
						  : r->nrcpts * BOUND_RCPT;
	bound = sat_add(sat_add(bound, BOUND_FIXED), r->original_len);
	out_init(&human, bound);
	human_part(&human, &c);
	out_init(&status, bound);
	status_part(&status, &c);
	seed_clean(seed, boundary_seed);
	choose_boundary(&c, &human, &status, seed, boundary);

	eightbit = has_8bit(buf_data(&human.b), buf_len(&human.b)) ||
		   has_8bit(buf_data(&status.b), buf_len(&status.b)) ||
		   has_8bit(r->original, return_len(&c));
	out_init(&msg, bound);
	put_headers(&msg, &c, now, seed, boundary, eightbit);
	put_body(&msg, &c, &human, &status, boundary);
	buf_fini(&human.b);
	buf_fini(&status.b);
	put(&msg, "", 1);
	/* Nothing was consumed, so the data starts the allocation: hand it
	 * over instead of copying a returned message. */
	assert(msg.b.off == 0);
	if (len_r != NULL)
		*len_r = buf_len(&msg.b) - 1;
	res = msg.b.data;
	msg.b.data = NULL;
	buf_fini(&msg.b);
	return res;
}
