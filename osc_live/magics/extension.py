"""``%osc`` / ``%%osc`` magics, ``%config OscLive`` and tab completion, registered with IPython.

``%load_ext osc_live`` calls :func:`load_ipython_extension`; ``%unload_ext osc_live`` calls
:func:`unload_ipython_extension`, which closes every socket, task and thread osc_live opened and
removes what loading added (the magics, their configurables). IPython glue only: the grammar
and what each subcommand does live in :mod:`osc_live.commands` (shared with the ``osc-live``
command), the session in :mod:`osc_live.notebook`.
"""

from __future__ import annotations

import weakref
from collections import ChainMap
from collections.abc import Mapping
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import (
    Magics,
    line_cell_magic,
    magics_class,
    needs_local_scope,
    no_var_expand,
)
from traitlets import Enum, Float, Int, Unicode, observe
from traitlets.config import Configurable

from osc_live import commands
from osc_live.commands.subcommands.close import close_widget_bindings
from osc_live.magics import completer
from osc_live.notebook import kernel_session as live
from osc_live.notebook._loop import enable_nested_asyncio
from osc_live.notebook.traffic import DEFAULT_MAX_ROWS
from osc_live.notebook.views import LiveView

__all__ = ["OscLive", "OscMagics", "load_ipython_extension", "unload_ipython_extension"]

MAGIC_DOC = f"""Open Sound Control from the notebook.

{commands.usage()}

Examples::

    %load_ext osc_live
    %osc connect                           # the built-in virtual synth (no external program)
    %osc connect udp://127.0.0.1:57120     # or any OSC receiver; tcp://host:port --mode 1.0
    %osc send /fx/reverb 0.3
    %osc send @synth /n_set 1000 freq f:440
    %osc listen 9000
    %osc monitor
    %%osc --at +0.25
    /s_new default 1001 0 1 freq 440
    /n_set 1001 amp 0.2
"""


class OscLive(Configurable):  # type: ignore[misc]
    """Options of the ``%osc`` magics: ``%config OscLive.float_type = 'd'``."""

    default_target = Unicode("", help="Target used when none is named ('' = last connected)").tag(
        config=True
    )
    throttle_hz = Float(60.0, help="Send rate limit of bound widgets (per control)").tag(
        config=True
    )
    float_type = Enum(
        ["f", "d"], "f", help="Tag for Python floats: f (float32) or d (float64)"
    ).tag(config=True)
    refresh_hz = Float(
        live.MAX_REFRESH_HZ, help="Live monitor/plot refreshes per second (≤ 10)"
    ).tag(config=True)
    listen_host = Unicode(
        "127.0.0.1", help="Host for '%osc listen PORT' (0.0.0.0: all interfaces)"
    ).tag(config=True)
    plot_points = Int(200, help="Points kept by '%osc plot'").tag(config=True)
    monitor_rows = Int(50, help="Rows shown by '%osc monitor'").tag(config=True)
    traffic_rows = Int(
        DEFAULT_MAX_ROWS,
        help="Distinct (direction, address, peer) rows the traffic table keeps for the monitor;"
        " beyond it the least recently seen row is dropped (the totals stay exact)",
    ).tag(config=True)
    send_timeout = Float(5.0, help="Seconds a TCP connect or send may take").tag(config=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.apply()

    @observe(
        "default_target",
        "throttle_hz",
        "float_type",
        "refresh_hz",
        "listen_host",
        "plot_points",
        "monitor_rows",
        "traffic_rows",
        "send_timeout",
    )
    def _changed(self, change: Any) -> None:
        self.apply()

    def apply(self, session: live.OscSession | None = None) -> None:
        """Copy the options into the session (``session()`` by default)."""
        ses = session or live.session()
        options = ses.options
        options.default_target = self.default_target
        options.throttle_hz = float(self.throttle_hz)
        options.float_type = self.float_type
        options.refresh_hz = min(float(self.refresh_hz), live.MAX_REFRESH_HZ)
        options.listen_host = self.listen_host
        options.plot_points = int(self.plot_points)
        options.monitor_rows = int(self.monitor_rows)
        options.traffic_rows = max(1, int(self.traffic_rows))
        options.send_timeout = max(0.1, float(self.send_timeout))
        ses.traffic.resize(options.traffic_rows)


@magics_class
class OscMagics(Magics):  # type: ignore[misc]
    """``%osc`` (line) and ``%%osc`` (cell)."""

    @needs_local_scope  # type: ignore[untyped-decorator]
    @no_var_expand  # type: ignore[untyped-decorator]
    @line_cell_magic  # type: ignore[untyped-decorator]
    def osc(
        self, line: str, cell: str | None = None, local_ns: Mapping[str, Any] | None = None
    ) -> Any:
        session = live.session()
        session.live_display = _in_kernel(self.shell)
        namespace = _namespace(self.shell, local_ns)
        float_tag = session.options.float_type
        try:
            if cell is not None:
                parsed = commands.parse_cell(
                    line, cell, namespace, float_tag=float_tag, semicolon=True
                )
                sent = commands.send_cell(parsed, session)
                return None if parsed.silenced else sent
            # "%osc send /x 1;": IPython hands the magic the ';' that hides the output
            tokens, silenced = commands.strip_semicolon(commands.tokenize(line))
            cmd = commands.parse_tokens(
                tokens, namespace, float_tag=float_tag, listen_host=session.options.listen_host
            )
            result = commands.run(cmd, session)
        except (commands.GrammarError, commands.CommandError) as exc:
            raise UsageError(str(exc)) from None
        if isinstance(result, LiveView):
            result.show()
            return None
        if isinstance(result, str):
            print(result)
            return None
        return None if silenced else result

    osc.__doc__ = MAGIC_DOC


def _namespace(shell: Any, local_ns: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """Where ``$name`` and ``{{expr}}`` look: the caller's locals (``%osc`` in a function, or
    ``run_line_magic`` called from one), then the user namespace."""
    user_ns: dict[str, Any] = shell.user_ns if shell is not None else {}
    if local_ns is None or local_ns is user_ns:
        return user_ns  # a cell's top level: its locals are the user namespace
    return ChainMap(dict(local_ns), user_ns)  # a function's locals (a few names) win


def _in_kernel(shell: Any) -> bool:
    return getattr(shell, "kernel", None) is not None


#: shell -> (the OscMagics instance, the OscLive configurable) while the extension is loaded
_LOADED: weakref.WeakKeyDictionary[Any, tuple[OscMagics, OscLive]] = weakref.WeakKeyDictionary()
#: shells whose completion hooks are installed. IPython has no public way to remove a hook,
#: so they are installed once per shell and answer nothing (TryNext) while unloaded.
_HOOKED: weakref.WeakSet[Any] = weakref.WeakSet()


def load_ipython_extension(ipython: Any) -> None:
    """Register ``%osc``/``%%osc``, ``%config OscLive`` and completion (idempotent)."""
    loaded = _LOADED.get(ipython)
    if loaded is None:
        magics = OscMagics(shell=ipython)  # Magics adds itself to ipython.configurables
        ipython.register_magics(magics)
        config = OscLive(parent=ipython)
        ipython.configurables.append(config)
        _LOADED[ipython] = (magics, config)
    else:
        loaded[1].apply()
    if ipython not in _HOOKED:
        ipython.set_hook("complete_command", _complete, str_key="%osc")
        ipython.set_hook("complete_command", _complete, str_key="%%osc")
        _HOOKED.add(ipython)
    if _in_kernel(ipython):
        # asyncio.run(...) in a cell (the TCP examples) needs a re-entrant kernel loop
        enable_nested_asyncio()


def _complete(shell: Any, event: Any) -> list[str]:
    """The completion hook: osc_live's completions while the extension is loaded."""
    if shell not in _LOADED:
        from IPython.core.error import TryNext

        raise TryNext
    return completer.complete(shell, event)


def unload_ipython_extension(ipython: Any) -> None:
    """Close every socket, task and thread osc_live opened and the widget bindings; remove the
    magics and the configurables loading added."""
    close_widget_bindings()
    live.reset_session()
    loaded = _LOADED.pop(ipython, None)
    if loaded is not None:
        for item in loaded:
            while item in ipython.configurables:
                ipython.configurables.remove(item)
        if ipython.magics_manager.registry.get(OscMagics.__name__) is loaded[0]:
            del ipython.magics_manager.registry[OscMagics.__name__]
    magics = ipython.magics_manager.magics
    for kind in ("line", "cell"):
        magics[kind].pop("osc", None)
