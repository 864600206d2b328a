#!/usr/bin/env node
// Launcher for the `webcnn` CLI: registers tsx's loader in this process (no child process) and runs the
// TypeScript entry point, src/cli/main.ts.
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import('../src/cli/main.ts');
await runCli(process.argv.slice(2));
