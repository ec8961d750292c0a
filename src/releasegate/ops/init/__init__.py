"""`releasegate init`: an environment file for a running application, written by looking at it."""
