import { afterEach, describe, expect, it, vi } from 'vitest';
import { countValue, networkBuilders, tileList } from '../scripts/ab-args.ts';

describe('A/B script arguments', () => {
  afterEach(() => vi.restoreAllMocks());
  const exits = () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    return vi.spyOn(process, 'exit').mockImplementation((code) => {
      throw new Error(`exit ${code}`);
    });
  };

  it('parses tile lists, walk / workgroup sizes only where asked', () => {
    expect(tileList('8x2,4x1', 'usage')).toEqual([{ label: '8x2', p: 8, v: 2 }, { label: '4x1', p: 4, v: 1 }]);
    expect(tileList('4x2w28', 'usage', true)).toEqual([{ label: '4x2w28', p: 4, v: 2, w: 28 }]);
    expect(tileList('', 'usage')).toEqual([]);
    exits();
    expect(() => tileList('4x2w28', 'usage')).toThrow('exit 2');
    expect(() => tileList('8', 'usage', true)).toThrow('exit 2');
  });

  it('takes whole-number counts from a minimum', () => {
    expect(countValue('3', 'rounds', 'usage')).toBe(3);
    expect(countValue('0', 'rounds', 'usage')).toBe(0);
    exits();
    expect(() => countValue('0', 'batch', 'usage', 1)).toThrow('exit 2');
    expect(() => countValue('2.5', 'rounds', 'usage')).toThrow('exit 2');
    expect(() => countValue('', 'rounds', 'usage')).toThrow('exit 2');
  });

  it('names the built networks in any spelling, unknown ones a usage error', () => {
    expect(networkBuilders('resnet50,MobileNet-V2', 'usage').map((n) => n.name)).toEqual(['resnet50', 'mobilenet_v2']);
    exits();
    expect(() => networkBuilders('vgg16', 'usage')).toThrow('exit 2');
  });
});
