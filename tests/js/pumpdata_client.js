// A real socket.io-client (the JavaScript tab of the PumpData subscribe_ohlcv page) against the harness's PumpData emulation.
// Usage: node pumpdata_client.js URL POOL [TRANSPORTS]. Prints one JSON line per step; the test
// drives the clock (and asks on stdin, see the end). TRANSPORTS: comma-separated Engine.IO transports (default websocket).
const { io } = require("socket.io-client");
const [url, pool, transports = "websocket"] = process.argv.slice(2);
const out = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");

const socket = io(url, { auth: { api_key: "pd_js_test" }, transports: transports.split(",") });
const seen = { ohlcv: 0, trade: 0, rows: 0, subscription_error: [] };

socket.on("ohlcv", (rows) => {
  seen.ohlcv += 1;
  for (const [t, o, h, l, c, v] of rows) {
    if (![t, o, h, l, c, v].every((x) => typeof x === "number")) out({ bad_row: rows });
    seen.rows += 1;
  }
});
socket.on("trade", (trade) => { if (trade.pool === pool) seen.trade += 1; else out({ foreign_trade: trade }); });
socket.on("subscription_error", (payload) => seen.subscription_error.push(payload));
socket.on("connect_error", (err) => { out({ connect_error: err.message }); process.exit(1); });

socket.on("connect", () => {
  socket.emit("subscribe_ohlcv", { pool }, (ack) => {
    socket.emit("subscribe_trades", { pool }, (ack2) => {
      socket.emit("subscribe_trades", {}); // no ack callback: the error comes as subscription_error
      socket.emit("ohlcv_history", { pool: "NoSuchPool111" }, (bad) => {
        out({ subscribed: true, ack, ack2, bad });
      });
    });
  });
});

// stdin, a line each: "seen" prints what it saw so far; "done" prints it and exits
require("readline").createInterface({ input: process.stdin }).on("line", (line) => {
  if (line === "seen") return out({ seen });
  out({ done: seen });
  socket.close();
  process.exit(0);
});
