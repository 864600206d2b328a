/**
 * GPU check under Node through Dawn (`webgpu` package; SwiftShader on machines without a GPU): a MobileNetV2
 * loaded from ONNX compiles and matches the CPU reference, and so does a small ONNX graph that uses the IR
 * extensions (pad, broadcasting add, reshape gather, softmax over a spatial map's channels).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireNodeDevice } from '../../gpu/node-device.ts';
import { elementCount } from '../../graph/ir.ts';
import { mobilenetV2, randomParams } from '../../models/index.ts';
import { runGraphReference } from '../../reference/index.ts';
import { compileModel } from '../../runtime/compile.ts';
import { Rng } from '../../util/random.ts';
import { compareOutputs } from '../../../test/gpu-cases.ts';
import { onnxModel } from '../../../test/onnx-helpers.ts';
import type { LoadedModel } from '../model.ts';
import { DataType, attr, exportOnnx, loadOnnx, makeNode, makeTensor } from './index.ts';

let device: GPUDevice;

// No catch: WebGPU (SwiftShader without a GPU) is part of this suite's environment, locally and in CI, so a
// missing adapter is a failure here, not a reason to pass quietly.
beforeAll(async () => {
  device = (await acquireNodeDevice()).device;
}, 60_000);

afterAll(() => device?.destroy());

async function compareOnGpu(model: LoadedModel, seed: number): Promise<void> {
  const rng = new Rng(seed);
  const inputs = model.graph.inputs.map((id) => rng.fill(elementCount(model.graph.tensors[id].shape), -1, 1));
  const compiled = await compileModel(device, model.graph);
  try {
    const gpu = await compiled.run(inputs);
    const cmp = compareOutputs(gpu, runGraphReference(model.graph, inputs));
    expect(cmp.nonFinite).toBe(0);
    // max |gpu - ref| <= 1e-4 * max|ref| + 1e-5
    expect(cmp.maxAbsError, `max error ${cmp.maxAbsError} vs tolerance ${cmp.tolerance}`).toBeLessThanOrEqual(cmp.tolerance);
  } finally {
    compiled.dispose();
  }
}

describe('ONNX models on the GPU (Dawn)', () => {
  it('MobileNetV2 (96x96, width 0.5) loaded from ONNX matches the CPU reference', async () => {
    const graph = mobilenetV2({ params: randomParams(31), inputSize: 96, widthMultiplier: 0.5, numClasses: 20 });
    await compareOnGpu(loadOnnx(exportOnnx(graph)), 1);
  });

  it('a graph with Pad, broadcasting Add, Reshape and channel Softmax matches the CPU reference', async () => {
    const rng = new Rng(4);
    const bytes = onnxModel({
      nodes: [
        makeNode('Pad', ['x', 'p', 'v'], ['xp']),
        makeNode('Conv', ['xp', 'w', 'b'], ['c']),
        makeNode('Add', ['c', 'bias_map'], ['s']),
        makeNode('Reshape', ['s', 'shape'], ['r']),
        makeNode('Softmax', ['r'], ['y'], { axis: attr.int(1) }),
      ],
      inputs: [['x', [2, 3, 6, 5]], ['bias_map', [1, 7, 1]]],
      outputs: [['y', null]],
      initializers: [
        makeTensor('p', [8], [0, 0, 1, 0, 0, 0, 1, 2], DataType.INT64),
        makeTensor('v', [], [0.5]),
        makeTensor('w', [4, 3, 2, 2], rng.fill(48, -1, 1)),
        makeTensor('b', [4], rng.fill(4, -1, 1)),
        makeTensor('shape', [4], [2, 7, 4, 6], DataType.INT64),
      ],
    });
    const model = loadOnnx(bytes);
    expect(model.graph.nodes.map((n) => n.op)).toEqual(['pad', 'conv2d', 'reshape', 'add', 'reshape', 'softmax']);
    await compareOnGpu(model, 2);
  });
});
