/** The timing page's `&repeats=N&warmups=N`: the timed and untimed runs per figure, over the chosen settings. */
export function runCounts(params: URLSearchParams): { repeats?: number; warmups?: number } {
  const count = (name: string, min: number): number | undefined => {
    const value = params.get(name);
    if (value === null) return undefined;
    const n = Number(value);
    if (value.trim() === '' || !Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer >= ${min}, got "${value}"`);
    return n;
  };
  const repeats = count('repeats', 1);
  const warmups = count('warmups', 0);
  return { ...(repeats !== undefined && { repeats }), ...(warmups !== undefined && { warmups }) };
}
