import { ValidationError } from '@david/core';
import { closest } from '@david/dsp';
import type { z } from 'zod';

export type Location = 'body' | 'query' | 'path';

/** `chain[0].parameters` from a zod path. */
function fieldName(path: readonly PropertyKey[]): string {
  return path.reduce<string>((s, p) => (typeof p === 'number' ? `${s}[${p}]` : s ? `${s}.${String(p)}` : String(p)), '');
}

/** The object schema's keys at a path (to suggest the closest known field), walking objects, arrays and wrappers. */
function knownKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let s: unknown = schema;
  const unwrap = () => {
    for (let i = 0; i < 10; i++) {
      const def = (s as { _zod?: { def?: { type?: string; innerType?: unknown; in?: unknown } } })._zod?.def;
      if (def?.type === 'optional' || def?.type === 'default' || def?.type === 'nullable' || def?.type === 'prefault') s = def.innerType;
      else if (def?.type === 'pipe') s = def.in;
      else return;
    }
  };
  for (const p of path) {
    unwrap();
    const def = (s as { _zod: { def: { type: string; shape?: Record<string, unknown>; element?: unknown } } })._zod.def;
    if (def.type === 'object' && typeof p === 'string' && def.shape) s = def.shape[p];
    else if (def.type === 'array' && typeof p === 'number') s = def.element;
    else return [];
    if (!s) return [];
  }
  unwrap();
  const def = (s as { _zod: { def: { type: string; shape?: Record<string, unknown> } } })._zod.def;
  return def.type === 'object' && def.shape ? Object.keys(def.shape) : [];
}

/** zod's verdict as our error: unknown fields named with the closest known one, missing and invalid fields with what is allowed. */
export function toValidationError(schema: z.ZodType, error: z.ZodError, where: Location): ValidationError {
  const issue = error.issues[0];
  const at = where === 'body' ? 'the request body' : where === 'query' ? 'the query string' : 'the path';
  if (issue.code === 'unrecognized_keys') {
    const known = knownKeysAt(schema, issue.path);
    const key = issue.keys[0];
    const field = fieldName([...issue.path, key]);
    const suggestion = closest(key, known);
    return new ValidationError(
      'Request::UnknownField',
      `unknown field '${field}' in ${at}${suggestion ? `; did you mean '${fieldName([...issue.path, suggestion])}'?` : ''}; known: ${known.join(', ') || 'none'}`,
      { field, location: where, known, ...(suggestion ? { suggestion } : {}), ...(issue.keys.length > 1 ? { unknown: issue.keys } : {}) },
    );
  }
  const field = fieldName(issue.path);
  if (issue.code === 'invalid_type' && issue.input === undefined) {
    return new ValidationError('Request::MissingField', `${field || 'a value'} is required in ${at}`, { field, location: where, expected: issue.expected });
  }
  const allowed =
    issue.code === 'invalid_value'
      ? { values: issue.values }
      : issue.code === 'too_big'
        ? { max: Number(issue.maximum) }
        : issue.code === 'too_small'
          ? { min: Number(issue.minimum) }
          : undefined;
  const value = issue.code === 'invalid_value' && typeof issue.input === 'string' ? issue.input : undefined;
  const suggestion = value !== undefined && issue.code === 'invalid_value' ? closest(value, issue.values.map(String)) : undefined;
  return new ValidationError(
    'Request::InvalidField',
    `${field ? `'${field}'` : 'the value'} in ${at}: ${issue.message}${suggestion ? `; did you mean '${suggestion}'?` : ''}`,
    { field, location: where, ...(allowed ? { allowed } : {}), ...(suggestion ? { suggestion } : {}) },
  );
}

export function parseWith<S extends z.ZodType>(schema: S, value: unknown, where: Location): z.output<S> {
  const r = schema.safeParse(value, { reportInput: true });
  if (!r.success) throw toValidationError(schema, r.error, where);
  return r.data;
}
