"""Curated prompt-injection patterns for ``prompt_injection`` rules.

Phrases that try to override the model's instructions, switch it into an unrestricted
persona, make it reveal its system prompt, or smuggle in chat-template control markers.
All are RE2 regexes, matched case-insensitively; a match reports ``detector="prompt_injection"``.
"""

from __future__ import annotations

_PRIOR = r"(?:all\s+|any\s+|the\s+|your\s+|these\s+|those\s+)*(?:previous|prior|above|earlier|preceding|foregoing|original|initial|system|old)"
_INSTR = r"(?:instructions?|prompts?|rules|directions|directives|guidelines|context|messages?|constraints)"

PATTERNS: tuple[str, ...] = (
    # Instruction override.
    rf"\b(?:ignore|disregard|forget|skip|override|bypass|drop|discard|neglect)\s+{_PRIOR}\s+{_INSTR}",
    rf"\b(?:ignore|disregard|forget)\s+(?:everything|all|anything)\s+(?:you\s+were\s+told|(?:said\s+)?(?:above|before|earlier|so far))",
    rf"\bdo\s+not\s+(?:follow|obey)\s+{_PRIOR}\s+{_INSTR}",
    r"\b(?:new|updated|revised|real)\s+(?:system\s+)?instructions\s*:",
    r"\bfrom\s+now\s+on,?\s+you\s+(?:will|must|are\s+to|shall)\s+(?:ignore|disregard|answer\s+without|respond\s+without|not\s+follow)",
    # Persona switches and jailbreaks.
    r"\byou\s+are\s+now\s+(?:dan|stan|dude|aim|an?\s+unrestricted|an?\s+unfiltered|jailbroken|in\s+developer\s+mode|free\s+of|no\s+longer\s+bound)",
    r"\b(?:do\s+anything\s+now|dan\s+mode|developer\s+mode\s+(?:enabled|on|activated)|jailbreak\s+mode|jailbroken)\b",
    r"\b(?:pretend|imagine|act\s+as\s+if)\s+(?:that\s+)?you\s+(?:are|have)\s+(?:an?\s+)?(?:ai\s+)?(?:with(?:out)?\s+)?(?:no|without)\s+(?:restrictions|limitations|filters|rules|guidelines|content\s+policy)",
    r"\b(?:act|behave|respond)\s+as\s+(?:an?\s+)?(?:ai|assistant|model|chatbot)?\s*(?:with\s+no|without(?:\s+any)?)\s+(?:restrictions|limitations|filters|rules|guidelines|ethical\s+guidelines|content\s+policy)",
    r"\b(?:disable|turn\s+off|remove|bypass|override|ignore)\s+(?:your|the|all|any)\s+(?:safety|content|ethical|moderation)?\s*(?:filters?|guardrails|restrictions|safeguards|safety\s+(?:rules|guidelines|policies))",
    # System-prompt exfiltration.
    r"\b(?:reveal|print|show|output|repeat|display|tell\s+me|give\s+me|leak|dump|list|recite|copy)\s+(?:me\s+)?(?:your|the|its)\s+(?:full\s+|entire\s+|exact\s+|complete\s+|original\s+|hidden\s+|secret\s+|initial\s+)*(?:system\s+(?:prompt|message|instructions)|initial\s+instructions|hidden\s+instructions|developer\s+(?:prompt|message|instructions)|pre-?prompt|instructions\s+you\s+were\s+given)",
    r"\bwhat\s+(?:is|are|was|were)\s+your\s+(?:system\s+prompt|initial\s+instructions|original\s+instructions|hidden\s+instructions|instructions\s+from\s+(?:the\s+)?developer)",
    r"\brepeat\s+(?:the\s+|all\s+(?:of\s+)?(?:the\s+)?)?(?:words|text|everything|content)\s+(?:above|before\s+this)",
    r"\b(?:begin|start)\s+your\s+(?:reply|response|answer)\s+with\s+[\"'“]?(?:sure|certainly|of\s+course)[,!]?\s+here",
    # Chat-template and role markers smuggled into content.
    r"<\|im_start\|>\s*system|<\|system\|>|<\|endoftext\|>|\[/?INST\]|<<SYS>>|</?system>",
    r"(?m)^\s*(?:###\s*)?(?:system|assistant)\s*(?:prompt|message)?\s*:\s*(?:you|ignore|disregard|override)",
)
