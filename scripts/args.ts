/** Argument parsing shared by the measuring scripts. */
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
  return { networks: pickNetworks(String(values.networks), NETWORK_IDS, usage), values: values as unknown as Record<K, string> };
}

/**
 * `--networks a,b`: the known ids, in the order given. Any spelling that differs only in case, `-` and `_` is
 * accepted (`mobilenet_v2`, `mobilenetv2`, `MobileNet-V2`): the peers benchmark's ids and the per-kernel
 * benchmark's ids differ that way, and a user should not have to know which script spells it how.
 */
export function pickNetworks<T extends string>(value: string, known: readonly T[], usage: string): T[] {
  const bare = (s: string): string => s.toLowerCase().replace(/[-_\s]/g, '');
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((name) => {
      const id = known.find((k) => bare(k) === bare(name));
      if (id === undefined) throw new Error(`unknown network "${name}" (known: ${known.join(', ')})\n${usage}`);
      return id;
    });
}

/** A count option such as `--repeats 5`. */
export function positiveInteger(value: string, option: string, usage: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${option} must be a positive integer\n${usage}`);
  return n;
}
