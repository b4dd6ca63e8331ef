// The Web PubSub emulator: a local stand-in of the Azure Web PubSub service
// (as Microsoft's emulator is), for "make run" and the tests: it holds
// WebSocket clients, calls an event handler with signed CloudEvents, and
// answers the REST data-plane API, as the service does (the facts are in
// docs/protocol.md).  Not part of the module; the chat app is in ../demo.
//
//   WPS_PORT=8081 WPS_ENDPOINT=http://127.0.0.1:8081 WPS_KEYS=key1,key2 \
//   WPS_EVENT_HANDLER='http://127.0.0.1:8080/eventhandler/{event}' \
//   node emulator/service.js
//
// Environment:
//   WPS_PORT           port to listen on, on 127.0.0.1 (required)
//   WPS_ENDPOINT       the service's public http URL (default
//                      http://127.0.0.1:WPS_PORT): token audiences are
//                      checked against it and nextLinks built on it
//   WPS_KEYS           access keys, comma-separated (at least one): any of
//                      them verifies a token; webhooks carry one
//                      ce-signature value per key, the first key's first;
//                      :generateToken signs with the first
//   WPS_EVENT_HANDLER  event handler URL template, {hub} and {event}
//                      replaced (with "validate" for the abuse-protection
//                      handshake); a loopback host only; empty: no
//                      event handler (connections are accepted as the token
//                      says, user events are dropped and acked)
//   WPS_LOG            optional JSON-lines file of what it did, one object
//                      per line with "time" and "kind": connection.opened,
//                      connection.rejected (status, reason),
//                      connection.recovery_refused, connection.closed (code,
//                      reason, by), upstream.validate (ok, reason),
//                      upstream.event (event, status or error, attempt),
//                      client.request (type, success, error), rest (op,
//                      status, auth), message.delivered (from, count,
//                      connections), service.listening, service.stopping
//   WPS_LIFETIME       optional seconds after which it stops by itself
//   WPS_ENTRA_TOKEN    optional bearer string accepted as an Entra ID
//                      token, for :generateToken only
//   WPS_PAGE_SIZE      optional size of list pages when the caller gives no
//                      maxpagesize (default 200, as the service)
//   WPS_RECORD         optional JSON-lines file: recording mode, for the
//                      REST tests (lib/recorder.js): REST only, over a
//                      fixed world that forgets every change, each request
//                      logged as received, failures injected through
//                      /__control; :generateToken issues its tokens as of
//                      the start, so that the same call gets the same token
//
// Clients connect to ws://127.0.0.1:PORT/client/hubs/{hub} (or the legacy
// /client/?hub={hub}) with access_token=<JWT> or Authorization: Bearer,
// using json.webpubsub.azure.v1, json.reliable.webpubsub.azure.v1 or no
// subprotocol (raw).  Reliable reconnection (awps_connection_id) is refused
// with close code 1008, after which the official client starts a new
// connection.  It prints "web pubsub local service on http://127.0.0.1:PORT"
// once listening, and stops on SIGINT or SIGTERM (clients get close code
// 1001, the event handler their disconnected events, within 2 seconds).

"use strict";

const http = require("node:http");
const { Registry } = require("./lib/hubs");
const { Upstream } = require("./lib/upstream");
const { ClientService } = require("./lib/clients");
const { RestApi } = require("./lib/rest");
const { Recorder, fixedWorld, nobody } = require("./lib/recorder");
const { createLog, splitUrl } = require("./lib/util");

const MAX_BODY = 16 * 1024 * 1024;   // bytes of a REST request body
const STOP_GRACE = 2000;             // ms for the last events on shutdown

function fail(message) {
  console.error(`service: ${message}`);
  process.exit(2);
}

function loopback(host) {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

function config(env) {
  const port = Number(env.WPS_PORT);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    fail("WPS_PORT must be a port number");
  }
  const keys = (env.WPS_KEYS || "").split(",").filter((k) => k.length > 0);
  if (keys.length === 0) {
    fail("WPS_KEYS must hold at least one access key");
  }
  const endpoint = (env.WPS_ENDPOINT || `http://127.0.0.1:${port}`).replace(/\/+$/, "");
  let endpointUrl;
  try {
    endpointUrl = new URL(endpoint);
  } catch (e) {
    fail(`WPS_ENDPOINT is not a URL: ${endpoint}`);
  }
  if (!/^https?:$/.test(endpointUrl.protocol)) {
    fail("WPS_ENDPOINT must be an http or https URL");
  }
  const handler = env.WPS_EVENT_HANDLER || "";
  if (handler) {
    let u;
    try {
      u = new URL(handler.replace(/\{hub\}/gi, "hub").replace(/\{event\}/gi, "event"));
    } catch (e) {
      fail(`WPS_EVENT_HANDLER is not a URL template: ${handler}`);
    }
    if (!/^https?:$/.test(u.protocol) || !loopback(u.hostname)) {
      fail("WPS_EVENT_HANDLER must be an http(s) URL on a loopback address");
    }
  }
  let pageSize = 0;
  if (env.WPS_PAGE_SIZE) {
    pageSize = Number(env.WPS_PAGE_SIZE);
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 200) {
      fail("WPS_PAGE_SIZE must be 1..200");
    }
  }
  const record = env.WPS_RECORD || "";
  if (record && handler) {
    fail("WPS_RECORD (recording mode: REST only) takes no WPS_EVENT_HANDLER");
  }
  let lifetime = 0;
  if (env.WPS_LIFETIME) {
    lifetime = Number(env.WPS_LIFETIME);
    if (!(lifetime > 0)) {
      fail("WPS_LIFETIME must be a positive number of seconds");
    }
  }
  return {
    port, keys, endpoint, handler, lifetime, pageSize, record,
    origin: endpointUrl.origin,
    host: endpointUrl.hostname.replace(/^\[|\]$/g, ""),
    log: env.WPS_LOG || "",
    entraToken: env.WPS_ENTRA_TOKEN || "",
  };
}

// hooks.annotate(req, line): adds to a recording mode log line
function main(env, hooks) {
  const cfg = config(env);
  const log = createLog(cfg.log);
  const started = Math.floor(Date.now() / 1000);
  let recorder = null;
  let upstream = null;
  let registry;
  let clients;
  if (cfg.record) {
    registry = fixedWorld;
    clients = nobody;
  } else {
    registry = new Registry();
    upstream = new Upstream({ template: cfg.handler, origin: cfg.host, keys: cfg.keys, log });
    clients = new ClientService({ endpoint: cfg.endpoint, keys: cfg.keys, registry,
                                  upstream, log });
  }
  const rest = new RestApi({ origin: cfg.origin, endpoint: cfg.endpoint, keys: cfg.keys,
                             entraToken: cfg.entraToken, registry, clients, log,
                             pageSize: cfg.pageSize,
                             now: cfg.record ? () => started : undefined });
  if (cfg.record) {
    recorder = new Recorder({ file: cfg.record, rest, annotate: (hooks || {}).annotate });
  }

  const server = http.createServer((req, res) => {
    const { path } = splitUrl(req.url);
    if (recorder) {
      recorder.arrive(req);
    } else if (clients.isClientPath(path)) {
      log("connection.rejected", { url: path, status: 400, reason: "not a WebSocket request" });
      res.writeHead(400, { "Content-Type": "text/plain; charset=utf-8" });
      res.end("WebSocket requests only\n");
      return;
    }
    const chunks = [];
    let size = 0;
    let tooBig = false;
    req.on("data", (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        tooBig = true;
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      if (tooBig) {
        res.writeHead(413, { "Content-Type": "application/json; charset=utf-8" });
        res.end(JSON.stringify({ code: "Error.PayloadTooLarge",
                                 message: "request body too large", target: "Request" }));
        return;
      }
      (recorder || rest).handle(req, res, Buffer.concat(chunks));
    });
    req.on("error", () => req.socket.destroy());
  });
  server.on("upgrade", (req, socket, head) => {
    if (recorder) {
      socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    clients.handleUpgrade(req, socket, head).catch((e) => {
      log("connection.rejected", { url: req.url, status: 500, reason: e.message });
      socket.destroy();
    });
  });
  server.on("clientError", (err, socket) => {
    if (socket.writable) {
      socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    }
    socket.destroy();
  });
  server.keepAliveTimeout = 5000;

  let stopping = false;
  async function stop(why) {
    if (stopping) {
      return;
    }
    stopping = true;
    log("service.stopping", { why });
    if (recorder) {
      process.exit(0);
    }
    setTimeout(() => process.exit(0), STOP_GRACE + 1000).unref();
    server.close();
    clients.shutdown();
    await new Promise((resolve) => setImmediate(resolve));
    await upstream.drain(STOP_GRACE);
    upstream.close();
    server.closeAllConnections();
    process.exit(0);
  }
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
  if (cfg.lifetime > 0) {
    setTimeout(() => stop("WPS_LIFETIME"), cfg.lifetime * 1000).unref();
  }

  server.on("error", (e) => fail(e.message));
  server.listen(cfg.port, "127.0.0.1", () => {
    log("service.listening", { port: cfg.port, endpoint: cfg.endpoint,
                               eventHandler: cfg.handler || null,
                               record: cfg.record || null });
    console.log(`web pubsub local service on http://127.0.0.1:${cfg.port}`);
  });
}

if (require.main === module) {
  main(process.env);
}

module.exports = { main };
