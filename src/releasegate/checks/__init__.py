"""Pure judges of single checks: each takes what was measured and says what is wrong."""
