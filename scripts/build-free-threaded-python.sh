#!/usr/bin/env bash
# Build a free-threaded CPython 3.13 (python3.13t, PEP 703): a thin wrapper, kept for old instructions.
# It is scripts/build-python.sh --version 3.13 --free-threaded; any other argument is passed through
# (--prefix DIR, --tarball PATH, --sha256 HEX). Prefer build-python.sh, which also builds 3.14 and 3.14t.
exec "$(dirname "$0")/build-python.sh" --version 3.13 --free-threaded "$@"
