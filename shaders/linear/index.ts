import type { LinearNode } from '../../src/graph/ir.ts';
import { denseConvPacking, linearRowsPacking, packBias } from '../../src/runtime/pack-weights.ts';
import { activationUniforms } from '../../src/runtime/step.ts';
import type { KernelProgram, StoragePrecision } from '../common.ts';
import { ceilDiv, epilogueActivation } from '../common.ts';
import { c4, convBuffers } from '../conv-common.ts';
import type { KernelFamily, NodeView } from '../family.ts';
import { POINTWISE_UNIFORMS, pointwiseConvProgram } from '../pointwise/wgsl.ts';
import { MAX_REGISTER_TILE, registerTileProblem } from '../register-tile.ts';
import { countIn } from '../tiles.ts';
import { uniformValues } from '../uniforms.ts';
import { LINEAR_POOLED_UNIFORMS, LINEAR_SPLIT_K_POOLED_UNIFORMS, LINEAR_SPLIT_K_UNIFORMS, linearPooledProgram, linearSplitKProgram } from './wgsl.ts';

/**
 * The linear family's variants: `splitK` spreads each output vec4's dot product over a workgroup (for few rows);
 * `pooled` is the register GEMV over a fused global average pool's means; `register` is the pointwise kernel
 * over a 1x1 map with the batch as pixels. `pooled` runs only layers with a fused pool, `register` only others.
 */
export type LinearTile =
  | { readonly family: 'linear'; readonly kernel: 'splitK' }
  | { readonly family: 'linear'; readonly kernel: 'pooled'; readonly rowsPerThread: number; readonly vec4sPerThread: number }
  | { readonly family: 'linear'; readonly kernel: 'register'; readonly pixelsPerThread: number; readonly vec4sPerThread: number };

/** Whether the layer reads a fused global average pool's input map (a "pool" over one position is the identity). */
export function isPooledLinear({ node, inShape }: NodeView<LinearNode>): boolean {
  return node.attrs.poolInput === true && inShape[2] * inShape[3] > 1;
}

function figures({ node, inShape }: NodeView<LinearNode>) {
  const [n, inC, h, w] = inShape;
  const outC = node.attrs.outFeatures;
  return {
    n, inC, outC, spatial: h * w,
    ...epilogueActivation(node.attrs.activation),
    act: activationUniforms(node.attrs.activation),
    bias: packBias(node.attrs.bias, outC),
    macs: n * inC * outC,
  };
}

/** Fully connected layers (with or without a fused global average pool). */
export const linearFamily: KernelFamily<LinearNode, LinearTile> = {
  name: 'linear',
  supports: (view): view is NodeView<LinearNode> => view.node.op === 'linear',
  variants: (view) => [
    { family: 'linear', kernel: 'splitK' },
    isPooledLinear(view)
      ? { family: 'linear', kernel: 'pooled', rowsPerThread: 1, vec4sPerThread: 1 }
      : { family: 'linear', kernel: 'register', pixelsPerThread: 1, vec4sPerThread: 1 },
  ],
  check(t) {
    if (t.kernel === 'splitK') return null;
    if (t.kernel === 'register') return registerTileProblem(t);
    return countIn(t.rowsPerThread, 1, MAX_REGISTER_TILE.pixels) && countIn(t.vec4sPerThread, 1, MAX_REGISTER_TILE.vec4s)
      ? null
      : `pooled tile ${String(t.rowsPerThread)} rows x ${String(t.vec4sPerThread)} vec4s is not implemented`;
  },
  program(view, t, precision: StoragePrecision): KernelProgram {
    const act = epilogueActivation(view.node.attrs.activation);
    const outC4 = c4(view.node.attrs.outFeatures);
    switch (t.kernel) {
      case 'splitK':
        return linearSplitKProgram({ ...act, pooled: isPooledLinear(view) }, precision);
      case 'pooled':
        return linearPooledProgram({ ...act, rowsPerThread: t.rowsPerThread, vec4sPerThread: Math.min(t.vec4sPerThread, outC4) }, precision);
      case 'register':
        return pointwiseConvProgram({ pixelsPerThread: t.pixelsPerThread, vec4sPerThread: Math.min(t.vec4sPerThread, outC4), strided: false, residual: false, ...act }, precision);
    }
  },
  launch(view, t, precision) {
    const { node } = view;
    const f = figures(view);
    const program = this.program(view, t, precision);
    const kind = 'linear';
    if (t.kernel === 'splitK') {
      const items = f.n * c4(f.outC);
      const geometry = { items, inC4: c4(f.inC), outC4: c4(f.outC) };
      return [{
        kind,
        program,
        uniforms: isPooledLinear(view)
          ? uniformValues(LINEAR_SPLIT_K_POOLED_UNIFORMS, { ...geometry, spatial: f.spatial, ...f.act })
          : uniformValues(LINEAR_SPLIT_K_UNIFORMS, { ...geometry, ...f.act }),
        workgroups: items,
        buffers: convBuffers(node, linearRowsPacking(node.attrs.weight, f.outC, f.inC), f.bias, precision),
        macs: f.macs,
      }];
    }
    const weight = denseConvPacking(node.attrs.weight, f.outC, f.inC, 1, 1);
    if (t.kernel === 'pooled') {
      const P = t.rowsPerThread;
      const V = Math.min(t.vec4sPerThread, c4(f.outC));
      const coGroups = ceilDiv(c4(f.outC), 64 * V);
      const items = ceilDiv(f.n, P) * coGroups;
      return [{
        kind,
        program,
        uniforms: uniformValues(LINEAR_POOLED_UNIFORMS, { rows: f.n, items, coGroups, inC4: c4(f.inC), outC4: c4(f.outC), spatial: f.spatial, ...f.act }),
        workgroups: items,
        buffers: convBuffers(node, weight, f.bias, precision),
        macs: f.macs,
      }];
    }
    const P = t.pixelsPerThread;
    const V = Math.min(t.vec4sPerThread, c4(f.outC));
    const coGroups = ceilDiv(c4(f.outC), V);
    return [{
      kind,
      program,
      uniforms: uniformValues(POINTWISE_UNIFORMS, {
        pixels: f.n, inH: 1, inW: 1, inC4: c4(f.inC), outH: 1, outW: 1, outC4: c4(f.outC),
        strideY: 1, strideX: 1, coGroups, ...f.act,
      }),
      workgroups: ceilDiv(ceilDiv(f.n, P) * coGroups, 64),
      buffers: convBuffers(node, weight, f.bias, precision),
      macs: f.macs,
    }];
  },
};
