#!/usr/bin/env node
// Launcher for the `webcnn` CLI: runs the built bundle, lib/cli/main.js (`npm run build:lib` makes it from
// src/cli/main.ts; `npm install` / `npm ci` in a clone runs that build through `prepare`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../lib/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write(`webcnn: ${fileURLToPath(entry)} is missing: build it with 'npm run build:lib' in ${fileURLToPath(new URL('..', import.meta.url))}\n`);
  process.exit(1);
}
const { runCli } = await import(entry.href);
await runCli(process.argv.slice(2));
