#!/usr/bin/env python3
"""Time commands in turns, for comparisons on a busy machine.

    bench/alternate.py OUT.json RUNS NAME PREPARE COMMAND [NAME PREPARE COMMAND ...]

Runs round after round: in each round every command once, in the given order, each after its
PREPARE shell command (not timed; "" for none). hyperfine runs all of one command before the
next, so a change in the machine's load between them becomes a difference between them;
taking turns spreads it over all. Writes wall-clock times in hyperfine's JSON layout
({"results": [{"command", "times", ...}]}) and fails when a timed command fails.
"""
import json
import statistics
import subprocess
import sys
import time


def main():
    if len(sys.argv) < 6 or (len(sys.argv) - 3) % 3:
        sys.exit(__doc__)
    out, runs = sys.argv[1], int(sys.argv[2])
    args = sys.argv[3:]
    commands = [args[i:i + 3] for i in range(0, len(args), 3)]
    times = {name: [] for name, _, _ in commands}
    for _ in range(runs):
        for name, prepare, command in commands:
            if prepare:
                subprocess.run(["bash", "-c", prepare], check=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            start = time.perf_counter()
            # Not "exec COMMAND": that would run only the first command of "a && b". bash
            # execs a lone simple command itself, without a fork.
            done = subprocess.run(["bash", "-c", command],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            elapsed = time.perf_counter() - start
            if done.returncode != 0:
                sys.exit(f"{name} failed ({done.returncode}): {command}\n"
                         f"{done.stderr.decode(errors='replace')}")
            times[name].append(elapsed)
    results = []
    for name, _, command in commands:
        t = times[name]
        results.append({"command": name, "exec": command, "times": t,
                        "median": statistics.median(t), "min": min(t), "max": max(t)})
        print(f"  {name}: median {statistics.median(t) * 1000:.1f} ms "
              f"({min(t) * 1000:.1f} – {max(t) * 1000:.1f}, {len(t)} runs)", file=sys.stderr)
    with open(out, "w") as f:
        json.dump({"results": results}, f, indent=1)


if __name__ == "__main__":
    main()
