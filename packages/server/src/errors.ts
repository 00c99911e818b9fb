/**
 * Typed errors: thrown from anywhere in the server and rendered in exactly one place
 * (`http/error-handler.ts`) as the envelope of spec/ai-api.md "Errors".
 */

/** Every error code the API can answer with, and the HTTP status it maps to. */
export const ERROR_STATUS = {
  INVALID_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  MODEL_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  MODEL_NOT_LOADED: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMIT_EXCEEDED: 429,
  INTERNAL_ERROR: 500,
  UPSTREAM_ERROR: 502,
  OVERLOADED: 503,
  SERVICE_UNAVAILABLE: 503,
  UPSTREAM_TIMEOUT: 504,
  INSUFFICIENT_MEMORY: 507,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;
export type ErrorDetails = Record<string, unknown>;

export interface ApiErrorOptions {
  details?: ErrorDetails;
  /** Overrides the code's default status (e.g. 422 for a semantically invalid request). */
  status?: number;
  /** Extra response headers, e.g. `Retry-After`. */
  headers?: Record<string, string>;
  cause?: unknown;
}

export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: ErrorDetails;
  readonly headers: Record<string, string>;

  constructor(code: ErrorCode, message: string, options: ApiErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ApiError";
    this.code = code;
    this.status = options.status ?? ERROR_STATUS[code];
    this.details = options.details ?? {};
    this.headers = options.headers ?? {};
  }
}

export interface ValidationIssue {
  path: string;
  message: string;
}

export function invalidRequest(message: string, issues: ValidationIssue[] = []): ApiError {
  return new ApiError("INVALID_REQUEST", message, { details: { issues } });
}

export function notFound(message: string, details?: ErrorDetails): ApiError {
  return new ApiError("NOT_FOUND", message, details === undefined ? {} : { details });
}

export function isApiError(value: unknown): value is ApiError {
  return value instanceof ApiError;
}

/** The message of anything thrown (an Error's message, else its string form). */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
