import { InvalidParameterError } from './errors.ts';
import { closest, didYouMean } from './suggest.ts';
import type { EffectDeclaration, ParamObject, ParamSpec, ParamSpecs, ParamsOf, ParamValue } from './types.ts';

function describeRange(spec: ParamSpec): string {
  switch (spec.kind) {
    case 'number':
      return `${spec.min} to ${spec.max}${spec.unit ? ' ' + spec.unit : ''}`;
    case 'enum':
      return `one of ${spec.values.join(', ')}`;
    case 'boolean':
      return 'true or false';
    case 'list':
      return `a list of ${spec.minItems} to ${spec.maxItems} items`;
  }
}

function checkScalar(effect: string, path: string, spec: ParamSpec, value: unknown): number | string | boolean {
  const fail = (reason: string): never => {
    throw new InvalidParameterError(
      'Effect::InvalidParameter',
      `${effect}: parameter '${path}' ${reason}; allowed: ${describeRange(spec)}`,
      { effect, parameter: path, allowed: allowedOf(spec), value: value as never },
    );
  };
  switch (spec.kind) {
    case 'number': {
      if (typeof value !== 'number') fail('must be a number');
      const n = value as number;
      if (!Number.isFinite(n)) fail('must be a finite number');
      if (n < spec.min || n > spec.max) fail(`is out of range (${n})`);
      if (spec.integer && !Number.isInteger(n)) fail('must be a whole number');
      return n;
    }
    case 'enum':
      if (typeof value !== 'string' || !spec.values.includes(value)) fail(`is not valid (${String(value)})${typeof value === 'string' ? didYouMean(value, spec.values) : ''}`);
      return value as string;
    case 'boolean':
      if (typeof value !== 'boolean') fail('must be true or false');
      return value as boolean;
    default:
      return fail('cannot be nested');
  }
}

/** The machine-readable "allowed" part of an error, straight from the declaration. */
export function allowedOf(spec: ParamSpec): Record<string, unknown> {
  switch (spec.kind) {
    case 'number':
      return { min: spec.min, max: spec.max, unit: spec.unit };
    case 'enum':
      return { values: spec.values };
    case 'boolean':
      return { values: [true, false] };
    case 'list':
      return { min_items: spec.minItems, max_items: spec.maxItems };
  }
}

/**
 * Validate raw parameters (e.g. from JSON) against a declaration and fill in defaults.
 * Unknown parameter names are rejected so that typos do not silently fall back to defaults.
 */
export function resolveParams<S extends ParamSpecs>(decl: EffectDeclaration<S>, raw: Record<string, unknown> = {}): ParamsOf<S> {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new InvalidParameterError('Effect::InvalidParameters', `${decl.id}: parameters must be an object`, { effect: decl.id });
  }
  for (const name of Object.keys(raw)) {
    if (!Object.hasOwn(decl.parameters, name)) {
      const known = Object.keys(decl.parameters);
      const suggestion = closest(name, known);
      throw new InvalidParameterError(
        'Effect::UnknownParameter',
        `${decl.id}: unknown parameter '${name}'${didYouMean(name, known)}; known: ${known.join(', ') || 'none'}`,
        { effect: decl.id, parameter: name, known, ...(suggestion ? { suggestion } : {}) },
      );
    }
  }
  const out: Record<string, ParamValue> = {};
  for (const [name, spec] of Object.entries(decl.parameters)) {
    const value = raw[name];
    if (value === undefined) {
      out[name] = spec.kind === 'list' ? spec.default.map((item) => ({ ...item })) : spec.default;
      continue;
    }
    if (spec.kind !== 'list') {
      out[name] = checkScalar(decl.id, name, spec, value);
      continue;
    }
    if (!Array.isArray(value) || value.length < spec.minItems || value.length > spec.maxItems) {
      throw new InvalidParameterError(
        'Effect::InvalidParameter',
        `${decl.id}: parameter '${name}' must be ${describeRange(spec)}`,
        { effect: decl.id, parameter: name, allowed: allowedOf(spec) },
      );
    }
    out[name] = value.map((item, i) => {
      if (item === null || typeof item !== 'object' || Array.isArray(item)) {
        throw new InvalidParameterError('Effect::InvalidParameter', `${decl.id}: ${name}[${i}] must be an object`, {
          effect: decl.id,
          parameter: `${name}[${i}]`,
        });
      }
      const obj: ParamObject = {};
      for (const key of Object.keys(item)) {
        if (!Object.hasOwn(spec.item, key)) {
          throw new InvalidParameterError('Effect::UnknownParameter', `${decl.id}: unknown parameter '${name}[${i}].${key}'`, {
            effect: decl.id,
            parameter: `${name}[${i}].${key}`,
            known: Object.keys(spec.item),
          });
        }
      }
      for (const [key, itemSpec] of Object.entries(spec.item)) {
        const v = (item as Record<string, unknown>)[key];
        obj[key] = v === undefined ? itemSpec.default : checkScalar(decl.id, `${name}[${i}].${key}`, itemSpec, v);
      }
      return obj;
    });
  }
  return out as ParamsOf<S>;
}

/** Defaults as a flat `{ name: default }` object (the original API's `parameters`). */
export function defaultsOf(decl: EffectDeclaration): Record<string, ParamValue> {
  return Object.fromEntries(
    Object.entries(decl.parameters).map(([k, s]) => [k, s.kind === 'list' ? s.default.map((o) => ({ ...o })) : s.default]),
  );
}
