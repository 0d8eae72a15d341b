import { describe, expect, it } from 'vitest';
import {
  ipv4CodeEnd,
  ipv4CodePrefix,
  ipv4CodeStart,
  ipv4RangeCode,
  isIpv4Network,
  parseIpv4Address,
  parseIpv4Range,
} from '../../src/model/ipv4.js';

describe('IPv4 ranges', () => {
  it('tells a network as written (an address, or a CIDR without host bits) from anything else', () => {
    for (const ok of ['192.168.1.7', '10.0.0.0/8', '0.0.0.0/0', '10.0.0.8/29', '255.255.255.255/32']) {
      expect(isIpv4Network(ok), ok).toBe(true);
    }
    for (const not of [
      '10.0.0.5/8',
      '10.0.0.0/',
      '10.0.0.0/08',
      '10.0.0.0/33',
      '10.0.0.0/8/8',
      '010.0.0.0',
    ]) {
      expect(isIpv4Network(not), not).toBe(false);
    }
  });

  it('reads addresses and CIDRs as the interval they allow, host bits ignored', () => {
    expect(parseIpv4Range('192.168.1.7')).toEqual({ start: 0xc0a80107, end: 0xc0a80107, prefix: 32 });
    expect(parseIpv4Range('10.0.0.5/8')).toEqual({ start: 0x0a000000, end: 0x0affffff, prefix: 8 });
    expect(parseIpv4Range('0.0.0.0/0')).toEqual({ start: 0, end: 2 ** 32 - 1, prefix: 0 });
    expect(parseIpv4Range('255.255.255.255/32')).toEqual({
      start: 2 ** 32 - 1,
      end: 2 ** 32 - 1,
      prefix: 32,
    });
    expect(parseIpv4Range('203.0.113.9/31')).toEqual({ start: 0xcb007108, end: 0xcb007109, prefix: 31 });
  });

  it('rejects what is not an address or CIDR', () => {
    for (const bad of [
      '',
      '1.2.3',
      '1.2.3.4.5',
      '1.2.3.256',
      '01.2.3.4',
      '1..3.4',
      '1.2.3.4/',
      '1.2.3.4/33',
      '1.2.3.4/08',
      '1.2.3.4/00',
      '1.2.3.4/100',
      '1.2.3.4/ 8',
      '1.2.3.4/8a',
      '1.2.3.4/+8',
      '1.2.3.4/8/8',
      '1.2.3.4 ',
      'vpce-0123456789abcdef0',
    ]) {
      expect(parseIpv4Range(bad), bad).toBeUndefined();
      expect(ipv4RangeCode(bad), bad).toBe(-1);
    }
    expect(parseIpv4Address('1.2.3.4/32')).toBeUndefined();
  });

  it('packs a range into one number that gives back its prefix, first and last address', () => {
    const cases: [string, number, number, number][] = [
      ['0.0.0.0/0', 0, 0, 2 ** 32 - 1],
      ['10.1.2.3/9', 9, 0x0a000000, 0x0a7fffff],
      ['172.16.0.0/12', 12, 0xac100000, 0xac1fffff],
      ['255.255.255.255', 32, 2 ** 32 - 1, 2 ** 32 - 1],
      ['8.8.8.9/30', 30, 0x08080808, 0x0808080b],
    ];
    for (const [value, prefix, start, end] of cases) {
      const code = ipv4RangeCode(value);
      expect([ipv4CodePrefix(code), ipv4CodeStart(code), ipv4CodeEnd(code)], value).toEqual([
        prefix,
        start,
        end,
      ]);
    }
  });
});
