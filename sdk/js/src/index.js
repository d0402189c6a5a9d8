// agentaudit-client: the JavaScript SDK of AgentAudit (ESM, no runtime dependencies, Node 18+ or a browser).

export { AgentAuditClient, BufferedClient, DEFAULT_BASE_URL } from './client.js';
export { Span, currentSpan } from './tracing.js';
export {
  AgentAuditError, APIConnectionError, APIStatusError, ValidationError, AuthenticationError, PermissionDeniedError,
  NotFoundError, ConflictError, RateLimitError, ServerError,
} from './errors.js';
