#!/bin/sh
# Rebuild every bpf-obj/*.bpf.o from its *.bpf.c, reproducibly.
#
#   bpf-obj/build.sh [OUTPUT_DIR]      (default: bpf-obj/ itself)
#
# Environment:
#   CLANG          compiler (default clang-19; the committed objects were built
#                  with Debian's clang-19 19.1.7)
#   LLVM_STRIP     strip tool (default: CLANG with "clang" replaced by
#                  "llvm-strip", e.g. llvm-strip-19; Debian package llvm-19)
#   UAPI_ARCH_INC  arch uapi include dir providing <asm/types.h>
#                  (default /usr/include/$(uname -m)-linux-gnu)
#
# Reproducibility: clang runs inside bpf-obj/ on relative file names, and
# -ffile-prefix-map rewrites the build directory to "." so that neither the
# DWARF comp_dir nor the file names in .BTF.ext contain the checkout path.
# DWARF (.debug_*) is then removed with `llvm-strip -g`, which also drops the
# compiler version string; .BTF, .BTF.ext, the symbol table and every
# relocation section the loader needs are kept.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here}
mkdir -p "$out"
out=$(cd "$out" && pwd)

CLANG=${CLANG:-clang-19}
if [ -z "${LLVM_STRIP:-}" ]; then
	LLVM_STRIP=$(printf '%s\n' "$CLANG" | sed 's/clang\([^\/]*\)$/llvm-strip\1/')
fi
UAPI_ARCH_INC=${UAPI_ARCH_INC:-/usr/include/$(uname -m)-linux-gnu}

cd "$here"
for src in *.bpf.c; do
	obj=${src%.c}.o
	tmp="$out/$obj.tmp.$$"
	"$CLANG" -O2 -g -target bpf \
		-I include -I "$UAPI_ARCH_INC" \
		-ffile-prefix-map="$here"=. \
		-c "$src" -o "$tmp"
	"$LLVM_STRIP" -g "$tmp" -o "$out/$obj"
	rm -f "$tmp"
	echo "built $out/$obj"
done
