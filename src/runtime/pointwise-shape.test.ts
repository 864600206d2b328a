/**
 * The pointwise shape rule in the kernel table (`pointwiseByShape`): 1x1 convs (of at least `minMacs`
 * multiply-adds) take `pointwiseShapeTile`'s tile where the choice's pointwise tile is a pointwise family one,
 * nothing else changes (3x3 convs, depthwise, the
 * FC head, workgroup-memory choices, per-node tiles), and the launch's workgroup count follows the tile's
 * workgroup size.
 */
import { describe, expect, it } from 'vitest';
import { pointwiseShapeTile } from '../../shaders/pointwise/shape-tile.ts';
import type { Conv2dNode } from '../graph/ir.ts';
import { optimizeGraph } from '../graph/passes/index.ts';
import { mobilenetV2, randomParams, resnet50 } from '../models/index.ts';
import type { KernelChoice } from './kernel-choice.ts';
import { DEFAULT_KERNEL_CHOICE, GPU_KERNEL_CHOICE } from './kernel-choice.ts';
import { checkKernelChoice, choiceTileOf, convTileOf, launchesOf, nodeView } from './kernel-table.ts';

describe('pointwiseByShape', () => {
  const graph = optimizeGraph(mobilenetV2({ params: randomParams(1) }));
  const conv = (name: string) => nodeView(graph, graph.nodes.find((n) => n.name === name) as Conv2dNode);
  const shapeRule = { pixels: [16, 8], vec4s: [4, 3, 2] };  // every layer, whatever its multiply-adds
  const rule: KernelChoice = { ...DEFAULT_KERNEL_CHOICE, pointwiseByShape: shapeRule };

  it("gives 1x1 convs the shape rule's tile and leaves every other conv on the choice's tiles", () => {
    const expand = conv('features.2.conv.0.0');
    expect(choiceTileOf(rule, expand)).toEqual(pointwiseShapeTile({ pixels: 112 * 112, outC4: 24 }, shapeRule));
    const project = conv('features.14.conv.2');
    expect(choiceTileOf(rule, project)).toEqual({ family: 'pointwise', pixelsPerThread: 16, vec4sPerThread: 4, workgroupSize: 4 });
    expect(choiceTileOf(rule, conv('features.2.conv.1.0'))).toEqual(DEFAULT_KERNEL_CHOICE.depthwise);
    expect(choiceTileOf(rule, conv('features.0.0'))).toEqual(DEFAULT_KERNEL_CHOICE.stem);
  });

  it('does nothing on a workgroup-memory pointwise choice, and per-node tiles win', () => {
    const project = conv('features.14.conv.2');
    expect(choiceTileOf({ ...GPU_KERNEL_CHOICE, pointwiseByShape: shapeRule }, project)).toEqual(GPU_KERNEL_CHOICE.pointwise);
    const own = { family: 'pointwise', pixelsPerThread: 4, vec4sPerThread: 2 } as const;
    expect(convTileOf({ ...rule, perNode: new Map([[project.node.output, own]]) }, project)).toEqual(own);
  });

  it('launches ceil(invocations / workgroup size) workgroups of the rule tile', () => {
    const [launch] = launchesOf(conv('features.14.conv.2'), rule, 'f32');
    // 49 pixels in 4 tiles of 16 x 160 channels in 10 groups of 4 vec4s = 40 invocations, workgroups of 4.
    expect(launch.workgroups).toBe(10);
    expect(launch.program.key.startsWith('pointwise/p16v4w4/')).toBe(true);
    expect(launch.program.code).toContain('@workgroup_size(4)');
    const [plain] = launchesOf(conv('features.14.conv.2'), DEFAULT_KERNEL_CHOICE, 'f32');
    expect(plain.workgroups).toBe(3);
    expect(plain.program.key.startsWith('pointwise/p8v2/')).toBe(true);
  });

  it('is off in both defaults; with minMacs 2^25 MobileNetV2 keeps 8 x 2 everywhere, ResNet-50 takes 16 x 4 but on 64 -> 64', () => {
    expect(DEFAULT_KERNEL_CHOICE.pointwiseByShape).toBeUndefined();
    expect(GPU_KERNEL_CHOICE.pointwiseByShape).toBeUndefined();
    const big: KernelChoice = { ...DEFAULT_KERNEL_CHOICE, pointwiseByShape: { ...shapeRule, minMacs: 2 ** 25 } };
    // MobileNetV2's 1x1 convs all have fewer (the largest, 320 -> 1280 at 7x7, about 20M).
    for (const n of graph.nodes) {
      if (n.op !== 'conv2d' || n.attrs.kernel[0] !== 1 || n.attrs.groups !== 1) continue;
      expect(choiceTileOf(big, nodeView(graph, n))).toEqual(DEFAULT_KERNEL_CHOICE.pointwise);
    }
    // ResNet-50's: 64 -> 64 at 56x56 (12.8M) keeps 8 x 2, 64 -> 256 (51.4M) takes 16 x 4.
    const resnet = optimizeGraph(resnet50({ params: randomParams(2) }));
    const rconv = (name: string) => nodeView(resnet, resnet.nodes.find((n) => n.name === name) as Conv2dNode);
    expect(choiceTileOf(big, rconv('layer1.0.conv1'))).toEqual(DEFAULT_KERNEL_CHOICE.pointwise);
    expect(choiceTileOf(big, rconv('layer1.0.conv3'))).toEqual({ family: 'pointwise', pixelsPerThread: 16, vec4sPerThread: 4, workgroupSize: 64 });
    expect(choiceTileOf(big, rconv('layer4.2.conv1'))).toEqual({ family: 'pointwise', pixelsPerThread: 16, vec4sPerThread: 4, workgroupSize: 4 });
  });

  it('checkKernelChoice refuses empty or unimplemented rule tiles and a bad minMacs', () => {
    expect(() => checkKernelChoice(rule)).not.toThrow();
    expect(() => checkKernelChoice(DEFAULT_KERNEL_CHOICE)).not.toThrow();
    expect(() => checkKernelChoice({ ...rule, pointwiseByShape: { pixels: [], vec4s: [2] } })).toThrow(/pointwiseByShape/);
    expect(() => checkKernelChoice({ ...rule, pointwiseByShape: { pixels: [32], vec4s: [2] } })).toThrow(/pointwiseByShape/);
    expect(() => checkKernelChoice({ ...rule, pointwiseByShape: { pixels: [8], vec4s: [0] } })).toThrow(/pointwiseByShape/);
    expect(() => checkKernelChoice({ ...rule, pointwiseByShape: { pixels: [8], vec4s: [2], minMacs: -1 } })).toThrow(/minMacs/);
  });
});
