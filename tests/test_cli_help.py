"""Every sub-command and option of `planning` explains itself, with its default."""

import argparse

from planning.apps.cli import build_parser


def _walk(parser: argparse.ArgumentParser, path: str = "planning"):
    """Yield (command path, parser, subparsers action) for the parser and every sub-parser."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help for a in action._choices_actions}
            for name, sub in action.choices.items():
                assert helps.get(name), f"{path} {name}: the sub-command has no help text"
                yield from _walk(sub, f"{path} {name}")


def _shown_default(action: argparse.Action) -> str | None:
    """The default as the help should show it, or None when there is no default to show."""
    default = action.default
    if default is None or default is False or default == argparse.SUPPRESS:
        return None
    if isinstance(action, (argparse._HelpAction, argparse._StoreTrueAction)):
        return None
    return str(default)


def test_every_option_has_help_with_its_default():
    problems = []
    for path, parser in _walk(build_parser()):
        for action in parser._actions:
            if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
                continue
            name = "/".join(action.option_strings) or action.dest
            if not action.help:
                problems.append(f"{path} {name}: no help text")
                continue
            default = _shown_default(action)
            if default is not None and "default" not in action.help.lower():
                problems.append(f"{path} {name}: help does not give the default ({default})")
    assert problems == []


def test_defaults_shown_are_the_real_ones():
    parser = build_parser()
    for path, sub in _walk(parser):
        for action in sub._actions:
            default = _shown_default(action)
            if default is None or not action.help:
                continue
            text = action.help % {"default": action.default} if "%(default)" in action.help else action.help
            assert default in text or (
                isinstance(action.default, float) and f"{action.default:g}" in text
            ), f"{path} {'/'.join(action.option_strings)}: help says {text!r}, default {default!r}"
