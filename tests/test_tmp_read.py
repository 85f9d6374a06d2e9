from dataclasses import replace
from watcher import app as app_module
from watcher.matching.matcher import EmbeddingMatcher
from watcher.pipeline import run_source
from watcher.sources.base import load_kinds
from .clock import Clock
from .conftest import REPO, WATCHER_TOML
from .loopback import conditional_feed
from .test_alerts_e2e import body, subject
DATA = REPO / "tests" / "data"

def test_read(tmp_path, ca, server, smtp, trained_matcher):
    d = tmp_path / "config"; d.mkdir()
    (d / "watcher.toml").write_text(WATCHER_TOML.format(db=tmp_path / "w.db", ca=ca[1]) + '\n[[target]]\nname = "m"\nurl_env = "MAIL_URL"\ntags = ["a"]\nformat = "email"\n\n[[route]]\ncase_types = ["*"]\ntags = ["a"]\n')
    srcs = [("dol", "dol_oflc", "dol_oflc_foreign_labor_2025.html"), ("dos", "dos_news", "dos_visas_news_index.html"),
            ("sevp", "sevp", "sevp_study_in_the_states_blog.html"), ("pm", "eoir_policy", "eoir_policy_manual_part_vii.html")]
    (d / "sources.toml").write_text("".join(f'[[source]]\nid = "{i}"\nkind = "{k}"\nurl = "{server.url("/"+i)}"\nschedule = "1h"\n\n' for i, k, _ in srcs))
    (d / "case_types.toml").write_text((REPO / "config" / "case_types.toml").read_text())
    clock = Clock()
    app = app_module.build_app(app_module.load_config(d), kinds=load_kinds(), now=clock, environ={"MAIL_URL": smtp.url})
    app = replace(app, context=replace(app.context, matcher=EmbeddingMatcher(trained_matcher, lambda: [], app.config.case_types)))
    for i, k, f in srcs:
        server.routes["/" + i] = conditional_feed(b"<html><body><p>nothing</p></body></html>", '"0"')
    # baseline: empty pages would be broken; instead first fetch real pages but count as first-run
    for i, k, f in srcs:
        server.routes["/" + i] = conditional_feed((DATA / f).read_bytes(), '"1"')
    clock.advance(hours=2)
    for each in app.sources:
        r = run_source(app.context, each, force=True); print(r.source_id, r.outcome, r.error_message)
    app.dispatcher.run()
    for m in smtp.messages:
        print("=" * 80); print(subject(m)); print(body(m)[:1500])
    for c in app.store.changes.listing(None, 100):
        print(c.source_id, "|", c.title[:70], "|", c.case_types)
    app.close()
