"""Optional framework integrations; each module imports its framework only when imported itself.

- ``agentaudit.integrations.langchain``: ``AgentAuditCallbackHandler`` (needs ``langchain-core``).
- ``agentaudit.integrations.openai_agents``: ``AgentAuditTraceProcessor`` (needs ``openai-agents``).
"""
