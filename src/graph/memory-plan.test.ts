import { describe, expect, it } from 'vitest';
import { mobilenetV2, resnet50 } from '../models/index.ts';
import type { ParamSource } from '../models/params.ts';
import { isAliasNode, storageBytes } from '../runtime/lowering.ts';
import { Rng } from '../util/random.ts';
import { GraphBuilder } from './builder.ts';
import type { Graph, TensorId } from './ir.ts';
import type { MemoryPlan } from './memory-plan.ts';
import { planMemory } from './memory-plan.ts';
import { optimizeGraph } from './passes/index.ts';

/** Constant parameters, one shared array per size: the plan depends on shapes only, and this keeps 224x224 quick. */
function constantParams(value = 0.5): ParamSource {
  const cache = new Map<number, Float32Array>();
  return {
    get(_name, shape) {
      const size = shape.reduce((a, b) => a * b, 1);
      let a = cache.get(size);
      if (!a) cache.set(size, (a = new Float32Array(size).fill(value)));
      return a;
    },
  };
}

const runtimeOptions = (g: Graph) => ({
  bytesOf: (id: TensorId) => storageBytes(g.tensors[id].shape),
  isAlias: (node: Graph['nodes'][number]) => isAliasNode(g, node),
});

function plan(g: Graph): MemoryPlan {
  return planMemory(g, runtimeOptions(g));
}

/**
 * Checks a plan by brute force, from lifetimes computed here: a tensor lives from its producer's step (-1 for
 * graph inputs) to its last reader's step (the end, `nodes.length`, for graph outputs; its own step when
 * nothing reads it). Alias outputs share their root's slot and extend the root's lifetime.
 */
function checkPlan(g: Graph, p: MemoryPlan, bytesOf: (id: TensorId) => number, isAlias: (i: number) => boolean): void {
  const end = g.nodes.length;
  const root = new Map<TensorId, TensorId>();
  const find = (id: TensorId): TensorId => {
    let r = id;
    while (root.has(r)) r = root.get(r)!;
    return r;
  };
  g.nodes.forEach((n, i) => {
    if (isAlias(i)) root.set(n.output, n.inputs[0]);
  });

  const start = new Map<TensorId, number>();
  g.inputs.forEach((id) => start.set(id, -1));
  g.nodes.forEach((n, i) => start.set(n.output, i));
  const stop = new Map<TensorId, number>();
  for (const [id, s] of start) stop.set(id, s);
  g.nodes.forEach((n, i) => n.inputs.forEach((id) => stop.set(find(id), Math.max(stop.get(find(id))!, i))));
  g.nodes.forEach((n, i) => {
    // An alias's producer step counts as a use of its root.
    if (isAlias(i)) stop.set(find(n.output), Math.max(stop.get(find(n.output))!, i));
  });
  g.outputs.forEach((id) => stop.set(find(id), end));

  // Every tensor has a slot; aliases share their root's.
  const all = [...start.keys()];
  for (const id of all) {
    expect(p.slotOf.has(id), `tensor ${id} (${g.tensors[id].name}) has a slot`).toBe(true);
    expect(p.slotOf.get(id)! >= 0 && p.slotOf.get(id)! < p.slotBytes.length).toBe(true);
    if (find(id) !== id) expect(p.slotOf.get(id), `alias ${id} shares its root's slot`).toBe(p.slotOf.get(find(id)));
  }

  // Each slot holds every tensor assigned to it.
  for (const id of all) {
    expect(p.slotBytes[p.slotOf.get(id)!], `slot of tensor ${id} fits it`).toBeGreaterThanOrEqual(bytesOf(id));
  }

  // No two roots sharing a slot are alive at the same step.
  const roots = all.filter((id) => find(id) === id);
  for (let a = 0; a < roots.length; a++) {
    for (let b = a + 1; b < roots.length; b++) {
      const x = roots[a];
      const y = roots[b];
      if (p.slotOf.get(x) !== p.slotOf.get(y)) continue;
      const overlap = start.get(x)! <= stop.get(y)! && start.get(y)! <= stop.get(x)!;
      expect(
        overlap,
        `tensors ${x} [${start.get(x)}, ${stop.get(x)}] and ${y} [${start.get(y)}, ${stop.get(y)}] share slot ${p.slotOf.get(x)}`,
      ).toBe(false);
    }
  }

  // A launch never writes into a slot it reads.
  g.nodes.forEach((n, i) => {
    if (isAlias(i)) return;
    for (const input of n.inputs) {
      expect(p.slotOf.get(n.output), `${n.name} writes into its input's slot`).not.toBe(p.slotOf.get(input));
    }
  });

  // Totals.
  expect(p.peakBytes).toBe(p.slotBytes.reduce((s, x) => s + x, 0));
  const unplanned = all.filter((id) => find(id) === id).reduce((s, id) => s + bytesOf(id), 0);
  expect(p.unplannedBytes).toBe(unplanned);
  expect(p.peakBytes).toBeLessThanOrEqual(p.unplannedBytes);
}

function checkRuntimePlan(g: Graph): MemoryPlan {
  const p = plan(g);
  checkPlan(g, p, (id) => storageBytes(g.tensors[id].shape), (i) => isAliasNode(g, g.nodes[i]));
  return p;
}

const MiB = (b: number) => (b / 2 ** 20).toFixed(2);

describe('planMemory on hand-made graphs', () => {
  const w = (n: number) => new Float32Array(n).fill(0.1);

  it('a chain of equal tensors ping-pongs between two slots', () => {
    const b = new GraphBuilder();
    let x = b.input('x', [1, 4, 2, 2]);
    for (let i = 0; i < 4; i++) x = b.conv2d(x, { outChannels: 4, kernel: 1, weight: w(16) });
    b.output(x);
    const g = b.build();
    const p = checkRuntimePlan(g);
    const bytes = 2 * 2 * 16;
    expect(p.slotBytes).toEqual([bytes, bytes]);
    expect(p.peakBytes).toBe(2 * bytes);
    expect(p.unplannedBytes).toBe(5 * bytes);
    // x -> 0, t0 -> 1, t1 -> 0, t2 -> 1, t3 -> 0.
    expect([g.inputs[0], ...g.nodes.map((n) => n.output)].map((id) => p.slotOf.get(id))).toEqual([0, 1, 0, 1, 0]);
  });

  it('a diamond keeps the branch point alive until its last reader', () => {
    const b = new GraphBuilder();
    const x = b.input('x', [1, 8, 4, 4]);
    const a = b.conv2d(x, { outChannels: 8, kernel: 1, weight: w(64) }, 'a');
    const l = b.conv2d(a, { outChannels: 8, kernel: 3, padding: 1, weight: w(576) }, 'l');
    const l2 = b.relu(l, 'l2');
    const r = b.conv2d(a, { outChannels: 8, kernel: 1, weight: w(64) }, 'r');
    b.output(b.add(l2, r, 'add'));
    const g = b.build();
    const p = checkRuntimePlan(g);
    // a lives over l, l2 and r: it cannot share with any of them.
    for (const id of [l, l2, r]) expect(p.slotOf.get(id)).not.toBe(p.slotOf.get(a));
    expect(p.slotBytes.length).toBe(3);
  });

  it('dead outputs, inputs that are outputs, add(x, x) and unused inputs', () => {
    const b = new GraphBuilder();
    const x = b.input('x', [1, 4, 3, 3]);
    const unused = b.input('unused', [1, 4, 3, 3]);
    const y = b.add(x, x, 'double');
    b.relu(y, 'dead'); // nobody reads it, not an output
    const z = b.conv2d(y, { outChannels: 4, kernel: 1, weight: w(16) }, 'z');
    b.output(z);
    b.output(x);
    const g = b.build();
    const p = checkRuntimePlan(g);
    // x is an output: it keeps its own slot to the end.
    for (const n of g.nodes) expect(p.slotOf.get(n.output)).not.toBe(p.slotOf.get(x));
    expect(p.slotOf.has(unused)).toBe(true);
  });

  it('tensors of different sizes: a slot grows to the largest tensor it holds', () => {
    const b = new GraphBuilder();
    let x = b.input('x', [1, 4, 2, 2]);
    x = b.conv2d(x, { outChannels: 4, kernel: 1, weight: w(16) }); // 64 B
    x = b.conv2d(x, { outChannels: 32, kernel: 1, weight: w(128) }); // 512 B
    x = b.conv2d(x, { outChannels: 64, kernel: 1, weight: w(2048) }); // 1024 B
    x = b.conv2d(x, { outChannels: 4, kernel: 1, weight: w(256) }); // 64 B
    b.output(x);
    const g = b.build();
    const p = checkRuntimePlan(g);
    expect(p.unplannedBytes).toBe(64 + 64 + 512 + 1024 + 64);
    expect(p.peakBytes).toBeLessThan(p.unplannedBytes);
  });

  it('flatten of a 1x1 map aliases its input; flatten of a larger map does not', () => {
    const b = new GraphBuilder();
    const x = b.input('x', [2, 6, 3, 2]);
    const c = b.conv2d(x, { outChannels: 6, kernel: 1, weight: w(36) }, 'c');
    const big = b.flatten(c, 'flattenBig'); // [2, 36, 1, 1], a real copy
    const gap = b.globalAvgPool(c, 'gap');
    const flat = b.flatten(gap, 'flat1x1'); // alias of gap
    const flat2 = b.flatten(flat, 'flat1x1again'); // alias of an alias
    const l = b.linear(flat2, { outFeatures: 3, weight: w(18) }, 'fc');
    b.output(l);
    b.output(big);
    b.output(flat);
    const g = b.build();
    const p = checkRuntimePlan(g);
    expect(isAliasNode(g, g.nodes[1])).toBe(false);
    expect(isAliasNode(g, g.nodes[3])).toBe(true);
    expect(isAliasNode(g, g.nodes[4])).toBe(true);
    expect(p.slotOf.get(flat)).toBe(p.slotOf.get(gap));
    expect(p.slotOf.get(flat2)).toBe(p.slotOf.get(gap));
    expect(p.slotOf.get(big)).not.toBe(p.slotOf.get(c));
    expect(p.slotOf.get(l)).not.toBe(p.slotOf.get(gap));
  });

  it('works with any bytesOf/isAlias (every tensor 1 byte, no aliases)', () => {
    const b = new GraphBuilder();
    const x = b.input('x', [1, 2, 1, 1]);
    const f = b.flatten(x);
    const y = b.relu(f);
    b.output(b.relu6(y));
    const g = b.build();
    const p = planMemory(g, { bytesOf: () => 1, isAlias: () => false });
    checkPlan(g, p, () => 1, () => false);
    expect(p.unplannedBytes).toBe(4);
    expect(p.peakBytes).toBe(2);
  });
});

describe('planMemory on random graphs', () => {
  /** Random DAGs of 1x1 convs (changing channels), relus, adds, pools and 1x1 / larger flattens, several inputs and outputs. */
  function randomGraph(seed: number): Graph {
    const rng = new Rng(seed);
    const b = new GraphBuilder();
    const pool: TensorId[] = [];
    const nInputs = rng.int(1, 3);
    for (let i = 0; i < nInputs; i++) pool.push(b.input(`in${i}`, [1, rng.int(1, 9), rng.int(1, 4), rng.int(1, 4)]));
    const steps = rng.int(1, 25);
    for (let i = 0; i < steps; i++) {
      const x = rng.pick(pool);
      const [, c, h, w] = b.shape(x);
      switch (rng.int(0, 5)) {
        case 0: {
          const oc = rng.int(1, 12);
          pool.push(b.conv2d(x, { outChannels: oc, kernel: 1, weight: new Float32Array(oc * c) }));
          break;
        }
        case 1:
          pool.push(b.relu(x));
          break;
        case 2: {
          const same = pool.filter((t) => b.shape(t).every((d, k) => d === b.shape(x)[k]));
          pool.push(b.add(x, rng.pick(same)));
          break;
        }
        case 3:
          pool.push(b.globalAvgPool(x));
          break;
        case 4:
          pool.push(b.flatten(x)); // an alias when h = w = 1
          break;
        case 5:
          pool.push(h >= 2 && w >= 2 ? b.maxPool(x, { kernel: 2 }) : b.flatten(b.flatten(x)));
          break;
      }
    }
    const nOutputs = rng.int(1, 3);
    const candidates = pool.slice(nInputs);
    for (let i = 0; i < nOutputs; i++) b.output(candidates.length > 0 && rng.next() < 0.8 ? rng.pick(candidates) : rng.pick(pool));
    return b.build();
  }

  it('300 random graphs: no live tensors share a slot, slots fit, outputs never land on inputs', () => {
    let shared = 0;
    let aliases = 0;
    for (let seed = 1; seed <= 300; seed++) {
      const g = randomGraph(seed);
      aliases += g.nodes.filter((n) => isAliasNode(g, n)).length;
      const rng = new Rng(seed * 7919);
      // Random sizes exercise best fit and slot growth; the runtime's sizes are checked too.
      const sizes = g.tensors.map(() => rng.int(1, 100));
      // An alias stores the same bytes as its input.
      for (const n of g.nodes) if (isAliasNode(g, n)) sizes[n.output] = sizes[n.inputs[0]];
      const p = planMemory(g, { bytesOf: (id) => sizes[id], isAlias: (n) => isAliasNode(g, n) });
      checkPlan(g, p, (id) => sizes[id], (i) => isAliasNode(g, g.nodes[i]));
      checkRuntimePlan(g);
      shared += g.tensors.length - p.slotBytes.length;
    }
    // The plans do reuse memory, and the graphs do contain aliases.
    expect(shared).toBeGreaterThan(300);
    expect(aliases).toBeGreaterThan(50);
  });
});

describe('the brute-force checker itself', () => {
  it('rejects plans that share a slot between live tensors, undersize a slot or write into an input', () => {
    const b = new GraphBuilder();
    let x = b.input('x', [1, 4, 2, 2]);
    x = b.relu(x);
    x = b.relu6(x);
    b.output(x);
    const g = b.build();
    const bytes = (id: TensorId) => storageBytes(g.tensors[id].shape);
    const good = plan(g);
    const ids = [g.inputs[0], ...g.nodes.map((n) => n.output)];
    const allInOne: MemoryPlan = { ...good, slotOf: new Map(ids.map((id) => [id, 0])), slotBytes: [64], peakBytes: 64 };
    expect(() => checkPlan(g, allInOne, bytes, () => false)).toThrow();
    const tooSmall: MemoryPlan = { ...good, slotBytes: good.slotBytes.map(() => 16), peakBytes: 16 * good.slotBytes.length };
    expect(() => checkPlan(g, tooSmall, bytes, () => false)).toThrow();
    // Tensors 0 and 2 share a slot legally; 1 alone. Putting 1 with 2 overlaps at step 1.
    const swapped: MemoryPlan = { ...good, slotOf: new Map([[ids[0], 0], [ids[1], 1], [ids[2], 1]]) };
    expect(() => checkPlan(g, swapped, bytes, () => false)).toThrow();
    checkPlan(g, good, bytes, () => false);
  });
});

describe('planMemory on whole networks (optimized graphs)', () => {
  it('MobileNetV2 224: valid plan, peak well below unplanned', () => {
    const g = optimizeGraph(mobilenetV2({ params: constantParams() }));
    const p = checkRuntimePlan(g);
    console.log(
      `MobileNetV2 224: peak ${p.peakBytes} B (${MiB(p.peakBytes)} MiB, ${p.slotBytes.length} slots) vs unplanned ${p.unplannedBytes} B (${MiB(p.unplannedBytes)} MiB)`,
    );
    expect(p.peakBytes).toBeLessThan(p.unplannedBytes / 2);
    // The largest tensors are the 96-channel 112x112 expansions (stored as 96 channels = 24 vec4s): 4.8 MB.
    const largest = Math.max(...g.tensors.map((t) => storageBytes(t.shape)));
    expect(largest).toBe(112 * 112 * 96 * 4);
    expect(p.peakBytes).toBeGreaterThanOrEqual(largest);
  });

  it('ResNet-50 224: valid plan, peak well below unplanned', () => {
    const g = optimizeGraph(resnet50({ params: constantParams() }));
    const p = checkRuntimePlan(g);
    console.log(
      `ResNet-50 224: peak ${p.peakBytes} B (${MiB(p.peakBytes)} MiB, ${p.slotBytes.length} slots) vs unplanned ${p.unplannedBytes} B (${MiB(p.unplannedBytes)} MiB)`,
    );
    expect(p.peakBytes).toBeLessThan(p.unplannedBytes / 2);
  });

  it('small networks with batch 2 and softmax heads', () => {
    checkRuntimePlan(optimizeGraph(mobilenetV2({ params: constantParams(), inputSize: 40, batch: 2, softmax: true, numClasses: 10 })));
    checkRuntimePlan(optimizeGraph(resnet50({ params: constantParams(), inputSize: 33, batch: 2, softmax: true, numClasses: 10 })));
    // Unfused graphs too (BN, activation and add nodes each get a tensor).
    checkRuntimePlan(mobilenetV2({ params: constantParams(), inputSize: 32, numClasses: 10 }));
  });
});
