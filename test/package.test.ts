/**
 * The package as another project gets it: `npm pack` of this repository (lib/ is built by test/global-setup.ts),
 * installed with npm into folders outside the repository, one with the optional peer dependency `webgpu` and one
 * without. A plain Node program, a strict TypeScript project, the installed `webcnn` bin and the README's Node
 * quick start must work there, and the tarball must hold what the README links to and no test code.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, posix, resolve } from 'node:path';
import { promisify } from 'node:util';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tinyClassifier } from './helpers/tflite-writer.ts';
import { hasShared, PROJECT_ROOT, SHARED_CAT, SHARED_MODEL } from './shared.ts';

const run = promisify(execFile);
const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
  version: string;
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
};
const readme = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8');

/** The README's Node quick start: the first ```js block after this line. */
const QUICKSTART_MARKER = '<!-- quickstart:node -->';
/**
 * Until README.md carries the marker (issue 15's README rewrite), a README without it skips the quick-start
 * test instead of failing it; set to true once it does, so that losing the marker fails.
 */
const QUICKSTART_REQUIRED = true;

const work = mkdtempSync(join(tmpdir(), 'webcnn-package-'));
/** With the tarball and `webgpu` installed. */
const consumer = join(work, 'consumer');
/** With the tarball only (a browser project, or a Node one that forgot the peer dependency). */
const bare = join(work, 'bare');
let packedFiles: string[] = [];
afterAll(() => rmSync(work, { recursive: true, force: true }));

/**
 * The environment for a child npm: without the npm_* variables of an `npm test` that launched vitest (they
 * describe the repository's install, not the consumer's), keeping the cache and registry settings.
 */
function npmEnv(): NodeJS.ProcessEnv {
  const keep = /^npm_config_(cache|userconfig|globalconfig|registry|.*proxy|strict_ssl|cafile)$/i;
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k) || keep.test(k)));
}

async function npmInstall(dir: string, specs: string[]): Promise<void> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{ "private": true, "type": "module" }\n');
  // From the npm cache when it has the packages (the repository's own install put them there).
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--no-package-lock', ...specs], { cwd: dir, env: npmEnv() });
}

beforeAll(async () => {
  // --ignore-scripts: `prepare` would rebuild lib/, deleting it while other test files run the CLI from it.
  const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: PROJECT_ROOT, env: npmEnv() });
  const [packed] = JSON.parse(stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
  packedFiles = packed.files.map((f) => f.path);
  const tarball = join(work, packed.filename);
  const webgpuVersion = (JSON.parse(readFileSync(join(PROJECT_ROOT, 'node_modules/webgpu/package.json'), 'utf8')) as { version: string }).version;
  await Promise.all([npmInstall(consumer, [tarball, `webgpu@${webgpuVersion}`]), npmInstall(bare, [tarball])]);
  // The TypeScript consumer's own tool: Node's types (its tsconfig lists them).
  mkdirSync(join(consumer, 'node_modules/@types'), { recursive: true });
  symlinkSync(resolve(PROJECT_ROOT, 'node_modules/@types/node'), join(consumer, 'node_modules/@types/node'));
}, 300_000);

describe('the packed tarball', () => {
  it('holds lib/, the bin, the docs, README and LICENSE, and no sources or test code', () => {
    for (const f of ['package.json', 'README.md', 'LICENSE', 'bin/webcnn.js', 'lib/index.js', 'lib/node.js', 'lib/cli/main.js', 'lib/types/src/index.d.ts', 'lib/types/src/node.d.ts']) {
      expect(packedFiles, f).toContain(f);
    }
    expect(packedFiles.filter((f) => /^(src|shaders|test|e2e|scripts|types)\//.test(f) || /\.test\.|test-writer|helpers\//.test(f))).toEqual([]);
  });

  it('holds every file that README.md links to by a relative path', () => {
    // Inline links and images, reference definitions, HTML src / href.
    const links = [...readme.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)|^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)|(?:src|href)="([^"]+)"/gm)]
      .map((m) => m[1] ?? m[2] ?? m[3]);
    const relative = links.filter((l) => !/^([a-z][a-z0-9+.-]*:|#|\/\/)/i.test(l)).map((l) => posix.normalize(decodeURI(l.replace(/[#?].*$/, ''))));
    expect(relative.length).toBeGreaterThan(0);
    const missing = relative.filter((l) => !packedFiles.includes(l) && !packedFiles.some((f) => f.startsWith(`${l.replace(/\/$/, '')}/`)));
    expect(missing).toEqual([]);
  });

  it('imports at run time only its dependencies, the optional peer webgpu and Node built-ins; the browser entry no Node module', () => {
    const lib = join(consumer, 'node_modules/webcnn/lib');
    const files = (readdirSync(lib, { recursive: true }) as string[]).filter((f) => f.endsWith('.js'));
    const bareImports = (text: string) => [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s*)"([^".][^"]*)"/g)].map((m) => m[1]);
    const allowed = new Set([...Object.keys(pkg.dependencies), ...Object.keys(pkg.peerDependencies)]);
    const packageOf = (s: string) => s.split('/').slice(0, s.startsWith('@') ? 2 : 1).join('/');
    const stray = files.flatMap((f) => bareImports(readFileSync(join(lib, f), 'utf8')))
      .filter((s) => !s.startsWith('node:') && !builtinModules.includes(s) && !allowed.has(packageOf(s)));
    expect(stray).toEqual([]);
    // What `import 'webcnn'` can load: no node:*, no image decoders, no Dawn (a web bundle gets none of them).
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s*)"(\.[^"]+)"/g)) visit(resolve(dirname(file), m[1]));
    };
    visit(join(lib, 'index.js'));
    const browserImports = [...seen].flatMap((f) => bareImports(readFileSync(f, 'utf8')));
    expect(browserImports.filter((s) => s.startsWith('node:') || ['pngjs', 'jpeg-js', 'bmp-ts', 'webgpu'].includes(s))).toEqual([]);
  });
});

describe('installed with npm', () => {
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

  it("runs the installed bin, node_modules/.bin/webcnn, from lib/ (no TypeScript at run time)", async () => {
    const { stdout } = await run(join(consumer, 'node_modules/.bin/webcnn'), ['--version'], { cwd: consumer });
    expect(stdout.trim()).toBe(`webcnn ${pkg.version}`);
    expect(existsSync(join(consumer, 'node_modules/tsx'))).toBe(false);
  }, 60_000);

  it("without the optional peer webgpu: 'webcnn' loads, and acquireNodeDevice() says in one line to npm install webgpu", async () => {
    expect(existsSync(join(bare, 'node_modules/webgpu'))).toBe(false);
    writeFileSync(
      join(bare, 'app.mjs'),
      `import { mobilenetV2, randomParams } from 'webcnn';
import { acquireNodeDevice, WebGPUUnavailableError } from 'webcnn/node';
mobilenetV2({ params: randomParams(1), inputSize: 32 });
try { await acquireNodeDevice(); console.log('acquired'); }
catch (e) { console.log(JSON.stringify({ typed: e instanceof WebGPUUnavailableError, message: e.message })); }
`,
    );
    const { stdout } = await run(process.execPath, ['app.mjs'], { cwd: bare });
    const result = JSON.parse(stdout.trim());
    expect(result.typed).toBe(true);
    expect(result.message).toMatch(/^webcnn\/node needs the 'webgpu' package .*: npm install webgpu$/);
    // The CLI says the same, alone on its line (no GPU-driver advice: the driver is not what is missing).
    writeFileSync(join(bare, 'tiny.tflite'), tinyClassifier());
    const png = new PNG({ width: 6, height: 8 });
    png.data.fill(128);
    writeFileSync(join(bare, 'grey.png'), PNG.sync.write(png));
    const cli = run(join(bare, 'node_modules/.bin/webcnn'), ['classify', 'grey.png', '--model', 'tiny.tflite'], { cwd: bare });
    await expect(cli).rejects.toMatchObject({ code: 1, stderr: `webcnn: ${result.message}\n` });
  }, 60_000);

  const quickstart = readme.split(QUICKSTART_MARKER)[1]?.match(/```js\n([\s\S]*?)```/)?.[1];
  it.skipIf(!hasShared() || !existsSync(SHARED_CAT) || (!QUICKSTART_REQUIRED && !readme.includes(QUICKSTART_MARKER)))(
    "runs the README's Node quick start as written, in a fresh folder: the shared cat is an Egyptian cat",
    async () => {
      if (quickstart === undefined) {
        throw new Error(`README.md has no \`${QUICKSTART_MARKER}\` line followed by a \`\`\`js block (the Node quick start this test runs)`);
      }
      const dir = join(work, 'quickstart');
      mkdirSync(dir);
      // The installed packages, as `npm install webcnn webgpu` left them (the quick start's install line).
      symlinkSync(join(consumer, 'node_modules'), join(dir, 'node_modules'));
      writeFileSync(join(dir, 'package.json'), '{ "private": true, "type": "module" }\n');
      copyFileSync(SHARED_MODEL, join(dir, 'mobilenet_v2_1.0_224_quant.tflite'));
      copyFileSync(SHARED_CAT, join(dir, 'cat.bmp'));
      writeFileSync(join(dir, 'quickstart.mjs'), quickstart);
      const { stdout } = await run(process.execPath, ['quickstart.mjs'], { cwd: dir, timeout: 180_000 });
      expect(stdout).toMatch(/Egyptian cat/);
    },
    240_000,
  );
});
