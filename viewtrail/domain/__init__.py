"""The domain: videos, accounts, snapshots, outcomes, URLs; plain Python, no I/O frameworks."""
