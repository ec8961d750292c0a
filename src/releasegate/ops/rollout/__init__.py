"""Progressive rollouts: a plan of steps, each gated, with state on disk."""
