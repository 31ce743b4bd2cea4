"""The loop's own mechanics, with a scripted stand-in detector (the real one is tested end to end
in test_end_to_end.py): fault transitions, pacing on a fake clock, fan-out to cues/store/live."""

import math
import threading

import pytest

from firmware import events as ev
from firmware.cues import BuzzerCues, make_buzzer
from firmware.device import Device, FaultTracker
from firmware.events import Event
from firmware.routine import Protocol, Routine, RoutineSettings
from firmware.sensors.base import Sample


class ListSource:
    live = False
    rate_hz = 10.0

    def __init__(self, samples):
        self._samples = samples
        self.closed = False

    def samples(self):
        yield from self._samples

    def close(self):
        self.closed = True


class ScriptedDetector:
    """Emits given events at given sample times; records what it was fed."""

    def __init__(self, script):
        self.script = script
        self.fed = []
        self.targets = []
        self.state = "empty"

    def feed(self, t, kg):
        self.fed.append((t, kg))
        return list(self.script.get(t, []))

    def finish(self):
        return [Event(ev.STEP_OFF, self.fed[-1][0], {})]

    def set_target(self, seconds, breaths=0):
        self.targets.append((seconds, breaths))

    def status(self):
        return {"state": self.state, "hold_s": 0.0, "breaths": 0, "bounces": 0}


class Recorder:
    def __init__(self):
        self.records = []
        self.samples = []
        self.events = []

    def record(self, session_id, event, wall, context):
        self.records.append((session_id, event.kind, context.get("leg")))

    def on_sample(self, t, kg, status):
        self.samples.append((t, kg, status["state"]))

    def on_event(self, event, status):
        self.events.append(event.kind)


def test_fault_tracker_reports_transitions_once():
    tracker = FaultTracker()
    seq = [Sample(0, 1.0), Sample(1, math.nan, "unplugged"), Sample(2, math.nan, "unplugged"),
           Sample(3, math.nan, "stuck"), Sample(4, 2.0)]
    got = [tracker.check(s) for s in seq]
    assert [e and (e.kind, e.data) for e in got] == [
        None,
        (ev.SENSOR_FAULT, {"reason": "unplugged"}),
        None,
        (ev.SENSOR_FAULT, {"reason": "stuck"}),
        (ev.SENSOR_OK, {"after": "stuck"}),
    ]


def test_run_paces_by_timestamps_on_a_fake_clock(fake_clock):
    samples = [Sample(i * 0.1, 1.0) for i in range(50)]
    source = ListSource(samples)
    device = Device(source, ScriptedDetector({}), speed=2.0, clock=fake_clock, wait=fake_clock.wait)
    start = fake_clock.now
    stats = device.run()
    assert stats.samples == 50
    assert fake_clock.now - start == pytest.approx(4.9 / 2.0)
    assert source.closed
    assert max(stats.late_s) == 0.0


def test_events_fan_out_with_routine_context_and_faults_reach_detector_as_nan(fake_clock):
    script = {
        0.0: [Event(ev.STEP_ON, 0.0)],
        0.2: [Event(ev.HOLD_COMPLETE, 0.2, {"hold_s": 30.0, "breaths": 4})],
        0.3: [Event(ev.STRETCH_END, 0.1,
                    {"hold_start": 0.1, "hold_s": 30.0, "completed": True, "bounces": 0})],
    }
    samples = [Sample(0.0, 30.0), Sample(0.1, 31.0), Sample(0.2, 40.0), Sample(0.3, 30.0),
               Sample(0.4, math.nan, "unplugged"), Sample(0.5, 30.0)]
    detector = ScriptedDetector(script)
    recorder = Recorder()
    buzzer = make_buzzer(18, mock=True)
    one_each = Protocol("t", "test", knees=("straight",), reps=1, target_s=25.0, target_breaths=3)
    routine = Routine(RoutineSettings.of(one_each))
    device = Device(ListSource(samples), detector, routine=routine, cues=BuzzerCues(buzzer),
                    writer=recorder, live=recorder, session_id=7, clock=fake_clock, wait=fake_clock.wait)
    device.run()
    kinds = [r[1] for r in recorder.records]
    assert kinds == [ev.STEP_ON, ev.HOLD_COMPLETE, ev.STRETCH_END, ev.SENSOR_FAULT, ev.SENSOR_OK, ev.STEP_OFF]
    # the stretch is stored with the slot it was done in; the next events carry the next slot
    assert recorder.records[2] == (7, ev.STRETCH_END, "right")
    assert recorder.records[3][2] == "left"
    assert detector.targets == [(25.0, 3)]  # the target is set once: it did not change between holds
    assert math.isnan(detector.fed[4][1])
    assert recorder.samples[4][2] == "fault" and recorder.samples[5][2] == "empty"
    assert recorder.samples[4][1] == 30.0  # the live view keeps the last good weight
    # with a routine, the routine cues: a clean hold of the right leg, the left is next
    assert device.cues.played == ["ready", "hold_complete", "switch_legs", "sensor_fault"]
    buzzer.close()


def test_stop_event_ends_a_forever_source_and_finishes(fake_clock):
    def forever():
        i = 0
        while True:
            yield Sample(i * 0.1, 1.0)
            i += 1

    source = ListSource(None)
    source.samples = forever
    stop = threading.Event()
    detector = ScriptedDetector({})

    def wait(seconds):
        fake_clock.wait(seconds)
        if fake_clock.now > 1010:
            stop.set()

    device = Device(source, detector, clock=fake_clock, wait=wait)
    stats = device.run(stop)
    assert 90 < stats.samples < 110
    assert source.closed


def test_a_two_cell_source_tells_the_leg_of_stored_events(fake_clock):
    """A PairedSource knows the leg from the load split; it wins over the routine's guess."""
    source = ListSource([Sample(0.0, 30.0), Sample(0.1, 31.0)])
    source.leg = "left"
    recorder = Recorder()
    device = Device(source, ScriptedDetector({0.0: [Event(ev.STEP_ON, 0.0)]}),
                    routine=Routine(RoutineSettings.of()),
                    writer=recorder, clock=fake_clock, wait=fake_clock.wait)
    device.run()
    assert [r[2] for r in recorder.records] == ["left", "left"]  # step_on, then step_off at the end


def test_a_new_device_on_the_same_routine_gets_its_target(fake_clock):
    """The sampler builds a new Device and detector when a source is reopened; the routine's
    target (here changed by the settings) must reach that detector too."""
    routine = Routine(RoutineSettings.of(target_s=45.0))
    first = ScriptedDetector({})
    Device(ListSource([]), first, routine=routine, clock=fake_clock, wait=fake_clock.wait)
    again = ScriptedDetector({})
    Device(ListSource([]), again, routine=routine, clock=fake_clock, wait=fake_clock.wait)
    assert first.targets == again.targets == [(45.0, 0)]


@pytest.mark.parametrize("speed", [1.0, 5.0])
def test_a_stored_stretch_lies_within_its_session_at_any_speed(fake_clock, store, speed):
    """At `--speed N` source time runs N times the wall clock's: a 35 s stretch takes 7 wall
    seconds at speed 5, so its start on the wall clock is 7 s before its end, not 35 (which put it
    before the session began). The wall clock here is the fake one the pacing advances."""
    from firmware.store import StoreWriter

    samples = [Sample(n / 10, 30.0) for n in range(401)]
    stretch = Event(ev.STRETCH_END, 40.0, {"start": 5.0, "end": 40.0, "hold_start": 8.0, "hold_s": 32.0,
                                           "completed": True})
    session = store.start_session("simulated", fake_clock())
    writer = StoreWriter(store)
    device = Device(ListSource(samples), ScriptedDetector({40.0: [stretch]}), writer=writer,
                    session_id=session, speed=speed, clock=fake_clock, wall=fake_clock, wait=fake_clock.wait)
    device.run()
    store.end_session(session, fake_clock())
    assert writer.flush()
    writer.close()
    row = store.connection().execute("SELECT s.started, s.ended, st.wall_start, st.wall, st.duration_s"
                                     " FROM stretches st JOIN sessions s ON s.id = st.session_id").fetchone()
    started, ended, wall_start, wall, duration = row
    assert duration == pytest.approx(35.0)                        # the stretch's own length: source time
    assert started <= wall_start < wall <= ended
    assert wall - wall_start == pytest.approx(35.0 / speed)
