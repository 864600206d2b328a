/**
 * The timing page's bandwidth probe for the side-by-side scripts: a vec4 copy kernel over `mib` MiB, read + write
 * bytes over the upper median of 5 timed launches after a warm-up, in GB/s.
 */
import { upperMedian } from '../src/bench/figures.ts';
import { GpuProfiler } from '../src/gpu/profiler.ts';

export async function copyKernelGbps(device: GPUDevice, mib = 64): Promise<number> {
  const bytes = mib * 2 ** 20;
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
  const src = device.createBuffer({ size: bytes, usage });
  const dst = device.createBuffer({ size: bytes, usage });
  const module = device.createShaderModule({ code: `
@group(0) @binding(0) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> dst: array<vec4<f32>>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) n: vec3<u32>) {
  let i = g.y * n.x * 256u + g.x;
  if (i < arrayLength(&src)) { dst[i] = src[i]; }
}` });
  const pipeline = await device.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint: 'main' } });
  const bindGroup = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: src } }, { binding: 1, resource: { buffer: dst } }] });
  const groups = bytes / 16 / 256;
  const profiler = new GpuProfiler(device, 1);
  const ms: number[] = [];
  for (let i = 0; i < 6; i++) {
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass({ timestampWrites: profiler.timestampWrites(0) });
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(Math.min(groups, 65535), Math.ceil(groups / 65535));
    pass.end();
    profiler.resolve(encoder, 1);
    device.queue.submit([encoder.finish()]);
    ms.push((await profiler.read(1)).durationsMs[0]);
  }
  profiler.destroy();
  src.destroy();
  dst.destroy();
  return (2 * bytes) / (upperMedian(ms.slice(1)) * 1e6);
}
