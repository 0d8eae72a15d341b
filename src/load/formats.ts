import { createRequire } from 'node:module';
import type * as IpAddr from 'ipaddr.js';
import { isLoopbackHost } from '../secrets/endpoint-policy.js';
import { isIpv4Network } from '../model/ipv4.js';
import type { PolicyType } from '../model/types.js';

// ipaddr.js is CommonJS with `export =` typings; with esModuleInterop off, require() is the way
// to get its typed namespace from ESM.
const ipaddr = createRequire(import.meta.url)('ipaddr.js') as typeof IpAddr;

/**
 * Per-field format checks (pure). Each returns undefined when the value is fine, or the code and
 * the end of a message ("'300.1.1.1' is not an IPv4 address or CIDR"); the caller prefixes the field.
 */
export interface FormatProblem {
  severity: 'error' | 'warning';
  code: string;
  message: string;
}

const VPCE_ID = /^vpce-[0-9a-f]{17}$/;
const PSC_ID = /^[0-9]{1,20}$/;
const LOWERCASE_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TARGET_ID = /^[a-z0-9]{32}$/;

/**
 * IPv4 address or CIDR, written the one unambiguous way (four decimal parts, no leading zeros,
 * prefix 0–32). IPv6 and DNS names are refused: the API documents IPv4 only. A CIDR with host bits
 * set is allowed (the API stores it verbatim) but warned about, naming the real network.
 */
export function checkIpv4(value: string): FormatProblem | undefined {
  // The usual case, checked without building the messages of the others.
  if (isIpv4Network(value)) return undefined;
  const invalid: FormatProblem = {
    severity: 'error',
    code: 'E_INVALID_SOURCE',
    message: `'${value}' is not an IPv4 address or CIDR${ipv6Hint(value)}`,
  };
  const [address = '', prefix, ...rest] = value.split('/');
  if (rest.length > 0 || !ipaddr.IPv4.isValidFourPartDecimal(address)) return invalid;
  if (prefix === undefined) return undefined;
  if (!/^(0|[1-9][0-9]?)$/.test(prefix) || Number(prefix) > 32) {
    return { ...invalid, message: `'${value}' is not an IPv4 address or CIDR (the prefix must be 0–32)` };
  }
  const network = ipaddr.IPv4.networkAddressFromCIDR(value).toString();
  if (network !== address) {
    return {
      severity: 'warning',
      code: 'W_CIDR_HOST_BITS',
      message: `'${value}' has host bits set: the network is ${network}/${prefix} (the value is sent as written)`,
    };
  }
  return undefined;
}

function ipv6Hint(value: string): string {
  return value.includes(':') ? ' (IPv6 is not supported by traffic filters)' : '';
}

export function checkVpceId(value: string): FormatProblem | undefined {
  if (VPCE_ID.test(value)) return undefined;
  return {
    severity: 'error',
    code: 'E_INVALID_VPCE',
    message: `'${value}' is not an AWS VPC endpoint id (expected 'vpce-' followed by 17 lowercase hex digits, e.g. vpce-0123456789abcdef0)`,
  };
}

export function checkPscId(value: string): FormatProblem | undefined {
  if (PSC_ID.test(value)) return undefined;
  return {
    severity: 'error',
    code: 'E_INVALID_PSC',
    message: `'${value}' is not a GCP Private Service Connect connection id (expected decimal digits, e.g. 18446744072646845332)`,
  };
}

export function checkAzureEndpointName(value: string): FormatProblem | undefined {
  if (value.length >= 2 && value.length <= 80) return undefined;
  return {
    severity: 'error',
    code: 'E_INVALID_AZURE',
    message: `'${value}' is not a valid Azure private endpoint name (expected 2–80 characters)`,
  };
}

export function checkAzureEndpointGuid(value: string): FormatProblem | undefined {
  if (LOWERCASE_UUID.test(value)) return undefined;
  const hint = LOWERCASE_UUID.test(value.toLowerCase()) ? '; write it in lowercase' : '';
  return {
    severity: 'error',
    code: 'E_INVALID_AZURE',
    message: `'${value}' is not an Azure private endpoint resource GUID (expected a lowercase UUID${hint})`,
  };
}

/** Deployment and project ids: 32 lowercase letters or digits (the serverless `ProjectID` pattern). */
export function checkTargetId(value: string): FormatProblem | undefined {
  if (TARGET_ID.test(value)) return undefined;
  return {
    severity: 'error',
    code: 'E_INVALID_TARGET_ID',
    message: `'${value}' is not a valid id (expected 32 lowercase letters or digits)`,
  };
}

/** The check for a rule's `source` (or egress `target`) by policy type; undefined = no `source`. */
export function sourceCheckFor(type: PolicyType): ((value: string) => FormatProblem | undefined) | undefined {
  return SOURCE_CHECKS[type];
}

const SOURCE_CHECKS: Partial<Record<PolicyType, (value: string) => FormatProblem | undefined>> = {
  ip: checkIpv4,
  egress_firewall: checkIpv4,
  vpce: checkVpceId,
  gcp_private_service_connect_endpoint: checkPscId,
};

/**
 * An API endpoint: an absolute https URL (http only on loopback, for the emulator), without
 * credentials, query or fragment. Returns the endpoint without trailing slashes, or the problem.
 */
export function checkEndpoint(value: string): { endpoint: string } | FormatProblem {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return invalidEndpoint(`'${value}' is not a URL (expected e.g. https://api.elastic-cloud.com)`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return invalidEndpoint(`'${value}' must use https://`);
  }
  if (url.username !== '' || url.password !== '') {
    return invalidEndpoint(
      'the endpoint must not contain credentials; name environment variables in api_key_env (or username_env/password_env) instead',
    );
  }
  if (url.search !== '' || url.hash !== '') {
    return invalidEndpoint(`'${value}' must not have a query or fragment`);
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    return {
      severity: 'error',
      code: 'E_INSECURE_ENDPOINT',
      message: `'${value}' uses plain http://, which is only allowed on loopback (127.0.0.0/8, ::1, localhost); use https://`,
    };
  }
  return { endpoint: value.replace(/\/+$/, '') };
}

function invalidEndpoint(message: string): FormatProblem {
  return { severity: 'error', code: 'E_INVALID_ENDPOINT', message };
}
