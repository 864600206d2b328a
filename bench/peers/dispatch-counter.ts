/**
 * Counts compute dispatches in the page, whoever encodes them: `GPUComputePassEncoder`'s `dispatchWorkgroups`
 * and `dispatchWorkgroupsIndirect` are wrapped on the prototype, so webcnn, ONNX Runtime's JSEP (JavaScript)
 * and its native WebGPU EP (C++ through Emscripten's WebGPU bindings, which call the same JavaScript methods)
 * are all counted the same way. Each page runs one engine, so a run's count is that engine's kernels per
 * inference (buffer copies are not dispatches and are not counted). The wrapper adds one increment per call.
 */
let dispatches = 0;
let installed = false;

/** Wraps the prototype once (a no-op where the page has no WebGPU). */
export function installDispatchCounter(): void {
  if (installed || typeof GPUComputePassEncoder === 'undefined') return;
  installed = true;
  const proto = GPUComputePassEncoder.prototype;
  const direct = proto.dispatchWorkgroups;
  const indirect = proto.dispatchWorkgroupsIndirect;
  proto.dispatchWorkgroups = function (this: GPUComputePassEncoder, ...args: Parameters<typeof direct>) {
    dispatches++;
    return direct.apply(this, args);
  };
  proto.dispatchWorkgroupsIndirect = function (this: GPUComputePassEncoder, ...args: Parameters<typeof indirect>) {
    dispatches++;
    return indirect.apply(this, args);
  };
}

/** Dispatches encoded in this page so far (0 before `installDispatchCounter`). */
export function dispatchesSoFar(): number {
  return dispatches;
}
