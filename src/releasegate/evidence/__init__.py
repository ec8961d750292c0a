"""The evidence of a run and the decision drawn from it."""
