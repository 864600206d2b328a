/**
 * Whole networks round-trip: builder graph -> `exportOnnx` -> `loadOnnx` -> CPU reference, compared with the
 * reference of the builder graph; the loaded graph must also fuse (BN folding, residual adds, ReLU/ReLU6) into
 * the same compiled structure as the builder's.
 */
import { describe, expect, it } from 'vitest';
import type { Conv2dNode, Graph } from '../../graph/ir.ts';
import { elementCount } from '../../graph/ir.ts';
import { optimizeGraph } from '../../graph/passes/index.ts';
import { mobilenetV2, randomParams, resnet50 } from '../../models/index.ts';
import { runGraphReference } from '../../reference/index.ts';
import { Rng } from '../../util/random.ts';
import { EXPORT_IR_VERSION, EXPORT_OPSET, decodeModelProto, exportOnnx, loadOnnx } from './index.ts';

/** What compiles: each conv's kernel, stride, groups, residual and clamp; the other ops by name. */
function compiledStructure(g: Graph): string[] {
  return optimizeGraph(g).nodes.map((n) => {
    if (n.op !== 'conv2d') return n.op === 'linear' ? `linear/${n.attrs.outFeatures}/${n.attrs.activation.kind}` : n.op;
    const a = (n as Conv2dNode).attrs;
    return `conv/${a.kernel.join('x')}/s${a.stride[0]}/g${a.groups}/${n.inputs.length > 1 ? 'res' : 'nores'}/${a.activation.kind}`;
  }).filter((op) => op !== 'flatten');
}

function roundTrip(graph: Graph, seed: number): void {
  const bytes = exportOnnx(graph);
  const proto = decodeModelProto(bytes);
  expect(Number(proto.ir_version)).toBe(EXPORT_IR_VERSION);
  expect(proto.opset_import.map((o) => [o.domain ?? '', Number(o.version)])).toEqual([['', EXPORT_OPSET]]);
  const ops = new Set(proto.graph!.node.map((n) => n.op_type));
  expect([...ops].every((op) => ['Conv', 'BatchNormalization', 'Relu', 'Clip', 'Add', 'GlobalAveragePool', 'Flatten', 'Gemm', 'MaxPool', 'Softmax'].includes(op!))).toBe(true);

  const loaded = loadOnnx(bytes);
  const inShape = graph.tensors[graph.inputs[0]].shape;
  const outShape = graph.tensors[graph.outputs[0]].shape;
  expect(loaded.inputDims).toEqual([[...inShape]]);
  expect(loaded.outputDims).toEqual([[outShape[0], outShape[1]]]);
  expect(loaded.graph.tensors[loaded.graph.outputs[0]].shape).toEqual(outShape);
  expect(compiledStructure(loaded.graph)).toEqual(compiledStructure(graph));

  const x = new Rng(seed).fill(elementCount(inShape), -1, 1);
  const [want] = runGraphReference(graph, [x]);
  const [got] = runGraphReference(loaded.graph, [x]);
  let maxRef = 0;
  let maxErr = 0;
  for (let i = 0; i < want.length; i++) {
    maxRef = Math.max(maxRef, Math.abs(want[i]));
    maxErr = Math.max(maxErr, Math.abs(got[i] - want[i]));
  }
  // Only BN epsilon changes (ONNX stores it as float32): far below the GPU tolerance.
  expect(maxErr).toBeLessThanOrEqual(1e-5 * maxRef + 1e-6);
}

describe('network round trips through ONNX', () => {
  it('MobileNetV2 (96x96, width 0.5, batch 2, softmax head)', () => {
    const graph = mobilenetV2({ params: randomParams(21), inputSize: 96, widthMultiplier: 0.5, numClasses: 100, softmax: true, batch: 2 });
    roundTrip(graph, 1);
    expect(loadOnnx(exportOnnx(graph)).outputsProbabilities).toBe(true);
  });

  it('ResNet-50 (64x64)', () => {
    roundTrip(resnet50({ params: randomParams(22), inputSize: 64 }), 2);
  });
});
