// Errors thrown by waited calls. Background delivery (log(..., { wait: false })) never throws.

export class AgentAuditError extends Error {
  constructor(message) {
    super(message);
    this.name = new.target.name;
  }
}

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
export class PermissionDeniedError extends APIStatusError {}
export class NotFoundError extends APIStatusError {}
export class ConflictError extends APIStatusError {}
export class RateLimitError extends APIStatusError {}
export class ServerError extends APIStatusError {}

const BY_STATUS = {
  400: ValidationError, 401: AuthenticationError, 403: PermissionDeniedError, 404: NotFoundError,
  409: ConflictError, 422: ValidationError, 429: RateLimitError,
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
