/**
 * Broken and unsupported files: every failure is a `ModelFormatError` (not a model, inconsistent) or an
 * `UnsupportedOpError` (valid ONNX that webcnn does not implement), with a one-line message; never an
 * exception from inside the protobuf decoder.
 */
import { describe, expect, it } from 'vitest';
import { ExternalDataError, ModelFormatError, UnsupportedOpError, WebcnnError } from '../../errors.ts';
import { Rng, convHeadModel, convHeadWeights, onnxModel, thrown } from '../../../test/onnx-helpers.ts';
import { DataType, attr, encodeModel, loadOnnx, makeGraph, makeModel, makeNode, makeTensor, makeValueInfo } from './index.ts';

/** A small valid model: Conv (with weights) -> Relu -> GlobalAveragePool -> Flatten -> Gemm. */
const validModel = (): Uint8Array => convHeadModel(convHeadWeights(3));

function expectOneLine(e: Error, cls: typeof ModelFormatError | typeof UnsupportedOpError, pattern?: RegExp): void {
  expect(e, e.stack).toBeInstanceOf(cls);
  expect(e.message).not.toContain('\n');
  expect(e.message.length).toBeGreaterThan(10);
  if (pattern) expect(e.message).toMatch(pattern);
}

/** A model with one node and the given opset / tweaks. */
function oneNode(node: ReturnType<typeof makeNode>, opset = 13, inits: ReturnType<typeof makeTensor>[] = []): Uint8Array {
  return onnxModel({ opset, nodes: [node], inputs: [['x', [1, 2, 4, 4]]], outputs: [['y', null]], initializers: inits });
}

describe('loadOnnx on broken files', () => {
  it('loads the valid model these tests start from', () => {
    const m = loadOnnx(validModel());
    expect(m.format).toBe('onnx');
    expect(m.inputDims).toEqual([[1, 3, 8, 8]]);
    expect(m.outputDims).toEqual([[1, 5]]);
    expect(m.outputsProbabilities).toBe(false);
    expect(m.preprocessing?.size).toEqual([8, 8]);
    expect(m.metadata).toMatchObject({ format: 'ONNX', opset: 13, irVersion: 7, producer: 'webcnn', nodes: 5, initializers: 4 });
    expect(m.graph.nodes.map((n) => n.op)).toEqual(['conv2d', 'activation', 'globalAvgPool', 'linear']);
  });

  it('metadata_props reach metadata', () => {
    const graph = makeGraph({ nodes: [makeNode('Relu', ['x'], ['y'])], inputs: [makeValueInfo('x', [1, 3])], outputs: [makeValueInfo('y', null)] });
    const m = loadOnnx(encodeModel(makeModel({ graph, metadata: { author: 'me', __proto__: 'x', opset: '99' } as Record<string, string> })));
    expect(m.metadata.author).toBe('me');
    expect(m.metadata.opset).toBe(13);
    expect(Object.getPrototypeOf(m.metadata)).toBe(Object.prototype);
  });

  it('empty input and non-Uint8Array input', () => {
    expectOneLine(thrown(() => loadOnnx(new Uint8Array())), ModelFormatError, /empty/);
    expectOneLine(thrown(() => loadOnnx([1, 2, 3] as unknown as Uint8Array)), ModelFormatError, /Uint8Array/);
  });

  it('random bytes', () => {
    const rng = new Rng(11);
    for (let k = 0; k < 300; k++) {
      const bytes = new Uint8Array(1 + rng.int(0, 400)).map(() => rng.int(0, 255));
      const e = thrown(() => loadOnnx(bytes));
      expect(e).toBeInstanceOf(WebcnnError);
      expect(e instanceof ModelFormatError || e instanceof UnsupportedOpError, `${e.name}: ${e.message}`).toBe(true);
      expect(e.message).not.toContain('\n');
    }
  });

  it('truncated files', () => {
    const bytes = validModel();
    for (const cut of [1, 2, 5, 10, 20, 50, 100, 200, 400, 800, bytes.length - 100, bytes.length - 10, bytes.length - 1]) {
      expectOneLine(thrown(() => loadOnnx(bytes.subarray(0, cut))), ModelFormatError);
    }
  });

  it('corrupted bytes load or fail with a webcnn error, never anything else', () => {
    const original = validModel();
    // A copy per case (`new Uint8Array`): the encoder may return a Node Buffer, whose `slice()` is a view, which
    // made every case corrupt the same bytes further.
    const rng = new Rng(5);
    let loaded = 0;
    let refused = 0;
    for (let k = 0; k < 300; k++) {
      const bytes = new Uint8Array(original);
      for (let j = 0; j < 1 + rng.int(0, 3); j++) bytes[rng.int(0, bytes.length - 1)] = rng.int(0, 255);
      let error: unknown = null;
      try {
        expect(loadOnnx(bytes).format).toBe('onnx');
      } catch (e) {
        error = e;
      }
      if (error === null) {
        loaded++;
        continue;
      }
      refused++;
      expect(error instanceof ModelFormatError || error instanceof UnsupportedOpError, String(error)).toBe(true);
      expect((error as Error).message).not.toContain('\n');
    }
    // Both outcomes happen with this seed, so the checks above on refusals did run (a loader that accepted
    // everything, or refused everything, would fail here).
    expect(refused, `${refused} of 300 refused`).toBeGreaterThan(30);
    expect(loaded, `${loaded} of 300 loaded`).toBeGreaterThan(0);
    // A corruption that must be refused: the first byte (the ir_version field's tag) made a wire type 7.
    const broken = new Uint8Array(original);
    broken[0] = 0xff;
    expect(() => loadOnnx(broken)).toThrow(ModelFormatError);
  });

  it('a ModelProto without graph, without ir_version, without opset, or with an implausible ir_version', () => {
    const graph = makeGraph({ nodes: [makeNode('Relu', ['x'], ['y'])], inputs: [makeValueInfo('x', [1, 3])], outputs: [makeValueInfo('y', [1, 3])] });
    expectOneLine(thrown(() => loadOnnx(encodeModel({ ir_version: 7, opset_import: [{ version: 13 }] }))), ModelFormatError, /graph is missing/);
    expectOneLine(thrown(() => loadOnnx(encodeModel({ opset_import: [{ version: 13 }], graph }))), ModelFormatError, /ir_version is missing/);
    expectOneLine(thrown(() => loadOnnx(encodeModel({ ir_version: 7, graph }))), ModelFormatError, /operator set/);
    expectOneLine(thrown(() => loadOnnx(encodeModel({ ir_version: 123456, opset_import: [{ version: 13 }], graph }))), ModelFormatError, /implausible/);
    const noOutputs = makeGraph({ nodes: [], inputs: [makeValueInfo('x', [1, 3])], outputs: [] });
    expectOneLine(thrown(() => loadOnnx(encodeModel(makeModel({ graph: noOutputs })))), ModelFormatError, /no outputs/);
  });

  it('opsets outside 1..21 and IR versions before operator sets', () => {
    const relu = makeNode('Relu', ['x'], ['y']);
    expect(loadOnnx(oneNode(relu, 1)).metadata.opset).toBe(1);
    expectOneLine(thrown(() => loadOnnx(oneNode(relu, 22))), UnsupportedOpError, /opset 22/);
    const graph = makeGraph({ nodes: [relu], inputs: [makeValueInfo('x', [1, 3])], outputs: [makeValueInfo('y', null)] });
    expectOneLine(thrown(() => loadOnnx(encodeModel(makeModel({ graph, irVersion: 2 })))), UnsupportedOpError, /IR version 2/);
  });

  it('an unknown op names the op type, node index and node name', () => {
    const bytes = onnxModel({
      nodes: [makeNode('Relu', ['x'], ['r'], {}, 'first'), makeNode('ThresholdedRelu', ['r'], ['y'], { alpha: attr.float(0.1) }, 'thresholded_7')],
      inputs: [['x', [1, 2, 4, 4]]],
      outputs: [['y', null]],
    });
    expectOneLine(thrown(() => loadOnnx(bytes)), UnsupportedOpError, /node 1 'thresholded_7' \(ThresholdedRelu\): op type 'ThresholdedRelu' is not supported/);
    const unnamed = oneNode(makeNode('Selu', ['x'], ['y']));
    expectOneLine(thrown(() => loadOnnx(unnamed)), UnsupportedOpError, /node 0 \(unnamed Selu\)/);
    for (const op of ['constructor', 'toString', '__proto__']) {
      expectOneLine(thrown(() => loadOnnx(oneNode(makeNode(op, ['x'], ['y'])))), UnsupportedOpError, new RegExp(`op type '${op}' is not supported`));
    }
    const domain = oneNode(makeNode('FusedConv', ['x'], ['y'], {}, 'fc', 'com.microsoft'));
    expectOneLine(thrown(() => loadOnnx(domain)), UnsupportedOpError, /domain 'com.microsoft'/);
  });

  it('unsupported attribute values', () => {
    const reflect = oneNode(makeNode('Pad', ['x', 'p'], ['y'], { mode: attr.string('reflect') }, 'pad'), 13, [makeTensor('p', [8], [0, 0, 1, 1, 0, 0, 1, 1], DataType.INT64)]);
    expectOneLine(thrown(() => loadOnnx(reflect)), UnsupportedOpError, /node 0 'pad' \(Pad\): Pad mode 'reflect' is not supported/);
    const avgDilation = oneNode(makeNode('AveragePool', ['x'], ['y'], { kernel_shape: attr.ints([2, 2]), dilations: attr.ints([2, 2]) }), 19);
    expectOneLine(thrown(() => loadOnnx(avgDilation)), UnsupportedOpError, /dilations/);
    const badAutoPad = oneNode(makeNode('MaxPool', ['x'], ['y'], { kernel_shape: attr.ints([2, 2]), auto_pad: attr.string('SAME') }));
    expectOneLine(thrown(() => loadOnnx(badAutoPad)), ModelFormatError, /auto_pad 'SAME'/);
  });

  it('attributes of the wrong type, missing inputs, dangling references, values assigned twice', () => {
    const wrongType = oneNode(makeNode('MaxPool', ['x'], ['y'], { kernel_shape: attr.float(2) }));
    expectOneLine(thrown(() => loadOnnx(wrongType)), ModelFormatError, /kernel_shape.*ints/);
    const dangling = oneNode(makeNode('Add', ['x', 'nowhere'], ['y']));
    expectOneLine(thrown(() => loadOnnx(dangling)), ModelFormatError, /input 1 'nowhere'/);
    const noWeight = oneNode(makeNode('Conv', ['x'], ['y']));
    expectOneLine(thrown(() => loadOnnx(noWeight)), ModelFormatError, /weight W \(input 1\) is missing/);
    const twice = onnxModel({ nodes: [makeNode('Relu', ['x'], ['y']), makeNode('Relu', ['x'], ['y'])], inputs: [['x', [1, 2]]], outputs: [['y', null]] });
    expectOneLine(thrown(() => loadOnnx(twice)), ModelFormatError, /already defined/);
    const notProduced = onnxModel({ nodes: [makeNode('Relu', ['x'], ['r'])], inputs: [['x', [1, 2]]], outputs: [['y', null]] });
    expectOneLine(thrown(() => loadOnnx(notProduced)), ModelFormatError, /graph output 'y'/);
  });

  it('inconsistent shapes and data: weights that do not fit, raw_data of the wrong size, declared outputs that disagree', () => {
    const badWeight = oneNode(makeNode('Conv', ['x', 'w'], ['y']), 13, [makeTensor('w', [3, 5, 3, 3], new Float32Array(135))]);
    expectOneLine(thrown(() => loadOnnx(badWeight)), ModelFormatError, /does not fit/);
    const short = makeTensor('w', [3, 2, 1, 1], new Float32Array(6));
    short.raw_data = short.raw_data!.subarray(0, 20);
    expectOneLine(thrown(() => loadOnnx(oneNode(makeNode('Conv', ['x', 'w'], ['y']), 13, [short]))), ModelFormatError, /raw_data has 20 bytes, expected 24/);
    const declared = onnxModel({ nodes: [makeNode('Relu', ['x'], ['y'])], inputs: [['x', [1, 2, 4, 4]]], outputs: [['y', [1, 2, 4, 5]]] });
    expectOneLine(thrown(() => loadOnnx(declared)), ModelFormatError, /declared \[1, 2, 4, 5\] but computes to \[1, 2, 4, 4\]/);
    const tooSmall = oneNode(makeNode('MaxPool', ['x'], ['y'], { kernel_shape: attr.ints([7, 7]) }));
    expectOneLine(thrown(() => loadOnnx(tooSmall)), ModelFormatError, /node 0 \(unnamed MaxPool\)/);
  });

  it('external data, unsupported data types and non-float inputs', () => {
    const external = makeTensor('w', [2, 2, 1, 1], new Float32Array(4));
    delete external.raw_data;
    external.data_location = 1;
    external.external_data = [{ key: 'location', value: 'weights.bin' }];
    // External data is read when given (external-data.test.ts); not given, the error names the file and the tensor.
    const missing = thrown(() => loadOnnx(oneNode(makeNode('Conv', ['x', 'w'], ['y']), 13, [external])));
    expect(missing).toBeInstanceOf(ExternalDataError);
    expect(missing.message).toMatch(/^initializer 'w' keeps its data in the external file 'weights.bin', which was not given/);
    const strings = { name: 'w', dims: [1], data_type: DataType.STRING };
    expectOneLine(thrown(() => loadOnnx(oneNode(makeNode('Conv', ['x', 'w'], ['y']), 13, [strings]))), UnsupportedOpError, /STRING/);
    const intInput = encodeModel(
      makeModel({
        graph: makeGraph({ nodes: [makeNode('Relu', ['x'], ['y'])], inputs: [makeValueInfo('x', [1, 3], DataType.INT64)], outputs: [makeValueInfo('y', null)] }),
      }),
    );
    expectOneLine(thrown(() => loadOnnx(intInput)), UnsupportedOpError, /INT64.*float32/);
    const rank5 = onnxModel({ nodes: [makeNode('Relu', ['x'], ['y'])], inputs: [['x', [1, 2, 3, 4, 5]]], outputs: [['y', null]] });
    expectOneLine(thrown(() => loadOnnx(rank5)), UnsupportedOpError, /rank 5/);
    const noInputs = onnxModel({ nodes: [makeNode('Constant', [], ['y'], { value_float: attr.float(1) })], inputs: [], outputs: [['y', null]] });
    expectOneLine(thrown(() => loadOnnx(noInputs)), ModelFormatError, /no runtime inputs/);
  });
});
