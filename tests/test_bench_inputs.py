"""`make bench` replays every bundled source from a recording; a kind added to config/sources.toml without one
would only fail there, after minutes of benchmarking."""

from watcher import config

from .conftest import REPO


def test_the_cycle_bench_has_a_recorded_response_for_every_bundled_source():
    from bench.cycle import _body

    for source in config.load(REPO / "config").sources:
        assert _body(source.kind), source.id
