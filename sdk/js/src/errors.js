// Errors thrown by waited calls and by the constructor. Background delivery (log(..., { wait: false })) never throws.
//
//   AgentAuditError
//    ├── ConfigError                 a malformed baseUrl (other bad options throw TypeError or RangeError)
//    ├── APIConnectionError          no HTTP answer (refused, reset, timed out, abandoned by close())
//    └── APIStatusError              the sidecar answered 4xx or 5xx (.status, .code, .details, .requestId)
//         ├── ValidationError        400 (and 422)
//         ├── AuthenticationError    401
//         ├── QuotaExceededError     402
//         ├── PermissionDeniedError  403
//         ├── NotFoundError          404
//         ├── ConflictError          409
//         ├── PayloadTooLargeError   413
//         ├── RateLimitError         429 (.retryAfter)
//         └── ServerError            5xx
//
// A body that cannot be encoded as JSON (a BigInt, a cycle) is a TypeError, thrown before anything is sent.

export class AgentAuditError extends Error {
  constructor(message) {
    super(message);
    this.name = new.target.name;
  }
}

/** A client option is malformed. */
export class ConfigError extends AgentAuditError {}

/** The request got no HTTP answer (refused, reset, timed out). */
export class APIConnectionError extends AgentAuditError {
  constructor(message, { cause, timeout = false } = {}) {
    super(message);
    this.cause = cause;
    this.timeout = timeout;
  }
}

/** The sidecar answered with a 4xx or 5xx status. */
export class APIStatusError extends AgentAuditError {
  constructor(status, body, headers) {
    const message = (body && typeof body === 'object' && body.error) || `HTTP ${status}`;
    super(`${status} ${(body && body.code) || 'error'}: ${message}`);
    this.status = status;
    this.code = body && typeof body === 'object' ? body.code ?? null : null;
    this.requestId = (body && body.requestId) || headers?.get?.('x-request-id') || null;
    this.details = (body && Array.isArray(body.details) && body.details) || [];
    this.body = body;
    this.retryAfter = retryAfterSeconds(headers);
  }
}

export class ValidationError extends APIStatusError {}
export class AuthenticationError extends APIStatusError {}
export class QuotaExceededError extends APIStatusError {}
export class PermissionDeniedError extends APIStatusError {}
export class NotFoundError extends APIStatusError {}
export class ConflictError extends APIStatusError {}
export class PayloadTooLargeError extends APIStatusError {}
export class RateLimitError extends APIStatusError {}
export class ServerError extends APIStatusError {}

const BY_STATUS = {
  400: ValidationError, 401: AuthenticationError, 402: QuotaExceededError, 403: PermissionDeniedError,
  404: NotFoundError, 409: ConflictError, 413: PayloadTooLargeError, 422: ValidationError, 429: RateLimitError,
};

export function statusError(status, body, headers) {
  const Cls = BY_STATUS[status] || (status >= 500 ? ServerError : APIStatusError);
  return new Cls(status, body, headers);
}

/** Retry-After in seconds (a number or an HTTP date), or null. */
export function retryAfterSeconds(headers) {
  const raw = headers?.get?.('retry-after');
  if (!raw) return null;
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const when = Date.parse(raw);
  return Number.isNaN(when) ? null : Math.max(0, (when - Date.now()) / 1000);
}
