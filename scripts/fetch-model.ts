/**
 * `npm run fetch-model`: makes the reference MobileNetV2 TFLite model available and prints its path.
 * `npm run fetch-model -- --demo`: the same for every file the webcam demo's development server serves (the
 * classifier, the DeepLabV3 segmenter and their labels), one path a line.
 *
 * 1. `$WEBCNN_SHARED/models/` (or `labels/`) `<file>` (default `../shared`): verified by sha256.
 * 2. Else `models/` in the project (gitignored; `$WEBCNN_MODELS_DIR` overrides), if already downloaded and intact.
 * 3. Else downloaded from its public home (`$WEBCNN_MODEL_URL` overrides the classifier's URL) into that folder,
 *    through a temporary file that only becomes the file once its sha256 matches.
 *
 * Exit status 0 with the path(s) on stdout, or 1 with one line on stderr.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const PUBLIC_HOME = 'https://github.com/google-coral/test_data/raw/master';

/** A published file: its name, checksum, and the shared folder's subfolder that holds it. */
export interface PublishedFile {
  readonly file: string;
  readonly sha256: string;
  readonly url: string;
  readonly sharedFolder: 'models' | 'labels';
}

export const MODEL_FILE = 'mobilenet_v2_1.0_224_quant.tflite';
export const MODEL_SHA256 = '7aad0c74c5e3c06e5eb3c827e13304fdd68a83da6087d92ee169c24ff9fd4776';
export const MODEL_URL = `${PUBLIC_HOME}/${MODEL_FILE}`;

const published = (file: string, sha256: string, sharedFolder: 'models' | 'labels'): PublishedFile => ({ file, sha256, url: `${PUBLIC_HOME}/${file}`, sharedFolder });

/** Everything the webcam demo's development server serves (vite.config.ts), the classifier first. */
export const DEMO_FILES: readonly PublishedFile[] = [
  published(MODEL_FILE, MODEL_SHA256, 'models'),
  published('imagenet_labels.txt', 'b8aaeb5630c62626a7d124a05c0e14230a7ffdd2136a31d0190a4fb71c1d82f1', 'labels'),
  published('deeplabv3_mnv2_pascal_quant.tflite', '350af47fd346ea6d74b58833a351f583ba860e9806ec5bd292ff8d8f1f249398', 'models'),
  published('pascal_voc_segmentation_labels.txt', '7337a2b06728385fb3e1106416c67bfddf69628598b1f2f0db6a63cd63fb6b1e', 'labels'),
];
/** The whole download, connection included, must finish within this. */
const DOWNLOAD_TIMEOUT_MS = Number(process.env.WEBCNN_FETCH_TIMEOUT_MS ?? 60_000);

const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

class FetchError extends Error {}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function verify(path: string, bytes: Uint8Array, expected: string): void {
  const got = sha256(bytes);
  if (got !== expected) {
    throw new FetchError(`${path}: sha256 mismatch (expected ${expected}, got ${got}); the file is corrupt or a different one`);
  }
}

async function download(url: string, folder: string): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS), redirect: 'follow' });
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    const codes: Record<string, string> = {
      ENOTFOUND: 'host not found',
      EAI_AGAIN: 'host name lookup failed',
      ECONNREFUSED: 'connection refused',
      ECONNRESET: 'connection reset',
      ENETUNREACH: 'network unreachable',
      EHOSTUNREACH: 'host unreachable',
    };
    const code = cause?.code;
    const why = (e as Error).name === 'TimeoutError'
      ? `no answer within ${DOWNLOAD_TIMEOUT_MS / 1000} s`
      : code ? `${codes[code] ?? code} (${code})` : cause?.message ?? (e as Error).message;
    throw new FetchError(`cannot download ${url}: ${why} (no network? copy the file to $WEBCNN_SHARED/${folder}/ instead)`);
  }
  if (!response.ok) throw new FetchError(`cannot download ${url}: HTTP ${response.status} ${response.statusText}`);
  try {
    return new Uint8Array(await response.arrayBuffer());
  } catch (e) {
    throw new FetchError(`download of ${url} broke off: ${(e as Error).message}`);
  }
}

/** Makes `spec` available (shared folder, earlier download, or a new download) and returns its path. */
export async function fetchFile(spec: PublishedFile, url = spec.url): Promise<string> {
  const shared = resolve(process.env.WEBCNN_SHARED ?? resolve(PROJECT_ROOT, '../shared'));
  const sharedFile = resolve(shared, spec.sharedFolder, spec.file);
  if (existsSync(sharedFile)) {
    verify(sharedFile, readFileSync(sharedFile), spec.sha256);
    return sharedFile;
  }
  const dir = resolve(process.env.WEBCNN_MODELS_DIR ?? resolve(PROJECT_ROOT, 'models'));
  const local = resolve(dir, spec.file);
  if (existsSync(local)) {
    verify(local, readFileSync(local), spec.sha256);
    return local;
  }
  process.stderr.write(`${sharedFile} not found; downloading ${url}\n`);
  const bytes = await download(url, spec.sharedFolder);
  verify(url, bytes, spec.sha256);
  mkdirSync(dir, { recursive: true });
  const partial = `${local}.partial-${process.pid}`;
  try {
    writeFileSync(partial, bytes);
    renameSync(partial, local);
  } finally {
    rmSync(partial, { force: true });
  }
  return local;
}

/** The reference MobileNetV2 TFLite model (`$WEBCNN_MODEL_URL` overrides where it is downloaded from). */
export function fetchModel(): Promise<string> {
  return fetchFile(DEMO_FILES[0], process.env.WEBCNN_MODEL_URL ?? MODEL_URL);
}

/** Every file the demo serves, in order; the classifier's URL override applies as in `fetchModel`. */
async function fetchDemoFiles(): Promise<string[]> {
  const paths = [await fetchModel()];
  for (const spec of DEMO_FILES.slice(1)) paths.push(await fetchFile(spec));
  return paths;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const demo = process.argv.slice(2).includes('--demo');
  (demo ? fetchDemoFiles() : fetchModel().then((path) => [path])).then(
    (paths) => {
      process.stdout.write(paths.map((p) => `${p}\n`).join(''));
      process.exit(0);
    },
    (e: Error) => {
      process.stderr.write(`fetch-model: ${e instanceof FetchError ? e.message : `${e.name}: ${e.message}`}\n`);
      process.exit(1);
    },
  );
}
