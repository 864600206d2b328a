/**
 * ONNX's backend node tests of Resize / Upsample / ArgMax / ConvTranspose through the ONNX loader and the CPU
 * reference (the GPU runs the same through `npx tsx scripts/onnx-node-upsample.ts --gpu`). The ones webcnn
 * supports must match; the others must be refused with a typed error (cubic, tf_* coordinate modes, ArgMax
 * over other axes or select_last_index 1, 1-D and 3-D ConvTranspose).
 */
import { describe, expect, it } from 'vitest';
import { UnsupportedOpError } from '../src/errors.ts';
import { loadOnnx } from '../src/formats/onnx/loader.ts';
import { runGraphReference } from '../src/reference/index.ts';
import { UPSAMPLE_NODE_TEST_PREFIXES, compareNodeOutput } from './helpers/onnx-node-compare.ts';
import { nodeTestNames, readNodeTest } from './helpers/onnx-node-tests.ts';

const SUPPORTED = new Set([
  'test_argmax_keepdims_example', 'test_argmax_keepdims_random', 'test_argmax_negative_axis_keepdims_example',
  'test_argmax_no_keepdims_example', 'test_argmax_no_keepdims_random',
  'test_convtranspose', 'test_convtranspose_autopad_same', 'test_convtranspose_dilations', 'test_convtranspose_kernel_shape',
  'test_convtranspose_output_shape', 'test_convtranspose_pad', 'test_convtranspose_pads', 'test_convtranspose_with_kernel',
  'test_resize_downsample_scales_linear', 'test_resize_downsample_scales_linear_align_corners', 'test_resize_downsample_scales_nearest',
  'test_resize_downsample_sizes_linear_pytorch_half_pixel', 'test_resize_downsample_sizes_nearest', 'test_resize_upsample_scales_linear',
  'test_resize_upsample_scales_linear_align_corners', 'test_resize_upsample_scales_nearest', 'test_resize_upsample_sizes_nearest',
  'test_resize_upsample_sizes_nearest_ceil_half_pixel', 'test_resize_upsample_sizes_nearest_floor_align_corners',
  'test_resize_upsample_sizes_nearest_round_prefer_ceil_asymmetric', 'test_upsample_nearest',
]);

const names = nodeTestNames(UPSAMPLE_NODE_TEST_PREFIXES);

describe.skipIf(names.length === 0)('ONNX node tests: Resize, Upsample, ArgMax, ConvTranspose (libonnx-testdata)', () => {
  it('finds every supported test', () => {
    expect(names.filter((n) => SUPPORTED.has(n)).sort()).toEqual([...SUPPORTED].sort());
  });
  for (const name of names) {
    it(name, () => {
      const t = readNodeTest(name);
      if (!SUPPORTED.has(name)) {
        expect(() => loadOnnx(t.model)).toThrow(UnsupportedOpError);
        return;
      }
      const { graph } = loadOnnx(t.model);
      expect(compareNodeOutput(runGraphReference(graph, [t.input])[0], t.expected)).toBeNull();
    });
  }
});
