"""The hostile inputs bench/faults.py replays: manifests, package trees, events and handlers,
HTTP requests. Each case says whether it must fail and what the answer must contain."""

import json
import os
import subprocess
import zipfile


class Case:
    def __init__(self, name, must_fail, **fields):
        self.name, self.must_fail = name, must_fail
        self.args = fields.get("args", ["print", "--format", "json"])
        self.dir = fields.get("dir")
        self.expect = fields.get("expect")
        self.timeout = fields.get("timeout", 60)
        self.stdin = fields.get("stdin")
        self.after = fields.get("after")
        self.kill_after = fields.get("kill_after")
        # HTTP cases
        self.data = fields.get("data", b"")
        self.port = fields.get("port", "http")
        self.statuses = fields.get("statuses", ())
        self.wait = fields.get("wait", 15.0)
        self.slow = fields.get("slow")
        self.connections = fields.get("connections", 0)


HEAD = "service: hostile\nprovider:\n  name: aws\n  runtime: nodejs20.x\n"


def service_dir(scratch, name, manifest, files=None, manifest_name="serverless.yml"):
    directory = os.path.join(scratch, name)
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, manifest_name), "w", encoding="utf-8") as file:
        file.write(manifest)
    for relative, content in (files or {}).items():
        path = os.path.join(directory, relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as file:
            file.write(content if isinstance(content, bytes) else content.encode())
    return directory


def hostile_manifests(scratch):
    cases = []

    def add(name, manifest, must_fail, expect=None, files=None, manifest_name="serverless.yml",
            args=None, timeout=60):
        directory = service_dir(scratch, "m-" + name, manifest, files, manifest_name)
        cases.append(Case(name, must_fail, dir=directory, expect=expect, timeout=timeout,
                          args=args or ["print", "--format", "json"]))
        return directory

    for target, label in [("/dev/zero", "file-dev-zero"), ("/dev/urandom", "file-dev-urandom")]:
        add(label, HEAD + f"custom:\n  data: ${{file({target})}}\n", True, timeout=20)
    directory = add("file-fifo", HEAD + "custom:\n  data: ${file(./pipe)}\n", True, timeout=20)
    os.mkfifo(os.path.join(directory, "pipe"))
    directory = add("file-directory", HEAD + "custom:\n  data: ${file(./folder)}\n", True)
    os.makedirs(os.path.join(directory, "folder"))
    directory = add("file-sparse-2gb", HEAD + "custom:\n  data: ${file(./sparse.yml)}\n", True,
                    timeout=20)
    with open(os.path.join(directory, "sparse.yml"), "wb") as file:
        file.truncate(2 * 1024 ** 3)
    add("config-dev-zero", HEAD, True, args=["print", "--config", "/dev/zero"], timeout=20)
    add("key-1025-characters", HEAD + "custom:\n  " + "k" * 1025 + ": 1\n", True,
        expect="1025 characters")
    add("handler-outside-the-service", HEAD + "functions:\n  f:\n    handler: ../x/h.f\n", True,
        expect="outside the service directory")
    add("handler-absolute", HEAD + "functions:\n  f:\n    handler: /etc/passwd.f\n", True)
    add("variable-cycle", HEAD + "custom:\n  a: ${self:custom.b}\n  b: ${self:custom.a}\n", True)
    add("variable-fallbacks-200-long", HEAD + "custom:\n  a: ${" + "self:custom.b, " * 200 + "1}\n", False)
    add("variable-fallback-written-as-a-variable", HEAD + "custom:\n  a: ${self:custom.b, ${opt:stage}}\n",
        True, expect="fallback")
    directory = add("invalid-utf8", HEAD, True)
    with open(os.path.join(directory, "serverless.yml"), "wb") as file:
        file.write(HEAD.encode() + b"custom:\n  a: caf\xe9\n")
    functions = {
        f"fn{index}": {"handler": f"src/h{index}.handler",
                       "events": [{"http": {"path": f"p{index}", "method": "get"}}]}
        for index in range(1500)
    }
    minified = json.dumps({"service": "hostile", "provider": {"name": "aws", "runtime": "nodejs20.x"},
                           "functions": functions}, separators=(",", ":"))
    add("minified-json-1500-functions", minified, False, manifest_name="serverless.json")
    add("one-line-80000-items", HEAD + "custom: {list: [" + ", ".join(str(i) for i in range(80000)) + "]}\n",
        False)
    add("one-line-40000-keys", HEAD + "custom: {" + ", ".join(f"k{i}: {i}" for i in range(40000)) + "}\n",
        False)
    add("minified-json-error-at-column-136000",
        minified.replace('"src/h1499.handler"', '"src/h1499.handler","memorySize":"lots"'), False,
        manifest_name="serverless.json")
    return cases


HANDLER_JS = r"""
exports.ok = async () => ({ statusCode: 200, body: JSON.stringify({ ok: true }) });
exports.echo = async (event) => ({ statusCode: 200, body: event.body ?? '' });
exports.crash = async () => { process.exit(3); };
exports.fail = async () => { throw new TypeError('failed on purpose'); };
exports.big = async () => ({ statusCode: 200, body: 'b'.repeat(7 * 1024 * 1024) });
exports.hang = async () => new Promise(() => setInterval(() => {}, 1000));
exports.quiet = (event, context, callback) => { setTimeout(() => {}, 20); };
exports.loud = async () => {
  const line = 'y'.repeat(1023);
  for (let index = 0; index < 50 * 1024; index += 1) console.log(line);
  console.log('loud done');
  return { statusCode: 200, body: JSON.stringify({ ok: true }) };
};
exports.detach = async () => {
  const child = require('child_process').spawn('sleep', ['300'], { detached: true, stdio: 'ignore' });
  child.unref();
  return { statusCode: 200, body: JSON.stringify({ pid: child.pid }) };
};
exports.event = async (event) => event;
"""

HANDLER_PY = """
import os
def crash(event, context):
    os._exit(4)
def echo(event, context):
    return event
"""


def pid_alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as file:
            return file.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False


def detached_process_ended(code, out, err):
    """The detach handler's child (its pid is in the answer) must not outlive the command."""
    import re
    import time
    match = re.search(r'\\?"pid\\?"\s*:\s*(\d+)', out)
    if not match:
        return False, "no pid in the answer"
    pid = int(match.group(1))
    deadline = time.time() + 2
    while pid_alive(pid) and time.time() < deadline:
        time.sleep(0.02)
    if pid_alive(pid):
        os.kill(pid, 9)
        return False, f"process {pid} outlived the command"
    return True, ""


def event_service(scratch):
    directory = os.path.join(scratch, "events-service")
    if os.path.isdir(directory):
        return directory
    functions = "functions:\n"
    for name in ["ok", "echo", "crash", "fail", "big", "quiet", "loud", "detach", "event"]:
        method = "get" if name == "ok" else "any"
        functions += f"  {name}:\n    handler: handler.{name}\n    events:\n      - http: {{path: {name}, method: {method}}}\n"
    functions += "  hang:\n    handler: handler.hang\n    timeout: 1\n    events:\n      - http: {path: hang, method: get}\n"
    functions += "  pycrash:\n    handler: handler_py.crash\n    runtime: python3.12\n"
    functions += "  pyecho:\n    handler: handler_py.echo\n    runtime: python3.12\n"
    return service_dir(scratch, "events-service", HEAD + functions,
                       {"handler.js": HANDLER_JS, "handler_py.py": HANDLER_PY})


def event_cases(service):
    big = os.path.join(service, "big-event.json")
    if not os.path.exists(big):
        with open(big, "w") as file:
            json.dump({"data": "z" * (7 * 1024 * 1024)}, file)
        with open(os.path.join(service, "deep-event.json"), "w") as file:
            file.write("[" * 5000 + "]" * 5000)
        with open(os.path.join(service, "broken-event.json"), "w") as file:
            file.write('{"a": ')
    local = lambda function, *rest: ["invoke", "local", "-f", function, *rest]  # noqa: E731
    return [
        Case("event-7mb-file", True, args=local("echo", "--path", "big-event.json"), expect="6"),
        Case("event-dev-zero", True, args=local("echo", "--path", "/dev/zero"), timeout=20),
        Case("event-stdin-7mb", True, args=local("echo"),
             stdin=b'"' + b"s" * (7 * 1024 * 1024) + b'"', timeout=20),
        # Text that is not JSON is sent as a JSON string, as the Framework does.
        Case("event-broken-json", False, args=local("event", "--path", "broken-event.json"), expect='"{\\"a\\": "'),
        # Delivered whole; Node cannot stringify 5,000 levels back, which Lambda reports the same way.
        Case("event-nested-5000-returned", True, args=local("event", "--path", "deep-event.json"),
             expect="Runtime.MarshalError"),
        Case("handler-crash-node", True, args=local("crash"), expect="exit status 3"),
        Case("handler-crash-python", True, args=local("pycrash"), expect="exit status 4"),
        Case("handler-throws", True, args=local("fail"), expect="failed on purpose"),
        Case("handler-hangs", True, args=local("hang"), expect="timed out", timeout=30),
        Case("handler-returns-7mb", True, args=local("big"), expect="ResponseSizeTooLarge"),
        Case("handler-never-calls-back", False, args=local("quiet"), expect="null"),
        Case("handler-prints-50mb", False, args=local("loud"), expect="loud done"),
        Case("handler-detaches-a-process", False, args=local("detach"), after=detached_process_ended),
        Case("unknown-function", True, args=local("nope"), expect="`nope`"),
        Case("python-event-echo", False, args=local("pyecho", "--data", '{"a": [1, 2]}'), expect='"a"'),
    ]


def package_trees(scratch):
    cases = []
    manifest = HEAD + "functions:\n  f:\n    handler: handler.f\n"

    def tree(name, files=None, manifest_text=manifest):
        return service_dir(scratch, "p-" + name, manifest_text, dict({"handler.js": "exports.f = async () => 1;\n"}, **(files or {})))

    def zip_lacks(directory, *names):
        def check(code, out, err):
            archive = os.path.join(directory, ".serverless", "hostile.zip")
            try:
                listed = zipfile.ZipFile(archive).namelist()
            except (OSError, zipfile.BadZipFile):
                return code != 0, "no artifact"
            present = [n for n in names if n in listed]
            return not present, f"in the zip: {present}" if present else ""
        return check

    directory = tree("link-loop")
    os.symlink(".", os.path.join(directory, "loop"))
    cases.append(Case("symlink-loop", True, dir=directory, args=["package"], expect="loop"))

    home = os.path.join(scratch, "p-home")
    os.makedirs(os.path.join(home, ".aws"), exist_ok=True)
    with open(os.path.join(home, ".aws", "credentials"), "w") as file:
        file.write("[default]\naws_access_key_id = AKIAEXAMPLEEXAMPLE12\naws_secret_access_key = x\n")
    directory = tree("secret-through-link")
    os.symlink(os.path.join(home, ".aws", "credentials"), os.path.join(directory, "config.ini"))
    cases.append(Case("link-to-a-file-outside-the-service", True, dir=directory, args=["package"],
                      expect="outside the service"))
    directory = tree("secret-through-inner-link", {".aws/credentials": "[default]\naws_secret_access_key = x\n"})
    os.symlink(".aws/credentials", os.path.join(directory, "config.ini"))
    cases.append(Case("link-named-config-ini-to-aws-credentials", False, dir=directory, args=["package"],
                      after=zip_lacks(directory, "config.ini", ".aws/credentials")))

    directory = tree("secrets-by-name", {
        ".ssh/id_ed25519": "key", "server.key": "key", ".npmrc": "//registry.npmjs.org/:_authToken=secret\n",
        ".netrc": "machine x login y password z\n", ".pypirc": "[pypi]\npassword = x\n",
        ".git-credentials": "https://u:p@github.com\n"})
    cases.append(Case("secret-files-by-name", False, dir=directory, args=["package"],
                      after=zip_lacks(directory, ".ssh/id_ed25519", "server.key", ".npmrc", ".netrc",
                                      ".pypirc", ".git-credentials")))

    directory = tree("fifo-in-tree")
    os.mkfifo(os.path.join(directory, "pipe"))
    cases.append(Case("fifo-in-the-tree", False, dir=directory, args=["package"], timeout=20))

    directory = tree("link-to-dev-zero")
    os.symlink("/dev/zero", os.path.join(directory, "zero.bin"))
    cases.append(Case("link-to-dev-zero", True, dir=directory, args=["package"], timeout=20,
                      expect="zero.bin"))

    deep = "/".join(["d"] * 200)
    directory = tree("deep-tree", {deep + "/leaf.txt": "leaf"})
    cases.append(Case("tree-200-levels-deep", False, dir=directory, args=["package"]))

    directory = tree("many-files", {f"data/f{index:05}.txt": str(index) for index in range(10000)})
    cases.append(Case("tree-10000-files", False, dir=directory, args=["package"]))

    directory = tree("non-utf8-name")
    open(os.path.join(directory.encode(), b"caf\xe9.txt"), "wb").close()
    cases.append(Case("non-utf8-file-name", False, dir=directory, args=["package"]))

    directory = tree("zip-bomb", manifest_text=HEAD + "package:\n  artifact: bomb.zip\nfunctions:\n  f:\n    handler: handler.f\n")
    with zipfile.ZipFile(os.path.join(directory, "bomb.zip"), "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("zeros.bin", b"\0" * (300 * 1024 * 1024))
    cases.append(Case("prebuilt-zip-over-250mb-unzipped", True, dir=directory, args=["package"],
                      expect="bomb.zip"))

    directory = tree("handler-outside", manifest_text=HEAD + "functions:\n  f:\n    handler: ../elsewhere/handler.f\n")
    cases.append(Case("handler-outside-the-service", True, dir=directory, args=["package"],
                      expect="outside the service directory"))

    directory = tree("killed", {f"data/blob{index:03}.bin": os.urandom(1 << 20) for index in range(120)})
    cases.append(Case("killed-mid-artifact-then-rerun", False, dir=directory, args=["package"], kill_after=True))
    return cases


def request(method, path, body=b"", headers=None):
    text = f"{method} {path} HTTP/1.1\r\nHost: localhost\r\n"
    for name, value in (headers or {}).items():
        text += f"{name}: {value}\r\n"
    if body or method in ("POST", "PUT"):
        text += f"Content-Length: {len(body)}\r\n"
    return text.encode() + b"Connection: close\r\n\r\n" + body


def get(path):
    return request("GET", path)


def plain_request():
    return get("/dev/ok")


def complete_response(answer):
    head, separator, body = answer.partition(b"\r\n\r\n")
    if not separator:
        return False
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(body) >= int(line.split(b":")[1])
    return False


INVOKE = "/2015-03-31/functions/{}/invocations"


def http_cases():
    chunked = "POST /dev/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    return [
        Case("garbage-bytes", True, data=b"\x00\x01\x02\xff\r\n\r\n", statuses=(400, None)),
        Case("request-line-without-path", True, data=b"GET\r\n\r\n", statuses=(400, None)),
        Case("http-0.9", True, data=b"GET /dev/ok\r\n\r\n", statuses=(400, 505, None)),
        Case("http-version-9.9", True, data=b"GET /dev/ok HTTP/9.9\r\n\r\n", statuses=(400, 505, None)),
        Case("header-of-100-kb", False, data=b"GET /dev/ok HTTP/1.1\r\nX-Big: " + b"a" * 100_000 + b"\r\n\r\n",
             statuses=(200, 431)),
        Case("10000-headers", True, data=b"GET /dev/ok HTTP/1.1\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(10000)) + b"\r\n",
             statuses=(431, 400, None)),
        Case("bad-chunk-size", True, data=(chunked + "zz\r\nabc\r\n0\r\n\r\n").encode(), statuses=(400, None)),
        Case("chunked-body-with-no-end", True, data=(chunked + "3\r\nabc\r\n").encode(), statuses=(400, 408, None), wait=15),
        Case("body-shorter-than-content-length", True,
             data=b"POST /dev/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nshort", statuses=(400, 408, None), wait=15),
        # Transfer-Encoding wins over Content-Length (RFC 9112 section 6.3).
        Case("content-length-and-chunked", False,
             data=(chunked.replace("\r\n\r\n", "\r\nContent-Length: 3\r\n\r\n") + "3\r\nabc\r\n0\r\n\r\n").encode(),
             statuses=(200,)),
        Case("two-different-content-lengths", True,
             data=b"POST /dev/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nabcde", statuses=(400, None)),
        Case("negative-content-length", True,
             data=b"POST /dev/echo HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", statuses=(400, None)),
        Case("7mb-body-to-a-route", True, data=request("POST", "/dev/echo", b"x" * (7 * 1024 * 1024)), statuses=(413,)),
        Case("7mb-payload-to-the-invoke-api", True, port="lambda",
             data=request("POST", INVOKE.format("echo"), b'"' + b"x" * (7 * 1024 * 1024) + b'"'), statuses=(413,)),
        Case("invoke-api-bad-json", True, port="lambda", data=request("POST", INVOKE.format("echo"), b'{"a":'),
             statuses=(400,)),
        Case("invoke-api-unknown-function", True, port="lambda", data=request("POST", INVOKE.format("nope"), b"{}"),
             statuses=(404,)),
        Case("invoke-api-bad-client-context", True, port="lambda",
             data=request("POST", INVOKE.format("event"), b"{}", {"X-Amz-Client-Context": "%%%"}), statuses=(400,)),
        Case("invoke-api-event-invocation", False, port="lambda",
             data=request("POST", INVOKE.format("event"), b"{}", {"X-Amz-Invocation-Type": "Event"}), statuses=(202,)),
        Case("path-traversal", True, data=get("/dev/../../etc/passwd"), statuses=(404, 400, 403)),
        Case("invalid-utf8-in-path", True, data=get("/dev/%ff%fe"), statuses=(404, 400)),
        Case("url-of-100-kb", True, data=get("/dev/ok?" + "q" * 100_000), statuses=(414, 431, 400, 404, None)),
        Case("unknown-method", True, data=b"BREW /dev/ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", statuses=(404, 405, 400)),
        Case("absolute-form-uri", False, data=b"GET http://evil.example/dev/ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", statuses=(200,)),
        Case("nul-in-a-header-value", True, data=b"GET /dev/ok HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n", statuses=(400, None)),
        Case("invalid-header-name", True, data=b"GET /dev/ok HTTP/1.1\r\nHost: x\r\nX A: b\r\n\r\n", statuses=(400, None)),
        Case("expect-100-continue-then-nothing", True,
             data=b"POST /dev/echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 10\r\n\r\n", statuses=(100, 408, None), wait=15),
        Case("100-pipelined-requests", False, data=(get("/dev/ok").replace(b"Connection: close\r\n", b"")) * 99 + get("/dev/ok"), statuses=(200,)),
        Case("slow-header-one-byte-per-50ms", False, data=get("/dev/ok"), slow=0.05, statuses=(200,), wait=20),
        Case("handler-crashes", True, data=get("/dev/crash"), statuses=(502,)),
        Case("handler-throws", True, data=get("/dev/fail"), statuses=(502,)),
        Case("handler-hangs-past-its-timeout", True, data=get("/dev/hang"), statuses=(504,)),
        Case("handler-answers-7mb", True, data=get("/dev/big"), statuses=(502,)),
        Case("handler-never-calls-back", True, data=get("/dev/quiet"), statuses=(502,)),
        Case("handler-detaches-a-process", False, data=get("/dev/detach"), statuses=(200,)),
        Case("200-silent-connections", False, connections=200, statuses=(None,)),
        Case("200-half-sent-headers", False, connections=200, data=b"GET /dev/ok HTTP/1.1\r\nHost: x\r\n", statuses=(None,)),
    ]
