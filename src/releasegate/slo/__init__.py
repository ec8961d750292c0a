"""Service level objectives: statistics, the one judge, baselines and the SLI sources."""
