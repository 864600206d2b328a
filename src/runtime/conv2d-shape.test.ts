/**
 * The conv2d shape rule in the kernel table (`conv2dByShape`) and the tiered upgrade's dense tiles: dense KxK convs
 * take `conv2dShapeTile`'s tile where the choice's conv2d tile is a conv2d family one; 1x1 convs, depthwise convs,
 * RGB stems, workgroup-memory choices and per-node tiles are left alone; `SOFTWARE_UPGRADE_KERNELS` gives
 * ResNet-50 16 x 4 on its 3x3 convs, grouped convs 8 x 4 and the 7x7 stem 8 x 2.
 */
import { describe, expect, it } from 'vitest';
import type { Conv2dTile } from '../../shaders/conv2d/index.ts';
import type { Conv2dNode } from '../graph/ir.ts';
import { optimizeGraph } from '../graph/passes/index.ts';
import { randomParams, resnet50 } from '../models/index.ts';
import type { KernelChoice } from './kernel-choice.ts';
import { DEFAULT_KERNEL_CHOICE, GPU_KERNEL_CHOICE, SOFTWARE_UPGRADE_KERNELS } from './kernel-choice.ts';
import { checkKernelChoice, choiceTileOf, convTileOf, launchesOf, nodeView } from './kernel-table.ts';

const wide: Conv2dTile = { family: 'conv2d', pixelsPerThread: 16, vec4sPerThread: 4, wrapRows: true };
const rule: KernelChoice = { ...DEFAULT_KERNEL_CHOICE, conv2dByShape: { tiles: [wide, DEFAULT_KERNEL_CHOICE.conv2d as Conv2dTile], minWorkgroups: 2 } };

describe('conv2dByShape', () => {
  const graph = optimizeGraph(resnet50({ params: randomParams(2) }));
  const conv = (name: string) => nodeView(graph, graph.nodes.find((n) => n.name === name) as Conv2dNode);

  it("gives dense KxK convs the rule's tile and leaves 1x1 convs and the stem alone", () => {
    expect(choiceTileOf(rule, conv('layer1.0.conv2'))).toEqual(wide);
    // 7x7 x 512: 4 pixel tiles x 32 vec4 groups = 128 invocations, 2 workgroups.
    expect(choiceTileOf(rule, conv('layer4.0.conv2'))).toEqual(wide);
    expect(choiceTileOf(rule, conv('layer4.1.conv2'))).toEqual(wide);
    expect(choiceTileOf({ ...rule, conv2dByShape: { ...rule.conv2dByShape!, minWorkgroups: 3 } }, conv('layer4.1.conv2'))).toEqual(DEFAULT_KERNEL_CHOICE.conv2d);
    expect(choiceTileOf(rule, conv('layer1.0.conv1'))).toEqual(DEFAULT_KERNEL_CHOICE.pointwise);
    expect(choiceTileOf(rule, conv('conv1'))).toEqual(DEFAULT_KERNEL_CHOICE.stem);
  });

  it('runs the wrapped kernel at 16 x 4 on a 56-wide map (not a multiple of 16)', () => {
    const [launch] = launchesOf(conv('layer1.0.conv2'), rule, 'f32');
    expect(launch.program.key.startsWith('conv2d/wrap/k3x3/p16v4/')).toBe(true);
    // 3136 pixels / 16 = 196 x 16 vec4s / 4 = 784 invocations.
    expect(launch.workgroups).toBe(13);
  });

  it('does nothing on a workgroup-memory conv2d choice, and per-node tiles win', () => {
    expect(choiceTileOf({ ...GPU_KERNEL_CHOICE, conv2dByShape: rule.conv2dByShape }, conv('layer1.0.conv2'))).toEqual(GPU_KERNEL_CHOICE.conv2d);
    const own: Conv2dTile = { family: 'conv2d', pixelsPerThread: 4, vec4sPerThread: 2 };
    const view = conv('layer1.0.conv2');
    expect(convTileOf({ ...rule, perNode: new Map([[view.node.output, own]]) }, view)).toEqual(own);
  });

  it('is in the software upgrade only, with grouped 8 x 4 (the row form) and 7x7 stems on 8 x 2', () => {
    expect(DEFAULT_KERNEL_CHOICE.conv2dByShape).toBeUndefined();
    expect(GPU_KERNEL_CHOICE.conv2dByShape).toBeUndefined();
    expect(choiceTileOf(SOFTWARE_UPGRADE_KERNELS, conv('layer2.1.conv2'))).toEqual(wide);
    expect(SOFTWARE_UPGRADE_KERNELS.grouped).toEqual({ family: 'grouped', pixelsPerThread: 8, vec4sPerThread: 4, rows: true });
    const [stem] = launchesOf(conv('conv1'), SOFTWARE_UPGRADE_KERNELS, 'f32');
    expect(stem.program.key.startsWith('conv-stem/k7x7/s2/c3/p8v2/')).toBe(true);
  });

  it('checkKernelChoice refuses an empty rule, tiles of other families or unimplemented sizes, and a bad minWorkgroups', () => {
    expect(() => checkKernelChoice(rule)).not.toThrow();
    expect(() => checkKernelChoice(SOFTWARE_UPGRADE_KERNELS)).not.toThrow();
    expect(() => checkKernelChoice({ ...rule, conv2dByShape: { tiles: [], minWorkgroups: 2 } })).toThrow(/conv2dByShape/);
    expect(() => checkKernelChoice({ ...rule, conv2dByShape: { tiles: [{ ...wide, pixelsPerThread: 32 }], minWorkgroups: 2 } })).toThrow(/conv2dByShape/);
    const shared = GPU_KERNEL_CHOICE.conv2d as unknown as Conv2dTile;
    expect(() => checkKernelChoice({ ...rule, conv2dByShape: { tiles: [shared], minWorkgroups: 2 } })).toThrow(/conv2dByShape/);
    expect(() => checkKernelChoice({ ...rule, conv2dByShape: { tiles: [wide], minWorkgroups: -1 } })).toThrow(/minWorkgroups/);
  });
});
