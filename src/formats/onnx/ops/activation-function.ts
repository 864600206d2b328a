/**
 * Ops that are one function of the activation table (`src/graph/activations/`): an activation node that the
 * compiler later fuses into its producer. The table entry names the float attributes (its `params`) and their
 * defaults, so most ops need no code of their own: `CONVERTERS` maps the op type to `tableActivation(name)`.
 */
import { activationEntry, applyActivationFunction, functionActivation } from '../../../graph/activations/index.ts';
import type { Converter } from '../context.ts';
import { DataType } from '../proto.ts';

export function tableActivation(name: string): Converter {
  const entry = activationEntry(name);
  return (ctx) => {
    const input = ctx.requireInput(0, 'input X');
    for (const [attr, want] of Object.entries(entry.onnxStringAttrs ?? {})) {
      const got = ctx.attrString(attr, '');
      if (got !== want) throw ctx.unsupported(`${attr} '${got}' is not supported (only '${want}')`);
    }
    const params = entry.params.map((p, i) => ctx.attrFloat(p, entry.defaults[i]));
    if (!params.every(Number.isFinite)) throw ctx.unsupported(`non-finite ${entry.params.join(' / ')} are not supported`);
    const fn = functionActivation(name, params);
    if (input.kind === 'constant') {
      // Shape arithmetic (Neg of an index, Sqrt of a head size) folds at load time, through the CPU reference;
      // integer tensors (ONNX allows them for Neg and Abs) stay integers.
      const { ints, dataType } = input.tensor;
      if (ints) {
        const values = ints.map((v) => activationEntry(name).reference(v, fn.params));
        ctx.setOutput({ kind: 'constant', dims: input.dims, tensor: { dims: input.dims, dataType, ints: values } });
        return;
      }
      const floats = ctx.imp.budget.floats(input.dims.reduce((a, d) => a * d, 1), `${ctx.where}: folded constant`);
      floats.set(ctx.floats(input, 'input X'));
      applyActivationFunction(fn, floats);
      ctx.setOutput({ kind: 'constant', dims: input.dims, tensor: { dims: input.dims, dataType: DataType.FLOAT, floats } });
      return;
    }
    const x = input;
    // Elementwise: a channels-last view stays one.
    ctx.setOutput({ ...x, id: ctx.b.activation(x.id, fn, ctx.name) });
  };
}
