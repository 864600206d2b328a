/**
 * The reflection-driven protobuf decoder (`decodeMessage`): the same messages as protobufjs's generated
 * decoder, without `new Function` (so it runs under a strict Content-Security-Policy), and refusing hostile
 * wire data (deep nesting, lengths past the end, groups, object counts out of proportion to the file).
 */
import { describe, expect, it } from 'vitest';
import { ModelFormatError, ResourceLimitError } from '../../errors.ts';
import { onnxConvNet, onnxOldOps, onnxPadNet } from '../../../test/fuzz/corpus.ts';
import { deepSubgraphs, emptyNodes } from '../../../test/fuzz/onnx.ts';
import { mobilenetV2 } from '../../models/mobilenet-v2.ts';
import { randomParams } from '../../models/params.ts';
import { exportOnnx } from './export.ts';
import { loadOnnx } from './loader.ts';
import { decodeModelProto, MAX_MESSAGE_DEPTH, modelProtoType } from './proto.ts';

/** Plain data for comparison: typed arrays as arrays, absent repeated fields dropped. */
function plain(v: unknown): unknown {
  if (v instanceof Uint8Array) return Array.from(v);
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (!(Array.isArray(x) && x.length === 0)) out[k] = plain(x);
    return out;
  }
  return v;
}

function viaProtobufjs(bytes: Uint8Array): unknown {
  const type = modelProtoType();
  return plain(type.toObject(type.decode(bytes), { longs: Number }));
}

const SAMPLES: [string, Uint8Array][] = [
  ['conv net', onnxConvNet(1)],
  ['pad net', onnxPadNet(2)],
  ['opset 9 ops', onnxOldOps(3)],
  ['MobileNetV2 export', exportOnnx(mobilenetV2({ inputSize: 32, widthMultiplier: 0.35, numClasses: 10, params: randomParams(1) }))],
];

describe('decodeModelProto', () => {
  it.each(SAMPLES)('decodes %s exactly as protobufjs does', (_, bytes) => {
    expect(plain(decodeModelProto(bytes))).toEqual(viaProtobufjs(bytes));
  });

  it('needs no eval: decodes and loads with Function() refusing to compile code', () => {
    const original = globalThis.Function;
    const refuse = new Proxy(original, {
      apply() {
        throw new EvalError('Refused to evaluate a string as JavaScript (CSP)');
      },
      construct() {
        throw new EvalError('Refused to evaluate a string as JavaScript (CSP)');
      },
    });
    globalThis.Function = refuse;
    try {
      const model = loadOnnx(SAMPLES[0][1]);
      expect(model.graph.nodes.length).toBeGreaterThan(0);
    } finally {
      globalThis.Function = original;
    }
  });

  it('skips unknown fields of every wire type and keeps presence of optional fields', () => {
    const bytes = onnxConvNet(1);
    // Field 99 as varint, fixed64, length-delimited and fixed32, appended to the ModelProto.
    const extra = Uint8Array.from([0x98, 0x06, 0x96, 0x01, 0x99, 0x06, 1, 2, 3, 4, 5, 6, 7, 8, 0x9a, 0x06, 2, 0xff, 0xff, 0x9d, 0x06, 1, 2, 3, 4]);
    const withExtra = new Uint8Array(bytes.length + extra.length);
    withExtra.set(bytes);
    withExtra.set(extra, bytes.length);
    const m = decodeModelProto(withExtra);
    expect(plain(m)).toEqual(viaProtobufjs(bytes));
    expect(Object.hasOwn(m, 'ir_version')).toBe(true);
    expect(Object.hasOwn(m, 'model_version')).toBe(false);
    expect(m.graph!.node[0].op_type).toBe('Conv');
  });

  it('refuses groups, truncation, lengths past the end and wrong wire types with ModelFormatError', () => {
    const cases: [number[], RegExp][] = [
      [[0x08, 7, 0x7b], /protobuf group/], // unknown field 15, wire type 3 (start group)
      [[0x08], /truncated varint/],
      [[0x08, 7, 0x3a, 0x05, 0x0a], /5-byte field runs past the end/],
      [[0x3a, 0x02, 0x08, 0x01], /field node is a message but has wire type 0/], // graph { node = varint }
      [[0x0d, 1, 2, 3, 4], /field ir_version \(int64\) has wire type 5/],
      [[0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], /varint longer than 10 bytes/],
      [[0x00, 0x00], /field number 0/],
    ];
    for (const [bytes, pattern] of cases) {
      const run = () => decodeModelProto(Uint8Array.from(bytes));
      expect(run).toThrow(ModelFormatError);
      expect(run).toThrow(pattern);
    }
  });

  it(`refuses nesting deeper than ${MAX_MESSAGE_DEPTH} levels without recursing`, () => {
    expect(() => decodeModelProto(deepSubgraphs(20))).not.toThrow();
    expect(() => decodeModelProto(deepSubgraphs(20_000))).toThrow(/messages nest deeper than 64 levels/);
  });

  it('refuses a file that would decode to far more objects than its size justifies', () => {
    expect(() => decodeModelProto(emptyNodes(10_000))).not.toThrow();
    const run = () => decodeModelProto(emptyNodes(1_000_000));
    expect(run).toThrow(ResourceLimitError);
    expect(run).toThrow(/decoding this 2000006-byte file would take more than/);
  });
});
