/*
 * UTF-8 validation (RFC 3629): pure, for parsers of network input.
 */
#ifndef LIB_UTF8_H
#define LIB_UTF8_H

#include <stddef.h>

/*
 * Length of the well-formed multi-octet sequence at s[0..len) (2 to 4),
 * or 0 when it is malformed, overlong, a surrogate, past U+10FFFF or cut
 * short. ASCII octets are not sequences here: they give 0 too.
 */
size_t utf8_seq(const unsigned char *s, size_t len);

#endif
