#!/usr/bin/env python3
"""Compares `updraft offline` with serverless-offline on the same trivial handlers.

For each emulator, the time from start to its `Server ready` line (median of READY_RUNS
starts). Then, for a Node.js and a Python handler behind an `httpApi` route, WRK_RUNS rounds in
which each emulator in turn is started fresh and measured: warm latency of sequential requests
on one keep-alive connection (p50/p99 of 500 after 20 warm-up requests), then
`wrk -t2 -c16 -d15s --latency` (requests per second and its p99). Each figure is the median of
the rounds. Peak memory is the largest over the rounds of the emulator with all its descendant
processes, two ways: the sum of their RSS (sampled every 20 ms; a page shared by several
processes, such as the interpreter's code, counts once per process) and the sum of their PSS
(every 200 ms; a shared page is split among the processes sharing it, so the sum is the memory
the tree uses).

Usage: bench/offline.py UPDRAFT_BIN BENCH_DIR  (bench/offline.sh installs and finds both)
Prints a Markdown table.
"""

import http.client
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

DURATION = int(os.environ.get("DURATION", "15"))
READY_RUNS = int(os.environ.get("READY_RUNS", "5"))
WRK_RUNS = int(os.environ.get("WRK_RUNS", "3"))

SERVICE = """service: bench
frameworkVersion: '3'
plugins:
  - serverless-offline
provider:
  name: aws
  runtime: nodejs20.x
  stage: dev
functions:
  node:
    handler: handler.hello
    events:
      - httpApi:
          path: /node
          method: get
  python:
    handler: handler_py.hello
    runtime: python3.11
    events:
      - httpApi:
          path: /python
          method: get
"""

NODE_HANDLER = """module.exports.hello = async (event) => ({
  statusCode: 200,
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ ok: true, path: event.rawPath }),
});
"""

PYTHON_HANDLER = """import json


def hello(event, context):
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json"},
        "body": json.dumps({"ok": True, "path": event.get("rawPath")}),
    }
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def service_dir(bench_dir):
    directory = tempfile.mkdtemp(prefix="updraft-bench-service-")
    with open(os.path.join(directory, "serverless.yml"), "w") as f:
        f.write(SERVICE)
    with open(os.path.join(directory, "handler.js"), "w") as f:
        f.write(NODE_HANDLER)
    with open(os.path.join(directory, "handler_py.py"), "w") as f:
        f.write(PYTHON_HANDLER)
    # serverless finds its plugin in the service's node_modules.
    os.symlink(os.path.join(bench_dir, "node_modules"), os.path.join(directory, "node_modules"))
    return directory


def commands(updraft, bench_dir):
    serverless = os.path.join(bench_dir, "node_modules", "serverless", "bin", "serverless.js")
    return {
        "updraft offline": lambda http, lam: [
            updraft, "offline", "--httpPort", str(http), "--lambdaPort", str(lam)],
        "serverless-offline 13.10.1": lambda http, lam: [
            "node", serverless, "offline", "--httpPort", str(http), "--lambdaPort", str(lam)],
    }


def environment():
    env = dict(os.environ)
    env.update({"SLS_TELEMETRY_DISABLED": "1", "SLS_NOTIFICATIONS_MODE": "off",
                "SLS_DEPRECATION_DISABLE": "*", "NO_COLOR": "1"})
    return env


class Emulator:
    """One started emulator: waits for `Server ready`, samples the memory of its process tree."""

    def __init__(self, command, cwd):
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            command, cwd=cwd, env=environment(), stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, start_new_session=True)
        self.output = []
        self.ready_after = None
        ready = threading.Event()

        def read():
            # Lines are read until `Server ready`; after it the output is drained in large
            # chunks, so that reading the per-request log costs the benchmark as little CPU as
            # possible (it shares the machine with the emulator).
            for raw in self.process.stdout:
                line = raw.decode("utf-8", "replace")
                self.output.append(line)
                if "Server ready" in line:
                    self.ready_after = time.perf_counter() - self.started
                    break
            ready.set()
            while self.process.stdout.read1(1 << 16):
                pass

        threading.Thread(target=read, daemon=True).start()
        self.peak_rss = 0
        self.peak_pss = 0
        self.sampling = True
        threading.Thread(target=self.sample, daemon=True).start()
        if not ready.wait(60) or self.ready_after is None:
            self.stop()
            raise SystemExit(f"{command[0]} never said `Server ready`:\n{''.join(self.output)}")

    def tree(self):
        children = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                children.setdefault(int(fields[1]), []).append(int(entry))
            except OSError:
                continue
        found, pending = [], [self.process.pid]
        while pending:
            pid = pending.pop()
            found.append(pid)
            pending.extend(children.get(pid, []))
        return found

    def sample(self):
        # The sampler shares the machine with what it measures, so it reads little: the
        # process tree (a scan of all of /proc) twice a second, RSS from the short statm file
        # every 20 ms, and PSS (which walks the page tables) every 200 ms.
        rounds, pids = 0, []
        page = os.sysconf("SC_PAGE_SIZE")
        while self.sampling:
            if rounds % 25 == 0:
                pids = self.tree()
            self.peak_rss = max(self.peak_rss, sum(statm_rss_pages(pid) for pid in pids) * page)
            if rounds % 10 == 0:
                self.peak_pss = max(self.peak_pss, sum(read_kilobytes(pid, "smaps_rollup", "Pss:") for pid in pids) * 1024)
            rounds += 1
            time.sleep(0.02)

    def stop(self):
        self.sampling = False
        try:
            os.killpg(self.process.pid, signal.SIGINT)
            self.process.wait(10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()


def statm_rss_pages(pid):
    """The resident pages of a process (the second field of /proc/PID/statm), or 0."""
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1])
    except (OSError, IndexError, ValueError):
        return 0


def read_kilobytes(pid, name, field):
    """A `field: N kB` line of /proc/PID/NAME, or 0 when the process is gone."""
    try:
        with open(f"/proc/{pid}/{name}") as f:
            for line in f:
                if line.startswith(field):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def sequential(port, path, count=500, warmup=20):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    times = []
    for index in range(warmup + count):
        started = time.perf_counter()
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
        elapsed = time.perf_counter() - started
        if response.status != 200 or b'"ok"' not in body:
            raise SystemExit(f"GET {path} answered {response.status}: {body[:200]!r}")
        if index >= warmup:
            times.append(elapsed * 1000)
    times.sort()
    return times[len(times) // 2], times[int(len(times) * 0.99) - 1]


def wrk(port, path):
    output = subprocess.run(
        ["wrk", "-t2", "-c16", f"-d{DURATION}s", "--latency", f"http://127.0.0.1:{port}{path}"],
        capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", output)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    return rate, float(p99.group(1)) * scale, int(errors.group(1)) if errors else 0


def main():
    updraft, bench_dir = sys.argv[1], sys.argv[2]
    directory = service_dir(bench_dir)
    emulators = commands(os.path.abspath(updraft), bench_dir)
    readies = {}
    for name, command in emulators.items():
        readies[name] = []
        for _ in range(READY_RUNS):
            emulator = Emulator(command(free_port(), free_port()), directory)
            readies[name].append(emulator.ready_after * 1000)
            emulator.stop()
    rows = []
    for handler, path in (("Node.js", "/node"), ("Python", "/python")):
        # Each wrk run gets a freshly started emulator (serverless-offline slows down from run
        # to run as its memory grows), and the emulators take turns: the speed of a shared
        # machine drifts by 10-20%, more now and then, and taking turns gives both the same
        # drift. Each reports the median of its runs.
        runs = {name: [] for name in emulators}
        latencies = {name: [] for name in emulators}
        peaks = {name: (0, 0) for name in emulators}
        for _ in range(WRK_RUNS):
            for name, command in emulators.items():
                http_port = free_port()
                emulator = Emulator(command(http_port, free_port()), directory)
                try:
                    latencies[name].append(sequential(http_port, path))
                    runs[name].append(wrk(http_port, path))
                finally:
                    emulator.stop()
                rss, pss = peaks[name]
                peaks[name] = (max(rss, emulator.peak_rss), max(pss, emulator.peak_pss))
        for name in emulators:
            p50 = statistics.median(latency[0] for latency in latencies[name])
            p99 = statistics.median(latency[1] for latency in latencies[name])
            rate = statistics.median(run[0] for run in runs[name])
            wrk_p99 = statistics.median(run[1] for run in runs[name])
            errors = sum(run[2] for run in runs[name])
            ready = statistics.median(readies[name])
            peak, pss = (value / 1024 / 1024 for value in peaks[name])
            rows.append((handler, name, ready, p50, p99, rate, wrk_p99, errors, peak, pss))
            each = ", ".join(f"{run[0]:.0f}" for run in runs[name])
            print(f"{handler:8} {name:28} ready {ready:7.1f} ms  p50 {p50:6.2f} ms  "
                  f"p99 {p99:6.2f} ms  wrk {rate:8.0f}/s ({each}; p99 {wrk_p99:.1f} ms, "
                  f"{errors} errors)  peak RSS {peak:6.1f} MB, PSS {pss:6.1f} MB", file=sys.stderr)
    print(f"| handler | emulator | ready (median of {READY_RUNS}) | warm p50 | warm p99 | "
          f"wrk req/s (median of {WRK_RUNS} fresh starts) | wrk p99 | non-2xx | peak RSS (sum) | "
          f"peak PSS (sum) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for handler, name, ready, p50, p99, rate, wrk_p99, errors, peak, pss in rows:
        print(f"| {handler} | {name} | {ready:,.0f} ms | {p50:.2f} ms | {p99:.2f} ms | "
              f"{rate:,.0f} | {wrk_p99:.1f} ms | {errors} | {peak:,.0f} MB | {pss:,.0f} MB |")


if __name__ == "__main__":
    main()
