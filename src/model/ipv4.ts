/**
 * IPv4 ranges as integer intervals (pure). Used by the network lint, the exposure of a plan and
 * `explain`: all three reason about which addresses a set of `ip` rules lets in.
 */

/** An inclusive interval of IPv4 addresses as unsigned 32-bit integers. */
export interface Ipv4Interval {
  start: number;
  end: number;
}

export interface Ipv4Range extends Ipv4Interval {
  prefix: number;
}

/** Every IPv4 address: what a target with no ingress policy is open to. */
export const IPV4_TOTAL = 2 ** 32;

/**
 * `a.b.c.d` as an unsigned integer; undefined for anything else (leading zeros included): four
 * decimal parts of one to three digits, each at most 255. A scan, not a regex: a large estate
 * parses a few hundred thousand of these per run.
 */
export function parseIpv4Address(value: string): number | undefined {
  let n = 0;
  let octet = 0;
  let digits = 0;
  let parts = 0;
  for (let i = 0; i <= value.length; i++) {
    const c = i < value.length ? value.charCodeAt(i) : DOT;
    if (c === DOT) {
      if (digits === 0 || octet > 255 || (i < value.length && parts === 3)) return undefined;
      n = n * 256 + octet;
      parts++;
      octet = 0;
      digits = 0;
    } else if (c >= ZERO && c <= ZERO + 9 && digits < 3 && !(digits > 0 && octet === 0)) {
      octet = octet * 10 + (c - ZERO);
      digits++;
    } else {
      return undefined;
    }
  }
  return parts === 4 ? n : undefined;
}

const DOT = 46;
const ZERO = 48;

/**
 * An address (`/32`) or CIDR as the interval it allows. Host bits are ignored (`10.0.0.5/8` is
 * 10.0.0.0–10.255.255.255), which is how a network filter applies such a rule.
 */
export function parseIpv4Range(value: string): Ipv4Range | undefined {
  const slash = value.indexOf('/');
  const base = parseIpv4Address(slash === -1 ? value : value.slice(0, slash));
  if (base === undefined) return undefined;
  const prefix = slash === -1 ? 32 : parsePrefix(value.slice(slash + 1));
  if (prefix === undefined) return undefined;
  const size = 2 ** (32 - prefix);
  const start = base - (base % size);
  return { start, end: start + size - 1, prefix };
}

/** `0`–`32`, without leading zeros. */
function parsePrefix(text: string): number | undefined {
  if (!/^(0|[1-9][0-9]?)$/.test(text)) return undefined;
  const prefix = Number(text);
  return prefix > 32 ? undefined : prefix;
}

export function formatIpv4Address(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** The intervals merged into sorted, disjoint, non-adjacent ones (sort + one sweep). */
export function mergeIntervals(intervals: readonly Ipv4Interval[]): Ipv4Interval[] {
  const sorted = [...intervals].sort((a, b) => a.start - b.start || a.end - b.end);
  const out: Ipv4Interval[] = [];
  for (const { start, end } of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && start <= last.end + 1) last.end = Math.max(last.end, end);
    else out.push({ start, end });
  }
  return out;
}

/** How many distinct addresses the intervals cover together. */
export function countAddresses(intervals: readonly Ipv4Interval[]): number {
  return mergeIntervals(intervals).reduce((n, i) => n + (i.end - i.start + 1), 0);
}
