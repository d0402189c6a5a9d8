// Compiled by `tsc` (npm test) only: the declared types accept the README usage and reject misuse.
import { AgentAuditClient, BufferedClient, type GuardrailResult, type StoredEvent } from 'agentaudit-client';

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
void usage;
