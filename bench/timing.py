#!/usr/bin/env python3
"""A stand-in for hyperfine where it is not installed: times a command several times and writes
the same JSON fields that `hyperfine --export-json` writes (mean, stddev, median, min, max, in
seconds), so bench/summary.py reads either.

Usage: timing.py --runs N --warmup W --export-json FILE [--ignore-failure] -- COMMAND [ARGS...]
"""

import argparse
import json
import statistics
import subprocess
import sys
import time


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--export-json", required=True)
    parser.add_argument("--ignore-failure", action="store_true")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    arguments = parser.parse_args()
    command = arguments.command[1:] if arguments.command[:1] == ["--"] else arguments.command
    if not command or arguments.runs < 1:
        parser.error("give a command after -- and --runs of at least 1")

    def run_once() -> tuple[float, int]:
        started = time.perf_counter()
        finished = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return time.perf_counter() - started, finished.returncode

    for _ in range(arguments.warmup):
        run_once()
    times, exit_codes = [], []
    for _ in range(arguments.runs):
        elapsed, code = run_once()
        if code != 0 and not arguments.ignore_failure:
            print(f"command failed with exit code {code}: {' '.join(command)}", file=sys.stderr)
            return 1
        times.append(elapsed)
        exit_codes.append(code)
    result = {
        "command": " ".join(command),
        "mean": statistics.fmean(times),
        "stddev": statistics.stdev(times) if len(times) > 1 else 0.0,
        "median": statistics.median(times),
        "min": min(times),
        "max": max(times),
        "times": times,
        "exit_codes": exit_codes,
    }
    with open(arguments.export_json, "w", encoding="utf-8") as out:
        json.dump({"results": [result]}, out, indent=2)
    print(f"{result['command']}: mean {result['mean'] * 1000:.1f} ms over {len(times)} runs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
