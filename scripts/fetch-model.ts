/**
 * `npm run fetch-model`: makes the reference MobileNetV2 TFLite model available and prints its path.
 *
 * 1. `$WEBCNN_SHARED/models/mobilenet_v2_1.0_224_quant.tflite` (default `../shared`): verified by sha256.
 * 2. Else `models/` in the project (gitignored; `$WEBCNN_MODELS_DIR` overrides), if already downloaded and intact.
 * 3. Else downloaded from its public home (`$WEBCNN_MODEL_URL` overrides the URL) into that folder, through a
 *    temporary file that only becomes the model once its sha256 matches.
 *
 * Exit status 0 with the path on stdout, or 1 with one line on stderr.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const MODEL_FILE = 'mobilenet_v2_1.0_224_quant.tflite';
export const MODEL_SHA256 = '7aad0c74c5e3c06e5eb3c827e13304fdd68a83da6087d92ee169c24ff9fd4776';
export const MODEL_URL = 'https://github.com/google-coral/test_data/raw/master/mobilenet_v2_1.0_224_quant.tflite';
/** The whole download, connection included, must finish within this. */
const DOWNLOAD_TIMEOUT_MS = Number(process.env.WEBCNN_FETCH_TIMEOUT_MS ?? 60_000);

const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

class FetchError extends Error {}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function verify(path: string, bytes: Uint8Array): void {
  const got = sha256(bytes);
  if (got !== MODEL_SHA256) {
    throw new FetchError(`${path}: sha256 mismatch (expected ${MODEL_SHA256}, got ${got}); the file is corrupt or a different model`);
  }
}

async function download(url: string): Promise<Uint8Array> {
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
    throw new FetchError(`cannot download ${url}: ${why} (no network? copy the file to $WEBCNN_SHARED/models/ instead)`);
  }
  if (!response.ok) throw new FetchError(`cannot download ${url}: HTTP ${response.status} ${response.statusText}`);
  try {
    return new Uint8Array(await response.arrayBuffer());
  } catch (e) {
    throw new FetchError(`download of ${url} broke off: ${(e as Error).message}`);
  }
}

export async function fetchModel(): Promise<string> {
  const shared = resolve(process.env.WEBCNN_SHARED ?? resolve(PROJECT_ROOT, '../shared'));
  const sharedModel = resolve(shared, 'models', MODEL_FILE);
  if (existsSync(sharedModel)) {
    verify(sharedModel, readFileSync(sharedModel));
    return sharedModel;
  }
  const dir = resolve(process.env.WEBCNN_MODELS_DIR ?? resolve(PROJECT_ROOT, 'models'));
  const local = resolve(dir, MODEL_FILE);
  if (existsSync(local)) {
    verify(local, readFileSync(local));
    return local;
  }
  const url = process.env.WEBCNN_MODEL_URL ?? MODEL_URL;
  process.stderr.write(`${sharedModel} not found; downloading ${url}\n`);
  const bytes = await download(url);
  verify(url, bytes);
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

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  fetchModel().then(
    (path) => {
      process.stdout.write(`${path}\n`);
      process.exit(0);
    },
    (e: Error) => {
      process.stderr.write(`fetch-model: ${e instanceof FetchError ? e.message : `${e.name}: ${e.message}`}\n`);
      process.exit(1);
    },
  );
}
