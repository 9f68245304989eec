// A socket.io-client whose connect the server refuses: prints the reason it was given.
// Usage: node pumpdata_refused.js URL AUTH_JSON
const { io } = require("socket.io-client");
const [url, auth] = process.argv.slice(2);
const socket = io(url, { auth: JSON.parse(auth), reconnection: false });
socket.on("connect_error", (err) => {
  process.stdout.write(JSON.stringify({ connect_error: err.message }) + "\n");
  socket.close();
});
socket.on("connect", () => {
  process.stdout.write(JSON.stringify({ connected: true }) + "\n");
  socket.close();
});
