"""The notifier's background loops: each claims or watches for work on a timer and hands it to
a use case of ``service/`` (or, for the live feed and the directory, keeps a resource fresh).
Started and stopped by the composition root (``bootstrap.py``), never crashing on a failed round.
"""
