/**
 * Every function of the activation table: its WGSL and key, the ONNX and TFLite converters that produce it,
 * fusion into a producer's epilogue, and ONNX's own backend node tests (`libonnx-testdata`, where installed)
 * through the CPU reference. GPU cases: `test/activation-cases.ts`.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { UnsupportedOpError } from '../../errors.ts';
import { epilogueFunction, epilogueKey } from '../../../shaders/common.ts';
import { splitKReduceProgram } from '../../../shaders/conv-shared/split-k-reduce.ts';
import { elementwiseProgram } from '../../../shaders/elementwise/wgsl.ts';
import { linearSplitKProgram } from '../../../shaders/linear/wgsl.ts';
import { onnxModel, runOnnx } from '../../../test/onnx-helpers.ts';
import { TfliteWriter } from '../../../test/helpers/tflite-writer.ts';
import { ONNX_SCHEMA, encodeModelProto, modelProtoType } from '../../formats/onnx/proto.ts';
import { attr, makeNode } from '../../formats/onnx/index.ts';
import { CONVERTERS } from '../../formats/onnx/ops/index.ts';
import { loadTflite } from '../../formats/tflite/index.ts';
import { TFLITE_OPS } from '../../formats/tflite/ops/index.ts';
import { BuiltinOp, OptionsType } from '../../formats/tflite/schema.ts';
import { runGraphReference } from '../../reference/run-graph.ts';
import { GraphBuilder } from '../builder.ts';
import { optimizeGraph } from '../passes/index.ts';
import { ACTIVATION_FUNCTIONS, activationFunction, functionActivation, wgslF32 } from './index.ts';
import { TFLITE_ACTIVATION_CASES } from '../../../test/activation-cases.ts';

const INPUT = Float32Array.from({ length: 24 }, (_, i) => (i - 12) * 0.7);

describe('the activation table', () => {
  it('every entry is consistent: defaults per parameter, an ONNX converter under its op name', () => {
    for (const e of ACTIVATION_FUNCTIONS.values()) {
      expect(e.defaults.length, e.name).toBe(e.params.length);
      expect(CONVERTERS[e.onnxOp], e.onnxOp).toBeDefined();
      expect(e.params.length === 0 ? e.wgsl('v', []) : e.wgsl('v', e.defaults.map(wgslF32)), e.name).toContain('v');
    }
  });

  it('WGSL literals are exactly the f32 value', () => {
    expect(wgslF32(0.5)).toBe('0.5f');
    expect(wgslF32(-2)).toBe('(-2f)');
    expect(Number(wgslF32(0.01).slice(0, -1))).toBe(Math.fround(0.01));
    expect(() => wgslF32(Infinity)).toThrow();
    expect(() => activationFunction('sigmoid', [1])).toThrow(/takes 0 parameters/);
    expect(() => activationFunction('no-such-thing')).toThrow(/unknown activation/);
  });

  it('clamps keep their keys and WGSL; a function joins the key and replaces the clamp', () => {
    expect(epilogueKey({ activation: true })).toBe('act');
    expect(epilogueKey({ activation: false })).toBe('noact');
    expect(epilogueFunction({ residual: false, activation: true })).toContain('clamp(v, vec4<f32>(params.actMin), vec4<f32>(params.actMax))');
    const fn = activationFunction('sigmoid');
    expect(epilogueKey({ activation: false, fn })).toBe('noact/sigmoid');
    const code = epilogueFunction({ residual: true, activation: false, fn });
    expect(code).not.toContain('clamp');
    expect(code).toContain('v = 1.0 / (1.0 + exp(-v));');
    expect(elementwiseProgram('activation').key).toBe('elementwise/activation');
    expect(elementwiseProgram('activation', 'f32', fn).key).toBe('elementwise/activation/sigmoid');
  });

  it('kernels the software adapter never picks carry the function too: split-K reduce, split-K linear', () => {
    const fn = activationFunction('leaky-relu', [0.25]);
    const reduce = splitKReduceProgram({ residual: true, activation: false, fn });
    expect(reduce.key).toBe('split-k-reduce/res/noact/leaky-relu(0.25)');
    expect(reduce.code).toContain('v = select(0.25f * v, v, v >= vec4<f32>(0.0));');
    const linear = linearSplitKProgram({ activation: false, fn, pooled: false });
    expect(linear.key).toBe('linear-splitk/noact/leaky-relu(0.25)');
    expect(linear.code).toContain('v = select(0.25f * v, v, v >= vec4<f32>(0.0));');
  });
});

describe('fusion', () => {
  const conv = (b: GraphBuilder, x: number) => b.conv2d(x, { outChannels: 4, kernel: 1, weight: new Float32Array(16).fill(0.1) });

  it('fuses into a conv whose output has one reader and no activation; not after a clamp, not with two readers', () => {
    const b = new GraphBuilder();
    const x = b.input('x', [1, 4, 2, 2]);
    b.output(b.activation(conv(b, x), functionActivation('sigmoid')));
    const fused = optimizeGraph(b.build());
    expect(fused.nodes.map((n) => n.op)).toEqual(['conv2d']);
    expect(fused.nodes[0].op === 'conv2d' && fused.nodes[0].attrs.activation).toMatchObject({ kind: 'function', name: 'sigmoid' });

    const c = new GraphBuilder();
    const y = c.input('x', [1, 4, 2, 2]);
    c.output(c.activation(c.relu(conv(c, y)), functionActivation('sigmoid')));
    expect(optimizeGraph(c.build()).nodes.map((n) => n.op)).toEqual(['conv2d', 'activation']);

    const d = new GraphBuilder();
    const z = conv(d, d.input('x', [1, 4, 2, 2]));
    d.output(d.activation(z, functionActivation('sigmoid')));
    d.output(z);
    expect(optimizeGraph(d.build()).nodes.map((n) => n.op)).toEqual(['conv2d', 'activation']);
  });

  it('a clamp does not fuse after a function', () => {
    const b = new GraphBuilder();
    const x = b.input('x', [1, 4, 2, 2]);
    b.output(b.relu(b.activation(conv(b, x), functionActivation('sigmoid'))));
    expect(optimizeGraph(b.build()).nodes.map((n) => n.op)).toEqual(['conv2d', 'activation']);
  });
});

describe('ONNX converters', () => {
  for (const e of ACTIVATION_FUNCTIONS.values()) {
    it(`${e.onnxOp} (defaults, and every attribute set)`, () => {
      const variants: (readonly number[])[] = [e.defaults, ...(e.params.length ? [e.defaults.map((d) => d * 0.75 + 0.125)] : [])];
      for (const params of variants) {
        const strings = Object.fromEntries(Object.entries(e.onnxStringAttrs ?? {}).map(([k, v]) => [k, attr.string(v)]));
        const attrs = { ...strings, ...Object.fromEntries(e.params.map((p, i) => [p, attr.float(params[i])])) };
        const node = makeNode(e.onnxOp, ['x'], ['y'], params === e.defaults ? strings : attrs);
        const { outputs } = runOnnx(onnxModel({ opset: 20, nodes: [node], inputs: [['x', [2, 3, 4]]], outputs: [['y', null]] }), [INPUT]);
        const p = params.map(Math.fround);
        expect(Array.from(outputs[0])).toEqual(Array.from(INPUT, (v) => Math.fround(e.reference(v, p))));
      }
      for (const [k, v] of Object.entries(e.onnxStringAttrs ?? {})) {
        const other = onnxModel({ opset: 20, nodes: [makeNode(e.onnxOp, ['x'], ['y'], { [k]: attr.string(`not-${v}`) })], inputs: [['x', [2, 3, 4]]], outputs: [['y', null]] });
        expect(() => runOnnx(other, [INPUT])).toThrow(UnsupportedOpError);
      }
    });
  }
});

describe('TFLite converters', () => {
  for (const { code, fn, params, options } of TFLITE_ACTIVATION_CASES) {
    it(`${TFLITE_OPS.has(code) ? '' : 'MISSING '}opcode ${code} -> ${fn}`, () => {
      const w = new TfliteWriter();
      const x = w.input('x', [1, 2, 3, 4]);
      const y = w.activation('y', [1, 2, 3, 4]);
      w.op(code, [x], [y], options);
      w.output(y);
      const model = loadTflite(w.build());
      const act = model.graph.nodes.find((n) => n.op === 'activation');
      expect(act?.op === 'activation' && act.attrs.activation).toEqual(functionActivation(fn, params));
    });
  }
});

describe('TFLite RSQRT', () => {
  it('is the table sqrt, then its reciprocal', () => {
    const w = new TfliteWriter();
    const x = w.input('x', [1, 2, 3, 4]);
    const y = w.activation('y', [1, 2, 3, 4]);
    w.op(BuiltinOp.RSQRT, [x], [y]);
    w.output(y);
    const acts = loadTflite(w.build()).graph.nodes.flatMap((n) => (n.op === 'activation' ? [n.attrs.activation] : []));
    expect(acts).toEqual([functionActivation('sqrt'), functionActivation('reciprocal')]);
  });
});

describe('TFLite PRELU', () => {
  const prelu = (alpha: number[]) => {
    const w = new TfliteWriter();
    const x = w.input('x', [1, 2, 3, 4]);
    const y = w.activation('y', [1, 2, 3, 4]);
    w.op(BuiltinOp.PRELU, [x, w.float32('alpha', [1, 1, 4], alpha)], [y]);
    w.output(y);
    return loadTflite(w.build()).graph.nodes;
  };

  it('a per-channel alpha is a binary prelu node; one alpha value for all is the fusable leaky-relu', () => {
    const perChannel = prelu([0.1, 0.2, 0.3, 0.4]);
    expect(perChannel.map((n) => n.op)).toEqual(['binary']);
    const k = perChannel[0].op === 'binary' ? perChannel[0].attrs.constant : undefined;
    expect(k?.shape).toEqual([1, 4, 1, 1]);
    const uniform = prelu([0.25, 0.25, 0.25, 0.25]);
    expect(uniform.map((n) => n.op === 'activation' && n.attrs.activation)).toEqual([functionActivation('leaky-relu', [0.25])]);
  });
});

describe('TFLite GELU', () => {
  it('the erf form (approximate false) is the exact gelu', () => {
    const w = new TfliteWriter();
    const x = w.input('x', [1, 2, 3, 4]);
    const y = w.activation('y', [1, 2, 3, 4]);
    w.op(BuiltinOp.GELU, [x], [y], { type: OptionsType.GeluOptions, fields: [[0, 'bool', false]] });
    w.output(y);
    const node = loadTflite(w.build()).graph.nodes.find((n) => n.op === 'activation');
    expect(node?.op === 'activation' && node.attrs.activation).toEqual(functionActivation('gelu'));
  });
});

const NODE_TESTS = '/usr/share/libonnx-testdata/data/node';

/** A float `TensorProto` file's values (raw_data or float_data). */
function readTensor(path: string, type: protobuf.Type): Float32Array {
  const t = type.toObject(type.decode(readFileSync(path)), { bytes: Array }) as { raw_data?: number[]; float_data?: number[] };
  if (t.raw_data?.length) return new Float32Array(Uint8Array.from(t.raw_data).buffer);
  return Float32Array.from(t.float_data ?? []);
}

/**
 * The model with its opset raised to 7, the loader's lowest, where it is below: HardSigmoid and Elu (opset 6)
 * and Softplus (opset 1) have not changed meaning since (later versions only add types).
 */
function atLeastOpset7(bytes: Uint8Array): Uint8Array {
  const type = modelProtoType();
  const model = type.toObject(type.decode(bytes), { longs: Number }) as { opset_import: { version: number }[] };
  if (model.opset_import.every((o) => o.version >= 7)) return bytes;
  model.opset_import = model.opset_import.map((o) => ({ ...o, version: Math.max(7, o.version) }));
  return encodeModelProto(model);
}

describe.skipIf(!existsSync(NODE_TESTS))('ONNX backend node tests (libonnx-testdata)', () => {
  const tensorType = protobuf.parse(ONNX_SCHEMA, { keepCase: true }).root.lookupType('onnx.TensorProto');
  const dirs = readdirSync(existsSync(NODE_TESTS) ? NODE_TESTS : '.');
  for (const e of ACTIVATION_FUNCTIONS.values()) {
    // `test_exp` and `test_exp_example`, not `test_expand`.
    const stem = `test_${e.onnxOp.toLowerCase()}`;
    const tests = dirs.filter((d) => (d === stem || d.startsWith(`${stem}_`)) && !d.endsWith('_expanded'));
    it(`${e.onnxOp}: ${tests.join(', ') || 'no node tests'}`, () => {
      for (const t of tests) {
        const dir = `${NODE_TESTS}/${t}`;
        const x = readTensor(`${dir}/test_data_set_0/input_0.pb`, tensorType);
        const want = readTensor(`${dir}/test_data_set_0/output_0.pb`, tensorType);
        const { outputs } = runOnnx(atLeastOpset7(new Uint8Array(readFileSync(`${dir}/model.onnx`))), [x]);
        const scale = want.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
        outputs[0].forEach((v, i) => expect(Math.abs(v - want[i]), `${t}[${i}]`).toBeLessThanOrEqual(1e-5 * scale + 1e-6));
      }
    });
  }
});
