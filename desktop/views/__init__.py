"""Widgets that lay out screens, wire signals and format values. No business logic."""
