"""Each session's raw samples, kept (compressed, for a number of days) so a better detector can
replay them later: `TraceKeeper` writes them beside the loop, `reanalyze` replays them."""

from firmware.traces.keeper import TraceKeeper, prune_traces, session_traces, trace_day, trace_dir, trace_name
from firmware.traces.reanalyze import reanalyze

__all__ = ["TraceKeeper", "prune_traces", "reanalyze", "session_traces", "trace_day", "trace_dir",
           "trace_name"]
