/**
 * One test per bug `npm run fuzz` (or the review around it) found in the loaders, each with a generator for the
 * file that triggered it (the minimized form: the smallest parameters that still did), the case id that found
 * it with seed 1 against the code before the fix, and what happened then. Every one must now end in a typed
 * `WebcnnError` (or a correct load) within memory. Speed is checked through what shows the work done, never
 * through wall time (a loaded machine must not fail these): the refusal names the first offending entry, or
 * the number of decodes is counted; a relapse into the old hangs still fails, at the test's timeout.
 */
import { describe, expect, it, vi } from 'vitest';
import { ModelFormatError, ResourceLimitError, UnsupportedOpError, WebcnnError } from '../src/errors.ts';
import { loadModel } from '../src/formats/index.ts';
import { findLabels } from '../src/formats/tflite/labels.ts';
import { BuiltinOp, OptionsType } from '../src/formats/tflite/schema.ts';
import { options, TfliteWriter } from './helpers/tflite-writer.ts';
import { runGraphReference } from '../src/reference/index.ts';
import { broadcastBomb, deepSubgraphs, emptyNodes, wideConcat as onnxWideConcat, wideScalarMul } from './fuzz/onnx.ts';
import { aliasChain, sharedTables, wideConcat as tfliteWideConcat } from './fuzz/tflite.ts';
import { exerciseLoaded, memoryBound } from './fuzz/engine.ts';

/** Runs `load`, returning the error (or null) and the heap + ArrayBuffer growth. */
function measure(load: () => unknown): { error: unknown; mem: number } {
  const m = () => {
    const u = process.memoryUsage();
    return u.heapUsed + u.arrayBuffers;
  };
  const before = m();
  let error: unknown = null;
  let kept: unknown;
  try {
    kept = load();
  } catch (e) {
    error = e;
  }
  const result = { error, mem: m() - before };
  void kept;
  return result;
}

function expectRefused(bytes: Uint8Array, Class: typeof WebcnnError, pattern: RegExp, fileName = 'case'): void {
  const r = measure(() => loadModel(bytes, { fileName }));
  expect(r.error, String(r.error)).toBeInstanceOf(Class);
  expect((r.error as Error).message).toMatch(pattern);
  expect(r.mem).toBeLessThan(memoryBound(bytes.length));
}

describe('TFLite', () => {
  // tflite/1/20 (hostile: alias chain of 20000 RESHAPEs of a constant): RangeError: Maximum call stack size
  // exceeded in Converter.constant, which followed the chain recursively. Fixed: aliases point at the tensor
  // that holds the data. The smallest chain that still overflowed the stack was ~5000 (tflite/1/2847).
  it('a constant reshaped 20,000 times in a row loads, and its values arrive', () => {
    const loaded = loadModel(aliasChain(20_000));
    const x = new Float32Array([1, 2, 3, 4]);
    expect(Array.from(runGraphReference(loaded.graph, [x])[0])).toEqual([5, 5, 5]); // 0.5 * (1 + 2 + 3 + 4)
  });

  // Found while fixing the above (no fuzz case with seed 1): a RESHAPE of a constant that writes its own input,
  // or two RESHAPEs that write each other's input, made the same recursion endless (RangeError).
  it('an alias of a constant onto itself, or a loop of two, is a ModelFormatError', () => {
    const self = new TfliteWriter();
    const x1 = self.input('x', [1, 4]);
    const c1 = self.float32('c', [3, 4], new Array(12).fill(1));
    self.op(BuiltinOp.RESHAPE, [c1], [c1], options.empty(OptionsType.ReshapeOptions));
    const y1 = self.activation('y', [1, 3]);
    self.op(BuiltinOp.FULLY_CONNECTED, [x1, c1, -1], [y1], options.fullyConnected());
    self.output(y1);
    expectRefused(self.build(), ModelFormatError, /operator 0 \(RESHAPE\): output tensor 1 'c' is a constant/);

    const loop = new TfliteWriter();
    const x2 = loop.input('x', [1, 4]);
    const c2 = loop.float32('c', [3, 4], new Array(12).fill(1));
    const a2 = loop.activation('a', [3, 4]);
    loop.op(BuiltinOp.RESHAPE, [c2], [a2], options.empty(OptionsType.ReshapeOptions));
    loop.op(BuiltinOp.RESHAPE, [a2], [c2], options.empty(OptionsType.ReshapeOptions));
    const y2 = loop.activation('y', [1, 3]);
    loop.op(BuiltinOp.FULLY_CONNECTED, [x2, a2, -1], [y2], options.fullyConnected());
    loop.output(y2);
    expectRefused(loop.build(), ModelFormatError, /operator 1 \(RESHAPE\): output tensor 1 'c' is a constant/);
  });

  // tflite/1/107 (hostile: 100000 shared tables, 1 dims, 100000-byte name): the process died out of memory
  // (every tensor entry decoded the same 100 kB name again: 10 GB of strings). tflite/1/2537 (100000 shared
  // tables, 1000 dims): 2.7 s; tflite/1/2541 (1000 shared tables, 20000 dims): 156 MiB from a 97 kB file.
  // Fixed: vectors and strings are decoded once per position, names cut at 1 kB, and tensor and operator
  // vectors that repeat a table are refused.
  it.each([
    [100_000, 1, 100_000],
    [100_000, 1_000, 1_000],
    [1_000, 20_000, 1_000],
  ])('flatbuffer tables shared by %i vector entries (%i dims, %i-byte name) are refused quickly', (n, dims, name) => {
    expectRefused(sharedTables(n, dims, name, 16), ModelFormatError, /tensors\[1\]: is the same table as entry 0/);
  });

  // Found in review: 100,000 metadata entries naming one large buffer made findLabels decode it 100,000 times.
  it('looks at each distinct metadata buffer once, and at 32 at most', () => {
    // Every label candidate is read through TextDecoder.decode: count the reads.
    const decode = vi.spyOn(TextDecoder.prototype, 'decode');
    try {
      const big = new TextEncoder().encode('label\n'.repeat(200_000));
      const entries = Array.from({ length: 100_000 }, () => ({ name: 'labels', data: big }));
      const r = measure(() => findLabels(new Uint8Array(0), entries, 10));
      expect(r.error).toBeNull();
      expect(decode.mock.calls.filter(([bytes]) => bytes === big)).toHaveLength(1);
      decode.mockClear();
      const distinct = Array.from({ length: 1_000 }, (_, i) => ({ name: `labels${i}`, data: new TextEncoder().encode('a\nb\nc\n') }));
      expect(findLabels(new Uint8Array(0), distinct, 10).found).toBeNull();
      expect(decode.mock.calls).toHaveLength(32);
    } finally {
      decode.mockRestore();
    }
  });
});

describe('ONNX', () => {
  // onnx/1/55 (hostile: 1000000 empty nodes): 149 MiB of protobufjs objects from a 2 MB file. Fixed: the
  // decoder charges what it builds to the load budget (ResourceLimitError).
  it('a million empty nodes are refused before they become objects', () => {
    expectRefused(emptyNodes(1_000_000), ResourceLimitError, /ONNX protobuf: decoding this 2000006-byte file would take more than/);
  });

  // onnx/1/138 (hostile: broadcast of [1, 4096] + [4096, 1] constants): constant folding built 16.7 million
  // values: 2.2-6.3 s and up to 318 MiB; with [1, 65536] + [65536, 1] it threw "Invalid array length" from
  // inside. Fixed: folded constants go through checkedElementCount and the load budget.
  it('a broadcast of [1, 4096] + [4096, 1] constants is a ResourceLimitError', () => {
    expectRefused(broadcastBomb(4096), ResourceLimitError, /node 0 \(unnamed Add\): folded constant: loading needs more than/);
  });
  it('with [1, 65536] + [65536, 1] the [65536, 65536] input is refused first', () => {
    expectRefused(broadcastBomb(65536), ResourceLimitError, /graph input 'x': dims \[65536, 65536\] make a tensor of over/);
  });

  // onnx/1/2534 (hostile: scalar Mul on 2147483647 channels): a hang (three 8 GB Float32Arrays for the
  // per-channel scale, shift and constant: 64 s and 24 GB when run alone); onnx/1/536 (2^26 channels): 5.6 s,
  // 765 MiB from a 98-byte file. Fixed: declared input dims go through checkedElementCount, per-channel vectors
  // through the load budget.
  it('a scalar multiplied into 2^31 - 1 channels is refused at the input', () => {
    expectRefused(wideScalarMul(2 ** 31 - 1), ResourceLimitError, /graph input 'x': dims \[1, 2147483647, 1, 1\] make a tensor of over 536870912 elements/);
  });
  it('a scalar multiplied into 2^26 channels is refused by the load budget', () => {
    expectRefused(wideScalarMul(2 ** 26), ResourceLimitError, /node 0 \(unnamed Mul\): constant operand: loading needs more than/);
  });

  // Found in review: subgraphs nested 20,000 deep made protobufjs give up with "max depth exceeded" inside its
  // recursive decoder; the message now says what is wrong (and the decoder does not recurse).
  it('attribute subgraphs nested 20,000 deep are a ModelFormatError naming the limit', () => {
    expectRefused(deepSubgraphs(20_000), ModelFormatError, /messages nest deeper than 64 levels/);
  });
});

describe('TFLite and ONNX', () => {
  // tflite/1/355 and onnx/1/26 (hostile: a concat of 20,000 / 100,000 copies of the input, found when the concat
  // ops joined the fuzzer): 20 s in lowering and hangs, from two reader lists rebuilt by copying on every entry
  // (quadratic in the readers of one tensor: runtime/concat-views.ts, and formats/onnx/layer-norm-pattern.ts
  // at load). Fixed: the lists grow in place, and a concat takes at most 4096 inputs.
  it('a concat of 20,000 inputs is an UnsupportedOpError in both formats', () => {
    expectRefused(tfliteWideConcat(20_000, -1), UnsupportedOpError, /concat of 20000 inputs; webcnn takes up to 4096/, 'case.tflite');
    expectRefused(onnxWideConcat(20_000, 1), UnsupportedOpError, /concat of 20000 inputs; webcnn takes up to 4096/, 'case.onnx');
  });
  it('a concat of 4096 copies of one tensor loads, optimizes, lowers and plans', () => {
    for (const [bytes, fileName] of [[tfliteWideConcat(4096, 3), 'case.tflite'], [onnxWideConcat(4096, 1), 'case.onnx']] as const) {
      const loaded = loadModel(bytes, { fileName });
      expect(loaded.graph.tensors[loaded.graph.outputs[0]].shape[1]).toBe(4096 * (fileName.endsWith('onnx') ? 2 : 3));
      exerciseLoaded(loaded);
    }
  });
});
