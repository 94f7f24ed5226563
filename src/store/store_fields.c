/*
 * The header fields kept in the index with each message (cache.fields):
 * those SEARCH keys read (FROM, TO, CC, BCC, SUBJECT, SENT*) and those
 * mail clients ask for with BODY.PEEK[HEADER.FIELDS (...)] when they list
 * a folder (Thunderbird's list). A search or such a FETCH then reads one
 * index row instead of opening the message file, as Dovecot answers from
 * its cache file.
 *
 * The block is the fields' lines as the message has them (folded, in
 * order, CRLF) and then the message's blank line, so mail/mime.h parses it
 * as it parses the header, and HEADER.FIELDS of it gives the same octets
 * as of the file. Past STORE_FIELDS_MAX (a huge To: list) nothing is kept
 * and the file is read.
 */
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/mem.h"
#include "mail/mime.h"

#define STORE_FIELDS_MAX 8192

/* clang-format off */
static char *const store_fields[] = {
	"Bcc", "Cc", "Content-Type", "Date", "From", "In-Reply-To",
	"List-Id", "Message-ID", "Newsgroups", "Priority", "References",
	"Reply-To", "Sender", "Subject", "To", "X-Priority",
};
/* clang-format on */

#define STORE_N_FIELDS (sizeof(store_fields) / sizeof(store_fields[0]))

bool store_field_cached(const char *name)
{
	for (size_t i = 0; i < STORE_N_FIELDS; i++)
		if (strcasecmp(store_fields[i], name) == 0)
			return true;
	return false;
}

char *store_fields_extract(const char *data, size_t len,
			   const struct mime_part *root, size_t *len_r)
{
	size_t hdr_len = root->hdr_len, blank, o;
	char *out;

	/* The tree is the parser's: checked anyway, never trusted past len. */
	if (root->hdr_off > len || hdr_len > len - root->hdr_off ||
	    root->body_off < root->hdr_off + hdr_len || root->body_off > len)
		return NULL;
	blank = root->body_off - (root->hdr_off + hdr_len);
	out = xmalloc(hdr_len + blank + 1);
	mime_header_fields(data + root->hdr_off, hdr_len, store_fields,
			   STORE_N_FIELDS, false, out, &o);
	if (o + blank > STORE_FIELDS_MAX) {
		free(out);
		return NULL;
	}
	memcpy(out + o, data + root->hdr_off + hdr_len, blank);
	out[o + blank] = '\0';
	*len_r = o + blank;
	return out;
}
