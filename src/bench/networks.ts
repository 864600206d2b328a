/**
 * The networks the timing suite knows by id: two classifiers built in code with random weights, and the shared
 * DeepLabV3 segmenter, read from its TFLite file (real weights) through a reader the caller gives (the page
 * fetches it, Node reads it from the shared folder): this module stays free of DOM and Node APIs.
 */
import { UnsupportedFeatureError } from '../errors.ts';
import type { Graph } from '../graph/ir.ts';
import { loadTflite } from '../formats/tflite/index.ts';
import { mobilenetV2 } from '../models/mobilenet-v2.ts';
import { resnet50 } from '../models/resnet.ts';
import { randomParams } from '../models/params.ts';

export type NetworkId = 'mobilenet_v2' | 'resnet50' | 'deeplabv3';

/** Returns the bytes of a model file known by its name (e.g. `deeplabv3_mnv2_pascal_quant.tflite`). */
export type ModelFileReader = (name: string) => Promise<Uint8Array>;

export interface NetworkSpec {
  /** A `NetworkId`, or any id for a network given through `TimingOptions.extraNetworks`. */
  readonly id: string;
  readonly title: string;
  /** The graph; `readFile` gives the bytes of `file` for a network read from a model file. */
  readonly build: (readFile: ModelFileReader) => Graph | Promise<Graph>;
  /** The model file `build` reads, where it reads one. */
  readonly file?: string;
  /**
   * Too slow on a software adapter for a quick run (DeepLabV3: seconds per inference on SwiftShader): quick runs
   * time it only when asked for by id; full runs always.
   */
  readonly quickOptIn?: boolean;
}

/** The shared DeepLabV3 (MobileNetV2, PASCAL VOC, 513x513, uint8, ARG_MAX inside). */
export const DEEPLABV3_FILE = 'deeplabv3_mnv2_pascal_quant.tflite';

export const NETWORKS: Readonly<Record<NetworkId, NetworkSpec>> = {
  mobilenet_v2: { id: 'mobilenet_v2', title: 'MobileNetV2 1.0 224', build: () => mobilenetV2({ params: randomParams(1) }) },
  resnet50: { id: 'resnet50', title: 'ResNet-50 224', build: () => resnet50({ params: randomParams(1) }) },
  deeplabv3: {
    id: 'deeplabv3',
    title: 'DeepLabV3 MobileNetV2 513 (TFLite)',
    file: DEEPLABV3_FILE,
    quickOptIn: true,
    build: async (readFile) => loadTflite(await readFile(DEEPLABV3_FILE)).graph,
  },
};

export const NETWORK_IDS = Object.keys(NETWORKS) as NetworkId[];

/** What a run times when no ids are given: every network in a full run, those not opt-in in a quick one. */
export function defaultNetworkIds(quick: boolean): NetworkId[] {
  return NETWORK_IDS.filter((id) => !(quick && NETWORKS[id].quickOptIn));
}

/**
 * The specs of `ids` (default: `defaultNetworkIds(quick)`), checked: every id known, and a file reader given
 * where a network reads a model file.
 */
export function selectNetworks(ids: readonly string[] | undefined, quick: boolean, readFile: ModelFileReader | undefined): NetworkSpec[] {
  const chosen = ids ?? defaultNetworkIds(quick);
  return chosen.map((id) => {
    const spec = (NETWORKS as Readonly<Record<string, NetworkSpec>>)[id];
    if (!spec) throw new UnsupportedFeatureError(`unknown network "${id}" (known: ${NETWORK_IDS.join(', ')})`);
    if (spec.file && !readFile) throw new UnsupportedFeatureError(`network "${id}" reads ${spec.file}, but no model file reader was given`);
    return spec;
  });
}

/** A reader for suites whose networks read no file: any call is a bug. */
export const NO_MODEL_FILES: ModelFileReader = (name) => Promise.reject(new UnsupportedFeatureError(`no model file reader for ${name}`));
