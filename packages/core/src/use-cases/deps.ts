import type { CallbackPolicy } from '../domain/callback-url.ts';
import type { AudioStore, Clock, EventFeed, FileRepository, IndexFeed, JobQueue, JobRepository, SessionRepository } from '../ports.ts';

/** Everything a use case may need, passed in by the handler (ports and adapters). */
export interface Deps {
  readonly sessions: SessionRepository;
  readonly files: FileRepository;
  readonly jobs: JobRepository;
  readonly store: AudioStore;
  readonly queue: JobQueue;
  /** Optional: without it the file index is not fed (e.g. unit tests of other behaviour). */
  readonly index?: IndexFeed;
  /** Optional: without it no state change is pushed to clients. */
  readonly events?: EventFeed;
  readonly clock: Clock;
  /** Base URL processed objects are delivered from (CloudFront, or the local delivery endpoint). */
  readonly deliveryBaseUrl: string;
  /** Where webhooks may go (default: public https only). */
  readonly callbackPolicy?: CallbackPolicy;
  /** The WebSocket URL clients open for pushed changes (API Gateway's WebSocket stage, or the local gateway's). */
  readonly eventsUrl?: string;
  /** Completed versions a file keeps (default LIMITS.maxVersionsPerFile). */
  readonly maxVersions?: number;
  /** Idle time after which a session expires (default LIMITS.sessionIdleSeconds). */
  readonly sessionIdleSeconds?: number;
}
