import { describe, expect, it } from 'vitest';
import { ModelFormatError, ResourceLimitError, UnsupportedOpError } from '../errors.ts';
import { GraphBuilder } from '../graph/builder.ts';
import { checkedElementCount, checkGraphLimits, checkWindow, LoadBudget, MAX_TENSOR_ELEMENTS, WEIGHT_SLACK_VALUES } from './limits.ts';
import { loadOnnx } from './onnx/index.ts';
import { attr, encodeModel, makeGraph, makeModel, makeNode, makeTensor, makeValueInfo } from './onnx/writer.ts';
import { loadTflite } from './tflite/index.ts';
import { BuiltinOp } from './tflite/schema.ts';
import { options, TfliteWriter } from '../../test/helpers/tflite-writer.ts';

describe('checkedElementCount', () => {
  it('multiplies valid dims, allows zeros, and refuses bad or huge dims with typed errors', () => {
    expect(checkedElementCount([2, 3, 4], 't')).toBe(24);
    expect(checkedElementCount([], 't')).toBe(1);
    expect(checkedElementCount([2 ** 40, 0], 't')).toBe(0);
    expect(checkedElementCount([MAX_TENSOR_ELEMENTS], 't')).toBe(MAX_TENSOR_ELEMENTS);
    for (const bad of [[-1], [1.5], [NaN], [2 ** 53]]) expect(() => checkedElementCount(bad, 'w')).toThrow(ModelFormatError);
    expect(() => checkedElementCount([2, 3, -4], "tensor 'w'")).toThrow(/^tensor 'w': invalid dims \[2, 3, -4\]$/);
    expect(() => checkedElementCount([MAX_TENSOR_ELEMENTS + 1], 't')).toThrow(ResourceLimitError);
    expect(() => checkedElementCount([65536, 65536], 't')).toThrow(/^t: dims \[65536, 65536\] make a tensor of over 536870912 elements \(2 GiB as float32\)/);
  });
});

describe('LoadBudget', () => {
  it('allows 32 MiB + 8 x the file size, then refuses before allocating', () => {
    const budget = new LoadBudget(1000);
    expect(budget.limit).toBe(32 * 2 ** 20 + 8000);
    expect(budget.floats(1000, 'a')).toHaveLength(1000);
    expect(budget.bytes).toBe(4000);
    expect(() => budget.floats(8_400_000, 'node 3: weights')).toThrow(ResourceLimitError);
    expect(() => budget.floats(8_400_000, 'node 3: weights')).toThrow(/^node 3: weights: loading needs more than 33562432 bytes of memory \(33600000 more after 4000\), out of proportion to the 1000-byte file$/);
    expect(() => budget.charge(-1, 'x')).toThrow(ModelFormatError);
  });
});

describe('checkWindow', () => {
  it('refuses zero or negative values as malformed and values past the limits as unsupported', () => {
    const ok = { kernel: [3, 3], stride: [1, 2], dilation: [1, 1], pads: [1, 1, 1, 1] };
    expect(() => checkWindow(ok, 'conv')).not.toThrow();
    expect(() => checkWindow({ ...ok, stride: [0, 1] }, 'conv')).toThrow(ModelFormatError);
    expect(() => checkWindow({ ...ok, dilation: [1, -2] }, 'conv')).toThrow(ModelFormatError);
    expect(() => checkWindow({ ...ok, pads: [-1, 0, 0, 0] }, 'conv')).toThrow(ModelFormatError);
    expect(() => checkWindow({ ...ok, kernel: [1025, 1] }, 'conv')).toThrow(UnsupportedOpError);
    expect(() => checkWindow({ ...ok, stride: [1, 4096] }, 'conv')).toThrow(/^conv: kernel 3x3, stride 1x4096, dilation 1x1, pads \[1, 1, 1, 1\]: webcnn takes kernels, strides and dilations up to 1024 and pads up to 65535$/);
    expect(() => checkWindow({ ...ok, pads: [0, 70000, 0, 0] }, 'conv')).toThrow(UnsupportedOpError);
  });
});

describe('checkGraphLimits', () => {
  it('refuses an activation over 2 GiB as stored, and weights the file cannot hold', () => {
    const big = new GraphBuilder();
    big.output(big.relu(big.input('x', [1, 3, 16384, 16384]))); // 3 channels stored as 4: 4 GiB
    expect(() => checkGraphLimits(big.build(), 100, 'test')).toThrow(/^test: tensor 0 'x' \[1, 3, 16384, 16384\] takes 4294967296 bytes on the GPU/);

    // One shared weight used by many nodes counts once per node (each gets its own packed copy).
    const shared = new GraphBuilder();
    const weight = new Float32Array(64 * 64);
    let x = shared.input('x', [1, 64, 1, 1]);
    for (let i = 0; i < 1100; i++) x = shared.conv2d(x, { outChannels: 64, kernel: 1, weight });
    shared.output(x);
    const graph = shared.build();
    expect(() => checkGraphLimits(graph, 64 * 64 * 4, 'test')).toThrow(ResourceLimitError);
    expect(() => checkGraphLimits(graph, 1100 * 64 * 64 - WEIGHT_SLACK_VALUES, 'test')).not.toThrow();
  });
});

describe('window limits in the loaders', () => {
  const tflite = (stride: number, filter = 3) => {
    const w = new TfliteWriter();
    const x = w.input('x', [1, 8, 8, 1]);
    const f = w.float32('f', [1, filter, 1, 1], new Array(filter).fill(1));
    const y = w.activation('y', [1, 8, 8, 1]);
    w.op(BuiltinOp.CONV_2D, [x, f, -1], [y], options.conv2d({ padding: 'SAME', stride: [stride, 1] }));
    w.output(y);
    return w.build();
  };
  const onnx = (attrs: Record<string, ReturnType<typeof attr.ints>>, k = 3) =>
    encodeModel(
      makeModel({
        graph: makeGraph({
          nodes: [makeNode('Conv', ['x', 'w'], ['y'], attrs)],
          inputs: [makeValueInfo('x', [1, 1, 8, 8])],
          outputs: [makeValueInfo('y', null)],
          initializers: [makeTensor('w', [1, 1, k, 1], new Array(k).fill(1))],
        }),
      }),
    );

  it('TFLite: stride 1025 and a 2000-tap filter are unsupported, stride 0 malformed', () => {
    expect(() => loadTflite(tflite(1025))).toThrow(UnsupportedOpError);
    expect(() => loadTflite(tflite(1025))).toThrow(/operator 0 \(CONV_2D\): kernel 3x1, stride 1025x1/);
    expect(() => loadTflite(tflite(1, 2000))).toThrow(/kernel 2000x1, .*up to 1024/);
    expect(() => loadTflite(tflite(0))).toThrow(ModelFormatError);
  });

  it('ONNX: dilation 0 is malformed, strides 4096 and pads 70000 unsupported', () => {
    expect(() => loadOnnx(onnx({ dilations: attr.ints([0, 1]) }))).toThrow(ModelFormatError);
    expect(() => loadOnnx(onnx({ strides: attr.ints([4096, 1]) }))).toThrow(UnsupportedOpError);
    expect(() => loadOnnx(onnx({ pads: attr.ints([70000, 0, 0, 0]) }))).toThrow(/node 0 \(unnamed Conv\): kernel 3x1, stride 1x1, dilation 1x1, pads \[70000, 0, 0, 0\]/);
  });
});
