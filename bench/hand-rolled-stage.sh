#!/usr/bin/env bash
# The best a user can hand-roll with git for `greenlight stage ENV --clone URL` on a big
# repository (the benchmark's baseline): a depth-1, blobless, sparse clone of the one
# environment, its files replaced by what greenlight writes (copied from FILES), commit, push.
#
#   bench/hand-rolled-stage.sh URL ENV FILES
set -euo pipefail
url=$1 env=$2 files=$3
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
git clone -q --depth 1 --filter=blob:none --sparse "$url" "$dir/w"
git -C "$dir/w" sparse-checkout set "environments/$env" "rendered/$env"
cp -r "$files/." "$dir/w/"
git -C "$dir/w" add -A
git -C "$dir/w" commit -q -m "stage $env"
git -C "$dir/w" push -q origin HEAD:main
