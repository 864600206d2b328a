/**
 * Non-fatal findings of the loaders (`LoadedModel.warnings`) reach the user: `webcnn info` on a TFLite file whose
 * appended label archive was cut off succeeds, and says on stderr that the labels are lost.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT, SHARED_MODEL } from '../../test/shared.ts';

const BIN = resolve(PROJECT_ROOT, 'bin/webcnn.js');

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'], timeout: 50_000, killSignal: 'SIGKILL' });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

const tmp = mkdtempSync(join(tmpdir(), 'webcnn-cli-warnings-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('webcnn CLI: loader warnings', () => {
  it.skipIf(!existsSync(SHARED_MODEL))('info on a TFLite file cut inside its label archive: exit 0, one warning line', async () => {
    const path = join(tmp, 'cut.tflite');
    writeFileSync(path, readFileSync(SHARED_MODEL).subarray(0, 3600000));
    const r = await cli(['info', path]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe(
      'webcnn: warning: cut.tflite: the zip archive of associated files (labels) appended at byte 3588976 is truncated ' +
        'or corrupt (no end-of-central-directory record); the model loads, but its labels are unavailable\n',
    );
    expect(r.stdout).toMatch(/^labels: +none in the model$/m);
  }, 60_000);
});
