/*
 * Memory helpers. Allocation failure is a broken environment: it aborts
 * through fatal() rather than giving every caller an error path it would
 * never test.
 */
#ifndef LIB_MEM_H
#define LIB_MEM_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);
/* Returns a copy the caller frees; NULL in gives NULL out. */
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* printf into a fresh allocation the caller frees. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* free(*p) and set *p to NULL: the x_free(&x) idiom for plain buffers. */
#define xfree(pp)                                                              \
	do {                                                                   \
		free(*(pp));                                                   \
		*(pp) = NULL;                                                  \
	} while (0)

/*
 * Bounded string copy: always NUL-terminates when size > 0.
 * Returns strlen(src); a result >= size means it was truncated.
 */
size_t strlcpy_p(char *dst, const char *src, size_t size);

#endif
