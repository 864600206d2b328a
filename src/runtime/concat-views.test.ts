/** Concat in place: which concat inputs become views, the launches they save, and the slots the plan gives them. */
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../graph/builder.ts';
import { planMemory } from '../graph/memory-plan.ts';
import { RELU } from '../graph/ir.ts';
import { channelViewsOf, isAliasNode, lowerGraph, storageBytes } from './lowering.ts';
import { DEFAULT_KERNEL_CHOICE } from './kernel-choice.ts';
import { viewProgram } from './concat-views.ts';
import { programVariety } from '../bench/pipeline-variety.ts';

const conv = (b: GraphBuilder, x: number, outC: number) =>
  b.conv2d(x, { outChannels: outC, kernel: 1, weight: new Float32Array(outC * b.shape(x)[1]).fill(0.1), bias: null, activation: RELU });

function inception(parts: readonly number[], extraReader?: 'relu' | 'flatten') {
  const b = new GraphBuilder();
  const x = b.input('x', [2, 3, 4, 4]);
  const ys = parts.map((p) => conv(b, x, p));
  const cat = b.concat(ys);
  b.output(conv(b, cat, 5));
  if (extraReader === 'relu') b.output(b.relu(ys[0]));
  if (extraReader === 'flatten') b.output(b.flatten(ys[0]));
  return { graph: b.build(), ys, cat };
}

describe('concat in place', () => {
  it('aligned producers become views of the concat, which then has no launch', () => {
    const { graph, ys, cat } = inception([8, 4, 7]);
    const views = channelViewsOf(graph, DEFAULT_KERNEL_CHOICE).concat;
    expect([...views.keys()]).toEqual(ys);
    expect(ys.map((id) => views.get(id)?.c4Offset)).toEqual([0, 2, 3]);
    expect(views.get(ys[2])).toMatchObject({ root: cat, ownC4: 2, rootC4: 5 });
    const inPlace = lowerGraph(graph, DEFAULT_KERNEL_CHOICE);
    const copy = lowerGraph(graph, { ...DEFAULT_KERNEL_CHOICE, concatInPlace: false });
    expect(copy.length - inPlace.length).toBe(3);
    expect(inPlace.filter((s) => s.program.key.endsWith('/view')).map((s) => s.node)).toEqual(ys);
  });

  it('a misaligned offset, a second reader that cannot load through a remap or a graph input keeps the copy', () => {
    expect(channelViewsOf(inception([6, 4]).graph, DEFAULT_KERNEL_CHOICE).concat.size).toBe(0);
    expect(channelViewsOf(inception([8, 4], 'flatten').graph, DEFAULT_KERNEL_CHOICE).concat.size).toBe(0);
    const relu = inception([8, 4], 'relu');
    expect([...channelViewsOf(relu.graph, DEFAULT_KERNEL_CHOICE).reads.keys()]).toEqual([relu.ys[0]]);
    const b = new GraphBuilder();
    const x = b.input('x', [1, 4, 2, 2]);
    b.output(b.concat([x, conv(b, x, 4)]));
    expect(channelViewsOf(b.build(), DEFAULT_KERNEL_CHOICE).concat.size).toBe(0);
  });

  it('views share the concat slot, allocated before the first of them is written and alive until the concat is read', () => {
    const { graph, ys, cat } = inception([4, 4]);
    const views = channelViewsOf(graph, DEFAULT_KERNEL_CHOICE).concat;
    const plan = planMemory(graph, {
      bytesOf: (id) => storageBytes(graph.tensors[id].shape),
      isAlias: (node) => isAliasNode(graph, node),
      viewRoot: (id) => views.get(id)?.root,
    });
    const slot = plan.slotOf.get(cat);
    expect(ys.map((id) => plan.slotOf.get(id))).toEqual([slot, slot]);
    expect(plan.slotOf.get(graph.inputs[0])).not.toBe(slot);
    expect(plan.slotBytes[slot!]).toBe(storageBytes(graph.tensors[cat].shape));
  });

  it('the view program remaps store_dst only, through uniforms', () => {
    const [step] = lowerGraph(inception([4, 4]).graph, { ...DEFAULT_KERNEL_CHOICE, concatInPlace: false }).filter((s) => s.kind !== 'layout');
    const p = viewProgram(step.program);
    expect(p.key).toBe(`${step.program.key}/view`);
    expect(p.code).toContain('let i = (i_own / params.dstViewOwnC4) * params.dstViewRootC4 + params.dstViewOffset + i_own % params.dstViewOwnC4;');
    expect(p.uniforms.slice(-3).map((f) => f.name)).toEqual(['dstViewOwnC4', 'dstViewRootC4', 'dstViewOffset']);
    const rest = (code: string) => code.replace(/fn store_dst[^]*?\n}/, '').replace(/struct Params \{[^}]*\}/, '');
    expect(rest(p.code)).toBe(rest(step.program.code));
  });

  it('views at different offsets share one program; their places are uniforms', () => {
    const { graph, ys } = inception([8, 8, 8]);
    const steps = lowerGraph(graph, DEFAULT_KERNEL_CHOICE).filter((s) => ys.includes(s.node!));
    expect(new Set(steps.map((s) => s.program.key)).size).toBe(1);
    expect(new Set(steps.map((s) => s.program.code)).size).toBe(1);
    expect(steps.map((s) => s.uniforms.dstViewOffset)).toEqual([0, 2, 4]);
    expect(steps.map((s) => [s.uniforms.dstViewOwnC4, s.uniforms.dstViewRootC4])).toEqual([[2, 6], [2, 6], [2, 6]]);
  });

  it('aligned slices are read in place (no launch; readers load through a remap); others and graph outputs copy', () => {
    const split = (parts: readonly [number, number], outputSlice = false) => {
      const b = new GraphBuilder();
      const x = b.input('x', [2, 3, 4, 4]);
      const y = conv(b, x, parts[0] + parts[1]);
      const s0 = b.sliceChannels(y, 0, parts[0]);
      const s1 = b.sliceChannels(y, parts[0], parts[1]);
      b.output(b.concat([s0, conv(b, s1, 4)]));
      if (outputSlice) b.output(s1);
      return { graph: b.build(), s0, s1, y };
    };
    const { graph, s0, s1, y } = split([8, 5]);
    const { slice } = channelViewsOf(graph, DEFAULT_KERNEL_CHOICE);
    expect(slice.get(s0)).toEqual({ root: y, c4Offset: 0, ownC4: 2, rootC4: 4 });
    expect(slice.get(s1)).toEqual({ root: y, c4Offset: 2, ownC4: 2, rootC4: 4 });
    const inPlace = lowerGraph(graph, DEFAULT_KERNEL_CHOICE);
    expect(lowerGraph(graph, { ...DEFAULT_KERNEL_CHOICE, concatInPlace: false }).length - inPlace.length).toBe(2);
    expect(inPlace.filter((s) => /\/slice-(src|x)/.test(s.program.key)).length).toBe(2);
    expect(channelViewsOf(split([6, 7]).graph, DEFAULT_KERNEL_CHOICE).slice.size).toBe(0);
    const withOutput = split([8, 5], true);
    expect([...channelViewsOf(withOutput.graph, DEFAULT_KERNEL_CHOICE).slice.keys()]).toEqual([withOutput.s0]);
  });

  it("DenseNet's block: every concat a prefix of the last, the stem also read directly; all read from one buffer", () => {
    const b = new GraphBuilder();
    const stem = b.maxPool(b.input('x', [1, 4, 6, 6]), { kernel: 2 });
    const features = [stem];
    for (let i = 0; i < 3; i++) features.push(conv(b, features.length === 1 ? stem : b.concat(features), 4));
    const last = b.concat(features);
    b.output(conv(b, last, 2));
    const graph = b.build();
    const { concat, slice, reads } = channelViewsOf(graph, DEFAULT_KERNEL_CHOICE);
    expect([...concat.keys()]).toEqual(features);
    expect([...concat.values()].every((v) => v.root === last)).toBe(true);
    // The two shorter concats are prefix views, the stem is also read in place by the first layer.
    expect(slice.size).toBe(2);
    expect([...slice.values()].map((v) => v.ownC4)).toEqual([2, 3]);
    expect(reads.get(stem)).toEqual({ root: last, c4Offset: 0, ownC4: 1, rootC4: 4 });
    const inPlace = lowerGraph(graph, DEFAULT_KERNEL_CHOICE);
    expect(inPlace.filter((s) => s.node !== undefined && graph.nodes.find((n) => n.output === s.node)?.op === 'concat')).toEqual([]);
    expect(lowerGraph(graph, { ...DEFAULT_KERNEL_CHOICE, concatInPlace: false }).length - inPlace.length).toBe(2 + 3 + 4);
  });

  it("DenseNet's layers share pipelines: each writes at its own offset and reads its own prefix, all as uniforms", () => {
    const b = new GraphBuilder();
    const stem = b.maxPool(b.input('x', [1, 4, 6, 6]), { kernel: 2 });
    const features = [stem];
    for (let i = 0; i < 5; i++) features.push(conv(b, b.concat(features), 4));
    b.output(conv(b, b.concat(features), 2));
    const steps = lowerGraph(b.build(), DEFAULT_KERNEL_CHOICE);
    // The five layers: each reads a prefix of a different length and writes at a different offset.
    const layers = steps.filter((s) => features.slice(1).includes(s.node!));
    expect(layers.map((s) => s.uniforms.dstViewOffset)).toEqual([1, 2, 3, 4, 5]);
    // The first reads the stem, which is also a concat input, through the same remap.
    expect(layers.map((s) => s.uniforms.srcViewOwnC4)).toEqual([1, 2, 3, 4, 5]);
    expect(new Set(layers.map((s) => s.program.key)).size).toBe(1);
    // Programs in all: pack, the stem's pool, the five layers, the last conv, unpack.
    expect(programVariety(steps.map((s) => s.program)).sources).toBe(5);
  });
});
