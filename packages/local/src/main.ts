import { ENV } from '@david/core';
import { locateFfmpeg } from '@david/dsp';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EMULATOR_KINDS, type EmulatorKind } from './emulators.ts';
import { motoAvailable } from './moto.ts';
import { startLocalStack } from './stack.ts';

/** `npm start`: the whole pipeline on this machine. */
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const dataDir = resolve(process.env.DATA_DIR ?? resolve(repoRoot, 'data'));
const host = process.env.HOST ?? '127.0.0.1';
/** A whole-number setting from the environment, refused (not ignored) when it is not one. */
const intOf = (name: string, fallback: number, min: number, max: number, what: string) => {
  const raw = process.env[name];
  const n = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    console.error(`${name}=${raw} is not ${what}`);
    process.exit(2);
  }
  return n;
};
const portOf = (name: string, fallback: number) => intOf(name, fallback, 0, 65535, 'a port number (0–65535; 0 picks a free one)');
const secondsOf = (name: string) => (process.env[name] === undefined ? undefined : intOf(name, 0, 1, 3600, 'a number of seconds (1–3600)'));
const port = portOf('PORT', 3000);
const deliveryPort = portOf('DELIVERY_PORT', port + 1);
/** Fixed emulator ports, so the AWS CLI and SDK scripts can reach them (README: "Reach the emulators"). */
const emulatorPorts = { s3: portOf('S3_PORT', port + 2), sqs: portOf('SQS_PORT', port + 3), dynamodb: portOf('DYNAMODB_PORT', port + 4) };

const emulator = (process.env.DAVID_EMULATOR ?? 's3rver') as EmulatorKind;
if (!EMULATOR_KINDS.includes(emulator)) {
  console.error(`DAVID_EMULATOR=${emulator} is not one of ${EMULATOR_KINDS.join(', ')}`);
  process.exit(2);
}
if (emulator === 'moto' && !motoAvailable()) {
  console.error(`DAVID_EMULATOR=moto needs moto_server (python3 -c "import moto.server" failed; MOTO_PYTHON picks the interpreter)`);
  process.exit(2);
}

const ffmpeg = await locateFfmpeg(process.env).catch((err: Error) => {
  console.error(`ffmpeg not found: ${err.message}\nInstall it (apt-get install ffmpeg) or set ${ENV.ffmpegPath}.`);
  process.exit(1);
});

const stack = await startLocalStack({
  dataDir,
  port,
  deliveryPort,
  host,
  emulator,
  emulatorPorts,
  // Shorter leases and sweeps for fault drills (JOBS in resources.ts is the default).
  jobs: { leaseSeconds: secondsOf('JOB_LEASE_SECONDS'), sweepEverySeconds: secondsOf('JOB_SWEEP_SECONDS') },
  queueVisibilitySeconds: secondsOf('QUEUE_VISIBILITY_SECONDS'),
  operatorKey: process.env.OPERATOR_KEY,
  logLevel: process.env.LOG_LEVEL ?? 'INFO',
});

console.log(`
David is running (local stack on AWS-API emulators)
  Studio       ${stack.apiUrl}/           (open it in a browser)
  API          ${stack.apiUrl}            (try: curl ${stack.apiUrl}/health)
  Events       ${stack.eventsUrl}     (WebSocket: ?token=<access_token>)
  Delivery     ${stack.deliveryUrl}       (CloudFront stand-in for processed files)
  S3           ${stack.endpoints.s3}
  SQS          ${stack.endpoints.sqs}
  DynamoDB     ${stack.endpoints.dynamodb}
  Emulators    ${emulator === 'moto' ? 'moto_server (in memory: state ends with the process)' : 's3rver, fauxqs, dynalite'}
  Data         ${dataDir}
  ffmpeg       ${ffmpeg.path} (${ffmpeg.source}, ${ffmpeg.version})
Press Ctrl-C to stop.`);

let stoppingSince = 0;
/** A second signal this soon after the first is its copy, not a second Ctrl-C: a terminal's Ctrl-C reaches this
 * process from the terminal and again from npm, which passes SIGINT and SIGTERM on to its script. */
const SAME_SIGNAL_MS = 1000;
const shutdown = async (signal: string) => {
  if (stoppingSince) {
    if (Date.now() - stoppingSince < SAME_SIGNAL_MS) return;
    console.log('forced exit');
    process.exit(130);
  }
  stoppingSince = Date.now();
  console.log(`\n${signal}: finishing in-flight work and stopping (Ctrl-C again to force)...`);
  await stack.stop();
  console.log('stopped cleanly');
  process.exit(0);
};
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
// `npm start` does not pass a SIGTERM on: npm exits and leaves this process running. So the parent's exit is a
// signal too (this process is then adopted, and its parent id changes): stop as for SIGTERM.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) void shutdown('parent exited');
}, 500).unref();
