/** Identity and Dropout (inference: both pass their input through). */
import type { Converter } from '../context.ts';
import { checkLegacyIsTest } from './legacy.ts';

export const Identity: Converter = (ctx) => {
  ctx.setOutput(ctx.requireInput(0, 'input'));
};

export const Dropout: Converter = (ctx) => {
  const x = ctx.requireInput(0, 'data');
  checkLegacyIsTest(ctx);
  if (ctx.opset >= 12) {
    const training = ctx.input(2);
    if (training) {
      if (training.kind !== 'constant') throw ctx.unsupported('a computed training_mode is not supported');
      if (ctx.scalar(training, 'training_mode') !== 0) throw ctx.unsupported('training_mode=true is not supported; webcnn runs inference');
    }
  }
  ctx.requireUnusedOutputs(1, 'the dropout mask');
  ctx.setOutput(x);
};
