import type { EpilogueActivation, KernelBinding, KernelProgram, StoragePrecision } from '../common.ts';
import { bindingDecls, epilogueKey, finishProgram, uniformStruct } from '../common.ts';
import { activationFunctionWgsl } from '../../src/graph/activations/index.ts';
import { uniformBlock } from '../uniforms.ts';

/**
 * The middle launch of a fused squeeze-and-excitation block (index.ts): one workgroup per image reduces the
 * squeeze launch's per-tile channel sums (f32 `partial`, `[n][tiles][hidC4]` vec4s) to the channel means, runs
 * fc1 + activation and fc2 + gate activation on them in workgroup memory, and writes the gate (`dst`,
 * `[n][hidC4]` vec4s, the model's storage precision) that the excite launch scales the depthwise output by.
 * Weights in the pointwise layout (`[inC4][outC4][4]` vec4s); biases in one f32 buffer `[fc1 sqC4 | fc2 hidC4]`.
 */
export interface GateVariant {
  /** Hidden (pooled) and squeeze vec4s: the workgroup arrays are sized to them. */
  readonly hidC4: number;
  readonly sqC4: number;
  readonly fc1Act: EpilogueActivation;
  readonly gateAct: EpilogueActivation;
}

export const GATE_UNIFORMS = uniformBlock({
  tiles: 'u32',
  hidC4: 'u32',
  sqC4: 'u32',
  invCount: 'f32',
  fc1Min: 'f32',
  fc1Max: 'f32',
  gateMin: 'f32',
  gateMax: 'f32',
});

const WG = 64;

/** Workgroup memory of a gate variant (the pooled vector and fc1's output). */
export function gateWorkgroupBytes(v: Pick<GateVariant, 'hidC4' | 'sqC4'>): number {
  return (v.hidC4 + v.sqC4) * 16;
}

const GATE_BINDINGS: readonly KernelBinding[] = [
  { name: 'partial', kind: 'read' },
  { name: 'fc1Weight', kind: 'read' },
  { name: 'fc2Weight', kind: 'read' },
  { name: 'bias', kind: 'read' },
  { name: 'dst', kind: 'write' },
  { name: 'params', kind: 'uniform' },
];

function act(a: EpilogueActivation, v: string, lo: string, hi: string): string {
  if (a.fn) return `${v} = ${activationFunctionWgsl(a.fn, v)};`;
  return a.activation ? `${v} = clamp(${v}, vec4<f32>(params.${lo}), vec4<f32>(params.${hi}));` : '';
}

/** `a += x (as 4 lanes) times the 4 weight vec4s at w` (one input vec4 of a pointwise-layout matrix). */
const fma4 = (weight: string, x: string) => `a = fma(vec4<f32>(${x}.x), load_${weight}(w), fma(vec4<f32>(${x}.y), load_${weight}(w + 1u),
          fma(vec4<f32>(${x}.z), load_${weight}(w + 2u), fma(vec4<f32>(${x}.w), load_${weight}(w + 3u), a))));`;

export function gateProgram(v: GateVariant, precision: StoragePrecision = 'f32'): KernelProgram {
  const code = `
${uniformStruct(GATE_UNIFORMS.fields)}
${bindingDecls(GATE_BINDINGS, { partial: 'array<vec4<f32>>', bias: 'array<vec4<f32>>' }, precision)}
var<workgroup> pooled: array<vec4<f32>, ${v.hidC4}>;
var<workgroup> squeezed: array<vec4<f32>, ${v.sqC4}>;

@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
  let n = wg.y * nwg.x + wg.x;
  for (var c = li; c < params.hidC4; c += ${WG}u) {
    var s = vec4<f32>(0.0);
    for (var t = 0u; t < params.tiles; t++) { s += partial[(n * params.tiles + t) * params.hidC4 + c]; }
    pooled[c] = s * params.invCount;
  }
  workgroupBarrier();
  for (var j = li; j < params.sqC4; j += ${WG}u) {
    var a = bias[j];
    for (var c = 0u; c < params.hidC4; c++) {
      let x = pooled[c];
      let w = (c * params.sqC4 + j) * 4u;
      ${fma4('fc1Weight', 'x')}
    }
    ${act(v.fc1Act, 'a', 'fc1Min', 'fc1Max')}
    squeezed[j] = a;
  }
  workgroupBarrier();
  for (var c = li; c < params.hidC4; c += ${WG}u) {
    var a = bias[params.sqC4 + c];
    for (var j = 0u; j < params.sqC4; j++) {
      let x = squeezed[j];
      let w = (j * params.hidC4 + c) * 4u;
      ${fma4('fc2Weight', 'x')}
    }
    ${act(v.gateAct, 'a', 'gateMin', 'gateMax')}
    store_dst(n * params.hidC4 + c, a);
  }
}
`;
  const key = (a: EpilogueActivation) => epilogueKey(a).replace(/\//g, ':');
  return finishProgram({
    name: 'inverted-residual-gate',
    key: `inverted-residual/gate/h${v.hidC4}/q${v.sqC4}/${key(v.fc1Act)}/${key(v.gateAct)}`,
    code,
    bindings: [...GATE_BINDINGS],
    uniforms: GATE_UNIFORMS.fields,
    workgroupSize: WG,
  }, precision);
}
