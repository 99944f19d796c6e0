// HTTP functions of the example service, in the Azure Functions Node.js model that reads
// function.json: each export takes the invocation context and the request.

const greeting = process.env.GREETING || 'hello';

module.exports.hello = async function (context, req) {
  const name = (req.params && req.params.name) || (req.query && req.query.name) || 'world';
  context.res = {
    status: 200,
    headers: { 'content-type': 'application/json' },
    body: { message: `${greeting}, ${name}`, stage: process.env.STAGE },
  };
};

module.exports.shout = async function (context, req) {
  const name = req.body && typeof req.body.name === 'string' ? req.body.name : null;
  if (!name) {
    context.res = { status: 400, body: { error: 'send {"name": "..."}' } };
    return;
  }
  context.res = { status: 200, body: { message: `${greeting}, ${name}!`.toUpperCase() } };
};
