"""The load gate's core: Locust run as a subprocess tree (never imported into pytest: it patches
the standard library with gevent on import), its statistics read and judged. Only `guard.py`
imports locust, and only inside the Locust processes."""
