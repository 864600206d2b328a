/**
 * `npx tsx scripts/upgrade-compile-check.ts [--models convnext_tiny,alexnet] [--side 224] [--cache /work/zoo-cache]
 *   [--max-rss-gb 6] [--timeout 240]`
 *
 * Whether the tiered upgrade of each zoo export compiles on this machine's adapter (Dawn in Node) within a memory
 * and time limit: the upgrade's programs that the software default does not share (`SOFTWARE_UPGRADE_KERNELS`
 * against `DEFAULT_KERNEL_CHOICE`), one after the other on one fresh device, as a model's background upgrade
 * compiles them. Each model runs in a child process whose peak resident memory this process reads from
 * `/proc/PID/status` (VmHWM) and which it kills past `--max-rss-gb` or `--timeout` seconds: a shader compiler that
 * runs away takes the whole process with it, and on SwiftShader that is the page or the Node process a user runs
 * the model in. Prints each program's compile time, then per model the total, the peak memory and whether it
 * finished; exits 1 if any model did not.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { KernelProgram } from '../shaders/common.ts';
import { acquireNodeDevice } from '../src/gpu/node-device.ts';
import { DEFAULT_KERNEL_CHOICE, SOFTWARE_UPGRADE_KERNELS, optimizeForKernels } from '../src/runtime/kernel-choice.ts';
import { lowerGraph } from '../src/runtime/lowering.ts';
import { countValue, parseAbArgs, usageError, zooGraphs, zooOptions } from './ab-args.ts';

const USAGE = 'usage: npx tsx scripts/upgrade-compile-check.ts [--models convnext_tiny,alexnet] [--side 224] [--cache /work/zoo-cache] [--max-rss-gb 6] [--timeout 240]';
const values = parseAbArgs(USAGE, {
  ...zooOptions('convnext_tiny,alexnet', 224),
  'max-rss-gb': { type: 'string', default: '6' },
  timeout: { type: 'string', default: '240' },
  child: { type: 'boolean', default: false },
});

/** The upgrade's distinct programs that the default's lowering does not have, in launch order. */
function upgradeOnlyPrograms(graph: Parameters<typeof optimizeForKernels>[0]): KernelProgram[] {
  const optimized = optimizeForKernels(graph, SOFTWARE_UPGRADE_KERNELS);
  const firstTier = new Set(lowerGraph(optimized, DEFAULT_KERNEL_CHOICE).map((s) => s.program.key));
  const programs = new Map<string, KernelProgram>();
  for (const step of lowerGraph(optimized, SOFTWARE_UPGRADE_KERNELS)) {
    if (!firstTier.has(step.program.key) && !programs.has(step.program.key)) programs.set(step.program.key, step.program);
  }
  return [...programs.values()];
}

/** The child: compiles one model's upgrade-only programs, printing each. */
async function compileOne(): Promise<void> {
  const [{ graph }] = [...zooGraphs(values, USAGE)];
  const programs = upgradeOnlyPrograms(graph);
  const { device } = await acquireNodeDevice();
  let total = 0;
  for (const program of programs) {
    const t0 = performance.now();
    const module = device.createShaderModule({ code: program.code });
    await device.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint: 'main' } });
    const ms = performance.now() - t0;
    total += ms;
    console.log(`    ${program.key.padEnd(48)} ${ms.toFixed(0).padStart(6)} ms`);
  }
  console.log(`    done: ${programs.length} programs, ${(total / 1000).toFixed(1)} s`);
  device.destroy();
}

/** Peak resident memory of `pid` so far in bytes (the kernel's high-water mark), or 0 once it is gone. */
function residentBytes(pid: number): number {
  try {
    const line = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return line ? Number(line[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** The parent: one child per model, watched. */
async function checkAll(): Promise<void> {
  // Ctrl-C or a kill: exit through 'exit', whose handler kills the running child.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
  const maxRss = Number(values['max-rss-gb']) * 2 ** 30;
  if (!(maxRss > 0)) usageError(USAGE, `--max-rss-gb must be a positive number, got "${values['max-rss-gb']}"`);
  const timeoutMs = countValue(values.timeout, 'timeout', USAGE, 1) * 1000;
  let failed = 0;
  for (const model of values.models.split(',')) {
    console.log(`${model}: started ${new Date().toISOString().slice(11, 19)} UTC`);
    const args = [...process.execArgv, process.argv[1], '--child', '--models', model, '--side', values.side, '--cache', values.cache];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    // A compiler that runs away must not outlive this process.
    const killChild = () => child.kill('SIGKILL');
    process.once('exit', killChild);
    const t0 = performance.now();
    let peak = 0;
    let killed = '';
    const watch = setInterval(() => {
      peak = Math.max(peak, residentBytes(child.pid ?? 0));
      if (peak > maxRss) killed = `past ${values['max-rss-gb']} GB`;
      else if (performance.now() - t0 > timeoutMs) killed = `past ${values.timeout} s`;
      if (killed) child.kill('SIGKILL');
    }, 250);
    const end = await new Promise<string>((done) => {
      child.on('error', (e) => done(`could not start: ${e.message}`));
      child.on('exit', (code, signal) => done(code === 0 ? '' : signal ? `signal ${signal}` : `exit ${String(code)}`));
    });
    clearInterval(watch);
    process.removeListener('exit', killChild);
    const ok = end === '' && !killed;
    if (!ok) failed++;
    console.log(`  ${ok ? 'ok' : 'FAILED'}: ${((performance.now() - t0) / 1000).toFixed(1)} s, peak ${(peak / 2 ** 30).toFixed(2)} GB${killed ? `, killed ${killed}` : end ? `, ${end}` : ''}`);
  }
  process.exit(failed ? 1 : 0);
}

await (values.child ? compileOne() : checkAll());
