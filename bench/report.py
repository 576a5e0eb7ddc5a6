#!/usr/bin/env python3
"""Turn the results of bench/run.sh (timings in hyperfine's JSON layout, peak memory, machine
facts) into the measured part of BENCHMARKS.md, printed on stdout: the tables, the ratio behind
every target and whether it is met. bench/notes.md (hand-written: what changed, the profiles
behind the targets not met, what would close them) is appended verbatim."""
import json
import os
import statistics
import sys

res = sys.argv[1]
here = os.path.dirname(os.path.abspath(__file__))


def load(name):
    path = os.path.join(res, name + ".json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return {r["command"]: r for r in json.load(f)["results"]}


def ms(x):
    return f"{x * 1000:.1f} ms" if x < 1 else f"{x:.2f} s"


def med(r):
    return statistics.median(r["times"])


def row(name, r):
    t = r["times"]
    return f"| {name} | {ms(med(r))} | {ms(min(t))} – {ms(max(t))} | {len(t)} |"


def table(results):
    out = ["| command | median | min – max | runs |", "|---|---:|---:|---:|"]
    out += [row(n, r) for n, r in results.items()]
    return "\n".join(out)


def pick(results, prefix):
    return next(r for n, r in results.items() if n.startswith(prefix))


machine = [l.rstrip("\n").split("\t", 1) for l in open(os.path.join(res, "machine.tsv"))]
memory = [l.rstrip("\n").split("\t", 1) for l in open(os.path.join(res, "memory.tsv"))]
mem = {name: int(kib) / 1024 for name, kib in memory}
targets = []  # (target, measured, met)

print("# Benchmarks\n")
print("Written by `bench/run.sh`, the one command that reproduces everything below (it installs")
print("hyperfine, GNU time and Helm itself). Timings are wall-clock. Commands that take more than a")
print("few milliseconds ran in turns (`bench/alternate.py`: one run of each, round after round), so")
print("the machine's changing load spreads over all of them; the short ones ran under hyperfine,")
print("in five rounds that each time every command a few times, for the same reason.")
print("Medians are compared. Peak memory is the maximum resident set size (`/usr/bin/time -f %M`)")
print("of one run. The machine is a shared 2-core VM: expect noise, read ratios rather than single")
print("numbers, and see the load average below.\n")
print("## Machine\n")
print("| | |\n|---|---|")
for k, v in machine:
    print(f"| {k} | {v} |")

# --- render one environment --------------------------------------------------------------
one = load("render-one")
gl, helm = one["greenlight render staging"], one["helm template"]
floor = one.get("greenlight --version (process floor)")
print("\n## Render one environment vs `helm template`\n")
print("`greenlight render staging` of a directory holding `environments/staging/values.yaml`")
print("(renders 6 files; they are up to date from an earlier run, so it writes none, as in a CI")
print("check) vs `helm template rel bench/chart` of an equivalent chart (prints the same 5")
print("objects); `greenlight --version` is the cost of starting the process at all.\n")
print(table(one))
ratio = med(helm) / med(gl)
print(f"\nRatio of medians: helm / greenlight = **{ratio:.1f}×**.", end="")
static = one.get("greenlight render staging (static, as released)")
measured = f"{ratio:.1f}× (`cargo build --release`)"
best = ratio
if static is not None:
    static_ratio = med(helm) / med(static)
    print(f" The static binary that releases ship (`build/static.sh`, the `dist` profile): "
          f"**{static_ratio:.1f}×**.")
    measured += f", {static_ratio:.1f}× (static, as released)"
    best = max(best, static_ratio)
else:
    print()
targets.append(("render one environment ≥ 20× faster than `helm template`", measured,
                best >= 20))
one_mem = mem.get("greenlight render staging")
if one_mem is not None:
    targets.append(("peak memory of rendering one environment ≤ 20 MiB", f"{one_mem:.1f} MiB",
                    one_mem <= 20))

# --- promote ------------------------------------------------------------------------------
print("\n## Promote vs `git add` + `git commit`\n")
print("Generated repositories (`bench/gen-repo DIR APPS`: APPS apps × dev/stage/prod, 8 files per")
print("environment) whose tip is a `greenlight stage` commit of `app-0000/prod`, so promote's")
print("history guard finds the stage in the first commit it reads. Each run starts from that tip")
print("(`git reset --hard`, or `update-ref` for the bare copy: not timed). The git baseline is")
print("`git add` of the same 3 files greenlight changes (values.yaml and two Services, contents")
print("copied from a greenlight promote) and `git commit`, in an identical checkout.\n")
repos = [l.split() for l in open(os.path.join(res, "repos.txt"))]
rows = []
for apps, files in repos:
    r = load(f"promote-{apps}")
    print(f"### {int(files):,} files ({apps} apps, {int(apps) * 3:,} environments)\n")
    print(table(r))
    print()
    rows.append((int(files), med(pick(r, "greenlight promote (checkout")),
                 med(pick(r, "git add")), med(pick(r, "greenlight promote (bare"))))
print("| files | greenlight (checkout) | git add + commit | git / greenlight | greenlight (bare) |")
print("|---:|---:|---:|---:|---:|")
for files, g, gitc, bare in rows:
    print(f"| {files:,} | {ms(g)} | {ms(gitc)} | {gitc / g:.1f}× | {ms(bare)} |")
big = max(rows)
ratio = big[2] / big[1]
targets.append((f"promote in the {big[0]:,}-file checkout ≥ 3× faster than `git add` + "
                "`git commit`", f"{ratio:.1f}×", ratio >= 3))

# --- render --all ------------------------------------------------------------------------
r = load("render-all")
warm = pick(r, "greenlight render --all (up to date")
cold = pick(r, "greenlight render --all (cold")
print("\n## `render --all`, 6,000 environments: up to date vs cold\n")
print("The 2,000-app repository: 6,000 values files, 36,000 rendered files. \"Up to date\"")
print("renders everything and writes nothing (the common case in CI); \"cold\" runs without")
print("`rendered/` (moved aside and the disk synced first, not timed), so it creates 6,000")
print("folders and writes 36,000 files, each to a temporary file renamed into place (none is")
print("fsync'ed). `git checkout -- rendered` writing the same files from the index is the")
fs = open(os.path.join(res, "render-all-fs.txt")).read().strip()
print(f"reference. The repository lies on {fs}: on this VM's long-used disk, after the")
print("files the other sections create and delete, ext4's inode allocator made the same 36,000")
print("creations take 10–14 s for greenlight and git alike; a CI runner starts from a fresh disk.\n")
print(table(r))
ratio = med(cold) / med(warm)
pairs = [c / w for c, w in zip(cold["times"], warm["times"])]
git = pick(r, "git checkout -- rendered")
print(f"\nCold / up to date = **{ratio:.2f}×** (medians); per round "
      + ", ".join(f"{p:.2f}×" for p in pairs) + f". Cold render / `git checkout` of the same "
      f"files = {med(cold) / med(git):.2f}×.")
targets.append(("cold `render --all` ≤ 2.5× an up-to-date one", f"{ratio:.2f}×", ratio <= 2.5))

# --- clone --------------------------------------------------------------------------------
print("\n## `stage ENV --clone URL` on a served remote: short and long history\n")
print("`bench/gen-history` gives the 42,000-file repository 3,000 or 30,000 release commits of")
print("other environments, then a real `promote` of `app-0000/prod`, then 100 more commits; it is")
print("served by `git daemon` on 127.0.0.1 (`uploadpack.allowFilter`, as the big forges allow).")
print("Both sides stage `app-0000/prod` (its guard reads history back to that promotion, 101")
print("commits deep), commit and push to `main`, which is reset between runs (not timed). The")
print("hand-rolled git (`bench/hand-rolled-stage.sh`) clones `--depth 1 --filter=blob:none")
print("--sparse`, `sparse-checkout set`s the environment, writes the files greenlight writes,")
print("commits and pushes; it reads no history, so it checks no guard.\n")
clone = {}
for commits in (3000, 30000):
    r = load(f"clone-{commits}")
    full = load(f"fullclone-{commits}")
    print(f"### {commits:,} commits of history\n")
    merged = dict(r)
    if full:
        merged.update(full)
    print(table(merged))
    print()
    clone[commits] = (med(pick(r, "greenlight")), med(pick(r, "hand-rolled")),
                      med(next(iter(full.values()))) if full else None)
print("| history | greenlight | hand-rolled git | hand-rolled / greenlight | full bare clone |")
print("|---:|---:|---:|---:|---:|")
for commits, (g, h, f) in clone.items():
    print(f"| {commits:,} | {ms(g)} | {ms(h)} | {h / g:.2f}× | {ms(f) if f else '–'} |")
growth = clone[30000][0] / clone[3000][0]
hand_growth = clone[30000][1] / clone[3000][1]
print(f"\nFrom 3,000 to 30,000 commits greenlight's stage grows **{growth:.2f}×** (the hand-rolled")
print(f"git {hand_growth:.2f}×" + (f", the full clone {clone[30000][2] / clone[3000][2]:.2f}×)."
                                    if clone[3000][2] else ")."))
slowest = max(clone[c][0] / clone[c][1] for c in clone)
targets.append(("`stage --clone` at least as fast as the hand-rolled sparse, blobless, depth-1 "
                "git (both histories)", f"greenlight / hand-rolled ≤ {slowest:.2f}", slowest <= 1))
targets.append(("`stage --clone` grows ≤ 1.3× from 3,000 to 30,000 commits", f"{growth:.2f}×",
                growth <= 1.3))

# --- whole-fleet read commands -------------------------------------------------------------
r = load("fleet-read")
if r:
    print("\n## `verify` and `diff` of 6,000 environments\n")
    print("`verify` (the reviewers' CI gate) in the 2,000-app checkout, reading the commit and with")
    print("`--worktree`, beside the same check by hand: `render --all` (up to date, so it writes")
    print("nothing) and `git diff --quiet -- rendered`. `diff` of every environment in the bare")
    print("repository with 3,000 commits of history, where it also reads each environment's release")
    print("state (one walk of history for all). No target; it grows with the fleet, so it is measured.\n")
    print(table(r))
    by_hand = pick(r, "greenlight render --all")
    committed = pick(r, "greenlight verify (checkout")
    print(f"\n`verify` of the commit / the check by hand = {med(committed) / med(by_hand):.2f}×.")

# --- memory, targets ---------------------------------------------------------------------
print("\n## Peak memory\n")
print("| command | peak RSS |\n|---|---:|")
for name, mib in mem.items():
    print(f"| {name} | {mib:.1f} MiB |")

print("\n## Targets (issue 17)\n")
print("| target | measured in this run | met? |\n|---|---|---|")
for target, measured, met in targets:
    print(f"| {target} | {measured} | {'yes' if met else '**no**'} |")

notes = os.path.join(here, "notes.md")
if os.path.exists(notes):
    print()
    print(open(notes).read().rstrip())
