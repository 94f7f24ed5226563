/*
 * Sequence sets from number lists (msgset.h).
 */
#include "imap/msgset.h"

#include <stdio.h>
#include <stdlib.h>

#include "lib/mem.h"

/* "4294967295:4294967295," */
#define MSGSET_ITEM_MAX 22

char *imap_msgset_format(const uint32_t *nums, size_t n)
{
	char *out = xmalloc(n * MSGSET_ITEM_MAX + 1);
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n;) {
		size_t j = i;

		while (j + 1 < n && nums[j] != UINT32_MAX &&
		       nums[j + 1] == nums[j] + 1)
			j++;
		used += (size_t)snprintf(out + used, MSGSET_ITEM_MAX + 1,
					 j == i ? "%s%u" : "%s%u:%u",
					 used > 0 ? "," : "", nums[i], nums[j]);
		i = j + 1;
	}
	return out;
}
