"""Kafka and Faust wiring for Buzzwatch: settings, topics, app, metrics, CLI."""
