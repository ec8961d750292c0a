"""The browser gate's core: find a Chromium, visit pages, judge what the browser saw, keep
masked artefacts. Plain Python over Playwright's sync API; no pytest import."""
