#!/usr/bin/env python3
"""Turn the results of bench/run.sh (hyperfine JSON, peak memory, machine facts) into the
measured part of BENCHMARKS.md, printed on stdout. bench/notes.md (hand-written analysis:
targets, profiles, gaps) is appended verbatim."""
import json
import os
import statistics
import sys

res = sys.argv[1]
here = os.path.dirname(os.path.abspath(__file__))


def load(name):
    with open(os.path.join(res, name + ".json")) as f:
        return {r["command"]: r for r in json.load(f)["results"]}


def ms(x):
    return f"{x * 1000:.1f} ms" if x < 1 else f"{x:.2f} s"


def row(name, r):
    t = r["times"]
    return f"| {name} | {ms(statistics.median(t))} | {ms(min(t))} – {ms(max(t))} | {len(t)} |"


def table(results):
    out = ["| command | median | min – max | runs |", "|---|---:|---:|---:|"]
    out += [row(n, r) for n, r in results.items()]
    return "\n".join(out)


def med(r):
    return statistics.median(r["times"])


machine = [l.rstrip("\n").split("\t", 1) for l in open(os.path.join(res, "machine.tsv"))]
memory = [l.rstrip("\n").split("\t", 1) for l in open(os.path.join(res, "memory.tsv"))]

print("# Benchmarks\n")
print("Written by `bench/run.sh` (the one command to reproduce everything below; it installs")
print("hyperfine, GNU time and Helm itself). Timings are wall-clock from hyperfine; peak memory")
print("is the maximum resident set size from `/usr/bin/time -f %M` of one run.\n")
print("## Machine\n")
print("| | |\n|---|---|")
for k, v in machine:
    print(f"| {k} | {v} |")

one = load("render-one")
gl, helm = one["greenlight render staging"], one["helm template"]
print("\n## Render one environment vs `helm template`\n")
print("`greenlight render staging` of a directory holding `environments/staging/values.yaml`")
print("(renders 6 files; they are up to date from an earlier run, so it writes none, as in a CI")
print("check) vs `helm template rel bench/chart` of an equivalent chart (prints the same 5")
print("objects).\n")
print(table(one))
print(f"\nRatio of medians: helm / greenlight = **{med(helm) / med(gl):.1f}×**.")
if os.path.exists(os.path.join(res, "render-one-cold.json")):
    print("\nThe same render with `rendered/` deleted before each run, so it writes all 6 files:\n")
    print(table(load("render-one-cold")))

print("\n## Promote vs `git add` + `git commit`\n")
print("Generated repositories (`bench/gen-repo DIR APPS`: APPS apps × dev/stage/prod, 7 files per")
print("environment) whose tip is a `greenlight stage` commit of `app-0000/prod`, so promote's")
print("history guard finds the stage in the first commit it reads. Each run starts from that tip")
print("(`git reset --hard`, or `update-ref` for the bare copy: not timed). The git baseline is")
print("`git add` of the same 3 files greenlight changes (values.yaml and two Services, contents")
print("copied from a greenlight promote) and `git commit`, in an identical checkout.\n")
repos = [l.split() for l in open(os.path.join(res, "repos.txt"))]
ratios = []
for apps, files in repos:
    r = load(f"promote-{apps}")
    print(f"### {files} files ({apps} apps, {int(apps) * 3} environments)\n")
    print(table(r))
    names = list(r)
    ratios.append((files, med(r[names[0]]), med(r[names[1]]), med(r[names[2]])))
    print()
print("| files | greenlight (checkout) | git add + commit | git / greenlight | greenlight (bare) |")
print("|---:|---:|---:|---:|---:|")
for files, g, gitc, bare in ratios:
    print(f"| {files} | {ms(g)} | {ms(gitc)} | {gitc / g:.1f}× | {ms(bare)} |")
print(f"\nPromote on the largest repository costs **{ratios[-1][1] / ratios[0][1]:.2f}×** its cost on")
print(f"the smallest (checkout); **{ratios[-1][3] / ratios[0][3]:.2f}×** in a bare repository.")

print("\n## `render --all`, 6,000 environments\n")
print("The 2,000-app repository: 6,000 values files, 36,000 rendered files. \"up to date\" re-renders")
print("everything and writes nothing (the common case in CI); \"1 thread\" is `RAYON_NUM_THREADS=1`,")
print("i.e. the sequential cost. `COLD=1 bench/run.sh` adds a run that writes all 36,000 files.\n")
print(table(load("render-all")))
if os.path.exists(os.path.join(res, "render-all-cold.json")):
    print()
    print(table(load("render-all-cold")))

print("\n## Peak memory\n")
print("| command | peak RSS |\n|---|---:|")
for name, kib in memory:
    print(f"| {name} | {int(kib) / 1024:.1f} MiB |")

notes = os.path.join(here, "notes.md")
if os.path.exists(notes):
    print()
    print(open(notes).read().rstrip())
