/**
 * Limits every model loader checks before it allocates, shared so that the three formats agree on them.
 *
 * A model file is untrusted input: its declared dims, counts and offsets are numbers an attacker (or a
 * truncated download) picks. The loaders therefore never size an allocation from a declared number before it
 * has passed through one of these helpers:
 *
 * - `checkedElementCount(dims)`: dims are non-negative safe integers and their product fits one tensor
 *   (at most `MAX_TENSOR_BYTES` as float32, so every element index also fits a u32);
 * - `LoadBudget`: everything a loader allocates for one file (decoded and transposed weights, folded
 *   constants, per-channel vectors) adds up to at most `32 MiB + 8 x file size` (dequantizing uint8 to float32
 *   and transposing once is 8 x);
 * - `checkWindow`: kernel, stride and dilation are in [1, MAX_WINDOW], pads in [0, MAX_PAD];
 * - `checkGraphLimits(graph, fileBytes)`: after the build, every activation fits one tensor and the weights
 *   of all nodes together (a weight shared by several nodes counts once per node, as each node gets its own
 *   packed GPU copy) stay within what the file's bytes can hold.
 *
 * Malformed numbers are `ModelFormatError`s; well-formed numbers past a limit are `ResourceLimitError`s, or
 * `UnsupportedOpError`s for op attributes beyond what the kernels take. Device limits (`maxBufferSize`,
 * `maxStorageBufferBindingSize`) are checked again at compile time by `BufferTracker`.
 */
import { ModelFormatError, ResourceLimitError, UnsupportedOpError } from '../errors.ts';
import type { Graph } from '../graph/ir.ts';
import { storageBytes } from '../graph/storage.ts';

/** Largest single tensor (activation or weight) as float32: 2 GiB. */
export const MAX_TENSOR_BYTES = 2 ** 31;
/** Element count of a `MAX_TENSOR_BYTES` float32 tensor (2^29); every element index fits a u32. */
export const MAX_TENSOR_ELEMENTS = MAX_TENSOR_BYTES / 4;
/** Largest kernel extent, stride and dilation a convolution or pool may declare. */
export const MAX_WINDOW = 1024;
/** Largest padding (per side) a convolution, pool or pad may declare. */
export const MAX_PAD = 65535;
/** Loader allocations allowed for one file: `LOAD_BUDGET_BASE + LOAD_BUDGET_PER_BYTE * file size`. */
export const LOAD_BUDGET_BASE = 32 * 2 ** 20;
export const LOAD_BUDGET_PER_BYTE = 8;
/** Weight values (summed over nodes) allowed beyond one per file byte: per-channel constants, scalars. */
export const WEIGHT_SLACK_VALUES = 4 * 2 ** 20;

function dimsText(dims: readonly number[]): string {
  return `[${dims.join(', ')}]`;
}

/**
 * The element count of a tensor of `dims`: each dim must be a non-negative safe integer (else
 * `ModelFormatError`), and the tensor must fit `MAX_TENSOR_BYTES` as float32 (else `ResourceLimitError`).
 * `what` names the tensor and where it is, e.g. `tflite subgraph 0 tensor 12 'conv/weights'`.
 */
export function checkedElementCount(dims: readonly number[], what: string): number {
  let zero = false;
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 0) throw new ModelFormatError(`${what}: invalid dims ${dimsText(dims)}`);
    if (d === 0) zero = true;
  }
  if (zero) return 0;
  let count = 1;
  for (const d of dims) {
    count *= d;
    if (count > MAX_TENSOR_ELEMENTS) {
      throw new ResourceLimitError(
        `${what}: dims ${dimsText(dims)} make a tensor of over ${MAX_TENSOR_ELEMENTS} elements (${MAX_TENSOR_BYTES / 2 ** 30} GiB ` +
          'as float32), more than webcnn allows for one tensor',
      );
    }
  }
  return count;
}

/**
 * Counts what one load allocates and refuses to go past `LOAD_BUDGET_BASE + LOAD_BUDGET_PER_BYTE * fileBytes`
 * bytes with a `ResourceLimitError`, so that no file can make a loader allocate far more than its own size.
 */
export class LoadBudget {
  private used = 0;
  readonly limit: number;

  constructor(readonly fileBytes: number) {
    this.limit = LOAD_BUDGET_BASE + LOAD_BUDGET_PER_BYTE * fileBytes;
  }

  get bytes(): number {
    return this.used;
  }

  /** Accounts for `bytes` more (before allocating them). */
  charge(bytes: number, what: string): void {
    if (!Number.isSafeInteger(bytes) || bytes < 0) throw new ModelFormatError(`${what}: invalid size ${bytes}`);
    if (this.used + bytes > this.limit) {
      throw new ResourceLimitError(
        `${what}: loading needs more than ${this.limit} bytes of memory (${bytes} more after ${this.used}), ` +
          `out of proportion to the ${this.fileBytes}-byte file`,
      );
    }
    this.used += bytes;
  }

  /** A zeroed `Float32Array` of `count` values, charged. */
  floats(count: number, what: string): Float32Array {
    this.charge(count * 4, what);
    return new Float32Array(count);
  }

  /** A `number[]` of `count` entries (8 bytes each), charged. */
  numbers(count: number, what: string): number[] {
    this.charge(count * 8, what);
    return new Array<number>(count);
  }
}

export interface WindowAttrs {
  readonly kernel: readonly number[];
  readonly stride: readonly number[];
  readonly dilation: readonly number[];
  readonly pads: readonly number[];
}

/**
 * Checks a convolution's or pool's declared window: kernel, stride and dilation positive integers up to
 * `MAX_WINDOW`, pads non-negative integers up to `MAX_PAD`. Zero, negative or fractional values are a
 * `ModelFormatError`; values past the limits an `UnsupportedOpError`.
 */
export function checkWindow(w: WindowAttrs, where: string): void {
  const text = () =>
    `kernel ${w.kernel.join('x')}, stride ${w.stride.join('x')}, dilation ${w.dilation.join('x')}, pads ${dimsText(w.pads)}`;
  const positive = [...w.kernel, ...w.stride, ...w.dilation];
  if (!positive.every((v) => Number.isSafeInteger(v) && v >= 1) || !w.pads.every((p) => Number.isSafeInteger(p) && p >= 0)) {
    throw new ModelFormatError(`${where}: ${text()}: kernel, stride and dilation must be positive integers, pads non-negative`);
  }
  if (positive.some((v) => v > MAX_WINDOW) || w.pads.some((p) => p > MAX_PAD)) {
    throw new UnsupportedOpError(
      `${where}: ${text()}: webcnn takes kernels, strides and dilations up to ${MAX_WINDOW} and pads up to ${MAX_PAD}`,
    );
  }
}

/** Weight values a node carries (each of its own, even when another node shares the same array). */
function nodeWeightValues(node: Graph['nodes'][number]): number {
  switch (node.op) {
    case 'conv2d':
    case 'linear':
      return node.attrs.weight.length + (node.attrs.bias?.length ?? 0);
    case 'batchNorm':
      return node.attrs.gamma.length + node.attrs.beta.length + node.attrs.mean.length + node.attrs.variance.length;
    case 'convTranspose':
      // Its kernel packs the weights dense across groups: `groups` times the file's values.
      return node.attrs.weight.length * node.attrs.groups + (node.attrs.bias?.length ?? 0);
    default:
      return 0;
  }
}

/**
 * Load-time sanity caps on a built graph (see the file comment): every tensor within `MAX_TENSOR_BYTES` as the
 * GPU stores it, and the weights of all nodes together at most `fileBytes + WEIGHT_SLACK_VALUES` values.
 * Throws `ResourceLimitError` naming the tensor or the total.
 */
export function checkGraphLimits(graph: Graph, fileBytes: number, what: string): void {
  for (const t of graph.tensors) {
    const bytes = storageBytes(t.shape, 'f32');
    if (!(bytes <= MAX_TENSOR_BYTES)) {
      throw new ResourceLimitError(
        `${what}: tensor ${t.id} '${t.name}' ${dimsText(t.shape)} takes ${bytes} bytes on the GPU, over the ` +
          `${MAX_TENSOR_BYTES / 2 ** 30} GiB per-tensor limit`,
      );
    }
  }
  let total = 0;
  for (const node of graph.nodes) total += nodeWeightValues(node);
  const allowed = fileBytes + WEIGHT_SLACK_VALUES;
  if (total > allowed) {
    throw new ResourceLimitError(
      `${what}: the graph's nodes carry ${total} weight values in all, more than a ${fileBytes}-byte file can hold ` +
        `(a weight shared by many nodes is packed once per node)`,
    );
  }
}
