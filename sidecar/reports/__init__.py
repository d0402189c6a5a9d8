"""Pure report renderers: a :class:`~sidecar.reports.document.Document` in, a PDF, CSV or JSON file out.

No I/O beyond the output stream, no database, no HTTP: services gather the data (streamed, so a
report over a million events never holds them in memory) and hand it over as plain values and
iterators.
"""
