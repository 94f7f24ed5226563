/*
 * Message header scanner: RFC 5322 2.2 (fields, folding), 3.4 (address
 * syntax), 3.6.2 (From, Sender), 4 (obs forms), RFC 6532 (UTF-8), RFC
 * 6854 (groups in From).
 *
 * SECURITY: every octet comes from the client. The scanner works one
 * octet at a time and never looks back, so a split between feeds cannot
 * change what it sees. A field ends only at CRLF followed by a non-WSP
 * octet; its name is everything before the first colon, WSP and folds
 * after the name allowed (obs), so no spelling a mail reader accepts as
 * From: escapes the check. The unfolded body of From: and Sender: is
 * kept (at most field_max octets) and parsed once the field is complete,
 * forward only; nothing else is kept but field names (at most
 * header_max octets).
 *
 * Accepted obs forms (RFC 5322 4): obs-FWS, WSP before the colon,
 * obs-phrase (dots in display names), obs-local-part (CFWS around dots),
 * obs-domain, obs-route (ignored), null list members. Refused: control
 * characters (obs-NO-WS-CTL, obs-qp) anywhere in an address field. Octets
 * >= 0x80 are accepted as they are in display names and comments (only
 * addresses matter here); the addresses themselves must be well-formed
 * UTF-8.
 */
#include "mail/header.h"

#include "lib/mem.h"
#include "mail/address.h"
#include "mail/received.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The unquoted local part and the domain are cut here; longer ones
 * could not pass RFC 5321 4.5.3.1 anyway. */
#define PART_SIZE (ADDRESS_PATH_MAX + 1)
/* A local part quoted with every octet escaped, "@", a domain. */
#define MAILBOX_SIZE (2 * PART_SIZE + 4 + PART_SIZE)

enum field_state {
	FS_NONE,     /* before the first field */
	FS_NAME,     /* in the field name */
	FS_NAME_WSP, /* WSP after the name (RFC 5322 4.5) */
	FS_BODY,     /* after the colon */
	FS_BAD,	     /* not a field: skipped to its end */
};

enum field_kind {
	FK_OTHER,
	FK_FROM,
	FK_SENDER,
	FK_RCPT, /* To:, Cc:, Bcc: (for sendmail -t) */
};

struct header_scan {
	struct header_limits lim;
	enum field_state state;
	enum field_kind kind;
	bool bol; /* at the start of a line */
	bool cr;  /* the last octet was a CR, its LF not seen yet */
	int result;
	const char *limit_error;
	size_t header_len, field_len, fields, bad_fields;

	/* Names of the fields seen, each NUL-terminated; the current one
	 * starts at name_start. */
	char *names;
	size_t names_len, names_size, name_start;

	/* Unfolded body of the current From: or Sender: field. */
	char *body;
	size_t body_len, body_size;

	char **from;
	size_t from_count, from_size;
	bool from_malformed;
	char *sender;
	bool sender_seen, sender_malformed;

	char **rcpts; /* To:, Cc:, Bcc: mailboxes */
	size_t rcpt_count, rcpt_size;
	bool rcpt_malformed;
};

/* A cursor over one unfolded field body. */
struct parser {
	const unsigned char *s;
	size_t len, pos;
	enum field_kind kind;
	bool bad;  /* syntax error: the field is malformed */
	bool stop; /* a limit was passed */
	size_t mailboxes;
	/* The words read last, as a local part's value, and a domain. */
	char local[PART_SIZE];
	char domain[PART_SIZE];
	size_t local_len, domain_len;
	bool overflow;
};

static void grow(char **p, size_t *size, size_t need)
{
	size_t n = *size ? *size : 64;

	if (need <= *size)
		return;
	while (n < need)
		n *= 2;
	*p = xrealloc(*p, n);
	*size = n;
}

static size_t limit_or(size_t value, size_t dflt)
{
	return value ? value : dflt;
}

struct header_scan *header_scan_new(const struct header_limits *lim)
{
	struct header_scan *h = xcalloc(1, sizeof(*h));
	struct header_limits none = {0};

	if (lim == NULL)
		lim = &none;
	h->lim.field_max = limit_or(lim->field_max, HEADER_FIELD_MAX);
	h->lim.fields_max = limit_or(lim->fields_max, HEADER_FIELDS_MAX);
	h->lim.header_max = limit_or(lim->header_max, HEADER_BLOCK_MAX);
	h->lim.from_max = limit_or(lim->from_max, HEADER_FROM_MAX);
	h->bol = true;
	return h;
}

void header_scan_free(struct header_scan **hp)
{
	struct header_scan *h = *hp;

	if (h == NULL)
		return;
	for (size_t i = 0; i < h->from_count; i++)
		free(h->from[i]);
	free(h->from);
	for (size_t i = 0; i < h->rcpt_count; i++)
		free(h->rcpts[i]);
	free(h->rcpts);
	free(h->sender);
	free(h->names);
	free(h->body);
	free(h);
	*hp = NULL;
}

static void set_limit(struct header_scan *h, const char *error)
{
	h->result = -2;
	h->limit_error = error;
}

/* --- Lexical tokens (RFC 5322 3.2) over an unfolded body --- */

static bool is_wsp(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* Control characters but HTAB (obs-NO-WS-CTL, CR, LF, NUL): refused. */
static bool is_ctl(unsigned char c)
{
	return (c < 0x20 && c != '\t') || c == 0x7f;
}

/* RFC 5322 3.2.3 atext; RFC 6532 3.2 adds UTF8-non-ascii. */
static bool is_atext(unsigned char c)
{
	if (c >= 0x80)
		return true;
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	return c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* RFC 5322 3.2.4 qtext, RFC 6532 3.2. */
static bool is_qtext(unsigned char c)
{
	return c == 33 || (c >= 35 && c <= 91) || (c >= 93 && c <= 126) ||
	       c >= 0x80;
}

/* RFC 5322 3.4.1 dtext, RFC 6532 3.2, without "@" so that no domain
 * holds one. */
static bool is_dtext(unsigned char c)
{
	return ((c >= 33 && c <= 90) || (c >= 94 && c <= 126) || c >= 0x80) &&
	       c != '@';
}

static bool at(const struct parser *p, unsigned char c)
{
	return p->pos < p->len && p->s[p->pos] == c;
}

static bool at_end(const struct parser *p)
{
	return p->pos >= p->len;
}

static void put_local(struct parser *p, unsigned char c)
{
	if (p->local_len + 1 >= sizeof(p->local)) {
		p->overflow = true;
		return;
	}
	p->local[p->local_len++] = (char)c;
}

static void put_domain(struct parser *p, unsigned char c)
{
	if (p->domain_len + 1 >= sizeof(p->domain)) {
		p->overflow = true;
		return;
	}
	p->domain[p->domain_len++] = (char)c;
}

/*
 * RFC 5322 3.2.2 CFWS: WSP and comments, which nest (up to
 * HEADER_COMMENT_DEPTH). Folds are gone already: a CR or LF left in the
 * body was bare, and is refused like other control characters.
 */
static void skip_cfws(struct parser *p)
{
	size_t depth = 0;

	while (!at_end(p)) {
		unsigned char c = p->s[p->pos];

		if (depth == 0 && c != '(' && !is_wsp(c))
			return;
		if (c == '\\' && depth > 0) {
			/* quoted-pair = "\" (VCHAR / WSP) */
			if (p->pos + 1 >= p->len || is_ctl(p->s[p->pos + 1]))
				break;
			p->pos++;
		} else if (c == '(') {
			if (++depth > HEADER_COMMENT_DEPTH)
				break;
		} else if (c == ')') {
			depth--;
		} else if (is_ctl(c)) {
			break;
		}
		p->pos++;
	}
	if (depth > 0 || !at_end(p))
		p->bad = true;
}

/* 1*atext, appended to the local part's value. */
static void scan_atom(struct parser *p)
{
	while (!at_end(p) && is_atext(p->s[p->pos]))
		put_local(p, p->s[p->pos++]);
}

/* RFC 5322 3.2.4 quoted-string after its CFWS; its value is appended. */
static void scan_quoted(struct parser *p)
{
	p->pos++; /* DQUOTE */
	while (!at_end(p)) {
		unsigned char c = p->s[p->pos++];

		if (c == '"')
			return;
		if (c == '\\') {
			if (at_end(p) || is_ctl(p->s[p->pos]))
				break;
			c = p->s[p->pos++];
		} else if (!is_qtext(c) && !is_wsp(c)) {
			break;
		}
		put_local(p, c);
	}
	p->bad = true;
}

/*
 * A run of words, dots and CFWS: a display name (RFC 5322 4.1
 * obs-phrase) or a local part (3.4.1, 4.4 obs-local-part); which one is
 * known only at the special that follows. The value, without CFWS and
 * quoting, is left in p->local. Returns the number of words; *local_ok_r
 * says whether the run has the shape word *("." word).
 */
static size_t scan_words(struct parser *p, bool *local_ok_r)
{
	bool shape = true, want_word = true;
	size_t words = 0;

	p->local_len = 0;
	p->overflow = false;
	for (;;) {
		unsigned char c;

		skip_cfws(p);
		if (p->bad || at_end(p))
			break;
		c = p->s[p->pos];
		if (c == '"' || is_atext(c)) {
			shape = shape && want_word;
			want_word = false;
			words++;
			if (c == '"')
				scan_quoted(p);
			else
				scan_atom(p);
		} else if (c == '.') {
			shape = shape && !want_word;
			want_word = true;
			put_local(p, c);
			p->pos++;
		} else {
			break;
		}
	}
	p->local[p->local_len] = '\0';
	*local_ok_r = shape && !want_word && words > 0;
	return words;
}

/*
 * RFC 5322 3.4.1 domain after its "@": dot-atom or obs-domain (CFWS
 * around the dots), or a domain-literal of dtext. Kept without CFWS in
 * p->domain.
 */
static void scan_domain(struct parser *p)
{
	p->domain_len = 0;
	skip_cfws(p);
	if (at(p, '[')) {
		put_domain(p, p->s[p->pos++]);
		while (!at_end(p) && is_dtext(p->s[p->pos]))
			put_domain(p, p->s[p->pos++]);
		if (!at(p, ']')) {
			p->bad = true;
			return;
		}
		put_domain(p, p->s[p->pos++]);
	} else {
		for (;;) {
			if (p->bad || at_end(p) || !is_atext(p->s[p->pos])) {
				p->bad = true;
				return;
			}
			while (!at_end(p) && is_atext(p->s[p->pos]))
				put_domain(p, p->s[p->pos++]);
			skip_cfws(p);
			if (!at(p, '.'))
				break;
			put_domain(p, p->s[p->pos++]);
			skip_cfws(p);
		}
	}
	p->domain[p->domain_len] = '\0';
}

/* Whether the value can be written as RFC 5321 Dot-string, unquoted. */
static bool is_dot_string(const char *s, size_t n)
{
	if (n == 0 || s[0] == '.' || s[n - 1] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '.' ? s[i + 1] == '.'
				: !is_atext((unsigned char)s[i]))
			return false;
	}
	return true;
}

/*
 * Write p->local and p->domain as an RFC 5321 Mailbox (quoting the local
 * part when needed) and check it with the SMTP address parser, so a
 * From: address is exactly as valid as one in MAIL FROM.
 */
static int check_mailbox(struct parser *p, struct address *addr)
{
	char box[MAILBOX_SIZE];
	const char *error;
	size_t n = 0;

	/* ""@domain is valid syntax, but "@domain" would be no address. */
	if (p->overflow || p->local_len == 0)
		return -1;
	if (is_dot_string(p->local, p->local_len)) {
		memcpy(box, p->local, p->local_len);
		n = p->local_len;
	} else {
		box[n++] = '"';
		for (size_t i = 0; i < p->local_len; i++) {
			if (p->local[i] == '"' || p->local[i] == '\\')
				box[n++] = '\\';
			box[n++] = p->local[i];
		}
		box[n++] = '"';
	}
	box[n++] = '@';
	memcpy(box + n, p->domain, p->domain_len);
	n += p->domain_len;
	return address_parse_mailbox(box, n, ADDRESS_F_UTF8, addr, &error);
}

/* A complete addr-spec is in p->local and p->domain: keep it. */
static void add_mailbox(struct header_scan *h, struct parser *p)
{
	struct address addr;
	char *text;

	if (check_mailbox(p, &addr) != 0) {
		p->bad = true;
		return;
	}
	p->mailboxes++;
	text = xasprintf("%s@%s", addr.local, addr.domain);
	if (p->kind == FK_SENDER) {
		free(h->sender);
		h->sender = text;
		return;
	}
	if (p->kind == FK_RCPT) {
		if (h->rcpt_count >= HEADER_RCPT_MAX) {
			free(text);
			set_limit(h, "Too many To:/Cc:/Bcc: addresses");
			p->stop = true;
			return;
		}
		if (h->rcpt_count == h->rcpt_size) {
			h->rcpt_size = h->rcpt_size ? 2 * h->rcpt_size : 4;
			h->rcpts = xrealloc(h->rcpts,
					    h->rcpt_size * sizeof(*h->rcpts));
		}
		h->rcpts[h->rcpt_count++] = text;
		return;
	}
	if (h->from_count >= h->lim.from_max) {
		free(text);
		set_limit(h, "Too many From: addresses");
		p->stop = true;
		return;
	}
	if (h->from_count == h->from_size) {
		h->from_size = h->from_size ? 2 * h->from_size : 4;
		h->from = xrealloc(h->from, h->from_size * sizeof(*h->from));
	}
	h->from[h->from_count++] = text;
}

/* RFC 5322 3.4 angle-addr after its display name, 4.4 obs-route. */
static void scan_angle(struct header_scan *h, struct parser *p)
{
	bool local_ok, route = false;

	p->pos++; /* "<" */
	skip_cfws(p);
	if (at(p, '@') || at(p, ',')) {
		/* obs-domain-list: the route is read and ignored (4.4) */
		while (!p->bad && (at(p, '@') || at(p, ','))) {
			if (p->s[p->pos++] == '@') {
				scan_domain(p);
				route = true;
			}
			skip_cfws(p);
		}
		if (p->bad || !route || !at(p, ':')) {
			p->bad = true;
			return;
		}
		p->pos++;
	}
	scan_words(p, &local_ok);
	if (p->bad || !local_ok || !at(p, '@')) {
		p->bad = true;
		return;
	}
	p->pos++;
	scan_domain(p);
	skip_cfws(p);
	if (p->bad || !at(p, '>')) {
		p->bad = true;
		return;
	}
	p->pos++;
	add_mailbox(h, p);
}

static size_t scan_list(struct header_scan *h, struct parser *p, bool in_group);

/*
 * RFC 5322 3.4 address: mailbox (name-addr / addr-spec) or, when
 * allow_group, group.
 */
static void scan_address(struct header_scan *h, struct parser *p,
			 bool allow_group)
{
	bool local_ok;
	size_t words = scan_words(p, &local_ok);

	if (p->bad)
		return;
	if (at(p, '<')) {
		scan_angle(h, p);
	} else if (at(p, ':') && allow_group && words > 0) {
		/* group = display-name ":" [group-list] ";" [CFWS] */
		p->pos++;
		scan_list(h, p, true);
		if (p->bad || p->stop || !at(p, ';')) {
			p->bad = true;
			return;
		}
		p->pos++;
	} else if (at(p, '@') && local_ok) {
		p->pos++;
		scan_domain(p);
		if (!p->bad)
			add_mailbox(h, p);
	} else {
		p->bad = true;
	}
}

/*
 * mailbox-list / address-list with obs null members (RFC 5322 4.4), to
 * the end of the body or, in a group, to its ";". Returns the number of
 * members.
 */
static size_t scan_list(struct header_scan *h, struct parser *p, bool in_group)
{
	size_t members = 0;

	for (;;) {
		skip_cfws(p);
		if (p->bad || at_end(p) || (in_group && at(p, ';')))
			return members;
		if (at(p, ',')) {
			p->pos++;
			continue;
		}
		/* RFC 6854: From: may hold groups; groups do not nest. */
		scan_address(h, p,
			     !in_group && (p->kind == FK_FROM ||
					   p->kind == FK_RCPT));
		members++;
		if (p->bad || p->stop)
			return members;
		skip_cfws(p);
		if (p->bad || at_end(p) || (in_group && at(p, ';')))
			return members;
		if (!at(p, ',')) {
			p->bad = true;
			return members;
		}
		p->pos++;
	}
}

/* RFC 5322 3.6.2 from = "From:" mailbox-list (RFC 6854: address-list). */
static void parse_from(struct header_scan *h)
{
	struct parser p = {.s = (const unsigned char *)h->body,
			   .len = h->body_len,
			   .kind = FK_FROM};
	size_t before = h->from_count;

	if (scan_list(h, &p, false) == 0)
		p.bad = true;
	if (p.stop || !p.bad)
		return;
	h->from_malformed = true;
	while (h->from_count > before)
		free(h->from[--h->from_count]);
}

/* RFC 5322 3.6.3 to / cc / bcc = address-list (bcc may be empty). */
static void parse_rcpt(struct header_scan *h)
{
	struct parser p = {.s = (const unsigned char *)h->body,
			   .len = h->body_len,
			   .kind = FK_RCPT};
	size_t before = h->rcpt_count;

	skip_cfws(&p);
	if (at_end(&p))
		return;
	(void)scan_list(h, &p, false);
	if (p.stop || !p.bad)
		return;
	h->rcpt_malformed = true;
	while (h->rcpt_count > before)
		free(h->rcpts[--h->rcpt_count]);
}

/* RFC 5322 3.6.2 sender = "Sender:" mailbox; 3.6: at most one. */
static void parse_sender(struct header_scan *h)
{
	struct parser p = {.s = (const unsigned char *)h->body,
			   .len = h->body_len,
			   .kind = FK_SENDER};

	if (h->sender_seen) {
		h->sender_malformed = true;
		return;
	}
	h->sender_seen = true;
	skip_cfws(&p);
	if (!p.bad)
		scan_address(h, &p, false);
	skip_cfws(&p);
	if (!p.bad && at_end(&p) && p.mailboxes == 1)
		return;
	h->sender_malformed = true;
}

/* --- Fields (RFC 5322 2.2) --- */

/* The field that was being read is complete. */
static void finish_field(struct header_scan *h)
{
	switch (h->state) {
	case FS_NAME:
	case FS_NAME_WSP:
		/* No colon: not a field. */
		h->names_len = h->name_start;
		h->bad_fields++;
		break;
	case FS_BODY:
		if (h->kind == FK_FROM)
			parse_from(h);
		else if (h->kind == FK_SENDER)
			parse_sender(h);
		else if (h->kind == FK_RCPT)
			parse_rcpt(h);
		break;
	case FS_NONE:
	case FS_BAD:
		break;
	}
	h->state = FS_NONE;
	h->kind = FK_OTHER;
	h->body_len = 0;
}

static void start_field(struct header_scan *h, enum field_state state)
{
	if (++h->fields > h->lim.fields_max) {
		set_limit(h, "Too many header fields");
		return;
	}
	h->field_len = 0;
	h->name_start = h->names_len;
	h->state = state;
	if (state == FS_BAD)
		h->bad_fields++;
}

static void bad_name(struct header_scan *h)
{
	h->names_len = h->name_start;
	h->state = FS_BAD;
	h->bad_fields++;
}

/* The colon after a field name: RFC 5322 3.6.8 field-name ":". */
static void end_name(struct header_scan *h)
{
	const char *name;

	if (h->names_len == h->name_start) {
		bad_name(h);
		return;
	}
	grow(&h->names, &h->names_size, h->names_len + 1);
	h->names[h->names_len++] = '\0';
	name = h->names + h->name_start;
	if (strcasecmp(name, "From") == 0)
		h->kind = FK_FROM;
	else if (strcasecmp(name, "Sender") == 0)
		h->kind = FK_SENDER;
	else if (strcasecmp(name, "To") == 0 || strcasecmp(name, "Cc") == 0 ||
		 strcasecmp(name, "Bcc") == 0)
		h->kind = FK_RCPT;
	h->state = FS_BODY;
}

static void name_octet(struct header_scan *h, unsigned char c)
{
	if (c == ':') {
		end_name(h);
	} else if (is_wsp(c)) {
		h->state = FS_NAME_WSP;
	} else if (h->state == FS_NAME && c >= 33 && c <= 126) {
		/* RFC 5322 3.6.8 ftext */
		grow(&h->names, &h->names_size, h->names_len + 1);
		h->names[h->names_len++] = (char)c;
	} else {
		bad_name(h);
	}
}

/*
 * One octet of a line, CRLF aside (a bare CR comes here as content).
 * At the start of a line, WSP continues the field (RFC 5322 2.2.3: the
 * CRLF is removed, the WSP kept); anything else completes it.
 */
static void content(struct header_scan *h, unsigned char c)
{
	if (h->bol) {
		h->bol = false;
		if (!is_wsp(c)) {
			finish_field(h);
			start_field(h, FS_NAME);
		} else if (h->state == FS_NONE) {
			start_field(h, FS_BAD);
		} else {
			h->field_len += 2; /* the fold's CRLF */
		}
		if (h->result != 0)
			return;
	}
	if (++h->field_len > h->lim.field_max) {
		set_limit(h, "Header field too long");
		return;
	}
	switch (h->state) {
	case FS_NAME:
	case FS_NAME_WSP:
		name_octet(h, c);
		break;
	case FS_BODY:
		if (h->kind != FK_OTHER) {
			grow(&h->body, &h->body_size, h->body_len + 1);
			h->body[h->body_len++] = (char)c;
		}
		break;
	case FS_NONE:
	case FS_BAD:
		break;
	}
}

static void scan_octet(struct header_scan *h, unsigned char c)
{
	if (++h->header_len > h->lim.header_max) {
		set_limit(h, "Message header too large");
		return;
	}
	if (h->cr) {
		h->cr = false;
		if (c == '\n') {
			if (h->bol) {
				/* The empty line: RFC 5322 3.5. */
				finish_field(h);
				if (h->result == 0)
					h->result = 1;
			}
			h->bol = true;
			return;
		}
		content(h, '\r');
		if (h->result != 0)
			return;
	}
	if (c == '\r')
		h->cr = true;
	else
		content(h, c);
}

int header_scan_feed(struct header_scan *h, const char *data, size_t len,
		     size_t *consumed_r)
{
	size_t i = 0;

	*consumed_r = 0;
	if (h->result != 0)
		return h->result;
	while (i < len && h->result == 0)
		scan_octet(h, (unsigned char)data[i++]);
	*consumed_r = i;
	return h->result;
}

int header_scan_finish(struct header_scan *h)
{
	if (h->result != 0)
		return h->result;
	/* A CR at the very end has no LF: it is content. */
	if (h->cr) {
		h->cr = false;
		content(h, '\r');
		if (h->result != 0)
			return h->result;
	}
	finish_field(h);
	if (h->result == 0)
		h->result = 1;
	return h->result;
}

const char *header_scan_limit_error(const struct header_scan *h)
{
	return h->limit_error;
}

bool header_scan_has(const struct header_scan *h, const char *name)
{
	size_t i = 0;

	/* Only complete names are NUL-terminated; one being read is not. */
	while (i < h->names_len) {
		const char *end = memchr(h->names + i, '\0', h->names_len - i);

		if (end == NULL)
			break;
		if (strcasecmp(h->names + i, name) == 0)
			return true;
		i = (size_t)(end - h->names) + 1;
	}
	return false;
}

size_t header_scan_from_count(const struct header_scan *h)
{
	return h->from_count;
}

const char *header_scan_from(const struct header_scan *h, size_t i)
{
	return i < h->from_count ? h->from[i] : NULL;
}

bool header_scan_from_malformed(const struct header_scan *h)
{
	return h->from_malformed;
}

const char *header_scan_sender(const struct header_scan *h)
{
	return h->sender_malformed ? NULL : h->sender;
}

bool header_scan_sender_malformed(const struct header_scan *h)
{
	return h->sender_malformed;
}

size_t header_scan_bad_fields(const struct header_scan *h)
{
	return h->bad_fields;
}

/* --- Fields the MSA adds (RFC 6409 8.2, 8.3) --- */

size_t header_date_format(char *buf, size_t size, time_t t)
{
	return received_date(buf, size, t);
}

/* ASCII dot-atom-text (RFC 5322 3.2.3): RFC 6532 3.3 advises ASCII. */
static bool is_ascii_dot_atom(const char *s)
{
	size_t n = strlen(s);

	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)s[i] >= 0x80)
			return false;
	}
	return is_dot_string(s, n);
}

/* RFC 5322 3.6.4 no-fold-literal = "[" *dtext "]" */
static bool is_no_fold_literal(const char *s)
{
	size_t n = strlen(s);

	if (n < 2 || s[0] != '[' || s[n - 1] != ']')
		return false;
	for (size_t i = 1; i + 1 < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x80 || (!is_dtext(c) && c != '@'))
			return false;
	}
	return true;
}

size_t header_message_id(char *buf, size_t size, const char *unique,
			 const char *domain)
{
	int n;

	if (size > 0)
		buf[0] = '\0';
	if (!is_ascii_dot_atom(unique) ||
	    !(is_ascii_dot_atom(domain) || is_no_fold_literal(domain)))
		return 0;
	n = snprintf(buf, size, "<%s@%s>", unique, domain);
	if (n < 0 || (size_t)n >= size) {
		if (size > 0)
			buf[0] = '\0';
		return 0;
	}
	return (size_t)n;
}

size_t header_scan_rcpt_count(const struct header_scan *h)
{
	return h->rcpt_count;
}

const char *header_scan_rcpt(const struct header_scan *h, size_t i)
{
	return i < h->rcpt_count ? h->rcpts[i] : NULL;
}

bool header_scan_rcpt_malformed(const struct header_scan *h)
{
	return h->rcpt_malformed;
}
