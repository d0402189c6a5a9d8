"""The only package that knows HTTP: transport, typed client, wire schemas, errors. No widgets."""
