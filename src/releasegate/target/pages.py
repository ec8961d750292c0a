"""Server-rendered HTML pages. Scripts come from /static only, so the CSP forbids inline code."""

from __future__ import annotations

from html import escape
from typing import Any


def layout(title: str, body: str, *, signed_in: bool, js_error: bool) -> str:
    scripts = '<script src="/static/app.js" defer></script>'
    if js_error:
        scripts += '\n<script src="/static/js-error.js" defer></script>'
    account = (
        '<form method="post" action="/logout" class="inline"><button data-testid="logout">'
        "Sign out</button></form>"
        if signed_in
        else '<a href="/login" data-testid="nav-login">Sign in</a>'
    )
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} · releasegate reference service</title>
<link rel="stylesheet" href="/static/style.css">
{scripts}
</head>
<body>
<nav>
  <a href="/" data-testid="nav-home">Home</a>
  <a href="/dashboard" data-testid="nav-dashboard">Dashboard</a>
  <a href="/tickets" data-testid="nav-tickets">Tickets</a>
  {account}
</nav>
<main>
{body}
</main>
</body>
</html>
"""


def home() -> str:
    return """<h1>Service desk</h1>
<p>The releasegate reference service: a small web app that deployment gates are tried on.</p>
<ul>
  <li><a href="/dashboard">Dashboard</a>: tickets by status</li>
  <li><a href="/tickets">Tickets</a>: list, create, edit and delete</li>
  <li><a href="/api/health">/api/health</a>, <a href="/api/version">/api/version</a>,
      <a href="/metrics">/metrics</a></li>
</ul>"""


def login(error: str | None = None) -> str:
    message = f'<p class="error" data-testid="login-error">{escape(error)}</p>' if error else ""
    return f"""<h1>Sign in</h1>
{message}
<form method="post" action="/login" data-testid="login-form">
  <label>User <input name="username" id="username" data-testid="username"
         autocomplete="username"></label>
  <label>Password <input name="password" id="password" type="password" data-testid="password"
         autocomplete="current-password"></label>
  <button type="submit" data-testid="login-submit">Sign in</button>
</form>"""


def dashboard(counts: dict[str, int]) -> str:
    cells = "\n".join(
        f'<div class="tile" data-testid="count-{escape(s)}"><span>{escape(s.replace("_", " "))}'
        f"</span><strong>{n}</strong></div>"
        for s, n in counts.items()
    )
    return f"""<h1>Dashboard</h1>
<section class="tiles" data-testid="ticket-counts">
{cells}
</section>"""


def _row(ticket: dict[str, Any]) -> str:
    tid = int(ticket["id"])
    return (
        f'<tr data-testid="ticket-row" data-ticket-id="{tid}">'
        f'<td>{tid}</td><td data-testid="ticket-title">{escape(str(ticket["title"]))}</td>'
        f'<td data-testid="ticket-status">{escape(str(ticket["status"]))}</td>'
        f'<td><button data-testid="ticket-edit" data-action="edit">Edit</button> '
        f'<button data-testid="ticket-delete" data-action="delete">Delete</button></td></tr>'
    )


def tickets_page(rows: list[dict[str, Any]], *, signed_in: bool) -> str:
    hint = "" if signed_in else '<p class="hint">Sign in to create or change tickets.</p>'
    body = "\n".join(_row(t) for t in rows)
    return f"""<h1>Tickets</h1>
{hint}
<form id="ticket-form" data-testid="ticket-form">
  <label>Title <input name="title" id="ticket-title" data-testid="ticket-title-input" required
         maxlength="200"></label>
  <button type="submit" data-testid="ticket-create">Create ticket</button>
  <span id="form-message" data-testid="form-message" role="status"></span>
</form>
<table data-testid="ticket-list">
<thead><tr><th>#</th><th>Title</th><th>Status</th><th></th></tr></thead>
<tbody id="ticket-rows">
{body}
</tbody>
</table>"""
