/**
 * An emulator in a process of its own (see startEmulatorsApart): one of S3, SQS and DynamoDB, or moto with its gate.
 * Started by the stack with its settings in DAVID_EMULATORS; says `up` with its endpoint(s) over IPC, serves
 * `notify` and `stop`, and exits at once when its parent goes away (as the emulators did when they lived inside it).
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { EMULATOR_CREDENTIALS, startEmulatedService, startEmulators, type EmulatedService, type EmulatorKind, type EmulatorPorts, type Emulators } from './emulators.ts';

type Settings = { kind?: EmulatorKind; service?: EmulatedService; dataDir: string; ports: EmulatorPorts; buckets: string[] };
type Message = { type: string; id: number; queue?: { url: string; arn: string }; sqsEndpoint?: string };
const send = (m: object) => process.send?.(m);
process.on('disconnect', () => process.exit(0));

const settings = JSON.parse(process.env.DAVID_EMULATORS ?? '{}') as Settings;
try {
  let notify: Emulators['notifyUploads'] | undefined;
  let stop: () => Promise<void>;
  let sqsEndpoint: string | undefined;
  if (settings.service) {
    const service = await startEmulatedService(settings.service, settings.dataDir, settings.ports, settings.buckets);
    ({ notifyUploads: notify } = service);
    stop = () => service.stop();
    send({ type: 'up', endpoint: service.endpoint });
  } else {
    const emulators = await startEmulators(settings.kind!, settings.dataDir, settings.ports, settings.buckets);
    notify = emulators.notifyUploads;
    stop = () => emulators.stop();
    sqsEndpoint = emulators.endpoints.sqs;
    send({ type: 'up', endpoints: emulators.endpoints });
  }
  process.on('message', async (m: Message) => {
    try {
      if (m.type === 'notify') {
        const sqs = new SQSClient({ region: 'us-east-1', credentials: EMULATOR_CREDENTIALS, endpoint: m.sqsEndpoint ?? sqsEndpoint });
        await notify?.(sqs, m.queue!, (err) => send({ type: 'error', message: String((err as Error)?.message ?? err) }));
      }
      if (m.type === 'stop') await stop();
      send({ type: 'done', id: m.id });
    } catch (err) {
      send({ type: 'done', id: m.id, error: String((err as Error)?.message ?? err) });
    }
    if (m.type === 'stop') process.exit(0);
  });
} catch (err) {
  send({ type: 'failed', message: String((err as Error)?.stack ?? err) });
  process.exit(1);
}
