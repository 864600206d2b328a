/**
 * Where the real model weights, labels and images live: `$WEBCNN_SHARED`, else `../shared` beside the project
 * (never committed into it). The model is also found where `npm run fetch-model` stores it when the shared
 * folder lacks it (`$WEBCNN_MODELS_DIR`, else `models/` in the project; see scripts/fetch-model.ts), so that
 * the tests that need only the model run after a fetch. Tests that need what is missing skip with a message.
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MODEL_FILE } from '../scripts/fetch-model.ts';

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const SHARED_DIR = resolve(process.env.WEBCNN_SHARED ?? resolve(PROJECT_ROOT, '../shared'));
/** Where `npm run fetch-model` downloads the model (the same rule as scripts/fetch-model.ts). */
export const FETCHED_MODELS_DIR = resolve(process.env.WEBCNN_MODELS_DIR ?? resolve(PROJECT_ROOT, 'models'));

export function sharedPath(...parts: string[]): string {
  return resolve(SHARED_DIR, ...parts);
}

/** The first of `paths` that exists, else the first (so that messages name the shared location). */
function firstExisting(...paths: string[]): string {
  return paths.find((p) => existsSync(p)) ?? paths[0];
}

/** The shared MobileNetV2 TFLite: in the shared folder, else as `npm run fetch-model` left it. */
export const SHARED_MODEL = firstExisting(sharedPath('models', MODEL_FILE), resolve(FETCHED_MODELS_DIR, MODEL_FILE));
export const SHARED_LABELS = sharedPath('labels/imagenet_labels.txt');
export const SHARED_CAT = sharedPath('images/cat.bmp');

/** The real model is here (shared or fetched). */
export const hasSharedModel = (): boolean => existsSync(SHARED_MODEL);
/** The model, its label file and the cat photo are all here: what the real-model classification tests read. */
export const hasShared = (): boolean => hasSharedModel() && existsSync(SHARED_LABELS) && existsSync(SHARED_CAT);
