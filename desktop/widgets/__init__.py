"""Reusable drawing: charts, the JSON viewer, highlighted text, pills."""
