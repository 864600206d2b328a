/**
 * The activation function table: name -> entry. Adding an activation is one module in this folder plus one
 * entry here (docs/adding-an-op.md). Clamps (relu, relu6, clip) are not here: they stay the IR's clamp kinds,
 * which compose with each other and run as the epilogue's `clamp` with uniform bounds.
 */
import { elu } from './elu.ts';
import { geluTanh } from './gelu-tanh.ts';
import { hardSigmoid } from './hard-sigmoid.ts';
import { hardSwish } from './hard-swish.ts';
import { leakyRelu } from './leaky-relu.ts';
import { sigmoid } from './sigmoid.ts';
import { softplus } from './softplus.ts';
import { tanh } from './tanh.ts';
import { erfActivation } from './erf.ts';
import { gelu } from './gelu.ts';
import { exp } from './exp.ts';
import { sqrt } from './sqrt.ts';
import { neg } from './neg.ts';
import { reciprocal } from './reciprocal.ts';
import { abs } from './abs.ts';
import { silu } from './silu.ts';
import type { ActivationEntry, ActivationFunction } from './types.ts';

export type { ActivationEntry, ActivationFunction } from './types.ts';

export const ACTIVATION_FUNCTIONS: ReadonlyMap<string, ActivationEntry> = new Map<string, ActivationEntry>([
  [sigmoid.name, sigmoid],
  [tanh.name, tanh],
  [hardSigmoid.name, hardSigmoid],
  [hardSwish.name, hardSwish],
  [leakyRelu.name, leakyRelu],
  [elu.name, elu],
  [softplus.name, softplus],
  [geluTanh.name, geluTanh],
  [erfActivation.name, erfActivation],
  [gelu.name, gelu],
  [exp.name, exp],
  [sqrt.name, sqrt],
  [neg.name, neg],
  [reciprocal.name, reciprocal],
  [abs.name, abs],
  [silu.name, silu],
]);

export function activationEntry(name: string): ActivationEntry {
  const entry = ACTIVATION_FUNCTIONS.get(name);
  if (!entry) throw new Error(`unknown activation function '${name}'`);
  return entry;
}

/** Checks a function's parameter count and finiteness (its values become WGSL constants). */
export function activationFunction(name: string, params: readonly number[] = []): ActivationFunction {
  const entry = activationEntry(name);
  if (params.length !== entry.params.length) throw new Error(`activation ${name} takes ${entry.params.length} parameters, got ${params.length}`);
  if (!params.every(Number.isFinite)) throw new Error(`activation ${name}: parameters must be finite, got ${params.join(', ')}`);
  return { name, params: params.map(Math.fround) };
}

/** The IR activation (`Activation` of `ir.ts`) that applies table function `name`. */
export function functionActivation(name: string, params: readonly number[] = []): { readonly kind: 'function' } & ActivationFunction {
  return { kind: 'function', ...activationFunction(name, params) };
}

/** A WGSL f32 literal of exactly `Math.fround(x)`: JS prints the shortest decimal that reads back as it. */
export function wgslF32(x: number): string {
  const f = Math.fround(x);
  if (!Number.isFinite(f)) throw new Error(`activation parameter ${x} is not a finite f32`);
  const s = String(Math.abs(f));
  return f < 0 || Object.is(f, -0) ? `(-${s}f)` : `${s}f`;
}

/** Program-key text of a function: name and parameter values, e.g. `leaky-relu(0.01)`. */
export function activationFunctionKey(fn: ActivationFunction): string {
  return fn.params.length === 0 ? fn.name : `${fn.name}(${fn.params.join(',')})`;
}

/** WGSL of `fn` applied to the `vec4<f32>` identifier `v`. */
export function activationFunctionWgsl(fn: ActivationFunction, v: string): string {
  return activationEntry(fn.name).wgsl(v, fn.params.map(wgslF32));
}

/** `fn` applied to every value of `data`, in place, rounding each to f32. */
export function applyActivationFunction(fn: ActivationFunction, data: Float32Array): void {
  const { reference } = activationEntry(fn.name);
  for (let i = 0; i < data.length; i++) data[i] = reference(data[i], fn.params);
}
