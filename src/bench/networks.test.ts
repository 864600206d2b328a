import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { UnsupportedFeatureError } from '../errors.ts';
import { sharedPath } from '../../test/shared.ts';
import { DEEPLABV3_FILE, NETWORKS, NETWORK_IDS, NO_MODEL_FILES, defaultNetworkIds, selectNetworks } from './networks.ts';

const DEEPLAB = sharedPath('models', DEEPLABV3_FILE);

describe('timing networks', () => {
  it('knows the two classifiers and DeepLabV3; a quick run leaves DeepLabV3 out unless named, a full run has all', () => {
    expect(NETWORK_IDS).toEqual(['mobilenet_v2', 'resnet50', 'deeplabv3']);
    expect(defaultNetworkIds(false)).toEqual(NETWORK_IDS);
    expect(defaultNetworkIds(true)).toEqual(['mobilenet_v2', 'resnet50']);
    expect(selectNetworks(undefined, true, undefined).map((s) => s.id)).toEqual(['mobilenet_v2', 'resnet50']);
    const reader = async () => new Uint8Array();
    expect(selectNetworks(['deeplabv3'], true, reader).map((s) => s.id)).toEqual(['deeplabv3']);
    expect(selectNetworks(undefined, false, reader).map((s) => s.id)).toEqual(NETWORK_IDS);
  });

  it('rejects unknown ids, and a file-backed network without a file reader, with one-line typed errors', () => {
    expect(() => selectNetworks(['alexnet'], false, undefined)).toThrow(UnsupportedFeatureError);
    expect(() => selectNetworks(['alexnet'], false, undefined)).toThrow(/^unknown network "alexnet" \(known: mobilenet_v2, resnet50, deeplabv3\)$/);
    expect(() => selectNetworks(undefined, false, undefined)).toThrow(/^network "deeplabv3" reads deeplabv3_mnv2_pascal_quant\.tflite, but no model file reader was given$/);
    // The classifiers need no reader.
    expect(selectNetworks(['mobilenet_v2'], false, undefined)).toHaveLength(1);
  });

  it('builds the classifiers without reading files', async () => {
    const graph = await NETWORKS.mobilenet_v2.build(NO_MODEL_FILES);
    expect(graph.tensors[graph.inputs[0]].shape).toEqual([1, 3, 224, 224]);
    await expect(NO_MODEL_FILES('x.tflite')).rejects.toThrow(UnsupportedFeatureError);
  });

  it('reads DeepLabV3 through the reader it is given, by file name', async () => {
    const asked: string[] = [];
    const failing = async (name: string) => {
      asked.push(name);
      throw new Error('not here');
    };
    await expect(NETWORKS.deeplabv3.build(failing)).rejects.toThrow('not here');
    expect(asked).toEqual([DEEPLABV3_FILE]);
  });

  it.skipIf(!existsSync(DEEPLAB))('builds the shared DeepLabV3: 513x513 in, a 513x513 class map out', async () => {
    const graph = await NETWORKS.deeplabv3.build(async (name) => new Uint8Array(readFileSync(sharedPath('models', name))));
    expect(graph.tensors[graph.inputs[0]].shape).toEqual([1, 3, 513, 513]);
    expect(graph.tensors[graph.outputs[0]].shape).toEqual([1, 1, 513, 513]);
  });
});
