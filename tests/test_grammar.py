"""The shared %osc / osc-live grammar: tokens, values, tags, endpoints, commands."""

from __future__ import annotations

import math
import time
from typing import Any

import pytest

from osc_live.magics import grammar as g
from osc_live.osc_message import OscMessage, encode_message
from osc_live.parsing.ntp import ntp_to_unix


def send(line: str, ns: dict[str, Any] | None = None, **kw: Any) -> g.MessageSpec:
    cmd = g.parse_command("send " + line, ns, **kw)
    assert isinstance(cmd, g.Send)
    return cmd.message


def test_tokenize_keeps_brackets_strings_and_expressions_whole() -> None:
    words = [t.text for t in g.tokenize("send /x [1, 2] 'a b' {{ x + 1 }} b'\\x00 ' # note")]
    assert words == ["send", "/x", "[1, 2]", "'a b'", "{{ x + 1 }}", "b'\\x00 '"]


@pytest.mark.parametrize(
    ("text", "value", "tag"),
    [
        ("1", 1, "i"),
        ("-2147483648", -(2**31), "i"),
        ("2147483648", 2**31, "h"),
        ("2.5", 2.5, "f"),
        ("'two words'", "two words", "s"),
        ("freq", "freq", "s"),
        ("True", True, "T"),
        ("False", False, "F"),
        ("None", None, "N"),
        ("T", True, "T"),
        ("F", False, "F"),
        ("N", None, "N"),
        ("I", None, "I"),
        ("b'\\x01'", b"\x01", "b"),
        ("[1, 'a']", [1, "a"], "[is]"),
        ("i:3", 3, "i"),
        ("i:3.0", 3, "i"),
        ("h:5", 5, "h"),
        ("f:1", 1.0, "f"),
        ("d:0.1", 0.1, "d"),
        ("s:abc", "abc", "s"),
        ("s:'a b'", "a b", "s"),
        ("s:123", "123", "s"),
        ("S:sym", "sym", "S"),
        ("c:z", "z", "c"),
        ("b:00ff", b"\x00\xff", "b"),
        ("m:[0,144,60,100]", (0, 144, 60, 100), "m"),
        ("r:0xff0000ff", 0xFF0000FF, "r"),
    ],
)
def test_argument_values_and_tags(text: str, value: Any, tag: str) -> None:
    spec = send(f"/x {text}")
    assert spec.args == (value,)
    assert spec.type_tags == tag


def test_timetag_argument_is_relative() -> None:
    spec = send("/x t:+0.5")
    assert spec.type_tags == "t"
    assert ntp_to_unix(spec.args[0].ntp) == pytest.approx(time.time() + 0.5, abs=0.05)


@pytest.mark.parametrize("text", ["t:+0.5", "t:now", "t:1", "t:17203159808799437824"])
def test_timetag_argument_encodes(text: str) -> None:
    """``%osc send /x t:+0.5`` / ``osc-live send URL /x t:+0.5`` sends the timetag it says (the
    parsed NTP value was once re-read as Unix seconds: "outside the NTP timetag range")."""
    spec = send(f"/x {text}")
    (tag,) = spec.args
    raw = OscMessage(encode_message("/x", list(spec.args), spec.encode_tags)).dgram[-8:]
    assert int.from_bytes(raw, "big") == tag.ntp
    if text.startswith("t:+"):
        assert ntp_to_unix(tag.ntp) == pytest.approx(time.time() + 0.5, abs=0.05)
    elif text[2:].isdigit():
        assert tag.ntp == int(text[2:])


def test_float_type_d() -> None:
    spec = send("/x 0.1 [0.5]", float_tag="d")
    assert spec.type_tags == "d[d]" and spec.encode_tags == "d[d]"
    assert send("/x 0.1").encode_tags is None  # inference gives the same


def test_interpolation() -> None:
    ns = {"a": 3, "xs": (1, 2.5), "name": "fx"}
    spec = send("/{{name}}/amp $a {{a * 2}} *$xs *{{[7]}} f:$a", ns)
    assert spec.address == "/fx/amp"
    assert spec.args == (3, 6, 1, 2.5, 7, 3.0)
    assert spec.type_tags == "iiifif"


def test_numpy_values_become_python(monkeypatch: pytest.MonkeyPatch) -> None:
    np = pytest.importorskip("numpy")
    spec = send("/x $v $arr", {"v": np.float32(0.5), "arr": np.array([1, 2])})
    assert spec.args == (0.5, [1, 2]) and spec.type_tags == "f[ii]"


def test_patterns_pass_untouched() -> None:
    assert send("/{a,b}/amp 1", {"a": 1, "b": 2}).address == "/{a,b}/amp"
    assert send("/synth/*/freq[0-9] 1").address == "/synth/*/freq[0-9]"


def test_infinite_floats_and_nan() -> None:
    spec = send("/x f:inf d:-inf f:nan")
    assert spec.args[0] == math.inf and spec.args[1] == -math.inf and math.isnan(spec.args[2])


@pytest.mark.parametrize(
    ("text", "endpoint"),
    [
        ("9000", g.Endpoint("udp", "127.0.0.1", 9000)),
        ("udp://10.0.0.2:57120", g.Endpoint("udp", "10.0.0.2", 57120)),
        ("tcp://localhost:57110", g.Endpoint("tcp", "localhost", 57110)),
        ("host:1", g.Endpoint("udp", "host", 1)),
        ("tcp://[::1]:9000", g.Endpoint("tcp", "::1", 9000)),
        ("tcp://synth", g.Endpoint("tcp", "synth", 0)),
    ],
)
def test_endpoints(text: str, endpoint: g.Endpoint) -> None:
    assert g.parse_endpoint(text) == endpoint


def test_endpoint_url_round_trip() -> None:
    assert g.Endpoint("tcp", "::1", 9).url == "tcp://[::1]:9"
    assert g.parse_endpoint("tcp://:9000", listening=True, default_host="0.0.0.0").host == "0.0.0.0"


def test_commands() -> None:
    assert g.parse_command("connect") == g.Connect(None, None, "1.1")
    assert g.parse_command("connect synth") == g.Connect("synth", None, "1.1")
    assert g.parse_command("connect s tcp://h:1 --mode 1.0") == g.Connect(
        "s", g.Endpoint("tcp", "h", 1), "1.0"
    )
    listen = g.parse_command("listen in tcp://:9000 --mode 1.0 --thread")
    assert listen == g.Listen("in", g.Endpoint("tcp", "127.0.0.1", 9000), "1.0", True)
    assert g.parse_command("listen") == g.Listen(None, g.Endpoint("udp", "127.0.0.1", 0))
    assert g.parse_command("monitor /a/*") == g.Monitor("/a/*")
    assert g.parse_command("plot /x --points 50") == g.Plot("/x", 50)
    assert g.parse_command("status") == g.Status()
    assert g.parse_command("close") == g.Close(None)
    assert g.parse_command("close all") == g.Close(None)
    assert g.parse_command("close @me") == g.Close("me")
    assert g.parse_command("help send") == g.Help("send")
    assert g.parse_command("") == g.Help(None)
    assert g.parse_command("send @t /x").target == "t"  # type: ignore[union-attr]
    on = g.parse_command("on /x obj.method", {"obj": type("O", (), {"method": print})})
    assert isinstance(on, g.On) and on.function is print
    explain = g.parse_command("explain --tcp 1.1 --at +1 /x '--not-an-option'")
    assert isinstance(explain, g.Explain)
    assert explain.tcp == "1.1" and explain.bundle
    assert explain.messages[0].args == ("--not-an-option",)


def test_lenient_mode_for_shell_words() -> None:
    tokens = [g.Token(w, i) for i, w in enumerate(["send", "/x", "two words", "1+"])]
    cmd = g.parse_tokens(tokens, {}, lenient=True)
    assert isinstance(cmd, g.Send) and cmd.message.args == ("two words", "1+")


def test_cell() -> None:
    cell = g.parse_cell("@s --at +0.25", "/a 1\n\n# c\n/b 2  # trailing\n")
    assert cell.header.target == "s" and cell.header.bundle
    assert cell.header.at == pytest.approx(time.time() + 0.25, abs=0.05)
    assert [m.address for m in cell.messages] == ["/a", "/b"]


def test_usage_lists_every_subcommand() -> None:
    text = g.usage()
    for sub in g.SUBCOMMANDS:
        assert f"%osc {sub}" in text
    assert "$name" in text and "{{expr}}" in text


def test_dollar_name_inside_words_urls_and_addresses() -> None:
    ns = {"i": 3, "port": 9000, "host": "127.0.0.1", "stem": "kick", "a": 1, "b": 2}
    spec = send("/track/$i/vol $i pre$i $stem.wav s:x$i", ns)
    assert spec.address == "/track/3/vol"
    assert spec.args == (3, "pre3", "kick.wav", "x3")  # $name ends at a non-identifier char
    assert spec.type_tags == "isss"
    connect = g.parse_command("connect out udp://$host:$port", ns)
    assert connect == g.Connect("out", g.Endpoint("udp", "127.0.0.1", 9000))
    assert g.parse_command("listen tcp://:$port", ns).endpoint.port == 9000  # type: ignore[union-attr]
    assert g.parse_command("connect udp://127.0.0.1:{{port + 1}}", ns).endpoint.port == 9001  # type: ignore[union-attr]


def test_dollar_escape_quotes_and_patterns_stay_literal() -> None:
    ns = {"a": 1, "b": 2, "usd": 9}
    assert send("/price$$usd 1", ns).address == "/price$usd"
    assert send("/{a,b}/amp 1", ns).address == "/{a,b}/amp"
    spec = send("/x '$usd' \"a $b\" $$ [1, '$a'] {{'$' + str(a)}}", ns)
    assert spec.args == ("$usd", "a $b", "$", [1, "$a"], "$1")
    with pytest.raises(g.GrammarError, match=r"undefined variable '\$nope' in '/x/\$nope'.*\$\$"):
        send("/x/$nope", ns)
    with pytest.raises(g.GrammarError, match=r"undefined variable '\$nope'"):
        send("/x a$nope", ns)


def test_cli_words_keep_their_dollar() -> None:
    tokens = [g.Token(w, i) for i, w in enumerate(["send", "/price$usd", "pa$word", "$5"])]
    cmd = g.parse_tokens(tokens, {}, lenient=True)
    assert isinstance(cmd, g.Send)
    assert cmd.message.address == "/price$usd" and cmd.message.args == ("pa$word", "$5")


@pytest.mark.parametrize(
    ("line", "words", "silenced"),
    [
        ("send /x 1;", ["send", "/x", "1"], True),
        ("send /x 1 ;", ["send", "/x", "1"], True),
        ("send /x 1;  # note", ["send", "/x", "1"], True),
        ("send /x 'a;'", ["send", "/x", "'a;'"], False),
        ("send /x 'a';", ["send", "/x", "'a'"], True),
        ("send /x a;;", ["send", "/x", "a;"], True),
        ("send /x {{ 1; }}", ["send", "/x", "{{ 1; }}"], False),
        ("status", ["status"], False),
        (";", [], True),
    ],
)
def test_strip_semicolon(line: str, words: list[str], silenced: bool) -> None:
    tokens, quiet = g.strip_semicolon(g.tokenize(line))
    assert [t.text for t in tokens] == words and quiet is silenced


def test_cell_semicolon_on_the_first_or_last_line() -> None:
    cell = g.parse_cell("--bundle;", "/a 1\n/b 2;  # done\n", semicolon=True)
    assert cell.silenced and cell.header.bundle
    assert [m.args for m in cell.messages] == [(1,), (2,)]
    assert g.parse_cell("", "/a 1\n;\n", semicolon=True).silenced
    assert not g.parse_cell("", "/a 1", semicolon=True).silenced
    with pytest.raises(g.GrammarError, match="line 1"):  # only the last line's ';' is the mark
        g.parse_cell("", "/a 1;\n/b 2", semicolon=True)
    with pytest.raises(g.GrammarError):  # the CLI's stdin: a ';' is no mark
        g.parse_cell("", "/a 1;", {})


def test_expr_inside_a_quoted_string_keeps_no_quotes() -> None:
    cmd = g.parse_command("send /x 'a {{x + 1}} b' \"q {{x}}\" '$y'", {"x": 1, "y": 2})
    assert isinstance(cmd, g.Send)
    assert cmd.message.args == ("a 2 b", "q 1", "$y")
    assert cmd.message.type_tags == "sss"
