"""The service as the end-to-end tests run it: sources on the loopback server, e-mail to the attorneys for every
case type through a real local SMTP server, the learned matcher trained once per session, and a clock the test
moves."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

from watcher import app as app_module
from watcher.matching.matcher import EmbeddingMatcher
from watcher.pipeline import run_source
from watcher.sources.base import load_kinds

from .clock import Clock
from .conftest import REPO, WATCHER_TOML

ATTORNEYS_MAIL = """
[[target]]
name = "attorneys-mail"
url_env = "MAIL_URL"
tags = ["attorneys"]
format = "email"

[[route]]
case_types = ["*"]
tags = ["attorneys"]
"""


@dataclass
class MailService:
    app: app_module.App
    clock: Clock
    step: timedelta

    def cycle(self) -> None:
        """Time moves on by `step`; every source runs once, and what it queued is sent."""
        self.clock.advance(seconds=self.step.total_seconds())
        for source in self.app.sources:
            run = run_source(self.app.context, source, force=True)
            assert run.outcome != "error", (run.source_id, run.error_class, run.error_message)
        self.app.dispatcher.run()


def mail_service(tmp_path: Path, ca, smtp, trained_matcher, sources_toml: str,
                 step: timedelta = timedelta(hours=2)) -> MailService:
    directory = tmp_path / "config"
    directory.mkdir()
    (directory / "watcher.toml").write_text(WATCHER_TOML.format(db=tmp_path / "watcher.db", ca=ca[1]) + ATTORNEYS_MAIL)
    (directory / "sources.toml").write_text(sources_toml)
    (directory / "case_types.toml").write_text((REPO / "config" / "case_types.toml").read_text())
    clock = Clock()
    app = app_module.build_app(app_module.load_config(directory), kinds=load_kinds(), now=clock,
                               environ={"MAIL_URL": smtp.url})
    matcher = EmbeddingMatcher(trained_matcher, lambda: [], app.config.case_types)
    return MailService(replace(app, context=replace(app.context, matcher=matcher)), clock, step)
