"""The MQTT sink beside the loop, without a broker: config, throttling, never blocking.

The broker-facing behaviour (discovery, events, last will, commands, restarts) is in
test_mqtt_broker.py against a real Mosquitto.
"""

from __future__ import annotations

import socket
import threading

import pytest

from firmware import config
from firmware.config import ConfigError
from firmware.device import Device
from firmware.events import Event
from firmware.publish import PublishError, ensure_device_id, make_publisher
from firmware.publish.discovery import DeviceInfo
from firmware.publish.mqtt import IDLE_LIVE_S, BrokerSettings, MqttPublisher

INFO = DeviceInfo("ss00000001", "Step", "0.1.0", "simulated")


def load(tmp_path, text: str) -> config.Config:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return config.load(path)


def test_mqtt_section_is_read_and_its_mistakes_are_named(tmp_path):
    cfg = load(tmp_path, '[mqtt]\nhost = "broker.lan"\nqos = 0\nallow_commands = true\n')
    m = cfg.mqtt
    assert (m.host, m.port, m.qos, m.allow_commands) == ("broker.lan", 1883, 0, True)
    assert config.DEFAULTS.mqtt.host == "" and config.DEFAULTS.mqtt.allow_commands is False
    for text, expected in [
        ('[mqtt]\nqos = 3\n', r"mqtt.qos = 3 is not allowed; expected one of 1 or 0 or 2"),
        ('[mqtt]\ntopic_prefix = "steps/#"\n', r"mqtt.topic_prefix = 'steps/#' is not allowed"),
        ('[mqtt]\ntopic_prefix = "steps//a"\n', r"empty levels"),
        ('[mqtt]\nhost = "b"\nusername = "u"\npassword = "p"\npassword_file = "/x"\n', "not both"),
        ('[mqtt]\nhost = "b"\nca_file = "/ca.pem"\n', "set tls = true"),
        ('[mqtt]\nhost = "b"\npassword = "p"\n', "mqtt.password needs mqtt.username"),
        ('[mqtt]\nhost = "b"\npassword_file = "/p"\n', "mqtt.password_file needs mqtt.username"),
        ('[mqtt]\nbroker = "b"\n', "unknown key mqtt.broker"),
        ('[mqtt]\nclient_id = "has space"\n', "mqtt.client_id"),
    ]:
        with pytest.raises(ConfigError, match=expected):
            load(tmp_path, text)


def test_no_host_means_no_publisher_and_file_problems_are_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("STRETCHSTEP_DATA_DIR", str(tmp_path / "data"))
    cfg = config.DEFAULTS.with_values("store", data_dir=str(tmp_path))
    assert make_publisher(cfg) is None
    missing = load(tmp_path, f'[mqtt]\nhost = "127.0.0.1"\nusername = "u"\n'
                             f'password_file = "{tmp_path}/nope"\n')
    with pytest.raises(PublishError, match="mqtt.password_file .*nope"):
        make_publisher(missing)
    assert isinstance(PublishError("x"), ConfigError)  # so `stretchstep run` prints one line, no traceback
    no_ca = load(tmp_path, '[mqtt]\nhost = "127.0.0.1"\ntls = true\nca_file = "/nonexistent/ca.pem"\n')
    with pytest.raises(PublishError, match="no such file"):
        make_publisher(no_ca)
    assert not (tmp_path / "data").exists()  # a refused config leaves nothing behind


def test_device_id_is_made_once_and_kept(tmp_path):
    first = ensure_device_id(tmp_path / "a")
    assert first == ensure_device_id(tmp_path / "a")
    assert first != ensure_device_id(tmp_path / "b")
    assert first.isalnum()


def unstarted(**settings) -> MqttPublisher:
    return MqttPublisher(BrokerSettings(host="127.0.0.1", port=1, **settings), INFO)


def kinds(publisher: MqttPublisher) -> list[str]:
    return [item[0] for item in publisher._inbox]


def test_live_load_is_throttled_to_live_hz_and_state_changes_go_at_once():
    publisher = unstarted(live_hz=2.0)
    for i in range(800):  # 10 s at 80 Hz, holding
        publisher.on_sample(i / 80, 60.0, {"state": "holding", "hold_s": i / 80})
    assert kinds(publisher).count("state") == 1
    assert 19 <= kinds(publisher).count("live") <= 21
    publisher.on_sample(10.0, 0.2, {"state": "empty"})
    assert kinds(publisher)[-2:] == ["state", "live"]
    for i in range(1, 800):  # an empty step: a heartbeat, not 2 Hz
        publisher.on_sample(10.0 + i / 80, 0.2, {"state": "empty"})
    assert kinds(publisher).count("live") <= 21 + 1 + int(10 / IDLE_LIVE_S) + 1


def test_a_restarted_source_whose_time_starts_over_is_not_silenced():
    publisher = unstarted(live_hz=2.0)
    publisher.on_sample(500.0, 60.0, {"state": "holding"})
    publisher.on_sample(0.0, 60.0, {"state": "holding"})
    assert kinds(publisher).count("live") == 2


def test_a_broker_that_never_answers_costs_the_loop_nothing_and_overflow_is_counted():
    """A listening socket that never accepts: paho's connect hangs in its own thread. The loop's
    calls never reach the network (no paho call on the loop's thread) and only count what the
    bounded queues cannot hold. No wall-clock bound: on a shared CI machine it would be flaky."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        publisher = MqttPublisher(BrokerSettings(host="127.0.0.1", port=port), INFO, inbox_size=64,
                                  outage_events=10)
        callers: set[int] = set()
        real_publish = publisher._client.publish

        def publish(*args, **kwargs):
            callers.add(threading.get_ident())
            return real_publish(*args, **kwargs)

        publisher._client.publish = publish
        publisher.start()
        try:
            for i in range(20_000):
                publisher.on_sample(i / 80, 60.0, {"state": "holding" if i % 400 < 200 else "empty"})
                if i % 10 == 0:
                    publisher.on_event(Event("breath", i / 80, {"n": 1}), {"state": "holding"})
            health = publisher.health()
        finally:
            publisher.close(timeout=0.5)
    assert threading.get_ident() not in callers
    assert health["loop_cost"]["calls"] == 22_000
    assert health["connected"] is False and health["sent"] == 0
    assert health["dropped"] > 0          # 2000 events cannot fit in 10 + 64 places
    assert health["queued"] <= 64 + 10


class Recorder:
    def __init__(self) -> None:
        self.samples: list[float] = []
        self.events: list[str] = []

    def on_sample(self, t, kg, status) -> None:
        assert "state" in status
        self.samples.append(t)

    def on_event(self, event, status) -> None:
        self.events.append(event.kind)


def test_device_feeds_every_sample_and_event_to_its_sinks(fake_clock):
    from firmware.detector import HoldDetector
    from firmware.sensors import simulated

    source = simulated.scenario("good_routine", seed=3)
    sink = Recorder()
    device = Device(source, HoldDetector(), clock=fake_clock, wait=fake_clock.wait, speed=1000, sinks=[sink])
    stats = device.run()
    assert len(sink.samples) == stats.samples
    assert len(sink.events) == stats.events and "stretch_end" in sink.events



def test_run_with_an_unusable_mqtt_section_stops_with_one_clear_line(tmp_path):
    import subprocess
    import sys

    conf = tmp_path / "config.toml"
    conf.write_text(f'[mqtt]\nhost = "127.0.0.1"\nusername = "u"\npassword_file = "{tmp_path}/missing"\n')
    result = subprocess.run([sys.executable, "-m", "firmware", "run", "--config", str(conf), "--host",
                             "127.0.0.1", "--port", "0", "--data-dir", str(tmp_path / "data")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "mqtt.password_file" in result.stderr and "Traceback" not in result.stderr + result.stdout


def test_a_sensor_that_cannot_be_opened_reaches_the_sinks_as_a_fault(monkeypatch):
    """No Device runs while the source is down, yet Home Assistant's sensor-fault entity must
    turn on: the sampler hands the fault to its sinks as a running Device would."""
    from firmware.service import sampler

    def unplugged(cfg):
        raise OSError("no HX711 answers on BCM 5/6")

    monkeypatch.setattr(sampler, "open_checked_source", unplugged)
    sink = Recorder()
    states: list[str] = []
    sink.on_sample = lambda t, kg, status: states.append(status["state"])  # type: ignore[method-assign]
    runner = sampler.LoopRunner(config.DEFAULTS, routine=None, writer=None, live=None, session_id=0,
                                sinks=[sink])   # no Device is made while the source cannot be opened
    assert runner._open() is None and runner._open() is None
    assert sink.events == ["sensor_fault"]       # once per fault, not once per retry
    assert states == ["fault", "fault"]


def test_paho_is_not_imported_by_the_command_or_the_sampler_without_mqtt():
    import subprocess
    import sys

    code = ("import sys, firmware.cli, firmware.service.sampler, firmware.publish; "
            "print(any(m.startswith('paho') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr


def test_sampler_health_names_each_sinks_figures_and_survives_one_that_fails():
    from firmware.service import sampler

    class Broken:
        name = "broken"

        def health(self) -> dict:
            raise RuntimeError("no figures today")

    class Keeper:
        def health(self) -> dict:
            return {"written": 3}

    runner = sampler.LoopRunner(config.DEFAULTS, routine=None, writer=None, live=None, session_id=0,
                                sinks=[Recorder(), Broken(), Keeper()])
    health = runner.health()
    assert health["broken"] == {"error": "RuntimeError: no figures today"}
    assert health["keeper"] == {"written": 3}
    assert health["loop_state"] == "starting"


def test_without_paho_the_error_names_this_pythons_pip_not_a_package_on_pypi():
    """On an installed Pi a bare `pip install 'stretchstep[mqtt]'` would ask PyPI for a
    package that is not there: the message names the venv's own pip and what to install."""
    import subprocess
    import sys
    from pathlib import Path

    code = ("import sys; sys.modules['paho'] = None\n"
            "from firmware.config import Config\n"
            "from firmware.publish import PublishError, broker_settings\n"
            "cfg = Config().with_values('mqtt', host='127.0.0.1')\n"
            "try:\n    broker_settings(cfg)\nexcept PublishError as exc:\n    print(exc)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    pip = str(Path(sys.executable).with_name("pip"))
    assert done.stdout.strip() == (f"[mqtt] is configured but paho-mqtt is not installed: {pip} install "
                                   "'paho-mqtt>=2.1,<3' (the mqtt extra; hardware/README.md §10)")
