#!/usr/bin/env python3
"""Times `updraft deploy` against a moto server and counts the AWS calls it makes, by kind.

For a 5- and a 50-function service: the first deploy, a no-op deploy (nothing changed), a
deploy after one function's memory changed, and `deploy function -f f00` after the code
changed. Calls are counted by a recording proxy between updraft and moto; each is named
`service:Operation` (JSON and query protocols) or `service:METHOD /path` (REST protocols, ids
folded), and counted as a write unless it only reads.

The proxy can add a fixed latency to every call (`LATENCY_MS`, default 0), as a region far away
does: what then counts is how many calls a command makes one after another.

Usage: bench/deploy.py UPDRAFT_BIN MOTO_SERVER  (bench/deploy.sh finds both)
Environment: LATENCY_MS (added to each call), FUNCTIONS (default `5,50`).
Prints a Markdown table and the calls of each no-op and single-function deploy.
"""

import collections
import http.client
import http.server
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

READ_PREFIXES = ("Get", "List", "Describe", "Head")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.calls = []

    def take(self):
        with self.lock:
            calls, self.calls = self.calls, []
        return calls


def name_of(method, path, headers, body):
    auth = headers.get("Authorization", "")
    match = re.search(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/", auth)
    service = match.group(1) if match else "?"
    target = headers.get("X-Amz-Target")
    if target:
        operation = target.split(".")[-1]
        return f"{service}:{operation}", not operation.startswith(READ_PREFIXES)
    if body and b"Action=" in body[:200]:
        action = urllib.parse.parse_qs(body.decode("utf-8", "replace")).get("Action", ["?"])[0]
        return f"{service}:{action}", not action.startswith(READ_PREFIXES)
    parsed = urllib.parse.urlparse(path)
    folded = re.sub(r"/[A-Za-z0-9_.:%-]{12,}", "/{id}", parsed.path)
    query = "?" + "&".join(sorted(k for k in urllib.parse.parse_qs(parsed.query, keep_blank_values=True))) if parsed.query else ""
    return f"{service}:{method} {folded}{query}", method not in ("GET", "HEAD")


def proxy(recorder, upstream_port, latency):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def forward(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            with recorder.lock:
                recorder.calls.append(name_of(self.command, self.path, self.headers, body))
            if latency:
                time.sleep(latency)
            connection = http.client.HTTPConnection("127.0.0.1", upstream_port, timeout=60)
            headers = {k: v for k, v in self.headers.items() if k.lower() != "transfer-encoding"}
            connection.request(self.command, self.path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
            self.send_response(response.status)
            for key, value in response.getheaders():
                if key.lower() not in ("transfer-encoding", "content-length", "connection"):
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = forward

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def service(directory, functions, memory_of, version=1):
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "handler.js"), "w") as f:
        f.write(f"exports.main = async (event) => ({{ statusCode: 200, body: 'ok {version}' }});\n")
    lines = [
        "service: bench",
        "provider:",
        "  name: aws",
        "  runtime: nodejs20.x",
        "functions:",
    ]
    for index in range(functions):
        lines += [
            f"  f{index:02d}:",
            "    handler: handler.main",
            f"    memorySize: {memory_of(index)}",
            "    events:",
            f"      - httpApi: GET /f{index:02d}",
        ]
    with open(os.path.join(directory, "serverless.yml"), "w") as f:
        f.write("\n".join(lines) + "\n")


def main():
    updraft, moto_server = sys.argv[1], sys.argv[2]
    latency = float(os.environ.get("LATENCY_MS", "0")) / 1000
    sizes = [int(n) for n in os.environ.get("FUNCTIONS", "5,50").split(",") if n.strip()]
    moto_port = free_port()
    moto = subprocess.Popen(
        [moto_server, "-H", "127.0.0.1", "-p", str(moto_port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{moto_port}/moto-api/", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        recorder = Recorder()
        server = proxy(recorder, moto_port, latency)
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": tempfile.gettempdir(),
            "NO_COLOR": "1",
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{server.server_address[1]}",
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
        }
        rows, listed_calls = [], {}
        for functions in sizes:
            base = f"http://127.0.0.1:{moto_port}/moto-api"
            urllib.request.urlopen(urllib.request.Request(f"{base}/reset", method="POST"))
            urllib.request.urlopen(
                urllib.request.Request(
                    f"{base}/config",
                    data=b'{"lambda":{"use_docker":false}}',
                    method="POST",
                )
            )
            with tempfile.TemporaryDirectory() as directory:
                whole = ["deploy", "--yes"]
                one = ["deploy", "function", "-f", "f00", "--yes"]
                steps = [
                    ("first deploy", lambda i: 256, 1, whole),
                    ("no-op deploy", lambda i: 256, 1, whole),
                    ("one function's memory changed", lambda i: 512 if i == 0 else 256, 1, whole),
                    ("`deploy function -f f00`, code changed", lambda i: 512 if i == 0 else 256, 2, one),
                ]
                for label, memory_of, version, arguments in steps:
                    service(directory, functions, memory_of, version)
                    recorder.take()
                    started = time.perf_counter()
                    run = subprocess.run(
                        [updraft, *arguments],
                        cwd=directory,
                        env=env,
                        capture_output=True,
                        text=True,
                    )
                    elapsed = time.perf_counter() - started
                    if run.returncode != 0:
                        sys.exit(f"{label} of {functions} functions failed:\n{run.stderr}")
                    calls = recorder.take()
                    writes = [name for name, write in calls if write]
                    rows.append((functions, label, elapsed, len(calls), len(writes), writes))
                    if label == "no-op deploy" or arguments is one:
                        listed_calls[(functions, label)] = collections.Counter(name for name, _ in calls)
        if latency:
            print(f"Each call delayed {latency * 1000:.0f} ms by the proxy.\n")
        print("| functions | deploy | wall time | calls | writes | writes by kind |")
        print("|---|---|---|---|---|---|")
        for functions, label, elapsed, calls, writes, names in rows:
            kinds = collections.Counter(names)
            shown = ", ".join(f"{k} x{v}" for k, v in sorted(kinds.items())) if len(kinds) <= 6 else f"{len(kinds)} kinds"
            print(f"| {functions} | {label} | {elapsed * 1000:,.0f} ms | {calls} | {writes} | {shown} |")
        for (functions, label), counter in listed_calls.items():
            print(f"\n{label} of {functions} functions, calls by kind:\n")
            for name, count in sorted(counter.items()):
                print(f"- `{name}` x{count}")
    finally:
        moto.terminate()
        moto.wait()


if __name__ == "__main__":
    main()
