/** One element of an API error body (ESS/ECE `BasicFailedReplyElement`, serverless `ErrorResponse`). */
export interface ApiErrorElement {
  code: string;
  message: string;
  /** ESS/ECE only: the request fields the error is about. */
  fields?: string[];
}

/**
 * A refusal the emulated API answers with `status` and an error body. State functions throw it;
 * the server renders it in the shape of the API family the path belongs to.
 */
export class EmulatorApiError extends Error {
  override readonly name = 'EmulatorApiError';
  readonly errors: ApiErrorElement[];
  constructor(
    readonly status: number,
    errors: ApiErrorElement | ApiErrorElement[],
  ) {
    const list = Array.isArray(errors) ? errors : [errors];
    super(list.map((e) => `${e.code}: ${e.message}`).join('; '));
    this.errors = list;
  }
}

/** A seed or state file the emulator cannot use. */
export class EmulatorSetupError extends Error {
  override readonly name = 'EmulatorSetupError';
}

export function apiError(status: number, code: string, message: string, fields?: string[]): EmulatorApiError {
  return new EmulatorApiError(
    status,
    fields && fields.length > 0 ? { code, message, fields } : { code, message },
  );
}

/** The emulator could not listen on its address (the port is in use, or not allowed). */
export class EmulatorListenError extends Error {
  override readonly name = 'EmulatorListenError';
  constructor(host: string, port: number, code: string) {
    super(
      code === 'EADDRINUSE'
        ? `cannot listen on ${host}:${port}: the port is in use (give another with --port, or --port 0 for any free one)`
        : `cannot listen on ${host}:${port} (${code})`,
    );
  }
}
