"""The recorder: capture live traffic to tapes, redacted before anything touches disk.

``session`` owns a tape being recorded; ``capture`` the direct captures (REST polling today).
"""
