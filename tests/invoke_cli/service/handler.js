// Answers with the event it was given; `other` fails, as a thrown error does on Lambda.
exports.echo = async (event) => event;
exports.other = async () => {
  throw new Error("boom");
};
