import { describe, expect, it } from 'vitest';
import { OptionsType } from './schema.ts';

// The `BuiltinOptions` union's member order in TensorFlow Lite's schema.fbs, written out from the schema's
// own listing; a wrong index makes real files fail the options-type check (SPLIT_V was once given 76, the
// index of SquaredDifferenceOptions).
const SCHEMA_ORDER: Record<string, number> = {
  NONE: 0,
  Conv2DOptions: 1,
  DepthwiseConv2DOptions: 2,
  Pool2DOptions: 5,
  FullyConnectedOptions: 8,
  SoftmaxOptions: 9,
  ConcatenationOptions: 10,
  AddOptions: 11,
  ResizeBilinearOptions: 15,
  ReshapeOptions: 17,
  MulOptions: 21,
  PadOptions: 22,
  ReducerOptions: 27,
  SubOptions: 28,
  DivOptions: 29,
  SqueezeOptions: 30,
  StridedSliceOptions: 32,
  SplitOptions: 35,
  DequantizeOptions: 38,
  MaximumMinimumOptions: 39,
  ArgMaxOptions: 40,
  PadV2Options: 43,
  TransposeConvOptions: 49,
  PowOptions: 56,
  ResizeNearestNeighborOptions: 74,
  LeakyReluOptions: 75,
  SquaredDifferenceOptions: 76,
  SplitVOptions: 79,
  QuantizeOptions: 89,
  GeluOptions: 116,
};

describe('TFLite BuiltinOptions indices', () => {
  it.each(Object.entries(OptionsType))('%s matches the schema.fbs union order', (name, index) => {
    expect(SCHEMA_ORDER[name], `${name} is missing from this test's copy of the union order`).toBeDefined();
    expect(index).toBe(SCHEMA_ORDER[name]);
  });
});
