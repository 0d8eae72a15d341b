import type { Logger } from '../log.js';
import type { EnvironmentConfig } from '../model/types.js';
import type { HttpClient, RetryOptions } from './http.js';
import type { Capabilities } from '../model/capabilities.js';

/** What the registry hands a back-end factory: one configured client per environment. */
export interface BackendContext {
  config: EnvironmentConfig;
  capabilities: Capabilities;
  http: HttpClient;
  logger: Logger;
  /** The client's effective retry bounds, reused for back-end level loops (create, If-Match). */
  retry: RetryOptions;
}
