import { isIP } from 'node:net';

/**
 * Where an API key may be sent (SPEC §1.1). `ecfence.yaml` arrives in pull requests, so its
 * `endpoint:` cannot decide where the key goes: only the official API, loopback (the emulator) and
 * the origins the CI workflow lists in this variable are allowed. Nothing here reads a file.
 *
 * Origins are compared exactly as the WHATWG URL parser normalises them (scheme, lower-case host
 * with IDN as punycode, IPv4 and IPv6 in canonical form, default port dropped) — the same parse
 * the HTTP client connects with, so what is checked is what is dialled. Anything that is not
 * equal, a trailing dot or another port included, is refused.
 */
export const ALLOWED_ENDPOINTS_VAR = 'ECFENCE_ALLOWED_ENDPOINTS';

/** The official Elastic Cloud API: the default endpoint of ess and serverless. */
export const OFFICIAL_ORIGIN = 'https://api.elastic-cloud.com';

/**
 * Loopback as the URL parser writes a host: `localhost`, 127.0.0.0/8, `[::1]`. Plain http is
 * allowed only here, where nothing can listen in. IPv4-mapped forms (`[::ffff:7f00:1]`) and
 * `0.0.0.0` are not loopback here: when in doubt, refuse.
 */
export function isLoopbackHost(hostname: string): boolean {
  if (hostname === 'localhost' || hostname === '[::1]') return true;
  return isIP(hostname) === 4 && hostname.startsWith('127.');
}

export interface AllowedOrigins {
  /** Normalised origins (`https://host[:port]`) the variable lists. */
  origins: ReadonlySet<string>;
  /** One message per entry that is not an https origin; such an entry allows nothing. */
  problems: string[];
}

/** Parses `ECFENCE_ALLOWED_ENDPOINTS`: comma-separated https origins; blanks around entries ignored. */
export function readAllowedOrigins(value: string | undefined): AllowedOrigins {
  const origins = new Set<string>();
  const problems: string[] = [];
  for (const raw of (value ?? '').split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const url = parseUrl(entry);
    const bare =
      url !== undefined &&
      url.username === '' &&
      url.password === '' &&
      url.search === '' &&
      url.hash === '' &&
      url.pathname === '/';
    if (!bare) {
      problems.push(
        `'${entry}' is not an origin (expected scheme://host[:port], e.g. https://ece.example.com:12443)`,
      );
    } else if (url.protocol !== 'https:') {
      problems.push(`'${entry}' is not an https origin (plain http is allowed only on loopback)`);
    } else {
      origins.add(url.origin);
    }
  }
  return { origins, problems };
}

/**
 * Why a key must not be sent to `endpoint`, or undefined when it may. The message names the
 * variable that would allow it; it never contains a key (an endpoint cannot hold one: URLs with
 * credentials are refused before this is asked).
 */
export function endpointRefusal(endpoint: string, allowed: AllowedOrigins): string | undefined {
  const url = parseUrl(endpoint);
  if (url === undefined) return `'${endpoint}' is not a URL`;
  if (isLoopbackHost(url.hostname)) return undefined;
  if (url.protocol === 'https:' && (url.origin === OFFICIAL_ORIGIN || allowed.origins.has(url.origin))) {
    return undefined;
  }
  const listed = allowed.origins.size === 0 ? 'it is not set' : `it lists ${[...allowed.origins].join(', ')}`;
  return (
    `API keys are sent only to ${OFFICIAL_ORIGIN}, to loopback (the emulator) or to an origin listed in ` +
    `${ALLOWED_ENDPOINTS_VAR}, and ${url.origin} is none of these (${listed}). If this endpoint is yours, ` +
    `list it in ${ALLOWED_ENDPOINTS_VAR} where the run is set up (the CI workflow, your shell), never in the repository`
  );
}

function parseUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}
