import { describe, expect, it } from 'vitest';
import type { KernelProgram } from '../../shaders/common.ts';
import { formatVariety, programVariety } from './pipeline-variety.ts';

const program = (key: string, code = key): KernelProgram => ({ name: key.split('/')[0], key, code, bindings: [], uniforms: [], workgroupSize: 64 });

describe('programVariety', () => {
  it('counts launches, pipelines and sources, and names the key parts that differ per family', () => {
    const v = programVariety([
      program('pointwise/p8v2/relu/view(2,6,0)'),
      program('pointwise/p8v2/relu/view(2,6,2)'),
      program('pointwise/p8v2/relu/view(2,6,2)'),
      program('pointwise/p8v1/relu'),
      program('pool/max', 'same  code'),
      program('pool/max2', 'same code'),
    ]);
    expect([v.launches, v.programs, v.sources]).toEqual([6, 5, 4]);
    expect(v.families[0]).toEqual({ family: 'pointwise', launches: 4, programs: 3, varying: [{ part: 'view', values: 3 }, { part: 'pv', values: 2 }] });
    expect(formatVariety(v)[1]).toBe('  pointwise: 4 launches, 3 programs; differ in view (3), pv (2)');
  });
});
