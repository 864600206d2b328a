/**
 * Ops that are one function of the activation table (`src/graph/activations/`): an activation node that the
 * compiler later fuses into its producer. The table entry names the float attributes (its `params`) and their
 * defaults, so most ops need no code of their own: `CONVERTERS` maps the op type to `tableActivation(name)`.
 */
import { activationEntry, functionActivation } from '../../../graph/activations/index.ts';
import type { Converter } from '../context.ts';

export function tableActivation(name: string): Converter {
  const entry = activationEntry(name);
  return (ctx) => {
    const x = ctx.runtime(0, 'input X');
    for (const [attr, want] of Object.entries(entry.onnxStringAttrs ?? {})) {
      const got = ctx.attrString(attr, '');
      if (got !== want) throw ctx.unsupported(`${attr} '${got}' is not supported (only '${want}')`);
    }
    const params = entry.params.map((p, i) => ctx.attrFloat(p, entry.defaults[i]));
    if (!params.every(Number.isFinite)) throw ctx.unsupported(`non-finite ${entry.params.join(' / ')} are not supported`);
    // Elementwise: a channels-last view stays one.
    ctx.setOutput({ ...x, id: ctx.b.activation(x.id, functionActivation(name, params), ctx.name) });
  };
}
