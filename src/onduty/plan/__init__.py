"""The incident-response plan as code: schema, loading with file:line errors, conversion."""
