/**
 * The README's imports are the public API people copy: every name it imports from 'webcnn' or 'webcnn/node'
 * must be a value the package entry points export (`src/index.ts`, `src/node.ts`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { loadDawn } from '../src/gpu/node-device.ts';
import * as webcnn from '../src/index.ts';
import * as webcnnNode from '../src/node.ts';
import { SHARED_CAT } from './shared.ts';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

/** `import { a, b as c } from 'SPECIFIER'` statements of the README, as [specifier, imported names]. */
function readmeImports(): Array<[string, string[]]> {
  const found: Array<[string, string[]]> = [];
  for (const m of readme.matchAll(/import\s*\{([^}]*)\}\s*from\s*'(webcnn(?:\/node)?)'/g)) {
    const names = m[1].split(',').map((n) => n.trim().split(/\s+as\s+/)[0]).filter(Boolean);
    found.push([m[2], names]);
  }
  return found;
}

describe('public API', () => {
  it("exports every name the README imports from 'webcnn' and 'webcnn/node'", () => {
    const imports = readmeImports();
    expect(imports.length).toBeGreaterThanOrEqual(3);
    const missing: string[] = [];
    for (const [specifier, names] of imports) {
      const entry: Record<string, unknown> = specifier === 'webcnn/node' ? webcnnNode : webcnn;
      for (const name of names) if (entry[name] === undefined) missing.push(`${name} from '${specifier}'`);
    }
    expect(missing).toEqual([]);
  });

  it('names acquireNodeDevice, which the README points Node users to, in webcnn/node only', () => {
    expect(readme).toContain("acquireNodeDevice() from 'webcnn/node'");
    expect(typeof webcnnNode.acquireNodeDevice).toBe('function');
    expect((webcnn as Record<string, unknown>).acquireNodeDevice).toBeUndefined();
  });
});

/**
 * Types that public functions take or return. Types are erased at run time, so no vitest assertion can check
 * these: `npm run typecheck` (tsc, which includes test/) fails here when one is not exported.
 */
type PublicTypes = [
  webcnn.InputQuantization, webcnn.ReferenceInputs, webcnn.TuneResult, webcnn.ConvLayerKind, webcnn.ModelBytes,
  webcnn.SafetensorsLoadOptions, webcnn.KernelProgram, webcnn.BufferRef, webcnn.TuningCache, webcnn.ClassifierOptions, webcnn.TuningEntry,
];

describe('public surface', () => {
  it('exports the format loaders and the types public signatures use', () => {
    for (const name of ['loadModel', 'loadOnnx', 'loadTflite', 'loadSafetensors', 'detectModelFormat']) {
      expect(typeof (webcnn as Record<string, unknown>)[name], name).toBe('function');
    }
  });
});

describe("webcnn/node", () => {
  it('exports decodeImage, shrinkToFit and ImageFormatError (Node only: the decoders are Node packages)', () => {
    for (const name of ['decodeImage', 'shrinkToFit', 'ImageFormatError']) {
      expect(typeof (webcnnNode as Record<string, unknown>)[name], name).toBe('function');
      expect((webcnn as Record<string, unknown>)[name], name).toBeUndefined();
    }
    expect(new webcnnNode.ImageFormatError('x')).toBeInstanceOf(webcnnNode.WebcnnError);
  });

  it.skipIf(!existsSync(SHARED_CAT))('decodeImage gives the shared BMP as RGBA, not the ABGR of bmp-ts', () => {
    const bytes = readFileSync(SHARED_CAT);
    const image = webcnnNode.decodeImage(bytes, 'cat.bmp');
    // 24-bit bottom-up BMP: the top-left pixel is the first of the last row, stored as B, G, R.
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const rowBytes = Math.ceil((image.width * 3) / 4) * 4;
    const p = view.getUint32(10, true) + (image.height - 1) * rowBytes;
    expect(Array.from(image.data.subarray(0, 4))).toEqual([bytes[p + 2], bytes[p + 1], bytes[p], 255]);
  });

  it('sets XDG_RUNTIME_DIR on Linux when it is unset, so that libwayland (probed by Dawn) prints no error', async () => {
    const saved = process.env.XDG_RUNTIME_DIR;
    delete process.env.XDG_RUNTIME_DIR;
    try {
      await webcnnNode.nodeGpu();
      expect(process.env.XDG_RUNTIME_DIR).toBe(process.platform === 'linux' ? tmpdir() : undefined);
    } finally {
      if (saved === undefined) delete process.env.XDG_RUNTIME_DIR;
      else process.env.XDG_RUNTIME_DIR = saved;
    }
  });

  it("says 'npm install webgpu' in one line when the optional peer dependency webgpu is not installed", async () => {
    // The failure as Node reports it for a package missing from node_modules.
    const missing = Object.assign(new Error("Cannot find package 'webgpu' imported from /app/node_modules/webcnn/lib/node.js"), { code: 'ERR_MODULE_NOT_FOUND' });
    const err = await loadDawn(() => Promise.reject(missing)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(webcnnNode.WebGPUUnavailableError);
    expect((err as Error).message).toMatch(/^webcnn\/node needs the 'webgpu' package .*: npm install webgpu$/);
    // Installed but broken (no binary for this platform, a missing system library): the cause, on one line.
    const broken = new Error('libvulkan.so.1: cannot open shared object file\nat dlopen');
    const err2 = await loadDawn(() => Promise.reject(broken)).catch((e: unknown) => e);
    expect(err2).toBeInstanceOf(webcnnNode.WebGPUUnavailableError);
    expect((err2 as Error).message).toBe("the 'webgpu' package (Dawn's WebGPU for Node) failed to load: libvulkan.so.1: cannot open shared object file");
  });

  it("points Node users of acquireDevice() (no navigator.gpu) to acquireNodeDevice from 'webcnn/node'", async () => {
    expect((globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu).toBeUndefined();
    const err = await webcnn.acquireDevice().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(webcnn.WebGPUUnavailableError);
    expect((err as Error).message).toContain("acquireNodeDevice() from 'webcnn/node'");
    expect((err as Error).message).not.toContain('\n');
  });
});
