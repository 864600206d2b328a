import type { KernelProgram } from '../../shaders/common.ts';

/**
 * What makes a compiled model's pipelines many: launches against distinct programs (one pipeline each), distinct
 * WGSL sources (two keys with the same code compile twice), and per family the key parts that take several
 * values. A key part is a `/`-separated piece of `KernelProgram.key`; its name is the piece without digits and
 * parenthesised arguments (`view(4,32,8)` -> `view`, `p8v2` -> `pv`), so the report says e.g. that 40
 * pointwise programs differ only in `view`.
 */
export interface ProgramVariety {
  readonly launches: number;
  /** Distinct program keys: the pipelines `PipelineCache` creates. */
  readonly programs: number;
  /** Distinct WGSL sources, whitespace ignored. */
  readonly sources: number;
  readonly families: readonly FamilyVariety[];
}

export interface FamilyVariety {
  readonly family: string;
  readonly launches: number;
  readonly programs: number;
  /** Key parts with more than one value among the family's programs (absent counts as a value), most values first. */
  readonly varying: readonly { readonly part: string; readonly values: number }[];
}

const partName = (piece: string): string => piece.replace(/\(.*\)$/, '').replace(/[0-9.]+/g, '') || '#';

/** Key parts by name; a name that occurs twice in one key gets a running suffix. */
function keyParts(key: string): Map<string, string> {
  const parts = new Map<string, string>();
  for (const piece of key.split('/').slice(1)) {
    let name = partName(piece);
    for (let i = 2; parts.has(name); i++) name = `${partName(piece)}#${i}`;
    parts.set(name, piece);
  }
  return parts;
}

export function programVariety(launched: readonly KernelProgram[]): ProgramVariety {
  const byKey = new Map<string, KernelProgram>();
  for (const p of launched) byKey.set(p.key, p);
  const programs = [...byKey.values()];
  const sources = new Set(programs.map((p) => p.code.replace(/\s+/g, ' ').trim()));
  const families = new Map<string, { launches: number; programs: KernelProgram[] }>();
  for (const p of launched) {
    const f = families.get(p.name) ?? { launches: 0, programs: [] };
    f.launches++;
    families.set(p.name, f);
  }
  for (const p of programs) families.get(p.name)!.programs.push(p);
  return {
    launches: launched.length,
    programs: programs.length,
    sources: sources.size,
    families: [...families.entries()]
      .map(([family, f]) => {
        const parts = f.programs.map((p) => keyParts(p.key));
        const names = new Set(parts.flatMap((m) => [...m.keys()]));
        const varying = [...names]
          .map((part) => ({ part, values: new Set(parts.map((m) => m.get(part) ?? '')).size }))
          .filter((v) => v.values > 1)
          .sort((a, b) => b.values - a.values);
        return { family, launches: f.launches, programs: f.programs.length, varying };
      })
      .sort((a, b) => b.programs - a.programs),
  };
}

/** One line per family: `pointwise: 61 launches, 40 programs; differ in view (38), in-affine (2)`. */
export function formatVariety(v: ProgramVariety): string[] {
  return [
    `${v.launches} launches, ${v.programs} distinct programs (pipelines), ${v.sources} distinct WGSL sources`,
    ...v.families.map((f) => {
      const differ = f.varying.length ? `; differ in ${f.varying.map((x) => `${x.part} (${x.values})`).join(', ')}` : '';
      return `  ${f.family}: ${f.launches} launches, ${f.programs} programs${differ}`;
    }),
  ];
}
