import type { ChainStep, StepReport } from '@david/dsp';

export interface Session {
  readonly session_id: string;
  readonly name: string;
  readonly created_at: string;
  readonly token_hash: string;
  /** Set when a DELETE began: the session is gone for every route but a DELETE, which resumes the cleanup. */
  readonly deleting_at?: string;
  /** Idle expiry (epoch seconds, also DynamoDB's TTL attribute: a backstop a week later deletes the item). */
  readonly expires_at?: number;
  /** Last time its expiry was pushed back (at most once an hour). */
  readonly active_at?: string;
  /** Where webhooks go (checked against the callback policy when it was set). */
  readonly callback_url?: string;
  /** The HMAC key webhooks are signed with (returned once, at creation). */
  readonly callback_secret?: string;
  /**
   * When its first WebSocket connection opened. Changes of a session with neither this nor a callback_url are not
   * sent to the events feed at all (nobody could receive them), so an unwatched session costs no pushes.
   */
  readonly watched_at?: string;
}

/** `expired`: no bytes arrived before the upload link ran out. */
export type FileStatus = 'pending' | 'ready' | 'rejected' | 'expired';

export interface MediaInfo {
  readonly format: string;
  readonly codec: string;
  readonly duration_s: number;
  readonly sample_rate: number;
  readonly channels: number;
  readonly bit_rate?: number;
  readonly bit_depth?: number;
  /** The upload was cut short inside its audio: `duration_s` is what is there, this what its header declared. */
  readonly truncated?: { readonly declared_duration_s: number };
}

export interface ErrorInfo {
  readonly code: string;
  readonly message: string;
}

export interface FileRecord {
  readonly session_id: string;
  readonly file_id: string;
  readonly filename: string;
  readonly content_type: string;
  readonly declared_size: number;
  readonly key: string;
  readonly status: FileStatus;
  readonly created_at: string;
  /** When a still-pending upload is given up as `expired` (the link's expiry plus a grace period). */
  readonly upload_due_at?: string;
  readonly uploaded_at?: string;
  readonly size?: number;
  readonly etag?: string;
  readonly media?: MediaInfo;
  readonly analysis?: Record<string, unknown>;
  /** Why there is no analysis (it failed, or did not finish in the time ingest had). */
  readonly analysis_error?: ErrorInfo;
  /** When its waveform and spectrogram were stored (see domain/visuals.ts); absent when the analysis failed. */
  readonly visuals_at?: string;
  readonly rejection?: ErrorInfo;
  /** A write to the upload's key after ingest decided: recorded, never processed. */
  readonly overwritten?: { readonly etag: string; readonly size: number; readonly at: string };
  /** Ingest's progress while the file is pending (downloading, decoding, processing = analysis). */
  readonly progress?: Progress;
  /** The completed versions counted on the file (job ids; see FileRepository.addVersion). */
  readonly version_ids?: readonly string[];
}

/** `expired`: completed, and its output removed to keep its file's version limit (the oldest go first). */
export type JobStatus = 'queued' | 'processing' | 'completed' | 'failed' | 'expired';

/** A job that will not change by itself any more (its record may still be deleted). */
export const isFinished = (status: JobStatus) => status === 'completed' || status === 'failed' || status === 'expired';

/** Where a running job (or an ingest) is: its phase and how far the whole of it has come (0–100, never falling). */
export const JOB_PHASES = ['downloading', 'decoding', 'processing', 'encoding', 'uploading'] as const;
export type JobPhase = (typeof JOB_PHASES)[number];
export interface Progress {
  readonly phase: JobPhase;
  readonly percent: number;
}

export interface JobOutput {
  readonly key: string;
  readonly format: string;
  readonly duration_s: number;
  readonly size: number;
  readonly sample_rate: number;
  /** The file's channels; `downmixed_from` is the chain's count when the format holds fewer (MP3: 2). */
  readonly channels: number;
  readonly downmixed_from?: number;
}

export interface Job {
  readonly session_id: string;
  readonly job_id: string;
  /** The original upload every version descends from. */
  readonly file_id: string;
  /** The completed job whose output is this job's input (a version of a version); none: the upload itself. */
  readonly parent_job_id?: string;
  readonly chain: ChainStep[];
  /** The preset the chain came from, when the request named one. */
  readonly preset?: string;
  /** One output per format, in the order asked for (distinct). */
  readonly output_formats: string[];
  readonly status: JobStatus;
  readonly created_at: string;
  readonly updated_at: string;
  readonly attempts: number;
  readonly lease_until?: string;
  readonly outputs?: JobOutput[];
  /** When the output's waveform and spectrogram were stored. */
  readonly visuals_at?: string;
  /** The output's loudness (EBU R128), measured as it was written; null where not measurable (silence, too short). */
  readonly loudness?: { readonly integrated_lufs: number | null; readonly loudness_range_lu: number | null; readonly true_peak_dbtp: number | null };
  readonly error?: ErrorInfo;
  /** What the steps with a target (normalize) reached, measured on their output; a missed target says why. */
  readonly reports?: StepReport[];
  readonly timings_ms?: Record<string, number>;
  /** When its output was removed to keep the version limit. */
  readonly expired_at?: string;
  /** Last reported progress of the current attempt (at most every ~250 ms); 100 once completed. */
  readonly progress?: Progress;
}

/**
 * What the push channel (WebSocket) carries, one JSON message per state change, for one session only. `file` and
 * `job` are the API's views of the record as the change left it (on `file.updated` and `job.updated`).
 */
export interface LiveMessage {
  readonly type: 'file.updated' | 'job.progress' | 'job.updated';
  readonly session_id: string;
  readonly file_id?: string;
  readonly job_id?: string;
  readonly status: FileStatus | JobStatus;
  readonly progress?: Progress;
  /** When the change happened (ISO 8601): a client keeps the latest per file or job. */
  readonly at: string;
  /** Part of the state sent on connect, not a change. */
  readonly snapshot?: true;
  readonly file?: Record<string, unknown>;
  readonly job?: Record<string, unknown>;
}

/** What flows through the events queue: a state change to fan out, or a new connection to send the state to. */
export type LiveEvent = { readonly kind: 'change'; readonly message: LiveMessage } | { readonly kind: 'snapshot'; readonly session_id: string; readonly connection_id: string };

/** A WebSocket connection of a session (kept while it is open, and at most a day). */
export interface Connection {
  readonly connection_id: string;
  readonly session_id: string;
  readonly connected_at: string;
}
