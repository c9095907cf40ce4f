/**
 * The API contract: one zod schema per route input and per response. The router validates with them, the OpenAPI
 * document is generated from them, and the typed client is generated from that document.
 * Effect parameters keep their own declarations (packages/dsp): they are checked by the DSP package and rendered
 * into the document from the declarations.
 */
import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { LIMITS, MAX_BATCH_FILES, type OutputFormat as OutputFormatId, MAX_SESSION_NAME, MAX_WAIT_SECONDS, OUTPUT_FORMAT_IDS, SUPPORTED_EXTENSIONS } from '@david/core';
import { MAX_LIST_LIMIT } from '@david/avl-index';
import { effectIds, presetIds, registry, type ParamSpec } from '@david/dsp';
import { z } from 'zod';

extendZodWithOpenApi(z);

// ---------------------------------------------------------------- inputs

const id = (prefix: string, what: string) =>
  z.string().min(1).max(100).openapi({ description: `${what} id (\`${prefix}_\` and 32 hex digits)`, example: `${prefix}_${'0'.repeat(32)}` });
export const SessionId = id('ses', 'session');
export const FileId = id('fil', 'file');
export const JobId = id('job', 'job');

export const SessionPath = z.strictObject({ session_id: SessionId });
export const FilePath = z.strictObject({ session_id: SessionId, file_id: FileId });
export const JobPath = z.strictObject({ session_id: SessionId, job_id: JobId });

/** Query strings arrive as text; numbers are coerced and range-checked. */
export const WaitQuery = z.strictObject({
  wait: z.coerce
    .number()
    .min(0)
    .max(MAX_WAIT_SECONDS)
    .optional()
    .openapi({ description: `hold the request open up to this many seconds (0–${MAX_WAIT_SECONDS}) until the state is final` }),
});
/** An ISO 8601 time, normalised to UTC (the index compares times as strings). */
const IsoTime = z.iso
  .datetime({ offset: true })
  .transform((t) => new Date(t).toISOString())
  .openapi({ type: 'string', format: 'date-time' });
export const ListQuery = z.strictObject({
  after: IsoTime.optional().openapi({ description: 'only entries uploaded at or after this ISO 8601 time' }),
  before: IsoTime.optional().openapi({ description: 'only entries uploaded before this ISO 8601 time' }),
  limit: z.coerce.number().int().min(1).max(MAX_LIST_LIMIT).default(50).openapi({ description: `page size, 1–${MAX_LIST_LIMIT}` }),
  offset: z.coerce.number().int().min(0).max(1e9).default(0),
  order: z.enum(['asc', 'desc']).default('asc').openapi({ description: 'by upload time' }),
});

export const CreateSessionBody = z
  .strictObject({
    name: z.string().max(MAX_SESSION_NAME).optional().openapi({ description: 'a name shown in listings', example: 'Studio Session' }),
    callback_url: z
      .string()
      .max(2048)
      .optional()
      .openapi({
        description:
          'webhooks: every job reaching completed or failed and every file decided (ready, rejected, expired) is POSTed here, signed (`x-david-signature: sha256=<hex HMAC-SHA256 of the raw body with callback_secret>`), with an idempotency id (`x-david-delivery`), retried with backoff for a day; public https only (never private, link-local or loopback addresses)',
        example: 'https://example.com/hooks/david',
      }),
  })
  .openapi('CreateSessionRequest');

export const UploadBody = z
  .strictObject({
    session_id: SessionId,
    filename: z.string().min(1).max(300).openapi({ description: `the file's name; its extension decides the format (${SUPPORTED_EXTENSIONS.join(', ')})`, example: 'take.wav' }),
    content_type: z.string().min(1).max(300).openapi({ description: 'must match the extension', example: 'audio/wav' }),
    size: z.number().int().min(1).openapi({ description: `bytes; at most ${LIMITS.maxUploadBytes} (larger: 413)`, example: 882044 }),
  })
  .openapi('UploadRequest');

const OutputFormat = z.enum(OUTPUT_FORMAT_IDS as [OutputFormatId, ...OutputFormatId[]]).openapi('OutputFormat');
const Parameters = z.record(z.string(), z.unknown()).openapi({
  description: "the effect's parameters by name (see the EffectParameters.<effect> schemas); omitted ones take their defaults, unknown names are refused",
  example: { gainDb: -6 },
});
const EffectId = z.string().min(1).max(64).openapi({ description: 'an effect id from GET /api/effects', enum: effectIds(), example: 'gain' });
export const ChainStep = z.strictObject({ effect: EffectId, parameters: Parameters.optional() }).openapi('ChainStep');

const PresetId = z.string().min(1).max(64).openapi({ description: 'a preset id from GET /api/presets', enum: presetIds(), example: 'podcast' });

/** The job-defining part shared by a single job and a batch: one effect, a chain or a preset, and the output format(s). */
const chainFields = {
  preset: PresetId.optional().openapi({ description: 'a named chain from GET /api/presets (instead of effect or chain); the job records its steps and the preset' }),
  effect: EffectId.optional(),
  parameters: Parameters.optional(),
  chain: z.array(ChainStep).min(1).max(32).optional().openapi({ description: 'effects applied in order (instead of effect/parameters)' }),
  output_format: OutputFormat.optional().openapi({ description: "one output in this format (default: the input's format)" }),
  output_formats: z
    .array(OutputFormat)
    .min(1)
    .max(OUTPUT_FORMAT_IDS.length)
    .refine((a) => new Set(a).size === a.length, 'output_formats must be distinct')
    .optional()
    .openapi({ description: 'several outputs, one per format, each with its own URL', example: ['mp3', 'wav'] }),
};
export const ProcessBody = z
  .strictObject({
    file_id: FileId.optional().openapi({ description: 'the upload to work on (or give job_id)' }),
    job_id: JobId.optional().openapi({ description: 'a completed job whose output to work on: effects on top of an earlier result (a new version of the same file)' }),
    ...chainFields,
  })
  .openapi('ProcessRequest');
export const BatchBody = z
  .strictObject({
    file_ids: z
      .array(FileId)
      .min(1)
      .max(MAX_BATCH_FILES)
      .refine((a) => new Set(a).size === a.length, 'file_ids must be distinct')
      .openapi({ description: `1 to ${MAX_BATCH_FILES} distinct ready files of the session` }),
    ...chainFields,
  })
  .openapi('BatchRequest');

// ---------------------------------------------------------------- responses

export const ErrorBody = z
  .object({
    error: z.object({
      code: z.string().openapi({ description: 'stable `Area::Reason` code', example: 'Request::UnknownField' }),
      message: z.string(),
      details: z.record(z.string(), z.unknown()).optional().openapi({ description: 'the field, the allowed values or range, a suggestion' }),
    }),
  })
  .openapi('Error');

const ErrorInfo = z.object({ code: z.string(), message: z.string() });
const Progress = z
  .object({
    phase: z.enum(['downloading', 'decoding', 'processing', 'encoding', 'uploading']),
    percent: z.number().min(0).max(100).openapi({ description: 'of the whole job (or ingest), never falling; from frames done over frames expected while processing' }),
  })
  .openapi('Progress', { description: 'updated at most every ~250 ms while it runs (a run shorter than that reports none); pushed as `job.progress` on the events socket' });
const Media = {
  format: z.string().optional(),
  codec: z.string().optional(),
  duration_s: z.number().optional(),
  sample_rate: z.number().optional(),
  channels: z.number().optional(),
  bit_rate: z.number().optional(),
  bit_depth: z.number().optional(),
  truncated: z
    .object({ declared_duration_s: z.number() })
    .optional()
    .openapi({ description: 'the upload was cut short inside its audio: what is there was decoded (duration_s), this is what its header declared' }),
};
/** The API paths of the stored pictures (each answers with a redirect to the delivered object). */
export const VisualLinks = z
  .object({
    waveform_json: z.string().openapi({ description: 'audiowaveform v2 JSON peaks, 8-bit (peaks.js, wavesurfer.js, waveform-data)' }),
    waveform_dat: z.string().openapi({ description: 'the same peaks as audiowaveform .dat (binary, version 2)' }),
    spectrogram_png: z.string().openapi({ description: 'a spectrogram PNG' }),
  })
  .openapi('VisualLinks');

export const FileView = z
  .object({
    file_id: z.string(),
    filename: z.string(),
    status: z.enum(['pending', 'ready', 'rejected', 'expired']),
    content_type: z.string(),
    size: z.number(),
    created_at: z.string(),
    uploaded_at: z.string().optional(),
    ...Media,
    analysis: z.record(z.string(), z.unknown()).optional().openapi({ description: 'loudness, peaks and spectrum measured at ingest; a level that cannot be measured (silence, shorter than a 400 ms block or a 3 s window) is null, with the reason under not_measurable' }),
    rejection: ErrorInfo.optional(),
    analysis_error: ErrorInfo.optional().openapi({ description: 'why there is no analysis (Analysis::TimedOut: it did not finish within ingest’s time)' }),
    overwritten_at: z.string().optional().openapi({ description: 'the upload was written again after it was checked; jobs refuse it (File::Changed)' }),
    progress: Progress.optional().openapi({ description: 'ingest’s progress while pending' }),
    visuals: VisualLinks.optional().openapi({ description: 'its waveform and spectrogram, once ready (absent when the analysis did not finish)' }),
  })
  .openapi('File');
const Output = z
  .object({
    url: z.string(),
    format: z.string(),
    duration_s: z.number(),
    size: z.number(),
    sample_rate: z.number(),
    channels: z.number().openapi({ description: 'channels in the file' }),
    downmixed_from: z.number().optional().openapi({ description: 'present when the format holds fewer channels than the chain produced (MP3: 2): ffmpeg downmixed this many into `channels`' }),
  })
  .openapi('Output');
const StepReport = z
  .object({
    step: z.number().int().openapi({ description: 'the step in the chain, from 0' }),
    effect: z.string(),
    target: z.number(),
    reached: z.number().nullable().openapi({ description: 'measured on the step’s own output; null when there was nothing to measure (the reason says why)' }),
    unit: z.string().openapi({ example: 'LUFS' }),
    tolerance: z.number().openapi({ description: 'how close to the target counts as met, in `unit`' }),
    met: z.boolean(),
    reason: z.string().optional().openapi({ description: 'why the target was missed' }),
    measurements: z.record(z.string(), z.number().nullable()).openapi({ description: 'the figures behind it, units in their names (gain_db, limited_db, true_peak_dbtp, …)' }),
  })
  .openapi('StepReport');
export const JobView = z
  .object({
    job_id: z.string(),
    file_id: z.string(),
    parent_job_id: z.string().optional().openapi({ description: 'the job whose output this job worked on' }),
    status: z.enum(['queued', 'processing', 'completed', 'failed', 'expired']).openapi({ description: '`expired`: completed, then its output removed to keep the file’s version limit' }),
    effect: z.string(),
    preset: z.string().optional().openapi({ description: 'the preset the request named; `chain` holds its steps' }),
    chain: z.array(z.object({ effect: z.string(), parameters: z.record(z.string(), z.unknown()) })),
    output_formats: z.array(z.string()),
    created_at: z.string(),
    updated_at: z.string(),
    attempts: z.number(),
    output: Output.optional().openapi({ description: 'the first of outputs' }),
    outputs: z.array(Output).optional(),
    error: ErrorInfo.optional(),
    timings_ms: z
      .record(z.string(), z.number())
      .optional()
      .openapi({
        description:
          'where a completed job’s time went (ms): `download`, `decode`, `dsp` (the chain), `analysis` (the output’s waveform, spectrogram and loudness), `encode`, `upload` (outputs and pictures) and `total`; decode, DSP, analysis and encode run interleaved block by block, each counted as the time spent in it',
      }),
    progress: Progress.optional().openapi({ description: 'while processing: the current attempt’s; 100 once completed' }),
    visuals: VisualLinks.optional().openapi({ description: 'the output’s waveform and spectrogram, once completed' }),
    output_loudness: z
      .object({ integrated_lufs: z.number().nullable(), loudness_range_lu: z.number().nullable(), true_peak_dbtp: z.number().nullable() })
      .optional()
      .openapi({ description: 'the output’s loudness (EBU R128, measured as it was written); null where not measurable' }),
    reports: z
      .array(StepReport)
      .optional()
      .openapi({ description: 'once completed: what each step with a target (normalize) reached; `met: false` with the reason where it missed' }),
    expired_at: z.string().optional(),
  })
  .openapi('Job');
const Version = z
  .object({
    job_id: z.string(),
    parent_job_id: z.string().nullable().openapi({ description: 'the version it worked on; null: the upload itself' }),
    depth: z.number().openapi({ description: '1 for a job on the upload, 2 for a job on that job’s output, …' }),
    path: z.array(z.string()).openapi({ description: 'the job ids from the upload down to this one' }),
    status: z.enum(['queued', 'processing', 'completed', 'failed', 'expired']),
    preset: z.string().optional().openapi({ description: 'the preset the job was asked for, when it was; `chain` holds its steps' }),
    chain: z.array(z.object({ effect: z.string(), parameters: z.record(z.string(), z.unknown()) })).openapi({ description: 'the steps this job ran (its ancestors ran theirs before)' }),
    created_at: z.string(),
    expired_at: z.string().optional(),
    output: Output.optional(),
    error: ErrorInfo.optional(),
  })
  .openapi('Version');
export const Versions = z
  .object({
    file_id: z.string(),
    filename: z.string(),
    status: z.enum(['pending', 'ready', 'rejected', 'expired']),
    max_versions: z.number().openapi({ description: 'completed versions kept; past that the oldest outputs are removed and shown as expired' }),
    kept: z.number().openapi({ description: 'completed versions now' }),
    versions: z.array(Version).openapi({ description: 'the tree in depth-first order (each version before the ones made from it, siblings oldest first)' }),
  })
  .openapi('Versions');
export const SessionCreated = z
  .object({
    session_id: z.string(),
    name: z.string(),
    created_at: z.string(),
    access_token: z.string().openapi({ description: 'keep it: only its hash is stored' }),
    callback_url: z.string().optional(),
    callback_secret: z.string().optional().openapi({ description: 'the webhook signing key, returned this once (only when callback_url was given)' }),
    events_url: z.string().optional().openapi({
      description:
        'the session’s push channel: open a WebSocket to `<events_url>?token=<access_token>` for `file.updated`, `job.progress` and `job.updated` messages, starting with the state of every unfinished file and job',
      example: 'wss://abc123.execute-api.eu-west-1.amazonaws.com/v1',
    }),
  })
  .openapi('SessionCreated');
export const SessionInfo = z
  .object({
    session_id: z.string(),
    name: z.string(),
    created_at: z.string(),
    callback_url: z.string().optional(),
    uploaded_files: z.array(FileView),
    processing_history: z.array(JobView),
    buffer_status: z
      .object({
        files_pending: z.number().openapi({ description: 'uploads asked for and not yet decided by ingest' }),
        files_ready: z.number(),
        files_rejected: z.number(),
        files_expired: z.number().openapi({ description: 'upload links that ran out with nothing sent' }),
        jobs_queued: z.number(),
        jobs_processing: z.number(),
        jobs_completed: z.number(),
        jobs_failed: z.number(),
        jobs_expired: z.number().openapi({ description: 'versions whose outputs were removed by the version limit' }),
        queue_depth: z.number().openapi({ description: 'the session’s unfinished work: pending files plus queued and processing jobs' }),
        versions_kept: z.number().openapi({ description: 'completed versions whose outputs are stored' }),
        max_versions_per_file: z.number(),
        bytes_uploads: z.number().openapi({ description: 'bytes of ready uploads' }),
        bytes_outputs: z.number().openapi({ description: 'bytes of stored outputs' }),
        bytes_stored: z.number().openapi({ description: 'bytes_uploads + bytes_outputs' }),
      })
      .openapi({ description: 'the session’s share of the queues and of storage (see the README: “buffer_status”)' }),
  })
  .openapi('Session');
export const UploadTicket = z
  .object({
    file_id: z.string(),
    upload: z.object({ url: z.string(), method: z.literal('POST'), fields: z.record(z.string(), z.string()) }).openapi({ description: 'a presigned POST: send the fields, then the file last, as multipart/form-data' }),
    expires_in: z.number(),
  })
  .openapi('UploadTicket');
export const Download = z.object({ file_id: z.string(), filename: z.string(), url: z.string(), expires_in: z.number() }).openapi('Download');
export const JobAccepted = z.object({ job_id: z.string(), status: z.literal('queued') }).openapi('JobAccepted');
export const BatchAccepted = z
  .object({ jobs: z.array(z.object({ file_id: z.string(), job_id: z.string(), status: z.string() })), total: z.number() })
  .openapi('BatchAccepted');
const Entry = z.object({
  file_id: z.string(),
  session_id: z.string(),
  kind: z.enum(['upload', 'output']),
  name: z.string(),
  status: z.string(),
  size: z.number(),
  uploaded_at: z.string(),
  format: z.string().optional(),
  duration_s: z.number().optional(),
  job_id: z.string().optional(),
});
export const Listing = z
  .object({ items: z.array(Entry), total: z.number(), index_version: z.number(), after: z.string().optional(), before: z.string().optional(), limit: z.number(), offset: z.number(), order: z.string() })
  .openapi('Listing');
export const Health = z
  .object({
    status: z.enum(['healthy', 'degraded']),
    version: z.string(),
    architecture: z.string(),
    features: z.object({ audio_effects: z.number(), supported_formats: z.array(z.string()), sample_rate: z.number(), max_file_size: z.number() }),
  })
  .openapi('Health');

/** An effect's parameters as a schema, straight from its declaration (for the document; the DSP package validates). */
function paramSchema(spec: ParamSpec): z.ZodType {
  switch (spec.kind) {
    case 'number': {
      const n = spec.integer ? z.number().int() : z.number();
      return n.min(spec.min).max(spec.max).openapi({ default: spec.default, description: `${spec.doc}${spec.unit ? ` (${spec.unit})` : ''}` });
    }
    case 'enum':
      return z.enum(spec.values as [string, ...string[]]).openapi({ default: spec.default, description: spec.doc });
    case 'boolean':
      return z.boolean().openapi({ default: spec.default, description: spec.doc });
    case 'list':
      return z
        .array(z.strictObject(Object.fromEntries(Object.entries(spec.item).map(([k, s]) => [k, paramSchema(s).optional()]))))
        .min(spec.minItems)
        .max(spec.maxItems)
        .openapi({ default: spec.default, description: spec.doc });
  }
}
export const EffectParameterSchemas = Object.fromEntries(
  [...registry.values()].map((d) => [
    d.id,
    z
      .strictObject(Object.fromEntries(Object.entries(d.parameters).map(([k, s]) => [k, paramSchema(s).optional()])))
      .openapi({ description: d.description }),
  ]),
);
const ParamSpecView = z.object({ kind: z.enum(['number', 'enum', 'boolean', 'list']), default: z.unknown(), unit: z.string().nullable().optional(), doc: z.string() }).passthrough();
const PresetView = {
  description: z.string(),
  target: z.object({ integrated_lufs: z.number(), true_peak_dbtp: z.number() }).openapi({ description: 'what the output aims at; the normalize step reports whether it got there' }),
  chain: z.array(z.object({ effect: z.string(), parameters: z.record(z.string(), z.unknown()) })).openapi({ description: 'the steps, every parameter filled in' }),
};
export const Preset = z.object({ id: z.string(), ...PresetView }).openapi('Preset');
export const PresetCatalogue = z
  .object({ presets: z.record(z.string(), z.object(PresetView)), total: z.number(), version: z.string() })
  .openapi('PresetCatalogue');
export const PresetPath = z.strictObject({ preset_id: z.string().min(1).max(64).openapi({ example: 'podcast' }) });

export const EffectCatalogue = z
  .object({
    effects: z.record(
      z.string(),
      z.object({
        parameters: z.record(z.string(), z.unknown()),
        description: z.string(),
        parameter_specs: z.record(z.string(), ParamSpecView),
        whole_stream: z.string().optional(),
        tail: z.string().optional(),
        changes_length: z.boolean().optional(),
      }),
    ),
    total: z.number(),
    version: z.string(),
  })
  .openapi('EffectCatalogue');
