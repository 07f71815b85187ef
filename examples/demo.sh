#!/bin/sh
# SPDX-License-Identifier: MIT
# The demo: runs each example under libsocktrace.so and shows the record.
set -eu
cd "$(dirname "$0")/.."
dir=$(mktemp -d "${TMPDIR:-/tmp}/socktrace-demo.XXXXXX")
trap 'rm -rf "$dir"' EXIT
for ex in echo backlog close_wait server_close refused nonblock; do
	bin=build/examples/$ex
	[ -x "$bin" ] || continue
	echo "=== $ex: LD_PRELOAD=./libsocktrace.so $bin"
	SOCKTRACE_DIR="$dir/$ex" LD_PRELOAD="$PWD/libsocktrace.so" "$bin" ||
		echo "($ex exited with status $?)"
	echo "--- socktrace dump $dir/$ex"
	./socktrace dump "$dir/$ex"
	echo
done
