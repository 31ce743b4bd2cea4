"""Options and config loading shared by every `stretchstep` command module (cli, cli_history)."""

from __future__ import annotations

import click

from firmware import config as configuration
from firmware.config import Config

config_option = click.option(
    "--config", "config_path", type=click.Path(dir_okay=False), default=None,
    help="TOML config file (default: $STRETCHSTEP_CONFIG, ~/.config/stretchstep/config.toml or "
         "/etc/stretchstep/config.toml, the first that exists).",
)
source_option = click.option(
    "--source", default=None,
    help="simulated[:SCENARIO] | replay:PATH | hx711 | hx711-emulated (default: from config).",
)
data_dir_option = click.option(
    "--data-dir", type=click.Path(file_okay=False), default=None,
    help="Where history, calibration and the access code live (default: the config's [store] "
         "data_dir, else $STRETCHSTEP_DATA_DIR, else $XDG_DATA_HOME/stretchstep).",
)


def load_config(config_path: str | None, data_dir: str | None = None, source: str | None = None) -> Config:
    cfg = configuration.load(config_path)
    if data_dir:
        cfg = cfg.with_values("store", data_dir=str(data_dir))
    if source:
        cfg = cfg.with_values("sensor", source=source)
    return cfg
