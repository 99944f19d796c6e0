// The function of the aws-nodejs-typescript template: answers GET / through the HTTP API.
type Event = { rawPath?: string };
type Response = { statusCode: number; headers: Record<string, string>; body: string };

export const hello = async (event: Event): Promise<Response> => ({
  statusCode: 200,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({
    message: `hello from ${process.env.SERVICE_NAME} (${process.env.STAGE})`,
    path: event?.rawPath ?? '/',
  }),
});
