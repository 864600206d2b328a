/** The f16-storage cases: kernel, block, network and tile cases again at 'f16-packed' and native 'f16'. */
import type { GpuCase } from './gpu-cases.ts';
import { KERNEL_CASES } from './kernel-cases.ts';
import { BLOCK_CASES, NETWORK_CASES } from './network-cases.ts';
import { TILE_CASES, type TileCase } from './tile-cases.ts';

/**
 * f16 storage: every kernel case, three blocks (both residual designs) and three networks, at 'f16-packed' (every
 * adapter) and at native 'f16' (run where the adapter has `shader-f16`, reported skipped elsewhere), held to
 * the f16 bars of `f16Tolerance`.
 */
export const F16_CASES: readonly GpuCase[] = (['f16-packed', 'f16'] as const).flatMap((precision) =>
  [
    ...KERNEL_CASES,
    BLOCK_CASES[1],
    BLOCK_CASES[2],
    BLOCK_CASES[5],
    NETWORK_CASES[0],
    NETWORK_CASES[1],
    NETWORK_CASES[3],
  ].map((c): GpuCase => ({ ...c, precision })),
);

/**
 * Every tile variant (`TILE_CASES`: register tiles, workgroup-memory convs, the split-K head, the GPU default
 * choice) at 'f16-packed' and native 'f16', against the kernel bar.
 */
export const F16_TILE_CASES: readonly TileCase[] = (['f16-packed', 'f16'] as const).flatMap((precision) =>
  TILE_CASES.map((t) => ({ ...t, name: `${t.name} [${precision}]`, case: { ...t.case, precision } })),
);
