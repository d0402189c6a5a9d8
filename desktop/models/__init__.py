"""Qt item models over the sidecar's data: they own the rows and the paging. No widgets."""
