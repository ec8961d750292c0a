"""`releasegate target serve|restart`: the bundled reference service."""

from __future__ import annotations

import click


@click.group("target")
def target_group() -> None:
    """The bundled reference service (a real web app with switchable faults)."""


def _add_commands() -> None:
    # the service's own commands live with it (releasegate.target.command)
    from releasegate.target.command import restart_command, serve_command

    target_group.add_command(serve_command, "serve")
    target_group.add_command(restart_command, "restart")


_add_commands()
