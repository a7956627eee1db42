/** The one error type. Services throw it; the error handler turns it into problem+json. */
export const errorCodes = {
  validation_failed: { status: 400, title: 'Request validation failed' },
  bad_request: { status: 400, title: 'Bad request' },
  unauthenticated: { status: 401, title: 'Authentication required' },
  forbidden: { status: 403, title: 'Forbidden' },
  not_found: { status: 404, title: 'Not found' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
  conflict: { status: 409, title: 'Conflict' },
  precondition_failed: { status: 412, title: 'Precondition failed' },
  payload_too_large: { status: 413, title: 'Payload too large' },
  uri_too_long: { status: 414, title: 'URI too long' },
  unsupported_media_type: { status: 415, title: 'Unsupported media type' },
  unprocessable: { status: 422, title: 'Unprocessable request' },
  precondition_required: { status: 428, title: 'Precondition required' },
  rate_limited: { status: 429, title: 'Too many requests' },
  internal: { status: 500, title: 'Internal server error' },
  unavailable: { status: 503, title: 'Service unavailable' },
} as const;

export type ErrorCode = keyof typeof errorCodes;

export interface FieldError {
  /** Where the field is: body, query, params or headers. */
  in: string;
  /** Dotted path of the field inside that part, e.g. `roles.1`; empty for the part itself. */
  field: string;
  message: string;
}

export interface AppErrorOptions {
  errors?: FieldError[];
  /** Seconds for a Retry-After header (429, 503). */
  retryAfter?: number;
  /** Why access was refused, for the audit record (never shown beyond `detail`). */
  denialReason?: string;
  cause?: unknown;
}

export class AppError extends Error {
  override name = 'AppError';
  readonly status: number;
  readonly title: string;

  constructor(
    readonly code: ErrorCode,
    readonly detail: string,
    readonly options: AppErrorOptions = {},
  ) {
    super(detail, { cause: options.cause });
    this.status = errorCodes[code].status;
    this.title = errorCodes[code].title;
  }
}

export const notFound = (what: string) => new AppError('not_found', `${what} was not found`);

/** A 400 naming one body field, for checks that depend on other fields or on stored records. */
export const invalidField = (field: string, message: string) =>
  new AppError('validation_failed', `Invalid body.${field}: ${message}`, { errors: [{ in: 'body', field, message }] });
