// The function of the aws-nodejs template: answers GET / through the HTTP API.
export const hello = async (event) => ({
  statusCode: 200,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({
    message: `hello from ${process.env.SERVICE_NAME} (${process.env.STAGE})`,
    path: event?.rawPath ?? '/',
  }),
});
