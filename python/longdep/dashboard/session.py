"""Stop a session's computation when the session stops.

Streamlit runs each session's script on its own thread. When the session ends (the
browser tab closed, the server shutting down, the "Stop" menu item) Streamlit asks that
thread to stop, but a call inside the Rust core would only notice when it returns. A
small watcher thread per script thread sees the stop request and cancels that thread's
running longdep calls (``ld.cancel``), so an abandoned heavy request frees the CPU within
a block of steps.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import longdep as ld

#: Attribute set on a script thread once it has a watcher.
_WATCHED = "_longdep_session_watch"
#: Seconds between two looks at the stop request.
POLL_S = 0.2


def _stop_requested(requests: Any) -> bool:
    """Whether Streamlit asked this session's script to stop (not merely to rerun)."""
    try:
        from streamlit.runtime.scriptrunner_utils.script_requests import ScriptRequestType
    except ImportError:  # another Streamlit layout: no watcher, calls end on their own
        return False
    return getattr(requests, "_state", None) == ScriptRequestType.STOP


def watch_session(ctx: Any = None) -> bool:
    """Start the watcher for the calling script thread (once per thread). Returns whether
    one runs. ``ctx`` defaults to Streamlit's script-run context of this thread."""
    if ctx is None:
        try:
            from streamlit.runtime.scriptrunner_utils.script_run_context import (
                get_script_run_ctx,
            )
        except ImportError:
            return False
        ctx = get_script_run_ctx()
    requests = getattr(ctx, "script_requests", None)
    if requests is None:
        return False
    thread = threading.current_thread()
    if getattr(thread, _WATCHED, False):
        return True
    setattr(thread, _WATCHED, True)

    def watch() -> None:
        while thread.is_alive():
            if _stop_requested(requests):
                ld.cancel(thread)
                return
            time.sleep(POLL_S)

    threading.Thread(target=watch, name="longdep-session-watch", daemon=True).start()
    return True
