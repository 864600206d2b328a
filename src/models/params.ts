/**
 * Where model builders get their weights from. Builders ask for each parameter by its PyTorch `state_dict`
 * name together with the shape they expect, so one builder serves real checkpoints (`mapParams`), seeded
 * random weights for tests and benchmarks (`randomParams`) and shape listings (`recordParamShapes`).
 */
import { ModelFormatError } from '../errors.ts';
import type { BatchNormParams } from '../graph/ir.ts';
import { Rng, hashString } from '../util/random.ts';

export interface ParamSource {
  /** Returns exactly `prod(shape)` values for `name` (row-major, PyTorch layout), or throws. */
  get(name: string, shape: readonly number[]): Float32Array;
}

/** A parameter (or buffer) name with the shape a builder reads it with. */
export interface ParamSpec {
  readonly name: string;
  readonly shape: readonly number[];
}

/** A `ParamSource` backed by a name -> values table, e.g. a decoded `state_dict`. */
export interface MapParamSource extends ParamSource {
  /** Every name in the table, in insertion order. */
  names(): string[];
  /** Names in the table that no `get` asked for yet (in insertion order), so loaders can warn about them. */
  unusedNames(): string[];
}

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** `prod(shape)`; throws `ModelFormatError` when a dimension is not a non-negative integer. */
export function shapeSize(shape: readonly number[], name = 'parameter'): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new ModelFormatError(`${name}: invalid shape ${formatShape(shape)}`);
    }
    n *= d;
  }
  return n;
}

/**
 * Wraps a name -> values table. `get` returns the stored array itself (no copy) and throws `ModelFormatError`
 * naming the parameter when it is missing or holds a different number of values than the shape asks for.
 */
export function mapParams(record: Record<string, Float32Array> | ReadonlyMap<string, Float32Array>): MapParamSource {
  const table: ReadonlyMap<string, Float32Array> =
    record instanceof Map ? record : new Map(Object.entries(record as Record<string, Float32Array>));
  const used = new Set<string>();
  return {
    get(name, shape) {
      const expected = shapeSize(shape, name);
      const values = table.get(name);
      if (values === undefined) {
        throw new ModelFormatError(`missing parameter "${name}" (expected shape ${formatShape(shape)})`);
      }
      if (!(values instanceof Float32Array)) {
        throw new ModelFormatError(`parameter "${name}" is not a Float32Array`);
      }
      if (values.length !== expected) {
        throw new ModelFormatError(
          `parameter "${name}" has ${values.length} values, expected ${expected} (shape ${formatShape(shape)})`,
        );
      }
      used.add(name);
      return values;
    },
    names() {
      return [...table.keys()];
    },
    unusedNames() {
      return [...table.keys()].filter((n) => !used.has(n));
    },
  };
}

export type ParamKind = 'weight' | 'bias' | 'bnWeight' | 'bnBias' | 'runningMean' | 'runningVar' | 'other';

export interface RandomParamsOptions {
  /** Scales conv / linear weights; 1 keeps activations O(1) through ResNet-50 and MobileNetV2. */
  gain?: number;
}

/**
 * Deterministic random parameters: the values of a name depend only on `hashString(name)`, the seed and the
 * kind of parameter, chosen by name suffix and rank:
 *
 * - `.weight` of rank >= 2 (conv `[outC, inC/g, kh, kw]`, linear `[out, in]`): uniform in
 *   ±sqrt(3 / fanIn) * gain, fanIn = prod(shape.slice(1)) (unit variance gain for unit-variance inputs);
 * - `.weight` of rank <= 1 (batch-norm gamma): uniform [0.5, 1.5];
 * - `.bias`: batch-norm beta ±0.2 when the same source has already handed out a rank-1 `${prefix}.weight`
 *   (the builders always read a batch norm's weight before its bias), otherwise a conv / linear bias ±0.1;
 * - `.running_mean`: ±0.2; `.running_var`: uniform [0.5, 1.5];
 * - anything else: ±0.1.
 */
export function randomParams(seed: number, options: RandomParamsOptions = {}): ParamSource {
  const gain = options.gain ?? 1;
  const bnPrefixes = new Set<string>();
  return {
    get(name, shape) {
      const size = shapeSize(shape, name);
      const kind = paramKind(name, shape, bnPrefixes);
      if (kind === 'bnWeight') bnPrefixes.add(modulePrefix(name));
      const rng = new Rng((hashString(name) ^ Math.imul(seed | 0, 0x9e3779b1)) >>> 0);
      rng.next(); // decorrelate neighbouring seeds
      switch (kind) {
        case 'weight': {
          const fanIn = Math.max(1, shapeSize(shape.slice(1)));
          const bound = Math.sqrt(3 / fanIn) * gain;
          return rng.fill(size, -bound, bound);
        }
        case 'bnWeight':
        case 'runningVar':
          return rng.fill(size, 0.5, 1.5);
        case 'bnBias':
        case 'runningMean':
          return rng.fill(size, -0.2, 0.2);
        case 'bias':
        case 'other':
          return rng.fill(size, -0.1, 0.1);
      }
    },
  };
}

function modulePrefix(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot < 0 ? '' : name.slice(0, dot);
}

/**
 * Classifies a parameter by name suffix and rank (see `randomParams`). `bnPrefixes` holds module paths known
 * to be batch norms; without it a rank-1 `.bias` counts as a conv / linear bias.
 */
export function paramKind(name: string, shape: readonly number[], bnPrefixes?: ReadonlySet<string>): ParamKind {
  if (name.endsWith('.running_mean')) return 'runningMean';
  if (name.endsWith('.running_var')) return 'runningVar';
  if (name.endsWith('.weight')) return shape.length >= 2 ? 'weight' : 'bnWeight';
  if (name.endsWith('.bias')) return bnPrefixes?.has(modulePrefix(name)) ? 'bnBias' : 'bias';
  return 'other';
}

/**
 * Reads a PyTorch `BatchNorm2d` at `prefix` (`.weight`, `.bias`, `.running_mean`, `.running_var`, each
 * `[channels]`), in that order.
 */
export function batchNormParams(params: ParamSource, prefix: string, channels: number, eps = 1e-5): BatchNormParams {
  const gamma = params.get(`${prefix}.weight`, [channels]);
  const beta = params.get(`${prefix}.bias`, [channels]);
  const mean = params.get(`${prefix}.running_mean`, [channels]);
  const variance = params.get(`${prefix}.running_var`, [channels]);
  for (let i = 0; i < variance.length; i++) {
    if (!(variance[i] + eps > 0)) {
      throw new ModelFormatError(`${prefix}.running_var[${i}] = ${variance[i]} is not a valid variance`);
    }
  }
  return { gamma, beta, mean, variance, epsilon: eps };
}

/** Buffers (not trainable parameters) in a PyTorch `state_dict`: batch-norm running statistics. */
export function isBufferName(name: string): boolean {
  return /\.(running_mean|running_var|num_batches_tracked)$/.test(name);
}

/** Totals as PyTorch counts them: `parameters` = `sum(p.numel() for p in model.parameters())`. */
export function countParams(specs: readonly ParamSpec[]): { parameters: number; buffers: number; tensors: number } {
  let parameters = 0;
  let buffers = 0;
  for (const s of specs) {
    const n = shapeSize(s.shape, s.name);
    if (isBufferName(s.name)) buffers += n;
    else parameters += n;
  }
  return { parameters, buffers, tensors: specs.length };
}

/**
 * Runs `build` with a source that records every name and shape it asks for (in request order) and hands back
 * zeros (shared per size, so listing ResNet-50 does not allocate 100 MB). Throws `ModelFormatError` when the
 * same name is asked for with two different shapes.
 */
export function recordParamShapes(build: (params: ParamSource) => unknown): ParamSpec[] {
  const specs = new Map<string, readonly number[]>();
  const zeros = new Map<number, Float32Array>();
  build({
    get(name, shape) {
      const size = shapeSize(shape, name);
      const prev = specs.get(name);
      if (prev && formatShape(prev) !== formatShape(shape)) {
        throw new ModelFormatError(
          `parameter "${name}" requested with shapes ${formatShape(prev)} and ${formatShape(shape)}`,
        );
      }
      if (!prev) specs.set(name, Object.freeze([...shape]));
      let z = zeros.get(size);
      if (!z) zeros.set(size, (z = new Float32Array(size)));
      return z;
    },
  });
  return [...specs].map(([name, shape]) => ({ name, shape }));
}
