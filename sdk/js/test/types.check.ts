// Compiled by `tsc` (npm test) only: the declared types accept the README usage and reject misuse. The wire shapes
// themselves are checked against a real sidecar in client.test.js.
import {
  AgentAuditClient, AgentAuditError, BufferedClient, ConfigError, PayloadTooLargeError, QuotaExceededError,
  type Agent, type Alert, type BatchResult, type GuardrailResult, type Pack, type Policy, type StoredEvent,
  type Trace, type TraceSummary,
} from 'agentaudit-client';

async function usage(): Promise<void> {
  const client = new AgentAuditClient({ apiKey: 'aa_live_x', baseUrl: 'http://127.0.0.1:8731/api/v1' });
  const stored: StoredEvent = await client.log({ action: 'llm_call', prompt: 'hi', metadata: { tokens: 3 } });
  const queued: undefined = client.log({ action: 'tool_use' }, { wait: false });
  const verdict: GuardrailResult = await client.guardrail({ action: 'prompt_submitted', prompt: 'x' });
  const ok: boolean = verdict.allowed && stored.enforcementAction !== 'block';
  const n: number = await client.trace('run', async (t) => t.span('tool_use', async (s) => { s.set({ response: 'r' }); return 1; }));
  const wrapped = client.traced('step', (a: number, b: string) => `${a}${b}`);
  const text: string = wrapped(1, 'x');
  const buffered = new BufferedClient({ maxBuffer: 100 });
  buffered.log({ action: 'x' });
  // @ts-expect-error action is required
  await client.log({ prompt: 'no action' });
  void [queued, ok, n, text, await buffered.close()];
}

async function returnedShapes(client: AgentAuditClient, buffered: BufferedClient): Promise<void> {
  // background calls return undefined, waited ones the stored events
  const one: undefined = buffered.log({ action: 'x' });
  const many: undefined = buffered.logBatch([{ action: 'x' }]);
  const forced: StoredEvent = await buffered.log({ action: 'x' }, { wait: true });
  const batch: BatchResult = await client.logBatch([{ action: 'x' }]);
  const queuedBatch: undefined = client.logBatch([{ action: 'x' }], { wait: false });
  // @ts-expect-error a BufferedClient's log() resolves to nothing
  void (await buffered.log({ action: 'x' })).id;

  // absent fields are null on the wire
  const stored = await client.log({ action: 'x' });
  const prompt: string | null = stored.prompt;
  const fields: Array<string | null> = [stored.response, stored.agentId, stored.traceId, stored.parentSpanId];
  const metadata: Record<string, unknown> | null = stored.metadata;
  const org: string = stored.organizationId;
  // @ts-expect-error prompt may be null
  void stored.prompt.length;
  // @ts-expect-error no such field
  void stored.promt;

  const summary: TraceSummary = (await client.listTraces()).data[0];
  const trace: Trace = await client.getTrace(summary.traceId);
  const tokens: number | null = trace.summary.totalTokens;
  const agent: Agent = await client.createAgent({ name: 'a' });
  const description: string | null = agent.description;
  const alert: Alert = (await client.listAlerts())[0];
  const resolvedAt: string | null = (await client.resolveAlert(alert.id)).resolvedAt;
  const policy: Policy = await client.clonePack({ packId: 'hipaa', name: 'HIPAA' });
  const packs: Pack[] = await client.listPacks();
  const cursor: string | undefined = (await client.listLogs()).pagination.nextCursor;

  try { await client.logBatch([]); } catch (err) {
    if (err instanceof AgentAuditError) { const kept: StoredEvent[] | undefined = err.stored; void kept; }
    if (err instanceof PayloadTooLargeError || err instanceof QuotaExceededError) { const status: number = err.status; void status; }
    if (err instanceof ConfigError) { const message: string = err.message; void message; }
  }
  void [one, many, forced, batch, queuedBatch, prompt, fields, metadata, org, trace, tokens, description, resolvedAt,
    policy, packs, cursor];
}
void usage;
void returnedShapes;
