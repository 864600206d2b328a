/**
 * Input-transform fusion (`fuseInputTransforms`): a 1x1 convolution that applies squeeze-and-excitation's
 * per-(n, c) gate, or a batch norm + clamp that follows no convolution (after a concat, after a pool), as it loads
 * its input. Channel counts that leave padding lanes, batch 2, strided 1x1 convs, a fused residual, and a
 * transform whose output has a second reader (so it stays its own launch). The tile cases run them on the
 * workgroup-memory kernel too, split-K included.
 */
import { activationEntry, functionActivation } from '../src/graph/activations/index.ts';
import type { GraphBuilder } from '../src/graph/builder.ts';
import type { Activation, Shape4, TensorId } from '../src/graph/ir.ts';
import { NO_ACTIVATION, RELU, RELU6 } from '../src/graph/ir.ts';
import { DEFAULT_KERNEL_CHOICE, GPU_KERNEL_CHOICE } from '../src/runtime/kernel-choice.ts';
import type { Rng } from '../src/util/random.ts';
import type { GpuCase } from './gpu-cases.ts';
import type { TileCase } from './tile-cases.ts';

export interface InputTransformCase {
  readonly kind: 'inputTransform';
  /** What the 1x1 conv's input is: an SE-gated map, or a batch norm (+ clamp) of a concat or of a max pool. */
  readonly via: 'squeezeExcite' | 'bnAfterConcat' | 'bnAfterPool';
  readonly n: number;
  readonly c: number;
  readonly h: number;
  readonly w: number;
  readonly outC: number;
  /** The 1x1 conv's stride (default 1). */
  readonly stride?: number;
  /** Add the map before the gate / batch norm to the conv's output (a fused residual; needs stride 1 and outC = c). */
  readonly residual?: boolean;
  /** The batch norm's clamp (default relu). */
  readonly clamp?: 'none' | 'relu' | 'relu6';
  /** Also make the transformed map a graph output: a second reader, so nothing fuses. */
  readonly shared?: boolean;
}

const SHARED = { family: 'conv-shared', pixelsPerThread: 2, vec4sPerThread: 2 } as const;
const CLAMPS: Record<NonNullable<InputTransformCase['clamp']>, Activation> = { none: NO_ACTIVATION, relu: RELU, relu6: RELU6 };

export function buildInputTransformCase(
  c: InputTransformCase,
  b: GraphBuilder,
  rng: Rng,
  input: (name: string, shape: Shape4, lo?: number, hi?: number) => TensorId,
): TensorId {
  const conv = (t: TensorId, inC: number, outC: number, activation: Activation, stride = 1): TensorId => {
    const bound = Math.sqrt(3 / inC);
    return b.conv2d(t, { outChannels: outC, kernel: 1, stride, weight: rng.fill(outC * inC, -bound, bound), bias: rng.fill(outC, -0.5, 0.5), activation });
  };
  let transformed: TensorId;
  let source: TensorId;
  if (c.via === 'squeezeExcite') {
    const x = input('x', [c.n, c.c, c.h, c.w]);
    source = x;
    const reduced = Math.max(1, Math.floor(c.c / 4));
    const hidden = conv(b.globalAvgPool(x), c.c, reduced, RELU);
    const gate = conv(hidden, reduced, c.c, functionActivation('sigmoid', activationEntry('sigmoid').defaults));
    transformed = b.binary('mul', x, gate, 'se.scale');
  } else {
    if (c.via === 'bnAfterConcat') {
      // Two convs of one input written into the concat's buffer in place (a vec4-aligned offset), as in DenseNet.
      const x = input('x', [c.n, 5, c.h, c.w]);
      const first = 4 * Math.ceil(c.c / 12);
      source = b.concat([conv(x, 5, first, RELU), conv(x, 5, c.c - first, RELU)]);
    } else {
      source = b.maxPool(input('x', [c.n, c.c, 2 * c.h, 2 * c.w]), { kernel: 3, stride: 2, padding: 1 });
    }
    const norm = b.batchNorm(source, {
      gamma: rng.fill(c.c, 0.5, 1.5),
      beta: rng.fill(c.c, -0.5, 0.5),
      mean: rng.fill(c.c, -0.3, 0.3),
      variance: rng.fill(c.c, 0.5, 1.5),
      epsilon: 1e-5,
    });
    const clamp = CLAMPS[c.clamp ?? 'relu'];
    transformed = clamp.kind === 'none' ? norm : b.activation(norm, clamp);
  }
  let y = conv(transformed, c.c, c.outC, NO_ACTIVATION, c.stride ?? 1);
  if (c.residual) y = b.add(y, source, undefined, RELU);
  if (c.shared) b.output(transformed);
  return y;
}

export const INPUT_TRANSFORM_CASES: readonly GpuCase[] = [
  { kind: 'inputTransform', via: 'squeezeExcite', n: 1, c: 24, h: 7, w: 5, outC: 16 },
  { kind: 'inputTransform', via: 'squeezeExcite', n: 2, c: 10, h: 5, w: 6, outC: 6, stride: 2 },
  { kind: 'inputTransform', via: 'squeezeExcite', n: 2, c: 13, h: 3, w: 3, outC: 13, residual: true },
  { kind: 'inputTransform', via: 'squeezeExcite', n: 1, c: 8, h: 4, w: 4, outC: 5, shared: true },
  { kind: 'inputTransform', via: 'bnAfterConcat', n: 2, c: 22, h: 5, w: 7, outC: 12 },
  { kind: 'inputTransform', via: 'bnAfterConcat', n: 1, c: 9, h: 6, w: 6, outC: 7, clamp: 'relu6', stride: 2 },
  { kind: 'inputTransform', via: 'bnAfterConcat', n: 1, c: 12, h: 4, w: 5, outC: 12, clamp: 'none', residual: true },
  { kind: 'inputTransform', via: 'bnAfterPool', n: 2, c: 7, h: 4, w: 3, outC: 9 },
  { kind: 'inputTransform', via: 'bnAfterPool', n: 1, c: 16, h: 3, w: 3, outC: 8, shared: true },
  // K of at least 32 input vec4s, so the split-K tile cases below split it.
  { kind: 'inputTransform', via: 'squeezeExcite', n: 2, c: 130, h: 3, w: 2, outC: 20 },
  { kind: 'inputTransform', via: 'bnAfterConcat', n: 1, c: 134, h: 3, w: 3, outC: 18 },
];

/** The cases on the workgroup-memory kernel (the hardware-GPU default), and with split-K where K is long enough. */
export const INPUT_TRANSFORM_TILE_CASES: readonly TileCase[] = INPUT_TRANSFORM_CASES.flatMap((c, i) => [
  { name: `input transform ${i} on conv-shared`, case: c, kernels: GPU_KERNEL_CHOICE },
  ...(c.kind === 'inputTransform' && c.c >= 128
    ? [{
        name: `input transform ${i} on conv-shared split-K`,
        case: c,
        kernels: { ...DEFAULT_KERNEL_CHOICE, pointwise: SHARED, smallMapSplitK: { splits: 2, maxTiles: 1 << 20 } },
      }]
    : []),
]);
