#!/bin/sh
# Package release files the way install.sh, the GitHub Action and `cargo binstall` expect
# them. The release workflow (.github/workflows/release.yml) and the installer tests
# (tests/it/installer.rs) both use this script, so the names cannot drift apart.
#
#   build/package.sh archive VERSION TARGET BINARY OUTDIR
#       -> OUTDIR/greenlight-VERSION-TARGET.tar.gz holding
#          greenlight-VERSION-TARGET/greenlight and greenlight-VERSION-TARGET/README.md
#   build/package.sh sums OUTDIR
#       -> OUTDIR/SHA256SUMS: `sha256sum` lines for every archive in OUTDIR and install.sh
set -eu
here="$(cd "$(dirname "$0")/.." && pwd)"

usage() {
  echo "usage: build/package.sh archive VERSION TARGET BINARY OUTDIR | sums OUTDIR" >&2
  exit 2
}

case "${1:-}" in
  archive)
    [ $# -eq 5 ] || usage
    version=${2#v}
    target=$3
    binary=$4
    out=$5
    case "$version" in '' | *[!0-9A-Za-z.+-]*) echo "bad version: $2" >&2; exit 2 ;; esac
    case "$target" in '' | *[!0-9A-Za-z_.-]*) echo "bad target: $target" >&2; exit 2 ;; esac
    [ -f "$binary" ] || { echo "no binary at $binary" >&2; exit 2; }
    name=greenlight-$version-$target
    mkdir -p "$out"
    stage="$(mktemp -d)"
    trap 'rm -rf "$stage"' EXIT
    mkdir "$stage/$name"
    cp "$binary" "$stage/$name/greenlight"
    chmod 755 "$stage/$name/greenlight"
    cp "$here/README.md" "$stage/$name/README.md"
    # COPYFILE_DISABLE: macOS tar must not add AppleDouble (._*) files.
    COPYFILE_DISABLE=1 tar -czf "$out/$name.tar.gz" -C "$stage" "$name"
    echo "$out/$name.tar.gz"
    ;;
  sums)
    [ $# -eq 2 ] || usage
    cp "$here/install.sh" "$2/install.sh"
    # `sha256sum` is GNU coreutils (the workflow runs this step on Linux).
    (cd "$2" && sha256sum greenlight-*.tar.gz install.sh >SHA256SUMS)
    echo "$2/SHA256SUMS"
    ;;
  *) usage ;;
esac
