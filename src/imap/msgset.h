/*
 * Number sets written as sequence sets, for the message commands'
 * answers: COPYUID (cmd_copy.c), MODIFIED (cmd_store.c), ESEARCH ALL
 * (cmd_search.c). Pure.
 */
#ifndef IMAP_MSGSET_H
#define IMAP_MSGSET_H

#include <stddef.h>
#include <stdint.h>

/*
 * nums[0..n) as a sequence set in the order given, runs of consecutive
 * ascending numbers as ranges: {3,4,5,9,7} gives "3:5,9,7" (RFC 4315
 * COPYUID keeps the order; RFC 3501 9 sequence-set). malloc'd, the
 * caller frees; "" when n is 0. Never fails.
 */
char *imap_msgset_format(const uint32_t *nums, size_t n);

#endif
