import { describe, expect, it } from 'vitest';
import { classOf, withArticle } from './describe.ts';

describe('withArticle and classOf', () => {
  it('choose a or an by sound', () => {
    expect(['Int8Array', 'undefined', 'object', 'ArrayBuffer', 'Uint8Array', 'Uint8ClampedArray', 'string', 'Float64Array'].map(withArticle)).toEqual([
      'an Int8Array', 'an undefined', 'an object', 'an ArrayBuffer', 'a Uint8Array', 'a Uint8ClampedArray', 'a string', 'a Float64Array',
    ]);
  });

  it('name an object by its class', () => {
    expect(classOf(new Float64Array(1))).toBe('a Float64Array');
    expect(classOf(new Uint16Array(1))).toBe('a Uint16Array');
    expect(classOf([])).toBe('an Array');
    expect(classOf(Object.create(null) as object)).toBe('an object');
  });
});
