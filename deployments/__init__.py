"""Scheduled deployments of the flows (prefect.yaml for work pools, serve.py without one)."""
