/**
 * `binary` nodes below the frontends: the op table's CPU rules, the reference's broadcasting and clamp, builder
 * and validation checks, activation fusion into a binary node, lowering (constant buffers, program keys) and
 * every binary program's WGSL under Dawn at every storage precision.
 */
import { describe, expect, it } from 'vitest';
import { binaryFamily, packBinaryConstant } from '../../shaders/binary/index.ts';
import { binaryProgram } from '../../shaders/binary/wgsl.ts';
import type { OperandMode } from '../../shaders/binary/wgsl.ts';
import { STORAGE_PRECISIONS } from '../../shaders/common.ts';
import { tintFailures } from '../../test/tint-check.ts';
import { GraphError, ShapeError } from '../errors.ts';
import { binary, runGraphReference } from '../reference/index.ts';
import { nodeView } from '../runtime/kernel-table.ts';
import { lowerGraph } from '../runtime/lowering.ts';
import { BINARY_OPS, BINARY_OP_NAMES } from './binary-ops.ts';
import { GraphBuilder } from './builder.ts';
import type { BinaryNode, Graph, GraphNode } from './ir.ts';
import { NO_ACTIVATION, RELU, RELU6 } from './ir.ts';
import { optimizeGraph } from './passes/index.ts';
import { validateGraph } from './validate.ts';

const f = (...v: number[]) => Float32Array.from(v);

describe('the binary op table', () => {
  it('computes each op as NumPy does, integer powers of negative bases and NaN included', () => {
    const rule = (op: keyof typeof BINARY_OPS) => BINARY_OPS[op].reference;
    expect([rule('add')(2, 3), rule('sub')(2, 3), rule('mul')(2, 3), rule('div')(3, 2)]).toEqual([5, -1, 6, 1.5]);
    expect([rule('pow')(-2, 3), rule('pow')(-2, 2), rule('pow')(4, 0.5), rule('pow')(0, 0), rule('pow')(-8, 1 / 3)]).toEqual([-8, 4, 2, 1, NaN]);
    expect([rule('min')(1, -1), rule('max')(1, -1), rule('squaredDifference')(1, 4)]).toEqual([-1, 1, 9]);
    expect([rule('min')(NaN, 1), rule('max')(1, NaN)]).toEqual([NaN, NaN]);
    expect([rule('prelu')(-2, 0.25), rule('prelu')(3, 0.25), rule('prelu')(0, 5)]).toEqual([-0.5, 3, 0]);
    expect(BINARY_OP_NAMES).toEqual(['add', 'sub', 'mul', 'div', 'pow', 'min', 'max', 'squaredDifference', 'prelu']);
  });
});

describe('reference binary', () => {
  it('broadcasts per channel and per (n, c), clamps after the op', () => {
    const a = f(1, 2, 3, 4, 5, 6, 7, 8); // [2, 2, 1, 2]
    const perChannel = binary('sub', a, [2, 2, 1, 2], f(1, 10), [1, 2, 1, 1], NO_ACTIVATION);
    expect(Array.from(perChannel.data)).toEqual([0, 1, -7, -6, 4, 5, -3, -2]);
    expect(perChannel.shape).toEqual([2, 2, 1, 2]);
    const perNc = binary('mul', a, [2, 2, 1, 2], f(1, -1, 2, 0.5), [2, 2, 1, 1], RELU);
    expect(Array.from(perNc.data)).toEqual([1, 2, 0, 0, 10, 12, 3.5, 4]);
    const mixed = binary('max', f(0, 5), [1, 1, 1, 2], f(1, 2, 3), [1, 1, 3, 1], RELU6);
    expect(mixed.shape).toEqual([1, 1, 3, 2]);
    expect(Array.from(mixed.data)).toEqual([1, 5, 2, 5, 3, 5]);
  });

  it('rounds to f32 once, after the op', () => {
    expect(binary('squaredDifference', f(0.1), [1, 1, 1, 1], f(0.3), [1, 1, 1, 1], NO_ACTIVATION).data[0]).toBe(Math.fround(Math.fround(0.1 - Math.fround(0.3)) ** 2));
  });

  it('refuses operands that do not broadcast or do not match their shapes', () => {
    expect(() => binary('add', f(1, 2), [1, 2, 1, 1], f(1, 2, 3), [1, 3, 1, 1], NO_ACTIVATION)).toThrow(ShapeError);
    expect(() => binary('add', f(1, 2), [1, 3, 1, 1], f(1), [1, 1, 1, 1], NO_ACTIVATION, 'n')).toThrow(/n: first operand has 2 values, expected 3/);
  });
});

function seGraph(): Graph {
  const b = new GraphBuilder();
  const x = b.input('x', [2, 6, 3, 3]);
  const gate = b.input('gate', [2, 6, 1, 1]);
  const scaled = b.binary('mul', x, gate, 'scale');
  const shifted = b.binary('sub', { shape: [1, 6, 1, 3], values: new Float32Array(18).fill(0.5) }, scaled, 'shift');
  b.output(b.relu6(shifted, 'clamp'));
  return b.build();
}

describe('builder, validation and passes', () => {
  it('builds a constant in either place and infers the broadcast shape', () => {
    const g = seGraph();
    validateGraph(g);
    const shift = g.nodes[1] as BinaryNode;
    expect(shift.inputs).toHaveLength(1);
    expect(shift.attrs.constant?.operand).toBe(0);
    expect(g.tensors[shift.output].shape).toEqual([2, 6, 3, 3]);
    const b = new GraphBuilder();
    const x = b.input('x', [1, 3, 2, 2]);
    expect(() => b.binary('add', x, b.input('y', [1, 4, 2, 2]), 'bad')).toThrow(/bad: add operands differ in shape/);
    expect(() => b.binary('add', x, { shape: [1, 3, 1, 1], values: f(1, 2) }, 'short')).toThrow(/short: constant operand has 2 values/);
    expect(() => b.binary('add', { shape: [1, 1, 1, 1], values: f(1) }, { shape: [1, 1, 1, 1], values: f(1) }, 'two')).toThrow(GraphError);
  });

  it('validation names bad binary nodes', () => {
    const g = seGraph();
    const patch = (k: number, p: Partial<BinaryNode> | { attrs: unknown }): Graph => ({
      ...g,
      nodes: g.nodes.map((n, i) => (i === k ? ({ ...n, ...p } as GraphNode) : n)),
    });
    const shift = g.nodes[1] as BinaryNode;
    expect(() => validateGraph(patch(1, { inputs: [shift.inputs[0], shift.inputs[0]] }))).toThrow(/two tensors, or one tensor and a constant/);
    expect(() => validateGraph(patch(1, { attrs: { ...shift.attrs, constant: { ...shift.attrs.constant!, values: f(1) } } }))).toThrow(/constant operand is not/);
    expect(() => validateGraph(patch(1, { attrs: { ...shift.attrs, op: 'atan2' } }))).toThrow(/unknown binary op 'atan2'/);
    expect(() => validateGraph(patch(0, { inputs: [g.inputs[0]] }))).toThrow(/two tensors, or one tensor and a constant/);
  });

  it('a following clamp fuses into the binary node', () => {
    const g = optimizeGraph(seGraph());
    expect(g.nodes.map((n) => n.op)).toEqual(['binary', 'binary']);
    expect((g.nodes[1] as BinaryNode).attrs.activation).toEqual(RELU6);
    const inputs = [new Float32Array(108).map((_, i) => Math.sin(i) * 9), new Float32Array(12).map((_, i) => i - 5)];
    expect(runGraphReference(g, inputs)).toEqual(runGraphReference(seGraph(), inputs));
  });
});

describe('lowering and kernels', () => {
  it('binds a constant operand as an f32 NHWC4 buffer and picks each operand mode', () => {
    const g = optimizeGraph(seGraph());
    const steps = lowerGraph(g).filter((s) => s.kind === 'elementwise');
    expect(steps.map((s) => s.program.key)).toEqual(['binary/mul/same-broadcast', 'binary/sub/constant-same']);
    const k = steps[1].buffers.lhs;
    expect(k.kind).toBe('constant');
    // Six channels of the first pixel, then the two padding lanes.
    expect(k.kind === 'constant' && Array.from(k.data as Float32Array).slice(0, 8)).toEqual([0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0, 0]);
    const view = nodeView(g, g.nodes[1]);
    expect(binaryFamily.supports(view)).toBe(true);
  });

  it('packs a constant NCHW -> NHWC4 with zero padding lanes', () => {
    const packed = packBinaryConstant({ operand: 1, shape: [1, 5, 1, 2], values: f(0, 1, 2, 3, 4, 5, 6, 7, 8, 9) });
    expect(Array.from(packed)).toEqual([0, 2, 4, 6, 8, 0, 0, 0, 1, 3, 5, 7, 9, 0, 0, 0]);
  });

  it('every op and operand mode compiles under Dawn at every storage precision', async (ctx) => {
    const modes: [OperandMode, OperandMode][] = [['same', 'same'], ['broadcast', 'constant'], ['constant', 'broadcast']];
    const programs = BINARY_OP_NAMES.flatMap((op) =>
      modes.flatMap(([a, b]) => STORAGE_PRECISIONS.map((p) => ({ name: `${op} ${a}-${b} ${p}`, make: () => binaryProgram({ op, a, b }, p) }))),
    );
    const failures = await tintFailures(programs);
    if (failures === null) return ctx.skip();
    expect(failures).toEqual([]);
  }, 120_000);
});
