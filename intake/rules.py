"""Filter rules: compile (validate) and match them against a parsed message. Pure.

Patterns are RE2 (google-re2): matching takes linear time whatever the pattern or
the mail, so a rule can never hang a worker; features RE2 lacks (backreferences,
lookaround) are refused when the rule is saved. Searched text is capped at
MAX_SEARCHED_CHARS per field.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import re2

from .errors import ValidationError
from .parsing import ParsedMessage

MAX_SEARCHED_CHARS = 256 * 1024
FIELDS = ("subject", "from", "to", "cc", "body")
ACTIONS = ("queue", "priority", "state", "title", "owner", "customer", "tags", "ignore")
_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # a bad pattern is reported to the administrator, not to stderr


@dataclass(frozen=True)
class Condition:
    field: str
    pattern: str
    negate: bool = False
    compiled: object = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class CompiledRule:
    name: str
    conditions: tuple[Condition, ...]
    actions: dict
    match_all: bool = True
    stop: bool = False


def compile_rule(name: str, conditions: list[dict], actions: dict, match_all: bool = True,
                 stop: bool = False) -> CompiledRule:
    """Validate and compile; raises ValidationError saying what to fix."""
    if not conditions:
        raise ValidationError(f"rule {name!r} needs at least one condition")
    compiled = []
    for condition in conditions:
        field_name = str(condition.get("field", "")).strip()
        if field_name.lower() not in FIELDS and not field_name.lower().startswith("header:"):
            raise ValidationError(f"rule {name!r}: unknown field {field_name!r}; use one of "
                                  f"{', '.join(FIELDS)} or header:NAME")
        pattern = str(condition.get("pattern", ""))
        try:
            regex = re2.compile(pattern, _OPTIONS)
        except re2.error as exc:
            reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
            raise ValidationError(f"rule {name!r}: pattern {pattern!r} is not a valid RE2 expression "
                                  f"({reason}); backreferences and lookaround are not supported") from None
        compiled.append(Condition(field_name, pattern, bool(condition.get("negate")), regex))
    unknown = set(actions) - set(ACTIONS)
    if unknown:
        raise ValidationError(f"rule {name!r}: unknown actions {', '.join(sorted(unknown))}; "
                              f"actions are {', '.join(ACTIONS)}")
    if not actions and not stop:
        raise ValidationError(f"rule {name!r} does nothing: give an action or stop")
    return CompiledRule(name, tuple(compiled), dict(actions), match_all, stop)


def field_values(message: ParsedMessage, field_name: str) -> list[str]:
    key = field_name.lower()
    if key == "subject":
        return [message.subject]
    if key == "from":
        return [f"{message.from_.name} <{message.from_.email}>"] if message.from_ else []
    if key in ("to", "cc"):
        return [f"{a.name} <{a.email}>" for a in getattr(message, key)]
    if key == "body":
        return [message.text]
    return message.header(field_name.split(":", 1)[1].strip())


def matches(rule: CompiledRule, message: ParsedMessage) -> bool:
    results = (_condition_holds(condition, message) for condition in rule.conditions)
    return all(results) if rule.match_all else any(results)


def _condition_holds(condition: Condition, message: ParsedMessage) -> bool:
    found = any(condition.compiled.search(value[:MAX_SEARCHED_CHARS])
                for value in field_values(message, condition.field))
    return found != condition.negate


def parse_condition(text: str) -> dict:
    """Console syntax: ``FIELD~PATTERN`` (matches) or ``FIELD!~PATTERN`` (does not match)."""
    index = text.find("~")
    if index <= 0:
        raise ValidationError(f"condition {text!r} must look like FIELD~PATTERN or FIELD!~PATTERN")
    negate = text[index - 1] == "!"
    field_name = text[: index - 1] if negate else text[:index]
    return {"field": field_name.strip(), "pattern": text[index + 1:], "negate": negate}
