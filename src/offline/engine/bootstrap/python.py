# updraft's runtime interface client for Python: imports the handler named by _HANDLER
# ("package/module.function") from LAMBDA_TASK_ROOT and serves events from the Lambda Runtime
# API at AWS_LAMBDA_RUNTIME_API, one at a time, with the context object Lambda's Python runtime
# passes (aws_request_id, invoked_function_arn, client_context, get_remaining_time_in_millis...).
import importlib
import json
import os
import socket
import sys
import time
import traceback

API = os.environ.get("AWS_LAMBDA_RUNTIME_API", "")
HOST, _, PORT = API.rpartition(":")
BASE = "/2018-06-01/runtime"


class RuntimeClient:
    """The Runtime API over one kept-alive connection, HTTP/1.1 written and read by hand: the
    calls cost less than http.client's, as in Lambda's own runtime (a native client)."""

    def __init__(self):
        self.sock = None
        self.buffer = bytearray()

    def connect(self):
        self.sock = socket.create_connection((HOST, int(PORT or 0)))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = bytearray()

    def receive(self):
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("the Runtime API closed the connection")
        self.buffer += data

    def read_until(self, marker):
        while True:
            index = self.buffer.find(marker)
            if index >= 0:
                return index
            self.receive()

    def read_exactly(self, size):
        while len(self.buffer) < size:
            self.receive()
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        return data

    def send(self, requests):
        """Writes the requests (method, path, body, headers) in one go: HTTP/1.1 pipelining."""
        if self.sock is None:
            self.connect()
        data = bytearray()
        for method, path, body, headers in requests:
            lines = [f"{method} {path} HTTP/1.1", f"Host: {API}"]
            lines += [f"{name}: {value}" for name, value in headers.items()]
            payload = b""
            if body is not None:
                payload = body.encode("utf-8") if isinstance(body, str) else body
                lines += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
            data += ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
            data += payload
        self.sock.sendall(data)

    def response(self):
        """Reads the answer to the oldest request sent."""
        end = self.read_until(b"\r\n\r\n")
        head = self.buffer[:end].decode("latin-1").split("\r\n")
        del self.buffer[:end + 4]
        status = int(head[0].split(" ")[1])
        response_headers = {}
        for line in head[1:]:
            name, _, value = line.partition(":")
            response_headers[name.strip().lower()] = value.strip()
        if "chunked" in response_headers.get("transfer-encoding", "").lower():
            parts = []
            while True:
                line_end = self.read_until(b"\r\n")
                size = int(bytes(self.buffer[:line_end]).split(b";")[0], 16)
                del self.buffer[:line_end + 2]
                if size == 0:
                    self.read_exactly(2)
                    break
                parts.append(self.read_exactly(size))
                self.read_exactly(2)
            content = b"".join(parts)
        else:
            content = self.read_exactly(int(response_headers.get("content-length", "0")))
        return status, response_headers, content


client = RuntimeClient()


NEXT = ("GET", f"{BASE}/invocation/next", None, {})


def call(method, path, body=None, headers=None):
    for attempt in (0, 1):
        try:
            client.send([(method, path, body, dict(headers or {}))])
            return client.response()
        except (ConnectionError, OSError):
            # A kept-alive connection the server closed: one retry on a new one.
            client.sock = None
            if attempt:
                raise


def post_and_next(method, path, body, headers):
    """Posts a result and asks for the next event in one write; gives the next event."""
    try:
        client.send([(method, path, body, headers), NEXT])
        client.response()
        return client.response()
    except (ConnectionError, OSError):
        # The connection went with the result (say, the API refused an oversized one and
        # closed it): ask for the next event on a new one.
        client.sock = None
        return call(*NEXT)


def error_object(error, error_type=None):
    stack = traceback.format_list(traceback.extract_tb(error.__traceback__)) if error.__traceback__ else []
    return {
        "errorMessage": str(error),
        "errorType": error_type or type(error).__name__,
        "requestId": "",
        "stackTrace": stack,
    }


class InitError(Exception):
    def __init__(self, error_type, message, cause=None):
        super().__init__(message)
        self.error_type = error_type
        self.cause = cause


def load_handler():
    setting = os.environ.get("_HANDLER", "")
    root = os.environ.get("LAMBDA_TASK_ROOT", os.getcwd())
    if root not in sys.path:
        sys.path.insert(0, root)
    module_path, _, function_name = setting.rpartition(".")
    if not module_path or not function_name:
        raise InitError("Runtime.MalformedHandlerName", f"Bad handler '{setting}': expected module.function")
    module_name = module_path.replace("/", ".")
    try:
        module = importlib.import_module(module_name)
    except SyntaxError as error:
        raise InitError("Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {error}", error)
    except ImportError as error:
        raise InitError("Runtime.ImportModuleError", f"Unable to import module '{module_name}': {error}", error)
    handler = getattr(module, function_name, None)
    if not callable(handler):
        raise InitError("Runtime.HandlerNotFound", f"Handler '{function_name}' missing on module '{module_name}'")
    return handler


class ClientContext:
    def __init__(self, raw):
        self.client = raw.get("client")
        self.custom = raw.get("custom")
        self.env = raw.get("env")


class Context:
    def __init__(self, headers):
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.aws_request_id = headers.get("lambda-runtime-aws-request-id")
        self.invoked_function_arn = headers.get("lambda-runtime-invoked-function-arn")
        self.identity = None
        self.client_context = None
        raw = headers.get("lambda-runtime-client-context")
        if raw:
            try:
                self.client_context = ClientContext(json.loads(raw))
            except (ValueError, AttributeError):
                self.client_context = None
        self._deadline = int(headers.get("lambda-runtime-deadline-ms") or 0)

    def get_remaining_time_in_millis(self):
        return max(self._deadline - int(time.time() * 1000), 0)


def main():
    try:
        handler = adapt_to_cloud(load_handler(), os.environ.get("UPDRAFT_CALLING_CONVENTION"))
    except Exception as error:
        error_type = getattr(error, "error_type", None) or "Runtime.Unknown"
        body = error_object(error, error_type)
        cause = getattr(error, "cause", None)
        if cause is not None:
            body["stackTrace"] = traceback.format_exception(cause)
        print(f"[ERROR] {error_type}: {error}", file=sys.stderr, flush=True)
        call("POST", f"{BASE}/init/error", json.dumps(body), {"Lambda-Runtime-Function-Error-Type": error_type})
        sys.exit(1)
    status, headers, body = call(*NEXT)
    while True:
        if status != 200:
            raise RuntimeError(f"the Runtime API answered {status} to next: {body!r}")
        request_id = headers.get("lambda-runtime-aws-request-id")
        os.environ["_X_AMZN_TRACE_ID"] = headers.get("lambda-runtime-trace-id") or ""
        try:
            result = handler(json.loads(body), Context(headers))
            try:
                response = json.dumps(result)
            except (TypeError, ValueError) as error:
                raise InitError("Runtime.MarshalError", f"Unable to marshal response: {error}") from None
        except Exception as error:
            error_type = error.error_type if isinstance(error, InitError) else None
            failure = error_object(error, error_type)
            failure["requestId"] = request_id
            print(f"[ERROR] {failure['errorType']}: {failure['errorMessage']}", file=sys.stderr, flush=True)
            status, headers, body = post_and_next(
                "POST",
                f"{BASE}/invocation/{request_id}/error",
                json.dumps(failure),
                {"Lambda-Runtime-Function-Error-Type": failure["errorType"]},
            )
            continue
        status, headers, body = post_and_next("POST", f"{BASE}/invocation/{request_id}/response", response, {})


if __name__ == "__main__":
    main()
