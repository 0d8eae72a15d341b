import type { RegionMetadata } from './types.js';

function aws(region: string, service: string, zones: string[]): RegionMetadata {
  const name = `com.amazonaws.vpce.${region}.vpce-svc-${service}`;
  return {
    region: `aws-${region}`,
    csp: 'aws',
    vpc_service_name: name,
    private_service_name: name,
    private_hosted_zone_domain_name: `vpce.${region}.aws.elastic.cloud`,
    availability_zones: zones.map((id, i) => ({ name: `${region}${'abcdef'[i] ?? 'a'}`, id })),
  };
}

/**
 * Built-in PrivateLink metadata for a few regions, shaped like the real S6 answer. Values are
 * plausible placeholders, not Elastic's real service names.
 */
export function builtinRegionMetadata(): RegionMetadata[] {
  return [
    aws('us-east-1', '0e42e1e06ed010238', ['use1-az2', 'use1-az4', 'use1-az6']),
    aws('eu-west-1', '01f2afe87944eb12b', ['euw1-az1', 'euw1-az2', 'euw1-az3']),
    aws('ap-northeast-1', '0e1046d7b48d5cf5f', ['apne1-az1', 'apne1-az2', 'apne1-az4']),
    {
      region: 'azure-eastus',
      csp: 'azure',
      vpc_service_name:
        'eastus-prod-008-privatelink-service.98758729-06f7-438d-baaa-0cb63e737cdf.eastus.azure.privatelinkservice',
      private_service_name:
        'eastus-prod-008-privatelink-service.98758729-06f7-438d-baaa-0cb63e737cdf.eastus.azure.privatelinkservice',
      private_hosted_zone_domain_name: 'privatelink.eastus.azure.elastic-cloud.com',
      availability_zones: [],
    },
    {
      region: 'azure-australiaeast',
      csp: 'azure',
      vpc_service_name:
        'australiaeast-prod-012-privatelink-service.b9a1e5f4-3c1d-4bd8-a7a8-2c5f0c1c4a51.australiaeast.azure.privatelinkservice',
      private_service_name:
        'australiaeast-prod-012-privatelink-service.b9a1e5f4-3c1d-4bd8-a7a8-2c5f0c1c4a51.australiaeast.azure.privatelinkservice',
      private_hosted_zone_domain_name: 'privatelink.australiaeast.azure.elastic-cloud.com',
      availability_zones: [],
    },
    {
      region: 'gcp-us-central1',
      csp: 'gcp',
      vpc_service_name:
        'projects/cloud-production-168820/regions/us-central1/serviceAttachments/proxy-psc-production-us-central1-v1-attachment',
      private_service_name:
        'projects/cloud-production-168820/regions/us-central1/serviceAttachments/proxy-psc-production-us-central1-v1-attachment',
      private_hosted_zone_domain_name: 'private.us-central1.gcp.elastic-cloud.com',
      availability_zones: [],
    },
  ];
}
