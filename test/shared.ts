/**
 * Where the real model weights, labels and images live: `$WEBCNN_SHARED`, else `../shared` beside the project
 * (never committed into it). Tests that need them skip with a message when the folder is absent.
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const SHARED_DIR = resolve(process.env.WEBCNN_SHARED ?? resolve(PROJECT_ROOT, '../shared'));

export function sharedPath(...parts: string[]): string {
  return resolve(SHARED_DIR, ...parts);
}

export const SHARED_MODEL = sharedPath('models/mobilenet_v2_1.0_224_quant.tflite');
export const SHARED_LABELS = sharedPath('labels/imagenet_labels.txt');
export const SHARED_CAT = sharedPath('images/cat.bmp');

export const hasShared = (): boolean => existsSync(SHARED_MODEL);
