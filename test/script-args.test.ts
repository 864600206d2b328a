import { describe, expect, it } from 'vitest';
import { pickNetworks } from '../scripts/args.ts';

describe('pickNetworks', () => {
  const known = ['mobilenet_v2', 'resnet50'] as const;

  it('accepts every spelling that differs only in case, - and _, in the order given', () => {
    expect(pickNetworks('resnet50,mobilenetv2', known, 'usage')).toEqual(['resnet50', 'mobilenet_v2']);
    expect(pickNetworks(' MobileNet-V2 ', known, 'usage')).toEqual(['mobilenet_v2']);
    expect(pickNetworks('mobilenet_v2', ['mobilenetv2', 'resnet50'], 'usage')).toEqual(['mobilenetv2']);
  });

  it('names an unknown network and the known ones', () => {
    expect(() => pickNetworks('mobilenet_v3', known, 'usage: x')).toThrow('unknown network "mobilenet_v3" (known: mobilenet_v2, resnet50)\nusage: x');
  });

  it('skips empty items', () => {
    expect(pickNetworks('resnet50,,', known, 'usage')).toEqual(['resnet50']);
  });
});
