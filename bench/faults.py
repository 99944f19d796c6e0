#!/usr/bin/env python3
"""Replays hostile and broken inputs against the updraft binary and prints Markdown tables for
docs/reliability.md: per kind of input, how many cases were tried, how many left updraft
working, how many of those that must fail failed with a clear error, how many lost nothing, and
the peak memory.

Usage: bench/faults.py [--bin PATH] [--shared DIR]
  (default: target/release/updraft; $UPDRAFT_SHARED_DIR or ../shared for the broken manifests)

What each column means:
- kept working: no panic (exit 101, "internal error", "panicked"), no hang (every command has a
  deadline), and for `offline`, the emulator still answers a plain request after the case and
  stops with exit 0 on Ctrl-C;
- clear error: for a case that must fail, a non-zero exit (or an HTTP 4xx/5xx, or a closed
  connection for broken framing) whose message names the place (`file:line:col`, the flag, the
  function) or the limit, in under 20 KB of output;
- nothing lost: the service's files are unchanged, no `*.partial` file and no process started by
  a handler is left, and for `offline`, a plain request after the case gets its full answer;
- peak memory: the largest maximum resident set size of one run (GNU time), or for `offline` the
  emulator's `VmHWM`, with its resident size after handlers printed 50 MB beside it.
"""

import argparse
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fault_cases  # noqa: E402  (the cases, kept apart from the harness)

PANIC = re.compile(r"internal error|panicked|RUST_BACKTRACE")
PLACE = re.compile(r"[\w./-]+:\d+:\d+|`[^`]+`|--[a-z]+|\d+ (bytes|MiB|characters)"
                   r"|[\w./-]+\.(yml|yaml|json|js|zip)\b|/dev/\w+")


class Result:
    def __init__(self, name, must_fail, kept, clear, intact, peak_mb, note=""):
        self.name, self.must_fail = name, must_fail
        self.kept, self.clear, self.intact = kept, clear, intact
        self.peak_mb, self.note = peak_mb, note


def snapshot(directory):
    """Every file under `directory` but `.serverless/` with its content hash (links by target)."""
    seen = {}
    for root, dirs, files in os.walk(directory):
        dirs[:] = [d for d in dirs if d != ".serverless" and not os.path.islink(os.path.join(root, d))]
        for name in files:
            path = os.path.join(root, name)
            relative = os.path.relpath(path, directory)
            try:
                mode = os.lstat(path).st_mode
                if stat.S_ISLNK(mode):
                    seen[relative] = "link:" + os.readlink(path)
                elif stat.S_ISREG(mode):
                    with open(path, "rb") as file:
                        seen[relative] = hashlib.sha256(file.read()).hexdigest()
                else:
                    seen[relative] = "special"
            except OSError as error:
                seen[relative] = f"unreadable:{error.errno}"
    return seen


def leftovers(directory):
    output = os.path.join(directory, ".serverless")
    if not os.path.isdir(output):
        return []
    return [name for name in os.listdir(output) if name.endswith(".partial")]


def marked_processes():
    """Live processes started by a function instance (they carry `_UPDRAFT_INSTANCE`)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as file:
                state = file.read().rsplit(")", 1)[1].split()[0]
            if state in ("Z", "X"):
                continue
            with open(f"/proc/{entry}/environ", "rb") as file:
                if b"_UPDRAFT_INSTANCE=" in file.read():
                    found.append(int(entry))
        except (OSError, IndexError):
            continue
    return found


def run(binary, args, cwd, stdin=None, timeout=60, env=None):
    """Runs updraft; returns (exit code or None on timeout, stdout, stderr, peak MB)."""
    rss = tempfile.NamedTemporaryFile(delete=False)
    rss.close()
    command = ["/usr/bin/time", "-f", "%M", "-o", rss.name, binary, *args]
    environment = dict(os.environ, NO_COLOR="1", **(env or {}))
    try:
        done = subprocess.run(command, cwd=cwd, input=stdin, capture_output=True,
                              timeout=timeout, env=environment)
        code, out, err = done.returncode, done.stdout, done.stderr
    except subprocess.TimeoutExpired as expired:
        code, out, err = None, expired.stdout or b"", expired.stderr or b""
    try:
        with open(rss.name) as file:
            lines = [line for line in file.read().split() if line.isdigit()]
        peak = int(lines[-1]) // 1024 if lines else 0
    except OSError:
        peak = 0
    os.unlink(rss.name)
    return code, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"), peak


def judge_command(name, binary, args, cwd, must_fail, expect=None, stdin=None, timeout=60,
                  check_tree=True, env=None, after=None):
    before = snapshot(cwd) if check_tree else None
    code, out, err, peak = run(binary, args, cwd, stdin=stdin, timeout=timeout, env=env)
    kept = code is not None and code != 101 and not PANIC.search(err)
    if must_fail:
        clear = (code not in (None, 0) and len(err) < 20_000
                 and bool(PLACE.search(err)) and (expect is None or expect in err))
    else:
        clear = code == 0 and (expect is None or expect in out + err)
    time.sleep(0.05)
    intact = (before is None or snapshot(cwd) == before) and not leftovers(cwd)
    intact = intact and not marked_processes()
    note = ""
    if after is not None:
        ok, note = after(code, out, err)
        intact = intact and ok
    if not (kept and clear and intact):
        first = (err.strip().splitlines() or ["(no stderr)"])[0][:120]
        note = note or f"exit {code}: {first}"
    return Result(name, must_fail, kept, clear, intact, peak, note)


def manifests(binary, shared, scratch):
    results = []
    cases_dir = os.path.join(shared, "bad-manifests")
    if not os.path.isdir(cases_dir):
        raise SystemExit(f"no reference data at {cases_dir} (pass --shared or set UPDRAFT_SHARED_DIR)")
    for name in sorted(os.listdir(cases_dir)):
        source = os.path.join(cases_dir, name)
        if not os.path.isdir(source):
            continue
        work = os.path.join(scratch, "manifest-" + name)
        shutil.copytree(source, work)
        for root, _, files in os.walk(work):
            for file in files:
                os.chmod(os.path.join(root, file), 0o644)
        if os.path.exists(os.path.join(work, "gen.sh")):
            subprocess.run(["sh", "gen.sh"], cwd=work, capture_output=True, check=False)
        with open(os.path.join(work, "case.json")) as file:
            expect = json.load(file).get("updraft_expect")
        results.append(judge_command(name, binary, ["print", "--format", "json"], work,
                                     must_fail=expect == "error"))
        if expect == "any":
            results[-1].clear = True
    for case in fault_cases.hostile_manifests(scratch):
        results.append(judge_command(case.name, binary, case.args, case.dir, case.must_fail,
                                     expect=case.expect, timeout=case.timeout))
    return results


def packages(binary, scratch):
    results = []
    for case in fault_cases.package_trees(scratch):
        if case.kill_after is not None:
            results.append(killed_package(case, binary))
            continue
        results.append(judge_command(case.name, binary, case.args, case.dir, case.must_fail,
                                     expect=case.expect, timeout=case.timeout,
                                     after=case.after))
    return results


def killed_package(case, binary):
    """SIGKILL in the middle of writing the artifact, then a normal run: no `*.partial` stays."""
    before = snapshot(case.dir)
    child = subprocess.Popen([binary, "package"], cwd=case.dir, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while not leftovers(case.dir) and child.poll() is None and time.time() < deadline:
        time.sleep(0.005)
    child.send_signal(signal.SIGKILL)
    child.wait()
    left_by_kill = bool(leftovers(case.dir))
    code, _, err, peak = run(binary, ["package"], case.dir)
    kept = code == 0 and not PANIC.search(err)
    intact = snapshot(case.dir) == before and not leftovers(case.dir)
    note = "" if left_by_kill else "the kill came too late to leave a partial file"
    return Result(case.name, False, kept, code == 0, intact, peak, note)


def events(binary, scratch):
    service = fault_cases.event_service(scratch)
    results = []
    for case in fault_cases.event_cases(service):
        results.append(judge_command(case.name, binary, case.args, service, case.must_fail,
                                     expect=case.expect, stdin=case.stdin, timeout=case.timeout,
                                     after=case.after))
    return results


class Offline:
    def __init__(self, binary, service):
        self.process = subprocess.Popen(
            [binary, "offline", "--httpPort", "0", "--lambdaPort", "0"], cwd=service,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            env=dict(os.environ, NO_COLOR="1"))
        self.lines = []
        self.http = self.lambda_ = None
        deadline = time.time() + 60
        while self.http is None and time.time() < deadline:
            line = self.process.stderr.readline().decode("utf-8", "replace")
            if not line:
                break
            self.lines.append(line)
            if line.startswith("Lambda Invoke API: "):
                self.lambda_ = address(line)
            if line.startswith("Server ready: "):
                self.http = address(line)
        if self.http is None:
            raise SystemExit("updraft offline did not start:\n" + "".join(self.lines))
        # Keep reading stderr so the emulator never blocks on a full pipe.
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self):
        for line in iter(self.process.stderr.readline, b""):
            self.lines.append(line.decode("utf-8", "replace"))
            if len(self.lines) > 5000:
                del self.lines[:2500]

    def memory(self, field):
        with open(f"/proc/{self.process.pid}/status") as file:
            for line in file:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) // 1024
        return 0

    def stop(self):
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return None


def address(line):
    host_port = line.split("//", 1)[1].strip().rstrip("/")
    host, port = host_port.rsplit(":", 1)
    return host, int(port)


def exchange(target, data, wait=15.0, slow=None):
    """Sends raw bytes and reads until the server closes or `wait` passes; returns (status or
    None, whether the server closed the connection, the answer)."""
    connection = socket.create_connection(target, timeout=wait)
    answer = b""
    closed = False
    try:
        if slow:
            for byte in data:
                connection.sendall(bytes([byte]))
                time.sleep(slow)
        else:
            connection.sendall(data)
        deadline = time.time() + wait
        while time.time() < deadline:
            connection.settimeout(max(deadline - time.time(), 0.01))
            chunk = connection.recv(65536)
            if not chunk:
                closed = True
                break
            answer += chunk
            if fault_cases.complete_response(answer):
                break
    except (socket.timeout, TimeoutError):
        pass
    except (ConnectionResetError, BrokenPipeError):
        closed = True
    finally:
        connection.close()
    match = re.match(rb"HTTP/1\.[01] (\d{3})", answer)
    return (int(match.group(1)) if match else None), closed, answer


def healthy(offline):
    status, _, answer = exchange(offline.http, fault_cases.plain_request(), wait=10)
    return status == 200 and answer.rstrip().endswith(b'{"ok":true}')


def http(binary, scratch):
    service = fault_cases.event_service(scratch)
    offline = Offline(binary, service)
    results = []
    detached = []
    for case in fault_cases.http_cases():
        target = offline.lambda_ if case.port == "lambda" else offline.http
        if case.connections:
            status, closed = None, hold_connections(target, case.connections, case.data)
            clear = closed
        else:
            status, closed, answer = exchange(target, case.data, wait=case.wait, slow=case.slow)
            detached.extend(int(pid) for pid in re.findall(rb'"pid":(\d+)', answer))
            if status is None:
                # No answer: right only for framing so broken that closing is the answer.
                clear = closed and None in case.statuses
            else:
                clear = status in case.statuses
        alive = offline.process.poll() is None
        kept = alive and healthy(offline)
        note = "" if (kept and clear) else f"status {status}, closed {closed}"
        results.append(Result(case.name, case.must_fail, kept, clear, kept, offline.memory("VmHWM"), note))
    # Memory once handlers have printed 50 MB, after the emulator hands it back.
    baseline = offline.memory("VmRSS")
    for _ in range(2):
        exchange(offline.http, fault_cases.get("/dev/loud"), wait=60)
    time.sleep(3)
    after = offline.memory("VmRSS")
    kept = healthy(offline)
    results.append(Result("handlers print 2 x 50 MB", False, kept, kept, after - baseline < 64,
                          offline.memory("VmHWM"), f"resident {baseline} MB before, {after} MB after"))
    code = offline.stop()
    time.sleep(0.2)
    survivors = marked_processes() + [pid for pid in detached if fault_cases.pid_alive(pid)]
    for pid in survivors:
        os.kill(pid, signal.SIGKILL)
    results.append(Result("Ctrl-C after all of the above", False, code == 0, code == 0,
                          not survivors, 0, f"exit {code}, {len(survivors)} processes left"))
    return results, baseline, after


def hold_connections(target, count, data):
    """Opens `count` connections that send `data` and stop; true if the server closes all of
    them within 15 s (its header and body timeouts are 10 s)."""
    sockets = []
    for _ in range(count):
        connection = socket.create_connection(target, timeout=20)
        if data:
            connection.sendall(data)
        sockets.append(connection)
    deadline = time.time() + 15
    closed = 0
    for connection in sockets:
        try:
            while time.time() < deadline:
                connection.settimeout(max(deadline - time.time(), 0.01))
                if not connection.recv(65536):
                    closed += 1
                    break
        except (ConnectionResetError, BrokenPipeError):
            closed += 1
        except (socket.timeout, TimeoutError):
            pass
        finally:
            connection.close()
    return closed == count


def summary_row(kind, results):
    failing = [r for r in results if r.must_fail]
    return (f"| {kind} | {len(results)} | {sum(r.kept for r in results)} | "
            f"{sum(r.clear for r in failing)} of {len(failing)} | "
            f"{sum(r.intact for r in results)} | {max((r.peak_mb for r in results), default=0)} |")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", default=os.environ.get("UPDRAFT_BIN", "target/release/updraft"))
    parser.add_argument("--shared", default=os.environ.get("UPDRAFT_SHARED_DIR", "../shared"))
    options = parser.parse_args()
    binary = os.path.abspath(options.bin)
    if not os.access(binary, os.X_OK):
        raise SystemExit(f"no updraft binary at {binary} (cargo build --release)")
    if not os.access("/usr/bin/time", os.X_OK):
        raise SystemExit("needs GNU time (apt-get install time)")
    scratch = tempfile.mkdtemp(prefix="updraft-faults-")
    try:
        groups = [
            ("manifests (`print`)", manifests(binary, options.shared, scratch)),
            ("package trees (`package`)", packages(binary, scratch)),
            ("events and handlers (`invoke local`)", events(binary, scratch)),
        ]
        http_results, baseline, after = http(binary, scratch)
        groups.append(("HTTP clients and handlers (`offline`)", http_results))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print("| inputs | cases tried | kept working | clear error (of those that must fail) | nothing lost | peak memory, MB |")
    print("|---|---|---|---|---|---|")
    for kind, results in groups:
        print(summary_row(kind, results))
    every = [r for _, results in groups for r in results]
    print(summary_row("**all**", every))
    print()
    print(f"`offline` resident memory: {baseline} MB before handlers printed 2 x 50 MB, {after} MB three seconds after.")
    print()
    print("| case | must fail | kept working | clear error | nothing lost | peak MB | note |")
    print("|---|---|---|---|---|---|---|")
    for kind, results in groups:
        for r in results:
            mark = lambda value: "yes" if value else "**no**"  # noqa: E731
            clear = mark(r.clear) if r.must_fail else ("yes" if r.clear else "**no**")
            print(f"| {kind.split(' ')[0]}: `{r.name}` | {'yes' if r.must_fail else 'no'} | {mark(r.kept)} | "
                  f"{clear} | {mark(r.intact)} | {r.peak_mb} | {r.note.replace('|', '/')} |")
    bad = [r for r in every if not (r.kept and r.clear and r.intact)]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
