import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { LiveMessage } from '../domain/types.ts';
import type { Clock, SessionRepository } from '../ports.ts';

/** One webhook to deliver (a message on the webhooks queue); sent again, delayed, until it lands or a day passes. */
export interface WebhookDelivery {
  /** The idempotency id (header x-david-delivery): the same change always has the same id, however often it is sent. */
  readonly delivery_id: string;
  readonly session_id: string;
  readonly type: LiveMessage['type'];
  /** The raw JSON body, exactly as signed. */
  readonly body: string;
  readonly attempt: number;
  readonly first_at: string;
}

export interface WebhookQueue {
  schedule(delivery: WebhookDelivery, delaySeconds: number): Promise<void>;
}

/** A destination the policy refuses (private, link-local, … after DNS): no retry can help. */
export class CallbackRefusedError extends Error {
  override readonly name = 'CallbackRefusedError';
}

/** POSTs a webhook (HTTPS; SSRF checks on the resolved address); throws on network errors and refused destinations. */
export interface WebhookSender {
  post(url: string, body: string, headers: Record<string, string>): Promise<{ status: number }>;
}

/** Retries: 5 s, 15 s, 45 s, … up to SQS's longest delay (15 min), for a day from the first attempt. */
export const WEBHOOK_RETRY = { firstSeconds: 5, factor: 3, maxSeconds: 900, forSeconds: 86_400 } as const;
export const retryDelaySeconds = (attempt: number) => Math.min(WEBHOOK_RETRY.maxSeconds, WEBHOOK_RETRY.firstSeconds * WEBHOOK_RETRY.factor ** (attempt - 1));

/** The session's webhook secret (returned once, at creation): 256 bits. */
export const newCallbackSecret = () => `whsec_${randomBytes(32).toString('base64url')}`;

/** `sha256=<hex HMAC-SHA256 of the raw body with the session's callback secret>`. */
export const signatureOf = (secret: string, body: string) => `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;

/** Which changes are POSTed: a job reaching a final state (and expiring later), and a file decided (ready, rejected, expired). */
export function isWebhookEvent(m: LiveMessage): boolean {
  if (m.snapshot) return false;
  if (m.type === 'job.updated') return m.status === 'completed' || m.status === 'failed' || m.status === 'expired';
  return m.type === 'file.updated' && m.status !== 'pending';
}

export function webhookDelivery(m: LiveMessage, at: string): WebhookDelivery {
  const subject = m.job_id ?? m.file_id ?? '';
  return {
    delivery_id: `dlv_${createHash('sha256').update(`${m.type}|${subject}|${m.status}`).digest('hex').slice(0, 32)}`,
    session_id: m.session_id,
    type: m.type,
    body: JSON.stringify(m),
    attempt: 1,
    first_at: at,
  };
}

export type WebhookOutcome =
  | { outcome: 'delivered'; status: number }
  | { outcome: 'retrying'; status?: number; error?: string; delaySeconds: number }
  | { outcome: 'given-up'; reason: string };

/**
 * Deliver one webhook: read the session (a deleted session, or one without a callback now, stops it), sign the raw
 * body, POST it. A 2xx is delivered; 410 Gone means the receiver wants no more; anything else is tried again later
 * (the next attempt is queued before this one is let go, so a crash repeats an attempt rather than losing one).
 */
export async function deliverWebhook(
  deps: { sessions: Pick<SessionRepository, 'get'>; sender: WebhookSender; queue: WebhookQueue; clock: Clock },
  d: WebhookDelivery,
): Promise<WebhookOutcome> {
  const session = await deps.sessions.get(d.session_id);
  if (!session || session.deleting_at || !session.callback_url || !session.callback_secret) return { outcome: 'given-up', reason: 'the session or its callback is gone' };
  const headers = {
    'content-type': 'application/json',
    'user-agent': 'David-Webhooks/1',
    'x-david-signature': signatureOf(session.callback_secret, d.body),
    'x-david-delivery': d.delivery_id,
    'x-david-event': d.type,
    'x-david-attempt': String(d.attempt),
  };
  let status: number | undefined;
  let error: string | undefined;
  try {
    status = (await deps.sender.post(session.callback_url, d.body, headers)).status;
    if (status >= 200 && status < 300) return { outcome: 'delivered', status };
    if (status === 410) return { outcome: 'given-up', reason: 'the receiver answered 410 Gone' };
  } catch (err) {
    if (err instanceof CallbackRefusedError) return { outcome: 'given-up', reason: err.message };
    error = (err as Error).message;
  }
  const delaySeconds = retryDelaySeconds(d.attempt);
  if (deps.clock.now().getTime() + delaySeconds * 1000 > Date.parse(d.first_at) + WEBHOOK_RETRY.forSeconds * 1000) {
    return { outcome: 'given-up', reason: `no success within a day (last: ${status ?? error})` };
  }
  await deps.queue.schedule({ ...d, attempt: d.attempt + 1 }, delaySeconds);
  return { outcome: 'retrying', ...(status !== undefined ? { status } : {}), ...(error ? { error } : {}), delaySeconds };
}

/** A webhooks-queue body, or null when it is not one. */
export function parseWebhookDelivery(body: string): WebhookDelivery | null {
  try {
    const d = JSON.parse(body) as Partial<WebhookDelivery>;
    const ok = typeof d.delivery_id === 'string' && typeof d.session_id === 'string' && typeof d.body === 'string' && typeof d.attempt === 'number' && typeof d.first_at === 'string';
    return ok ? (d as WebhookDelivery) : null;
  } catch {
    return null;
  }
}
