import { describe, expect, it } from 'vitest';
import { ModelFormatError } from '../errors.ts';
import {
  batchNormParams,
  countParams,
  isBufferName,
  mapParams,
  paramKind,
  randomParams,
  recordParamShapes,
  shapeSize,
} from './params.ts';

describe('mapParams', () => {
  const rec = { 'a.weight': new Float32Array(6), 'a.bias': new Float32Array(2), extra: new Float32Array(1) };

  it('returns the stored array for a matching shape', () => {
    const p = mapParams(rec);
    expect(p.get('a.weight', [2, 3])).toBe(rec['a.weight']);
    expect(p.get('a.bias', [2])).toBe(rec['a.bias']);
  });

  it('accepts a Map', () => {
    const m = new Map([['w', new Float32Array([1, 2])]]);
    expect(Array.from(mapParams(m).get('w', [2]))).toEqual([1, 2]);
  });

  it('names a missing parameter and its expected shape', () => {
    const p = mapParams(rec);
    expect(() => p.get('b.weight', [4, 1, 3, 3])).toThrow(ModelFormatError);
    expect(() => p.get('b.weight', [4, 1, 3, 3])).toThrow('missing parameter "b.weight" (expected shape [4, 1, 3, 3])');
  });

  it('names a parameter of the wrong size', () => {
    const p = mapParams(rec);
    expect(() => p.get('a.weight', [3, 3])).toThrow(ModelFormatError);
    expect(() => p.get('a.weight', [3, 3])).toThrow('parameter "a.weight" has 6 values, expected 9 (shape [3, 3])');
  });

  it('lists names never read', () => {
    const p = mapParams(rec);
    expect(p.unusedNames()).toEqual(['a.weight', 'a.bias', 'extra']);
    p.get('a.weight', [6]);
    expect(() => p.get('a.bias', [3])).toThrow(ModelFormatError);
    expect(p.unusedNames()).toEqual(['a.bias', 'extra']);
    p.get('a.bias', [2]);
    expect(p.unusedNames()).toEqual(['extra']);
    expect(p.names()).toEqual(['a.weight', 'a.bias', 'extra']);
  });

  it('rejects invalid shapes', () => {
    expect(() => mapParams(rec).get('a.bias', [2.5])).toThrow(ModelFormatError);
    expect(() => shapeSize([-1])).toThrow(ModelFormatError);
  });
});

describe('randomParams', () => {
  it('is deterministic per name and seed and returns prod(shape) values', () => {
    const a = randomParams(7).get('features.0.0.weight', [32, 3, 3, 3]);
    const b = randomParams(7).get('features.0.0.weight', [32, 3, 3, 3]);
    const c = randomParams(8).get('features.0.0.weight', [32, 3, 3, 3]);
    const d = randomParams(7).get('features.1.0.weight', [32, 3, 3, 3]);
    expect(a.length).toBe(864);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
    expect(Array.from(a)).not.toEqual(Array.from(d));
  });

  it('scales conv / linear weights by fan-in, times gain', () => {
    const w = randomParams(1).get('conv.weight', [64, 16, 3, 3]);
    const bound = Math.sqrt(3 / 144);
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...w.map(Math.abs))).toBeGreaterThan(0.9 * bound);
    const mean2 = w.reduce((s, v) => s + v * v, 0) / w.length;
    expect(mean2 * 144).toBeCloseTo(1, 1);
    const g = randomParams(1, { gain: 2 }).get('conv.weight', [64, 16, 3, 3]);
    expect(g[5]).toBeCloseTo(2 * w[5], 6);
    const lin = randomParams(1).get('fc.weight', [10, 300]);
    expect(Math.max(...lin.map(Math.abs))).toBeLessThanOrEqual(Math.sqrt(3 / 300));
  });

  it('draws batch-norm statistics and biases from their ranges', () => {
    const p = randomParams(3);
    const inRange = (v: Float32Array, lo: number, hi: number) => v.every((x) => x >= lo && x <= hi);
    const gamma = p.get('bn1.weight', [256]);
    const beta = p.get('bn1.bias', [256]);
    expect(inRange(gamma, 0.5, 1.5)).toBe(true);
    expect(inRange(beta, -0.2, 0.2)).toBe(true);
    expect(beta.some((x) => Math.abs(x) > 0.1)).toBe(true);
    expect(inRange(p.get('bn1.running_mean', [256]), -0.2, 0.2)).toBe(true);
    expect(inRange(p.get('bn1.running_var', [256]), 0.5, 1.5)).toBe(true);
    expect(inRange(p.get('fc.bias', [256]), -0.1, 0.1)).toBe(true);
  });

  it('classifies parameters by suffix and rank', () => {
    expect(paramKind('x.weight', [4, 4])).toBe('weight');
    expect(paramKind('x.weight', [4])).toBe('bnWeight');
    expect(paramKind('x.bias', [4])).toBe('bias');
    expect(paramKind('x.bias', [4], new Set(['x']))).toBe('bnBias');
    expect(paramKind('x.running_var', [4])).toBe('runningVar');
    expect(paramKind('x.running_mean', [4])).toBe('runningMean');
  });
});

describe('batchNormParams', () => {
  it('reads weight, bias, running_mean, running_var', () => {
    const p = mapParams({
      'bn.weight': new Float32Array([1, 2]),
      'bn.bias': new Float32Array([3, 4]),
      'bn.running_mean': new Float32Array([5, 6]),
      'bn.running_var': new Float32Array([7, 8]),
    });
    const bn = batchNormParams(p, 'bn', 2);
    expect(Array.from(bn.gamma)).toEqual([1, 2]);
    expect(Array.from(bn.beta)).toEqual([3, 4]);
    expect(Array.from(bn.mean)).toEqual([5, 6]);
    expect(Array.from(bn.variance)).toEqual([7, 8]);
    expect(bn.epsilon).toBe(1e-5);
    expect(batchNormParams(p, 'bn', 2, 1e-3).epsilon).toBe(1e-3);
    expect(p.unusedNames()).toEqual([]);
    expect(() => batchNormParams(p, 'bn', 3)).toThrow('parameter "bn.weight" has 2 values, expected 3');
  });

  it('rejects a negative variance', () => {
    const p = mapParams({
      'bn.weight': new Float32Array(1),
      'bn.bias': new Float32Array(1),
      'bn.running_mean': new Float32Array(1),
      'bn.running_var': new Float32Array([-1]),
    });
    expect(() => batchNormParams(p, 'bn', 1)).toThrow(ModelFormatError);
  });
});

describe('recordParamShapes / countParams', () => {
  it('records names and shapes in request order and counts buffers apart', () => {
    const specs = recordParamShapes((p) => {
      expect(p.get('c.weight', [2, 3]).length).toBe(6);
      batchNormParams(p, 'bn', 2);
      p.get('c.weight', [2, 3]);
    });
    expect(specs.map((s) => s.name)).toEqual(['c.weight', 'bn.weight', 'bn.bias', 'bn.running_mean', 'bn.running_var']);
    expect(countParams(specs)).toEqual({ parameters: 10, buffers: 4, tensors: 5 });
    expect(isBufferName('bn.num_batches_tracked')).toBe(true);
  });

  it('throws when one name is read with two shapes', () => {
    expect(() =>
      recordParamShapes((p) => {
        p.get('w', [2, 3]);
        p.get('w', [3, 2]);
      }),
    ).toThrow(ModelFormatError);
  });
});
