import { lookup } from 'node:dns/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { addressRefusal, callbackUrlRefusal, type CallbackPolicy } from '../domain/callback-url.ts';
import { CallbackRefusedError, type WebhookSender } from '../use-cases/webhooks.ts';

/**
 * POSTs webhooks with Node's own HTTP client, checking where they go at the moment they go: the URL against the
 * policy, and every address its host resolves to (private, link-local and reserved ones refused; loopback only
 * where the policy allows it); the connection is made to the address that was checked (no second lookup a DNS
 * rebinding could answer differently). Redirects are not followed; 10 s per attempt.
 */
export class NodeWebhookSender implements WebhookSender {
  constructor(
    private readonly policy: CallbackPolicy,
    private readonly resolve: (host: string) => Promise<{ address: string; family: number }[]> = (host) => lookup(host, { all: true, verbatim: true }),
    private readonly timeoutMs = 10_000,
  ) {}

  async post(raw: string, body: string, headers: Record<string, string>): Promise<{ status: number }> {
    const refusal = callbackUrlRefusal(raw, this.policy);
    if (refusal) throw new CallbackRefusedError(`callback_url is refused: ${refusal}`);
    const url = new URL(raw);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    let target: { address: string; family: number };
    if (isIP(host)) target = { address: host, family: isIP(host) };
    else {
      const addresses = await this.resolve(host);
      if (addresses.length === 0) throw new Error(`${host} does not resolve`);
      for (const a of addresses) {
        const why = addressRefusal(a.address, this.policy);
        if (why) throw new CallbackRefusedError(`callback host ${host} resolves to ${a.address}, a ${why} address`);
      }
      target = addresses[0];
    }
    const pinned: LookupFunction = (_host, options, callback) => {
      if ((options as { all?: boolean }).all) (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [target]);
      else callback(null, target.address, target.family);
    };
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(url, { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, lookup: pinned, timeout: this.timeoutMs }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }
}
