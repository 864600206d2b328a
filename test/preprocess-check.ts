/**
 * Runs the GPU preprocessing kernel alone on an RGBA image and compares it with the CPU reference
 * (src/reference/preprocess.ts), which works out the crop itself from the preprocessing (torchvision's
 * Resize + CenterCrop), so that cropFor is checked too. Shared by the Node and browser tests.
 */
import { packUniforms } from '../shaders/common.ts';
import { preprocessProgram, preprocessUniforms } from '../shaders/preprocess.ts';
import type { Preprocessing } from '../src/formats/model.ts';
import { pipelineCacheFor } from '../src/gpu/pipeline-cache.ts';
import { preprocessReference } from '../src/reference/preprocess.ts';
import { cropFor } from '../src/runtime/classifier.ts';
import { Rng } from '../src/util/random.ts';

export interface PreprocessCheck {
  readonly maxAbsError: number;
  readonly values: number;
}

/** A smooth gradient plus noise, so both resampling and channel order matter. */
export function testImage(width: number, height: number, seed = 3): Uint8Array<ArrayBuffer> {
  const rng = new Rng(seed);
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      data[i] = (x * 255) / Math.max(1, width - 1);
      data[i + 1] = (y * 255) / Math.max(1, height - 1);
      data[i + 2] = rng.int(0, 255);
      data[i + 3] = 255;
    }
  }
  return data;
}

/** The kernel's output for an RGBA image, with the crop and uniforms the classifier gives it. */
export async function runPreprocessKernel(device: GPUDevice, image: Uint8Array<ArrayBuffer>, width: number, height: number, p: Preprocessing): Promise<Float32Array> {
  const program = preprocessProgram();
  const pipeline = await pipelineCacheFor(device).get(program);
  const [outH, outW] = p.size;
  const crop = cropFor(width, height, p);
  const texture = device.createTexture({ size: [width, height], format: 'rgba8unorm', usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.COPY_DST });
  device.queue.writeTexture({ texture }, image, { bytesPerRow: width * 4 }, [width, height]);
  const bytes = 3 * outH * outW * 4;
  const dst = device.createBuffer({ size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
  const read = device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const uniformData = packUniforms(program.uniforms, preprocessUniforms(width, height, crop, outW, outH, p.mean, p.std));
  const uniforms = device.createBuffer({ size: uniformData.byteLength, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(uniforms, 0, uniformData);
  const bindGroup = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [
      { binding: 0, resource: texture.createView() },
      { binding: 1, resource: { buffer: dst } },
      { binding: 2, resource: { buffer: uniforms } },
    ],
  });
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bindGroup);
  pass.dispatchWorkgroups(Math.ceil((outW * outH) / 64));
  pass.end();
  encoder.copyBufferToBuffer(dst, 0, read, 0, bytes);
  device.queue.submit([encoder.finish()]);
  await read.mapAsync(GPUMapMode.READ);
  const gpu = new Float32Array(read.getMappedRange().slice(0));
  read.unmap();
  for (const b of [dst, read, uniforms]) b.destroy();
  texture.destroy();
  return gpu;
}

export async function checkPreprocess(device: GPUDevice, width: number, height: number, p: Preprocessing): Promise<PreprocessCheck> {
  const image = testImage(width, height);
  const gpu = await runPreprocessKernel(device, image, width, height, p);
  const ref = preprocessReference(image, width, height, p);
  let maxAbsError = 0;
  for (let i = 0; i < ref.length; i++) maxAbsError = Math.max(maxAbsError, Math.abs(gpu[i] - ref[i]));
  return { maxAbsError, values: ref.length };
}
