/**
 * Structural rules of the code base (docs/adding-an-op.md relies on them): no import cycle among the modules of
 * src/ and shaders/ (type-only imports included, since they couple modules just the same), and no module there
 * or among the test helpers (test/, e2e/) over 700 lines (tests excepted). Imports are read with TypeScript's own
 * pre-processor, dynamic ones included.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from './shared.ts';

const ROOTS = ['src', 'shaders'];
const MAX_LINES = 700;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.ts$/.test(name) && !/\.d\.ts$/.test(name) ? [path] : [];
  });
}

const files = ROOTS.flatMap((r) => sourceFiles(resolve(PROJECT_ROOT, r)));
const modules = files.filter((f) => !/\.test\.ts$/.test(f));
const rel = (f: string): string => relative(PROJECT_ROOT, f);

/** Local imports of one module, as absolute paths of modules inside the checked roots. */
function localImports(file: string): string[] {
  const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  const known = new Set(files);
  return info.importedFiles
    .map((f) => f.fileName)
    .filter((spec) => spec.startsWith('.'))
    .map((spec) => resolve(dirname(file), spec))
    .map((path) => (known.has(path) ? path : known.has(`${path}.ts`) ? `${path}.ts` : known.has(join(path, 'index.ts')) ? join(path, 'index.ts') : path))
    .filter((path) => known.has(path));
}

/** Every cycle's modules, one list per strongly connected component of more than one module (or a self-import). */
export function importCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return cycles;
}

describe('architecture', () => {
  it('finds a cycle when there is one (the checker itself)', () => {
    const graph = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a']],
      ['d', ['a']],
    ]);
    expect(importCycles(graph)).toEqual([['a', 'b', 'c']]);
    expect(importCycles(new Map([['a', ['a']]]))).toEqual([['a']]);
    expect(importCycles(new Map([['a', ['b']], ['b', []]]))).toEqual([]);
  });

  it('src/ and shaders/ have no import cycle', () => {
    const graph = new Map(modules.map((f) => [f, localImports(f)] as const));
    expect(modules.length).toBeGreaterThan(50);
    const cycles = importCycles(graph).map((c) => c.map(rel).join(' -> '));
    expect(cycles).toEqual([]);
  });

  it(`no module in src/, shaders/, test/ or e2e/ is over ${MAX_LINES} lines (tests and specs excepted)`, () => {
    // The test helpers and case tables keep the same rule (their import graph is not checked: case tables and
    // the case union refer to each other's types).
    const helpers = ['test', 'e2e'].flatMap((r) => sourceFiles(resolve(PROJECT_ROOT, r))).filter((f) => !/\.(test|spec)\.ts$/.test(f));
    const long = [...modules, ...helpers]
      .map((f) => ({ file: rel(f), lines: readFileSync(f, 'utf8').split('\n').length }))
      .filter((m) => m.lines > MAX_LINES)
      .map((m) => `${m.file}: ${m.lines} lines`);
    expect(long).toEqual([]);
  });
});
