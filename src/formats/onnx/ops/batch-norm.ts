/** BatchNormalization (inference form). */
import type { Converter } from '../context.ts';
import { fmt } from '../values.ts';
import { checkLegacyIsTest } from './legacy.ts';

export const BatchNormalization: Converter = (ctx) => {
  const x = ctx.runtime(0, 'input X');
  if (x.dims.length < 2) throw ctx.invalid(`input ${fmt(x.dims)} needs a channel axis`);
  checkLegacyIsTest(ctx);
  if (ctx.opset < 9 && ctx.attrInt('spatial', 1) !== 1) {
    throw ctx.unsupported('spatial=0 (per-activation statistics) is not supported');
  }
  if (ctx.opset >= 14 && ctx.attrInt('training_mode', 0) !== 0) {
    throw ctx.unsupported('training_mode=1 is not supported; webcnn runs inference');
  }
  ctx.requireUnusedOutputs(1, 'a training statistic');
  const C = x.dims[1];
  const param = (k: number, what: string): Float32Array => {
    const v = ctx.floats(ctx.constant(k, what), what);
    if (v.length !== C) throw ctx.invalid(`${what} has ${v.length} values, expected ${C} (the channels of ${fmt(x.dims)})`);
    return v;
  };
  const gamma = param(1, 'scale');
  const beta = param(2, 'B');
  const mean = param(3, 'input_mean');
  const variance = param(4, 'input_var');
  const epsilon = ctx.attrFloat('epsilon', 1e-5);
  for (let i = 0; i < C; i++) {
    if (!(variance[i] + epsilon > 0)) throw ctx.invalid(`input_var[${i}] + epsilon = ${variance[i] + epsilon} is not positive`);
  }
  ctx.runtimeOut(ctx.b.batchNorm(x.id, { gamma, beta, mean, variance, epsilon }, ctx.name), x.dims);
};
