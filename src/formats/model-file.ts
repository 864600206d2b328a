/**
 * Node only (exported from `webcnn/node`, used by the CLI): loading a model from its path, with an ONNX model's
 * external data read from the files beside it, as `torch.onnx.export` and `onnx.save` leave them.
 */
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { constants as bufferConstants } from 'node:buffer';
import { basename, dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { ExternalDataError, ModelFileError, ResourceLimitError } from '../errors.ts';
import type { LoadModelOptions } from './frontend.ts';
import { loadModel } from './index.ts';
import type { LoadedModel } from './model.ts';

/** `readFileSync` stops at 2 GiB; past that a file is read in chunks of this size into one buffer. */
const CHUNK = 2 ** 30;

/** A whole file; files over 2 GiB (one external data file of a large model) are read in chunks. */
export function readWholeFile(path: string): Uint8Array {
  const fd = openSync(path, 'r');
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new ModelFileError(`${path} is not a file`);
    if (st.size < 2 ** 31 - 1) return readFileSync(fd);
    if (st.size > bufferConstants.MAX_LENGTH) {
      throw new ResourceLimitError(`${path} has ${st.size} bytes, more than one buffer holds here (${bufferConstants.MAX_LENGTH})`);
    }
    const out = Buffer.allocUnsafe(st.size);
    let at = 0;
    while (at < st.size) {
      const n = readSync(fd, out, at, Math.min(CHUNK, st.size - at), at);
      if (n === 0) throw new ModelFileError(`${path} ended at byte ${at} of ${st.size} while it was read`);
      at += n;
    }
    return out;
  } finally {
    closeSync(fd);
  }
}

/**
 * A resolver for `externalData` that reads each named file from `folder` (locations are checked to be relative
 * paths inside it before they get here; this checks again after resolving). A missing file is an
 * `ExternalDataError` that says where it was looked for; the loader adds the tensor's name.
 */
export function externalDataFrom(folder: string): (location: string) => Uint8Array {
  const root = resolve(folder);
  return (location) => {
    const path = resolve(root, location);
    const inside = relative(root, path);
    // `..` as a path segment, not as a prefix: `..w.bin` is a file of the folder.
    if (inside === '' || inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside)) {
      throw new ExternalDataError(`external data location '${location}' is outside the model's folder`);
    }
    try {
      return readWholeFile(path);
    } catch (e) {
      if (e instanceof ResourceLimitError) throw e;
      throw new ExternalDataError(`external data file '${location}' ${fsWhy(e)} (${path})`, { cause: e });
    }
  };
}

/**
 * Reads and loads the model at `path` (`loadModel` with the file's name); an ONNX model's external data comes
 * from the files beside it unless `options.externalData` says otherwise.
 */
export function loadModelFile(path: string, options: LoadModelOptions = {}): LoadedModel {
  let bytes: Uint8Array;
  try {
    bytes = readWholeFile(path);
  } catch (e) {
    if (e instanceof ResourceLimitError || e instanceof ModelFileError) throw e;
    throw new ModelFileError(`model file ${path}: ${fsWhy(e)}`, { cause: e });
  }
  return loadModel(bytes, { fileName: basename(path), externalData: externalDataFrom(dirname(path)), ...options });
}

/** A file system error in a few words: 'not found', 'is a directory', 'not readable', or the error's message. */
function fsWhy(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOENT' ? 'not found' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'not readable' : (e as Error).message;
}
