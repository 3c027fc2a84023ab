"""Generate tests/notebooks_fixtures/live_roundtrip.ipynb."""

import nbformat

FDS = (
    "def socket_fds():\n    import os\n    n = 0\n    for fd in os.listdir('/proc/self/fd'):\n"
    "        try:\n            n += os.readlink(f'/proc/self/fd/{fd}').startswith('socket:')\n"
    "        except OSError:\n            pass\n    return n\n"
)
cells = [
    FDS + "fds_before = socket_fds()",
    "%load_ext osc_live\n%load_ext osc_live",
    "%osc connect",
    "%osc send /ping 1 2.5 'hi'",
    "lis = %osc listen 0\nlis",
    "seen = []\n\ndef on_sensor(address, *args):\n    seen.append([address, list(args)])\n\n%osc on /sensor/* on_sensor",
    "%osc connect me udp://127.0.0.1:{{lis.port}}",
    "%osc plot /sensor/x",
    "for i in range(20):\n    %osc send @me /sensor/x {{i / 20}}",
    "%osc monitor",
    "%%osc @synth --at +0.05\n/s_new default 1001 0 1 freq 440\n/n_set 1001 amp 0.2  # a comment",
    "import asyncio\n\nasync def later():\n    await asyncio.sleep(0.01)\n    return 42\n\nasync_result = asyncio.run(later())  # runs as written in a notebook\nasync_result",
    # a burst into the loop listener while the cell awaits: refreshes stay bounded
    "import socket, threading, time\nfrom osc_live.osc_message import encode_message\n"
    "from osc_live.live import session\n"
    "mon = session().views[-1]\nframes0 = mon.frames\n"
    "def burst(n=3000):\n    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
    "    for k in range(n):\n        s.sendto(encode_message('/burst', [k]), ('127.0.0.1', lis.port))\n"
    "        if k % 100 == 99:\n            time.sleep(0.01)\n    s.close()\n"
    "t0 = time.monotonic()\nth = threading.Thread(target=burst)\nth.start()\n"
    "while th.is_alive():\n    await asyncio.sleep(0.05)\nth.join()\n"
    "await asyncio.sleep(0.5)\nburst_seconds = time.monotonic() - t0\nburst_frames = mon.frames - frames0",
    # a threaded listener receives while a cell blocks in time.sleep
    "tl = %osc listen blocking 0 --thread\n"
    "%osc connect tl udp://127.0.0.1:{{tl.port}}\n"
    "%osc send /sensor/y 1\n%osc send /sensor/y 2\n"
    "deadline = time.monotonic() + 5\n"
    "while len([s for s in seen if s[0] == '/sensor/y']) < 2 and time.monotonic() < deadline:\n"
    "    time.sleep(0.02)",
    "await asyncio.sleep(0.3)\n%osc status",
    # the reference document's async TCP example, with asyncio.run as written
    "import asyncio\nfrom osc_live import tcp_client\n\nPORT = session().synth.tcp_address[1]\n\n"
    "async def async_context_example():\n"
    "    async with tcp_client.AsyncTCPClient('127.0.0.1', PORT) as client:\n"
    "        await client.send_message('/ping', [1])\n"
    "        await client.send_message('/ping', [2])\n"
    "        await client.send_message('/ping', [3])\n"
    "        replies = []\n"
    "        async for message in client.receive(timeout=5):\n"
    "            replies.append([message.address, message.params])\n"
    "            if len(replies) >= 3:\n"
    "                break\n"
    "        return replies\n\n"
    "tcp_replies = asyncio.run(async_context_example())\ntcp_replies",
    "import json\nses = session()\nplot = [v for v in ses.views if v.kind == 'plot'][0]\n"
    "state = {\n"
    "    'seen': seen,\n"
    "    'plot_count': plot.count,\n"
    "    'plot_series': plot.series(),\n"
    "    'totals': dict(ses.traffic.totals),\n"
    "    'burst_rows': [r.count for r in ses.traffic.snapshot() if r.address == '/burst'],\n"
    "    'burst_frames': burst_frames,\n"
    "    'burst_seconds': burst_seconds,\n"
    "    'synth': ses.synth.snapshot(),\n"
    "    'async_result': async_result,\n"
    "    'tcp_replies': tcp_replies,\n"
    "    'loop': ses.status()['loop'],\n"
    "    'live_display': ses.live_display,\n"
    "}\nprint(json.dumps(state))",
    "%unload_ext osc_live",
    "import gc\ngc.collect()\nawait asyncio.sleep(0.2)\n"
    "tasks = [t.get_name() for t in asyncio.all_tasks() if not t.done() and 'osc_live' in repr(t).lower()]\n"
    "threads = [t.name for t in threading.enumerate() if t.name.startswith('osc_live')]\n"
    "print(json.dumps({'tasks': tasks, 'threads': threads, 'fds_before': fds_before, 'fds_after': socket_fds()}))",
]
nb = nbformat.v4.new_notebook()
nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
nbformat.write(nb, "/work/main/tests/notebooks_fixtures/live_roundtrip.ipynb")
