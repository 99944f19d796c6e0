// updraft's runtime interface client for Node.js: loads the handler named by _HANDLER from
// LAMBDA_TASK_ROOT (ES module or CommonJS) and serves events from the Lambda Runtime API at
// AWS_LAMBDA_RUNTIME_API, one at a time, as Lambda's own Node.js runtime does. Handlers may be
// async (a promise), take a callback, or call context.succeed/fail/done.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import util from 'node:util';
import { pathToFileURL } from 'node:url';

const api = process.env.AWS_LAMBDA_RUNTIME_API ?? '';
const separator = api.lastIndexOf(':');
const apiHost = api.slice(0, separator);
const apiPort = Number(api.slice(separator + 1));
const base = '/2018-06-01/runtime';

// The Runtime API client: one kept-alive connection, HTTP/1.1 written and read by hand.
// Lambda's own Node.js runtime talks to the API through a native addon for the same reason:
// node:http costs more per call than the handler of a small function does. Requests may be
// pipelined (a result and the next `next` in one write); their answers come back in order.
let socket;
const waiting = []; // { resolve, reject } of each request in flight, oldest first
let chunks = [];
let received = 0;
let head; // { status, headers, length, chunked, offset } once the header is read

function fail(error) {
  const failed = waiting.splice(0);
  socket = undefined;
  chunks = [];
  received = 0;
  head = undefined;
  for (const request of failed) request.reject(error);
}

function connect() {
  const connection = net.connect({ host: apiHost, port: apiPort });
  connection.setNoDelay(true);
  connection.on('data', (chunk) => {
    chunks.push(chunk);
    received += chunk.length;
    while (waiting.length && parseOne());
  });
  const lost = (error) => {
    if (socket === connection) fail(error);
  };
  connection.on('error', lost);
  connection.on('close', () => lost(new Error('the Runtime API closed the connection')));
  socket = connection;
}

// A chunked body (`transfer-encoding: chunked`) decoded and where it ends, or undefined until
// all of it is here.
function dechunk(buffer, offset) {
  const parts = [];
  for (;;) {
    const line = buffer.indexOf('\r\n', offset);
    if (line < 0) return undefined;
    const size = parseInt(buffer.toString('latin1', offset, line), 16);
    if (Number.isNaN(size)) throw new Error('the Runtime API sent a malformed chunked body');
    const start = line + 2;
    if (buffer.length < start + size + 2) return undefined;
    if (size === 0) return { body: Buffer.concat(parts), end: start + 2 };
    parts.push(buffer.subarray(start, start + size));
    offset = start + size + 2;
  }
}

// Answers the oldest request if its whole response is here; returns whether it did.
function parseOne() {
  let buffer = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, received);
  chunks = [buffer];
  if (!head) {
    const end = buffer.indexOf('\r\n\r\n');
    if (end < 0) return false;
    // Read by hand rather than with split(): this runs for every event.
    const text = buffer.toString('latin1', 0, end);
    const firstSpace = text.indexOf(' ');
    const status = Number(text.slice(firstSpace + 1, firstSpace + 4));
    const headers = {};
    let lineStart = text.indexOf('\r\n') + 2;
    while (lineStart > 1 && lineStart < text.length) {
      let lineEnd = text.indexOf('\r\n', lineStart);
      if (lineEnd < 0) lineEnd = text.length;
      const colon = text.indexOf(':', lineStart);
      if (colon > 0 && colon < lineEnd) {
        headers[text.slice(lineStart, colon).trim().toLowerCase()] = text.slice(colon + 1, lineEnd).trim();
      }
      lineStart = lineEnd + 2;
    }
    const length = headers['content-length'];
    head = {
      status,
      headers,
      length: length === undefined ? undefined : Number(length),
      chunked: headers['transfer-encoding'] !== undefined && /chunked/i.test(headers['transfer-encoding']),
      offset: end + 4,
    };
  }
  let body;
  if (head.chunked) {
    const decoded = dechunk(buffer, head.offset);
    if (decoded === undefined) return false;
    body = decoded.body;
    buffer = buffer.subarray(decoded.end);
  } else {
    const length = head.length ?? 0;
    if (buffer.length < head.offset + length) return false;
    body = buffer.subarray(head.offset, head.offset + length);
    buffer = buffer.subarray(head.offset + length);
  }
  const { status, headers } = head;
  head = undefined;
  chunks = buffer.length ? [buffer] : [];
  received = buffer.length;
  waiting.shift().resolve({ status, headers, body: body.toString('utf8') });
  return true;
}

function encode({ method, path: urlPath, body, headers }) {
  let text = `${method} ${urlPath} HTTP/1.1\r\nHost: ${api}\r\n`;
  if (headers) for (const name in headers) text += `${name}: ${headers[name]}\r\n`;
  if (body === undefined) return `${text}\r\n`;
  return `${text}Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

// Sends the requests in one write; gives a promise of each one's response.
function send(...requests) {
  if (!socket) connect();
  let text = '';
  const answers = [];
  for (const request of requests) {
    text += encode(request);
    answers.push(new Promise((resolve, reject) => waiting.push({ resolve, reject })));
  }
  socket.write(text, 'utf8');
  return answers;
}

function call(method, urlPath, body, headers) {
  return send({ method, path: urlPath, body, headers })[0];
}

const nextRequest = { method: 'GET', path: `${base}/invocation/next` };

// Lines as Lambda's Node.js runtime writes them: time, request id, level, message.
let currentRequestId;
for (const [name, level] of [['log', 'INFO'], ['info', 'INFO'], ['warn', 'WARN'], ['error', 'ERROR'], ['debug', 'DEBUG'], ['trace', 'TRACE']]) {
  console[name] = (...args) => {
    process.stdout.write(`${new Date().toISOString()}\t${currentRequestId ?? 'undefined'}\t${level}\t${util.format(...args)}\n`);
  };
}

function errorObject(error) {
  if (error instanceof Error) {
    return {
      errorType: error.name && error.name !== 'Error' ? error.name : error.constructor?.name ?? 'Error',
      errorMessage: error.message,
      stackTrace: String(error.stack ?? '').split('\n'),
    };
  }
  if (typeof error === 'string') return { errorType: 'string', errorMessage: error, stackTrace: [] };
  let text;
  try { text = JSON.stringify(error); } catch { text = String(error); }
  return { errorType: typeof error, errorMessage: text ?? String(error), stackTrace: [] };
}

function namedError(name, message, cause) {
  const error = new Error(message);
  error.name = name;
  if (cause?.stack) error.stack = `${name}: ${message}\n${cause.stack}`;
  return error;
}

async function loadHandler() {
  const root = process.env.LAMBDA_TASK_ROOT ?? process.cwd();
  const setting = process.env._HANDLER ?? '';
  // "src/users.create" is function "create" of module "src/users"; the module name ends at
  // the first dot after the last slash.
  const slash = setting.lastIndexOf('/');
  const dot = setting.indexOf('.', slash + 1);
  if (dot < 0) throw namedError('Runtime.MalformedHandlerName', `Bad handler ${setting}`);
  const moduleName = setting.slice(0, dot);
  const functionPath = setting.slice(dot + 1).split('.');
  const stem = path.resolve(root, moduleName);
  const file = ['.js', '.mjs', '.cjs'].map((extension) => stem + extension).find((candidate) => fs.existsSync(candidate));
  let module;
  try {
    module = await import(file ? pathToFileURL(file).href : moduleName);
  } catch (error) {
    if (error instanceof SyntaxError) {
      throw namedError('Runtime.UserCodeSyntaxError', `${error.name}: ${error.message}`, error);
    }
    if (error?.code === 'ERR_MODULE_NOT_FOUND' || error?.code === 'MODULE_NOT_FOUND' || error?.code === 'ERR_UNSUPPORTED_DIR_IMPORT') {
      throw namedError('Runtime.ImportModuleError', `Error: ${error.message}`, error);
    }
    throw error;
  }
  let handler = module;
  for (const part of functionPath) handler = handler?.[part];
  if (typeof handler !== 'function' && module.default && typeof module.default === 'object') {
    handler = module.default;
    for (const part of functionPath) handler = handler?.[part];
  }
  if (typeof handler !== 'function') {
    throw namedError('Runtime.HandlerNotFound', `${moduleName}.${functionPath.join('.')} is undefined or not exported`);
  }
  return handler;
}

// While a handler runs: ends its invocation with no result. Lambda's Node.js runtime does that
// when the event loop empties before the handler called back (or its promise settled): a
// callback handler that never calls back answers `null` once its work is done, instead of
// waiting for the timeout. The Runtime API connection is unreferenced meanwhile, so that it
// does not count as work.
let endWithoutResult;
process.on('beforeExit', () => endWithoutResult?.());

function runHandler(handler, event, context) {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (error, value) => {
      if (settled) return;
      settled = true;
      endWithoutResult = undefined;
      resolve(error !== undefined && error !== null ? { error } : { value });
    };
    endWithoutResult = () => finish(null, undefined);
    context.succeed = (value) => finish(null, value);
    context.fail = (error) => finish(error ?? 'handled');
    context.done = (error, value) => finish(error, value);
    try {
      const result = handler(event, context, (error, value) => finish(error, value));
      if (result && typeof result.then === 'function') {
        result.then((value) => finish(null, value), (error) => finish(error ?? 'rejected'));
      }
    } catch (error) {
      finish(error);
    }
  });
}

// Read once: each process.env read is a call into the C environment.
const functionSettings = {
  functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
  functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
  memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
  logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
  logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
};

function makeContext(headers, deadline) {
  let clientContext;
  const rawContext = headers['lambda-runtime-client-context'];
  if (rawContext) {
    try { clientContext = JSON.parse(rawContext); } catch { clientContext = undefined; }
  }
  return {
    callbackWaitsForEmptyEventLoop: true,
    ...functionSettings,
    invokedFunctionArn: headers['lambda-runtime-invoked-function-arn'],
    awsRequestId: headers['lambda-runtime-aws-request-id'],
    clientContext,
    identity: undefined,
    getRemainingTimeInMillis: () => Math.max(deadline - Date.now(), 0),
  };
}

async function main() {
  let handler;
  try {
    handler = adaptToCloud(await loadHandler(), process.env.UPDRAFT_CALLING_CONVENTION);
  } catch (error) {
    const body = errorObject(error);
    console.error(`${body.errorType}: ${body.errorMessage}`);
    await call('POST', `${base}/init/error`, JSON.stringify(body), { 'Lambda-Runtime-Function-Error-Type': body.errorType });
    process.exit(1);
  }
  let pending = call('GET', `${base}/invocation/next`);
  for (;;) {
    // A pipelined `next` is lost with its connection (say, when the API refused an oversized
    // result and closed it): ask again on a new one.
    const next = await pending.catch(() => call('GET', `${base}/invocation/next`));
    if (next.status !== 200) throw new Error(`the Runtime API answered ${next.status} to next: ${next.body}`);
    const requestId = next.headers['lambda-runtime-aws-request-id'];
    const deadline = Number(next.headers['lambda-runtime-deadline-ms']);
    process.env._X_AMZN_TRACE_ID = next.headers['lambda-runtime-trace-id'] ?? '';
    currentRequestId = requestId;
    let outcome;
    socket?.unref();
    try {
      outcome = await runHandler(handler, JSON.parse(next.body), makeContext(next.headers, deadline));
    } catch (error) {
      outcome = { error };
    }
    socket?.ref();
    let body;
    if (!('error' in outcome)) {
      try {
        body = JSON.stringify(outcome.value === undefined ? null : outcome.value);
      } catch (error) {
        outcome = { error: namedError('Runtime.MarshalError', `Unable to stringify response body: ${error.message}`) };
      }
    }
    let result;
    if ('error' in outcome) {
      const error = errorObject(outcome.error);
      console.error(`Invoke Error \t${JSON.stringify(error)}`);
      result = {
        method: 'POST',
        path: `${base}/invocation/${requestId}/error`,
        body: JSON.stringify(error),
        headers: { 'Lambda-Runtime-Function-Error-Type': error.errorType },
      };
    } else {
      result = { method: 'POST', path: `${base}/invocation/${requestId}/response`, body };
    }
    // What the handler printed and Node still holds (a pipe takes 64 KB at a time) belongs to
    // this invocation's log: it reaches the pipe before the result is posted.
    if (process.stdout.writableLength > 0) await new Promise((resolve) => process.stdout.once('drain', resolve));
    currentRequestId = undefined;
    // The result and the request for the next event go out in one write.
    const [posted, following] = send(result, nextRequest);
    // Handled at the top of the loop; marked now so that a lost connection is no
    // unhandled rejection meanwhile.
    following.catch(() => undefined);
    pending = following;
    await posted.catch(() => undefined);
  }
}

main().catch((error) => {
  process.stderr.write(`updraft runtime: ${error?.stack ?? error}\n`);
  process.exit(1);
});
