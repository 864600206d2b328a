/**
 * A torchvision segmentation model (LR-ASPP MobileNetV3-Large, random weights, exported at test time by
 * test/helpers/segment_oracle.py with Debian's PyTorch) through `ImageSegmenter.segment` on a non-square photo:
 * its score-map output `[1, 21, 64, 64]` is upsampled to the photo's size and arg-maxed on the GPU. PyTorch is
 * given the very input webcnn's preprocessing made (read back from the model's input buffer), and the mask must
 * equal the arg max of PyTorch's output upsampled by `interpolate(mode='bilinear', align_corners=False)` (what
 * torchvision's segmentation models do to the input size), except where PyTorch's top two classes are within
 * the engine's tolerance of each other. The CPU oracle of the mask kernel is held to PyTorch's upsampling the
 * same way. Skips when /usr/bin/python3 has no torch.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { decodeImage } from '../src/cli/images.ts';
import { loadModel } from '../src/formats/index.ts';
import { acquireNodeDevice } from '../src/gpu/node-device.ts';
import { segmentMaskReference } from '../src/reference/segment-mask.ts';
import { ImageInput, preprocessPipelines } from '../src/runtime/image-input.ts';
import { ImageSegmenter } from '../src/runtime/segmenter.ts';
import { PROJECT_ROOT, sharedPath } from './shared.ts';

vi.setConfig({ testTimeout: 900_000 });
const PYTHON = '/usr/bin/python3';
const ORACLE = join(PROJECT_ROOT, 'test/helpers/segment_oracle.py');
const BIRD = sharedPath('images/bird_segmentation.bmp');
const SIDE = 64;
const hasTorch = existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import torch, torchvision, onnx'], { stdio: 'ignore' }).status === 0;
if (!hasTorch) console.warn(`skipping the torchvision segmentation test: ${PYTHON} cannot import torch, torchvision and onnx`);

function python(args: string[]): void {
  const r = spawnSync(PYTHON, [ORACLE, ...args], { encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) throw new Error(`segment_oracle.py ${args[0]} failed: ${r.stderr.slice(-2000)}`);
}

const readF32 = (path: string) => new Float32Array(new Uint8Array(readFileSync(path)).buffer);
const readI32 = (path: string) => new Int32Array(new Uint8Array(readFileSync(path)).buffer);

describe.skipIf(!hasTorch || !existsSync(BIRD))('torchvision LR-ASPP (ONNX) through ImageSegmenter against PyTorch', () => {
  let device: GPUDevice;
  let dir: string;
  beforeAll(async () => {
    device = (await acquireNodeDevice()).device;
    dir = mkdtempSync(join(tmpdir(), 'webcnn-segment-torch-'));
  });
  afterAll(() => {
    device?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the mask is the arg max of the bilinearly upsampled scores, as PyTorch computes it', async () => {
    python(['export', 'lraspp_mobilenet_v3_large', String(SIDE), dir]);
    const loaded = loadModel(readFileSync(join(dir, 'model.onnx')));
    const segmenter = await ImageSegmenter.create(device, loaded);
    try {
      expect(segmenter.output).toBe('scores');
      expect(segmenter.labels.length).toBe(21);
      // A non-square source (the photo's top 400 rows), so that both axes have their own scale.
      const bird = decodeImage(readFileSync(BIRD));
      const [width, height] = [bird.width, 400];
      const image = { data: bird.data.subarray(0, width * height * 4), width, height };
      const result = await segmenter.segment(image, { scores: true });
      expect([result.width, result.height]).toEqual([width, height]);

      // The input webcnn's preprocessing made, for PyTorch: the same kernel and preprocessing into a buffer of ours.
      const inputBytes = 3 * SIDE * SIDE * 4;
      const target = device.createBuffer({ size: inputBytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
      const staging = device.createBuffer({ size: inputBytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      const [texturePipeline] = preprocessPipelines(device);
      const input = new ImageInput(device, segmenter.preprocessing, target, await texturePipeline, null);
      const encoder = device.createCommandEncoder();
      (await input.prepare(image, width, height))(encoder);
      encoder.copyBufferToBuffer(target, 0, staging, 0, inputBytes);
      device.queue.submit([encoder.finish()]);
      await staging.mapAsync(GPUMapMode.READ);
      writeFileSync(join(dir, 'input.bin'), new Uint8Array(staging.getMappedRange().slice(0)));
      for (const b of [target, staging]) b.destroy();
      input.dispose();
      python(['run', dir, String(width), String(height)]);

      const torchScores = readF32(join(dir, 'scores.bin'));
      const torchMask = readI32(join(dir, 'mask.bin'));
      const margin = readF32(join(dir, 'margin.bin'));
      let maxRef = 0;
      let maxErr = 0;
      torchScores.forEach((v, i) => {
        maxRef = Math.max(maxRef, Math.abs(v));
        maxErr = Math.max(maxErr, Math.abs(v - result.scores![i]));
      });
      const tolerance = 1e-4 * maxRef + 1e-5;
      expect(maxErr).toBeLessThanOrEqual(tolerance);

      // Pixels where PyTorch's own top two are closer than the engine's tolerance may go either way.
      const tie = 2 * tolerance;
      const compare = (mask: ArrayLike<number>) => {
        let differ = 0;
        let unexplained = 0;
        for (let i = 0; i < torchMask.length; i++) {
          if (mask[i] === torchMask[i]) continue;
          differ++;
          if (margin[i] > tie) unexplained++;
        }
        return { differ, unexplained };
      };
      const gpu = compare(result.mask);
      const oracle = compare(segmentMaskReference({ values: torchScores, kind: 'scores', classes: 21, width: SIDE, height: SIDE }, width, height));
      console.log(
        `LR-ASPP ${SIDE} -> ${width}x${height}: max error ${maxErr.toExponential(2)} (tolerance ${tolerance.toExponential(2)}); ` +
          `mask vs PyTorch: ${gpu.differ} pixels differ (${gpu.unexplained} beyond ties); oracle on PyTorch's scores: ${oracle.differ} (${oracle.unexplained})`,
      );
      expect(oracle.unexplained).toBe(0);
      expect(gpu.unexplained).toBe(0);
      expect(gpu.differ / torchMask.length).toBeLessThan(0.001);
      expect(result.classes.length).toBeGreaterThan(1);
    } finally {
      segmenter.dispose();
    }
  });
});
