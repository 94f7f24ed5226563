#!/bin/sh
# The benchmarks' peers (Postfix with smtp-source, Dovecot) and python3 are
# test dependencies too, so scripts/deps.sh installs them all.
set -eu
exec sh "$(dirname "$0")/../scripts/deps.sh"
