/**
 * The model files the timing page's networks read (DeepLabV3): the demo's default segmenter, from where the demo
 * gets it (the development server's /models/, or its public home checked by sha256 in a build).
 */
import type { ModelFileReader } from '../../src/bench/networks.ts';
import { DEFAULT_FILES, download } from '../webcam/model-source.ts';

export const readDemoModelFile: ModelFileReader = async (name) => {
  const file = Object.values(DEFAULT_FILES).find((f) => f.model.name === name)?.model;
  if (!file) throw new Error(`the timing page has no source for ${name}`);
  return download(file, () => undefined);
};
