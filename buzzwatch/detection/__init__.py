"""The detector: baselines, evidence, the per-interval step, episodes (lifecycle), spam."""
