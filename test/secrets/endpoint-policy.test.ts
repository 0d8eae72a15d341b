import { describe, expect, it } from 'vitest';
import { endpointRefusal, isLoopbackHost, readAllowedOrigins } from '../../src/secrets/endpoint-policy.js';

const NOTHING_LISTED = readAllowedOrigins(undefined);
const allowedWith =
  (list: string) =>
  (endpoint: string): boolean =>
    endpointRefusal(endpoint, readAllowedOrigins(list)) === undefined;
const allowed = (endpoint: string): boolean => endpointRefusal(endpoint, NOTHING_LISTED) === undefined;

describe('where a key may be sent', () => {
  it('the official API, whatever the spelling the URL parser reduces to it', () => {
    for (const e of [
      'https://api.elastic-cloud.com',
      'https://api.elastic-cloud.com/',
      'https://api.elastic-cloud.com:443',
      'https://API.Elastic-Cloud.COM',
      'https://api.elastic-cloud.com/some/prefix',
    ]) {
      expect(allowed(e), e).toBe(true);
    }
  });

  it('refuses look-alikes of the official API', () => {
    for (const e of [
      'http://api.elastic-cloud.com', // plain http
      'https://api.elastic-cloud.com:8443', // another port
      'https://api.elastic-cloud.com.', // trailing dot: another origin as far as TLS and we care
      'https://api.elastic-cloud.com.evil.example',
      'https://api.elastic-cloud.com@evil.example', // userinfo: the host is evil.example
      'https://evil.example/https://api.elastic-cloud.com',
      'https://evil.example#@api.elastic-cloud.com',
      'https://api.elastіc-cloud.com', // Cyrillic і: punycode, another host
      'https://xn--api-elastic-cloud-com.example',
      'https://elastic-cloud.com',
      'https://0.0.0.0',
      'https://[::ffff:127.0.0.1]', // IPv4-mapped: not what "loopback" means here
      'https://localhost.',
      'https://127.0.0.1.nip.io',
      'not a url',
    ]) {
      expect(allowed(e), e).toBe(false);
    }
  });

  it('loopback in any form the URL parser normalises to 127.0.0.0/8, ::1 or localhost', () => {
    for (const e of [
      'http://127.0.0.1:9243',
      'http://127.1:9243', // = 127.0.0.1
      'http://0x7f.0.0.1', // = 127.0.0.1
      'http://2130706433', // = 127.0.0.1
      'https://127.255.255.254',
      'http://LOCALHOST:1',
      'http://[::1]:9243',
      'http://[0:0:0:0:0:0:0:1]:9243', // = [::1]
    ]) {
      expect(allowed(e), e).toBe(true);
    }
    for (const h of ['10.0.0.1', 'example.com', '127.example.com', '0.0.0.0', '[::]', 'localhost.'])
      expect(isLoopbackHost(h), h).toBe(false);
  });

  it('a listed origin, compared exactly: scheme, host and port', () => {
    const list = 'https://ece.example.com:12443, https://Other.Example.com/';
    const ok = allowedWith(list);
    expect(ok('https://ece.example.com:12443')).toBe(true);
    expect(ok('https://ECE.example.com:12443/api/v1/..')).toBe(true);
    expect(ok('https://other.example.com:443')).toBe(true);
    for (const e of [
      'https://ece.example.com', // another port
      'https://ece.example.com:12444',
      'http://ece.example.com:12443', // http is loopback only, listed or not
      'https://ece.example.com.:12443',
      'https://evil.ece.example.com:12443',
      'https://ece.example.com:12443@evil.example',
      'https://ece.example.com.evil.example:12443',
    ]) {
      expect(ok(e), e).toBe(false);
    }
  });

  it('the refusal names the variable and the origin, and says where to list it', () => {
    const message = endpointRefusal('https://evil.example:8443/x', NOTHING_LISTED);
    expect(message).toContain('ECFENCE_ALLOWED_ENDPOINTS');
    expect(message).toContain('https://evil.example:8443 is none of these (it is not set)');
    expect(message).toContain('never in the repository');
  });

  it('reads the variable: https origins only; anything else is a problem and allows nothing', () => {
    const read = readAllowedOrigins(
      ',https://a.example.com , https://B.example.com:8443/,http://c.example.com,https://d.example.com/api,https://u:p@e.example.com,https://f.example.com?x,*',
    );
    expect([...read.origins]).toEqual(['https://a.example.com', 'https://b.example.com:8443']);
    expect(read.problems).toHaveLength(5);
    expect(read.problems[0]).toContain("'http://c.example.com' is not an https origin");
    expect(read.problems[1]).toContain("'https://d.example.com/api' is not an origin");
  });
});
