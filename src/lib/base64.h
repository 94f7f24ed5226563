/*
 * Base64 (RFC 4648 section 4, standard alphabet, with padding), as SASL
 * (RFC 4954) and MIME use it. Decoding is strict: no whitespace, no
 * characters outside the alphabet, padding only at the end.
 */
#ifndef LIB_BASE64_H
#define LIB_BASE64_H

#include <stddef.h>

/* Characters base64_encode writes for n input bytes, without the NUL. */
size_t base64_encoded_len(size_t n);
/* Largest number of bytes len characters can decode to. */
size_t base64_decoded_max(size_t len);

/*
 * Encode src[0..n) into dst, NUL-terminated. dst must hold
 * base64_encoded_len(n) + 1 bytes. Returns the length written.
 */
size_t base64_encode(const void *src, size_t n, char *dst);

/*
 * Decode src[0..len) into dst[0..dstsize). Returns 0 with *outlen_r set;
 * -1 for malformed input (bad character, bad padding, length not a
 * multiple of 4, non-zero bits in the padding); -2 when dst is too small.
 * The empty string decodes to zero bytes.
 */
int base64_decode(const char *src, size_t len, void *dst, size_t dstsize,
		  size_t *outlen_r) __attribute__((warn_unused_result));

#endif
