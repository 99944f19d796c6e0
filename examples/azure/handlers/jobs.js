// The queue worker and the timer report of the example service.

module.exports.worker = async function (context, job) {
  context.log(`processing job ${JSON.stringify(job)} (attempt ${context.bindingData.dequeueCount})`);
};

module.exports.report = async function (context, timer) {
  context.log(
    `${process.env.SERVICE_NAME} (${process.env.STAGE}) report; late: ${Boolean(timer.isPastDue)}`
  );
};
