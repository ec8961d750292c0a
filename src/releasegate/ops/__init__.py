"""Acting around a gate run: watching a deploy, acting on a verdict, monitors and rollouts."""
