import pytest

from firmware import config
from firmware.config import ConfigError


def write(tmp_path, text):
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_missing_default_file_gives_defaults(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert config.load() == config.DEFAULTS
    assert config.DEFAULTS.sensor.source == "simulated"
    assert config.DEFAULTS.web.port == 8080


def test_explicit_missing_file_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        config.load(tmp_path / "nope.toml")


def test_values_are_read_and_ints_widen_to_floats(tmp_path):
    cfg = config.load(write(tmp_path, "[detector]\ntarget_s = 20\n[sensor]\nrate_hz = 10\n"))
    assert cfg.detector.target_s == 20.0 and isinstance(cfg.detector.target_s, float)
    assert cfg.sensor.rate_hz == 10
    assert cfg.web == config.DEFAULTS.web


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[sensor]\nrate_hz = 40\n", r"sensor.rate_hz = 40 is not allowed; expected one of 80 or 10"),
        ("[web]\nport = 70000\n", r"web.port = 70000 .*from 0 to 65535"),
        ("[web]\nport = true\n", r"web.port = True"),
        ("[web]\nprt = 1\n", r"unknown key web.prt; keys in \[web\]: .*port"),
        ("[nope]\nx = 1\n", r"unknown section \[nope\]"),
        ("[person]\ntighter_side = 'middle'\n", r"person.tighter_side = 'middle'.*'right' or 'left'"),
        ("[routine]\nday_start = '25:00'\n", r"routine.day_start = '25:00'.*HH:MM"),
        ("[routine]\nprotocol = 'nope'\n", r"routine.protocol = 'nope' is not a protocol; known: step-calf"),
        ("[[protocols]]\nid = 'Mine'\nname = 'x'\n", r"\[\[protocols\]\] #1: id = 'Mine'.*lower-case"),
        ("[sensor]\nsource = 'replay:'\n", r"sensor.source"),
        ("web = 3\n", r"\[web\] must be a table"),
        ("[web\n", r"not valid TOML"),
        ("[web]\naccess_code = '1234'\n", r"web.access_code = '1234' is not allowed; expected 8 to 64"),
        ("[web]\nhost = 'my host; rm'\n", r"web.host = 'my host; rm' is not allowed; expected a host"),
        ("[web]\nallowed_hosts = 'one'\n", r"web.allowed_hosts = 'one'.*a list of host names"),
        ("[web]\nallowed_hosts = ['ok', 'not ok']\n", r"web.allowed_hosts"),
        ("[sensor]\nrate_hz = 1e9\n", r"sensor.rate_hz = 1000000000.0 is not allowed"),
        # the detector refuses under 20 kg: the sampler's loop crashed on it at every start
        ("[person]\nbody_kg = 10\n", r"person.body_kg = 10.0 is not allowed; expected 0 \(not given\) or kg "
                                      r"from 20 to 300"),
    ],
)
def test_bad_values_name_key_value_and_allowed(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=expected) as info:
        config.load(path)
    assert str(path) in str(info.value)


def test_with_values_validates_cli_overrides():
    cfg = config.DEFAULTS.with_values("web", port=9000)
    assert cfg.web.port == 9000
    with pytest.raises(ConfigError, match="web.port = -1"):
        config.DEFAULTS.with_values("web", port=-1)


def test_data_dir_precedence(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("STRETCHSTEP_DATA_DIR", raising=False)
    assert config.DEFAULTS.data_dir() == tmp_path / "xdg" / "stretchstep"
    monkeypatch.setenv("STRETCHSTEP_DATA_DIR", str(tmp_path / "env"))
    assert config.DEFAULTS.data_dir() == tmp_path / "env"
    cfg = config.DEFAULTS.with_values("store", data_dir=str(tmp_path / "cfg"))
    assert cfg.data_dir() == tmp_path / "cfg"


def test_to_toml_round_trips(tmp_path):
    cfg = config.DEFAULTS.with_values("web", access_code='ab"cd\\ 12\x7f\n').with_values("sensor", rate_hz=10)
    assert config.load(write(tmp_path, config.to_toml(cfg))) == cfg


def test_search_order_env_then_user_then_system(tmp_path, monkeypatch):
    user, system, named = (tmp_path / d / "config.toml" for d in ("user", "etc", "named"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("STRETCHSTEP_CONFIG", raising=False)
    monkeypatch.setattr(config, "SYSTEM_PATH", system)
    assert config.load().origin == "" and "defaults (looked in" in config.describe(config.load())
    system.parent.mkdir()
    system.write_text("[web]\nport = 8001\n")
    assert config.load().web.port == 8001 and config.load().origin == str(system)
    user = tmp_path / "xdg" / "stretchstep" / "config.toml"
    user.parent.mkdir(parents=True)
    user.write_text("[web]\nport = 8002\n")
    assert config.load().web.port == 8002          # the user's file, not merged with the system's
    named.parent.mkdir()
    named.write_text("[web]\nport = 8003\n")
    monkeypatch.setenv("STRETCHSTEP_CONFIG", str(named))
    assert config.load().web.port == 8003
    assert config.load(system).web.port == 8001     # --config beats the search


def test_describe_names_the_file_and_the_data_dir(tmp_path, monkeypatch):
    monkeypatch.delenv("STRETCHSTEP_DATA_DIR", raising=False)
    path = write(tmp_path, f"[store]\ndata_dir = '{tmp_path / 'data'}'\n")
    assert config.describe(config.load(path)) == f"config: {path}; data dir: {tmp_path / 'data'}"


def test_config_data_dir_wins_over_the_environment(tmp_path, monkeypatch):
    """What the README says, and what the installed service relies on (its unit sets the env)."""
    monkeypatch.setenv("STRETCHSTEP_DATA_DIR", str(tmp_path / "env"))
    path = write(tmp_path, f"[store]\ndata_dir = '{tmp_path / 'cfg'}'\n")
    from click.testing import CliRunner

    from firmware.cli import main

    done = CliRunner().invoke(main, ["config", "--config", str(path)])
    assert done.exit_code == 0, done.output
    assert f"data dir: {tmp_path / 'cfg'}" in done.output


def test_an_unreadable_config_is_one_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read the config file"):
        config.load(tmp_path)        # a folder, not a file


def test_allowed_hosts_are_read_as_a_tuple_and_written_back(tmp_path):
    cfg = config.load(write(tmp_path, "[web]\nallowed_hosts = ['stairs.home.arpa', 'pi']\n"))
    assert cfg.web.allowed_hosts == ("stairs.home.arpa", "pi")
    assert config.load(write(tmp_path, config.to_toml(cfg))) == cfg


@pytest.mark.parametrize("content, expected", [
    (b"\xff\xfe[web]\n", r"not a text file \(byte 0 is not UTF-8\)"),
    (bytes(range(256)), "not a text file"),
    (b"\x00\x01\x02", "not valid TOML"),
])
def test_binary_or_bad_utf8_config_is_one_clear_error(tmp_path, content, expected):
    path = tmp_path / "c.toml"
    path.write_bytes(content)
    with pytest.raises(ConfigError, match=expected):
        config.load(path)


def test_a_folder_or_unreadable_config_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read the config file"):
        config.load(tmp_path)


def test_record_says_which_config_and_data_dir(tmp_path):
    from click.testing import CliRunner

    from firmware.cli import main

    path = write(tmp_path, f"[store]\ndata_dir = '{tmp_path / 'd'}'\n[web]\nport = 0\n")
    done = CliRunner().invoke(main, ["record", "--config", str(path), "--source", "simulated:bag",
                                     "--seconds", "1", str(tmp_path / "t.csv")])
    assert done.exit_code == 0, done.output
    assert f"config: {path}; data dir: {tmp_path / 'd'}" in done.output
