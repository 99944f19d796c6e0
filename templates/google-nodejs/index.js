// The function of the google-nodejs template: Google's Node.js runtime calls the export the
// manifest's `handler` names with Express's (req, res).
exports.hello = (req, res) => {
  const name = req.query?.name ?? 'world';
  res.json({
    message: `hello, ${name}`,
    service: process.env.SERVICE_NAME,
    stage: process.env.STAGE,
  });
};
