// One Lambda execution environment: loads a function's bundle once (the cold start), then runs one invocation at a
// time as the parent sends them over IPC. Plain JavaScript, so it runs the bundle exactly as Lambda's Node runtime
// would, without a TypeScript loader in between.
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';

const { DAVID_BUNDLE: bundle, DAVID_FUNCTION_NAME: name, DAVID_FUNCTION_MEMORY_MB: memory } = process.env;
// The parent went away (killed, crashed): an environment never outlives its runtime.
process.on('disconnect', () => process.exit(0));

const errorOf = (err) => ({ name: err?.name ?? 'Error', message: err?.message ?? String(err), stack: err?.stack });

let handler;
const started = performance.now();
try {
  handler = (await import(pathToFileURL(bundle).href)).handler;
  if (typeof handler !== 'function') throw new Error(`${bundle} exports no handler function`);
} catch (err) {
  process.send({ type: 'init-error', error: errorOf(err) });
  process.disconnect();
  process.exit(1);
}
process.send({ type: 'ready', initMs: performance.now() - started });

process.on('message', async (msg) => {
  if (msg?.type !== 'invoke') return;
  const requestId = randomUUID();
  const context = {
    callbackWaitsForEmptyEventLoop: false,
    functionName: name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${name}`,
    memoryLimitInMB: memory,
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: `local/${requestId}`,
    getRemainingTimeInMillis: () => Math.max(0, msg.deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
  try {
    const result = await handler(msg.event, context);
    process.send({ type: 'result', id: msg.id, result: result ?? null });
  } catch (err) {
    process.send({ type: 'error', id: msg.id, error: errorOf(err) });
  }
});
