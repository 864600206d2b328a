import { ShapeError } from '../errors.ts';
import type { Conv2dAttrs, LinearAttrs, Pads, PoolAttrs, Shape4 } from './ir.ts';
import { shapeToString } from './ir.ts';

/** Output length of a sliding window along one axis (PyTorch/ONNX semantics). */
export function windowOutputSize(
  inSize: number,
  kernel: number,
  stride: number,
  padBegin: number,
  padEnd: number,
  dilation: number,
  ceilMode = false,
): number {
  const span = dilation * (kernel - 1) + 1;
  const numerator = inSize + padBegin + padEnd - span;
  if (numerator < 0) return 0;
  let out = (ceilMode ? Math.ceil(numerator / stride) : Math.floor(numerator / stride)) + 1;
  // With ceil_mode, the last window must start inside the input or the left padding (PyTorch and ONNX rule).
  if (ceilMode && (out - 1) * stride >= inSize + padBegin) out -= 1;
  return out;
}

export function conv2dOutputShape(input: Shape4, attrs: Conv2dAttrs, where: string): Shape4 {
  const [n, c, h, w] = input;
  const { groups, outChannels, kernel, stride, pads, dilation } = attrs;
  if (groups < 1 || c % groups !== 0 || outChannels % groups !== 0) {
    throw new ShapeError(
      `${where}: conv groups=${groups} must divide input channels ${c} and output channels ${outChannels}`,
    );
  }
  const expected = outChannels * (c / groups) * kernel[0] * kernel[1];
  if (attrs.weight.length !== expected) {
    throw new ShapeError(
      `${where}: conv weight has ${attrs.weight.length} values, expected ${expected} ` +
        `([${outChannels}, ${c / groups}, ${kernel[0]}, ${kernel[1]}]) for input ${shapeToString(input)}`,
    );
  }
  if (attrs.weightScale && attrs.weightScale.length !== outChannels) {
    throw new ShapeError(`${where}: conv weight scale has ${attrs.weightScale.length} values, expected ${outChannels}`);
  }
  if (attrs.bias && attrs.bias.length !== outChannels) {
    throw new ShapeError(`${where}: conv bias has ${attrs.bias.length} values, expected ${outChannels}`);
  }
  checkWindow(kernel, stride, pads, dilation, where, false);
  const oh = windowOutputSize(h, kernel[0], stride[0], pads[0], pads[2], dilation[0]);
  const ow = windowOutputSize(w, kernel[1], stride[1], pads[1], pads[3], dilation[1]);
  if (oh < 1 || ow < 1) {
    throw new ShapeError(`${where}: conv window ${kernel.join('x')} does not fit input ${shapeToString(input)}`);
  }
  return [n, outChannels, oh, ow];
}

/**
 * Output shape of a fully connected layer: `[n, outFeatures, 1, 1]`. Its input is flat (`[n, in, 1, 1]`), or
 * with `poolInput` (a global average pool fused in front) any `[n, in, h, w]` map; the weight is `[out, in]`.
 */
export function linearOutputShape(input: Shape4, attrs: LinearAttrs, where: string): Shape4 {
  const [n, c, h, w] = input;
  if (!attrs.poolInput && (h !== 1 || w !== 1)) {
    throw new ShapeError(`${where}: linear needs a flat [n, c, 1, 1] input, got ${shapeToString(input)}`);
  }
  const { outFeatures, weight, bias } = attrs;
  if (weight.length !== outFeatures * c) {
    throw new ShapeError(`${where}: linear weight has ${weight.length} values, expected ${outFeatures * c} ([${outFeatures}, ${c}])`);
  }
  if (bias && bias.length !== outFeatures) {
    throw new ShapeError(`${where}: linear bias has ${bias.length} values, expected ${outFeatures}`);
  }
  return [n, outFeatures, 1, 1];
}

export function poolOutputShape(input: Shape4, attrs: PoolAttrs, where: string): Shape4 {
  const [n, c, h, w] = input;
  checkWindow(attrs.kernel, attrs.stride, attrs.pads, attrs.dilation, where, true);
  const oh = windowOutputSize(h, attrs.kernel[0], attrs.stride[0], attrs.pads[0], attrs.pads[2], attrs.dilation[0], attrs.ceilMode);
  const ow = windowOutputSize(w, attrs.kernel[1], attrs.stride[1], attrs.pads[1], attrs.pads[3], attrs.dilation[1], attrs.ceilMode);
  if (oh < 1 || ow < 1) {
    throw new ShapeError(`${where}: pool window ${attrs.kernel.join('x')} does not fit input ${shapeToString(input)}`);
  }
  // With dilation a window can step over every input row or column even where the pads are smaller than its
  // extent (all that `checkWindow` looks at): such a window has no defined maximum or average either.
  const rows = firstWindowMissingInput(h, oh, attrs.kernel[0], attrs.stride[0], attrs.pads[0], attrs.dilation[0]);
  const cols = firstWindowMissingInput(w, ow, attrs.kernel[1], attrs.stride[1], attrs.pads[1], attrs.dilation[1]);
  if (rows >= 0 || cols >= 0) {
    const which = rows >= 0 ? `output row ${rows}` : `output column ${cols}`;
    throw new ShapeError(`${where}: the pool window of ${which} lies entirely in padding (kernel ${attrs.kernel.join('x')}, ` +
      `dilation ${attrs.dilation.join('x')}, pads [${attrs.pads.join(', ')}], input ${shapeToString(input)})`);
  }
  return [n, c, oh, ow];
}

/**
 * The first output index along one axis whose window taps no input position, or -1 when every window taps one.
 * A window starting inside the input taps it at once, so only the windows starting in the padding, at either
 * end, are looked at (at most pads / stride of them), each in constant time.
 */
function firstWindowMissingInput(inSize: number, outSize: number, kernel: number, stride: number, padBegin: number, dilation: number): number {
  const misses = (o: number): boolean => {
    const start = o * stride - padBegin;
    const first = start >= 0 ? 0 : Math.ceil(-start / dilation); // first tap at or after position 0
    return first >= kernel || start + first * dilation >= inSize;
  };
  for (let o = 0; o < outSize && o * stride < padBegin; o++) if (misses(o)) return o;
  for (let o = outSize - 1; o >= 0 && o * stride - padBegin >= inSize; o--) if (misses(o)) return o;
  return -1;
}

function checkWindow(
  kernel: readonly [number, number],
  stride: readonly [number, number],
  pads: Pads,
  dilation: readonly [number, number],
  where: string,
  windowMustTouchInput: boolean,
): void {
  const positive = [...kernel, ...stride, ...dilation];
  if (!positive.every((v) => Number.isInteger(v) && v >= 1)) {
    throw new ShapeError(`${where}: kernel, stride and dilation must be positive integers, got ` +
      `kernel ${kernel.join('x')} stride ${stride.join('x')} dilation ${dilation.join('x')}`);
  }
  if (!pads.every((p) => Number.isInteger(p) && p >= 0)) {
    throw new ShapeError(`${where}: pads must be non-negative integers, got [${pads.join(', ')}]`);
  }
  if (windowMustTouchInput && (pads[0] >= kernel[0] * dilation[0] || pads[2] >= kernel[0] * dilation[0] ||
      pads[1] >= kernel[1] * dilation[1] || pads[3] >= kernel[1] * dilation[1])) {
    // A pooling window that lies entirely in padding has no defined maximum or average.
    throw new ShapeError(`${where}: pads [${pads.join(', ')}] must be smaller than the kernel extent`);
  }
}

/**
 * NumPy-style broadcast of two IR shapes: per axis the sizes are equal or one of them is 1. Returns null when
 * they do not broadcast.
 */
export function broadcastShapes(a: Shape4, b: Shape4): Shape4 | null {
  const out = [0, 0, 0, 0];
  for (let i = 0; i < 4; i++) {
    if (a[i] === b[i] || b[i] === 1) out[i] = a[i];
    else if (a[i] === 1) out[i] = b[i];
    else return null;
  }
  return out as unknown as Shape4;
}

/** Output shape of a spatial pad (`pads` = `[top, left, bottom, right]`, negative crops). */
export function padOutputShape(input: Shape4, pads: Pads, where: string): Shape4 {
  const [n, c, h, w] = input;
  if (pads.length !== 4 || !pads.every((p) => Number.isInteger(p))) {
    throw new ShapeError(`${where}: pads must be four integers, got [${pads.join(', ')}]`);
  }
  const oh = h + pads[0] + pads[2];
  const ow = w + pads[1] + pads[3];
  if (oh < 1 || ow < 1) {
    throw new ShapeError(`${where}: pads [${pads.join(', ')}] leave nothing of input ${shapeToString(input)}`);
  }
  return [n, c, oh, ow];
}

/** Checks that `shape` is a valid reshape target for `input` (positive integers, same element count). */
export function checkReshape(input: Shape4, shape: Shape4, where: string): Shape4 {
  if (!Array.isArray(shape) || shape.length !== 4 || !shape.every((d) => Number.isInteger(d) && d >= 1)) {
    throw new ShapeError(`${where}: reshape target ${JSON.stringify(shape)} must be four positive integers`);
  }
  const count = (s: Shape4) => s[0] * s[1] * s[2] * s[3];
  if (count(input) !== count(shape)) {
    throw new ShapeError(
      `${where}: cannot reshape ${shapeToString(input)} (${count(input)} values) to ${shapeToString(shape)} (${count(shape)} values)`,
    );
  }
  return [shape[0], shape[1], shape[2], shape[3]];
}

/** Checks softmax `axes` (`[first, last]`, `0 <= first <= last <= 3`). */
export function checkSoftmaxAxes(axes: readonly [number, number], where: string): void {
  const [first, last] = axes;
  if (!Number.isInteger(first) || !Number.isInteger(last) || first < 0 || last > 3 || first > last) {
    throw new ShapeError(`${where}: softmax axes [${axes.join(', ')}] must satisfy 0 <= first <= last <= 3`);
  }
}
