import { describe, expect, it } from 'vitest';
import { ZOO_ENGINES, parsePeersArgs, parseZooAsks, zooPicks } from '../scripts/bench-peers-args.ts';
import { ENGINE_IDS } from '../bench/peers/protocol.ts';
import { ZOO_BENCH_DEFAULTS, ZOO_QUICK_REPEATS, ZOO_REPEATS } from '../bench/peers/zoo-network.ts';
import { loadZooTable } from '../scripts/zoo/models.ts';

describe('bench:peers arguments, builder networks', () => {
  it('defaults to both networks, every engine, the browser', () => {
    const o = parsePeersArgs([]);
    expect(o.zoo).toBeUndefined();
    expect(o.runtime).toBe('browser');
    expect(o.engines).toEqual([...ENGINE_IDS]);
    expect(o.requests.map((r) => r.network)).toEqual(['mobilenetv2', 'resnet50']);
    expect(o.seed).toBe(1);
  });

  it('applies --quick, --networks, --rounds, --input-size and --width-multiplier (MobileNetV2 only)', () => {
    const o = parsePeersArgs(['--networks', 'resnet50,MobileNet-V2', '--rounds', '2', '--input-size', '96', '--width-multiplier', '0.35']);
    expect(o.requests).toEqual([
      { network: 'resnet50', warmups: 0, rounds: 2, inputSize: 96 },
      { network: 'mobilenetv2', warmups: 2, rounds: 2, inputSize: 96, widthMultiplier: 0.35 },
    ]);
    expect(parsePeersArgs(['--quick']).requests).toEqual([{ network: 'mobilenetv2', warmups: 1, rounds: 3 }]);
  });

  it('refuses bad values and zoo options without the zoo mode', () => {
    expect(() => parsePeersArgs(['--runtime', 'deno'])).toThrow('--runtime must be browser or node');
    expect(() => parsePeersArgs(['--rounds', '0'])).toThrow('--rounds must be an integer from 1 up, got "0"');
    expect(() => parsePeersArgs(['--rounds', '2.5'])).toThrow('--rounds must be an integer');
    expect(() => parsePeersArgs(['--engines', 'webcnn,onnx'])).toThrow('unknown engine "onnx"');
    expect(() => parsePeersArgs(['--networks', 'vgg'])).toThrow('unknown network "vgg"');
    expect(() => parsePeersArgs(['--side', '128'])).toThrow('--side belongs to the zoo mode (--zoo or --models)');
    expect(() => parsePeersArgs(['--cache', '/tmp/x'])).toThrow('--cache belongs to the zoo mode');
    expect(() => parsePeersArgs(['--update-doc'])).toThrow('--update-doc belongs to the zoo mode');
    expect(() => parsePeersArgs(['--from-json', 'a.json'])).toThrow('--from-json belongs to the zoo mode');
    expect(() => parsePeersArgs(['--bogus'])).toThrow();
  });
});

describe('bench:peers arguments, zoo mode', () => {
  it('--zoo: the default set, webcnn and both ORT builds, the zoo repeats', () => {
    const o = parsePeersArgs(['--zoo']);
    expect(o.requests).toEqual([]);
    expect(o.engines).toEqual([...ZOO_ENGINES]);
    expect(o.zoo).toEqual({ asks: ZOO_BENCH_DEFAULTS, side: undefined, warmups: ZOO_REPEATS.warmups, rounds: ZOO_REPEATS.rounds, cache: undefined, updateDoc: false });
    expect(parsePeersArgs(['--zoo', '--update-doc']).zoo?.updateDoc).toBe(true);
    expect(parsePeersArgs(['--zoo', '--from-json', 'a.json']).zoo?.fromJson).toBe('a.json');
  });

  it('--models implies --zoo and takes name@side; --side, --cache, --quick and repeats apply', () => {
    const o = parsePeersArgs(['--models', 'densenet121, googlenet@96', '--side', '112', '--cache', '/work/zoo-cache', '--quick', '--rounds', '2']);
    expect(o.zoo).toEqual({
      asks: [{ model: 'densenet121' }, { model: 'googlenet', side: 96 }],
      side: 112,
      warmups: ZOO_QUICK_REPEATS.warmups,
      rounds: 2,
      cache: '/work/zoo-cache',
      updateDoc: false,
    });
    expect(parsePeersArgs(['--zoo', '--engines', 'webcnn,ort-jsep']).engines).toEqual(['webcnn', 'ort-jsep']);
  });

  it('refuses what the zoo mode cannot do', () => {
    expect(() => parsePeersArgs(['--zoo', '--engines', 'webcnn,tfjs-webgpu'])).toThrow('not tfjs-webgpu');
    expect(() => parsePeersArgs(['--zoo', '--runtime', 'node'])).toThrow('browser only');
    expect(() => parsePeersArgs(['--zoo', '--networks', 'resnet50'])).toThrow('--networks is for the builder networks');
    expect(() => parsePeersArgs(['--zoo', '--input-size', '96'])).toThrow('--input-size is for the builder networks');
    expect(() => parsePeersArgs(['--zoo', '--side', '8'])).toThrow('--side must be an integer from 16 to 1024, got "8"');
    expect(() => parsePeersArgs(['--models', ','])).toThrow('--models is empty');
    expect(() => parseZooAsks('googlenet@96@2')).toThrow('"googlenet@96@2" is not name or name@side');
    expect(() => parseZooAsks('googlenet@x')).toThrow('--models (googlenet@side) must be an integer');
  });
});

describe('zoo picks', () => {
  const table = loadZooTable();

  it('every default network is in the zoo table, at a side torch exports', () => {
    const picks = zooPicks(table, ZOO_BENCH_DEFAULTS);
    expect(picks.map((p) => [p.model.name, p.side])).toEqual(ZOO_BENCH_DEFAULTS.map((z) => [z.model, z.side]));
    for (const family of ['EfficientNet', 'MobileNet V3', 'DenseNet', 'GoogLeNet', 'Inception v3', 'SqueezeNet', 'ShuffleNet V2', 'RegNet Y', 'ConvNeXt', 'DeepLabV3']) {
      expect(picks.some((p) => p.model.family === family), family).toBe(true);
    }
  });

  it('side: the ask\'s own, else --side, else the default set\'s, else the model\'s own', () => {
    const sides = (asks: Parameters<typeof zooPicks>[1], side?: number) => zooPicks(table, asks, side).map((p) => p.side);
    expect(sides([{ model: 'googlenet', side: 96 }, { model: 'densenet121' }], 112)).toEqual([96, 112]);
    expect(sides([{ model: 'DenseNet-121' }, { model: 'resnet18' }])).toEqual([128, 224]);
  });

  it('names unknown models and sides torch cannot export at', () => {
    expect(() => zooPicks(table, [{ model: 'vit_b_16' }])).toThrow('unknown zoo model "vit_b_16"');
    expect(() => zooPicks(table, [{ model: 'alexnet', side: 128 }])).toThrow('torch exports alexnet only at sides 223-254, 415-446, not 128');
  });
});
