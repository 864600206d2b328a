/** Argument checks shared by the measuring scripts (`cold-start`, `pipeline-compile`). */
import type { NetworkId } from '../bench/peers/protocol.ts';
import { NETWORK_IDS } from '../bench/peers/protocol.ts';

/** `--networks a,b`: known network ids, in the order given. */
export function networkList(value: string, usage: string): NetworkId[] {
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
