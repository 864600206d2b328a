// `prepare`, which npm runs on `npm install` / `npm ci` in this folder, when it installs webcnn from a git URL or
// a local folder, and before `npm pack`: builds lib/ (the ESM bundles and declarations the package exports).
// The build needs the dev dependencies TypeScript and esbuild. npm installs them for `npm ci` and for git
// dependencies, but not for a folder dependency (`npm install ../webcnn`), which installs only the runtime
// dependencies into the folder: then this installs the dev dependencies there first (as npm itself does for a
// git dependency), so that a fresh clone works as a folder dependency too.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const haveTools = () => ['typescript/bin/tsc', 'esbuild/bin/esbuild'].every((p) => existsSync(`${root}node_modules/${p}`));

/** Runs npm (the one running this script, when known) in the package root; exits on failure with `message`. */
function npm(args, env, message) {
  const cli = process.env.npm_execpath;
  const r = cli && cli.endsWith('.js')
    ? spawnSync(process.execPath, [cli, ...args], { cwd: root, env, stdio: 'inherit' })
    : spawnSync('npm', args, { cwd: root, env, stdio: 'inherit', shell: process.platform === 'win32' });
  if (r.status !== 0) {
    process.stderr.write(`webcnn prepare: ${message} (npm ${args.join(' ')} in ${root} exited with ${r.status ?? r.signal})\n`);
    process.exit(1);
  }
}

if (!haveTools()) {
  process.stderr.write(`webcnn prepare: building lib/ needs the dev dependencies (TypeScript, esbuild), absent from ${root}node_modules: installing them there\n`);
  // The installing npm passes its own settings down as npm_config_*; those that describe the outer install
  // (global, omit dev, save, links) must not apply to this one.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) =>
    !/^npm_config_(global|location|prefix|omit|include|only|production|save.*|install_links|workspaces?|include_workspace_root|package_lock_only|dry_run)$/i.test(k)));
  npm(['install', '--include=dev', '--no-save', '--ignore-scripts', '--no-audit', '--no-fund'], env,
    "could not install the dev dependencies to build lib/; run 'npm ci' in the clone, then install it again");
}
npm(['run', 'build:lib'], process.env, 'building lib/ failed');
