/**
 * Where the default models (a classifier and a segmenter) come from: served from the local shared folder in development (see the Vite
 * plugin in vite.config.ts), fetched from its public home in a deployed build, or from the base URL the build
 * was configured with (`VITE_WEBCNN_MODEL_BASE=/models vite build`, e.g. a same-origin copy for a strict
 * Content-Security-Policy); always checked by sha256 outside development. The page loads models from nowhere
 * else: these URLs, or files the user picks.
 */
export interface RemoteFile {
  readonly name: string;
  readonly url: string;
  readonly sha256: string | null;
}

const PUBLIC_HOME = 'https://github.com/google-coral/test_data/raw/master';

/** What the page does with a model: one answer per frame, or a class per pixel. */
export type DemoTask = 'classify' | 'segment';

interface PublishedFile {
  readonly name: string;
  readonly sha256: string;
}

/** The default model and labels of each task: google-coral's test models, the same files as in ../shared. */
const PUBLISHED: Record<DemoTask, { readonly model: PublishedFile; readonly labels: PublishedFile }> = {
  classify: {
    model: { name: 'mobilenet_v2_1.0_224_quant.tflite', sha256: '7aad0c74c5e3c06e5eb3c827e13304fdd68a83da6087d92ee169c24ff9fd4776' },
    labels: { name: 'imagenet_labels.txt', sha256: 'b8aaeb5630c62626a7d124a05c0e14230a7ffdd2136a31d0190a4fb71c1d82f1' },
  },
  segment: {
    model: { name: 'deeplabv3_mnv2_pascal_quant.tflite', sha256: '350af47fd346ea6d74b58833a351f583ba860e9806ec5bd292ff8d8f1f249398' },
    labels: { name: 'pascal_voc_segmentation_labels.txt', sha256: '7337a2b06728385fb3e1106416c67bfddf69628598b1f2f0db6a63cd63fb6b1e' },
  },
};

/** The default model and labels of `task` for a build: development server, configured base URL, or public home. */
export function defaultFiles(
  env: { readonly DEV: boolean; readonly VITE_WEBCNN_MODEL_BASE?: string },
  task: DemoTask = 'classify',
): { model: RemoteFile; labels: RemoteFile } {
  const { model, labels } = PUBLISHED[task];
  const configured = env.VITE_WEBCNN_MODEL_BASE?.trim().replace(/\/+$/, '');
  if (env.DEV && !configured) {
    return { model: { name: model.name, url: `/models/${model.name}`, sha256: null }, labels: { name: labels.name, url: `/models/${labels.name}`, sha256: null } };
  }
  const base = configured || PUBLIC_HOME;
  return { model: { ...model, url: `${base}/${model.name}` }, labels: { ...labels, url: `${base}/${labels.name}` } };
}

/** Each task's default files in this build. */
export const DEFAULT_FILES: Record<DemoTask, { model: RemoteFile; labels: RemoteFile }> = {
  classify: defaultFiles(import.meta.env, 'classify'),
  segment: defaultFiles(import.meta.env, 'segment'),
};
export const DEFAULT_MODEL: RemoteFile = DEFAULT_FILES.classify.model;
export const DEFAULT_LABELS: RemoteFile = DEFAULT_FILES.classify.labels;

/** Largest model file the page accepts: a CNN classifier is tens of MB; anything far beyond is a mistake. */
export const MAX_MODEL_BYTES = 512 * 2 ** 20;

export class DownloadError extends Error {
  override readonly name = 'DownloadError';
}

export async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Downloads a file, reporting progress in [0, 1] when the size is known, and verifies its sha256. */
export async function download(file: RemoteFile, onProgress: (fraction: number) => void): Promise<Uint8Array<ArrayBuffer>> {
  let response: Response;
  try {
    response = await fetch(file.url);
  } catch (e) {
    throw new DownloadError(`could not download ${file.name}: ${(e as Error).message}`);
  }
  if (!response.ok) throw new DownloadError(`could not download ${file.name}: HTTP ${response.status}`);
  const total = Number(response.headers.get('content-length')) || 0;
  if (total > MAX_MODEL_BYTES) throw new DownloadError(`${file.name} is ${total} bytes, over the ${MAX_MODEL_BYTES}-byte limit`);
  const chunks: Uint8Array[] = [];
  let received = 0;
  const reader = response.body?.getReader();
  if (reader) {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      received += value.byteLength;
      if (received > MAX_MODEL_BYTES) throw new DownloadError(`${file.name} is over the ${MAX_MODEL_BYTES}-byte limit`);
      if (total) onProgress(received / total);
    }
  } else {
    chunks.push(new Uint8Array(await response.arrayBuffer()));
  }
  const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let offset = 0;
  for (const c of chunks) {
    bytes.set(c, offset);
    offset += c.byteLength;
  }
  if (file.sha256) {
    const actual = await sha256Hex(bytes);
    if (actual !== file.sha256) throw new DownloadError(`${file.name} failed its checksum (sha256 ${actual}, expected ${file.sha256})`);
  }
  onProgress(1);
  return bytes;
}

export function parseLabels(text: string): string[] {
  return text.split(/\r?\n/).map((l) => l.trim()).filter((l, i, all) => l !== '' || i < all.length - 1);
}

/**
 * The class names of a labels file that ends in a note after a blank line (PASCAL VOC's file explains label 255
 * there): the lines before the first blank one.
 */
export function parseLabelsBeforeNote(text: string): string[] {
  const labels = parseLabels(text);
  const blank = labels.indexOf('');
  return blank < 0 ? labels : labels.slice(0, blank);
}
