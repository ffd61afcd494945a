"""Plugins found through entry points: one registry class for transports and OAuth providers alike."""
from __future__ import annotations

from importlib.metadata import entry_points
from typing import Generic, TypeVar

T = TypeVar("T")


class EntryPointRegistry(Generic[T]):
    """Classes registered under an entry-point group, by name, loaded once per process.

    ``base`` is the class every plugin must subclass; ``missing`` is the exception
    raised (with one clear sentence) for a name no installed plugin has.
    """

    def __init__(self, group: str, base: type[T], missing: type[Exception], what: str):
        self.group, self.base, self.missing, self.what = group, base, missing, what
        self._loaded: dict[str, type[T]] | None = None

    def all(self) -> dict[str, type[T]]:
        if self._loaded is None:
            found: dict[str, type[T]] = {}
            for ep in entry_points(group=self.group):
                cls = ep.load()
                if not (isinstance(cls, type) and issubclass(cls, self.base)):
                    raise TypeError(f"entry point {ep.name} = {ep.value} is not a {self.base.__name__} subclass")
                found[ep.name] = cls
            self._loaded = found
        return self._loaded

    def reset(self) -> None:
        """Forget loaded plugins (tests install plugins at run time)."""
        self._loaded = None

    def get(self, name: str) -> type[T]:
        plugins = self.all()
        try:
            return plugins[name]
        except KeyError:
            known = ", ".join(sorted(plugins)) or "none"
            raise self.missing(f"no {self.what} {name!r} is installed (installed: {known})") from None
