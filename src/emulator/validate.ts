import { isIPv4 } from 'node:net';
import { apiError, EmulatorApiError, type ApiErrorElement } from './errors.js';
import {
  ESS_RULESET_TYPES,
  SERVERLESS_FILTER_TYPES,
  type EmulatorFlavor,
  type StoredFilterRule,
  type StoredRule,
} from './types.js';

/** A validated ESS/ECE `TrafficFilterRulesetRequest`; rules have no ids yet. */
export interface RulesetRequest {
  name: string;
  description?: string;
  type: string;
  include_by_default: boolean;
  region: string;
  rules: Omit<StoredRule, 'id'>[];
}

export const INVALID_INPUT = 'traffic_filter.invalid_input';
export const INVALID_TYPE = 'traffic_filter.invalid_type';

type Json = Record<string, unknown>;

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** IPv4 address or IPv4 CIDR (prefix 0..32), the only `source` an `ip` rule takes. */
export function isIpv4OrCidr(value: string): boolean {
  const slash = value.indexOf('/');
  if (slash === -1) return isIPv4(value);
  const prefix = value.slice(slash + 1);
  return isIPv4(value.slice(0, slash)) && /^\d{1,2}$/.test(prefix) && Number(prefix) <= 32;
}

class Problems {
  readonly list: ApiErrorElement[] = [];
  constructor(private readonly code: string) {}
  add(field: string, message: string, code = this.code): void {
    this.list.push({ code, message, fields: [field] });
  }
  throwIfAny(status = 400): void {
    if (this.list.length > 0) throw new EmulatorApiError(status, this.list);
  }
}

const ESS_RULE_KEYS = [
  'id',
  'source',
  'description',
  'azure_endpoint_name',
  'azure_endpoint_guid',
  'remote_cluster_id',
  'remote_cluster_org_id',
  'egress_rule',
] as const;

/** Which rule fields each ESS type requires; every other content field is refused (API.md gotcha 25). */
const ESS_TYPE_FIELDS: Record<string, readonly string[]> = {
  ip: ['source'],
  vpce: ['source'],
  gcp_private_service_connect_endpoint: ['source'],
  azure_private_endpoint: ['azure_endpoint_name', 'azure_endpoint_guid'],
  remote_cluster: ['remote_cluster_id', 'remote_cluster_org_id'],
  egress_firewall: ['egress_rule'],
};

const CONTENT_FIELDS = [
  'source',
  'azure_endpoint_name',
  'azure_endpoint_guid',
  'remote_cluster_id',
  'remote_cluster_org_id',
  'egress_rule',
] as const;

/**
 * Validates an ESS/ECE ruleset create/update body the way the service does: required fields, known
 * type (ECE: `ip` only), per-type rule fields, IPv4 sources, egress protocol enum. Every problem is
 * reported at once; the stored form keeps values verbatim (no CIDR canonicalisation).
 */
export function validateRulesetRequest(flavor: EmulatorFlavor, body: unknown): RulesetRequest {
  if (!isObject(body)) throw apiError(400, INVALID_INPUT, 'The request body must be a JSON object');
  const p = new Problems(INVALID_INPUT);
  for (const field of ['name', 'type', 'region'] as const) {
    const v = body[field];
    if (v === undefined || v === null) p.add(field, `The field [${field}] is required`);
    else if (typeof v !== 'string' || v.trim() === '')
      p.add(field, `The field [${field}] must be a non-empty string`);
  }
  if (typeof body['include_by_default'] !== 'boolean') {
    p.add('include_by_default', 'The field [include_by_default] is required and must be a boolean');
  }
  if (
    body['description'] !== undefined &&
    body['description'] !== null &&
    typeof body['description'] !== 'string'
  ) {
    p.add('description', 'The field [description] must be a string');
  }
  const type = typeof body['type'] === 'string' ? body['type'] : undefined;
  const knownTypes: readonly string[] = flavor === 'ece' ? ['ip'] : ESS_RULESET_TYPES;
  if (type !== undefined && type.trim() !== '' && !knownTypes.includes(type)) {
    p.add(
      'type',
      flavor === 'ece' && (ESS_RULESET_TYPES as readonly string[]).includes(type)
        ? `Ruleset type [${type}] is not supported on Elastic Cloud Enterprise; only [ip] is`
        : `Unknown ruleset type [${type}]; expected one of [${knownTypes.join(', ')}]`,
      INVALID_TYPE,
    );
  }
  const rules: Omit<StoredRule, 'id'>[] = [];
  const rawRules = body['rules'];
  if (!Array.isArray(rawRules)) {
    p.add('rules', 'The field [rules] is required and must be an array');
  } else {
    rawRules.forEach((raw, i) => {
      const rule = validateEssRule(
        raw,
        `rules[${i}]`,
        type !== undefined && knownTypes.includes(type) ? type : undefined,
        p,
      );
      if (rule) rules.push(rule);
    });
  }
  p.throwIfAny();
  const out: RulesetRequest = {
    name: body['name'] as string,
    type: type as string,
    include_by_default: body['include_by_default'] as boolean,
    region: body['region'] as string,
    rules,
  };
  if (typeof body['description'] === 'string') out.description = body['description'];
  return out;
}

function validateEssRule(
  raw: unknown,
  at: string,
  type: string | undefined,
  p: Problems,
): Omit<StoredRule, 'id'> | undefined {
  if (!isObject(raw)) {
    p.add(at, `[${at}] must be an object`);
    return undefined;
  }
  const before = p.list.length;
  for (const key of Object.keys(raw)) {
    if (!(ESS_RULE_KEYS as readonly string[]).includes(key))
      p.add(`${at}.${key}`, `Unknown rule field [${key}]`);
  }
  for (const key of CONTENT_FIELDS) {
    const v = raw[key];
    if (key !== 'egress_rule' && v !== undefined && v !== null && typeof v !== 'string') {
      p.add(`${at}.${key}`, `[${at}.${key}] must be a string`);
    }
  }
  if (
    raw['description'] !== undefined &&
    raw['description'] !== null &&
    typeof raw['description'] !== 'string'
  ) {
    p.add(`${at}.description`, `[${at}.description] must be a string`);
  }
  if (type !== undefined) {
    const wanted = ESS_TYPE_FIELDS[type] ?? [];
    for (const key of CONTENT_FIELDS) {
      const present = raw[key] !== undefined && raw[key] !== null && raw[key] !== '';
      if (wanted.includes(key) && !present)
        p.add(`${at}.${key}`, `[${at}.${key}] is required for ruleset type [${type}]`);
      if (!wanted.includes(key) && present)
        p.add(`${at}.${key}`, `[${at}.${key}] is not allowed for ruleset type [${type}]`);
    }
    const source = raw['source'];
    if (typeof source === 'string' && source !== '') {
      if (type === 'ip' && !isIpv4OrCidr(source)) {
        p.add(`${at}.source`, `[${source}] is not a valid IPv4 address or CIDR`);
      }
      if (type === 'vpce' && !/^vpce-[0-9a-z]+$/.test(source)) {
        p.add(`${at}.source`, `[${source}] is not a valid VPC endpoint id (vpce-...)`);
      }
      if (type === 'gcp_private_service_connect_endpoint' && !/^\d+$/.test(source)) {
        p.add(`${at}.source`, `[${source}] is not a valid Private Service Connect connection id`);
      }
    }
    if (type === 'egress_firewall' && raw['egress_rule'] !== undefined && raw['egress_rule'] !== null) {
      validateEgressRule(raw['egress_rule'], `${at}.egress_rule`, p);
    }
  }
  if (p.list.length > before) return undefined;
  const rule: Omit<StoredRule, 'id'> = {};
  // Keep the client's values verbatim; only drop nulls and the client-supplied id (re-issued).
  for (const key of [
    'source',
    'description',
    'azure_endpoint_name',
    'azure_endpoint_guid',
    'remote_cluster_id',
    'remote_cluster_org_id',
  ] as const) {
    const v = raw[key];
    if (typeof v === 'string') rule[key] = v;
  }
  const egress = raw['egress_rule'];
  if (isObject(egress)) {
    rule.egress_rule = { target: egress['target'] as string, protocol: egress['protocol'] as string };
    if (Array.isArray(egress['ports'])) rule.egress_rule.ports = [...(egress['ports'] as number[])];
  }
  return rule;
}

function validateEgressRule(raw: unknown, at: string, p: Problems): void {
  if (!isObject(raw)) {
    p.add(at, `[${at}] must be an object`);
    return;
  }
  for (const key of Object.keys(raw)) {
    if (!['target', 'protocol', 'ports'].includes(key))
      p.add(`${at}.${key}`, `Unknown egress rule field [${key}]`);
  }
  const target = raw['target'];
  if (typeof target !== 'string' || target === '') p.add(`${at}.target`, `[${at}.target] is required`);
  else if (!isIpv4OrCidr(target)) p.add(`${at}.target`, `[${target}] is not a valid IPv4 address or CIDR`);
  const protocol = raw['protocol'];
  if (protocol !== 'all' && protocol !== 'tcp' && protocol !== 'udp') {
    p.add(`${at}.protocol`, `[${at}.protocol] must be one of [all, tcp, udp]`);
  }
  const ports = raw['ports'];
  if (ports !== undefined && ports !== null) {
    if (!Array.isArray(ports) || !ports.every((x) => Number.isInteger(x) && x >= 1 && x <= 65535)) {
      p.add(`${at}.ports`, `[${at}.ports] must be an array of port numbers (1..65535)`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Serverless
// ---------------------------------------------------------------------------------------------

export const SLS_BAD_REQUEST = 'traffic_filter.bad_request';

export interface FilterCreateRequest {
  name: string;
  description?: string;
  type: string;
  include_by_default: boolean;
  region: string;
  rules: StoredFilterRule[];
}

export interface FilterPatchRequest {
  name?: string;
  description?: string;
  include_by_default?: boolean;
  rules?: StoredFilterRule[];
}

const FILTER_CREATE_KEYS = ['name', 'description', 'type', 'include_by_default', 'region', 'rules'];
const FILTER_PATCH_KEYS = ['name', 'description', 'include_by_default', 'rules'];

function checkLength(p: Problems, field: string, v: unknown, min: number, max: number): void {
  if (typeof v !== 'string') p.add(field, `${field} must be a string`);
  else if (v.length < min || v.length > max) p.add(field, `${field} must be ${min}..${max} characters long`);
}

/** Serverless `CreateTrafficFilterRequest`, with the public docs' per-type rule formats. */
export function validateFilterCreate(body: unknown): FilterCreateRequest {
  if (!isObject(body)) throw apiError(400, SLS_BAD_REQUEST, 'The request body must be a JSON object');
  const p = new Problems(SLS_BAD_REQUEST);
  for (const key of Object.keys(body)) {
    if (!FILTER_CREATE_KEYS.includes(key)) p.add(key, `Unknown field ${key}`);
  }
  checkLength(p, 'name', body['name'], 1, 128);
  checkLength(p, 'region', body['region'], 1, 32);
  if (body['description'] !== undefined) checkLength(p, 'description', body['description'], 0, 512);
  const type = body['type'];
  if (typeof type !== 'string' || !(SERVERLESS_FILTER_TYPES as readonly string[]).includes(type)) {
    p.add('type', `type must be one of ${SERVERLESS_FILTER_TYPES.join(', ')}`);
  }
  if (body['include_by_default'] !== undefined && typeof body['include_by_default'] !== 'boolean') {
    p.add('include_by_default', 'include_by_default must be a boolean');
  }
  const rules = validateFilterRules(body['rules'], typeof type === 'string' ? type : undefined, p);
  p.throwIfAny();
  const out: FilterCreateRequest = {
    name: body['name'] as string,
    type: type as string,
    include_by_default: body['include_by_default'] === true,
    region: body['region'] as string,
    rules: rules ?? [],
  };
  if (typeof body['description'] === 'string') out.description = body['description'];
  return out;
}

/** Serverless `PatchTrafficFilterRequest`: `type` and `region` are immutable and refused. */
export function validateFilterPatch(body: unknown, type: string): FilterPatchRequest {
  if (!isObject(body)) throw apiError(400, SLS_BAD_REQUEST, 'The request body must be a JSON object');
  const p = new Problems(SLS_BAD_REQUEST);
  for (const key of Object.keys(body)) {
    if (key === 'type' || key === 'region')
      p.add(key, `${key} cannot be changed; create a new traffic filter`);
    else if (!FILTER_PATCH_KEYS.includes(key)) p.add(key, `Unknown field ${key}`);
  }
  if (body['name'] !== undefined) checkLength(p, 'name', body['name'], 1, 128);
  if (body['description'] !== undefined) checkLength(p, 'description', body['description'], 0, 512);
  if (body['include_by_default'] !== undefined && typeof body['include_by_default'] !== 'boolean') {
    p.add('include_by_default', 'include_by_default must be a boolean');
  }
  const rules = body['rules'] === undefined ? undefined : validateFilterRules(body['rules'], type, p);
  p.throwIfAny();
  const out: FilterPatchRequest = {};
  if (typeof body['name'] === 'string') out.name = body['name'];
  if (typeof body['description'] === 'string') out.description = body['description'];
  if (typeof body['include_by_default'] === 'boolean') out.include_by_default = body['include_by_default'];
  if (rules !== undefined) out.rules = rules;
  return out;
}

const UUID_LOWER = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function validateFilterRules(
  raw: unknown,
  type: string | undefined,
  p: Problems,
): StoredFilterRule[] | undefined {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) {
    p.add('rules', 'rules must be an array');
    return undefined;
  }
  const out: StoredFilterRule[] = [];
  raw.forEach((r, i) => {
    const at = `rules[${i}]`;
    if (!isObject(r)) {
      p.add(at, `${at} must be an object`);
      return;
    }
    for (const key of Object.keys(r)) {
      if (!['description', 'source', 'azure_endpoint_name', 'azure_endpoint_guid'].includes(key)) {
        p.add(`${at}.${key}`, `Unknown rule field ${key}`);
      } else if (typeof r[key] !== 'string') p.add(`${at}.${key}`, `${at}.${key} must be a string`);
    }
    const source = typeof r['source'] === 'string' ? r['source'] : undefined;
    const azureName = typeof r['azure_endpoint_name'] === 'string' ? r['azure_endpoint_name'] : undefined;
    const azureGuid = typeof r['azure_endpoint_guid'] === 'string' ? r['azure_endpoint_guid'] : undefined;
    if (type === 'private_endpoint') {
      if (source !== undefined) p.add(`${at}.source`, 'private_endpoint rules must not set source');
      if (azureName === undefined || azureName.length < 2 || azureName.length > 80) {
        p.add(`${at}.azure_endpoint_name`, 'azure_endpoint_name is required (2..80 characters)');
      }
      if (azureGuid === undefined || !UUID_LOWER.test(azureGuid)) {
        p.add(`${at}.azure_endpoint_guid`, 'azure_endpoint_guid is required (lowercase UUID)');
      }
    } else if (type !== undefined) {
      if (azureName !== undefined || azureGuid !== undefined) {
        p.add(`${at}.azure_endpoint_name`, `${type} rules must not set the azure fields`);
      }
      if (source === undefined) p.add(`${at}.source`, `source is required for ${type} rules`);
      else if (type === 'ip' && !isIpv4OrCidr(source))
        p.add(`${at}.source`, `${source} is not an IPv4 address or CIDR`);
      else if (type === 'vpce' && !/^vpce-[0-9a-f]{17}$/.test(source)) {
        p.add(`${at}.source`, `${source} is not a VPC endpoint id (vpce- and 17 lowercase hex characters)`);
      } else if (type === 'psc_endpoint' && !/^\d+$/.test(source)) {
        p.add(`${at}.source`, `${source} is not a PSC connection id`);
      }
    }
    const rule: StoredFilterRule = {};
    if (typeof r['description'] === 'string') rule.description = r['description'];
    if (source !== undefined) rule.source = source;
    if (azureName !== undefined) rule.azure_endpoint_name = azureName;
    if (azureGuid !== undefined) rule.azure_endpoint_guid = azureGuid;
    out.push(rule);
  });
  return out;
}
