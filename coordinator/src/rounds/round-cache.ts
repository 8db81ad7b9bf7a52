/**
 * Per-round caches of the secure aggregation (rounds/secagg): keys start with the federation and the round
 * (`${federationId}\n${round}\n…`). What a round keeps can be large — at 500 sites its relay of U2 and the serialised
 * parts of its state answers are tens of MB — and only the current round and the one before are still read (sites
 * late for the last one), so remembering a round forgets the federation's rounds before those two, besides keeping
 * at most `max` entries overall (the oldest goes first).
 */
export function rememberRound<V>(cache: Map<string, V>, key: string, value: V, max: number): V {
  const [federationId, round] = key.split('\n', 2);
  for (const k of [...cache.keys()]) {
    const [f, r] = k.split('\n', 2);
    if (f === federationId && Number(r) < Number(round) - 1) cache.delete(k);
  }
  if (cache.size >= max) cache.delete(cache.keys().next().value!);
  cache.set(key, value);
  return value;
}
