import type { KernelProgram, UniformField } from '../../shaders/common.ts';
import { uniformStruct } from '../../shaders/common.ts';
import type { ConcatNode, Graph, GraphNode, TensorId } from '../graph/ir.ts';
import { c4 } from '../graph/storage.ts';
import type { Step } from './step.ts';

/**
 * Concat without a copy: where the layout allows, each input of a channel concat is written by its producer
 * straight into its channel range of the concatenated buffer, and the concat itself lowers to no launch.
 *
 * A tensor stored that way is a view: the memory plan gives it the concat output's slot, and its producer's
 * launches store through a remapped `store_dst` (a program variant: vec4 `i` of the tensor's own NHWC4 layout
 * lands at pixel `i / ownC4`, vec4 `c4Offset + i % ownC4` of the concat's layout). That is exact because the
 * producers listed in `VIEW_PRODUCERS` write their output only through `store_dst`, in their own layout, and
 * never read it back.
 */
export interface ConcatView {
  /** The concat output whose buffer holds the tensor. */
  readonly root: TensorId;
  /** First vec4 of the tensor's channels in each pixel of the root. */
  readonly c4Offset: number;
  readonly ownC4: number;
  readonly rootC4: number;
}

/** Ops whose kernels write their output only through `store_dst`, indexed in the output's own NHWC4 layout. */
const VIEW_PRODUCERS: ReadonlySet<GraphNode['op']> = new Set(['conv2d', 'activation', 'add', 'maxPool', 'avgPool', 'pad']);

/** What `planConcatViews` found: concat inputs stored in their concat, and concats read from a longer one. */
export interface ConcatPlan {
  /** Concat inputs by tensor id, each written into its channel range of `root`. */
  readonly inputs: Map<TensorId, ConcatView>;
  /**
   * Concats whose inputs are a prefix of an in-place concat's (DenseNet's block: every layer concatenates all the
   * block's features so far): read from the longer concat's buffer, as an aligned slice is, with no launch.
   */
  readonly prefixes: Map<TensorId, ConcatView>;
  /**
   * Concat inputs also read by other kernels (DenseNet's first layer reads the block input itself): those load
   * through a remap into the concat's buffer. Only inputs whose padding lanes are the concat's own (a multiple of 4
   * channels, or the last input) qualify.
   */
  readonly reads: Map<TensorId, ConcatView>;
}

/**
 * The concats that can be in place: every input at a channel offset that is a multiple of 4, produced by a
 * `VIEW_PRODUCERS` node that is not an alias, no graph output, and read by that concat alone (once) or also by
 * concats of a prefix of its inputs (each then a prefix view, which must be no graph output and whose readers are
 * `SLICE_READERS`) or by other `SLICE_READERS` (see `reads`). `isAlias` is lowering's rule for nodes without a
 * launch.
 */
export function planConcatViews(graph: Graph, isAlias: (node: GraphNode) => boolean): ConcatPlan {
  const readers = new Map<TensorId, GraphNode[]>();
  for (const node of graph.nodes) {
    for (const id of node.inputs) {
      const list = readers.get(id);
      if (list) list.push(node);
      else readers.set(id, [node]);
    }
  }
  const outputs = new Set(graph.outputs);
  const producer = new Map<TensorId, GraphNode>();
  for (const node of graph.nodes) producer.set(node.output, node);
  const concats = graph.nodes.filter((n): n is ConcatNode => n.op === 'concat');
  const isPrefix = (c: ConcatNode, f: ConcatNode) => c.inputs.length < f.inputs.length && c.inputs.every((id, i) => f.inputs[i] === id);

  const plan: ConcatPlan = { inputs: new Map(), prefixes: new Map(), reads: new Map() };
  for (const node of concats) {
    // A concat that is a prefix of a longer one is planned with that one.
    if (node.inputs.length < 2 || concats.some((g) => isPrefix(node, g))) continue;
    const prefixes = concats.filter((c) => isPrefix(c, node));
    const prefixesFit = prefixes.every((c) => !outputs.has(c.output) && (readers.get(c.output) ?? []).every((r) => SLICE_READERS.has(r.op) && !isAlias(r)));
    if (!prefixesFit) continue;
    const allowed = new Set<GraphNode>([node, ...prefixes]);
    const rootC4 = c4(graph.tensors[node.output].shape[1]);
    let offset = 0;
    const uses = new Map<TensorId, number>();
    for (const id of node.inputs) uses.set(id, (uses.get(id) ?? 0) + 1);
    const planned: [TensorId, ConcatView][] = [];
    const extraRead = new Set<TensorId>();
    for (const id of node.inputs) {
      const p = producer.get(id);
      const read = readers.get(id) ?? [];
      const channels = graph.tensors[id].shape[1];
      const others = read.filter((r) => !allowed.has(r));
      const last = planned.length === node.inputs.length - 1;
      const fits =
        offset % 4 === 0 && p !== undefined && VIEW_PRODUCERS.has(p.op) && !isAlias(p) && !outputs.has(id) &&
        uses.get(id) === 1 &&
        (others.length === 0 || ((channels % 4 === 0 || last) && others.every((r) => SLICE_READERS.has(r.op) && !isAlias(r))));
      if (!fits) break;
      planned.push([id, { root: node.output, c4Offset: offset / 4, ownC4: c4(channels), rootC4 }]);
      if (others.length > 0) extraRead.add(id);
      offset += channels;
    }
    if (planned.length < node.inputs.length) continue;
    for (const [id, view] of planned) {
      plan.inputs.set(id, view);
      if (extraRead.has(id)) plan.reads.set(id, view);
    }
    for (const c of prefixes) plan.prefixes.set(c.output, { root: node.output, c4Offset: 0, ownC4: c4(graph.tensors[c.output].shape[1]), rootC4 });
  }
  return plan;
}

/** Whether `node` is a concat whose inputs are all views (it needs no launch). */
export function isViewedConcat(node: GraphNode, views: ReadonlyMap<TensorId, ConcatView>): node is ConcatNode {
  return node.op === 'concat' && node.inputs.length > 1 && node.inputs.every((id) => views.get(id)?.root === node.output);
}

/**
 * The remap of a view as uniforms, not constants: layers that differ only in where their tensor sits in its root
 * (DenseNet's concat offsets and prefix lengths) then share one program and one pipeline. `prefix` names the
 * fields (the binding's name: `dst` for the stored output, the read binding's otherwise), so one program can hold several.
 */
function viewFields(prefix: string): UniformField[] {
  return [`${prefix}ViewOwnC4`, `${prefix}ViewRootC4`, `${prefix}ViewOffset`].map((name) => ({ name, type: 'u32' }));
}

function viewValues(prefix: string, view: ConcatView): Record<string, number> {
  return { [`${prefix}ViewOwnC4`]: view.ownC4, [`${prefix}ViewRootC4`]: view.rootC4, [`${prefix}ViewOffset`]: view.c4Offset };
}

/** WGSL: vec4 `i` of the tensor's own NHWC4 layout as a vec4 index of its root, through the uniforms `viewFields(prefix)`. */
const remapExpr = (prefix: string, i: string): string =>
  `(${i} / params.${prefix}ViewOwnC4) * params.${prefix}ViewRootC4 + params.${prefix}ViewOffset + ${i} % params.${prefix}ViewOwnC4`;

/** `program` with `fields` appended to its uniform block (the `Params` struct in the code and `uniforms`). */
function withUniformFields(program: KernelProgram, fields: readonly UniformField[]): KernelProgram {
  const struct = uniformStruct(program.uniforms);
  if (!program.code.includes(struct)) throw new Error(`${program.key}: no Params struct of its uniform fields to extend`);
  const clash = fields.find((f) => program.uniforms.some((u) => u.name === f.name));
  if (clash) throw new Error(`${program.key}: uniform ${clash.name} is already declared`);
  const uniforms = [...program.uniforms, ...fields];
  return { ...program, uniforms, code: program.code.replace(struct, uniformStruct(uniforms)) };
}

/** `program` with `store_dst` remapped into a view's channel range of its root (the view's place in uniforms). */
export function viewProgram(program: KernelProgram): KernelProgram {
  const header = 'fn store_dst(i: u32, v: vec4<f32>) {';
  if (!program.code.includes(header)) throw new Error(`${program.key}: no store_dst accessor to remap`);
  const remap = `fn store_dst(i_own: u32, v: vec4<f32>) {\n  let i = ${remapExpr('dst', 'i_own')};\n `;
  const extended = withUniformFields(program, viewFields('dst'));
  return { ...extended, key: `${program.key}/view`, code: extended.code.replace(header, remap) };
}

/**
 * Slices read in place: a `sliceChannels` whose range starts on a vec4 boundary and ends on one (or at the input's
 * end, so its padding lanes are the input's) is a view of its input, needs no launch, and its readers load
 * through a remapped accessor. Only where the input is not itself a view, the slice is no graph output, and
 * every reader is in `SLICE_READERS` (kernels that read their inputs only through the load accessors, in the
 * input's own layout).
 */
const SLICE_READERS: ReadonlySet<GraphNode['op']> = new Set(['conv2d', 'activation', 'add', 'maxPool', 'avgPool', 'globalAvgPool', 'pad', 'concat']);

export function planSliceViews(
  graph: Graph,
  concatViews: ReadonlyMap<TensorId, ConcatView>,
  isAlias: (node: GraphNode) => boolean,
  prefixes: ReadonlyMap<TensorId, ConcatView> = new Map(),
): Map<TensorId, ConcatView> {
  const outputs = new Set(graph.outputs);
  const aliased = new Set<TensorId>();
  for (const node of graph.nodes) if (isAlias(node)) aliased.add(node.output);
  const views = new Map<TensorId, ConcatView>(prefixes);
  for (const node of graph.nodes) {
    if (node.op !== 'sliceChannels') continue;
    const x = node.inputs[0];
    const channels = graph.tensors[x].shape[1];
    const { start, count } = node.attrs;
    const aligned = start % 4 === 0 && (count % 4 === 0 || start + count === channels);
    const readersFit = graph.nodes.every((n) => !n.inputs.includes(node.output) || (SLICE_READERS.has(n.op) && !isAlias(n)));
    const inputIsPlain = !concatViews.has(x) && !aliased.has(x) && !views.has(x);
    if (aligned && readersFit && inputIsPlain && !outputs.has(node.output) && !concatViews.has(node.output)) {
      views.set(node.output, { root: x, c4Offset: start / 4, ownC4: c4(count), rootC4: c4(channels) });
    }
  }
  return views;
}

/** `program` with the load accessors of binding `name` remapped into a view's channel range (uniforms `nameView*`). */
export function sliceReadProgram(program: KernelProgram, name: string): KernelProgram {
  const extended = withUniformFields(program, viewFields(name));
  let code = extended.code;
  for (const header of [`fn load_${name}(i: u32) -> vec4<f32> {`, `fn load_${name}_lane(i: u32, lane: u32) -> f32 {`]) {
    if (!code.includes(header)) throw new Error(`${program.key}: no accessor '${header}' to remap`);
    code = code.replace(header, `${header.replace('(i: u32', '(i_own: u32')}
  let i = ${remapExpr(name, 'i_own')};
 `);
  }
  return { ...extended, key: `${program.key}/slice-${name}`, code };
}

/** A launch with every read of a slice view remapped. */
export function sliceReadStep(step: Step, sliceViews: ReadonlyMap<TensorId, ConcatView>): Step {
  let program = step.program;
  let uniforms = step.uniforms;
  for (const b of step.program.bindings) {
    const ref = step.buffers[b.name];
    const view = b.kind === 'read' && ref?.kind === 'tensor' ? sliceViews.get(ref.id) : undefined;
    if (view) {
      program = sliceReadProgram(program, b.name);
      uniforms = { ...uniforms, ...viewValues(b.name, view) };
    }
  }
  return program === step.program ? step : { ...step, program, uniforms };
}

/** A producer's launch that writes `id` stored as `view`. */
export function viewStep(step: Step, id: TensorId, view: ConcatView): Step {
  const dst = step.buffers.dst;
  if (!dst || dst.kind !== 'tensor' || dst.id !== id) return step;
  return { ...step, program: viewProgram(step.program), uniforms: { ...step.uniforms, ...viewValues('dst', view) } };
}
