import type { GraphNode, Shape4 } from '../src/graph/ir.ts';
import type { Step } from '../src/runtime/step.ts';
import type { KernelProgram, StoragePrecision } from './common.ts';
import type { CheckedUniforms } from './uniforms.ts';

/**
 * The kernel-family interface: each folder under shaders/ exports one object of it (docs/decisions/kernel-families.md).
 * A family owns its WGSL generator (wgsl.ts), the nodes it runs, the variants worth trying on them, the limits of
 * those variants, and the launch geometry; lowering picks a family and a variant from a table and asks for launches.
 */

/** A node as a family sees it: the node and the shapes of its inputs and output. */
export interface NodeView<N extends GraphNode = GraphNode> {
  readonly node: N;
  /** Shape of the first input. */
  readonly inShape: Shape4;
  readonly inShapes: readonly Shape4[];
  readonly outShape: Shape4;
}

/** What families ask of the adapter when they propose variants. */
export interface AdapterTraits {
  /** A CPU implementation (SwiftShader): workgroup barriers are thread synchronisation there, so costly. */
  readonly software: boolean;
}

/**
 * One launch as a family describes it; lowering adds the node's name and output. `uniforms` come from
 * `uniformValues`, so they match the program's uniform block at compile time.
 */
export type Launch = Omit<Step, 'label' | 'node' | 'uniforms'> & { readonly uniforms: CheckedUniforms };

export interface KernelFamily<N extends GraphNode, V> {
  readonly name: string;
  /** Whether this family's kernels compute `view`'s node (op and attributes). */
  supports(view: NodeView): view is NodeView<N>;
  /** The variants worth timing on this node and adapter, the untuned default first (the tuner iterates these). */
  variants(view: NodeView<N>, adapter: AdapterTraits): readonly V[];
  /** Why no kernel of the family implements `variant` (a sentence), or null when one does. */
  check(variant: V): string | null;
  /** The program of the node's (first) launch with `variant`. */
  program(view: NodeView<N>, variant: V, precision: StoragePrecision): KernelProgram;
  /** The node's launches with `variant`, in order. */
  launch(view: NodeView<N>, variant: V, precision: StoragePrecision): readonly Launch[];
}

/** A family whose only variant is `undefined` (nothing to tune). */
export type FixedKernelFamily<N extends GraphNode> = KernelFamily<N, undefined>;

/** `variants` of a family without tuning knobs. */
export const NO_VARIANTS: readonly undefined[] = [undefined];
