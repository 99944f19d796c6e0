// updraft's loader for JavaScript and TypeScript configuration. It is embedded in the updraft
// binary and run as `node --input-type=module --eval`, in the service directory, by
// src/manifest/variables/javascript.rs, which documents the protocol:
//
// - requests arrive on stdin, one JSON object a line: `evaluate` (a file, and for a variable
//   its address and the CLI options) and `answer` (updraft's reply to a callback);
// - everything this loader says goes to file descriptor 3, one JSON object a line, so whatever
//   the configuration's own code prints on stdout or stderr never mixes with it.
//
// Evaluations run concurrently: a function waiting on `resolveVariable` must not stop updraft
// from asking for another file that its answer needs.

import { writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { inspect, types } from 'node:util';

const CHANNEL = 3;
// ts-node hooks `require` only, so TypeScript goes through `require` when it is the loader.
const requireTypeScript = process.env.UPDRAFT_JS_TYPESCRIPT === 'ts-node';

function writeLine(text) {
  const bytes = Buffer.from(`${text}\n`);
  let written = 0;
  while (written < bytes.length) {
    try {
      written += writeSync(CHANNEL, bytes, written);
    } catch (error) {
      if (error.code !== 'EAGAIN') throw error;
    }
  }
}

const send = (message) => writeLine(JSON.stringify(message));

// Rejections a callback ends with. A function that lets one through ends its evaluation with
// updraft's own outcome (wait for another property first, or that property's failure) rather
// than with an error of the module; the Framework rethrows the same two.
const missingDependency = Symbol('updraft.missingDependency');
const variableFailure = Symbol('updraft.variableFailure');

const waiting = new Map();
let lastCall = 0;

function ask(id, question) {
  const call = ++lastCall;
  return new Promise((resolve, reject) => {
    waiting.set(call, { resolve, reject });
    send({ type: 'ask', id, call, ...question });
  });
}

function settle(answer) {
  const pending = waiting.get(answer.call);
  if (!pending) return;
  waiting.delete(answer.call);
  if (answer.dependency) {
    const error = new Error('Cannot resolve variable');
    error.code = 'MISSING_VARIABLE_DEPENDENCY';
    error[missingDependency] = true;
    pending.reject(error);
  } else if (answer.error !== undefined) {
    const error = new Error(answer.error);
    if (answer.failure != null) error[variableFailure] = answer.failure;
    pending.reject(error);
  } else {
    // No `value` key means `undefined`: nothing there.
    pending.resolve(answer.value);
  }
}

// The argument the Framework passes to a function export.
function context(id, options) {
  return {
    options,
    resolveVariable: async (variable) => {
      if (typeof variable !== 'string') {
        throw new TypeError(`resolveVariable expects a string, got ${inspect(variable)}`);
      }
      return ask(id, { variable });
    },
    resolveConfigurationProperty: async (keys) => {
      if (!Array.isArray(keys)) {
        const got = inspect(keys);
        throw new TypeError(`resolveConfigurationProperty expects a list of keys, got ${got}`);
      }
      return ask(id, { property: keys.map(String) });
    },
  };
}

const isPlainObject = (value) =>
  value !== null &&
  typeof value === 'object' &&
  [Object.prototype, null].includes(Object.getPrototypeOf(value));

// The module's export: CommonJS `module.exports`, an ES module's default export, or its named
// exports when it has no default. Boxed, so that a promise export is not awaited here: its
// rejection is the module's value failing, not the module failing to load.
async function load(file) {
  let exported;
  if (requireTypeScript && /\.[cm]?ts$/i.test(file)) {
    exported = createRequire(file)(file);
  } else {
    const namespace = await import(pathToFileURL(file).href);
    exported = 'default' in namespace ? namespace.default : { ...namespace };
  }
  // TypeScript's `export default` compiled to CommonJS.
  if (exported && exported.__esModule === true && 'default' in exported) {
    return { exported: exported.default };
  }
  return { exported };
}

function preview(value) {
  const text = inspect(value, { depth: 2, breakLength: Infinity });
  return text.length > 200 ? `${text.slice(0, 200)}...` : text;
}

// The error's text and the first frame that is neither Node's (`node:`) nor this loader's
// (`[eval]`); a syntax error's place is the first line of its stack instead.
function describe(error) {
  if (!types.isNativeError(error) && !(error instanceof Error)) {
    return { message: `Non-error exception: ${preview(error)}` };
  }
  const stack = typeof error.stack === 'string' ? error.stack.split('\n') : [];
  let frame = stack
    .filter((line) => /^\s+at /.test(line) && !/\bnode:|\[eval/.test(line))
    .map((line) => line.trim().replace(/^at /, ''))[0];
  if (error instanceof SyntaxError && /:\d+$/.test(stack[0] || '')) frame = stack[0];
  return { message: String(error), frame };
}

function failed(id, stage, error) {
  if (error && error[missingDependency]) return send({ id, type: 'dependency' });
  if (error && error[variableFailure] != null) {
    return send({ id, type: 'failed', failure: error[variableFailure] });
  }
  return send({ id, type: 'error', stage, ...describe(error) });
}

// A value becomes configuration as JSON, under the Framework's rule: a plain object or a list
// goes through `JSON.stringify` (functions and undefined inside are dropped), any other value
// must come back from JSON as itself (so NaN, a Date or a Map is refused, not changed).
function finish(id, value) {
  if (value === undefined) return send({ id, type: 'missing' });
  let text;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    const detail = preview(value);
    return send({ id, type: 'error', stage: 'value', message: String(error), detail });
  }
  const container = isPlainObject(value) || Array.isArray(value);
  if (text === undefined || (!container && JSON.parse(text) !== value)) {
    const kind = typeof value === 'object' ? 'an object of this kind' : `a ${typeof value}`;
    const message = `${kind} has no JSON form`;
    return send({ id, type: 'error', stage: 'value', message, detail: preview(value) });
  }
  return writeLine(`{"id":${id},"type":"value","value":${text}}`);
}

// `serverless.js`: an object, or a promise of one, read as the Framework reads it.
async function manifest(id, exported) {
  let value;
  try {
    value = await exported;
  } catch (error) {
    return failed(id, 'rejection', error);
  }
  if (!isPlainObject(value)) {
    return send({ id, type: 'error', stage: 'shape', message: '', detail: preview(value) });
  }
  try {
    return send({ id, type: 'text', text: JSON.stringify(value, null, 2) });
  } catch (error) {
    return send({ id, type: 'error', stage: 'json', message: String(error) });
  }
}

// `${file(x.js)}` and `${file(x.js):a.b}`, as the Framework's file source: a function export is
// called (and awaited), otherwise a promise export is awaited; then the address is walked, a
// string on the way has its variables resolved first, and the first function met is called
// unless one was called already.
async function evaluate({ id, file, address, options, manifest: isManifest }) {
  let value;
  try {
    ({ exported: value } = await load(file));
  } catch (error) {
    return failed(id, 'load', error);
  }
  if (isManifest) return manifest(id, value);
  const argument = context(id, options);
  let calledFunction = typeof value === 'function';
  try {
    value = calledFunction ? await value(argument) : await value;
  } catch (error) {
    return failed(id, calledFunction ? 'call' : 'rejection', error);
  }
  for (const key of address ? address.split('.') : []) {
    if (typeof value === 'string') {
      try {
        value = await ask(id, { string: value });
      } catch (error) {
        return failed(id, 'property', error);
      }
    }
    if (value == null) return send({ id, type: 'missing' });
    value = value[key];
    if (value == null) return send({ id, type: 'missing' });
    if (!calledFunction && typeof value === 'function') {
      calledFunction = true;
      try {
        value = await value(argument);
      } catch (error) {
        return failed(id, 'property', error);
      }
    }
  }
  return finish(id, value);
}

// A stray rejection in a configuration module is not its value: keep evaluating.
process.on('unhandledRejection', (reason) => {
  process.stderr.write(`unhandled rejection: ${preview(reason)}\n`);
});

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
lines.on('line', (line) => {
  const message = JSON.parse(line);
  if (message.type === 'answer') return settle(message);
  if (message.type !== 'evaluate') return undefined;
  return evaluate(message).catch((error) =>
    send({ id: message.id, type: 'error', stage: 'loader', ...describe(error) }),
  );
});
// updraft is done (or gone): leave even if a module keeps timers running.
lines.on('close', () => process.exit(0));
