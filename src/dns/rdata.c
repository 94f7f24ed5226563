#include "dns/rdata.h"

#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

static bool host_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_';
}

bool dns_name_valid(const char *name)
{
	size_t len = strlen(name), label = 0;

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len > DNS_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (name[i] == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (!host_char((unsigned char)name[i]) || ++label > 63)
			return false;
	}
	return label > 0;
}

int dns_rdata_name(const unsigned char *p, size_t len, char *out)
{
	size_t pos = 0, olen = 0;

	for (;;) {
		size_t label;

		if (pos >= len)
			return -1;
		label = p[pos++];
		if (label == 0)
			break;
		/* Compression pointers (0xC0) and the obsolete extended
		 * label types (0x40, 0x80) are all > 63. */
		if (label > 63 || label > len - pos)
			return -1;
		if (olen + (olen > 0) + label > DNS_NAME_MAX)
			return -1;
		if (olen > 0)
			out[olen++] = '.';
		for (size_t i = 0; i < label; i++) {
			if (!host_char(p[pos + i]))
				return -1;
			out[olen++] = (char)p[pos + i];
		}
		pos += label;
	}
	out[olen] = '\0';
	return (int)pos;
}

int dns_rdata_mx(const unsigned char *rd, size_t len, unsigned *pref_r,
		 char *name)
{
	int used;

	if (len < 3)
		return -1;
	used = dns_rdata_name(rd + 2, len - 2, name);
	if (used < 0 || (size_t)used != len - 2)
		return -1;
	*pref_r = (unsigned)rd[0] << 8 | rd[1];
	return 0;
}

int dns_rdata_txt(const unsigned char *rd, size_t len, char *out, size_t size,
		  size_t *len_r)
{
	size_t pos = 0, olen = 0;

	if (len == 0 || size == 0)
		return -1;
	while (pos < len) {
		size_t slen = rd[pos++];

		if (slen > len - pos)
			return -1;
		if (memchr(rd + pos, '\0', slen) != NULL)
			return -1;
		if (slen >= size - olen)
			return -2;
		memcpy(out + olen, rd + pos, slen);
		olen += slen;
		pos += slen;
	}
	out[olen] = '\0';
	*len_r = olen;
	return 0;
}

int dns_rdata_tlsa(const unsigned char *rd, size_t len, uint8_t *usage_r,
		   uint8_t *selector_r, uint8_t *mtype_r,
		   const unsigned char **data_r, size_t *data_len_r)
{
	if (len < 4)
		return -1;
	*usage_r = rd[0];
	*selector_r = rd[1];
	*mtype_r = rd[2];
	*data_r = rd + 3;
	*data_len_r = len - 3;
	return 0;
}

static int ptr_qname4(const unsigned char *a, char *out, size_t size)
{
	int n = snprintf(out, size, "%u.%u.%u.%u.in-addr.arpa", a[3], a[2],
			 a[1], a[0]);

	return n > 0 && (size_t)n < size ? 0 : -1;
}

int dns_ptr_qname(const struct sockaddr *addr, char *out, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0,	   0,
						 0, 0, 0, 0, 0xff, 0xff};
	const unsigned char *a;
	size_t o = 0;

	if (addr->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)addr;

		return ptr_qname4((const unsigned char *)&s4->sin_addr, out,
				  size);
	}
	if (addr->sa_family != AF_INET6)
		return -1;
	a = ((const struct sockaddr_in6 *)addr)->sin6_addr.s6_addr;
	if (memcmp(a, mapped, sizeof(mapped)) == 0)
		return ptr_qname4(a + 12, out, size);
	if (size < 64 + sizeof("ip6.arpa"))
		return -1;
	for (int i = 15; i >= 0; i--) {
		out[o++] = hex[a[i] & 0x0f];
		out[o++] = '.';
		out[o++] = hex[a[i] >> 4];
		out[o++] = '.';
	}
	memcpy(out + o, "ip6.arpa", sizeof("ip6.arpa"));
	return 0;
}
