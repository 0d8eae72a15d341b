import type { HttpClient } from '../http.js';
import { asArray, asObject, optionalString, requireString } from '../wire.js';
import type { WireContext } from '../wire.js';

/** One region's private-connectivity facts, as a user needs them to set up a private endpoint. */
export interface RegionMetadata {
  region: string;
  csp?: string;
  /** AWS endpoint service name, Azure Private Link alias or GCP service attachment URI. */
  service_name?: string;
  hosted_zone?: string;
  availability_zones: { name: string; id: string }[];
}

export interface TrafficFilterMetadata {
  regions: RegionMetadata[];
}

const METADATA = '/api/v1/serverless/traffic-filters/metadata';

/**
 * S6 `GET /api/v1/serverless/traffic-filters/metadata`. `private_service_name` is preferred over the
 * deprecated `vpc_service_name` (API.md §4.3). An unknown region gives an empty list, not an error.
 */
export async function readMetadata(
  http: HttpClient,
  options: { region?: string; csp?: string } = {},
): Promise<TrafficFilterMetadata> {
  const searchParams: Record<string, string> = {
    ...(options.region ? { region: options.region } : {}),
    ...(options.csp ? { csp: options.csp } : {}),
  };
  const res = await http.request({ method: 'GET', path: METADATA, searchParams });
  const ctx: WireContext = { method: 'GET', path: METADATA };
  const body = asObject(ctx, res.body ?? {}, 'metadata');
  const regions = asArray(ctx, body['regions'], 'regions').map((raw): RegionMetadata => {
    const r = asObject(ctx, raw, 'region metadata');
    const region = requireString(ctx, r, 'region', 'region metadata');
    const csp = optionalString(r, 'csp');
    const serviceName = optionalString(r, 'private_service_name') ?? optionalString(r, 'vpc_service_name');
    const hostedZone = optionalString(r, 'private_hosted_zone_domain_name');
    return {
      region,
      ...(csp !== undefined ? { csp } : {}),
      ...(serviceName !== undefined ? { service_name: serviceName } : {}),
      ...(hostedZone !== undefined ? { hosted_zone: hostedZone } : {}),
      availability_zones: asArray(ctx, r['availability_zones'], `${region} availability_zones`).map((z) => {
        const zone = asObject(ctx, z, 'availability zone');
        return {
          name: requireString(ctx, zone, 'name', 'availability zone'),
          id: requireString(ctx, zone, 'id', 'availability zone'),
        };
      }),
    };
  });
  return { regions };
}
