/** The selection tables: every conv lands on exactly the families its layer kind allows, and every proposal is valid. */
import { describe, expect, it } from 'vitest';
import { KERNEL_CASES, buildCase } from '../../test/gpu-cases.ts';
import type { Conv2dNode } from '../graph/ir.ts';
import { optimizeGraph } from '../graph/passes/index.ts';
import { mobilenetV2, randomParams, resnet50 } from '../models/index.ts';
import { DEFAULT_KERNEL_CHOICE, GPU_KERNEL_CHOICE } from './kernel-choice.ts';
import { isGroupedConv } from '../../shaders/conv-grouped/index.ts';
import { isStemConv } from '../../shaders/conv-stem/index.ts';
import { CONV_FAMILIES, FIXED_FAMILIES, LAYER_FAMILIES, convFamilyOf, convLayerKind, convTileOf, layerVariants, nodeView } from './kernel-table.ts';

const graphs = [
  optimizeGraph(mobilenetV2({ params: randomParams(1), inputSize: 64 })),
  optimizeGraph(resnet50({ params: randomParams(2), inputSize: 64 })),
  ...KERNEL_CASES.map((c) => optimizeGraph(buildCase(c).graph)),
];
const convs = graphs.flatMap((g) => g.nodes.filter((n): n is Conv2dNode => n.op === 'conv2d').map((n) => nodeView(g, n)));

describe('kernel table', () => {
  it('a conv is supported by exactly the families of its layer kind', () => {
    expect(convs.length).toBeGreaterThan(50);
    for (const view of convs) {
      const supporting = Object.values(CONV_FAMILIES).filter((f) => f.supports(view)).map((f) => f.name);
      // The grouped and stem families sit in the dense kinds' lists but run grouped convs and RGB stems only.
      const expected = LAYER_FAMILIES[convLayerKind(view)].filter((f) => (f.name !== 'grouped' || isGroupedConv(view)) && (f.name !== 'stem' || isStemConv(view)));
      expect(supporting.sort()).toEqual(expected.map((f) => f.name).sort());
    }
  });

  it("every variant a family proposes passes that family's check and runs the layer", () => {
    for (const software of [true, false]) {
      for (const view of convs) {
        const variants = layerVariants(view, { software });
        expect(variants.length).toBeGreaterThan(0);
        for (const t of variants) {
          const family = convFamilyOf(t);
          expect(family.check(t), JSON.stringify(t)).toBeNull();
          expect(family.supports(view)).toBe(true);
        }
        expect(variants.some((t) => t.family === 'conv-shared')).toBe(!software && convLayerKind(view) !== 'depthwise');
        // The tuner times the grouped family, beside the dense ones, on grouped convs on every adapter class.
        expect(variants.some((t) => t.family === 'grouped')).toBe(isGroupedConv(view));
        expect(variants.some((t) => t.family === 'stem')).toBe(isStemConv(view));
      }
    }
  });

  it('grouped convs: the software default runs them on the grouped family, the GPU default on the dense ones', () => {
    const grouped = convs.filter((v) => isGroupedConv(v));
    expect(grouped.length).toBeGreaterThan(0);
    for (const view of grouped) {
      expect(convTileOf(DEFAULT_KERNEL_CHOICE, view).family).toBe('grouped');
      expect(convTileOf(GPU_KERNEL_CHOICE, view).family).toBe('conv-shared');
    }
  });

  it('the default choices give each conv a tile of a family that runs it', () => {
    for (const choice of [DEFAULT_KERNEL_CHOICE, GPU_KERNEL_CHOICE]) {
      for (const view of convs) expect(convFamilyOf(convTileOf(choice, view)).supports(view)).toBe(true);
    }
  });

  it('every other op of the networks has a fixed family', () => {
    for (const g of graphs) {
      for (const node of g.nodes) {
        if (node.op === 'conv2d' || node.op === 'linear') continue;
        expect(FIXED_FAMILIES.some((f) => f.supports(nodeView(g, node))), node.op).toBe(true);
      }
    }
  });
});
