/**
 * The package as another project gets it: `npm run build:lib` (run by `prepare` on install) makes `lib/` (ESM
 * JavaScript and declarations), and `package.json`'s exports point `webcnn` and `webcnn/node` there. A plain
 * Node program and a strict TypeScript project, each in a folder outside this repository with the package
 * linked into its node_modules, must import, type-check and run it; Node does not run TypeScript from
 * node_modules, so the sources alone would not do. The declarations pull in `@webgpu/types` themselves (a
 * dependency), so the consumer lists only `node` in its `types`.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from './shared.ts';

const run = promisify(execFile);
const consumer = mkdtempSync(join(tmpdir(), 'webcnn-consumer-'));
afterAll(() => rmSync(consumer, { recursive: true, force: true }));

beforeAll(async () => {
  await run('npm', ['run', 'build:lib'], { cwd: PROJECT_ROOT });
  mkdirSync(join(consumer, 'node_modules/@types'), { recursive: true });
  symlinkSync(PROJECT_ROOT, join(consumer, 'node_modules/webcnn'));
  symlinkSync(resolve(PROJECT_ROOT, 'node_modules/@webgpu'), join(consumer, 'node_modules/@webgpu'));
  symlinkSync(resolve(PROJECT_ROOT, 'node_modules/@types/node'), join(consumer, 'node_modules/@types/node'));
  writeFileSync(join(consumer, 'package.json'), '{ "type": "module" }\n');
}, 120_000);

describe('the built package', () => {
  it('runs in a plain Node program: builds a model, compiles it on a Dawn device and runs it', async () => {
    writeFileSync(
      join(consumer, 'app.mjs'),
      `import { compileModel, mobilenetV2, randomParams, runGraphReference, ShapeError } from 'webcnn';
import { acquireNodeDevice } from 'webcnn/node';
const graph = mobilenetV2({ params: randomParams(1), inputSize: 32, widthMultiplier: 0.35, numClasses: 10 });
const input = new Float32Array(3 * 32 * 32).map((_, i) => Math.sin(i));
const { device } = await acquireNodeDevice();
const model = await compileModel(device, graph);
const [out] = await model.run([input]);
const [ref] = runGraphReference(graph, [input]);
const err = Math.max(...out.map((v, i) => Math.abs(v - ref[i])));
let typed = false;
try { await model.run([new Float32Array(3)]); } catch (e) { typed = e instanceof ShapeError; }
model.dispose();
device.destroy();
console.log(JSON.stringify({ length: out.length, err, typed }));
process.exit(0);
`,
    );
    const { stdout } = await run(process.execPath, ['app.mjs'], { cwd: consumer });
    const result = JSON.parse(stdout.trim().split('\n').pop()!);
    expect(result.length).toBe(10);
    expect(result.err).toBeLessThan(1e-4);
    expect(result.typed).toBe(true);
  }, 120_000);

  it('type-checks a strict TypeScript consumer against the published declarations, and catches its mistakes', async () => {
    writeFileSync(
      join(consumer, 'app.ts'),
      `import { compileModel, loadModel, mobilenetV2, randomParams, type CompiledModel } from 'webcnn';
import { acquireNodeDevice } from 'webcnn/node';
const { device } = await acquireNodeDevice();
const model: CompiledModel = await compileModel(device, mobilenetV2({ params: randomParams(1), inputSize: 32 }));
const dispatches: number = model.dispatchCount;
const loaded = loadModel(new Uint8Array(0), { fileName: 'm.tflite' });
// @ts-expect-error: a misspelt option must not pass
await compileModel(device, loaded.graph, { precison: 'f32' });
export { dispatches };
`,
    );
    const config = { compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, types: ['node'] }, files: ['app.ts'] };
    writeFileSync(join(consumer, 'tsconfig.json'), JSON.stringify(config));
    const tsc = resolve(PROJECT_ROOT, 'node_modules/typescript/bin/tsc');
    await expect(run(process.execPath, [tsc, '-p', consumer], { cwd: consumer })).resolves.toBeDefined();
    // The same program with a type error fails: the declarations are really read.
    writeFileSync(join(consumer, 'app.ts'), `import { compileModel } from 'webcnn';\nconst n: string = compileModel;\nexport { n };\n`);
    await expect(run(process.execPath, [tsc, '-p', consumer], { cwd: consumer })).rejects.toMatchObject({ stdout: expect.stringMatching(/TS2322/) });
  }, 120_000);
});
