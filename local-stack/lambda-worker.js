'use strict';
/*
 * One warm "Lambda execution environment" of the local stack (started by lambda-runner.ts with child_process.fork):
 * loads the handler module once, then runs one invocation at a time as the parent asks over IPC, like the Node.js
 * Lambda runtime does. The handler's stdout and stderr go to the parent, which records them.
 */
const handlerFile = process.env.LOCAL_LAMBDA_HANDLER_FILE;
const handlerExport = process.env.LOCAL_LAMBDA_HANDLER_EXPORT || 'handler';
delete process.env.LOCAL_LAMBDA_HANDLER_FILE;
delete process.env.LOCAL_LAMBDA_HANDLER_EXPORT;
let handlerModule;

/*
 * After an invocation, a sentinel line goes to stdout and stderr before the result goes over IPC: the parent
 * finishes the invocation only when it has seen all three, so every line the handler wrote is attributed to it.
 */
function send(msg) {
  let pending = 2;
  const done = () => {
    if (--pending === 0) process.send(msg);
  };
  process.stdout.write(`\u0000LOCAL_LAMBDA_END ${msg.id}\n`, done);
  process.stderr.write(`\u0000LOCAL_LAMBDA_END ${msg.id}\n`, done);
}

function fail(error) {
  return {
    errorType: (error && error.name) || 'Error',
    errorMessage: String((error && error.message) || error),
  };
}

process.on('message', async (msg) => {
  if (!msg || msg.type !== 'invoke') return;
  const context = {
    awsRequestId: msg.id,
    invokedFunctionArn: msg.functionArn,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: '$LATEST',
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, msg.deadline - Date.now()),
  };
  try {
    if (!handlerModule) handlerModule = require(handlerFile);
    const fn = handlerModule[handlerExport];
    if (typeof fn !== 'function') {
      const e = new Error(`${handlerFile}.${handlerExport} is undefined or not exported`);
      e.name = 'Runtime.HandlerNotFound';
      throw e;
    }
    const result = fn.length >= 3
      ? await new Promise((resolve, reject) => fn(msg.event, context, (err, r) => (err ? reject(err) : resolve(r))))
      : await fn(msg.event, context);
    send({ type: 'result', id: msg.id, ok: true, result: result === undefined ? null : result });
  } catch (error) {
    const f = fail(error);
    process.stderr.write(`ERROR\tInvoke Error\t${JSON.stringify(f)}\n`);
    send({ type: 'result', id: msg.id, ok: false, ...f });
  }
});

function crash(kind, error) {
  process.stderr.write(`ERROR\t${kind}\t${JSON.stringify(fail(error))}\n`);
  process.exit(129);
}
process.on('uncaughtException', (e) => crash('Uncaught Exception', e));
process.on('unhandledRejection', (e) => crash('Unhandled Promise Rejection', e));
process.on('disconnect', () => process.exit(0));
process.send({ type: 'ready' });
