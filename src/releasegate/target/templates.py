"""The HTML of the pages, server-rendered. Every value shown is escaped.

Scripts only come from /static (the Content-Security-Policy forbids inline code), and the
elements a browser test drives carry stable `id`s and `data-testid`s.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from html import escape

from releasegate.target.tickets_store import STATUSES, TITLE_MAX, Ticket


def layout(title: str, body: str, *, signed_in: bool, js_error: bool, beacon: bool = True) -> str:
    """A whole page: head, navigation, `body` (already HTML) in <main>. With `beacon`, the
    page reports its view and its errors to the service's collector (static/telemetry.js)."""
    scripts = '<script src="/static/telemetry.js" defer></script>\n' if beacon else ""
    scripts += '<script src="/static/app.js" defer></script>'
    if js_error:
        scripts += '\n<script src="/static/js-error.js" defer></script>'
    account = (
        '<form method="post" action="/logout" class="inline">'
        '<button type="submit" id="logout" data-testid="logout">Sign out</button></form>'
        if signed_in
        else '<a href="/login" id="nav-login" data-testid="nav-login">Sign in</a>'
    )
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} · releasegate reference service</title>
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/static/style.css">
{scripts}
</head>
<body>
<nav data-testid="nav">
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
    """The landing page: what this is, and links."""
    return """<h1>Service desk</h1>
<p>The releasegate reference service: a small web app that deployment gates are tried on.</p>
<ul data-testid="home-links">
  <li><a href="/dashboard">Dashboard</a>: tickets by status</li>
  <li><a href="/tickets">Tickets</a>: list, create, edit and delete</li>
  <li><a href="/login">Sign in</a> to change tickets from the browser</li>
  <li><a href="/api/health">/api/health</a>, <a href="/api/version">/api/version</a>,
      <a href="/metrics">/metrics</a></li>
</ul>"""


def login(error: str | None = None, username: str = "") -> str:
    """The sign-in form, with the last error if any."""
    message = (
        f'<p class="error" id="login-error" data-testid="login-error" role="alert">'
        f"{escape(error)}</p>"
        if error
        else ""
    )
    return f"""<h1>Sign in</h1>
{message}
<form method="post" action="/login" id="login-form" data-testid="login-form">
  <label for="username">User</label>
  <input name="username" id="username" data-testid="username" autocomplete="username"
         value="{escape(username)}" required>
  <label for="password">Password</label>
  <input name="password" id="password" type="password" data-testid="password"
         autocomplete="current-password" required>
  <button type="submit" id="login-submit" data-testid="login-submit">Sign in</button>
</form>"""


def dashboard(counts: Mapping[str, int]) -> str:
    """Ticket counts by status, and the total."""
    tiles = "\n".join(
        f'<div class="tile" data-testid="count-{escape(status)}">'
        f"<span>{escape(status.replace('_', ' '))}</span><strong>{count}</strong></div>"
        for status, count in counts.items()
    )
    total = sum(counts.values())
    return f"""<h1>Dashboard</h1>
<section class="tiles" data-testid="ticket-counts">
{tiles}
<div class="tile" data-testid="count-total"><span>total</span><strong>{total}</strong></div>
</section>
<p><a href="/tickets">All tickets</a></p>"""


def unavailable(heading: str, reason: str) -> str:
    """A page body saying the data could not be fetched."""
    return f"""<h1>{escape(heading)}</h1>
<p class="error" data-testid="unavailable" role="alert">Unavailable: {escape(reason)}</p>"""


def _status_options(selected: str) -> str:
    return "".join(
        f'<option value="{s}"{" selected" if s == selected else ""}>{s.replace("_", " ")}</option>'
        for s in STATUSES
    )


def ticket_row(ticket: Ticket) -> str:
    """One row of the ticket list. app.js builds the same markup for rows it adds."""
    tid = int(ticket["id"])
    return (
        f'<tr id="ticket-{tid}" data-testid="ticket-row" data-ticket-id="{tid}">'
        f'<td data-testid="ticket-id">{tid}</td>'
        f'<td data-testid="ticket-title">{escape(ticket["title"])}</td>'
        f'<td data-testid="ticket-status">{escape(ticket["status"])}</td>'
        '<td class="actions">'
        '<button type="button" data-testid="ticket-edit" data-action="edit">Edit</button> '
        '<button type="button" data-testid="ticket-delete" data-action="delete">Delete</button>'
        "</td></tr>"
    )


def tickets(rows: Iterable[Ticket], *, signed_in: bool) -> str:
    """The ticket list, with the form app.js uses to create tickets without reloading."""
    hint = (
        ""
        if signed_in
        else '<p class="hint" data-testid="sign-in-hint"><a href="/login">Sign in</a>'
        " to create or change tickets.</p>"
    )
    body = "\n".join(ticket_row(t) for t in rows)
    return f"""<h1>Tickets</h1>
{hint}
<form id="ticket-form" data-testid="ticket-form">
  <label for="ticket-title">Title</label>
  <input name="title" id="ticket-title" data-testid="ticket-title-input" required
         maxlength="{TITLE_MAX}">
  <label for="ticket-status">Status</label>
  <select name="status" id="ticket-status" data-testid="ticket-status-input">
    {_status_options("open")}
  </select>
  <button type="submit" id="ticket-create" data-testid="ticket-create">Create ticket</button>
  <span id="form-message" data-testid="form-message" role="status"></span>
</form>
<table id="ticket-list" data-testid="ticket-list">
<thead><tr><th>#</th><th>Title</th><th>Status</th><th></th></tr></thead>
<tbody id="ticket-rows" data-testid="ticket-rows">
{body}
</tbody>
</table>"""
