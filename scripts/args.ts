/** Argument parsing shared by the measuring scripts (`cold-start`, `pipeline-compile`). */
import { parseArgs } from 'node:util';
import type { NetworkId } from '../bench/peers/protocol.ts';
import { NETWORK_IDS } from '../bench/peers/protocol.ts';

/**
 * `--networks a,b` (default: every network), `--help` / `-h` (prints `usage` and exits), and the script's own
 * string options with their defaults; unknown options are errors.
 */
export function parseScriptArgs<K extends string>(usage: string, defaults: Record<K, string>): { networks: NetworkId[]; values: Record<K, string> } {
  const own = Object.fromEntries(Object.entries(defaults).map(([name, value]) => [name, { type: 'string' as const, default: value as string }]));
  const { values } = parseArgs({
    options: {
      ...own,
      networks: { type: 'string', default: NETWORK_IDS.join(',') },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  return { networks: networkList(String(values.networks), usage), values: values as unknown as Record<K, string> };
}

/** `--networks a,b`: known network ids, in the order given. */
function networkList(value: string, usage: string): NetworkId[] {
  const networks = value.split(',').filter(Boolean) as NetworkId[];
  for (const n of networks) if (!NETWORK_IDS.includes(n)) throw new Error(`unknown network "${n}"\n${usage}`);
  return networks;
}

/** A count option such as `--repeats 5`. */
export function positiveInteger(value: string, option: string, usage: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${option} must be a positive integer\n${usage}`);
  return n;
}
