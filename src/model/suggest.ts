/**
 * "Did you mean …?" for names a person typed: commands, options, policy names, source sets,
 * environments, regions. Pure; used by the loader's diagnostics and by the CLI's argument errors.
 */

/**
 * Edit distance with adjacent transpositions counted as one edit (optimal string alignment), so
 * `plna` is one edit from `plan`, as `--evn` is from `--env`. Case-insensitive: `Prod` is `prod`
 * with no edit at all, which is still worth suggesting.
 */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  if (s === t) return 0;
  // Three rows are enough: the current one, the one above and the one above that (transpositions).
  let before = new Array<number>(t.length + 1).fill(0);
  let above = Array.from({ length: t.length + 1 }, (_, j) => j);
  for (let i = 1; i <= s.length; i++) {
    const row = [i];
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      let best = Math.min(
        (above[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (above[j - 1] as number) + cost,
      );
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) {
        best = Math.min(best, (before[j - 2] as number) + 1);
      }
      row.push(best);
    }
    before = above;
    above = row;
  }
  return above[t.length] as number;
}

/**
 * The candidate closest to `input`, if it is close enough to be what was meant: at most one edit
 * for short names, about one edit in three characters for longer ones; failing that, a candidate
 * that begins with `input` or that `input` begins with (`--detailed`, `warning`). Ties go to the
 * candidate listed first, so callers list the likeliest first. Never suggests `input` itself.
 */
export function closest(input: string, candidates: Iterable<string>): string | undefined {
  const limit = Math.max(1, Math.floor(input.length / 3));
  let best: string | undefined;
  let bestDistance = Infinity;
  let prefixed: string | undefined;
  const lower = input.toLowerCase();
  for (const candidate of candidates) {
    if (candidate === input) continue;
    const other = candidate.toLowerCase();
    if (prefixed === undefined && Math.min(lower.length, other.length) >= 3) {
      if (other.startsWith(lower) || lower.startsWith(other)) prefixed = candidate;
    }
    // Lengths alone bound the distance: most candidates of a long list are passed over here.
    if (Math.abs(candidate.length - input.length) > limit) continue;
    const d = editDistance(input, candidate);
    if (d <= limit && d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best ?? prefixed;
}

/** `; did you mean 'x'?` (or nothing), to end a message with. */
export function didYouMean(input: string, candidates: Iterable<string>, quote = "'"): string {
  const match = closest(input, candidates);
  return match === undefined ? '' : `; did you mean ${quote}${match}${quote}?`;
}

/** Names for a message: all of a short list, the first `max` of a long one and how many more. */
export function someOf(names: readonly string[], max = 10): string {
  if (names.length <= max) return names.join(', ');
  return `${names.slice(0, max).join(', ')} and ${names.length - max} more`;
}
