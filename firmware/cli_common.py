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


def refuse_behind_a_service(cfg: Config, what: str, *, where: str = "") -> None:
    """A command that would read the chip or write its calibration must not do it behind a
    stretchstep holding this data dir (it holds the pins; a file written now is one it does not
    use). Refused, naming its pid; `where` says where the command looked for it."""
    from firmware.datalock import DataDirLock

    holder = DataDirLock(cfg.history_dir()).holder()
    if holder is not None:
        looked = f" but does not answer at {where}" if where else ""
        raise click.ClickException(
            f"{what} refused: a stretchstep (pid {holder}) is running on {cfg.data_dir()}{looked}; "
            "use its page, or stop it first (sudo systemctl stop stretchstep)")
