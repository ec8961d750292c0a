"""The stakeholder report site: an index of runs with trends, and one page per run."""
