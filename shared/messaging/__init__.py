"""Kafka plumbing: topic catalogue, headers, broker factory, consumers, outbox relay."""
