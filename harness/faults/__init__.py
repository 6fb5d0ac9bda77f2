"""Fault scenarios: servers and links failing mid-read, and what the harness reports about it.

``spec`` (the faults file), ``outcome`` (classification, pure), ``read`` (reads that verify every
byte and never outlive their bound), ``inject`` (what is done to servers, disks and links),
``cases`` (one procedure per fault), ``runner`` (a fresh small topology per case, results).
"""
