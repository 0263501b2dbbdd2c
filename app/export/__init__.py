"""memtop for fleets: the Prometheus exporter (memtop serve, --openmetrics) and its Grafana dashboard.

It reads what the dashboard draws from (snapshots, and the model's diagnoses
and gap verdicts) and writes it out with prometheus_client; no textual.
"""
