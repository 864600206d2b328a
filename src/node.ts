/** Node.js entry point: everything in the browser entry, plus a device from Dawn's `webgpu` package. */
export * from './index.ts';
export { acquireNodeDevice, nodeGpu } from './gpu/node-device.ts';
