import type { KernelProgram, StoragePrecision } from '../../shaders/common.ts';
import { clampBound } from '../../shaders/common.ts';
import type { Activation, TensorId } from '../graph/ir.ts';
import { activationBounds } from '../graph/ir.ts';
import { toFloat16BitsInto } from './f16.ts';
import type { WeightPacking } from './pack-weights.ts';
import { packWeights } from './pack-weights.ts';

/**
 * What one kernel launch binds, described without any GPU object; the compiler makes the buffers once.
 */
export type BufferRef =
  | { readonly kind: 'tensor'; readonly id: TensorId }
  /**
   * Weights as float32, or as binary16 words (`toFloat16Bits`) at the f16 precisions; biases are always f32.
   * `writeInto` writes `data`'s bytes into a zero-filled buffer of `byteLength` (a GPU buffer's mapped range)
   * without keeping a copy: weights are packed there directly. `data` packs into a fresh array (for tests).
   */
  | {
      readonly kind: 'constant';
      readonly data: Float32Array | Uint16Array;
      readonly byteLength: number;
      readonly writeInto: (target: ArrayBuffer) => void;
    }
  /** Plain NCHW f32 staging buffers at the graph's edges, by input or output position. */
  | { readonly kind: 'rawInput'; readonly index: number }
  | { readonly kind: 'rawOutput'; readonly index: number }
  /**
   * Partial sums (f32) that one launch writes and the next reads: split-K slices, and the fused inverted-residual
   * block's squeeze-and-excitation sums per tile. `byteLength` bytes; the compiler makes one scratch buffer for the
   * model, sized to the largest need: launches run in order, so steps share it.
   */
  | { readonly kind: 'scratch'; readonly byteLength: number };

/** What a launch computes, for timing breakdowns and the tuner (the conv kinds are the tuned layer kinds). */
export type StepKind = 'pointwise' | 'depthwise' | 'conv2d' | 'linear' | 'pool' | 'layout' | 'elementwise' | 'softmax' | 'resize' | 'argmax' | 'convTranspose'
  | 'grouped'
  | 'invertedResidual';

/**
 * One kernel launch: which program, its uniform values, how many workgroups, and what each binding reads or
 * writes. A node lowers to one step, or several (a split-K convolution).
 */
export interface Step {
  /** The graph node's name, or a layout step's description. */
  readonly label: string;
  readonly kind: StepKind;
  readonly program: KernelProgram;
  readonly uniforms: Readonly<Record<string, number>>;
  readonly workgroups: number;
  /** Binding name (as in `program.bindings`, except `params`) -> buffer. */
  readonly buffers: Readonly<Record<string, BufferRef>>;
  /** Multiply-accumulates, for GFLOP/s figures (a node lowered to several launches counts them once). */
  readonly macs: number;
  /**
   * Output tensor of the graph node the step was lowered from (absent for the layout steps at the graph's
   * edges). Every launch of a node lowered to several (split-K) carries it and the node's name as `label`.
   */
  readonly node?: TensorId;
  /**
   * Names of the other graph nodes this launch computes (a fused inverted-residual block: its expand and
   * depthwise convs; `label` names the project conv). Their outputs have no buffer.
   */
  readonly fused?: readonly string[];
}

export const tensor = (id: TensorId): BufferRef => ({ kind: 'tensor', id });

export const constant = (data: Float32Array | Uint16Array): BufferRef => ({
  kind: 'constant',
  data,
  byteLength: data.byteLength,
  writeInto: (target) => new Uint8Array(target, 0, data.byteLength).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)),
});

/**
 * Packed weights, packed only when written or read: lowering stays cheap, so the compiler can start every
 * pipeline compile before it packs the weights, and packing overlaps the driver's compiles. At f32 the packing
 * writes straight into the target; at the f16 precisions it packs to f32 and writes the binary16 words there.
 */
export function packedConstant(packing: WeightPacking, precision: StoragePrecision): BufferRef {
  const f32 = precision === 'f32';
  const writeInto = (target: ArrayBuffer): void => {
    if (f32) packing.packInto(new Float32Array(target, 0, packing.length));
    else toFloat16BitsInto(packWeights(packing), new Uint16Array(target, 0, packing.length));
  };
  let data: Float32Array | Uint16Array | null = null;
  return {
    kind: 'constant',
    byteLength: packing.length * (f32 ? 4 : 2),
    writeInto,
    get data() {
      if (!data) {
        const bytes = new ArrayBuffer(packing.length * (f32 ? 4 : 2));
        writeInto(bytes);
        data = f32 ? new Float32Array(bytes) : new Uint16Array(bytes);
      }
      return data;
    },
  };
}

/** The fused clamp's uniform values (infinite bounds as the largest finite f32). */
export function activationUniforms(a: Activation): { actMin: number; actMax: number } {
  const [lo, hi] = activationBounds(a);
  return { actMin: clampBound(lo), actMax: clampBound(hi) };
}
