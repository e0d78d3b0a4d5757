// A loopback proxy that adds `Authorization: Bearer <token>` to every request: lets MCP test
// clients that cannot send headers (the conformance suite) reach kubemend's authenticated /mcp.
// Test-only; usage: node auth-proxy.mjs LISTEN_PORT TARGET_URL TOKEN
import http from 'node:http';

const [listen, target, token] = [Number(process.argv[2]), new URL(process.argv[3]), process.argv[4]];
http
  .createServer((request, response) => {
    const headers = { ...request.headers, authorization: `Bearer ${token}`, host: target.host };
    const upstream = http.request(
      { host: target.hostname, port: target.port, path: request.url, method: request.method, headers },
      (reply) => {
        response.writeHead(reply.statusCode ?? 502, reply.headers);
        reply.pipe(response);
      },
    );
    upstream.on('error', () => {
      response.writeHead(502);
      response.end();
    });
    request.pipe(upstream);
  })
  .listen(listen, '127.0.0.1', () => process.stdout.write('ready\n'));
