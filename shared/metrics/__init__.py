"""Operators' metrics: what every service exports at ``GET /metrics`` (Prometheus text format).

Names, labels and the rules built on them are listed in docs/operations.md. No label ever holds
patient data: labels are hospital ids, channels, topics, partitions, consumer groups, outcomes.
"""
