import { defaultsOf, DspError, getPreset, presets, presetView, registry, VERSION, type ParamSpec, type PresetDeclaration } from '@david/dsp';
import { NotFoundError } from '../errors.ts';
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

/** The presets, from their declarations (the only place they are written). */
export function listPresets() {
  const entries = [...presets.values()].map((p) => {
    const { id, ...view } = presetView(p);
    return [id, view] as const;
  });
  return { presets: Object.fromEntries(entries), total: presets.size, version: VERSION };
}

/** One preset by id; an unknown one is a 404 that names the closest id and the known ones. */
export function getPresetInfo(id: string) {
  let preset: PresetDeclaration;
  try {
    preset = getPreset(id);
  } catch (err) {
    if (err instanceof DspError) throw new NotFoundError('Preset::NotFound', err.message, err.details);
    throw err;
  }
  return presetView(preset);
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
