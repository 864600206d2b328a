/**
 * How the GPU stores an IR tensor: NHWC with the channels in vec4s (padded to a multiple of 4). One rule for
 * the runtime (buffer sizes) and the loaders (load-time size caps), so the two cannot drift apart.
 */
import type { StoragePrecision } from '../../shaders/common.ts';
import { bytesPerVec4 } from '../../shaders/common.ts';
import type { Shape4 } from './ir.ts';

/** vec4s of `channels` channels. */
export const c4 = (channels: number): number => Math.ceil(channels / 4);

/** Bytes of a tensor stored as NHWC4: 16 per vec4 of channels at f32, 8 at the f16 precisions. */
export function storageBytes(shape: Shape4, precision: StoragePrecision = 'f32'): number {
  const [n, c, h, w] = shape;
  return n * h * w * c4(c) * bytesPerVec4(precision);
}
