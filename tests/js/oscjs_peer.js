// osc.js (npm "osc" 2.4.5) WebSocketPort as a peer of osc_live's tests.
//
//   node oscjs_peer.js client URL [EXPECT] [SEND]
//       Connect a WebSocketPort to URL. SEND (default "all"): "all" sends ALL_TYPES, a
//       bundle and a nested array; a JSON array of osc.js packets sends those. Print each
//       packet received as one JSON line, exit after EXPECT packets (default 1) or 10 s.
//   node oscjs_peer.js server
//       Listen on 127.0.0.1 (a free port) with the "ws" server, each connection wrapped in a
//       WebSocketPort; print {"listening": PORT}; print every packet received and send it back
//       to its sender (re-encoded by osc.js); send ALL_TYPES to every new connection; exit when
//       stdin closes.
//
// Packets are printed with osc.js metadata (typed arguments); values that JSON cannot carry are
// converted: Uint8Array -> list of bytes, Long -> decimal string.
"use strict";

const osc = require("osc");
const Long = require("long");
const WebSocket = require("ws");

// osc.js 2.4.5 reads a blob as new Uint8Array(dv.buffer, offset, len), ignoring the byte offset
// of the view it parses; in Node, ws hands it Buffers that are slices of a larger pool, so every
// blob it receives comes out as the wrong bytes. Browsers get ArrayBuffers (offset 0): make Node
// do the same, so these tests see osc.js as a browser page runs it.
osc.WebSocketPort.setupSocketForBinary = function (socket) {
    socket.binaryType = "arraybuffer";
};

const ALL_TYPES = {
    address: "/oscjs/types",
    args: [
        { type: "i", value: -42 },
        { type: "h", value: Long.fromString("1099511627776") },
        { type: "f", value: 0.5 },
        { type: "d", value: 0.1 },
        { type: "s", value: "h\u00e9llo" },
        { type: "S", value: "sym" },
        { type: "b", value: new Uint8Array([0, 1, 255]) },
        { type: "t", value: { raw: [3, 5] } },
        { type: "T", value: true },
        { type: "F", value: false },
        { type: "N", value: null },
        { type: "I", value: 1.0 },
        { type: "c", value: "A" },
        { type: "r", value: { r: 255, g: 0, b: 128, a: 1 } },
        { type: "m", value: new Uint8Array([0, 0x90, 60, 127]) },
        [{ type: "i", value: 1 }, { type: "s", value: "in array" }],
    ],
};

// osc.js writes nested arrays but cannot read them back (2.4.5: "an open array type tag ('[')
// was found without a matching close"), so nesting is only sent, never expected back.
const NESTED = {
    address: "/oscjs/nested",
    args: [[{ type: "i", value: 1 }, [{ type: "s", value: "deep" }]]],
};

const BUNDLE = {
    timeTag: osc.timeTag(0),
    packets: [
        { address: "/oscjs/b1", args: [{ type: "i", value: 1 }] },
        { address: "/oscjs/b2", args: [{ type: "s", value: "two" }] },
    ],
};

function plain(value) {
    if (value instanceof Uint8Array) return Array.from(value);
    if (Long.isLong(value)) return value.toString();
    if (Array.isArray(value)) return value.map(plain);
    if (value && typeof value === "object") {
        const out = {};
        for (const k of Object.keys(value)) out[k] = plain(value[k]);
        return out;
    }
    return value;
}

function print(obj) {
    process.stdout.write(JSON.stringify(plain(obj)) + "\n");
}

function client(url, expect, send) {
    const port = new osc.WebSocketPort({ url: url, metadata: true });
    let got = 0;
    const timer = setTimeout(() => { print({ timeout: got }); process.exit(2); }, 10000);
    port.on("ready", () => {
        const packets = send === "all" ? [ALL_TYPES, BUNDLE, NESTED] : JSON.parse(send);
        for (const p of packets) port.send(p);
        if (expect === 0) { clearTimeout(timer); setTimeout(() => { port.close(); process.exit(0); }, 100); }
    });
    port.on("osc", (packet) => {
        print(packet);
        got += 1;
        if (got >= expect) { clearTimeout(timer); port.close(); setTimeout(() => process.exit(0), 50); }
    });
    port.on("error", (err) => { print({ error: String(err && err.message || err) }); });
    port.on("close", () => { if (got < expect) { print({ closed: got }); process.exit(3); } });
    port.open();
}

function server() {
    const wss = new WebSocket.Server({ host: "127.0.0.1", port: 0 });
    wss.on("listening", () => print({ listening: wss.address().port }));
    wss.on("connection", (socket) => {
        const port = new osc.WebSocketPort({ socket: socket, metadata: true });
        port.on("osc", (packet) => { print(packet); port.send(packet); });
        port.on("error", (err) => print({ error: String(err && err.message || err) }));
        port.send(ALL_TYPES);
    });
    process.stdin.on("end", () => { wss.close(); process.exit(0); });
    process.stdin.resume();
}

const [mode, url, expect, send] = process.argv.slice(2);
if (mode === "client") client(url, Number(expect || 1), send || "all");
else if (mode === "server") server();
else { console.error("usage: oscjs_peer.js client URL [EXPECT] [SEND] | server"); process.exit(64); }
