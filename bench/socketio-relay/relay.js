// A minimal Socket.io relay that stores nothing, like the seed's real-time layer: each socket
// says who it is in the handshake query (?user=<id>); a `message` is relayed to the recipient's
// socket and acked to the sender (Socket.io ack callback); the recipient's `ack` is answered
// and relayed to the sender as `delivered`. For bench/messaging.sh only.
// Usage: PORT=18490 node relay.js   (listens on 127.0.0.1 only)
const http = require('node:http');
const { Server } = require('socket.io');

const port = Number(process.env.PORT || 18490);
const server = http.createServer();
const io = new Server(server, { transports: ['websocket'], serveClient: false });
const users = new Map();

io.on('connection', (socket) => {
  const user = String(socket.handshake.query.user || socket.id);
  users.set(user, socket);
  socket.on('message', (m, cb) => {
    const to = users.get(m && m.to);
    if (to) to.emit('message', { ...m, from: user });
    if (typeof cb === 'function') cb({ ok: !!to, id: m && m.id });
  });
  socket.on('ack', (a, cb) => {
    const to = users.get(a && a.to);
    if (to) to.emit('delivered', { id: a.id, by: user });
    if (typeof cb === 'function') cb({ ok: true });
  });
  socket.on('disconnect', () => { if (users.get(user) === socket) users.delete(user); });
});

server.listen(port, '127.0.0.1', () => console.log(`relay listening on 127.0.0.1:${port}`));
process.on('SIGTERM', () => process.exit(0));
