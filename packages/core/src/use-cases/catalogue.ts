import { defaultsOf, registry, VERSION, type ParamSpec } from '@david/dsp';
import { LIMITS } from '../resources.ts';
import { SUPPORTED_EXTENSIONS } from '../domain/formats.ts';

function specView(spec: ParamSpec): Record<string, unknown> {
  switch (spec.kind) {
    case 'number':
      return { kind: 'number', min: spec.min, max: spec.max, default: spec.default, unit: spec.unit, doc: spec.doc, ...(spec.integer ? { integer: true } : {}) };
    case 'enum':
      return { kind: 'enum', values: spec.values, default: spec.default, unit: null, doc: spec.doc };
    case 'boolean':
      return { kind: 'boolean', default: spec.default, unit: null, doc: spec.doc };
    case 'list':
      return {
        kind: 'list',
        min_items: spec.minItems,
        max_items: spec.maxItems,
        default: spec.default,
        unit: null,
        doc: spec.doc,
        item: Object.fromEntries(Object.entries(spec.item).map(([k, s]) => [k, specView(s)])),
      };
  }
}

/** The effect catalogue, generated from the effect declarations (the only place defaults and ranges live). */
export function listEffects() {
  const effects = Object.fromEntries(
    [...registry.values()].map((decl) => [
      decl.id,
      {
        parameters: defaultsOf(decl),
        description: decl.description,
        parameter_specs: Object.fromEntries(Object.entries(decl.parameters).map(([k, s]) => [k, specView(s)])),
        ...(decl.wholeStream ? { whole_stream: decl.wholeStream } : {}),
        ...(decl.tail ? { tail: decl.tail } : {}),
        ...(decl.changesLength ? { changes_length: true } : {}),
      },
    ]),
  );
  return { effects, total: registry.size, version: VERSION };
}

export function health(checks?: Record<string, string>) {
  const ok = !checks || Object.values(checks).every((c) => c === 'ok');
  return {
    status: ok ? 'healthy' : 'degraded',
    version: VERSION,
    architecture: 'serverless',
    features: {
      audio_effects: registry.size,
      supported_formats: SUPPORTED_EXTENSIONS,
      sample_rate: LIMITS.sampleRate,
      max_file_size: LIMITS.maxUploadBytes,
    },
    ...(checks ? { checks } : {}),
  };
}
