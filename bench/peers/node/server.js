// A peer shaped like Herald's seed design: a map of user -> socket, and
// POST /send pushes a DESKTOP message and a COUNT to each target socket.
// Nothing is stored. Usage: node server.js PORT
'use strict';
const http = require('http');
const { WebSocketServer } = require('ws');

const port = Number(process.argv[2] || 8788);
const sockets = new Map(); // user -> WebSocket
const counts = new Map(); // user -> unread count

const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });

function reply(res, status, value) {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/health') return reply(res, 200, { ok: true });
  if (req.method !== 'POST' || req.url !== '/send') return reply(res, 404, { error: 'not found' });
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (chunk) => { body += chunk; });
  req.on('end', () => {
    let msg;
    try { msg = JSON.parse(body); } catch { return reply(res, 400, { error: 'bad json' }); }
    const targets = msg.broadcast ? Array.from(sockets.keys()) : (msg.to || []);
    const desktop = JSON.stringify({ type: 'DESKTOP', title: msg.title, content: msg.content });
    for (const user of targets) {
      const ws = sockets.get(user);
      if (!ws) continue;
      const count = (counts.get(user) || 0) + 1;
      counts.set(user, count);
      ws.send(desktop);
      ws.send(JSON.stringify({ type: 'COUNT', count }));
    }
    reply(res, 200, { recipients: targets.length });
  });
});

server.on('upgrade', (req, socket, head) => {
  const url = new URL(req.url, 'http://localhost');
  const user = url.searchParams.get('user');
  if (url.pathname !== '/ws' || !user) return socket.destroy();
  wss.handleUpgrade(req, socket, head, (ws) => {
    sockets.set(user, ws);
    ws.on('close', () => { if (sockets.get(user) === ws) sockets.delete(user); });
    ws.on('error', () => {});
    ws.on('message', () => {});
  });
});

server.keepAliveTimeout = 120000;
server.listen(port, '127.0.0.1');
