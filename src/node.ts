/**
 * Node.js entry point: everything in the browser entry, plus a device from Dawn's `webgpu` package and image
 * file decoding (PNG, JPEG, BMP to the RGBA pixels `ImageClassifier.classify` takes).
 */
export * from './index.ts';
export { acquireNodeDevice, nodeGpu } from './gpu/node-device.ts';
export { ImageFormatError, decodeImage, shrinkToFit } from './cli/images.ts';
