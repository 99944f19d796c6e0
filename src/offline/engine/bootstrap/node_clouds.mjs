
// ---------------------------------------------------------------------------------------------
// Google Cloud Functions' and Azure Functions' Node.js calling conventions, joined to the client
// above. The emulator hands every function an invocation in Lambda's shape: for an HTTP route an
// API Gateway (REST) event, for `invoke local` whatever event was given. A Google HTTP function
// is called as the Functions Framework calls it, with Express-like `(req, res)`; an Azure
// function as the Azure Functions host (function.json model) does, with `(context, req)`. What
// they answer goes back as an API Gateway response, `{statusCode, headers, body}`.
import { STATUS_CODES } from 'node:http';

function adaptToCloud(handler, convention) {
  switch (convention) {
    case 'google-http':
      return (event) => googleHttp(handler, httpRequestOf(event));
    case 'google-event':
      // A background function: `(data, context)`.
      return (event, context, callback) =>
        handler(event, { eventId: context.awsRequestId, timestamp: new Date().toISOString() }, callback);
    case 'azure-http':
      return (event, context) => azureHttp(handler, httpRequestOf(event), context);
    case 'azure-event':
      return (event, context) => azureCall(handler, azureContext(context, { item: event }), event);
    default:
      return handler;
  }
}

// The request an event stands for. An API Gateway event carries one; any other event (an
// `invoke local --data`) is the body of a POST, and an empty one a plain GET.
function httpRequestOf(event) {
  if (event && typeof event === 'object' && typeof event.httpMethod === 'string') {
    const headers = {};
    for (const [name, value] of Object.entries(event.headers ?? {})) headers[name.toLowerCase()] = value;
    const raw = event.body === null || event.body === undefined
      ? Buffer.alloc(0)
      : Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
    const query = { ...(event.queryStringParameters ?? {}) };
    const search = new URLSearchParams(query).toString();
    const path = event.path ?? '/';
    return { method: event.httpMethod, path, url: search ? `${path}?${search}` : path, headers, query, params: { ...(event.pathParameters ?? {}) }, raw };
  }
  const empty = event === null || event === undefined || (typeof event === 'object' && Object.keys(event).length === 0);
  if (empty) return { method: 'GET', path: '/', url: '/', headers: {}, query: {}, params: {}, raw: Buffer.alloc(0) };
  const raw = Buffer.from(typeof event === 'string' ? event : JSON.stringify(event), 'utf8');
  return { method: 'POST', path: '/', url: '/', headers: { 'content-type': 'application/json' }, query: {}, params: {}, raw };
}

// The body as the Functions Framework's (and the Azure host's) parsers give it: JSON parsed,
// a form as an object, text as a string, anything else as bytes.
function parsedBody(request) {
  const type = request.headers['content-type'] ?? '';
  const text = request.raw.toString('utf8');
  if (/json/i.test(type)) {
    try { return JSON.parse(text); } catch { return text; }
  }
  if (/x-www-form-urlencoded/i.test(type)) return Object.fromEntries(new URLSearchParams(text));
  if (request.raw.length === 0) return {};
  if (/^text\//i.test(type)) return text;
  return request.raw;
}

// An API Gateway response: text stays text, other bytes go base64 as API Gateway expects.
function gatewayResponse(statusCode, headers, body) {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body === undefined || body === null ? '' : String(body), 'utf8');
  const text = bytes.toString('utf8');
  if (Buffer.from(text, 'utf8').equals(bytes)) return { statusCode, headers, body: text, isBase64Encoded: false };
  return { statusCode, headers, body: bytes.toString('base64'), isBase64Encoded: true };
}

function googleHttp(handler, request) {
  return new Promise((resolve, reject) => {
    const headers = {};
    const written = [];
    let finished = false;
    const res = {
      statusCode: 200,
      headersSent: false,
      status(code) { this.statusCode = code; return this; },
      set(name, value) {
        if (typeof name === 'object') for (const key in name) headers[key.toLowerCase()] = String(name[key]);
        else headers[name.toLowerCase()] = String(value);
        return this;
      },
      header(name, value) { return this.set(name, value); },
      setHeader(name, value) { this.set(name, value); return this; },
      append(name, value) { const key = name.toLowerCase(); headers[key] = headers[key] ? `${headers[key]}, ${value}` : String(value); return this; },
      get(name) { return headers[name.toLowerCase()]; },
      getHeader(name) { return headers[name.toLowerCase()]; },
      removeHeader(name) { delete headers[name.toLowerCase()]; },
      type(value) { headers['content-type'] = value.includes('/') ? value : `application/${value}`; return this; },
      write(chunk) { written.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk), 'utf8')); return true; },
      end(chunk) {
        if (finished) return this;
        if (chunk !== undefined && chunk !== null) this.write(chunk);
        finished = true;
        this.headersSent = true;
        resolve(gatewayResponse(this.statusCode, headers, Buffer.concat(written)));
        return this;
      },
      json(value) {
        headers['content-type'] ??= 'application/json; charset=utf-8';
        return this.end(JSON.stringify(value));
      },
      send(body) {
        if (typeof body === 'object' && body !== null && !Buffer.isBuffer(body)) return this.json(body);
        headers['content-type'] ??= Buffer.isBuffer(body) ? 'application/octet-stream' : 'text/html; charset=utf-8';
        return this.end(body === undefined ? '' : body);
      },
      sendStatus(code) {
        this.statusCode = code;
        headers['content-type'] ??= 'text/plain; charset=utf-8';
        return this.end(STATUS_CODES[code] ?? String(code));
      },
      redirect(status, location) {
        if (location === undefined) [status, location] = [302, status];
        this.statusCode = status;
        headers.location = location;
        return this.end('');
      },
    };
    const req = {
      method: request.method,
      path: request.path,
      url: request.url,
      originalUrl: request.url,
      headers: request.headers,
      query: request.query,
      params: request.params,
      body: parsedBody(request),
      rawBody: request.raw,
      get(name) { return request.headers[name.toLowerCase()]; },
      header(name) { return request.headers[name.toLowerCase()]; },
    };
    try {
      const result = handler(req, res);
      // The Functions Framework answers 500 for a rejected promise, as for a throw.
      if (result && typeof result.then === 'function') result.then(undefined, reject);
    } catch (error) {
      reject(error);
    }
  });
}

function azureContext(lambdaContext, bindings) {
  const log = (...args) => console.info(...args);
  log.error = (...args) => console.error(...args);
  log.warn = (...args) => console.warn(...args);
  log.info = (...args) => console.info(...args);
  log.verbose = (...args) => console.debug(...args);
  return {
    invocationId: lambdaContext.awsRequestId,
    executionContext: { invocationId: lambdaContext.awsRequestId, functionName: lambdaContext.functionName },
    bindings,
    bindingData: {},
    log,
    res: undefined,
  };
}

// Calls an Azure handler: an async function settles its promise, an old-style one calls
// `context.done`.
function azureCall(handler, context, input) {
  return new Promise((resolve, reject) => {
    context.done = (error, output) => (error ? reject(error) : resolve(output));
    try {
      const result = handler(context, input);
      if (result && typeof result.then === 'function') result.then(resolve, reject);
    } catch (error) {
      reject(error);
    }
  });
}

async function azureHttp(handler, request, lambdaContext) {
  const req = {
    method: request.method,
    url: `http://localhost${request.url}`,
    originalUrl: `http://localhost${request.url}`,
    headers: request.headers,
    query: request.query,
    params: request.params,
    body: request.raw.length === 0 ? undefined : parsedBody(request),
    rawBody: request.raw.toString('utf8'),
    get(name) { return request.headers[name.toLowerCase()]; },
  };
  const context = azureContext(lambdaContext, { req });
  const output = await azureCall(handler, context, req);
  // A returned response (a `$return` binding), else what the handler set on `context.res`.
  const isResponse = (value) => value && typeof value === 'object' && ('body' in value || 'status' in value || 'statusCode' in value);
  const response = (isResponse(output) ? output : undefined) ?? context.res ?? context.bindings.res ?? {};
  const headers = {};
  for (const [name, value] of Object.entries(response.headers ?? {})) headers[name.toLowerCase()] = String(value);
  let body = response.body;
  if (body !== undefined && body !== null && typeof body === 'object' && !Buffer.isBuffer(body)) {
    headers['content-type'] ??= 'application/json; charset=utf-8';
    body = JSON.stringify(body);
  } else if (typeof body === 'string') {
    headers['content-type'] ??= 'text/plain; charset=utf-8';
  }
  const status = Number(response.status ?? response.statusCode ?? (body === undefined ? 204 : 200));
  return gatewayResponse(status, headers, body);
}
