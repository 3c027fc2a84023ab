"""Widgets bound to OSC addresses, kernel-free: kinds, sends, throttling, two-way, panels.

The transports are exercised in ``test_widgets_targets.py``; here targets are recorders and the
dispatcher is a minimal python-osc-style one, so these tests judge the widget layer alone.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import ipywidgets as W
import pytest

from osc_live import widgets
from osc_live.notebook import _binding, _sliders
from osc_live.widgets import Binding, OscFloatSlider, OscIntSlider, OscLogSlider, css_class


class Recorder:
    """A target: records ``send_message`` calls (python-osc signature, optional type tags)."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[Any], str | None]] = []
        self.lock = threading.Lock()

    def send_message(self, address: str, value: Any, type_tags: str | None = None) -> None:
        with self.lock:
            self.messages.append((address, list(value), type_tags))

    @property
    def sent(self) -> list[tuple[str, list[Any]]]:
        with self.lock:
            return [(a, v) for a, v, _ in self.messages]

    def wait_count(self, n: int, timeout: float = 2.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.sent) < n and time.monotonic() < deadline:
            time.sleep(0.002)


class MiniDispatcher:
    """Just the part of the Dispatcher API a binding uses: exact-address map/unmap/dispatch."""

    def __init__(self) -> None:
        self.handlers: dict[str, list[Callable[..., Any]]] = {}

    def map(self, address: str, handler: Callable[..., Any]) -> Callable[..., Any]:
        self.handlers.setdefault(address, []).append(handler)
        return handler

    def unmap(self, address: str, handler: Callable[..., Any]) -> None:
        self.handlers[address].remove(handler)

    def dispatch(self, address: str, *args: Any) -> None:
        for h in list(self.handlers.get(address, [])):
            h(address, *args)


@pytest.fixture
def target() -> Recorder:
    return Recorder()


@pytest.fixture
def disp() -> MiniDispatcher:
    return MiniDispatcher()


@pytest.fixture(autouse=True)
def _close_bindings() -> Iterator[None]:
    yield
    widgets.close_all()


def f32(x: float) -> float:
    import struct

    return float(struct.unpack(">f", struct.pack(">f", x))[0])


# ---------------------------------------------------------------------------- construction
def test_slider_kinds_are_real_ipywidgets(target: Recorder, disp: MiniDispatcher) -> None:
    f = widgets.slider("/fx/reverb", 0.0, 1.0, target=target, dispatcher=disp)
    i = widgets.slider("/steps", 0, 16, target=target, dispatcher=disp)
    lg = widgets.slider("/freq", 20, 20000, log=True, value=440, target=target, dispatcher=disp)
    forced = widgets.slider("/n", 0.0, 10.0, type_tag="i", target=target, dispatcher=disp)
    assert isinstance(f, W.FloatSlider) and isinstance(i, W.IntSlider)
    assert isinstance(lg, W.FloatLogSlider) and isinstance(forced, W.IntSlider)
    assert (type(f), type(i), type(lg)) == (OscFloatSlider, OscIntSlider, OscLogSlider)
    assert (f.min, f.max, f.step, f.value, f.readout_format) == (0.0, 1.0, 0.01, 0.0, ".2f")
    assert (i.min, i.max, i.step) == (0, 16, 1)
    assert lg.value == 440 and lg.base == 10 and lg.step is None  # exact: no page grid
    assert lg.readout_format == ".5"  # 20000 needs 5 digits: never "2e+4"
    assert 10**lg.min == pytest.approx(20) and 10**lg.max == pytest.approx(20000)
    low = widgets.slider("/freq2", 20, 2000, log=True, target=target, dispatcher=disp)
    assert low.value == 20.0  # not clamped to 20.000000000000004
    assert f.description == "/fx/reverb" and isinstance(f.osc, Binding)
    assert target.sent == []  # creating a control sends nothing


def test_css_classes_are_stable(target: Recorder, disp: MiniDispatcher) -> None:
    assert css_class("/fx/reverb") == "osc-addr--fx-reverb"
    assert css_class("/n_set", (1000, "freq")) == "osc-addr--n_set--1000-freq"
    assert css_class("/a b/*/c?") == "osc-addr--a-b-c"
    s = widgets.slider("/n_set", 20, 2000, args=(1000, "freq"), target=target, dispatcher=disp)
    assert {"osc-control", "osc-slider", "osc-addr--n_set", "osc-addr--n_set--1000-freq"} <= set(
        s._dom_classes
    )


@pytest.mark.parametrize(
    "bad", [dict(address="fx"), dict(min=1.0, max=0.0), dict(min="a"), dict(log=True, min=0.0)]
)
def test_bad_arguments_are_refused(bad: dict[str, Any], target: Recorder) -> None:
    kw: dict[str, Any] = {"address": "/x", "min": 0.0, "max": 1.0, "dispatcher": False}
    kw.update(bad)
    with pytest.raises(ValueError):
        widgets.slider(target=target, **kw)


# ---------------------------------------------------------------------------- sending
def test_value_change_sends_float_int_and_leading_args(
    target: Recorder, disp: MiniDispatcher
) -> None:
    f = widgets.slider("/fx/reverb", 0.0, 1.0, target=target, dispatcher=disp, throttle_hz=None)
    i = widgets.slider("/steps", 0, 16, target=target, dispatcher=disp, throttle_hz=None)
    n = widgets.slider(
        "/n_set", 20.0, 2000.0, args=(1000, "freq"), target=target, dispatcher=disp,
        throttle_hz=None,
    )  # fmt: skip
    f.value = 0.25
    i.value = 3
    n.value = 440.0
    assert target.sent == [
        ("/fx/reverb", [0.25]),
        ("/steps", [3]),
        ("/n_set", [1000, "freq", 440.0]),
    ]
    assert all(isinstance(v[-1], float) for _, v in target.sent[::2])
    assert isinstance(target.sent[1][1][0], int)
    assert f.osc.sent == 1 and f.osc.last_sent == [0.25]


def test_explicit_type_tag_builds_full_tag_string(target: Recorder, disp: MiniDispatcher) -> None:
    s = widgets.slider(
        "/n_set", 0.0, 1.0, args=(7, "amp"), type_tag="d", target=target, dispatcher=disp
    )
    s.value = 0.5
    assert target.messages == [("/n_set", [7, "amp", 0.5], "isd")]


def test_explicit_type_tag_with_a_python_osc_style_client(disp: MiniDispatcher) -> None:
    """A client whose send_message has no type_tags gets the encoded message through send()."""
    from osc_live.osc_message import OscMessage

    class Client:
        def __init__(self) -> None:
            self.sent: list[Any] = []

        def send_message(self, address: str, value: Any) -> None:
            raise AssertionError("must not be used for explicit tags")

        def send(self, content: Any) -> None:
            self.sent.append(content)

    c = Client()
    s = widgets.slider("/x", 0.0, 1.0, type_tag="d", target=c, dispatcher=disp)
    s.value = 0.5
    (msg,) = c.sent
    assert isinstance(msg, OscMessage) and msg.type_tags == "d" and msg.params == [0.5]


def test_throttle_limits_rate_and_delivers_final_value(
    target: Recorder, disp: MiniDispatcher
) -> None:
    s = widgets.slider("/fx/reverb", 0.0, 1.0, 0.001, target=target, dispatcher=disp)
    t0 = time.monotonic()
    for k in range(1, 1001):  # a fast drag: 1000 changes as fast as the CPU allows
        s.value = k / 1000
    rate_window = time.monotonic() - t0
    target.wait_count(2)
    time.sleep(0.05)
    values = [v[0] for _, v in target.sent]
    assert values[0] == pytest.approx(0.001) and values[-1] == 1.0  # leading edge, final value
    assert len(values) <= rate_window * 60 + 2
    assert s.osc.throttle.dropped > 900


def test_send_now_and_button_click(target: Recorder, disp: MiniDispatcher) -> None:
    s = widgets.slider("/a", 0.0, 1.0, value=0.5, target=target, dispatcher=disp)
    s.osc.send()
    b = widgets.button("/go", 1, "x", target=target)
    b.click()
    b.click()
    assert target.sent == [("/a", [0.5]), ("/go", [1, "x"]), ("/go", [1, "x"])]
    assert isinstance(b, W.Button) and "osc-addr--go" in b._dom_classes


def test_toggle_sends_on_off(target: Recorder, disp: MiniDispatcher) -> None:
    t = widgets.toggle("/fx/on", target=target, dispatcher=disp, throttle_hz=None)
    tb = widgets.toggle("/mute", on=True, off=False, target=target, dispatcher=disp)
    assert isinstance(t, W.ToggleButton)
    t.value = True
    t.value = False
    tb.value = True
    assert target.sent == [("/fx/on", [1]), ("/fx/on", [0]), ("/mute", [True])]
    disp.dispatch("/fx/on", 1)
    assert t.value is True and len(target.sent) == 3


def test_xy_sends_one_message_with_two_arguments(target: Recorder, disp: MiniDispatcher) -> None:
    pad = widgets.xy("/pad", x=(0, 1), y=(-1, 1), value=(0.5, 0.0), target=target, dispatcher=disp)
    assert isinstance(pad, W.VBox) and {"osc-xy", "osc-addr--pad"} <= set(pad._dom_classes)
    pad.x.value = 0.75
    pad.osc.throttle.flush()
    time.sleep(0.03)
    pad.y.value = -0.5
    pad.osc.throttle.flush()
    assert target.sent == [("/pad", [0.75, 0.0]), ("/pad", [0.75, -0.5])]
    disp.dispatch("/pad", f32(0.1), f32(0.9))
    assert (pad.x.value, pad.y.value) == pytest.approx((0.1, 0.9), abs=1e-12)
    assert len(target.sent) == 2


# ---------------------------------------------------------------------------- two-way
def test_incoming_moves_the_control_without_echo(target: Recorder, disp: MiniDispatcher) -> None:
    s = widgets.slider("/fx/reverb", 0.0, 1.0, target=target, dispatcher=disp)
    seen: list[float] = []
    s.observe(lambda ch: seen.append(ch["new"]), names="value")
    disp.dispatch("/fx/reverb", f32(0.3))  # float32 on the wire: 0.30000001192...
    assert s.value == 0.3 and seen == [0.3]  # tidied, and other observers do see it
    assert target.sent == []
    disp.dispatch("/fx/reverb", 0.3000000001)  # equal within the tolerance: ignored entirely
    assert s.osc.ignored_echoes == 1 and seen == [0.3]
    disp.dispatch("/fx/reverb", 5.0)  # out of range: the slider clamps, still no echo
    assert s.value == 1.0 and target.sent == []
    disp.dispatch("/fx/reverb", "not a number")
    disp.dispatch("/fx/reverb")
    assert s.value == 1.0 and s.osc.received == 3
    s.value = 0.5  # and the user can still move it
    assert target.sent == [("/fx/reverb", [0.5])]


def test_incoming_cancels_a_pending_trailing_send(target: Recorder, disp: MiniDispatcher) -> None:
    s = widgets.slider("/v", 0.0, 1.0, target=target, dispatcher=disp, throttle_hz=5)
    s.value = 0.1  # leading edge
    s.value = 0.2  # parked for the trailing edge (200 ms)
    assert s.osc.throttle.pending
    disp.dispatch("/v", 0.9)
    assert not s.osc.throttle.pending and s.value == 0.9
    time.sleep(0.25)
    assert target.sent == [("/v", [0.1])]


def test_incoming_with_leading_args_only_matches_its_own(
    target: Recorder, disp: MiniDispatcher
) -> None:
    freq = widgets.slider(
        "/n_set", 20.0, 2000.0, args=(1000, "freq"), target=target, dispatcher=disp
    )
    amp = widgets.slider("/n_set", 0.0, 1.0, args=(1000, "amp"), target=target, dispatcher=disp)
    disp.dispatch("/n_set", 1000, "freq", 440.0)
    disp.dispatch("/n_set", 1001, "amp", 0.5)  # another node
    assert freq.value == pytest.approx(440.0, abs=1e-12) and amp.value == 0.0 and target.sent == []


def test_incoming_name_value_pairs_move_every_named_control(
    target: Recorder, disp: MiniDispatcher
) -> None:
    # the synth answers /s_get 1003 freq amp with one message of two pairs
    freq = widgets.slider(
        "/n_set", 20.0, 2000.0, args=(1003, "freq"), target=target, dispatcher=disp
    )
    amp = widgets.slider("/n_set", 0.0, 1.0, args=(1003, "amp"), target=target, dispatcher=disp)
    disp.dispatch("/n_set", 1003, "freq", 440.0, "amp", 0.25)
    assert freq.value == pytest.approx(440.0, abs=1e-9) and amp.value == 0.25
    disp.dispatch("/n_set", 1003, "pan", 0.5, "amp", 0.5, "amp", 0.75)  # the last one wins
    assert amp.value == 0.75
    disp.dispatch("/n_set", 1004, "freq", 100.0, "amp", 0.1)  # another node
    disp.dispatch("/n_set", 1003, "pan", 100.0, "amp")  # not pairs
    disp.dispatch("/n_set", 1003, 7, 100.0, "amp", 0.1)  # a number where a name goes
    assert freq.value == pytest.approx(440.0, abs=1e-9) and amp.value == 0.75
    assert target.sent == []  # incoming values never echo


def test_int_and_log_sliders_follow_incoming(target: Recorder, disp: MiniDispatcher) -> None:
    i = widgets.slider("/steps", 0, 16, target=target, dispatcher=disp)
    lg = widgets.slider("/freq", 20, 20000, log=True, target=target, dispatcher=disp)
    disp.dispatch("/steps", 7.0)
    disp.dispatch("/freq", f32(440.0))
    assert i.value == 7 and lg.value == 440.0 and target.sent == []  # float32 noise dropped


def test_incoming_from_a_listener_thread_is_applied_on_the_loop(target: Recorder) -> None:
    disp = MiniDispatcher()
    applied_on: list[threading.Thread] = []

    async def main() -> None:
        s = widgets.slider("/fx/reverb", 0.0, 1.0, target=target, dispatcher=disp)
        s.observe(lambda _ch: applied_on.append(threading.current_thread()), names="value")
        t = threading.Thread(target=disp.dispatch, args=("/fx/reverb", 0.7))
        t.start()
        t.join()
        assert s.value == 0.0  # not applied from the listener thread ...
        await asyncio.sleep(0.01)
        assert s.value == 0.7  # ... but on the loop, soon after

    asyncio.run(main())
    assert applied_on == [threading.main_thread()] and target.sent == []


def test_close_unbinds(target: Recorder, disp: MiniDispatcher) -> None:
    s = widgets.slider("/fx/reverb", 0.0, 1.0, target=target, dispatcher=disp)
    assert s.osc in widgets.bindings()
    s.osc.close()
    s.value = 0.4
    assert disp.handlers["/fx/reverb"] == [] and target.sent == [] and s.osc.closed
    assert s.osc not in widgets.bindings() and "closed" in repr(s.osc)


# ---------------------------------------------------------------------------- targets, errors
def test_default_and_named_targets_resolve_lazily(
    monkeypatch: pytest.MonkeyPatch, disp: MiniDispatcher
) -> None:
    default, named = Recorder(), Recorder()

    class FakeSession:
        dispatcher = disp

        def target(self, name: str | None = None) -> Recorder:
            return named if name == "synth" else default

    monkeypatch.setattr(_binding, "_session", FakeSession)
    a = widgets.slider("/a", 0.0, 1.0)  # dispatcher from the session too
    b = widgets.slider("/b", 0.0, 1.0, target="synth")
    a.value = 0.5
    b.value = 0.5
    disp.dispatch("/a", 0.25)
    assert default.sent == [("/a", [0.5])] and named.sent == [("/b", [0.5])]
    assert a.value == 0.25


def test_send_errors_are_recorded_not_raised(disp: MiniDispatcher) -> None:
    class Down:
        ok = False
        sent: list[Any] = []

        def send_message(self, address: str, value: Any) -> None:
            if not self.ok:
                raise ConnectionRefusedError("nobody listening")
            self.sent.append((address, value))

    down = Down()
    s = widgets.slider("/a", 0.0, 1.0, target=down, dispatcher=disp)
    s.value = 0.5  # must not raise out of the observer
    assert isinstance(s.osc.last_error, ConnectionRefusedError)
    assert "osc-error" in s._dom_classes
    down.ok = True
    s.osc.send()
    assert s.osc.last_error is None and "osc-error" not in s._dom_classes


def test_bind_an_existing_widget(target: Recorder, disp: MiniDispatcher) -> None:
    dd = widgets.bind(W.Dropdown(options=["sine", "saw"], value="sine"), "/wave", target=target,
                      dispatcher=disp, throttle_hz=None)  # fmt: skip
    dd.value = "saw"
    disp.dispatch("/wave", "sine")
    assert target.sent == [("/wave", ["saw"])] and dd.value == "sine"


# ---------------------------------------------------------------------------- panel
def test_panel_lays_out_labelled_controls(target: Recorder, disp: MiniDispatcher) -> None:
    box = widgets.panel(
        {
            "/fx/reverb": (0.0, 1.0),
            "/steps": (0, 16, 2),
            "/fx/on": True,
            "/go": "button",
            "/pad": {"kind": "xy", "y": (-1, 1)},
            "/n_set 1000 freq": {"min": 20, "max": 2000, "log": True, "label": "freq"},
            "/own": widgets.slider("/own", 0.0, 1.0, target=target, dispatcher=disp),
        },
        target=target,
        dispatcher=disp,
        title="synth",
    )
    assert isinstance(box, W.VBox) and "osc-panel" in box._dom_classes
    rows = box.children[1:]
    labels = [r.children[0].value for r in rows]
    assert labels == ["/fx/reverb", "/steps", "/fx/on", "/go", "/pad", "freq", "/own"]
    c = box.controls
    assert type(c["/steps"]) is OscIntSlider and c["/steps"].step == 2
    assert type(c["/fx/on"]) is W.ToggleButton and c["/fx/on"].value is True
    assert type(c["/n_set 1000 freq"]) is OscLogSlider
    assert c["/pad"].title.layout.display == "none"  # the row label says "/pad" already
    c["/n_set 1000 freq"].value = 440.0
    c["/go"].click()
    assert target.sent == [("/n_set", [1000, "freq", 440.0]), ("/go", [])]
    with pytest.raises(ValueError, match="unknown kind"):
        widgets.panel({"/x": {"kind": "knob"}}, target=target, dispatcher=disp)
    with pytest.raises(TypeError):
        widgets.panel({"/x": 3}, target=target, dispatcher=disp)
    with pytest.raises(ValueError, match="start"):
        widgets.panel({"x": (0, 1)}, target=target, dispatcher=disp)


def test_lazy_access_from_the_package() -> None:
    import osc_live
    from osc_live.notebook import widgets as home

    assert osc_live.slider is widgets.slider
    assert osc_live.bind is widgets.bind and osc_live.text is widgets.text
    assert widgets.__all__ == home.__all__
    assert all(getattr(widgets, n) is getattr(home, n) for n in home.__all__)
    # osc_live.panel is widgets.panel, or with oscquery=URL the panel of a remote namespace
    box = osc_live.panel({"/fx/reverb": (0.0, 1.0)}, title="t")
    assert "osc-panel" in box._dom_classes and set(box.controls) == {"/fx/reverb"}
    with pytest.raises(TypeError, match="not both"):
        osc_live.panel({"/x": (0, 1)}, oscquery="http://127.0.0.1:1/")


def test_session_config_sets_default_rate_and_float_type(
    monkeypatch: pytest.MonkeyPatch, target: Recorder, disp: MiniDispatcher
) -> None:
    """%config OscLive.throttle_hz / float_type reach the controls through session options."""

    class Options:
        throttle_hz = 5.0
        float_type = "d"

    class FakeSession:
        dispatcher = disp
        options = Options()

        def target(self, name: str | None = None) -> Recorder:
            return target

    monkeypatch.setattr(_binding, "_session", FakeSession)
    s = widgets.slider("/a", 0.0, 1.0)
    fixed = widgets.slider("/b", 0.0, 1.0, throttle_hz=60, type_tag="f")
    i = widgets.slider("/c", 0, 10)
    assert s.osc.throttle.rate_hz == 5.0 and fixed.osc.throttle.rate_hz == 60.0
    s.value = 0.5
    fixed.value = 0.5
    i.value = 3
    assert target.messages == [("/a", [0.5], "d"), ("/b", [0.5], None), ("/c", [3], None)]
    assert widgets.DEFAULT_THROTTLE_HZ == 60.0


def page_sends(widget: Any, value: Any) -> None:
    """What the page does when it sends a value: an ``update`` on the widget's comm."""
    widget.set_state({"value": value})


def test_page_round_trip_of_a_log_value_is_not_a_move(disp: MiniDispatcher) -> None:
    """Issue 8: the page sends back 10 ** log10(880) on display; nothing goes out, 880 stays."""
    target = Recorder()
    freq = widgets.slider(
        "/f", 110, 1760, log=True, value=660, target=target, dispatcher=disp, throttle_hz=None
    )
    freq.value = 880
    assert target.sent == [("/f", [880.0])]
    page_sends(freq, 880.0000000010133)
    page_sends(freq, 879.9999999999999)
    assert freq.value == 880 and target.sent == [("/f", [880.0])]
    # a drag: a move, kept as the page sent it (a rounded copy would go back to the page in
    # the middle of the drag and pull the handle back when it arrives late)
    page_sends(freq, 523.4567891)
    assert freq.value == 523.4567891 and target.sent[-1] == ("/f", [523.4567891])
    freq.value = 523.4567891 * 1.0000001  # a cell: 6 significant digits again
    assert freq.value == 523.457


def test_incoming_off_step_value_is_snapped_once(disp: MiniDispatcher) -> None:
    """0.1247 on a step 0.001 slider: the kernel holds 0.125, the page has nothing to round."""
    target = Recorder()
    s = widgets.slider("/a", -1.0, 1.0, step=0.001, target=target, dispatcher=disp)
    for _ in range(3):
        disp.dispatch("/a", f32(0.1247))
        assert s.value == 0.125
        page_sends(s, 0.12500000000000003)  # noUiSlider's own arithmetic, at worst an ulp off
        assert s.value == 0.125
    assert target.sent == [] and s.osc.received == 3
    page_sends(s, 0.126)  # a drag after the incoming values: sent
    assert target.sent == [("/a", [0.126])]


def test_every_slider_kind_validates_onto_its_grid(disp: MiniDispatcher) -> None:
    target = Recorder()
    i = widgets.slider("/i", 0, 16, step=2, target=target, dispatcher=disp, throttle_hz=None)
    f = widgets.slider("/f", 20.0, 2000.0, target=target, dispatcher=disp, throttle_hz=None)
    g = widgets.slider("/g", 0.0, 1.0, step=0.3, target=target, dispatcher=disp, throttle_hz=None)
    lg = widgets.slider("/l", 20, 20000, log=True, step=0.01, target=target, dispatcher=disp)
    disp.dispatch("/i", 3)
    assert i.value == 4  # 0 + k * 2
    f.value = 440.0  # the page's own arithmetic: 440.00000000000006, a fixed point of it
    assert f.step == 10 and f.value == pytest.approx(440.0, abs=1e-12)
    assert _sliders.page_value(f.value, 20.0, 2000.0, 10.0) == f.value
    g.value = 0.97  # the page reaches the end of a partial last step only at max itself
    assert g.value == 0.9
    g.value = 1.0
    assert g.value == 1.0
    g.value = 0.62
    assert g.value == 0.6
    lg.value = 440
    assert lg.value == pytest.approx(10 ** (math.log10(20) + 134 * 0.01))
    page_sends(lg, lg.value * (1 + 1e-15))
    assert [a for a, _ in target.sent] == ["/f", "/g", "/g", "/g", "/l"]


def test_bind_snaps_incoming_values_for_stock_sliders(disp: MiniDispatcher) -> None:
    target = Recorder()
    stock = widgets.bind(
        W.FloatSlider(min=0, max=1, step=0.01), "/s", target=target, dispatcher=disp
    )
    disp.dispatch("/s", f32(0.1247))
    assert stock.value == 0.12 and target.sent == []


def test_no_private_hooks(disp: MiniDispatcher) -> None:
    """The binding uses observe() only: no instance notify_change, _send or comm wrapper."""
    s = widgets.slider("/fx/reverb", 0.0, 1.0, target=Recorder(), dispatcher=disp)
    assert "notify_change" not in vars(s) and "_send" not in vars(s)
    assert "send_first" not in getattr(s.comm._msg_callback, "__qualname__", "")


def test_kernel_side_changes_stay_throttled(disp: MiniDispatcher) -> None:
    """Only the leading-edge send moves earlier: bursts are still limited by the throttle."""
    target = Recorder()
    s = widgets.slider("/t", 0.0, 1.0, target=target, dispatcher=disp, throttle_hz=20)
    for v in (0.1, 0.2, 0.3, 0.4):
        s.value = v
    assert target.sent == [("/t", [0.1])]  # leading edge only, at once
    target.wait_count(2, timeout=1.0)
    assert target.sent == [("/t", [0.1]), ("/t", [0.4])]  # trailing edge: the final value


def test_describe_reports_kind_tags_value_ranges_and_label(
    target: Recorder, disp: MiniDispatcher
) -> None:
    """``Binding.describe()``: what an OSCQuery namespace or a remote panel needs to know."""
    freq = widgets.slider(
        "/n_set", 20, 2000, args=(1000, "freq"), log=True, value=440, target=target,
        dispatcher=disp,
    )  # fmt: skip
    info = freq.osc.describe()
    assert (info.address, info.args, info.kind, info.log) == (
        "/n_set",
        (1000, "freq"),
        "slider",
        True,
    )
    assert info.type_tags == "isf" and info.value == (1000, "freq", 440.0)
    assert info.ranges == ((20.0, 2000.0),) and info.options == (None,)
    assert info.writable and info.follows and info.label == "/n_set"
    steps = widgets.slider("/steps", 0, 16, type_tag="i", target=target, dispatcher=False)
    i = steps.osc.describe()
    assert (i.type_tags, i.value, i.ranges, i.step, i.follows) == (
        "i",
        (0,),
        ((0, 16),),
        1.0,
        False,
    )
    assert widgets.toggle("/on", target=target, dispatcher=disp).osc.describe().type_tags == "i"
    go = widgets.button("/go", "now", 2, target=target).osc.describe()
    assert (go.kind, go.type_tags, go.value, go.ranges, go.writable) == (
        "button", "si", ("now", 2), (), False,
    )  # fmt: skip
    pad = widgets.xy("/pad", x=(0, 1), y=(-1, 1), target=target, dispatcher=disp).osc.describe()
    assert (pad.kind, pad.type_tags, pad.ranges) == ("xy", "ff", ((0.0, 1.0), (-1.0, 1.0)))
    note = widgets.bind(
        W.Dropdown(options=[("C", 261.63), ("E", 329.63)], value=261.63), "/note",
        target=target, dispatcher=disp, label="note",
    )  # fmt: skip
    d = note.osc.describe()
    assert (d.kind, d.options, d.label, d.type_tags) == (
        "dropdown",
        ((261.63, 329.63),),
        "note",
        "f",
    )
    box = widgets.panel({"/fx/reverb": {"min": 0.0, "max": 1.0, "label": "reverb"}}, target=target)
    assert box.controls["/fx/reverb"].osc.describe().label == "reverb"


def test_on_value_reports_local_and_remote_changes(target: Recorder, disp: MiniDispatcher) -> None:
    s = widgets.slider("/fx/reverb", 0.0, 1.0, target=target, dispatcher=disp, throttle_hz=None)
    seen: list[tuple[Any, list[Any], bool]] = []

    def record(change: widgets.ValueChange) -> None:
        assert change.binding is s.osc
        seen.append((change.value, change.args, change.remote))

    s.osc.on_value(record)
    s.value = 0.25  # a cell (or the page): sent, remote=False
    disp.dispatch("/fx/reverb", f32(0.5))  # incoming: not sent, remote=True
    disp.dispatch("/fx/reverb", f32(0.5))  # the same value again: no change, no callback
    assert seen == [(0.25, [0.25], False), (0.5, [0.5], True)]
    assert target.sent == [("/fx/reverb", [0.25])]

    def broken(change: widgets.ValueChange) -> None:
        raise RuntimeError("a callback's bug is logged, never raised into the widget")

    s.osc.on_value(broken)
    s.value = 0.75
    s.osc.on_value(record, remove=True)
    s.osc.on_value(broken, remove=True)
    s.value = 0.1
    assert seen[-1] == (0.75, [0.75], False) and len(seen) == 3
    assert target.sent[-1] == ("/fx/reverb", [0.1])

    go = widgets.button("/go", 1, target=target, dispatcher=disp)
    clicks: list[tuple[list[Any], bool]] = []
    go.osc.on_value(lambda c: clicks.append((c.args, c.remote)))
    go.click()
    disp.dispatch("/go", 1)
    assert clicks == [([1], False), ([1], True)]


def test_text_control_sends_strings_and_follows(target: Recorder, disp: MiniDispatcher) -> None:
    name = widgets.text("/label", "hi", target=target, dispatcher=disp)
    assert isinstance(name, W.Text) and not name.continuous_update
    assert {"osc-control", "osc-text", "osc-addr--label"} <= set(name._dom_classes)
    name.value = "hello"
    name.osc.throttle.flush()
    assert target.sent == [("/label", ["hello"])]
    disp.dispatch("/label", "from afar")
    assert name.value == "from afar" and len(target.sent) == 1  # no echo
    assert name.osc.describe().type_tags == "s"
    box = widgets.panel({"/title": {"kind": "text", "value": "x"}}, target=target, dispatcher=disp)
    assert isinstance(box.controls["/title"], W.Text)


def test_page_route_republishes_in_the_page_context_after_kernel_side_changes() -> None:
    """ipykernel 7.4 routes a widget's page messages to the subshell that last published on it:
    after a change published from the main thread the binding republishes (a custom message,
    ``Widget.send``) inside the context of the page's last change, whose parent names its
    subshell. The kernel here is a stand-in keeping its parent in a ContextVar, as ipykernel
    does."""
    import contextvars

    from osc_live.notebook._subshells import ROUTE_MESSAGE, PageRoute

    parent: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar("parent")

    class Kernel:
        def get_parent(self, channel: str = "shell") -> dict[str, Any]:
            return parent.get({})

    class Widget:
        def __init__(self) -> None:
            self.sent: list[tuple[Any, str | None]] = []

        def send(self, content: Any) -> None:  # what ipykernel would publish, with its parent
            self.sent.append((content, parent.get({}).get("header", {}).get("subshell_id")))

    page_msg = {"header": {"msg_type": "comm_msg", "subshell_id": "widgets"}}
    cell_msg = {"header": {"msg_type": "execute_request"}}
    route, w = PageRoute(Kernel()), Widget()
    if not route.active:  # ipykernel 7.4 (Python >= 3.11) routes by publisher; 3.10 gets 7.3
        pytest.skip("this ipykernel does not route comm messages by publisher (needs 7.4)")
    parent.set(cell_msg)
    route.changed(w)
    assert w.sent == []  # the page never moved it: nothing to restore

    def page_change() -> None:
        parent.set(page_msg)
        route.changed(w)

    contextvars.copy_context().run(page_change)  # the page's update, in its own task context
    assert w.sent == []
    route.changed(w)  # a kernel-side change, published with the cell as parent
    assert w.sent == [(ROUTE_MESSAGE, "widgets")] and route.republished == 1
    parent.set({"header": {"msg_type": "comm_msg", "subshell_id": "widgets"}})
    route.changed(w)  # published on the page's subshell already: nothing to do
    assert len(w.sent) == 1
    assert not PageRoute(None).active
