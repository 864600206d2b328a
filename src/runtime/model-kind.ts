/**
 * What task a model's first output says it does, from the graph alone (no GPU): one score per class is a
 * classifier, a score per class and pixel or a class per pixel is a segmenter. The image tasks check it
 * before compiling, so that a model given to the wrong one is refused with one line saying what it is.
 */
import { ModelKindError } from '../errors.ts';
import type { Graph } from '../graph/ir.ts';
import { isIndexOutput } from './indices.ts';

export type ModelKind =
  /** `[1, C, 1, 1]` (a file's `[1, C]`): one score per class. */
  | { readonly kind: 'classifier'; readonly classes: number }
  /**
   * `output: 'scores'`: `[1, C, H, W]`, C > 1, H x W > 1, a score per class and pixel (argmax to do);
   * `output: 'mask'`: `[1, 1, H, W]` made by an arg max in the model, a class per pixel, of `classes` (the arg
   * max's channel count).
   */
  | { readonly kind: 'segmenter'; readonly output: 'scores' | 'mask'; readonly classes: number; readonly height: number; readonly width: number }
  /** Neither: `reason` says what the output is. */
  | { readonly kind: 'unknown'; readonly reason: string };

/** The task `graph`'s first output implies. */
export function detectModelKind(graph: Graph): ModelKind {
  const id = graph.outputs[0];
  if (id === undefined) return { kind: 'unknown', reason: 'the model has no output' };
  const shape = graph.tensors[id].shape;
  const [n, c, h, w] = shape;
  const shown = `[${shape.join(', ')}]`;
  if (n !== 1) return { kind: 'unknown', reason: `the first output is ${shown}, a batch of ${n}: the image tasks take one image` };
  if (h === 1 && w === 1) return { kind: 'classifier', classes: c };
  if (isIndexOutput(graph, 0)) {
    const argMax = graph.nodes.find((node) => node.output === id)!;
    const classes = graph.tensors[argMax.inputs[0]].shape[1];
    if (c === 1) return { kind: 'segmenter', output: 'mask', classes, height: h, width: w };
    return { kind: 'unknown', reason: `the first output is ${shown}, an arg max with ${c} channels, not one class per pixel` };
  }
  if (c > 1) return { kind: 'segmenter', output: 'scores', classes: c, height: h, width: w };
  return {
    kind: 'unknown',
    reason: `the first output is ${shown}: one channel per pixel that no arg max made, neither a class per pixel nor a score per class`,
  };
}

/** `detectModelKind`, required to be a classifier: else a `ModelKindError` saying what it is. */
export function requireClassifier(graph: Graph): number {
  const kind = detectModelKind(graph);
  if (kind.kind === 'classifier') return kind.classes;
  const shape = `[${graph.tensors[graph.outputs[0]]?.shape.join(', ')}]`;
  if (kind.kind === 'segmenter') {
    throw new ModelKindError(
      `the model is an image segmenter (its first output ${shape} is a ${kind.output === 'mask' ? 'class' : 'score per class'} per pixel), ` +
        'not an image classifier, which needs [1, C, 1, 1] (one score per class): use ImageSegmenter',
    );
  }
  throw new ModelKindError(`${kind.reason}; an image classifier needs [1, C, 1, 1] (one score per class)`);
}

/** `detectModelKind`, required to be a segmenter: else a `ModelKindError` saying what it is. */
export function requireSegmenter(graph: Graph): Extract<ModelKind, { kind: 'segmenter' }> {
  const kind = detectModelKind(graph);
  if (kind.kind === 'segmenter') return kind;
  if (kind.kind === 'classifier') {
    const shape = `[${graph.tensors[graph.outputs[0]].shape.join(', ')}]`;
    throw new ModelKindError(
      `the model is an image classifier (its first output ${shape} is one score per class), not an image segmenter, which needs ` +
        'a score per class and pixel [1, C, H, W] or a class per pixel from an arg max [1, 1, H, W]: use ImageClassifier',
    );
  }
  throw new ModelKindError(`${kind.reason}; an image segmenter needs [1, C, H, W] scores or a [1, 1, H, W] arg max`);
}
