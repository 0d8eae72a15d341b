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
  return ipv4AddressIn(value, 0, value.length);
}

/** `parseIpv4Address` of `value` from `from` to `to` (exclusive), without slicing it out. */
function ipv4AddressIn(value: string, from: number, to: number): number | undefined {
  let n = 0;
  let octet = 0;
  let digits = 0;
  let parts = 0;
  for (let i = from; i <= to; i++) {
    const c = i < to ? value.charCodeAt(i) : DOT;
    if (c === DOT) {
      if (digits === 0 || octet > 255 || (i < to && parts === 3)) return undefined;
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
  const code = ipv4RangeCode(value);
  if (code < 0) return undefined;
  return { start: ipv4CodeStart(code), end: ipv4CodeEnd(code), prefix: ipv4CodePrefix(code) };
}

/**
 * `parseIpv4Range` as one number, start · 64 + prefix (exact: 38 bits), or -1 when `value` is not
 * an address or CIDR. For the lint, which ranks every rule of an estate and keeps no object per rule.
 */
export function ipv4RangeCode(value: string): number {
  const slash = value.indexOf('/');
  const base = ipv4AddressIn(value, 0, slash === -1 ? value.length : slash);
  if (base === undefined) return -1;
  const prefix = slash === -1 ? 32 : prefixAt(value, slash + 1);
  if (prefix < 0) return -1;
  const size = 2 ** (32 - prefix);
  return (base - (base % size)) * 64 + prefix;
}

/**
 * An address, or a CIDR without host bits, written the one way `parseIpv4Range` reads (four decimal
 * parts and a prefix without leading zeros). Parses the address once, in place (no range object, no
 * slice, no regex): the loader checks every source of an estate with it.
 */
export function isIpv4Network(value: string): boolean {
  const slash = value.indexOf('/');
  const base = ipv4AddressIn(value, 0, slash === -1 ? value.length : slash);
  if (base === undefined) return false;
  if (slash === -1) return true;
  const prefix = prefixAt(value, slash + 1);
  return prefix >= 0 && base % 2 ** (32 - prefix) === 0;
}

/** The prefix length, first address and last address of an `ipv4RangeCode`. */
export function ipv4CodePrefix(code: number): number {
  return code % 64;
}

export function ipv4CodeStart(code: number): number {
  return (code - (code % 64)) / 64;
}

export function ipv4CodeEnd(code: number): number {
  return ipv4CodeStart(code) + 2 ** (32 - (code % 64)) - 1;
}

/** The rest of `value` from `from` as a prefix length, `0`–`32` without leading zeros; else -1. */
function prefixAt(value: string, from: number): number {
  const length = value.length - from;
  if (length < 1 || length > 2) return -1;
  const first = value.charCodeAt(from) - ZERO;
  if (first < 0 || first > 9 || (first === 0 && length === 2)) return -1;
  if (length === 1) return first;
  const second = value.charCodeAt(from + 1) - ZERO;
  if (second < 0 || second > 9) return -1;
  const prefix = first * 10 + second;
  return prefix > 32 ? -1 : prefix;
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
