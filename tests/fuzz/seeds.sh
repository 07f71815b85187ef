#!/bin/sh
# SPDX-License-Identifier: MIT
# Makes the fuzzer's seed corpus: real traces of the examples and of probe
# scenarios, one seed per run (its processes' files laid end to end).
# usage: seeds.sh OUTDIR LIBSOCKTRACE EXAMPLES_DIR PROBE
set -eu
out=$1 lib=$2 ex=$3 probe=$4
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chmod 700 "$tmp"

# seed NAME MAX_SIZE FULL CMD...: one run traced into a fresh directory.
# Small size caps keep seeds small (the header is 4 KiB, a slot 128 bytes)
# and give files that wrapped (ring) or filled up (stop).
seed() {
	name=$1 size=$2 full=$3
	shift 3
	d=$tmp/$name
	SOCKTRACE_DIR=$d SOCKTRACE_MAX_SIZE=$size SOCKTRACE_FULL=$full \
		LD_PRELOAD=$lib "$@" >/dev/null 2>&1 </dev/null || true
	# files in a stable order: the seed is the same from run to run
	ls "$d"/*.trace >/dev/null 2>&1 || { echo "seeds: $name: no trace" >&2; exit 1; }
	cat $(ls "$d"/*.trace | sort) > "$out/$name"
}

for e in echo close_wait server_close refused nonblock; do
	seed "$e" 16K ring "$ex/$e"
done
seed echo-wrap 6K ring "$ex/echo"
seed probe-echo 16K ring "$probe" echo
seed probe-echo-stop 8K stop "$probe" echo
seed probe-nonblock 16K ring "$probe" nonblock
seed probe-unix 16K ring "$probe" unix
seed probe-errors 16K ring "$probe" errors
seed probe-fork 16K ring "$probe" fork
echo "seeds: $(ls "$out" | wc -l) in $out"
