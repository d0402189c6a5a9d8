"""Tests of the Python SDK (sdk/python, import name agentaudit) against a real sidecar."""
