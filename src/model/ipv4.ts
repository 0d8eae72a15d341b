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

const OCTETS = /^(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})$/;

/** `a.b.c.d` as an unsigned integer; undefined for anything else (leading zeros included). */
export function parseIpv4Address(value: string): number | undefined {
  const m = OCTETS.exec(value);
  if (m === null) return undefined;
  let n = 0;
  for (const part of m.slice(1)) {
    const octet = Number(part);
    if (octet > 255) return undefined;
    n = n * 256 + octet;
  }
  return n;
}

/**
 * An address (`/32`) or CIDR as the interval it allows. Host bits are ignored (`10.0.0.5/8` is
 * 10.0.0.0–10.255.255.255), which is how a network filter applies such a rule.
 */
export function parseIpv4Range(value: string): Ipv4Range | undefined {
  const [address = '', prefixText, ...rest] = value.split('/');
  if (rest.length > 0) return undefined;
  const base = parseIpv4Address(address);
  if (base === undefined) return undefined;
  if (prefixText !== undefined && !/^(0|[1-9][0-9]?)$/.test(prefixText)) return undefined;
  const prefix = prefixText === undefined ? 32 : Number(prefixText);
  if (prefix > 32) return undefined;
  const size = 2 ** (32 - prefix);
  const start = base - (base % size);
  return { start, end: start + size - 1, prefix };
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
