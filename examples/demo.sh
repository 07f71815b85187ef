#!/bin/sh
# SPDX-License-Identifier: MIT
# The demo: runs each example under socktrace and shows its timelines.
set -eu
cd "$(dirname "$0")/.."
dir=$(mktemp -d "${TMPDIR:-/tmp}/socktrace-demo.XXXXXX")
trap 'rm -rf "$dir"' EXIT
for ex in echo backlog close_wait server_close refused nonblock rst_close \
	half_close; do
	bin=build/examples/$ex
	[ -x "$bin" ] || continue
	echo "=================== socktrace run -- $bin"
	./socktrace run -o "$dir/$ex" -- "$bin" ||
		echo "($ex exited with status $?)"
	echo
done
