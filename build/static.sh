#!/bin/sh
# Build a fully static greenlight for the Linux machine it runs on (x86_64 or aarch64), with
# no dynamic library dependencies, and print its path.
#
#   build/static.sh     # prints the absolute path of
#                       # ${CARGO_TARGET_DIR:-target}/<host triple>/dist/greenlight
#
# How: glibc linked statically (`-C target-feature=+crt-static` on the gnu target; no musl
# toolchain is needed), zlib built from its bundled source (LIBZ_SYS_STATIC=1), libgit2 from
# the copy vendored in libgit2-sys. greenlight links neither OpenSSL nor libssh2: git's
# transports are the `git` program, and forge HTTPS is rustls. `--target` is passed explicitly
# so that RUSTFLAGS reach only the binary, not build scripts and proc macros. The `dist`
# profile of Cargo.toml: release with fat LTO and one codegen unit, no debug info (panics
# still name functions, not lines).
#
# The binary stays position-independent (static-pie: the kernel loads it at a random
# address). Its relative relocations are packed (DT_RELR) when the linker and the C library
# support it (GNU ld 2.38 and glibc 2.36, where the static C library relocates the binary
# itself): the table the binary reads at every start shrinks from about 700 KB to 8 KB.
# When the linker is LLD, the functions listed in build/symbol-order.txt (those everyday
# commands run; build/symbol-order.sh regenerates it) are placed first and together, so that
# a command maps a third of the code blocks it otherwise would.
#
# Needs the static C library (Debian/Ubuntu: libc6-dev, part of build-essential). Extra cargo
# arguments are passed through, e.g. `build/static.sh --quiet`.
set -eu
cd "$(dirname "$0")/.."

host="$(rustc -vV | sed -n 's/^host: //p')"
case "$host" in
  x86_64-unknown-linux-gnu | aarch64-unknown-linux-gnu) ;;
  *)
    echo "build/static.sh: builds on x86_64 or aarch64 Linux (gnu) only; this host is $host" >&2
    exit 2
    ;;
esac

# Whether the C library is glibc $1.$2 or later.
glibc_at_least() {
  getconf GNU_LIBC_VERSION 2>/dev/null | awk -v major="$1" -v minor="$2" '
    $1 == "glibc" { split($2, v, "."); ok = v[1] > major || (v[1] == major && v[2] >= minor) }
    END { exit ok ? 0 : 1 }'
}
flags="-C target-feature=+crt-static"
if glibc_at_least 2 36 && ld --help 2>/dev/null | grep -q 'pack-relative-relocs'; then
  flags="$flags -C link-arg=-Wl,-z,pack-relative-relocs"
fi

# Whether rustc's linker for this host takes a symbol ordering file: LLD does (rustc's
# default linker on x86_64 Linux since Rust 1.90), GNU ld does not. The probe sees the
# caller's RUSTFLAGS (a `-C linker=` there), not a linker set in .cargo/config.toml.
links_with_order() {
  probe="$(mktemp -d)"
  echo 'fn main() {}' >"$probe/main.rs"
  ok=1
  # shellcheck disable=SC2086 # RUSTFLAGS is a space-separated list, as cargo reads it
  rustc ${RUSTFLAGS:-} --target "$host" -C link-arg=-Wl,--symbol-ordering-file=/dev/null \
    -o "$probe/main" "$probe/main.rs" >/dev/null 2>&1 || ok=0
  rm -rf "$probe"
  [ "$ok" = 1 ]
}
order=build/symbol-order.txt
ordered=0
if [ -f "$order" ] && links_with_order; then
  # The linker runs in the package root, this directory: a relative path survives the
  # space-splitting of RUSTFLAGS. Names missing from the binary are skipped (counted below).
  flags="$flags -C link-arg=-Wl,--symbol-ordering-file=$order"
  flags="$flags -C link-arg=-Wl,--no-warn-symbol-ordering"
  ordered=1
fi

RUSTFLAGS="${RUSTFLAGS:+$RUSTFLAGS }$flags" \
  LIBZ_SYS_STATIC=1 \
  cargo build --locked --profile dist --bin greenlight --target "$host" "$@" >&2

bin="$(cd "${CARGO_TARGET_DIR:-target}/$host/dist" && pwd)/greenlight"
# A static binary has no program interpreter: `file` says "statically linked" (or
# "static-pie linked") and ldd "not a dynamic executable" (or "statically linked").
if ldd "$bin" 2>&1 | grep -q '=>'; then
  echo "build/static.sh: $bin is not static:" >&2
  ldd "$bin" >&2
  exit 1
fi
if ! "$bin" --version >/dev/null; then
  echo "build/static.sh: $bin does not start" >&2
  exit 1
fi
if [ "$ordered" = 1 ] && command -v nm >/dev/null; then
  listed="$(grep -vc '^#' "$order")"
  LC_ALL=C sort -u "$order" >"$bin.listed"
  found="$(nm "$bin" | awk '{ print $NF }' | LC_ALL=C sort -u \
    | LC_ALL=C comm -12 - "$bin.listed" | wc -l)"
  rm -f "$bin.listed"
  if [ $((found * 5)) -lt $((listed * 4)) ]; then
    echo "build/static.sh: only $found of the $listed functions in $order are in the" \
      "binary; the code layout is no longer tuned: regenerate the list with" \
      "build/symbol-order.sh" >&2
  fi
fi
echo "$bin"
