// Node.js functions of the Google example service (serverless.yml beside this file). Google's
// Node.js runtime loads this file and calls the exported function the manifest's `handler`
// names: an HTTP function with Express's (req, res), an event function with a CloudEvent.

// GET the function's URL, optionally with ?name=...
exports.hello = (req, res) => {
  const name = req.query?.name ?? 'world';
  const greeting = process.env.GREETING ?? 'hello';
  res.json({
    message: `${greeting}, ${name}`,
    service: process.env.SERVICE_NAME,
    stage: process.env.STAGE,
  });
};

// A message published to the jobs topic: its data is base64 JSON.
exports.worker = (cloudEvent) => {
  const data = cloudEvent?.data?.message?.data;
  const job = data ? JSON.parse(Buffer.from(data, 'base64').toString()) : {};
  console.log(JSON.stringify({ level: 'info', message: 'job done', job }));
};
