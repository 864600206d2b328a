/**
 * Whether `compile` fuses a global average pool into the FC layer it feeds follows the kernel choice
 * (`KernelChoice.fusePoolLinear`): on by default on GPUs, off in the software default (its fused kernel compiles
 * slowly on SwiftShader), on for any caller who asks. Dawn in Node; SwiftShader without a GPU.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deviceAdapterInfo, isSoftwareAdapter } from '../src/gpu/device.ts';
import { acquireNodeDevice } from '../src/gpu/node-device.ts';
import { runGraphReference } from '../src/reference/index.ts';
import { compileModel } from '../src/runtime/compile.ts';
import { CompiledModel } from '../src/runtime/compiled-model.ts';
import { DEFAULT_KERNEL_CHOICE, GPU_KERNEL_CHOICE } from '../src/runtime/kernel-choice.ts';
import { buildCase, compareOutputs } from './gpu-cases.ts';

let device: GPUDevice;
beforeAll(async () => {
  device = (await acquireNodeDevice()).device;
});
afterAll(() => device?.destroy());

describe('pool + FC fusion per kernel choice', () => {
  const head = buildCase({ kind: 'poolLinear', n: 1, c: 96, h: 5, w: 5, outF: 37, bias: true, activation: 'relu' });
  const pooled = (m: CompiledModel) => m.graph.nodes.some((n) => n.op === 'linear' && n.attrs.poolInput === true);

  for (const [name, kernels, fused] of [
    ['software default', DEFAULT_KERNEL_CHOICE, false],
    ['software default, fusion asked for', { ...DEFAULT_KERNEL_CHOICE, fusePoolLinear: true }, true],
    ['GPU default', GPU_KERNEL_CHOICE, true],
  ] as const) {
    it(`${name}: ${fused ? 'one fused launch' : 'pool, then the FC layer'}, same result as the CPU`, async () => {
      const model = await compileModel(device, head.graph, { kernels });
      try {
        expect(pooled(model)).toBe(fused);
        const keys = model.steps.map((s) => s.program.key);
        expect(keys.some((k) => k.startsWith('pool/'))).toBe(!fused);
        const cmp = compareOutputs(await model.run(head.inputs), runGraphReference(head.graph, head.inputs));
        expect(cmp.ok, `max error ${cmp.maxAbsError}`).toBe(true);
      } finally {
        model.dispose();
      }
    });
  }

  it('without kernels the adapter decides: unfused on a software adapter, fused on a GPU', async () => {
    const model = await compileModel(device, head.graph);
    try {
      expect(pooled(model)).toBe(!isSoftwareAdapter(deviceAdapterInfo(device)));
    } finally {
      model.dispose();
    }
  });
});
