"""Placeholder: filled in by the module's owner."""

import click

COMMANDS: list[click.Command] = []
