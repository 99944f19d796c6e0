#!/usr/bin/env python3
"""Turns the measurements bench/print.sh collected into a Markdown report on stdout.

Usage: summary.py RESULTS_DIR

RESULTS_DIR holds `index.tsv` (one line per measurement: id, case, tool, expected outcome) and,
per id, `<id>.json` (hyperfine's --export-json, or bench/timing.py's, or a one-shot
`{"one_shot_seconds": S}`), `<id>.rss` (max RSS in KiB, one line per run) and `<id>.message`
(the first line the command wrote to stderr, or stdout when stderr was empty).
"""

import json
import statistics
import sys
from pathlib import Path

# The goals for `print` on a 200-function service.
TARGET_MEAN_SECONDS = 0.030
TARGET_SPEEDUP = 50.0


def milliseconds(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms" if seconds >= 1 else f"{seconds * 1000:.1f} ms"


def read_measurement(directory: Path, identifier: str) -> dict:
    data = json.loads((directory / f"{identifier}.json").read_text())
    if "one_shot_seconds" in data:
        seconds = data["one_shot_seconds"]
        timing = {"mean": seconds, "stddev": 0.0, "median": seconds, "min": seconds, "runs": 1}
    else:
        result = data["results"][0]
        timing = {
            "mean": result["mean"],
            "stddev": result.get("stddev") or 0.0,
            "median": result["median"],
            "min": result["min"],
            "runs": len(result.get("times", [])),
        }
    rss_path = directory / f"{identifier}.rss"
    rss = [int(line) for line in rss_path.read_text().split() if line.strip().isdigit()] if rss_path.exists() else []
    timing["rss_mib"] = max(rss) / 1024 if rss else None
    message_path = directory / f"{identifier}.message"
    timing["message"] = message_path.read_text().strip() if message_path.exists() else ""
    return timing


def differences(ours, theirs, path="") -> list[str]:
    """Where two JSON values differ, as dotted paths; map key order does not count."""
    if isinstance(ours, dict) and isinstance(theirs, dict):
        found = []
        for key in sorted(set(ours) | set(theirs)):
            where = f"{path}.{key}" if path else key
            if key not in ours:
                found.append(f"{where} (missing)")
            elif key not in theirs:
                found.append(f"{where} (extra)")
            else:
                found += differences(ours[key], theirs[key], where)
        return found
    if isinstance(ours, list) and isinstance(theirs, list) and len(ours) == len(theirs):
        found = []
        for index, (mine, other) in enumerate(zip(ours, theirs)):
            found += differences(mine, other, f"{path}.{index}")
        return found
    return [] if ours == theirs else [path or "(root)"]


def same_output(ours_path: Path, theirs_path: Path) -> str:
    try:
        ours = json.loads(ours_path.read_text())
    except (OSError, ValueError):
        return "no (updraft did not print JSON)"
    try:
        theirs = json.loads(theirs_path.read_text())
    except (OSError, ValueError):
        return "unknown (the Framework did not print JSON)"
    # A CloudFormation artifact path that only the Framework uses; a `package` map left empty
    # by dropping it counts as absent.
    for value in (ours, theirs):
        if isinstance(value, dict) and isinstance(value.get("package"), dict):
            value["package"].pop("artifactsS3KeyDirname", None)
            if not value["package"]:
                value.pop("package")
    found = differences(ours, theirs)
    if not found:
        return "yes"
    shown = ", ".join(f"`{where}`" for where in found[:5])
    more = f" and {len(found) - 5} more" if len(found) > 5 else ""
    return f"NO, differs at {shown}{more}"


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    directory = Path(sys.argv[1])
    rows = []
    for line in (directory / "index.tsv").read_text().splitlines():
        identifier, case, tool, expected = line.split("\t")
        rows.append((case, tool, expected, read_measurement(directory, identifier)))

    print("| Case | Tool | Mean ± σ | Median | Min | Runs | Max RSS | Framework ÷ updraft (mean) |")
    print("|---|---|---|---|---|---|---|---|")
    by_case: dict[str, dict[str, dict]] = {}
    for case, tool, expected, timing in rows:
        by_case.setdefault(case, {})[tool] = timing
    for case, tool, expected, timing in rows:
        tools = by_case[case]
        ratio = ""
        if tool == "updraft" and "Framework v3" in tools:
            ratio = f"{tools['Framework v3']['mean'] / timing['mean']:,.0f}x"
        rss = f"{timing['rss_mib']:,.1f} MiB" if timing["rss_mib"] is not None else "n/a"
        spread = f" ± {milliseconds(timing['stddev'])}" if timing["runs"] > 1 else ""
        print(
            f"| {case} | {tool} | {milliseconds(timing['mean'])}{spread} | {milliseconds(timing['median'])} "
            f"| {milliseconds(timing['min'])} | {timing['runs']} | {rss} | {ratio} |"
        )

    messages = [(case, tool, timing["message"]) for case, tool, expected, timing in rows if expected == "error"]
    if messages:
        print()
        print("What each tool said where an error is the right answer:")
        print()
        for case, tool, message in messages:
            print(f"- {case}, {tool}: `{message[:200]}`")

    comparisons = [
        (label, directory / f"{service}.updraft.output.json", directory / f"{service}.framework.output.json")
        for service, label in (("example", "serverless.example.yml"), ("large", "the 200-function service"))
    ]
    comparisons = [(label, ours, theirs) for label, ours, theirs in comparisons if theirs.exists()]
    if comparisons:
        print()
        for label, ours, theirs in comparisons:
            print(f"- Same output as the Framework (`print --format json`) on {label}: {same_output(ours, theirs)}")

    large = by_case.get("print, 200 functions", {})
    if "updraft" in large:
        mean = large["updraft"]["mean"]
        verdict = "met" if mean < TARGET_MEAN_SECONDS else "MISSED"
        print()
        print(f"- Goal: 200-function print under {TARGET_MEAN_SECONDS * 1000:.0f} ms: {verdict} ({milliseconds(mean)} mean).")
        if "Framework v3" in large:
            speedup = large["Framework v3"]["mean"] / mean
            verdict = "met" if speedup >= TARGET_SPEEDUP else "MISSED"
            print(f"- Goal: at least {TARGET_SPEEDUP:.0f}x faster than the Framework: {verdict} ({speedup:,.0f}x).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
