#!/usr/bin/env bash
# Fills fuzz/corpus/values with every values file of the fixtures and the example, the seed
# corpus of the `values` target.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p fuzz/corpus/values
n=0
while IFS= read -r -d '' f; do
  cp "$f" "fuzz/corpus/values/$(echo "$f" | tr '/' '_')"
  n=$((n + 1))
done < <(find fixtures environments -name '*.yaml' -path '*values*' -print0)
echo "seeded $n files into fuzz/corpus/values"
