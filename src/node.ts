/**
 * Node.js entry point: everything in the browser entry, plus a device from Dawn's `webgpu` package, image
 * file decoding (PNG, JPEG, BMP to the RGBA pixels `ImageClassifier.classify` takes) and loading a model from
 * its path (`loadModelFile`: an ONNX model's external data comes from the files beside it).
 */
export * from './index.ts';
export { acquireNodeDevice, nodeGpu } from './gpu/node-device.ts';
export { ImageFormatError, decodeImage, shrinkToFit } from './cli/images.ts';
export { externalDataFrom, loadModelFile, readWholeFile } from './formats/model-file.ts';
