// The function of the azure-nodejs template, in the Azure Functions Node.js model that reads
// function.json: it takes the invocation context and the request.
module.exports.hello = async function (context, req) {
  const name = (req.query && req.query.name) || 'world';
  context.res = {
    status: 200,
    headers: { 'content-type': 'application/json' },
    body: { message: `hello, ${name}`, service: process.env.SERVICE_NAME, stage: process.env.STAGE },
  };
};
