"""A transport plugin from a separate distribution is discovered through its entry point and collects mail."""
from __future__ import annotations

import importlib
import subprocess
import sys
import textwrap

import pytest
from sqlalchemy import select

from intake.extensions import db
from intake.models import Ticket
from intake.transport import available_transports, reset_registry
from tests.conftest import make_message

PLUGIN = '''
"""A third-party transport: collects .eml files dropped into a directory (the account's host)."""
from pathlib import Path

from intake.transport import MessageRef, Transport


class DirDrop(Transport):
    name = "dirdrop"
    default_port = 1

    def open(self):
        self.root = Path(self.settings.host)
        self.removed = []

    def authenticate(self, credentials):
        pass

    def list_messages(self):
        return [MessageRef(key="file:" + p.name, size=p.stat().st_size, handle=p)
                for p in sorted(self.root.glob("*.eml"))]

    def fetch(self, refs):
        for ref in refs:
            yield ref, ref.handle.read_bytes()

    def remove(self, refs):
        self.removed.extend(refs)

    def finish(self):
        for ref in self.removed:
            ref.handle.unlink()

    def close(self):
        pass
'''

PYPROJECT = '''
[build-system]
requires = ["setuptools"]
build-backend = "setuptools.build_meta"

[project]
name = "intake-dirdrop"
version = "1.0"

[project.entry-points."intake.transports"]
dirdrop = "intake_dirdrop:DirDrop"
'''


@pytest.fixture
def installed_plugin(tmp_path, monkeypatch):
    source = tmp_path / "src"
    source.mkdir()
    (source / "intake_dirdrop.py").write_text(PLUGIN)
    (source / "pyproject.toml").write_text(textwrap.dedent(PYPROJECT))
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--target", str(target), str(source)], check=True, capture_output=True)
    monkeypatch.syspath_prepend(str(target))
    importlib.invalidate_caches()
    reset_registry()
    yield target
    sys.modules.pop("intake_dirdrop", None)
    reset_registry()


def test_plugin_from_another_distribution_is_discovered_and_collects(installed_plugin, cli, tmp_path):
    assert "dirdrop" in available_transports()
    assert (installed_plugin / "intake_dirdrop-1.0.dist-info").is_dir(), "installed as its own distribution"
    drop = tmp_path / "drop"
    drop.mkdir()
    for i in range(3):
        (drop / f"{i}.eml").write_bytes(make_message(f"dropped {i}"))
    added = cli("accounts", "add", "--name", "drop", "--protocol", "dirdrop", "--host", str(drop),
                "--username", "n/a", "--password-env", "PW", env={"PW": "unused"})
    assert added.exit_code == 0, added.output
    assert cli("fetch", "drop").exit_code == 0
    assert sorted(db.session.scalars(select(Ticket.title))) == ["dropped 0", "dropped 1", "dropped 2"]
    assert list(drop.glob("*.eml")) == [], "removed after the commit"


def test_unknown_protocol_is_refused_with_the_installed_names(cli):
    result = cli("accounts", "add", "--name", "x", "--protocol", "smoke-signals", "--host", "h",
                 "--username", "u", "--password-env", "PW", env={"PW": "pw"})
    assert result.exit_code == 1
    assert "protocol 'smoke-signals' is not installed; choose one of: imap, imaps, imaptls, pop3, pop3s, pop3tls" \
        in result.output
