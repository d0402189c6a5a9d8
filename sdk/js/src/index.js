// agentaudit-client: the JavaScript SDK of AgentAudit (ESM, no runtime dependencies, Node 18+ or a browser).

export { AgentAuditClient, BufferedClient, DEFAULT_BASE_URL } from './client.js';
export { Span, currentSpan } from './tracing.js';
export {
  AgentAuditError, ConfigError, APIConnectionError, APIStatusError, ValidationError, AuthenticationError,
  QuotaExceededError, PermissionDeniedError, NotFoundError, ConflictError, PayloadTooLargeError, RateLimitError,
  ServerError,
} from './errors.js';
