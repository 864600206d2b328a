import { describe, expect, it } from 'vitest';
import { projectItems, workgroupBytes, WORKGROUP_BYTES } from '../../shaders/inverted-residual/wgsl.ts';
import { blockVariant } from '../../shaders/inverted-residual/index.ts';
import { FUSED_BLOCK_SHAPES, FUSED_SE_CASES, FUSED_SE_POOLED_SHAPE, FUSED_SE_SHAPE } from '../../test/inverted-residual-cases.ts';
import { buildCase } from '../../test/gpu-cases.ts';
import { inferenceBytes } from '../bench/figures.ts';
import { UnsupportedFeatureError } from '../errors.ts';
import { GraphBuilder } from '../graph/builder.ts';
import type { Graph } from '../graph/ir.ts';
import { RELU6 } from '../graph/ir.ts';
import { planMemory } from '../graph/memory-plan.ts';
import { optimizeGraph } from '../graph/passes/index.ts';
import { mobilenetV2, randomParams } from '../models/index.ts';
import { Rng } from '../util/random.ts';
import { collapseBlocks, findInvertedResidualBlocks, innerTensors } from './inverted-residual.ts';
import type { KernelChoice } from './kernel-choice.ts';
import { DEFAULT_KERNEL_CHOICE, optimizeForKernels } from './kernel-choice.ts';
import { checkKernelChoice } from './kernel-table.ts';
import { fusedBlocksIn, isAliasNode, lowerGraph, storageBytes } from './lowering.ts';
import type { BufferRef, Step } from './step.ts';

const FUSED: KernelChoice = { ...DEFAULT_KERNEL_CHOICE, invertedResidual: 'fused' };
/** The constant buffers compile.ts makes for `steps`: one per distinct ref, and their bytes. */
function constantBuffers(steps: readonly Step[]): { refs: Set<BufferRef>; bytes: number } {
  const refs = new Set<BufferRef>();
  for (const s of steps) for (const r of Object.values(s.buffers)) if (r.kind === 'constant') refs.add(r);
  return { refs, bytes: [...refs].reduce((a, r) => a + (r.kind === 'constant' ? r.byteLength : 0), 0) };
}

const mobilenet = () => optimizeGraph(mobilenetV2({ params: randomParams(1), inputSize: 64, batch: 1, numClasses: 10 }));

/** expand 1x1 -> depthwise 3x3 -> project 1x1, with `extra` reading the hidden map if asked. */
function chain(extra: 'none' | 'second reader' | 'output'): Graph {
  const rng = new Rng(3);
  const b = new GraphBuilder();
  const x = b.input('x', [1, 8, 6, 6]);
  const conv = (t: number, outC: number, kernel: number, groups: number, inC: number) =>
    b.conv2d(t, { outChannels: outC, kernel, stride: 1, padding: (kernel - 1) / 2, dilation: 1, groups, weight: rng.fill(outC * (inC / groups) * kernel * kernel, -1, 1), bias: rng.fill(outC, -1, 1) });
  const e = b.activation(conv(x, 24, 1, 1, 8), RELU6);
  const d = b.activation(conv(e, 24, 3, 24, 24), RELU6);
  const p = conv(d, 8, 1, 1, 24);
  b.output(b.add(x, p));
  if (extra === 'second reader') b.output(b.globalAvgPool(e));
  if (extra === 'output') b.output(d);
  return optimizeGraph(b.build());
}

describe('findInvertedResidualBlocks', () => {
  it('finds MobileNetV2\'s 17 blocks, the first without expand, 10 with a residual', () => {
    const blocks = findInvertedResidualBlocks(mobilenet());
    expect(blocks).toHaveLength(17);
    expect(blocks[0].expand).toBeNull();
    expect(blocks.slice(1).every((b) => b.expand !== null)).toBe(true);
    expect(blocks.filter((b) => b.project.inputs.length === 2)).toHaveLength(10);
    expect(blocks.filter((b) => b.depthwise.attrs.stride[0] === 2)).toHaveLength(4);
  });

  it('takes a chain whose hidden maps are private; not one whose hidden map has another reader or is an output', () => {
    const [own] = findInvertedResidualBlocks(chain('none'));
    expect(own.expand).not.toBeNull();
    expect(own.hidShape).toEqual([1, 24, 6, 6]);
    // The expand's output has a second reader: its depthwise and project fuse without it (input = hidden map).
    const shared = findInvertedResidualBlocks(chain('second reader'));
    expect(shared).toHaveLength(1);
    expect(shared[0].expand).toBeNull();
    expect(findInvertedResidualBlocks(chain('output'))).toHaveLength(0);
  });

  it('every GPU case shape makes one block the kernel takes', () => {
    for (const [name, c] of [...FUSED_BLOCK_SHAPES, FUSED_SE_SHAPE, FUSED_SE_POOLED_SHAPE]) {
      const blocks = findInvertedResidualBlocks(optimizeGraph(buildCase(c).graph));
      expect(blocks, name).toHaveLength(1);
      expect(blockVariant(blocks[0]), name).not.toBeNull();
    }
  });
});

describe('squeeze-and-excitation blocks', () => {
  const seCase = FUSED_SE_SHAPE[1];
  const [, pooledCase] = FUSED_SE_POOLED_SHAPE;

  it('finds the gate with the pool as its own node and with the pool fused into fc1', () => {
    const [own] = findInvertedResidualBlocks(optimizeGraph(buildCase(seCase).graph, { fusePoolLinear: false }));
    expect(own.se?.pool?.op).toBe('globalAvgPool');
    expect(own.se?.fc1.op).toBe('conv2d');
    expect(own.se?.squeezeC).toBe(10);
    expect(own.expand).not.toBeNull();
    const [pooled] = findInvertedResidualBlocks(optimizeGraph(buildCase(pooledCase).graph, { fusePoolLinear: true }));
    expect(pooled.se?.pool).toBeNull();
    expect(pooled.se?.fc1.op === 'linear' && pooled.se.fc1.attrs.poolInput).toBe(true);
    expect(pooled.expand).toBeNull();
    expect(pooled.project.inputs).toHaveLength(3);
  });

  it('leaves a gate out when its pool or its gate has another reader', () => {
    const graph = optimizeGraph(buildCase(seCase).graph, { fusePoolLinear: false });
    const [block] = findInvertedResidualBlocks(graph);
    const withOutput = (id: number): Graph => ({ ...graph, outputs: [...graph.outputs, id] });
    expect(findInvertedResidualBlocks(withOutput(block.se!.pool!.output))).toHaveLength(0);
    expect(findInvertedResidualBlocks(withOutput(block.se!.fc2.output))).toHaveLength(0);
    expect(findInvertedResidualBlocks(withOutput(block.depthwise.output))).toHaveLength(0);
  });

  it('lowers to three launches (squeeze, gate, excite); no hidden map or pooled vector gets a buffer', () => {
    const graph = optimizeGraph(buildCase(seCase).graph, { fusePoolLinear: false });
    const [block] = findInvertedResidualBlocks(graph);
    const separate = lowerGraph(graph);
    const fused = lowerGraph(graph, FUSED);
    // expand, depthwise, pool, fc1, fc2, project -> squeeze, gate, excite.
    expect(separate.length - fused.length).toBe(3);
    const launches = fused.filter((s) => s.kind === 'invertedResidual');
    expect(launches.map((s) => s.program.name)).toEqual(['inverted-residual', 'inverted-residual-gate', 'inverted-residual']);
    expect(launches.map((s) => s.label)).toEqual([block.depthwise.name, block.se!.fc2.name, block.project.name]);
    expect(launches[0].buffers.partial).toEqual(launches[1].buffers.partial);
    expect(launches[1].buffers.dst).toEqual({ kind: 'tensor', id: block.se!.fc2.output });
    expect(launches[2].buffers.scale).toEqual({ kind: 'tensor', id: block.se!.fc2.output });
    const inner = innerTensors(fusedBlocksIn(graph, FUSED));
    expect(inner.size).toBe(4);
    for (const s of fused) for (const r of Object.values(s.buffers)) if (r.kind === 'tensor') expect(inner.has(r.id)).toBe(false);
    const plan = planMemory(collapseBlocks(graph, fusedBlocksIn(graph, FUSED)), { bytesOf: (id) => storageBytes(graph.tensors[id].shape), isAlias: (n) => isAliasNode(graph, n) });
    for (const id of inner) expect(plan.slotOf.has(id)).toBe(false);
    expect(plan.slotOf.has(block.se!.fc2.output)).toBe(true);
    // The same work counted once: the squeeze launch's recomputation is not the network's.
    const macs = (steps: typeof fused) => steps.reduce((a, s) => a + s.macs, 0);
    expect(macs(fused)).toBe(macs(separate));
    // Bytes: the hidden maps (written once, read once; the depthwise output twice), the pooled and squeezed
    // vectors no more; the block's input read twice and the per-tile sums written and read instead.
    const count = (shape: readonly number[]) => shape.reduce((a, v) => a * v, 1) * 4;
    const [n, hidC] = block.hidShape;
    const sums = n * Math.ceil(block.outShape[2] / 4) * Math.ceil(block.outShape[3] / 4) * Math.ceil(hidC / 4) * 16;
    const saved = 2 * count(block.hidShape) + 3 * count(block.midShape) + 2 * n * hidC * 4 + 2 * n * block.se!.squeezeC * 4 - count(block.inShape) - 2 * sums;
    const [a, b] = [separate, fused].map((steps) => inferenceBytes(graph, steps));
    expect(a.activationBytes - b.activationBytes).toBe(saved);
    expect(b.weightBytes).toBe(a.weightBytes);
  });
});

describe('squeeze-and-excitation weights and launches', () => {
  it('the squeeze and excite launches share the block\'s weight buffers: no constant uploaded twice', () => {
    for (const [name, c] of [FUSED_SE_SHAPE, FUSED_SE_POOLED_SHAPE]) {
      const graph = optimizeGraph(buildCase(c).graph, { fusePoolLinear: false });
      const separate = lowerGraph(graph);
      const fused = lowerGraph(graph, FUSED);
      const [squeeze, , excite] = fused.filter((s) => s.kind === 'invertedResidual');
      for (const key of ['depthwiseWeight', 'bias', ...(c.expand ? ['expandWeight'] : [])]) expect(squeeze.buffers[key], `${name}: ${key}`).toBe(excite.buffers[key]);
      const uploads = constantBuffers(fused);
      // The same bytes as the separate launches', but for the bias buffer's expand slot kept without an expand.
      const expandBiasSlot = c.expand ? 0 : Math.ceil(c.hidC / 4) * 16;
      expect(uploads.bytes, name).toBe(constantBuffers(separate).bytes + expandBiasSlot);
      // No two buffers hold the same numbers.
      const contents = [...uploads.refs].map((r) => (r.kind === 'constant' ? Array.from(r.data).join() : ''));
      expect(new Set(contents).size, name).toBe(contents.length);
    }
  });

  it('each GPU case lowers to pack, squeeze, gate, excite, unpack (the runner checks 5 dispatches and the gate)', () => {
    for (const t of FUSED_SE_CASES) {
      const steps = lowerGraph(optimizeForKernels(buildCase(t.case).graph, t.kernels), t.kernels, t.case.precision);
      expect(steps, t.name).toHaveLength(5);
      expect(steps.filter((s) => s.program.key.startsWith('inverted-residual/gate/')), t.name).toHaveLength(1);
    }
  });
});

describe('fused lowering', () => {
  it('MobileNetV2 with fused blocks: one launch per block, its inner convs named, hidden maps without buffers', () => {
    const graph = mobilenet();
    const separate = lowerGraph(graph);
    const fused = lowerGraph(graph, FUSED);
    expect(separate.length - fused.length).toBe(16 * 2 + 1);
    const blocks = fused.filter((s) => s.kind === 'invertedResidual');
    expect(blocks).toHaveLength(17);
    expect(blocks.filter((s) => 'residual' in s.buffers)).toHaveLength(10);
    expect(blocks[0].fused).toHaveLength(1);
    expect(blocks[1].fused).toHaveLength(2);
    // No step writes or reads a hidden map.
    const inner = innerTensors(fusedBlocksIn(graph, FUSED));
    for (const s of fused) for (const r of Object.values(s.buffers)) if (r.kind === 'tensor') expect(inner.has(r.id)).toBe(false);
    const plan = (g: Graph) => planMemory(g, { bytesOf: (id) => storageBytes(graph.tensors[id].shape), isAlias: (n) => isAliasNode(graph, n) });
    const collapsed = plan(collapseBlocks(graph, fusedBlocksIn(graph, FUSED)));
    for (const id of inner) expect(collapsed.slotOf.has(id)).toBe(false);
    expect(collapsed.peakBytes).toBeLessThan(plan(graph).peakBytes);
  });

  it('per-block choices override the network-wide one', () => {
    const graph = mobilenet();
    const [first, second] = findInvertedResidualBlocks(graph);
    const only = lowerGraph(graph, { ...DEFAULT_KERNEL_CHOICE, invertedResidualBlocks: new Map([[second.project.output, 'fused']]) });
    expect(only.filter((s) => s.kind === 'invertedResidual').map((s) => s.label)).toEqual([second.project.name]);
    const allBut = lowerGraph(graph, { ...FUSED, invertedResidualBlocks: new Map([[first.project.output, 'separate']]) });
    expect(allBut.filter((s) => s.kind === 'invertedResidual')).toHaveLength(16);
  });

  it('bytes moved: the same weights, the hidden maps neither written nor read', () => {
    const graph = mobilenet();
    const separate = inferenceBytes(graph, lowerGraph(graph));
    const fused = inferenceBytes(graph, lowerGraph(graph, FUSED));
    expect(fused.weightBytes).toBe(separate.weightBytes);
    let hidden = 0;
    for (const b of findInvertedResidualBlocks(graph)) {
      const count = (s: readonly number[]) => s.reduce((a, v) => a * v, 1) * 4;
      // Each hidden map is written once and read once; the fused launch reads the block's input as the first conv did.
      hidden += 2 * count(b.midShape) + (b.expand ? 2 * count(b.hidShape) : 0);
    }
    expect(separate.activationBytes - fused.activationBytes).toBe(hidden);
  });

  it('refuses a value that is not fused or separate', () => {
    expect(() => checkKernelChoice({ ...DEFAULT_KERNEL_CHOICE, invertedResidual: 'yes' as 'fused' })).toThrow(UnsupportedFeatureError);
    expect(() => checkKernelChoice({ ...DEFAULT_KERNEL_CHOICE, invertedResidualBlocks: new Map([[3, 'on' as 'fused']]) })).toThrow(/invertedResidualBlocks\(3\)/);
  });
});

/** Replays the fused kernel's output indexing (wgsl.ts) over every workgroup: how often each output vec4 is written. */
function fusedCoverage(graph: Graph, choice: KernelChoice): void {
  const blocks = fusedBlocksIn(graph, choice);
  // The launches that write the block's output (an SE block's squeeze and gate launches write no map).
  for (const step of lowerGraph(graph, choice).filter((s) => s.kind === 'invertedResidual' && blocks.has(s.node!))) {
    const v = blockVariant(blocks.get(step.node!)!)!;
    const u = step.uniforms;
    const tp = v.tileH * v.tileW;
    const { pixelsPerItem, items, rounds } = projectItems(tp, v.outC4);
    const [n] = graph.tensors[step.node!].shape;
    const hits = new Uint32Array(n * u.outH * u.outW * u.outC4);
    expect(step.workgroups).toBe(u.tiles);
    for (let tile = 0; tile < step.workgroups; tile++) {
      const tx = tile % u.tilesX;
      const ty = Math.floor(tile / u.tilesX) % u.tilesY;
      const b = Math.floor(tile / (u.tilesX * u.tilesY));
      for (let li = 0; li < 64; li++) {
        for (let r = 0; r < rounds; r++) {
          const item = li + 64 * r;
          if (item >= items) continue;
          const oc = item % u.outC4;
          const pg = Math.floor(item / u.outC4) * pixelsPerItem;
          for (let p = 0; p < pixelsPerItem; p++) {
            const oy = ty * v.tileH + Math.floor((pg + p) / v.tileW);
            const ox = tx * v.tileW + ((pg + p) % v.tileW);
            if (oy < u.outH && ox < u.outW) hits[((b * u.outH + oy) * u.outW + ox) * u.outC4 + oc]++;
          }
        }
      }
    }
    const wrong = hits.findIndex((h) => h !== 1);
    expect(wrong, `${step.label}: output vec4 ${wrong} written ${hits[wrong]} times`).toBe(-1);
  }
}

describe('kernel geometry', () => {
  it('every output vec4 is written exactly once (GPU case shapes, MobileNetV2)', () => {
    for (const [, c] of [...FUSED_BLOCK_SHAPES, FUSED_SE_SHAPE, FUSED_SE_POOLED_SHAPE]) fusedCoverage(optimizeGraph(buildCase(c).graph), FUSED);
    fusedCoverage(mobilenet(), FUSED);
  });

  it('spreads the project tile over the workgroup and fits workgroup memory', () => {
    expect(projectItems(16, 6)).toEqual({ pixelsPerItem: 2, items: 48, rounds: 1 });
    expect(projectItems(16, 4)).toEqual({ pixelsPerItem: 1, items: 64, rounds: 1 });
    expect(projectItems(16, 80)).toEqual({ pixelsPerItem: 16, items: 80, rounds: 2 });
    const g = { tileH: 4, tileW: 4, kernelH: 5, kernelW: 5, strideY: 2, strideX: 2 };
    expect(workgroupBytes({ ...g, chunk: 8 })).toBeGreaterThan(WORKGROUP_BYTES);
    expect(workgroupBytes({ ...g, chunk: 4 })).toBeLessThanOrEqual(WORKGROUP_BYTES);
  });
});
