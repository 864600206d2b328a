import { describe, expect, it } from 'vitest';
import { packUniforms } from '../../shaders/common.ts';
import type { ActivationName, ConvCase, GpuCase, LinearCase, PoolLinearCase } from '../../test/gpu-cases.ts';
import { BLOCK_CASES, KERNEL_CASES, buildCase, describeCase } from '../../test/gpu-cases.ts';
import { GraphBuilder } from '../graph/builder.ts';
import type { Graph, Shape4 } from '../graph/ir.ts';
import { RELU, convWeight, elementCount } from '../graph/ir.ts';
import { optimizeGraph } from '../graph/passes/index.ts';
import { mobilenetV2, randomParams } from '../models/index.ts';
import { toFloat16Bits } from './f16.ts';
import { expandGroupedWeights, packDenseConvWeights, packDepthwiseWeights } from './pack-weights.ts';
import type { BufferRef, Step } from './step.ts';
import { DEFAULT_KERNEL_CHOICE } from './kernel-choice.ts';
import { isAliasNode, lowerGraph, storageBytes } from './lowering.ts';
import { activationEntry, activationFunction, activationFunctionKey } from '../graph/activations/index.ts';

/** The program-key text of a table function case (`fn:<name>` at its defaults), or '' for a clamp. */
function fnKey(a: ActivationName | undefined): string {
  if (!a?.startsWith('fn:')) return '';
  const name = a.slice(3);
  return activationFunctionKey(activationFunction(name, activationEntry(name).defaults));
}

/** The activation part of a fused kernel's key: `act` / `noact` for clamps, `noact/<function>` for a function. */
function actKey(a: ActivationName | undefined): string {
  if (fnKey(a)) return `noact/${fnKey(a)}`;
  return a === undefined || a === 'none' ? 'noact' : 'act';
}

const vec4s = (c: number) => Math.ceil(c / 4);

/**
 * The P / V / R blocking factors a program's key names (`p4v2`, `p4`, `p2r16`: R output rows per invocation;
 * `p7rows`: the `rows` uniform's; the walking stem's `walk28`: 28 columns of one output vec4).
 */
function blocking(key: string): { P: number; V: number; R: number } {
  const walk = /\/walk(\d+)\//.exec(key);
  if (walk) return { P: Number(walk[1]), V: 1, R: 1 };
  const m = /\/p(\d+)(?:v(\d+))?(?:r(\d+)|rows)?\//.exec(key);
  if (!m) throw new Error(`no blocking in key ${key}`);
  return { P: Number(m[1]), V: m[2] ? Number(m[2]) : 1, R: m[3] ? Number(m[3]) : 1 };
}

const isWrappedConv = (step: Step): boolean => step.program.name === 'conv2d' && step.program.key.includes('/wrap/');

/** `flat` split as the kernels split it: digits of the mixed radices `radices` (fastest first), then the rest. */
function digits(flat: number, radices: readonly number[]): number[] {
  const out: number[] = [];
  let rest = flat;
  for (const r of radices) {
    out.push(rest % r);
    rest = Math.floor(rest / r);
  }
  return [...out, rest];
}

/**
 * Replays a kernel's index arithmetic (as written in its WGSL) over every invocation the step launches and
 * returns how often each output vec4 is written. A correct launch writes each exactly once.
 */
function coverage(step: Step, outVec4s: number): Uint32Array {
  const hits = new Uint32Array(outVec4s);
  const u = step.uniforms;
  const invocations = step.workgroups * 64;
  const blocked = ['pointwise', 'conv2d', 'depthwise', 'linear', 'grouped'].includes(step.kind) && !step.program.name.startsWith('linear-splitk');
  // The windowed pool kernel (shaders/pool/window.ts) indexes as a depthwise row tile of `pN` columns, one row.
  const poolColumns = /^pool\/(max|avg)\/k.*\/p(\d+)(?:\/|$)/.exec(step.program.key);
  const { P, V, R } = blocked ? blocking(step.program.key) : poolColumns ? { P: Number(poolColumns[2]), V: 1, R: 1 } : { P: 1, V: 1, R: 1 };
  const mark = (o: number) => {
    if (o < 0 || o >= outVec4s) throw new Error(`${step.label}: write at ${o} outside [0, ${outVec4s})`);
    hits[o]++;
  };
  // The conv2d family's wrapped tile indexes pixels as the pointwise kernel does (along the flattened map).
  const indexing = isWrappedConv(step) ? 'pointwise' : poolColumns ? 'depthwise' : step.program.name;
  for (let flat = 0; flat < invocations; flat++) {
    switch (indexing) {
      case 'pointwise': {
        const coGroup = flat % u.coGroups;
        const firstPixel = Math.floor(flat / u.coGroups) * P;
        if (firstPixel >= u.pixels) break;
        const firstCo = coGroup * V;
        for (let p = 0; p < P; p++)
          for (let c = 0; c < V; c++)
            if (firstPixel + p <= u.pixels - 1 && firstCo + c <= u.outC4 - 1) mark((firstPixel + p) * u.outC4 + firstCo + c);
        break;
      }
      case 'conv2d':
      case 'grouped':
      case 'conv-stem': {
        if (flat >= u.total) break;
        const [coGroup, oxGroup, oy, n] = digits(flat, [u.coGroups, u.oxGroups, u.outH]);
        for (let p = 0; p < P; p++)
          for (let c = 0; c < V; c++) {
            const ox = oxGroup * P + p;
            const co = coGroup * V + c;
            if (ox < u.outW && co <= u.outC4 - 1) mark(((n * u.outH + oy) * u.outW + ox) * u.outC4 + co);
          }
        break;
      }
      case 'depthwise': {
        if (flat >= u.total) break;
        // Output rows per invocation (R from the key; `fit` rolling tiles, keyed `pNrows`: the `rows` uniform), the
        // last row group possibly shorter.
        const rows = /\/p\d+rows\//.test(step.program.key) ? u.rows : R;
        const [c4, oxGroup, oyGroup, n] = digits(flat, [u.C4, u.oxGroups, Math.ceil(u.outH / rows)]);
        const oy0 = oyGroup * rows;
        for (let oy = oy0; oy < Math.min(oy0 + rows, u.outH); oy++) {
          for (let p = 0; p < P; p++) {
            const ox = oxGroup * P + p;
            if (ox < u.outW) mark(((n * u.outH + oy) * u.outW + ox) * u.C4 + c4);
          }
        }
        break;
      }
      case 'unpackNCHW': {
        // One NHWC4 vec4 per invocation (x fastest), its channels' elements stored plane by plane.
        if (flat >= u.total) break;
        const [x, y, c4, n] = digits(flat, [u.W, u.H, u.C4]);
        for (let c = c4 * 4; c < Math.min(c4 * 4 + 4, u.C); c++) mark(((n * u.C + c) * u.H + y) * u.W + x);
        break;
      }
      case 'linear-splitk':
      case 'linear-splitk-pooled': {
        // One workgroup per output vec4 (row-major over rows x outC4); its first invocation stores.
        const item = Math.floor(flat / 64);
        if (flat % 64 === 0 && item < u.items) mark(item);
        break;
      }
      case 'linear-pooled': {
        // A workgroup per (block of P rows, block of 64 x V output vec4s); each invocation P rows x V vec4s.
        const item = Math.floor(flat / 64);
        if (item >= u.items) break;
        const firstRow = Math.floor(item / u.coGroups) * P;
        const firstCo = ((item % u.coGroups) * 64 + (flat % 64)) * V;
        for (let p = 0; p < P; p++)
          for (let c = 0; c < V; c++)
            if (firstRow + p <= u.rows - 1 && firstCo + c <= u.outC4 - 1) mark((firstRow + p) * u.outC4 + firstCo + c);
        break;
      }
      case 'argmax':
        // One pixel (its one output vec4) per invocation.
        if (flat < u.pixels) mark(flat);
        break;
      case 'layerNorm':
        // One pixel (its C4 output vec4s) per invocation.
        if (flat < u.pixels) for (let c = 0; c < u.C4; c++) mark(flat * u.C4 + c);
        break;
      case 'matmul': {
        // A 4 x 4 tile of (row, column) outputs of one channel vec4 per invocation, clipped at the edges.
        if (flat >= u.total) break;
        const [jt, it, c4, n] = digits(flat, [u.tilesN, u.tilesM, u.outC4]);
        for (let i = it * 4; i < Math.min(it * 4 + 4, u.M); i++)
          for (let j = jt * 4; j < Math.min(jt * 4 + 4, u.N); j++) mark(((n * u.M + i) * u.N + j) * u.outC4 + c4);
        break;
      }
      default:
        // One output element (vec4, or f32 for unpack) per invocation below `total`.
        if (flat < u.total) mark(flat);
    }
  }
  return hits;
}

function lower(c: GpuCase): { graph: Graph; steps: Step[] } {
  const graph = optimizeGraph(buildCase(c).graph);
  return { graph, steps: lowerGraph(graph) };
}

const outShapeOf = (g: Graph, ref: BufferRef): Shape4 => {
  if (ref.kind !== 'tensor') throw new Error('not a tensor');
  return g.tensors[ref.id].shape;
};

/** Checks every step of a lowered graph: layout steps at the edges, uniforms complete, buffers bound, full coverage. */
function checkSteps(graph: Graph, steps: Step[]): void {
  const nIn = graph.inputs.length;
  const nOut = graph.outputs.length;
  graph.inputs.forEach((id, i) => {
    const s = steps[i];
    expect(s.kind).toBe('layout');
    expect(s.program.key).toBe('layout/pack-nchw');
    expect(s.buffers).toEqual({ src: { kind: 'rawInput', index: i }, dst: { kind: 'tensor', id } });
  });
  graph.outputs.forEach((id, i) => {
    const s = steps[steps.length - nOut + i];
    expect(s.kind).toBe('layout');
    expect(s.program.key).toBe('layout/unpack-nchw');
    expect(s.buffers).toEqual({ src: { kind: 'tensor', id }, dst: { kind: 'rawOutput', index: i } });
  });
  const middle = steps.slice(nIn, steps.length - nOut);
  expect(middle.every((s) => s.program.key !== 'layout/pack-nchw' && s.program.key !== 'layout/unpack-nchw')).toBe(true);
  expect(middle).toHaveLength(graph.nodes.filter((n) => !isAliasNode(graph, n)).length);

  for (const s of steps) {
    // Every uniform present and representable, every binding but params bound, nothing extra.
    expect(() => packUniforms(s.program.uniforms, s.uniforms), s.label).not.toThrow();
    const bound = s.program.bindings.filter((b) => b.kind !== 'uniform').map((b) => b.name);
    expect(Object.keys(s.buffers).sort(), s.label).toEqual([...bound].sort());
    expect(Number.isInteger(s.workgroups) && s.workgroups >= 1, s.label).toBe(true);

    if (s.kind === 'softmax') {
      // One workgroup per image.
      expect(s.workgroups).toBe(outShapeOf(graph, s.buffers.dst)[0]);
      continue;
    }
    let outCount: number;
    if (s.program.key === 'layout/unpack-nchw') {
      const [n, c, h, w] = outShapeOf(graph, s.buffers.src);
      outCount = n * c * h * w;
    } else {
      outCount = storageBytes(outShapeOf(graph, s.buffers.dst)) / 16;
    }
    const hits = coverage(s, outCount);
    const missed = hits.findIndex((h) => h !== 1);
    expect(missed, `${s.label} (${s.program.key}): output ${missed} written ${hits[missed]} times`).toBe(-1);
    // Invocations the kernel's indexing needs: one per (P-pixel row, V-vec4 group) for pointwise, `total` otherwise.
    // Workgroup-per-item kernels (the linear heads) need all 64 invocations of each item's workgroup.
    const required =
      s.program.name === 'pointwise' || isWrappedConv(s) ? Math.ceil(s.uniforms.pixels / blocking(s.program.key).P) * s.uniforms.coGroups
      : s.program.name.startsWith('linear-') ? s.uniforms.items * 64
      : s.program.name === 'argmax' || s.program.name === 'layerNorm' ? s.uniforms.pixels
      : s.uniforms.total;
    expect(required).toBeGreaterThan(0);
    expect(s.workgroups * 64, s.label).toBeGreaterThanOrEqual(required);
    expect((s.workgroups - 1) * 64, `${s.label}: no spare workgroup`).toBeLessThan(required);
  }
}

/** The kernel a conv case should get, from its attributes alone. */
function expectedConvKind(c: ConvCase): string {
  if (c.groups === c.inC && c.outC === c.inC && c.groups > 1) return 'depthwise';
  if (c.groups > 1) return 'grouped';
  if (c.kernel === 1 && c.pad === 0) return 'pointwise';
  return 'conv2d';
}

describe('lowerGraph on KERNEL_CASES', () => {
  KERNEL_CASES.forEach((c, i) => {
    it(`#${i} ${describeCase(c)}`, () => {
      const { graph, steps } = lower(c);
      checkSteps(graph, steps);
      const middle = steps.slice(graph.inputs.length, steps.length - graph.outputs.length);

      if (c.kind === 'conv') {
        expect(middle).toHaveLength(1);
        const s = middle[0];
        const kind = expectedConvKind(c);
        expect(s.kind).toBe(kind);
        // The software default runs RGB stems (dense, at most 4 input channels, dilation 1) on the stem family.
        const stem = kind === 'conv2d' && c.inC <= 4 && (c.dilation ?? 1) === 1;
        expect(s.program.name).toBe(stem ? 'conv-stem' : kind);
        expect('residual' in s.buffers).toBe(c.residual);
        expect(s.program.key.includes('/res/')).toBe(c.residual);
        expect(s.program.key.endsWith(`/${actKey(c.activation)}`)).toBe(true);
        if (kind === 'pointwise') expect(s.program.key.includes('/s/')).toBe(c.stride !== 1);
        if (kind !== 'pointwise') expect(s.program.key).toContain(`/k${c.kernel}x${c.kernel}/`);
        const oh = Math.floor((c.h + 2 * c.pad - (c.dilation ?? 1) * (c.kernel - 1) - 1) / c.stride) + 1;
        const ow = Math.floor((c.w + 2 * c.pad - (c.dilation ?? 1) * (c.kernel - 1) - 1) / c.stride) + 1;
        expect(s.macs).toBe(c.n * oh * ow * c.outC * (c.inC / c.groups) * c.kernel * c.kernel);
        // Packed constants: weights in the kernel's layout, bias padded to vec4s.
        const weight = s.buffers.weight;
        const bias = s.buffers.bias;
        if (weight.kind !== 'constant' || bias.kind !== 'constant') throw new Error('weights are constants');
        expect(bias.data.length).toBe(vec4s(c.outC) * 4);
        expect(weight.data.length).toBe(
          kind === 'depthwise' ? c.kernel * c.kernel * vec4s(c.outC) * 4 : c.kernel * c.kernel * vec4s(kind === 'grouped' ? c.inC / c.groups : c.inC) * vec4s(c.outC) * 16,
        );
        // Clamp bounds.
        const [lo, hi] = c.activation === 'relu' ? [0, 3.4028234663852886e38] : c.activation === 'relu6' ? [0, 6] : [-3.4028234663852886e38, 3.4028234663852886e38];
        expect([s.uniforms.actMin, s.uniforms.actMax]).toEqual([lo, hi]);
      } else if (c.kind === 'linear') {
        checkLinear(c, middle);
      } else if (c.kind === 'poolLinear') {
        checkPoolLinear(c, middle);
      } else if (c.kind === 'batchNorm') {
        // A lone batch norm is a depthwise 1x1.
        expect(middle.map((s) => s.kind)).toEqual(['depthwise']);
        expect(middle[0].program.key).toBe('depthwise-rolling/k1x1/s1x1/p2r16/nores/noact');
      } else if (c.kind === 'flatten') {
        expect(middle.map((s) => s.program.key)).toEqual(['layout/flatten']);
      } else if (c.kind === 'add' || c.kind === 'activation') {
        expect(middle.map((s) => s.program.key)).toEqual([`elementwise/${c.kind}${fnKey(c.activation) ? `/${fnKey(c.activation)}` : ''}`]);
        expect(middle[0].kind).toBe('elementwise');
      } else if (c.kind === 'maxPool' || c.kind === 'avgPool') {
        // Windows up to 7x7 on the windowed kernel (4 columns per invocation), larger ones on the general one.
        const kind = c.kind === 'maxPool' ? 'max' : 'avg';
        const [kh, kw] = typeof c.kernel === 'number' ? [c.kernel, c.kernel] : c.kernel;
        const sx = typeof c.stride === 'number' ? c.stride : c.stride[1];
        expect(middle.map((s) => s.program.key)).toEqual([kh <= 7 && kw <= 7 ? `pool/${kind}/k${kh}x${kw}/s${sx}/p4` : `pool/${kind}`]);
      } else if (c.kind === 'globalAvgPool') {
        expect(middle.map((s) => s.program.key)).toEqual(['pool/global-avg']);
      } else if (c.kind === 'softmax') {
        expect(middle.map((s) => s.program.key)).toEqual(['softmax']);
      } else if (c.kind === 'matMul') {
        expect(middle.map((s) => s.program.key)).toEqual([`matmul/${c.bias?.as ?? 'none'}`]);
        expect(middle[0].macs).toBe(elementCount(graph.tensors[graph.outputs[0]].shape) * (c.transA ? c.a[2] : c.a[3]));
      }
    });
  });

  function checkLinear(c: LinearCase, middle: Step[]): void {
    const fc = middle[middle.length - 1];
    expect(fc.kind).toBe('linear');
    expect(fc.program.name).toBe('pointwise');
    const act = actKey(c.activation);
    // Few rows: one pixel and one vec4 per invocation; otherwise the default blocking.
    const pv = c.n < DEFAULT_KERNEL_CHOICE.pointwise.pixelsPerThread ? 'p1v1' : `p${DEFAULT_KERNEL_CHOICE.pointwise.pixelsPerThread}v${DEFAULT_KERNEL_CHOICE.pointwise.vec4sPerThread}`;
    expect(fc.program.key).toBe(`pointwise/${pv}/1/nores/${act}`);
    expect(fc.macs).toBe(c.n * c.inF * c.outF);
    expect(fc.uniforms.pixels).toBe(c.n);
    if (c.flattenFrom) {
      // Flattening a 3x2 map is a real copy.
      expect(middle.map((s) => s.program.key)).toEqual(['layout/flatten', fc.program.key]);
    } else {
      expect(middle).toHaveLength(1);
    }
  }

  /** A pool + FC head is one launch: the pooled register GEMV (software default), or the plain one on a 1x1 map. */
  function checkPoolLinear(c: PoolLinearCase, middle: Step[]): void {
    expect(middle).toHaveLength(1);
    const fc = middle[0];
    expect(fc.kind).toBe('linear');
    const act = c.activation === 'none' ? 'noact' : 'act';
    const { pixelsPerThread, vec4sPerThread } = DEFAULT_KERNEL_CHOICE.pointwise;
    const fewRows = c.n < pixelsPerThread;
    if (c.h * c.w === 1) {
      expect(fc.program.key).toBe(`pointwise/${fewRows ? 'p1v1' : `p${pixelsPerThread}v${vec4sPerThread}`}/1/nores/${act}`);
    } else {
      const V = Math.min(DEFAULT_KERNEL_CHOICE.pooledLinearVec4s!, vec4s(c.outF));
      expect(fc.program.key).toBe(`linear-pooled/p${fewRows ? 1 : pixelsPerThread}v${V}/${act}`);
      expect(fc.uniforms).toMatchObject({ rows: c.n, inC4: vec4s(c.c), outC4: vec4s(c.outF), spatial: c.h * c.w });
      expect(fc.buffers.src).toEqual({ kind: 'tensor', id: 0 });
    }
    expect(fc.macs).toBe(c.n * c.c * c.outF);
    const { weight, bias } = fc.buffers;
    if (weight.kind !== 'constant' || bias.kind !== 'constant') throw new Error('weights are constants');
    expect(weight.data.length).toBe(vec4s(c.c) * vec4s(c.outF) * 16);
    expect(bias.data.length).toBe(vec4s(c.outF) * 4);
  }
});

describe('lowerGraph on BLOCK_CASES and networks', () => {
  BLOCK_CASES.forEach((c, i) => {
    it(`#${i} ${describeCase(c)}`, () => {
      const { graph, steps } = lower(c);
      checkSteps(graph, steps);
      const kinds = steps.map((s) => s.kind);
      if (c.kind === 'invertedResidual') {
        const expected = [...(c.expandRatio !== 1 ? ['pointwise'] : []), 'depthwise', 'pointwise'];
        expect(kinds).toEqual(['layout', ...expected, 'layout']);
        const shortcut = c.stride === 1 && c.inC === c.outC;
        expect('residual' in steps[steps.length - 2].buffers).toBe(shortcut);
      } else if (c.kind === 'bottleneck') {
        // conv1 1x1, conv2 3x3 (dense), conv3 1x1, downsample 1x1 (strided when stride 2).
        expect(kinds).toEqual(['layout', 'pointwise', 'conv2d', 'pointwise', ...(c.downsample ? ['pointwise'] : []), 'layout']);
        const withResidual = steps.filter((s) => 'residual' in s.buffers);
        expect(withResidual).toHaveLength(1);
        expect(withResidual[0].program.key.endsWith('/res/act')).toBe(true);
        if (c.downsample) expect(withResidual[0].program.key.includes('/s/')).toBe(c.stride !== 1);
      }
    });
  });

  it('MobileNetV2 (64x64, batch 2): layout at the edges, 34 pointwise + 17 depthwise + stem, flatten aliased', () => {
    const graph = optimizeGraph(mobilenetV2({ params: randomParams(1), inputSize: 64, batch: 2, numClasses: 10, softmax: true }));
    const steps = lowerGraph(graph);
    checkSteps(graph, steps);
    const counts: Record<string, number> = {};
    for (const s of steps) counts[s.kind] = (counts[s.kind] ?? 0) + 1;
    // Global average pool, flatten and classifier are one launch (fusePoolLinear): no pool step.
    expect(counts).toEqual({ layout: 2, conv2d: 1, pointwise: 34, depthwise: 17, linear: 1, softmax: 1 });
    // 10 classes: 3 output vec4s, so 3 per invocation (not the software default's 4).
    expect(steps.find((s) => s.kind === 'linear')!.program.key).toBe('linear-pooled/p1v3/noact');
    expect(steps.some((s) => s.label === 'flatten')).toBe(false);
    expect(steps.filter((s) => 'residual' in s.buffers)).toHaveLength(10);
  });
});

describe('lowering details', () => {
  it('flatten of a 1x1 map lowers to nothing (alias); of a larger map to a copy', () => {
    const b = new GraphBuilder();
    const x = b.input('x', [2, 6, 3, 3]);
    const gap = b.globalAvgPool(x, 'gap');
    const flat = b.flatten(gap, 'flatten');
    b.output(b.linear(flat, { outFeatures: 3, weight: new Float32Array(18).fill(1) }, 'fc'));
    const g = b.build();
    expect(isAliasNode(g, g.nodes[1])).toBe(true);
    const steps = lowerGraph(g);
    expect(steps.map((s) => s.label)).toEqual(['pack input 0', 'gap', 'fc', 'unpack output 0']);
    // The linear reads the flatten's tensor id (which the planner maps onto the pool's slot).
    expect(steps[2].buffers.src).toEqual({ kind: 'tensor', id: flat });

    const b2 = new GraphBuilder();
    const y = b2.input('y', [1, 2, 2, 1]);
    b2.output(b2.flatten(y, 'flatten'));
    const g2 = b2.build();
    expect(isAliasNode(g2, g2.nodes[0])).toBe(false);
    expect(lowerGraph(g2).map((s) => s.label)).toEqual(['pack input 0', 'flatten', 'unpack output 0']);
  });

  it('storageBytes is NHWC with channels padded to vec4s', () => {
    expect(storageBytes([1, 3, 5, 7])).toBe(5 * 7 * 16);
    expect(storageBytes([2, 8, 2, 2])).toBe(2 * 2 * 2 * 2 * 16);
    expect(storageBytes([1, 1001, 1, 1])).toBe(251 * 16);
  });

  it('storageBytes at the f16 precisions: 8 bytes per vec4', () => {
    expect(storageBytes([1, 3, 5, 7], 'f32')).toBe(5 * 7 * 16);
    expect(storageBytes([1, 3, 5, 7], 'f16')).toBe(5 * 7 * 8);
    expect(storageBytes([2, 1001, 1, 1], 'f16-packed')).toBe(2 * 251 * 8);
  });

  it('every step of a model carries the model precision; weights become binary16 words, biases stay f32', () => {
    const graph = optimizeGraph(mobilenetV2({ params: randomParams(1), inputSize: 32, numClasses: 10, softmax: true }));
    const f32 = lowerGraph(graph);
    for (const precision of ['f16', 'f16-packed'] as const) {
      const steps = lowerGraph(graph, DEFAULT_KERNEL_CHOICE, precision);
      expect(steps.map((s) => s.program.precision)).toEqual(steps.map(() => precision));
      expect(steps.map((s) => s.program.key)).toEqual(f32.map((s) => `${s.program.key}/${precision}`));
      expect(steps.map((s) => s.uniforms)).toEqual(f32.map((s) => s.uniforms));
      steps.forEach((s, i) => {
        const { weight, bias } = s.buffers;
        if (!weight) return;
        const w32 = f32[i].buffers.weight;
        if (weight.kind !== 'constant' || w32.kind !== 'constant' || bias.kind !== 'constant') throw new Error('constants expected');
        expect(weight.data).toBeInstanceOf(Uint16Array);
        expect(Array.from(weight.data)).toEqual(Array.from(toFloat16Bits(w32.data as Float32Array)));
        expect(bias.data).toBeInstanceOf(Float32Array);
        // What the compiler writes into the mapped buffer is `data`, byte for byte, at both precisions.
        for (const ref of [weight, w32, bias]) {
          expect(ref.byteLength).toBe(ref.data.byteLength);
          const target = new ArrayBuffer(ref.byteLength + 16);
          ref.writeInto(target);
          const written = Buffer.from(target, 0, ref.byteLength);
          expect(written.equals(Buffer.from(ref.data.buffer, ref.data.byteOffset, ref.byteLength))).toBe(true);
          expect(Array.from(new Uint8Array(target, ref.byteLength))).toEqual(new Array(16).fill(0));
        }
      });
    }
    expect(f32.every((s) => s.program.precision === 'f32')).toBe(true);
  });

  it('folded convs pack weight x weightScale: the same bytes as packing their effective weights', () => {
    // MobileNetV2 has dense, pointwise and depthwise convs with batch norms folded into weightScale; the
    // grouped case (groups 2) packs densely after expanding its groups.
    const graphs = [
      optimizeGraph(mobilenetV2({ params: randomParams(3), inputSize: 32, numClasses: 10 })),
      ...BLOCK_CASES.slice(0, 2).map((c) => optimizeGraph(buildCase(c).graph)),
    ];
    let scaled = 0;
    for (const graph of graphs) {
      const steps = lowerGraph(graph);
      for (const node of graph.nodes) {
        if (node.op !== 'conv2d') continue;
        const step = steps.find((s) => s.node === node.output && s.buffers.weight);
        if (!step) throw new Error(`no step for ${node.name}`);
        const weight = step.buffers.weight;
        if (weight.kind !== 'constant') throw new Error('constant weight expected');
        const a = node.attrs;
        if (a.weightScale) scaled++;
        const inC = graph.tensors[node.inputs[0]].shape[1];
        const expected =
          a.groups > 1 && a.groups === inC && a.outChannels === inC
            ? packDepthwiseWeights(convWeight(a), a.outChannels, a.kernel[0], a.kernel[1])
            : packDenseConvWeights(expandGroupedWeights(convWeight(a), a.outChannels, inC, a.groups, a.kernel[0], a.kernel[1]), a.outChannels, inC, a.kernel[0], a.kernel[1]);
        expect(Array.from(weight.data), node.name).toEqual(Array.from(expected));
      }
    }
    expect(scaled).toBeGreaterThan(50);
  });

  it('pointwise uniforms and workgroups for a concrete case', () => {
    // KERNEL_CASES[0]: 1x16x12x12 -> 24 channels, 1x1: pixels 144, outC4 6, V 2 -> 3 coGroups, P 4 -> 36 rows.
    const { steps } = lower(KERNEL_CASES[0]);
    const s = steps[1];
    expect(s.uniforms).toMatchObject({ pixels: 144, inC4: 4, outC4: 6, coGroups: 3, strideX: 1, strideY: 1, actMin: 0, actMax: 6 });
    expect(s.workgroups).toBe(Math.ceil((Math.ceil(144 / DEFAULT_KERNEL_CHOICE.pointwise.pixelsPerThread) * 3) / 64));
    expect(s.macs).toBe(144 * 24 * 16);
  });

  it('a batch norm must be folded before lowering', () => {
    const b = new GraphBuilder();
    const x = b.input('x', [1, 2, 2, 2]);
    const one = new Float32Array([1, 1]);
    b.output(b.batchNorm(x, { gamma: one, beta: one, mean: one, variance: one, epsilon: 1e-5 }));
    expect(() => lowerGraph(b.build())).toThrow(/batch norm/);
  });

  it('activations survive as uniforms on fused kernels', () => {
    const b = new GraphBuilder();
    const x = b.input('x', [1, 4, 2, 2]);
    const y = b.conv2d(x, { outChannels: 4, kernel: 3, padding: 1, weight: new Float32Array(144), activation: { kind: 'clip', min: -1, max: 2.5 } });
    b.output(b.relu(b.conv2d(y, { outChannels: 4, kernel: 1, weight: new Float32Array(16), activation: RELU })));
    const steps = lowerGraph(b.build());
    expect([steps[1].uniforms.actMin, steps[1].uniforms.actMax]).toEqual([-1, 2.5]);
    expect(steps[2].program.key).toBe(`pointwise/p${DEFAULT_KERNEL_CHOICE.pointwise.pixelsPerThread}v1/1/nores/act`);
    expect(steps[3].program.key).toBe('elementwise/activation');
  });
});
