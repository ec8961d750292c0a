"""The reference service: a small, real web app with switchable faults.

It is what the demo gates run against and what the project's tests prove each gate on: HTML
pages with a JS form, a token-protected JSON API on a real database (SQLite or PostgreSQL),
`/api/health`, `/api/version`, Prometheus `/metrics`, a rate limit and security headers.
See docs/reference-service.md.
"""
