/**
 * ONNX support: `loadOnnx` reads a ModelProto (opsets 1 to 21) into the graph IR; `exportOnnx` writes a graph
 * IR as a standard ONNX model (opset 13, IR version 7); the `make*` helpers build ModelProtos by hand (tests,
 * tools).
 */
export { loadOnnx, irShapeOf, MAX_OPSET, MIN_OPSET, SUPPORTED_ONNX_OPS } from './loader.ts';
export type { ExternalDataSource, LoadOnnxOptions } from './loader.ts';
export { exportOnnx, EXPORT_IR_VERSION, EXPORT_OPSET } from './export.ts';
export type { ExportOnnxOptions } from './export.ts';
export { attr, encodeModel, externalizeTensors, irVersionForOpset, makeGraph, makeModel, makeNode, makeTensor, makeValueInfo } from './writer.ts';
export type { AttributeInit, GraphInit, ModelInit, NodeInit, TensorInit, ValueInfoInit } from './writer.ts';
export { DataType, decodeModelProto } from './proto.ts';
