"""ipywidgets controls bound to OSC addresses: two-way, rate-limited, any target.

::

    import osc_live
    osc_live.slider("/fx/reverb", 0.0, 1.0)            # an ipywidgets FloatSlider
    osc_live.slider("/n_set", 20, 2000, args=(1000, "freq"), log=True)  # /n_set 1000 "freq" <v>
    osc_live.panel({"/fx/reverb": (0.0, 1.0), "/fx/on": True, "/pad": {"kind": "xy"}})
    control.osc.describe()        # kind, type tags, value, ranges, label (ControlInfo)
    control.osc.on_value(print)   # every change, page / code / incoming (ValueChange)

This is the public face of the controls (``osc_live.widgets`` is the same API); the code lives
beside it: :mod:`~osc_live.notebook._binding` (the binding), ``_sliders`` (slider classes),
``_values`` (value ↔ OSC arguments), ``_controls`` (the factories), ``_panel``, and
``_ipykernel_compat``. Every control returned here is a genuine ipywidgets widget (subclasses
of ``FloatSlider``, ``IntSlider`` and ``FloatLogSlider`` that validate their value,
``ToggleButton``, ``Button``, ``Text``, or a ``Box`` for :func:`xy` and :func:`panel`) with an
extra attribute ``.osc``, its :class:`~osc_live.notebook._binding.Binding`. The binding

* **sends** the control's value to ``address`` on its target whenever the value changes (a drag,
  a key press, ``control.value = v`` in a cell), through a per-control throttle (at most
  ``throttle_hz`` sends a second, leading edge immediate, trailing edge always delivering the
  final value);
* **receives**: it maps ``address`` on the kernel session's dispatcher
  (``osc_live.live.session().dispatcher``), so with a listener running an incoming message on that
  address moves the control *without sending it back*;
* carries stable CSS classes: ``osc-control`` and ``osc-addr--<address>`` (``/fx/reverb`` →
  ``osc-addr--fx-reverb``; with leading ``args`` a second, more specific class
  ``osc-addr--n_set--1000-freq``), so tests and stylesheets can find it.

What the page shows is what the kernel holds: a slider's value is validated once, in the kernel,
onto the grid the page uses (:mod:`osc_live.notebook._sliders`), so displaying a control sends
nothing and keeps its value, an incoming value is never rounded by the page and sent back, and
a drag after any number of incoming values sends.

Session settings apply: ``%config OscLive.throttle_hz = 30`` changes the default rate of the
controls made afterwards, ``%config OscLive.float_type = 'd'`` makes float controls (without an
explicit ``type_tag``) send float64.

``target`` may be a ``Target`` of the live session, a target *name* of that session, ``None``
(the session's default target, looked up at each send, so ``%osc connect`` re-points every
control bound to the default), or any object with a python-osc style ``send_message`` (a
``SimpleUDPClient``, an osc_live TCP client, ...). Names and ``None`` are resolved lazily: a
control may be created before the target is connected.
"""

from __future__ import annotations

from osc_live.notebook._binding import (
    DEFAULT_THROTTLE_HZ,
    Binding,
    ControlInfo,
    SupportsSendMessage,
    ValueChange,
    bindings,
    close_all,
    css_class,
    watch,
)
from osc_live.notebook._controls import bind, button, slider, text, toggle, xy
from osc_live.notebook._panel import panel
from osc_live.notebook._sliders import OscFloatSlider, OscIntSlider, OscLogSlider

__all__ = [
    "DEFAULT_THROTTLE_HZ",
    "Binding",
    "ControlInfo",
    "OscFloatSlider",
    "OscIntSlider",
    "OscLogSlider",
    "SupportsSendMessage",
    "ValueChange",
    "bind",
    "bindings",
    "button",
    "close_all",
    "css_class",
    "panel",
    "slider",
    "text",
    "toggle",
    "watch",
    "xy",
]
