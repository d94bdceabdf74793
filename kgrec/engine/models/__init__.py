"""Recommendation models: the knowledge-graph attention model and the baselines, one per file."""
