#!/bin/sh
# Install greenlight from a release: pick the archive for this OS and CPU, download it and
# SHA256SUMS, verify the checksum, install the binary, print its version.
#
#   curl -fsSL https://github.com/greenlight-gitops/greenlight/releases/download/v0.1.0/install.sh \
#     | sh -s -- --version 0.1.0
#
# Options (each also read from the environment variable in brackets):
#   --version V     the release to install, e.g. 0.1.0 or v0.1.0 [GREENLIGHT_VERSION]
#                   (default: the latest release)
#   --dir DIR       where to put the binary [GREENLIGHT_INSTALL_DIR]
#                   (default: /usr/local/bin if writable, else $HOME/.local/bin)
#   --base-url URL  the directory holding one release's archives and SHA256SUMS, for a
#                   mirror [GREENLIGHT_BASE_URL] (default: the project's GitHub release)
#   --resolve       print the version that would be installed and stop
#
# Archives are named greenlight-<version>-<target>.tar.gz, target one of
# x86_64-unknown-linux-gnu and aarch64-unknown-linux-gnu (static: any Linux distribution),
# x86_64-apple-darwin and aarch64-apple-darwin. Needs curl or wget, tar with gzip, and
# sha256sum, shasum or openssl. Any failure exits non-zero before anything is installed.
# POSIX sh: runs under dash, busybox sh and bash alike.
set -eu

releases=https://github.com/greenlight-gitops/greenlight/releases
version=${GREENLIGHT_VERSION:-latest}
dir=${GREENLIGHT_INSTALL_DIR:-}
base_url=${GREENLIGHT_BASE_URL:-}
resolve=
tmp=

say() { printf 'install.sh: %s\n' "$*" >&2; }
die() {
  printf 'install.sh: error: %s\n' "$1" >&2
  if [ $# -gt 1 ]; then printf '  hint: %s\n' "$2" >&2; fi
  exit 1
}
usage() {
  cat <<EOF
usage: install.sh [--version V] [--dir DIR] [--base-url URL] [--resolve]
  --version V     the release to install, e.g. 0.1.0 (default: the latest release)
  --dir DIR       where to put greenlight (default: /usr/local/bin if writable,
                  else \$HOME/.local/bin)
  --base-url URL  a mirror: the directory holding one release's archives and SHA256SUMS
  --resolve       print the version that would be installed and stop
Each option can also be set by an environment variable: GREENLIGHT_VERSION,
GREENLIGHT_INSTALL_DIR, GREENLIGHT_BASE_URL.
EOF
}
usage_error() {
  printf 'install.sh: %s\n' "$1" >&2
  usage >&2
  exit 2
}

while [ $# -gt 0 ]; do
  case "$1" in
    --version | --dir | --base-url)
      [ $# -ge 2 ] || usage_error "$1 needs a value"
      case "$1" in
        --version) version=$2 ;;
        --dir) dir=$2 ;;
        --base-url) base_url=$2 ;;
      esac
      shift 2
      ;;
    --version=*) version=${1#*=}; shift ;;
    --dir=*) dir=${1#*=}; shift ;;
    --base-url=*) base_url=${1#*=}; shift ;;
    --resolve) resolve=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage_error "unknown argument: $1" ;;
  esac
done

version=${version#v}
case "$version" in
  '' | *[!0-9A-Za-z.+-]*) usage_error "--version: expected a version like 0.1.0 or latest, not '$version'" ;;
esac

# The Rust target triple of the archive that runs here.
os=$(uname -s)
cpu=$(uname -m)
case "$cpu" in
  x86_64 | amd64) cpu=x86_64 ;;
  aarch64 | arm64) cpu=aarch64 ;;
  *) die "no greenlight release for the CPU '$cpu' (releases exist for x86_64 and aarch64)" \
    "build from source: cargo install --locked --git https://github.com/greenlight-gitops/greenlight greenlight" ;;
esac
case "$os" in
  Linux) target=$cpu-unknown-linux-gnu ;;
  Darwin) target=$cpu-apple-darwin ;;
  *) die "no greenlight release for the OS '$os' (releases exist for Linux and macOS)" \
    "build from source: cargo install --locked --git https://github.com/greenlight-gitops/greenlight greenlight" ;;
esac

if [ -n "$resolve" ] && [ "$version" != latest ]; then
  echo "$version"
  exit 0
fi

if [ -z "$base_url" ]; then
  if [ "$version" = latest ]; then
    base_url=$releases/latest/download
  else
    base_url=$releases/download/v$version
  fi
fi
base_url=${base_url%/}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/greenlight-install.XXXXXX") || die "cannot make a temporary directory"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fetch() {
  if command -v curl >/dev/null 2>&1; then
    curl --fail --silent --show-error --location --retry 3 --output "$2" "$1" || return 1
  elif command -v wget >/dev/null 2>&1; then
    wget --quiet --tries=3 --output-document="$2" "$1" || return 1
  else
    die "neither curl nor wget is installed" "install one of them, then run install.sh again"
  fi
}

# The archives SHA256SUMS lists, on one line.
archives() {
  awk '{ f = $2; sub(/^\*/, "", f) } f ~ /\.tar\.gz$/ { printf "%s%s", s, f; s = " " }' "$tmp/SHA256SUMS"
}

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d ' ' -f 1
  elif command -v shasum >/dev/null 2>&1; then
    shasum -a 256 "$1" | cut -d ' ' -f 1
  elif command -v openssl >/dev/null 2>&1; then
    openssl dgst -sha256 -r "$1" | cut -d ' ' -f 1
  else
    die "no SHA-256 tool (sha256sum, shasum or openssl) to verify the download with"
  fi
}

say "downloading $base_url/SHA256SUMS"
fetch "$base_url/SHA256SUMS" "$tmp/SHA256SUMS" \
  || die "could not download $base_url/SHA256SUMS" \
    "check --version and --base-url (is there such a release?), and the network"

# SHA256SUMS is `sha256sum` output: "<64 hex>  <file>" ("*<file>" in binary mode).
if [ "$version" = latest ]; then
  archive=$(awk -v t="-$target.tar.gz" '{ f = $2; sub(/^\*/, "", f) }
    f ~ /^greenlight-/ && substr(f, length(f) - length(t) + 1) == t { print f }' "$tmp/SHA256SUMS")
  case "$archive" in
    greenlight-*-"$target".tar.gz) ;;
    *) die "the release at $base_url has no archive for $target" "the release has: $(archives)" ;;
  esac
  version=${archive#greenlight-}
  version=${version%-"$target".tar.gz}
  case "$version" in
    '' | *[!0-9A-Za-z.+-]*) die "the release at $base_url lists an unexpected archive name: $archive" ;;
  esac
  if [ "$base_url" = "$releases/latest/download" ]; then
    # Fetch the archive from its version's release, which a newer release cannot replace.
    base_url=$releases/download/v$version
  fi
else
  archive=greenlight-$version-$target.tar.gz
fi
if [ -n "$resolve" ]; then
  echo "$version"
  exit 0
fi

want=$(awk -v a="$archive" '$2 == a || $2 == "*" a { print $1 }' "$tmp/SHA256SUMS")
case "$want" in
  '') die "$archive is not in $base_url/SHA256SUMS: no release of greenlight $version for $target" \
    "the release has: $(archives)" ;;
  *[!0-9a-fA-F]*) die "$base_url/SHA256SUMS lists $archive more than once or with a malformed checksum" ;;
esac
[ ${#want} -eq 64 ] || die "$base_url/SHA256SUMS has a malformed checksum for $archive"

say "downloading $base_url/$archive"
fetch "$base_url/$archive" "$tmp/$archive" || die "could not download $base_url/$archive"
got=$(sha256_of "$tmp/$archive")
want=$(printf '%s' "$want" | tr 'A-F' 'a-f')
[ "$got" = "$want" ] \
  || die "checksum mismatch for $archive: SHA256SUMS says $want, the download is $got" \
    "the download is corrupt or was tampered with; nothing was installed"
say "checksum ok: $got"

mkdir "$tmp/x"
tar -xzf "$tmp/$archive" -C "$tmp/x" || die "could not unpack $archive"
bin=$tmp/x/greenlight-$version-$target/greenlight
[ -f "$bin" ] || die "$archive has no greenlight-$version-$target/greenlight"
chmod 755 "$bin"
out=$("$bin" --version 2>&1) || die "the downloaded greenlight does not run here: $out"
case "$out" in
  "greenlight $version "* | "greenlight $version") ;;
  *) die "$archive holds '$out', not greenlight $version" ;;
esac

if [ -z "$dir" ]; then
  if [ -w /usr/local/bin ]; then dir=/usr/local/bin; else dir=${HOME:?HOME is not set}/.local/bin; fi
fi
mkdir -p "$dir" || die "cannot create the install directory $dir"
# Copy beside the target, then rename: a running or half-copied greenlight is never seen.
cp "$bin" "$dir/.greenlight.install.$$" || die "cannot write to $dir" "choose another directory with --dir"
if ! mv -f "$dir/.greenlight.install.$$" "$dir/greenlight"; then
  rm -f "$dir/.greenlight.install.$$"
  die "cannot install $dir/greenlight"
fi
case ":${PATH:-}:" in
  *":$dir:"*) ;;
  *) say "note: $dir is not on PATH; add it, or run $dir/greenlight" ;;
esac
echo "$out installed as $dir/greenlight"
