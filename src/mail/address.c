/*
 * Envelope addresses: RFC 5321 4.1.2 (Path, Mailbox), 4.1.3 (address
 * literals), 4.5.3.1 (lengths); RFC 6531 3.3 (UTF-8).
 *
 * SECURITY: every octet comes from the network. The parser validates the
 * whole path first and copies only afterwards, once the lengths are known
 * to fit the fixed fields of struct address; it never reads past len.
 */
#include "mail/address.h"

#include "lib/utf8.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

/* RFC 1035 2.3.4: an LDH label is at most 63 octets. */
#define LABEL_MAX 63

/* The longest text inet_pton is given: a full IPv6 with an IPv4 tail. */
#define LITERAL_IP_MAX 45

struct cursor {
	const unsigned char *s;
	size_t len;
	size_t pos;
	bool nonascii;	     /* saw UTF8-non-ascii in the mailbox */
	bool route_nonascii; /* ... in the (ignored) source route */
	const char *error;
};

/* Where the parts of a Mailbox are, as written. */
struct span {
	size_t local_start, local_end;
	size_t domain_start, domain_end;
	bool literal;
};

static bool is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool is_let_dig(unsigned char c)
{
	return is_alpha(c) || is_digit(c);
}

/* RFC 5322 3.2.3 atext, ASCII part (RFC 5321 4.1.2 Atom uses it). */
static bool is_atext(unsigned char c)
{
	return is_let_dig(c) || (c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

/* RFC 5321 4.1.2 qtextSMTP, ASCII part. */
static bool is_qtext(unsigned char c)
{
	return c == 32 || c == 33 || (c >= 35 && c <= 91) ||
	       (c >= 93 && c <= 126);
}

/* RFC 5321 4.1.3 dcontent. */
static bool is_dcontent(unsigned char c)
{
	return (c >= 33 && c <= 90) || (c >= 94 && c <= 126);
}

static bool at(const struct cursor *c, unsigned char ch)
{
	return c->pos < c->len && c->s[c->pos] == ch;
}

static int fail(struct cursor *c, const char *error)
{
	c->error = error;
	return -1;
}

/* Step over one UTF8-non-ascii character at the cursor. */
static int skip_utf8(struct cursor *c)
{
	size_t n = utf8_seq(c->s + c->pos, c->len - c->pos);

	if (n == 0)
		return fail(c, "Malformed UTF-8 in address");
	c->pos += n;
	c->nonascii = true;
	return 0;
}

/* RFC 5321 4.1.2 Dot-string = Atom *("." Atom); RFC 6531 3.3 atext. */
static int parse_dot_string(struct cursor *c)
{
	for (;;) {
		size_t start = c->pos;

		while (c->pos < c->len) {
			unsigned char ch = c->s[c->pos];

			if (is_atext(ch))
				c->pos++;
			else if (ch < 0x80)
				break;
			else if (skip_utf8(c) < 0)
				return -1;
		}
		if (c->pos == start)
			return fail(c, "Bad local part syntax");
		if (!at(c, '.'))
			return 0;
		c->pos++;
	}
}

/* RFC 5321 4.1.2 Quoted-string, with RFC 6531 3.3 qtextSMTP. */
static int parse_quoted_string(struct cursor *c)
{
	c->pos++; /* DQUOTE */
	while (c->pos < c->len) {
		unsigned char ch = c->s[c->pos];

		if (ch == '"') {
			c->pos++;
			return 0;
		}
		if (ch == '\\') {
			/* quoted-pairSMTP = %d92 %d32-126 */
			if (c->pos + 1 >= c->len || c->s[c->pos + 1] < 32 ||
			    c->s[c->pos + 1] > 126)
				return fail(c, "Bad quoted local part");
			c->pos += 2;
		} else if (is_qtext(ch)) {
			c->pos++;
		} else if (ch >= 0x80) {
			if (skip_utf8(c) < 0)
				return -1;
		} else {
			return fail(c, "Bad quoted local part");
		}
	}
	return fail(c, "Unterminated quoted local part");
}

/* One sub-domain: an LDH label, or with UTF-8 a U-label (RFC 6531 3.3). */
static int parse_label(struct cursor *c)
{
	size_t start = c->pos;
	bool utf8 = false;

	while (c->pos < c->len) {
		unsigned char ch = c->s[c->pos];

		if (is_let_dig(ch) || ch == '-') {
			c->pos++;
		} else if (ch >= 0x80) {
			if (skip_utf8(c) < 0)
				return -1;
			utf8 = true;
		} else {
			break;
		}
	}
	/* RFC 5321 4.1.2: sub-domain = Let-dig [Ldh-str], no edge hyphen */
	if (c->pos == start || c->s[start] == '-' || c->s[c->pos - 1] == '-')
		return fail(c, "Bad domain name syntax");
	/*
	 * A U-label is limited by the length of its A-label, which is not
	 * computed here; full IDNA2008 checks (RFC 5891) are not done.
	 */
	if (!utf8 && c->pos - start > LABEL_MAX)
		return fail(c, "Domain name label too long");
	return 0;
}

/* RFC 5321 4.1.2 Domain = sub-domain *("." sub-domain) */
static int parse_domain(struct cursor *c)
{
	for (;;) {
		if (parse_label(c) < 0)
			return -1;
		if (!at(c, '.'))
			return 0;
		c->pos++;
	}
}

/* RFC 5321 4.1.3 Standardized-tag = Ldh-str */
static bool is_ldh_str(const unsigned char *s, size_t n)
{
	if (n == 0 || !is_let_dig(s[n - 1]))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!is_let_dig(s[i]) && s[i] != '-')
			return false;
	}
	return true;
}

static bool inet_ok(int af, const unsigned char *s, size_t n)
{
	char text[LITERAL_IP_MAX + 1];
	unsigned char addr[16];

	if (n > LITERAL_IP_MAX)
		return false;
	memcpy(text, s, n);
	text[n] = '\0';
	return inet_pton(af, text, addr) == 1;
}

/*
 * RFC 5321 4.1.3 address-literal: "[" IPv4 / "IPv6:" IPv6 / tag ":"
 * 1*dcontent "]". inet_pton is stricter than the ABNF in one way: it
 * refuses the leading zeros Snum allows ("[010.0.0.1]"), which would be
 * read as octal elsewhere.
 */
static int parse_literal(struct cursor *c)
{
	const unsigned char *content;
	const unsigned char *colon;
	size_t start = ++c->pos, n;
	bool ok;

	while (c->pos < c->len && is_dcontent(c->s[c->pos]))
		c->pos++;
	if (!at(c, ']'))
		return fail(c, "Bad address literal");
	content = c->s + start;
	n = c->pos - start;
	c->pos++;
	colon = memchr(content, ':', n);
	if (colon == NULL) {
		ok = inet_ok(AF_INET, content, n);
	} else if (colon - content == 4 &&
		   strncasecmp((const char *)content, "IPv6", 4) == 0) {
		ok = inet_ok(AF_INET6, colon + 1, n - 5);
	} else {
		/* General-address-literal: 1*dcontent after the tag */
		ok = is_ldh_str(content, (size_t)(colon - content)) &&
		     (size_t)(colon - content) + 1 < n;
	}
	return ok ? 0 : fail(c, "Bad address literal");
}

/* RFC 5321 4.1.2 A-d-l = At-domain *( "," At-domain ), then ":" */
static int parse_route(struct cursor *c)
{
	for (;;) {
		c->pos++; /* "@" */
		if (parse_domain(c) < 0)
			return fail(c, "Bad source route");
		if (at(c, ':')) {
			/* dropped on output, so it says nothing of the mailbox
			 */
			c->route_nonascii = c->nonascii;
			c->nonascii = false;
			c->pos++;
			return 0;
		}
		if (!at(c, ',') || c->pos + 1 >= c->len ||
		    c->s[c->pos + 1] != '@')
			return fail(c, "Bad source route");
		c->pos++;
	}
}

/* RFC 5321 4.1.2 Mailbox = Local-part "@" ( Domain / address-literal ) */
static int parse_mailbox(struct cursor *c, struct span *sp)
{
	sp->local_start = c->pos;
	if (at(c, '"')) {
		if (parse_quoted_string(c) < 0)
			return -1;
	} else if (parse_dot_string(c) < 0) {
		return -1;
	}
	sp->local_end = c->pos;
	if (!at(c, '@'))
		return fail(c, "Missing \"@\" in address");
	c->pos++;
	sp->domain_start = c->pos;
	sp->literal = at(c, '[');
	if (sp->literal ? parse_literal(c) < 0 : parse_domain(c) < 0)
		return -1;
	sp->domain_end = c->pos;
	return 0;
}

/* Whether value must be written as a Quoted-string (RFC 5321 4.1.2). */
static bool needs_quotes(const char *value, size_t n)
{
	if (n == 0 || value[0] == '.' || value[n - 1] == '.')
		return true;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)value[i];

		if (ch == '.' && i + 1 < n && value[i + 1] == '.')
			return true;
		if (ch != '.' && ch < 0x80 && !is_atext(ch))
			return true;
	}
	return false;
}

/* Copy the local part's value, undoing the quoting. */
static void store_local(const unsigned char *s, const struct span *sp,
			struct address *addr)
{
	size_t n = 0;

	if (s[sp->local_start] != '"') {
		n = sp->local_end - sp->local_start;
		memcpy(addr->local, s + sp->local_start, n);
	} else {
		for (size_t i = sp->local_start + 1; i < sp->local_end - 1;
		     i++) {
			if (s[i] == '\\')
				i++;
			addr->local[n++] = (char)s[i];
		}
	}
	addr->local[n] = '\0';
	addr->quoted = needs_quotes(addr->local, n);
}

/*
 * RFC 5321 4.5.3.1.1-3 limits: the local part as written (quotes
 * included), the domain, and the whole path (route and brackets
 * included; path_len 0 for a bare mailbox). Then copy.
 */
static int finish(struct cursor *c, const struct span *sp, size_t path_len,
		  unsigned flags, struct address *addr, const char **error_r)
{
	size_t dlen = sp->domain_end - sp->domain_start;

	if (sp->local_end - sp->local_start > ADDRESS_LOCAL_MAX) {
		*error_r = "Local part too long";
		return -2;
	}
	if (dlen > ADDRESS_DOMAIN_MAX) {
		*error_r = "Domain name too long";
		return -2;
	}
	if (path_len > ADDRESS_PATH_MAX) {
		*error_r = "Path too long";
		return -2;
	}
	/* RFC 6531 3.3: UTF-8 only within an SMTPUTF8 transaction */
	if ((c->nonascii || c->route_nonascii) && !(flags & ADDRESS_F_UTF8)) {
		*error_r = "Non-ASCII address needs SMTPUTF8";
		return -3;
	}
	store_local(c->s, sp, addr);
	memcpy(addr->domain, c->s + sp->domain_start, dlen);
	addr->domain[dlen] = '\0';
	addr->literal = sp->literal;
	addr->utf8 = c->nonascii;
	return 0;
}

int address_parse_path(const char *s, size_t len, unsigned flags,
		       struct address *addr_r, size_t *consumed_r,
		       const char **error_r)
{
	struct cursor c = {.s = (const unsigned char *)s, .len = len};
	struct span sp;
	int ret;

	memset(addr_r, 0, sizeof(*addr_r));
	*consumed_r = 0;
	if (!at(&c, '<')) {
		*error_r = "Address must be enclosed in <>";
		return -1;
	}
	c.pos++;
	if (at(&c, '>')) {
		/* RFC 5321 4.1.2 Reverse-path = Path / "<>" */
		if (!(flags & ADDRESS_F_ALLOW_NULL)) {
			*error_r = "Null address not allowed here";
			return -1;
		}
		addr_r->null = true;
		*consumed_r = 2;
		return 0;
	}
	/* RFC 5321 4.1.2 and C: a source route is accepted and ignored */
	if ((at(&c, '@') && parse_route(&c) < 0) ||
	    parse_mailbox(&c, &sp) < 0) {
		*error_r = c.error;
		return -1;
	}
	if (!at(&c, '>')) {
		*error_r = "Address must be enclosed in <>";
		return -1;
	}
	c.pos++;
	ret = finish(&c, &sp, c.pos, flags, addr_r, error_r);
	if (ret == 0)
		*consumed_r = c.pos;
	return ret;
}

int address_parse_mailbox(const char *s, size_t len, unsigned flags,
			  struct address *addr_r, const char **error_r)
{
	struct cursor c = {.s = (const unsigned char *)s, .len = len};
	struct span sp;

	memset(addr_r, 0, sizeof(*addr_r));
	if (parse_mailbox(&c, &sp) < 0) {
		*error_r = c.error;
		return -1;
	}
	if (c.pos != len) {
		*error_r = "Unexpected characters after address";
		return -1;
	}
	return finish(&c, &sp, 0, flags, addr_r, error_r);
}

struct out {
	char *buf;
	size_t size;
	size_t n;
};

static void put(struct out *o, char ch)
{
	if (o->n + 1 < o->size)
		o->buf[o->n] = ch;
	o->n++;
}

static void put_str(struct out *o, const char *s)
{
	while (*s != '\0')
		put(o, *s++);
}

/*
 * The minimum quoting RFC 5321 4.1.2 asks for: only when the value is not
 * a Dot-string, escaping just DQUOTE and backslash. An empty domain (the
 * RCPT <Postmaster> form) is written without "@".
 */
size_t address_format(const struct address *addr, char *buf, size_t size)
{
	struct out o = {.buf = buf, .size = size};

	if (!addr->null) {
		if (addr->quoted) {
			put(&o, '"');
			for (const char *p = addr->local; *p != '\0'; p++) {
				if (*p == '"' || *p == '\\')
					put(&o, '\\');
				put(&o, *p);
			}
			put(&o, '"');
		} else {
			put_str(&o, addr->local);
		}
		if (addr->domain[0] != '\0') {
			put(&o, '@');
			put_str(&o, addr->domain);
		}
	}
	if (size > 0)
		buf[o.n < size ? o.n : size - 1] = '\0';
	return o.n;
}

bool address_domain_within(const char *domain, const char *parent)
{
	size_t dlen = strlen(domain), plen = strlen(parent);

	if (plen == 0 || dlen < plen ||
	    strcasecmp(domain + dlen - plen, parent) != 0)
		return false;
	return dlen == plen || domain[dlen - plen - 1] == '.';
}
