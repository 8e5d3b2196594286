'use strict';
// The baseline of bench/live.sh: the simplest live-event relay a company would write in an afternoon.
// One Node process; a WebSocket server on RELAY_PORT (loopback); a client connects to /?home=<id> (no
// authentication). One ioredis subscriber connection: the relay subscribes to mb:home:<id> when the first
// socket of that home arrives and unsubscribes when its last one leaves, and sends each message published
// there, as it is, to every socket of the home. `{"type":"ready"}` tells a socket that it is live.
// No backlog limit, no resume, no membership check: only the fan-out that the gateway is compared with.

const http = require('http');
const Redis = require('ioredis');
const { WebSocketServer, WebSocket } = require('ws');

const port = Number(process.env.RELAY_PORT || 8099);
const host = process.env.RELAY_HOST || '127.0.0.1';
const redisUrl = process.env.MB_REDIS_URL || 'redis://127.0.0.1:6379';

const sub = new Redis(redisUrl);
sub.on('error', (e) => console.error(JSON.stringify({ msg: 'redis.error', error: e.message })));

// channel → { sockets: Set<WebSocket>, subscribed: Promise }
const homes = new Map();

sub.on('message', (channel, message) => {
  const home = homes.get(channel);
  if (!home) return;
  for (const ws of home.sockets) {
    if (ws.readyState === WebSocket.OPEN) ws.send(message);
  }
});

function join(channel, ws) {
  let home = homes.get(channel);
  if (!home) {
    home = { sockets: new Set(), subscribed: sub.subscribe(channel) };
    homes.set(channel, home);
    home.subscribed.catch(() => {
      if (homes.get(channel) === home) homes.delete(channel);
    });
  }
  home.sockets.add(ws);
  home.subscribed.then(
    () => {
      if (ws.readyState === WebSocket.OPEN) ws.send('{"type":"ready"}');
    },
    () => ws.close(1013, 'redis unavailable'),
  );
  return home;
}

function leave(channel, home, ws) {
  home.sockets.delete(ws);
  if (home.sockets.size === 0 && homes.get(channel) === home) {
    homes.delete(channel);
    sub.unsubscribe(channel).catch(() => {});
  }
}

const server = http.createServer((req, res) => {
  res.writeHead(req.url === '/healthz' ? 200 : 426, { 'Content-Type': 'text/plain' });
  res.end(req.url === '/healthz' ? 'ok\n' : 'WebSocket only\n');
});
const wss = new WebSocketServer({ server, clientTracking: false, maxPayload: 64 * 1024 });

wss.on('connection', (ws, req) => {
  ws.on('error', () => {});
  const id = new URL(req.url, 'http://relay').searchParams.get('home');
  if (!id || !/^[0-9]{1,18}$/.test(id)) {
    ws.close(1008, 'home: must be a number');
    return;
  }
  const channel = 'mb:home:' + id;
  const home = join(channel, ws);
  ws.on('close', () => leave(channel, home, ws));
});

server.listen(port, host, () => console.log(JSON.stringify({ msg: 'relay.listening', host, port })));

function stop() {
  server.close();
  sub.disconnect();
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
