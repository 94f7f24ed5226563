/*
 * libFuzzer target for queue/smarthost_state.
 *
 * The input is a state record; the host asked for is "relay.test". A
 * record that gives a port formats back to the same bytes; nothing reads
 * past the input (exact-size copy).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queue/smarthost_state.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);
	char out[SMARTHOST_STATE_MAX + 1];
	const char *error = NULL;
	int port, n;

	CHECK(buf != NULL);
	memcpy(buf, data, size);
	port = smarthost_state_parse(buf, size, "relay.test", &error);
	CHECK(port >= -1 && port <= 65535);
	if (port < 0)
		CHECK(error != NULL);
	if (port > 0) {
		n = smarthost_state_format(out, sizeof(out), "relay.test",
					   port);
		CHECK(n > 0 && (size_t)n == size &&
		      memcmp(out, buf, size) == 0);
	}
	free(buf);
	return 0;
}
