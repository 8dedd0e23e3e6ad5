"""The sweep report: its document model, the deterministic skeleton, the writers' prose and its rendering."""
