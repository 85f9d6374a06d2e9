"""Config errors are table-driven: each bad input must name its file and path."""

from __future__ import annotations

import shutil
from datetime import timedelta

import pytest

from watcher import config
from watcher.errors import ConfigError
from watcher.credentials import resolve_secret

from .conftest import REPO

GOOD_SOURCE = '[[source]]\nid = "a"\nkind = "rss"\nurl = "https://www.uscis.gov/news/rss-feed/22984"\nschedule = "30m"\n'


@pytest.fixture
def config_dir(tmp_path):
    directory = tmp_path / "config"
    shutil.copytree(REPO / "config", directory)
    return directory


def edit(directory, name: str, old: str, new: str) -> None:
    path = directory / name
    text = path.read_text()
    assert old in text, f"test setup: {old!r} not in {name}"
    path.write_text(text.replace(old, new, 1))


def test_bundled_config_loads(config_dir):
    cfg = config.load(config_dir)
    assert [s.id for s in cfg.sources][:2] == ["uscis-alerts", "uscis-news-releases"]
    assert len(cfg.case_types) == 22
    assert cfg.sources[0].schedule.every == timedelta(minutes=5)
    assert cfg.targets == () and cfg.http.deadline == 60


LABELING_CODES = {"I-130", "I-485", "I-765", "I-131", "N-400", "I-751", "K-1", "H-1B", "L-1", "O-1",
                  "PERM-I-140", "EB-5", "F-1-OPT", "DACA", "TPS", "ASYLUM", "HUMANITARIAN-UTV", "REMOVAL",
                  "CONSULAR", "PAROLE", "FEES", "PUBLIC-CHARGE"}


def test_bundled_case_types_are_exactly_the_labeling_codes(config_dir):
    assert {c.code for c in config.load(config_dir).case_types} == LABELING_CODES


CASES = [
    # (file, old text, new text, expected message)
    ("sources.toml", 'url = "https://www.uscis.gov/news/rss-feed/23269"', 'url = "http://www.uscis.gov/news/rss-feed/23269"',
     "sources.toml: source[1].url: must be https"),
    ("sources.toml", 'url = "https://www.uscis.gov/news/rss-feed/22984"', 'url = "file:///etc/passwd"',
     "sources.toml: source[0].url: must be https"),
    ("sources.toml", 'url = "https://www.uscis.gov/news/rss-feed/22984"', 'url = "https://evil.example/feed"',
     "sources.toml: source[0].url: host 'evil.example' is not in watcher.toml http.allowed_hosts"),
    ("sources.toml", 'id = "uscis-news-releases"', 'id = "uscis-alerts"',
     "sources.toml: source[1].id: duplicate source id 'uscis-alerts'"),
    ("sources.toml", 'id = "uscis-alerts"', 'id = "USCIS Alerts"',
     "sources.toml: source[0].id: must be lowercase letters, digits, '-' or '_'"),
    ("sources.toml", 'schedule = "5m"', 'schedule = "every tuesday"',
     "sources.toml: source[0].schedule: 'every tuesday' is not an interval like '30m' nor a crontab line"),
    ("sources.toml", 'schedule = "5m"', 'schedule = "10s"', "sources.toml: source[0].schedule: must be at least 5m"),
    ("sources.toml", 'schedule = "5m"', 'schedule = "4m"', "sources.toml: source[0].schedule: must be at least 5m"),
    ("sources.toml", 'schedule = "5m"', 'schedule = 30', "sources.toml: source[0].schedule: must be a string or a list, got int"),
    ("sources.toml", 'kind = "rss"', 'kind = ""', "sources.toml: source[0].kind: must not be empty"),
    ("sources.toml", 'id = "uscis-alerts"\n', '', "sources.toml: source[0].id: is required"),
    ("watcher.toml", "deadline = 60 ", "deadline = -1 ", "watcher.toml: http.deadline: must be greater than 0"),
    ("watcher.toml", "deadline = 60 ", "deadline = true ", "watcher.toml: http.deadline: must be an integer or a number, got a boolean"),
    ("watcher.toml", "max_redirects = 5", "max_redirects = 50", "watcher.toml: http.max_redirects: must be between 0 and 10"),
    ("watcher.toml", "connect_timeout = 10", "conect_timeout = 10", "watcher.toml: http.conect_timeout: unknown key"),
    ("watcher.toml", 'user_agent = "watcher/0.1 (immigration policy monitor; contact: it-admin@firm.example)"',
     'user_agent = "watcher"', "watcher.toml: http.user_agent: must name a contact"),
    ("watcher.toml", 'method = "embedding"', 'method = "magic"', "watcher.toml: matching.method: unknown method 'magic'"),
    ("watcher.toml", 'method = "embedding"', 'method = "embedding"\nmodel_path = "/opt/models/x"',
     "watcher.toml: matching.model_sha256: a local model needs its model.safetensors sha256"),
    ("watcher.toml", 'method = "embedding"', 'method = "embedding"\naliases = { "Work visa" = "H-1C" }',
     "watcher.toml: matching.aliases: 'Work visa' maps to unknown case type 'H-1C'"),
    ("watcher.toml", "[storage]", "[storage", "watcher.toml: invalid TOML"),
    ("case_types.toml", 'code = "I-485"', 'code = "I-130"', "case_types.toml: case_type[1].code: duplicate code 'I-130'"),
    ("case_types.toml", 'forms = ["I-765", "I-765WS"]', 'forms = ["I-765", 7]', "case_types.toml: case_type[2].forms: [1] must be a non-empty string"),
    ("case_types.toml", 'name = "Naturalization"', 'nmae = "Naturalization"', "case_types.toml: case_type[4].nmae: unknown key"),
    ("case_types.toml", 'policy_manual = ["12"]', 'policy_manual = ["Volume 12"]',
     "case_types.toml: case_type[4].policy_manual: [0] 'Volume 12' is not a volume ('12') or a volume and part ('2 H')"),
]


@pytest.mark.parametrize("file, old, new, expected", CASES, ids=[c[3][:60] for c in CASES])
def test_config_errors_name_file_and_path(config_dir, file, old, new, expected):
    edit(config_dir, file, old, new)
    with pytest.raises(ConfigError) as info:
        config.load(config_dir)
    assert str(info.value).startswith(expected), str(info.value)
    assert "\n" not in str(info.value)


TARGET_CASES = [
    ('[[target]]\nname = "s"\nurl = "slack://T1/B1/secret"\ntags = ["a"]\n',
     "watcher.toml: target[0].url: secrets never live in the TOML"),
    ('[[target]]\nname = "s"\ntags = ["a"]\n', "watcher.toml: target[0]: needs exactly one of url_env or url_credential"),
    ('[[target]]\nname = "s"\nurl_env = "X"\ntags = []\n', "watcher.toml: target[0].tags: must list at least one tag"),
    ('[[target]]\nname = "s"\nurl_env = "X"\ntags = ["a"]\n[[target]]\nname = "s"\nurl_env = "Y"\ntags = ["a"]\n',
     "watcher.toml: target[1].name: duplicate target name 's'"),
    ('[[target]]\nname = "s"\nurl_env = "X"\ntags = ["a"]\n[[route]]\ncase_types = ["H-1C"]\ntags = ["a"]\n',
     "watcher.toml: route[0].case_types: unknown case type 'H-1C'"),
    ('[[target]]\nname = "s"\nurl_env = "X"\ntags = ["a"]\n[[route]]\ntags = ["b"]\n',
     "watcher.toml: route[0].tags: no target carries tag 'b'"),
    ('[[target]]\nname = "s"\nurl_env = "X"\ntags = ["a"]\n[ops]\ntags = ["it"]\n',
     "watcher.toml: ops.tags: no target carries tag 'it'"),
    ('[[target]]\nname = "s"\nurl_env = "X"\ntags = ["a"]\n[agenda]\ntags = ["a", "training"]\n',
     "watcher.toml: agenda.tags: no target carries tag 'training'"),
]


@pytest.mark.parametrize("extra, expected", TARGET_CASES, ids=[c[1][:60] for c in TARGET_CASES])
def test_target_and_route_errors(config_dir, extra, expected):
    (config_dir / "watcher.toml").write_text((config_dir / "watcher.toml").read_text() + "\n" + extra)
    with pytest.raises(ConfigError) as info:
        config.load(config_dir)
    assert str(info.value).startswith(expected), str(info.value)


def test_missing_file_and_directory(tmp_path, config_dir):
    with pytest.raises(ConfigError, match="config directory not found"):
        config.load(tmp_path / "nope")
    (config_dir / "sources.toml").unlink()
    with pytest.raises(ConfigError, match="sources.toml: file not found"):
        config.load(config_dir)


def test_cron_schedule(config_dir):
    edit(config_dir, "sources.toml", 'schedule = "5m"', 'schedule = "0 12 * * mon-fri"')
    assert config.load(config_dir).sources[0].schedule.cron == ("0 12 * * mon-fri",)
    edit(config_dir, "sources.toml", 'schedule = "0 12 * * mon-fri"', 'schedule = ["0 13 * * *", "0 */3 8-20 * *"]')
    assert config.load(config_dir).sources[0].schedule.cron == ("0 13 * * *", "0 */3 8-20 * *")
    edit(config_dir, "sources.toml", 'schedule = ["0 13 * * *", "0 */3 8-20 * *"]', 'schedule = ["0 13 * * *", "99 * * * *"]')
    with pytest.raises(ConfigError, match="sources.toml: source\\[0\\].schedule: '99 \\* \\* \\* \\*' is not"):
        config.load(config_dir)


def test_secrets_come_from_environment_or_credentials(tmp_path):
    env_target = config.TargetConfig(name="mail", tags=("a",), url_env="WATCHER_MAIL")
    assert resolve_secret(env_target, {"WATCHER_MAIL": "mailto://x"}) == "mailto://x"
    with pytest.raises(ConfigError, match="environment variable 'WATCHER_MAIL' is not set"):
        resolve_secret(env_target, {})
    cred_target = config.TargetConfig(name="slack", tags=("a",), url_credential="slack_ops")
    (tmp_path / "slack_ops").write_text("slack://T/B/C\n")
    assert resolve_secret(cred_target, {"CREDENTIALS_DIRECTORY": str(tmp_path)}) == "slack://T/B/C"
    with pytest.raises(ConfigError, match="needs \\$CREDENTIALS_DIRECTORY"):
        resolve_secret(cred_target, {})


def test_db_override(config_dir, tmp_path):
    assert config.load(config_dir, db_override=tmp_path / "x.db").storage_path == tmp_path / "x.db"


@pytest.mark.parametrize("host, allowed, ok", [
    ("www.uscis.gov", ("www.uscis.gov",), True), ("WWW.USCIS.GOV.", ("www.uscis.gov",), True),
    ("evil-uscis.gov", ("*.uscis.gov",), False), ("a.uscis.gov", ("*.uscis.gov",), True),
    ("uscis.gov.evil.example", ("*.uscis.gov",), False),
])
def test_host_allowlist(host, allowed, ok):
    assert config.host_allowed(host, allowed) is ok
