/**
 * The README's imports are the public API people copy: every name it imports from 'webcnn' or 'webcnn/node'
 * must be a value the package entry points export (`src/index.ts`, `src/node.ts`).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as webcnn from '../src/index.ts';
import * as webcnnNode from '../src/node.ts';

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
