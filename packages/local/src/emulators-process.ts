/**
 * The emulators in a process of their own (see startEmulatorsApart): the stack's gateway, pollers and runtime then
 * never wait behind S3, SQS or DynamoDB work on one event loop, and the two use two cores. Started by the stack with
 * its settings in DAVID_EMULATORS; says `up` with the endpoints over IPC, serves `notify` and `stop`, and exits at
 * once when its parent goes away (as the emulators did when they lived inside it).
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { EMULATOR_CREDENTIALS, startEmulators, type EmulatorKind, type EmulatorPorts } from './emulators.ts';

type Settings = { kind: EmulatorKind; dataDir: string; ports: EmulatorPorts; buckets: string[] };
const send = (m: object) => process.send?.(m);
process.on('disconnect', () => process.exit(0));

const settings = JSON.parse(process.env.DAVID_EMULATORS ?? '{}') as Settings;
try {
  const emulators = await startEmulators(settings.kind, settings.dataDir, settings.ports, settings.buckets);
  const sqs = new SQSClient({ region: 'us-east-1', credentials: EMULATOR_CREDENTIALS, endpoint: emulators.endpoints.sqs });
  process.on('message', async (m: { type: string; id: number; queue?: { url: string; arn: string } }) => {
    try {
      if (m.type === 'notify') await emulators.notifyUploads(sqs, m.queue!, (err) => send({ type: 'error', message: String((err as Error)?.message ?? err) }));
      if (m.type === 'stop') await emulators.stop();
      send({ type: 'done', id: m.id });
    } catch (err) {
      send({ type: 'done', id: m.id, error: String((err as Error)?.message ?? err) });
    }
    if (m.type === 'stop') process.exit(0);
  });
  send({ type: 'up', endpoints: emulators.endpoints });
} catch (err) {
  send({ type: 'failed', message: String((err as Error)?.stack ?? err) });
  process.exit(1);
}
