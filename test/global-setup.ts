/**
 * Vitest global setup: builds lib/ when a source is newer than it, once, before any test file runs. The CLI
 * tests run `bin/webcnn.js`, which runs the bundle lib/cli/main.js, and test/package.test.ts packs lib/: both
 * must see the sources under test, and a build inside a test file would delete lib/ under the other's feet.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** What the build reads (tests excepted). */
const INPUTS = ['src', 'shaders', 'types', 'package.json', 'tsconfig.json', 'tsconfig.lib.json'];
/** What the build writes; the oldest of them must be newer than every input. */
const OUTPUTS = ['lib/index.js', 'lib/node.js', 'lib/cli/main.js', 'lib/types/src/index.d.ts', 'lib/types/src/node.d.ts'];

/** Newest modification time under `path` (folders count too: a deleted file changes its folder's). */
function newest(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return path.endsWith('.test.ts') ? 0 : stat.mtimeMs;
  let t = stat.mtimeMs;
  for (const name of readdirSync(path)) t = Math.max(t, newest(join(path, name)));
  return t;
}

export function libIsStale(): boolean {
  const outputs = OUTPUTS.map((p) => join(PROJECT_ROOT, p));
  if (!outputs.every((p) => existsSync(p))) return true;
  const built = Math.min(...outputs.map((p) => statSync(p).mtimeMs));
  return INPUTS.some((p) => existsSync(join(PROJECT_ROOT, p)) && newest(join(PROJECT_ROOT, p)) > built);
}

export default function setup(): void {
  if (!libIsStale()) return;
  process.stderr.write('lib/ is older than the sources: npm run build:lib\n');
  execFileSync('npm', ['run', 'build:lib', '--silent'], { cwd: PROJECT_ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
}
