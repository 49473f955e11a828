"""Command groups whose ``--help`` lists each command's description in full.

click cuts a command's one-line description to fit the terminal and ends it
with "..."; these groups wrap it onto further lines instead, so nothing a
command says about itself is lost.
"""
from __future__ import annotations

import click


class FullHelpGroup(click.Group):
    """A :class:`click.Group` whose command list shows every description's first sentence, wrapped, never cut."""

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is None or command.hidden:
                continue
            rows.append((name, command.get_short_help_str(limit=10_000)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)
