// Node.js handlers of the example service (serverless.example.yml).
// They answer API Gateway events (REST API v1 and HTTP API v2 payloads) and SQS batches, and read
// their settings from the environment the manifest sets.

const json = (statusCode, body) => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

const log = (level, message, fields = {}) => {
  const levels = ['debug', 'info', 'warn', 'error'];
  const threshold = levels.indexOf(process.env.LOG_LEVEL ?? 'info');
  if (levels.indexOf(level) >= threshold) {
    console.log(JSON.stringify({ level, message, ...fields }));
  }
};

// GET /hello (REST API) and GET /hello/{name} (HTTP API).
export const hello = async (event) => {
  const name =
    event?.pathParameters?.name ?? event?.queryStringParameters?.name ?? 'world';
  const greeting = process.env.GREETING ?? 'hello';
  const suffix = process.env.GREETING_SUFFIX ? ` ${process.env.GREETING_SUFFIX}` : '';
  log('debug', 'hello', { name, route: event?.routeKey ?? event?.resource });
  return json(200, {
    message: `${greeting}, ${name}${suffix}`,
    service: process.env.SERVICE_NAME,
    stage: process.env.STAGE,
  });
};

// POST /jobs: puts the JSON body on the jobs queue.
export const enqueue = async (event) => {
  let job;
  try {
    const text = event?.isBase64Encoded
      ? Buffer.from(event.body ?? '', 'base64').toString('utf8')
      : event?.body ?? '';
    job = JSON.parse(text || '{}');
  } catch (error) {
    return json(400, { error: `the body is not JSON: ${error.message}` });
  }
  if (!process.env.QUEUE_URL) {
    return json(500, { error: 'QUEUE_URL is not set' });
  }
  // The SDK ships with the Lambda Node.js runtime; load it only when a job is sent.
  const { SQSClient, SendMessageCommand } = await import('@aws-sdk/client-sqs');
  const client = new SQSClient({});
  const sent = await client.send(
    new SendMessageCommand({ QueueUrl: process.env.QUEUE_URL, MessageBody: JSON.stringify(job) }),
  );
  log('info', 'job queued', { messageId: sent.MessageId });
  return json(202, { messageId: sent.MessageId });
};

// SQS batch: logs every record and reports the ones that fail, so only those are retried.
export const worker = async (event) => {
  const records = event?.Records ?? [];
  log('info', 'batch received', { worker: process.env.WORKER_NAME, size: records.length });
  const batchItemFailures = [];
  for (const record of records) {
    try {
      const job = JSON.parse(record.body);
      log('info', 'job processed', { messageId: record.messageId, job });
    } catch (error) {
      log('error', 'job failed', { messageId: record.messageId, error: error.message });
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures };
};
