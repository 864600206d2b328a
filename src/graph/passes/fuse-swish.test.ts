import { describe, expect, it } from 'vitest';
import { attr, makeNode, makeTensor } from '../../formats/onnx/index.ts';
import { loadTflite } from '../../formats/tflite/index.ts';
import { BuiltinOp, OptionsType } from '../../formats/tflite/schema.ts';
import { runGraphReference } from '../../reference/run-graph.ts';
import { Rng } from '../../util/random.ts';
import { onnxModel, runOnnx } from '../../../test/onnx-helpers.ts';
import { TfliteWriter, options } from '../../../test/helpers/tflite-writer.ts';
import { functionActivation } from '../activations/index.ts';
import { GraphBuilder } from '../builder.ts';
import type { Activation, Conv2dNode, Graph, TensorId } from '../ir.ts';
import { NO_ACTIVATION, RELU, elementCount } from '../ir.ts';
import { validateGraph } from '../validate.ts';
import { fuseSwish } from './fuse-swish.ts';
import { optimizeGraph } from './index.ts';

const SIGMOID = functionActivation('sigmoid');
const HARD_SIGMOID = functionActivation('hard-sigmoid', [1 / 6, 0.5]);
const SILU = functionActivation('silu', [1]);
const HARD_SWISH = functionActivation('hard-swish');
const convs = (g: Graph): Conv2dNode[] => g.nodes.filter((n): n is Conv2dNode => n.op === 'conv2d');

function conv(b: GraphBuilder, rng: Rng, x: TensorId, outC: number, o: { kernel?: number; groups?: number; activation?: Activation; name?: string } = {}): TensorId {
  const inC = b.shape(x)[1];
  const k = o.kernel ?? 1;
  const groups = o.groups ?? 1;
  const weight = rng.fill((outC * inC * k * k) / groups, -0.5, 0.5);
  return b.conv2d(x, { outChannels: outC, kernel: k, padding: (k - 1) / 2, groups, weight, bias: rng.fill(outC, -0.2, 0.2), activation: o.activation ?? NO_ACTIVATION }, o.name);
}

interface SwishOptions {
  gate?: Activation;
  gateFirst?: boolean;
  /** The gate is also a graph output, or read by another node. */
  gateOutput?: boolean;
  gateShared?: boolean;
  /** The mul reads another tensor than the gate's input. */
  otherOperand?: boolean;
}

/** x -> 3x3 conv -> `x * f(x)` -> 1x1 conv. */
function swishBlock(o: SwishOptions = {}): Graph {
  const rng = new Rng(5);
  const b = new GraphBuilder();
  const x = b.input('x', [2, 6, 5, 4]);
  const c = conv(b, rng, x, 8, { kernel: 3, name: 'stem' });
  const g = b.activation(c, o.gate ?? SIGMOID, 'gate');
  const other = o.otherOperand ? conv(b, rng, x, 8, { name: 'other' }) : c;
  const y = o.gateFirst ? b.binary('mul', g, other, 'swish') : b.binary('mul', other, g, 'swish');
  b.output(conv(b, rng, y, 4, { name: 'head' }));
  if (o.gateOutput) b.output(g);
  if (o.gateShared) b.output(b.relu(g));
  return b.build();
}

function inputsOf(g: Graph): Float32Array[] {
  const rng = new Rng(11);
  return g.inputs.map((id) => rng.fill(elementCount(g.tensors[id].shape), -3, 3));
}

/** The optimised graph computes, on the CPU reference, what the unoptimised one does. */
function expectSameOutputs(raw: Graph, fused: Graph): void {
  const inputs = inputsOf(raw);
  const want = runGraphReference(raw, inputs);
  const got = runGraphReference(fused, inputs);
  got.forEach((out, i) => out.forEach((v, k) => expect(v).toBeCloseTo(want[i][k], 5)));
}

describe('fuseSwish', () => {
  for (const [gate, want] of [[SIGMOID, SILU], [HARD_SIGMOID, HARD_SWISH]] as const) {
    for (const gateFirst of [false, true]) {
      it(`mul(x, ${gate.name}(x)) becomes ${want.name} in the conv epilogue (gate operand ${gateFirst ? 'first' : 'second'})`, () => {
        const raw = swishBlock({ gate, gateFirst });
        const g = optimizeGraph(raw);
        validateGraph(g);
        expect(g.nodes.map((n) => n.op)).toEqual(['conv2d', 'conv2d']);
        const stem = convs(g).find((n) => n.name === 'stem')!;
        expect(stem.attrs.activation).toEqual(want);
        expectSameOutputs(raw, g);
      });
    }
  }

  it('the rewrite alone keeps the mul node name and output tensor', () => {
    const raw = swishBlock();
    const g = fuseSwish(raw);
    const act = g.nodes.find((n) => n.name === 'swish')!;
    expect(act.op).toBe('activation');
    expect(act.op === 'activation' && act.attrs.activation).toEqual(SILU);
    expect(act.output).toBe(raw.nodes.find((n) => n.name === 'swish')!.output);
    expect(g.nodes.some((n) => n.name === 'gate')).toBe(false);
    expectSameOutputs(raw, g);
  });

  const unchanged: [string, SwishOptions][] = [
    ['hard-sigmoid at ONNX defaults (alpha 0.2)', { gate: functionActivation('hard-sigmoid', [0.2, 0.5]) }],
    ['hard-sigmoid with beta 0.25', { gate: functionActivation('hard-sigmoid', [1 / 6, 0.25]) }],
    ['tanh', { gate: functionActivation('tanh') }],
    ['a gate that is a graph output', { gateOutput: true }],
    ['a gate with another reader', { gateShared: true }],
    ['a mul of another tensor by the gate', { otherOperand: true }],
  ];
  for (const [what, o] of unchanged) {
    it(`leaves ${what} alone`, () => {
      const raw = swishBlock(o);
      expect(fuseSwish(raw)).toBe(raw);
      expectSameOutputs(raw, optimizeGraph(raw));
    });
  }

  it('leaves a broadcasting mul and a mul with a clamp alone', () => {
    const rng = new Rng(2);
    const b = new GraphBuilder();
    const x = b.input('x', [1, 4, 3, 3]);
    const p = conv(b, rng, b.globalAvgPool(x), 4);
    b.output(b.binary('mul', p, b.activation(p, SIGMOID)));
    const c = conv(b, rng, x, 4);
    b.output(b.binary('mul', c, b.activation(c, SIGMOID), 'clamped', RELU));
    const raw = b.build();
    // The first is same-shaped at [1, 4, 1, 1] and fires; the second has an activation of its own.
    const g = fuseSwish(raw);
    expect(g.nodes.filter((n) => n.op === 'binary').map((n) => n.name)).toEqual(['clamped']);
    expectSameOutputs(raw, g);
  });

  it("leaves squeeze-and-excitation's broadcast gate to fuseInputTransforms, around swish activations (EfficientNet's MBConv)", () => {
    const rng = new Rng(7);
    const b = new GraphBuilder();
    const x = b.input('x', [2, 8, 5, 4]);
    const swish = (t: TensorId): TensorId => b.binary('mul', t, b.activation(t, SIGMOID));
    const expand = swish(conv(b, rng, x, 16, { name: 'expand' }));
    const dw = swish(conv(b, rng, expand, 16, { kernel: 3, groups: 16, name: 'dw' }));
    const squeeze = swish(conv(b, rng, b.globalAvgPool(dw), 4, { name: 'squeeze' }));
    const gate = conv(b, rng, squeeze, 16, { activation: SIGMOID, name: 'excite' });
    const project = conv(b, rng, b.binary('mul', dw, gate, 'se.mul'), 8, { name: 'project' });
    b.output(b.add(project, x, 'residual'));
    const raw = b.build();
    const g = optimizeGraph(raw);
    validateGraph(g);
    expect(g.nodes.some((n) => n.op === 'binary' || n.op === 'activation')).toBe(false);
    // The squeeze conv reads a global average pool, so it runs as a linear layer over the pooled input.
    expect(g.nodes.map((n) => `${n.op}:${n.name}`)).toEqual(['conv2d:expand', 'conv2d:dw', 'linear:squeeze', 'conv2d:excite', 'conv2d:project']);
    for (const n of g.nodes.slice(0, 3)) expect(n.op !== 'reshape' && 'activation' in n.attrs && n.attrs.activation, n.name).toEqual(SILU);
    expect(convs(g).find((n) => n.name === 'project')!.attrs.input).toEqual({ kind: 'channelScale' });
    expectSameOutputs(raw, g);
  });
});

describe('swish from the formats', () => {
  it('ONNX Conv -> Sigmoid -> Mul loads into one conv with SiLU, and HardSigmoid(1/6, 0.5) -> Mul into hard-swish', () => {
    const rng = new Rng(3);
    const x = rng.fill(2 * 3 * 4 * 4, -2, 2);
    const w = makeTensor('w', [5, 3, 3, 3], rng.fill(5 * 27, -0.5, 0.5));
    for (const [gate, want] of [[makeNode('Sigmoid', ['c'], ['s']), SILU], [makeNode('HardSigmoid', ['c'], ['s'], { alpha: attr.float(1 / 6), beta: attr.float(0.5) }), HARD_SWISH]] as const) {
      const bytes = onnxModel({
        opset: 13,
        nodes: [makeNode('Conv', ['x', 'w'], ['c'], { pads: attr.ints([1, 1, 1, 1]) }), gate, makeNode('Mul', ['c', 's'], ['y'])],
        inputs: [['x', [2, 3, 4, 4]]],
        outputs: [['y', null]],
        initializers: [w],
      });
      const { model, outputs } = runOnnx(bytes, [x]);
      const g = optimizeGraph(model.graph);
      expect(g.nodes.map((n) => n.op)).toEqual(['conv2d']);
      expect(convs(g)[0].attrs.activation).toEqual(want);
      const fused = runGraphReference(g, [x])[0];
      fused.forEach((v, k) => expect(v).toBeCloseTo(outputs[0][k], 5));
    }
  });

  it('TFLite LOGISTIC -> MUL lowers to the same pattern and becomes SiLU', () => {
    const w = new TfliteWriter();
    const x = w.input('x', [1, 3, 4, 2]);
    const s = w.activation('s', [1, 3, 4, 2]);
    const y = w.activation('y', [1, 3, 4, 2]);
    w.op(BuiltinOp.LOGISTIC, [x], [s]);
    w.op(BuiltinOp.MUL, [x, s], [y], options.empty(OptionsType.MulOptions));
    w.output(y);
    const model = loadTflite(w.build());
    const g = optimizeGraph(model.graph);
    const act = g.nodes.filter((n) => n.op === 'activation');
    expect(act.map((n) => n.op === 'activation' && n.attrs.activation)).toEqual([SILU]);
    expectSameOutputs(model.graph, g);
  });
});
