import { describe, expect, it } from 'vitest';
import { collect, renderChain, blocksOf, applyChain } from '../src/engine/chain.ts';
import { effectIds, getEffect, registry } from '../src/effects/registry.ts';
import { InvalidParameterError } from '../src/errors.ts';
import { defaultsOf, resolveParams } from '../src/params.ts';
import type { AudioBlock, ChainStep, NumberParamSpec, ParamSpec, StreamFormat } from '../src/types.ts';
import { maxAbsDiff } from './measure.ts';

/**
 * One suite over every registered effect: declarations are sane, defaults validate, silence stays silent,
 * output is finite at the extremes, any block size gives the same output, and chains compose.
 */
const SR = 44_100;

function noiseAndSine(seconds: number, channels: number, seed = 1): AudioBlock {
  const n = Math.round(seconds * SR);
  let s = seed;
  const rand = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  return Array.from({ length: channels }, (_, c) => {
    const ch = new Float32Array(n);
    for (let i = 0; i < n; i++) ch[i] = 0.4 * Math.sin((2 * Math.PI * (220 + 110 * c) * i) / SR) * (i % 11025 < 6000 ? 1 : 0.2) + 0.2 * rand();
    return ch;
  });
}

const render = (audio: AudioBlock, steps: ChainStep[], format: StreamFormat, blockSize: number) =>
  renderChain(audio.map((c) => c.slice()), steps, format, { blockSize }).then((r) => r.audio);

function numberSpecs(specs: Record<string, ParamSpec>): [string, NumberParamSpec][] {
  return Object.entries(specs).filter((e): e is [string, NumberParamSpec] => e[1].kind === 'number');
}

describe('the registry', () => {
  it('lists every effect once by its id, and finds each by it', () => {
    const ids = effectIds();
    expect(ids.length).toBeGreaterThanOrEqual(20);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ['gain', 'equalizer', 'compressor', 'reverb', 'time_stretch', 'speech_denoise', 'normalize']) expect(ids).toContain(id);
    for (const id of ids) expect(getEffect(id).id).toBe(id);
  });
});

describe.each([...registry.keys()])('effect %s', (id) => {
  const decl = registry.get(id)!;

  it('has a sane declaration whose defaults validate', () => {
    expect(decl.id).toBe(id);
    expect(decl.description.length).toBeGreaterThan(10);
    for (const [name, spec] of Object.entries(decl.parameters)) {
      expect(spec.doc.length, name).toBeGreaterThan(3);
      if (spec.kind === 'number') {
        expect(spec.min).toBeLessThanOrEqual(spec.default);
        expect(spec.default).toBeLessThanOrEqual(spec.max);
        expect(spec.unit.length, `${name} unit`).toBeGreaterThan(0);
      }
      if (spec.kind === 'enum') expect(spec.values).toContain(spec.default);
    }
    expect(resolveParams(decl, {})).toEqual(defaultsOf(decl));
  });

  it('rejects out-of-range and non-finite parameters, naming the range', () => {
    for (const [name, spec] of numberSpecs(decl.parameters)) {
      for (const bad of [spec.max + Math.max(1, Math.abs(spec.max)), spec.min - Math.max(1, Math.abs(spec.min)), Number.NaN, Number.POSITIVE_INFINITY]) {
        let err: unknown;
        try {
          resolveParams(decl, { [name]: bad });
        } catch (e) {
          err = e;
        }
        expect(err, `${name}=${bad}`).toBeInstanceOf(InvalidParameterError);
        expect((err as InvalidParameterError).code).toBe('Effect::InvalidParameter');
        expect((err as Error).message).toContain(`${spec.min} to ${spec.max}`);
      }
    }
  });

  it('turns silence into silence', async () => {
    const format = { sampleRate: SR, channels: 2 };
    const silent = [new Float32Array(SR / 4), new Float32Array(SR / 4)];
    const out = await render(silent, [{ effect: id }], format, 4096);
    let peak = 0;
    for (const ch of out) for (const v of ch) peak = Math.max(peak, Math.abs(v));
    expect(peak).toBeLessThan(1e-6);
  });

  it('gives finite output at the defaults and at every numeric extreme', async () => {
    const format = { sampleRate: SR, channels: 2 };
    const input = noiseAndSine(0.3, 2);
    const variants: Record<string, unknown>[] = [{}];
    for (const [name, spec] of numberSpecs(decl.parameters)) variants.push({ [name]: spec.min }, { [name]: spec.max });
    for (const parameters of variants) {
      const out = await render(input, [{ effect: id, parameters }], format, 4096);
      let nonFinite = 0;
      for (const ch of out) for (const v of ch) if (!Number.isFinite(v)) nonFinite++;
      expect(nonFinite, JSON.stringify(parameters)).toBe(0);
    }
  });

  it('gives the same output for any block size', async () => {
    for (const channels of [1, 2]) {
      const format = { sampleRate: channels === 1 ? 48_000 : SR, channels };
      const input = noiseAndSine(0.25, channels, 7);
      const whole = await render(input, [{ effect: id }], format, input[0].length);
      for (const bs of [1, 64, 4096]) expect(maxAbsDiff(whole, await render(input, [{ effect: id }], format, bs)), `block ${bs}`).toBeLessThan(1e-5);
    }
  });

  it('gives the same output for any block size away from its defaults', async () => {
    // Every number two thirds of the way up its range, the last value of every enum, every switch flipped.
    const decl = registry.get(id)!;
    const parameters = Object.fromEntries(
      Object.entries(decl.parameters).flatMap(([k, spec]): [string, unknown][] => {
        if (spec.kind === 'number') {
          const v = spec.min + ((spec.max - spec.min) * 2) / 3;
          return [[k, spec.integer ? Math.round(v) : v]];
        }
        if (spec.kind === 'enum') return [[k, spec.values[spec.values.length - 1]]];
        if (spec.kind === 'boolean') return [[k, !spec.default]];
        return [];
      }),
    );
    const steps: ChainStep[] = [{ effect: id, parameters }];
    const format = { sampleRate: SR, channels: 2 };
    const input = noiseAndSine(0.25, 2, 11);
    const whole = await render(input, steps, format, input[0].length);
    for (const bs of [1, 333, 4096]) expect(maxAbsDiff(whole, await render(input, steps, format, bs)), `block ${bs}`).toBeLessThan(1e-5);
  });

  it('composes in a chain exactly as applied one after another', async () => {
    const format = { sampleRate: SR, channels: 2 };
    const input = noiseAndSine(0.25, 2, 3);
    const steps: ChainStep[] = [{ effect: id }, { effect: 'gain', parameters: { gainDb: -3 } }];
    const chained = await render(input, steps, format, 1000);
    const first = applyChain(blocksOf(input.map((c) => c.slice()), 777), [steps[0]], format, '/tmp');
    const mid = await collect(first.stream, first.format.channels);
    const second = await render(mid, [steps[1]], first.format, 1000);
    expect(maxAbsDiff(chained, second)).toBeLessThan(1e-6);
  });
});
