# Google Cloud Functions' and Azure Functions' Python calling conventions, joined before the
# Lambda Runtime API client below. The emulator hands every function an invocation in Lambda's
# shape: for an HTTP route an API Gateway (REST) event, for `invoke local` whatever event was
# given. A Google HTTP function is called as the Functions Framework calls it, with a Flask-style
# request, and its return value (a string, a dict, a tuple with a status and headers, or a
# response object) is made a response as Flask makes one; an Azure function is called as the
# Azure Functions host (function.json model) calls it, with an `azure.functions.HttpRequest`,
# and returns an `HttpResponse`. What they answer goes back as an API Gateway response.
import base64 as _base64
import inspect as _inspect
import json as _json
import os as _os
import urllib.parse as _parse


def adapt_to_cloud(handler, convention):
    if convention == "google-http":
        return lambda event, context: _google_http(handler, _HttpRequest.of(event))
    if convention == "google-event":
        # A background function: `(data, context)`.
        return lambda event, context: handler(event, _GoogleContext(context))
    if convention == "azure-http":
        return lambda event, context: _azure_http(handler, _HttpRequest.of(event), context)
    if convention == "azure-event":
        return lambda event, context: _azure_call(handler, event, context)
    return handler


class _HttpRequest:
    """The request an event stands for. An API Gateway event carries one; any other event (an
    `invoke local --data`) is the body of a POST, and an empty one a plain GET."""

    def __init__(self, method, path, headers, query, params, raw):
        self.method, self.path, self.headers = method, path, headers
        self.query, self.params, self.raw = query, params, raw

    @classmethod
    def of(cls, event):
        if isinstance(event, dict) and isinstance(event.get("httpMethod"), str):
            headers = {str(k).lower(): v for k, v in (event.get("headers") or {}).items()}
            body = event.get("body")
            if body is None:
                raw = b""
            elif event.get("isBase64Encoded"):
                raw = _base64.b64decode(body)
            else:
                raw = body.encode("utf-8")
            return cls(
                event["httpMethod"],
                event.get("path") or "/",
                headers,
                dict(event.get("queryStringParameters") or {}),
                dict(event.get("pathParameters") or {}),
                raw,
            )
        if event is None or event == {}:
            return cls("GET", "/", {}, {}, {}, b"")
        raw = event.encode("utf-8") if isinstance(event, str) else _json.dumps(event).encode("utf-8")
        return cls("POST", "/", {"content-type": "application/json"}, {}, {}, raw)

    def url(self):
        search = _parse.urlencode(self.query)
        return f"http://localhost{self.path}" + (f"?{search}" if search else "")


def _gateway_response(status, headers, body):
    """An API Gateway response: text stays text, other bytes go base64."""
    if body is None:
        body = b""
    if isinstance(body, str):
        body = body.encode("utf-8")
    try:
        return {"statusCode": int(status), "headers": headers, "body": body.decode("utf-8"), "isBase64Encoded": False}
    except UnicodeDecodeError:
        return {"statusCode": int(status), "headers": headers, "body": _base64.b64encode(body).decode("ascii"), "isBase64Encoded": True}


class _Args(dict):
    """Flask's `request.args`: `get` with a default and a `type`, `getlist`."""

    def get(self, key, default=None, type=None):
        if key not in self:
            return default
        value = self[key]
        if type is None:
            return value
        try:
            return type(value)
        except (TypeError, ValueError):
            return default

    def getlist(self, key):
        return [self[key]] if key in self else []


class _Headers(dict):
    """Case-insensitive header lookup, as Flask's `request.headers`."""

    def get(self, key, default=None, type=None):
        return _Args.get(self, str(key).lower(), default, type)

    def __getitem__(self, key):
        return dict.__getitem__(self, str(key).lower())

    def __contains__(self, key):
        return dict.__contains__(self, str(key).lower())


class _FlaskRequest:
    """The parts of a Flask request that Google functions use."""

    def __init__(self, request):
        self.method = request.method
        self.path = request.path
        self.url = request.url()
        self.full_path = request.path + "?" + _parse.urlencode(request.query)
        self.args = _Args(request.query)
        self.headers = _Headers(request.headers)
        self.view_args = dict(request.params)
        self.data = request.raw
        self.content_type = request.headers.get("content-type")
        self.mimetype = (self.content_type or "").split(";")[0].strip()
        self.is_json = self.mimetype == "application/json" or self.mimetype.endswith("+json")
        form = {}
        if self.mimetype == "application/x-www-form-urlencoded":
            form = dict(_parse.parse_qsl(self.data.decode("utf-8", "replace")))
        self.form = _Args(form)
        self.values = _Args({**self.args, **form})

    def get_data(self, as_text=False, cache=True, parse_form_data=False):
        return self.data.decode("utf-8", "replace") if as_text else self.data

    def get_json(self, force=False, silent=False, cache=True):
        if not (force or self.is_json):
            if silent:
                return None
            raise ValueError("the request is not JSON (its content-type is not application/json)")
        try:
            return _json.loads(self.data.decode("utf-8")) if self.data else None
        except ValueError:
            if silent:
                return None
            raise

    @property
    def json(self):
        return self.get_json(silent=True)


def _google_http(handler, request):
    result = handler(_FlaskRequest(request))
    # Flask's rules for a view's return value: (body, status, headers), (body, status),
    # (body, headers); a dict or list is JSON; a response object is used as it is.
    status, headers = 200, {}
    if isinstance(result, tuple):
        body, *rest = result
        for part in rest:
            if isinstance(part, int):
                status = part
            elif isinstance(part, dict):
                headers.update({str(k).lower(): str(v) for k, v in part.items()})
            elif isinstance(part, (list, tuple)):
                headers.update({str(k).lower(): str(v) for k, v in part})
    else:
        body = result
    if hasattr(body, "get_data") and hasattr(body, "status_code"):
        response_headers = {str(k).lower(): str(v) for k, v in dict(body.headers).items()}
        return _gateway_response(body.status_code, {**response_headers, **headers}, body.get_data())
    if isinstance(body, (dict, list)):
        headers.setdefault("content-type", "application/json")
        body = _json.dumps(body)
    elif isinstance(body, (bytes, bytearray)):
        body = bytes(body)
    elif body is None:
        raise TypeError("the function did not return a valid response (it returned None)")
    else:
        body = str(body)
    headers.setdefault("content-type", "text/html; charset=utf-8")
    return _gateway_response(status, headers, body)


class _GoogleContext:
    def __init__(self, context):
        import datetime

        self.event_id = context.aws_request_id
        self.timestamp = datetime.datetime.now(datetime.timezone.utc).isoformat()
        self.event_type = None
        self.resource = None


class _AzureContext:
    def __init__(self, context):
        self.invocation_id = context.aws_request_id
        self.function_name = context.function_name
        self.function_directory = _os.environ.get("LAMBDA_TASK_ROOT", "")


def _azure_call(handler, first, context):
    """Azure passes `context` to a function that declares a parameter of that name."""
    try:
        names = list(_inspect.signature(handler).parameters)
    except (TypeError, ValueError):
        names = []
    if "context" not in names:
        return handler(first)
    arguments = {"context": _AzureContext(context)}
    others = [name for name in names if name != "context"]
    if others:
        arguments[others[0]] = first
    return handler(**arguments)


def _azure_http(handler, request, context):
    import azure.functions as func

    req = func.HttpRequest(
        method=request.method,
        url=request.url(),
        headers=request.headers,
        params=request.query,
        route_params=request.params,
        body=request.raw,
    )
    result = _azure_call(handler, req, context)
    if result is None:
        return _gateway_response(204, {}, b"")
    if isinstance(result, (str, bytes)):
        return _gateway_response(200, {"content-type": "text/plain; charset=utf-8"}, result)
    headers = {str(k).lower(): str(v) for k, v in dict(result.headers).items()}
    if getattr(result, "mimetype", None):
        content_type = result.mimetype
        if getattr(result, "charset", None):
            content_type += f"; charset={result.charset}"
        headers.setdefault("content-type", content_type)
    return _gateway_response(result.status_code, headers, result.get_body())
