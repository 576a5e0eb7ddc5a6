#!/bin/sh
# Build a fully static greenlight for the Linux machine it runs on (x86_64 or aarch64), with
# no dynamic library dependencies, and print its path.
#
#   build/static.sh     # prints the absolute path of
#                       # ${CARGO_TARGET_DIR:-target}/<host triple>/release/greenlight
#
# How: glibc linked statically (`-C target-feature=+crt-static` on the gnu target; no musl
# toolchain is needed), zlib built from its bundled source (LIBZ_SYS_STATIC=1), libgit2 from
# the copy vendored in libgit2-sys. greenlight links neither OpenSSL nor libssh2: git's
# transports are the `git` program, and forge HTTPS is rustls. `--target` is passed explicitly
# so that RUSTFLAGS reach only the binary, not build scripts and proc macros. Built without
# debug info (a quarter of the size; panics still name functions, not lines).
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

RUSTFLAGS="${RUSTFLAGS:+$RUSTFLAGS }-C target-feature=+crt-static" \
  LIBZ_SYS_STATIC=1 \
  CARGO_PROFILE_RELEASE_DEBUG=false \
  CARGO_PROFILE_RELEASE_STRIP=debuginfo \
  cargo build --locked --release --bin greenlight --target "$host" "$@" >&2

bin="$(cd "${CARGO_TARGET_DIR:-target}/$host/release" && pwd)/greenlight"
# A static binary has no program interpreter: `file` says "statically linked" (or
# "static-pie linked") and ldd "not a dynamic executable" (or "statically linked").
if ldd "$bin" 2>&1 | grep -q '=>'; then
  echo "build/static.sh: $bin is not static:" >&2
  ldd "$bin" >&2
  exit 1
fi
echo "$bin"
