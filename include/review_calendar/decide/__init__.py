"""Decisions: pure verdicts of the programmes' rules, and their application to the review database."""
