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
//   WPS_KEYS           access keys, comma-separated (at least one; none in
//                      Entra mode, below): any of
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
//                      connections), service.listening (auth "key" or
//                      "entra"), service.stopping, and in Entra mode
//                      entra.jwks (url, kids or error), entra.webhook_token
//                      (resource, expires_on)
//   WPS_LIFETIME       optional seconds after which it stops by itself
//   WPS_ENTRA_TOKEN    optional bearer string accepted as an Entra ID
//                      token, for :generateToken only (key mode; the REST
//                      tests' stand-in for a real Entra ID token)
//   WPS_TLS_CERT       PEM certificate and key files: serve HTTPS and wss
//   WPS_TLS_KEY        (the endpoint then defaults to https://); the JS
//                      SDK sends Entra ID tokens to https:// only
//
// Microsoft Entra ID mode (local auth disabled), with emulator/identity.js:
//   WPS_AUTH           "key" (default) or "entra": REST calls and
//                      :generateToken need an RS256 Entra ID access token
//                      (Authorization: Bearer) that verifies against the
//                      identity provider's JWKS (fetched on the first
//                      token, again on an unknown kid), with aud
//                      WPS_ENTRA_AUDIENCE, exp (and nbf) within 5 minutes
//                      of skew, tid WPS_IDP_TENANT and iss
//                      https://sts.windows.net/{tid}/, {WPS_IDP}/{tid}/v2.0
//                      or https://login.microsoftonline.com/{tid}/v2.0;
//                      anything else, access key tokens included, gets 401.
//                      WPS_KEYS may be empty: :generateToken signs client
//                      tokens (kid "s-<uuid>", iss https://webpubsub.azure.com)
//                      with an internal random key the service keeps, and
//                      clients' tokens are verified with it alone.  Events
//                      carry no ce-signature; with WPS_WEBHOOK_AUDIENCE they
//                      carry "Authorization: Bearer <token>" of the
//                      service's managed identity from the identity
//                      provider's IMDS endpoint (renewed 5 min before it
//                      expires; no event is sent without it).  The
//                      abuse-protection handshake is unchanged.
//   WPS_IDP            the identity provider's origin (required in Entra
//                      mode), e.g. https://127.0.0.1:8090
//   WPS_IDP_TENANT     tenant id (default identity.js's)
//   WPS_IDP_JWKS       JWKS URL (default {WPS_IDP}/{tenant}/discovery/v2.0/keys)
//   WPS_IDP_IMDS       IMDS token URL (default
//                      {WPS_IDP}/metadata/identity/oauth2/token)
//   WPS_ENTRA_AUDIENCE REST token audience (default https://webpubsub.azure.com)
//   WPS_ENTRA_OIDS     optional comma-separated object ids that hold a
//                      data-plane role: a valid token of any other oid gets 403
//   WPS_WEBHOOK_AUDIENCE  resource of the webhook tokens (the event
//                      handler's app id URI); unset: events carry no
//                      Authorization header
//   WPS_WEBHOOK_CLIENT_ID  optional user-assigned identity (client_id) for them
//   The HTTPS trust for the identity provider is node's: NODE_EXTRA_CA_CERTS.
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

const crypto = require("node:crypto");
const fs = require("node:fs");
const http = require("node:http");
const https = require("node:https");
const { Registry } = require("./lib/hubs");
const { Upstream } = require("./lib/upstream");
const { ClientService } = require("./lib/clients");
const { RestApi } = require("./lib/rest");
const { Recorder, fixedWorld, nobody } = require("./lib/recorder");
const { EntraAuth, ManagedIdentityToken } = require("./lib/entra");
const { bearer } = require("./lib/jwt");
const { createLog, splitUrl } = require("./lib/util");
const { DEFAULTS: IDP_DEFAULTS } = require("./identity");

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
  const auth = env.WPS_AUTH || "key";
  if (auth !== "key" && auth !== "entra") {
    fail("WPS_AUTH must be key or entra");
  }
  const keys = (env.WPS_KEYS || "").split(",").filter((k) => k.length > 0);
  if (keys.length === 0 && auth === "key") {
    fail("WPS_KEYS must hold at least one access key");
  }
  let tls = null;
  if (env.WPS_TLS_CERT || env.WPS_TLS_KEY) {
    try {
      tls = { cert: fs.readFileSync(env.WPS_TLS_CERT), key: fs.readFileSync(env.WPS_TLS_KEY) };
    } catch (e) {
      fail(`WPS_TLS_CERT and WPS_TLS_KEY must both name readable PEM files: ${e.message}`);
    }
  }
  const endpoint = (env.WPS_ENDPOINT || `${tls ? "https" : "http"}://127.0.0.1:${port}`)
    .replace(/\/+$/, "");
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
  let entra = null;
  if (auth === "entra") {
    if (!env.WPS_IDP) {
      fail("WPS_AUTH=entra needs WPS_IDP, the identity provider's origin");
    }
    const idp = env.WPS_IDP.replace(/\/+$/, "");
    const tenant = env.WPS_IDP_TENANT || IDP_DEFAULTS.tenant;
    entra = {
      idp, tenant,
      jwks: env.WPS_IDP_JWKS || `${idp}/${tenant}/discovery/v2.0/keys`,
      imds: env.WPS_IDP_IMDS || `${idp}/metadata/identity/oauth2/token`,
      audience: env.WPS_ENTRA_AUDIENCE || "https://webpubsub.azure.com",
      oids: (env.WPS_ENTRA_OIDS || "").split(",").filter((o) => o.length > 0),
      webhookAudience: env.WPS_WEBHOOK_AUDIENCE || "",
      webhookClientId: env.WPS_WEBHOOK_CLIENT_ID || "",
    };
  }
  return {
    port, keys, endpoint, handler, lifetime, pageSize, record, tls, entra,
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
  let entra = null;
  let webhookToken = null;
  let tokenKid;
  let keys = cfg.keys;
  if (cfg.entra) {
    entra = new EntraAuth({ jwksUri: cfg.entra.jwks, tenant: cfg.entra.tenant,
                            idpOrigin: cfg.entra.idp, audience: cfg.entra.audience,
                            oids: cfg.entra.oids, log });
    if (cfg.entra.webhookAudience) {
      webhookToken = new ManagedIdentityToken({ imdsUrl: cfg.entra.imds,
                                                resource: cfg.entra.webhookAudience,
                                                clientId: cfg.entra.webhookClientId, log });
    }
    // the service's own key for client tokens; no access key exists
    keys = [crypto.randomBytes(32).toString("base64url")];
    tokenKid = `s-${crypto.randomUUID()}`;
  }
  let registry;
  let clients;
  if (cfg.record) {
    registry = fixedWorld;
    clients = nobody;
  } else {
    registry = new Registry();
    upstream = new Upstream({ template: cfg.handler, origin: cfg.host,
                              keys: entra ? [] : keys, bearer: webhookToken, log });
    clients = new ClientService({ endpoint: cfg.endpoint, keys, registry,
                                  upstream, log });
  }
  const rest = new RestApi({ origin: cfg.origin, endpoint: cfg.endpoint, keys,
                             entraToken: cfg.entraToken, entra, tokenKid, registry,
                             clients, log,
                             pageSize: cfg.pageSize,
                             now: cfg.record ? () => started : undefined });
  if (cfg.record) {
    recorder = new Recorder({ file: cfg.record, rest, annotate: (hooks || {}).annotate });
  }

  const onRequest = (req, res) => {
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
      const go = () => (recorder || rest).handle(req, res, Buffer.concat(chunks));
      if (entra) {
        entra.prepare(bearer(req.headers.authorization)).then(go, go);
      } else {
        go();
      }
    });
    req.on("error", () => req.socket.destroy());
  };
  const server = cfg.tls ? https.createServer(cfg.tls, onRequest)
    : http.createServer(onRequest);
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
                               record: cfg.record || null,
                               auth: cfg.entra ? "entra" : "key" });
    console.log(`web pubsub local service on ${cfg.tls ? "https" : "http"}://127.0.0.1:${
      cfg.port}`);
  });
}

if (require.main === module) {
  main(process.env);
}

module.exports = { main };
