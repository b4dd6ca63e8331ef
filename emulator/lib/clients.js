// The client side: WebSocket endpoints, the token check, the connect event,
// the JSON subprotocols and raw WebSocket (docs/protocol.md 2.3, 4, 5).

"use strict";

const http = require("node:http");
const { WebSocketServer } = require("ws");
const { verifyJwt, bearer } = require("./jwt");
const { Connection, makePayload } = require("./hubs");
const { dataTypeOf } = require("./upstream");
const {
  isValidHub, isValidGroup, decodeComponent, parseQuery, first, splitUrl, randomId,
  closeReason,
} = require("./util");

const JSON_V1 = "json.webpubsub.azure.v1";
const JSON_RELIABLE = "json.reliable.webpubsub.azure.v1";
const MAX_CONNECTIONS = 10000;      // open and being opened, all hubs
const MAX_FRAME = 1024 * 1024;      // bytes of one client message
const MAX_QUEUE = 1024;             // client messages waiting for their turn
const HANDSHAKE_GRACE = 5000;       // ms to flush a refused handshake
const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

// /client/hubs/{hub} (any path prefix), or the legacy /client/?hub={hub};
// never a REST path (a connection or group may be called "client")
function clientRoute(path, params) {
  if (path.includes("/api/")) {
    return null;
  }
  let m = /^(?:.*?)\/client\/hubs\/([^/]+)\/?$/.exec(path);
  if (m) {
    return { hub: decodeComponent(m[1]), raw: m[1] };
  }
  m = /^(?:.*?)\/client\/?$/.exec(path);
  if (m) {
    const hub = params ? first(params, "hub") : undefined;
    return { hub: hub === undefined ? null : hub, raw: hub, legacy: true };
  }
  return null;
}

function modeOf(subprotocol) {
  const p = (subprotocol || "").toLowerCase();
  return p === JSON_RELIABLE ? "reliable" : p === JSON_V1 ? "json" : "raw";
}

function stringList(value) {
  if (typeof value === "string") {
    return [value];
  }
  return Array.isArray(value) ? value.filter((v) => typeof v === "string") : [];
}

// name -> [strings], as the connect event carries claims, query and headers
function claimMap(claims) {
  const out = {};
  for (const [name, value] of Object.entries(claims)) {
    const values = Array.isArray(value) ? value : [value];
    out[name] = values.map((v) => (typeof v === "string" ? v : JSON.stringify(v)));
  }
  return out;
}

function headerMap(rawHeaders) {
  const out = {};
  const names = new Map();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const lower = rawHeaders[i].toLowerCase();
    if (lower === "authorization") {
      continue;
    }
    if (!names.has(lower)) {
      names.set(lower, rawHeaders[i]);
      out[rawHeaders[i]] = [];
    }
    out[names.get(lower)].push(rawHeaders[i + 1]);
  }
  return out;
}

function refuse(socket, status, body) {
  const text = body || "";
  if (socket.writable) {
    socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status] || "Error"}\r\n`
      + "Connection: close\r\nContent-Type: text/plain; charset=utf-8\r\n"
      + `Content-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`);
  }
  setTimeout(() => socket.destroy(), HANDSHAKE_GRACE).unref();
}

// A JSON client's data (text|json|binary|protobuf) as a payload, or a reason.
function clientPayload(msg) {
  const { dataType, data } = msg;
  switch (dataType) {
    case "text":
      return typeof data === "string" ? makePayload("text", Buffer.from(data, "utf8"))
        : "text data must be a string";
    case "json":
      return data === undefined ? "json data is missing"
        : makePayload("json", Buffer.from(JSON.stringify(data), "utf8"), data);
    case "binary":
    case "protobuf":
      return typeof data === "string" && BASE64_RE.test(data)
        ? makePayload(dataType, Buffer.from(data, "base64")) : `${dataType} data must be base64`;
    default:
      return "dataType must be text, json, binary or protobuf";
  }
}

const CONTENT_TYPES = {
  text: "text/plain", json: "application/json", binary: "application/octet-stream",
  protobuf: "application/x-protobuf",
};

class ClientService {
  constructor({ endpoint, keys, registry, upstream, log }) {
    this.endpoint = endpoint;   // public http URL, no trailing slash
    this.keys = keys;
    this.registry = registry;
    this.upstream = upstream;
    this.log = log;
    this.pending = 0;
    this.stopping = false;
    this.wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      maxPayload: MAX_FRAME,
      handleProtocols: (offered, req) => req.wpsSubprotocol || false,
    });
  }

  isClientPath(path) {
    return clientRoute(path, null) !== null;
  }

  audienceOk(aud, hub, raw) {
    if (typeof aud !== "string") {
      return false;
    }
    const norm = (s) => s.toLowerCase().replace(/\/+$/, "");
    const forms = new Set([norm(aud)]);
    const decoded = decodeComponent(aud);
    if (decoded !== null) {
      forms.add(norm(decoded));
    }
    const base = this.endpoint;
    return [`${base}/client/hubs/${hub}`, `${base}/client/hubs/${encodeURIComponent(hub)}`,
            `${base}/client/hubs/${raw}`, `${base}/client/?hub=${hub}`]
      .some((c) => forms.has(norm(c)));
  }

  reject(socket, info, status, reason) {
    this.log("connection.rejected", Object.assign({ status, reason }, info));
    refuse(socket, status, status === 401 ? "" : reason);
  }

  async handleUpgrade(req, socket, head) {
    socket.on("error", () => {});
    const { path, query } = splitUrl(req.url);
    const params = parseQuery(query);
    const route = clientRoute(path, params || new Map());
    const info = { url: path };
    if (!route) {
      this.reject(socket, info, 404, "no WebSocket endpoint here");
      return;
    }
    if (req.method !== "GET" || (req.headers.upgrade || "").toLowerCase() !== "websocket") {
      this.reject(socket, info, 400, "not a WebSocket request");
      return;
    }
    if (params === null || !isValidHub(route.hub)) {
      this.reject(socket, info, 400, "invalid hub name or query");
      return;
    }
    const hubName = route.hub.toLowerCase();
    info.hub = hubName;
    if (this.stopping || this.registry.count() + this.pending >= MAX_CONNECTIONS) {
      this.reject(socket, info, 503, "the service is stopping or full");
      return;
    }
    const offered = (req.headers["sec-websocket-protocol"] || "").split(",")
      .map((s) => s.trim()).filter((s) => s.length > 0);
    const supported = offered.find((p) => modeOf(p) !== "raw");

    // Reliable reconnection is not kept: the client is told so, and starts
    // a new connection (docs/protocol.md 5; as the service does for a lost one).
    if (first(params, "awps_connection_id")) {
      this.log("connection.recovery_refused", Object.assign(
        { reason: "reconnection is not supported: accepted, then closed with 1008",
          connectionId: first(params, "awps_connection_id") }, info));
      req.wpsSubprotocol = supported;
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        ws.on("error", () => {});
        ws.close(1008, "The connection could not be recovered.");
      });
      return;
    }

    const token = first(params, "access_token") || bearer(req.headers.authorization);
    if (!token) {
      this.reject(socket, info, 401, "no access token");
      return;
    }
    const checked = verifyJwt(token, this.keys);
    if (!checked.ok) {
      this.reject(socket, info, 401, `token: ${checked.reason}`);
      return;
    }
    const claims = checked.claims;
    if (!this.audienceOk(claims.aud, route.hub, route.raw)) {
      this.reject(socket, info, 401, `token: aud ${JSON.stringify(claims.aud)} is not ${
        this.endpoint}/client/hubs/${route.hub}`);
      return;
    }
    let groups = stringList(claims["webpubsub.group"]);
    if (groups.some((g) => !isValidGroup(g))) {
      this.reject(socket, info, 400, "The token contains an invalid group name.");
      return;
    }

    const fields = {
      service: this,
      id: randomId(16),
      hub: hubName,
      userId: typeof claims.sub === "string" ? claims.sub : null,
      roles: stringList(claims.role),
      subprotocol: supported || null,
      claims,
      state: null,
      cookies: new Map(),
    };
    info.connectionId = fields.id;

    if (this.upstream.enabled) {
      this.pending++;
      let verdict;
      try {
        verdict = await this.connectEvent(req, fields, params, offered, claims);
      } finally {
        this.pending--;
      }
      if (verdict.status) {
        this.reject(socket, info, verdict.status, verdict.reason);
        return;
      }
      if (verdict.groups) {
        groups = verdict.groups;
      }
    }
    if (socket.destroyed || !socket.readable) {
      this.log("connection.rejected", Object.assign({ status: 0, reason: "the client left" }, info));
      return;
    }
    if (this.stopping) {
      this.reject(socket, info, 503, "the service is stopping");
      return;
    }
    fields.mode = modeOf(fields.subprotocol);
    req.wpsSubprotocol = fields.subprotocol || false;
    this.wss.handleUpgrade(req, socket, head, (ws) => this.open(ws, new Connection(fields), groups));
  }

  // The blocking connect event (docs/protocol.md 4.4, 4.5).  Updates fields and
  // returns {} to accept (with groups to replace), or { status, reason }.
  async connectEvent(req, fields, params, offered, claims) {
    const valid = await this.upstream.validate(fields.hub);
    if (!valid.ok) {
      return { status: 401, reason: valid.reason };
    }
    const query = {};
    for (const [name, values] of params) {
      if (name !== "access_token") {
        query[name] = values;
      }
    }
    const body = {
      claims: claimMap(claims),
      query,
      headers: headerMap(req.rawHeaders),
      subprotocols: offered,
      clientCertificates: [],
    };
    // the subprotocol is not chosen yet: the connect event has none
    const probe = Object.assign({}, fields, { subprotocol: null });
    const res = await this.upstream.send(probe, {
      eventName: "connect", type: "azure.webpubsub.sys.connect", eventId: 0,
      contentType: "application/json; charset=utf-8", blocking: true,
      body: Buffer.from(JSON.stringify(body), "utf8"),
    });
    fields.state = probe.state;
    fields.cookies = probe.cookies;
    if (res.status === undefined) {
      return { status: 500, reason: `connect event: ${res.error}` };
    }
    if (res.status >= 400 && res.status <= 499) {
      return { status: res.status, reason: `connect event answered ${res.status}` };
    }
    if (res.status < 200 || res.status > 299) {
      return { status: 500, reason: `connect event answered ${res.status}` };
    }
    if (res.error) {
      return { status: 500, reason: `connect event: ${res.error}` };
    }
    const text = res.body.toString("utf8").trim();
    if (res.status === 204 || text === "" || text === "null") {
      return {};
    }
    let answer;
    try {
      answer = JSON.parse(text);
    } catch (e) {
      return { status: 500, reason: "connect event answer is not JSON" };
    }
    if (!answer || typeof answer !== "object" || Array.isArray(answer)) {
      return { status: 500, reason: "connect event answer is not a JSON object" };
    }
    const get = (name) => {
      const key = Object.keys(answer).find((k) => k.toLowerCase() === name);
      return key === undefined ? undefined : answer[key];
    };
    const verdict = {};
    const userId = get("userid");
    if (typeof userId === "string") {
      fields.userId = userId;
    }
    const roles = get("roles");
    if (Array.isArray(roles)) {
      fields.roles = stringList(roles);
    }
    const groups = get("groups");
    if (Array.isArray(groups) && groups.length > 0) {
      if (groups.some((g) => !isValidGroup(g))) {
        return { status: 500, reason: "connect event answer has an invalid group" };
      }
      verdict.groups = groups;
    }
    const subprotocol = get("subprotocol");
    if (typeof subprotocol === "string" && subprotocol !== "") {
      if (!offered.includes(subprotocol)) {
        return { status: 500, reason: `connect event chose subprotocol ${subprotocol}, not offered` };
      }
      fields.subprotocol = subprotocol;
    }
    return verdict;
  }

  open(ws, conn, groups) {
    conn.ws = ws;
    conn.queue = [];
    conn.busy = false;
    conn.system = Promise.resolve();
    const hub = this.registry.hub(conn.hub);
    hub.add(conn, groups);
    this.log("connection.opened", { hub: conn.hub, connectionId: conn.id, userId: conn.userId,
                                    subprotocol: conn.subprotocol, roles: conn.roles,
                                    groups: [...conn.groups] });
    if (conn.mode !== "raw") {
      const hello = { type: "system", event: "connected", userId: conn.userId,
                      connectionId: conn.id };
      if (conn.mode === "reliable") {
        hello.reconnectionToken = randomId(32);
      }
      conn.sendJson(hello);
    }
    ws.on("message", (data, isBinary) => this.enqueue(conn, data, isBinary));
    ws.on("close", (code, reason) => {
      const text = reason.toString("utf8");
      this.finish(conn, text !== "" ? text : code === 1006 ? "The connection was lost." : null,
                  code, "client");
    });
    ws.on("error", () => {});
    if (this.upstream.enabled && !conn.closed) {
      conn.system = this.upstream.send(conn, {
        eventName: "connected", type: "azure.webpubsub.sys.connected",
        contentType: "application/json; charset=utf-8", body: Buffer.from("{}"),
      }).catch(() => {});
    }
  }

  // The server closes a connection: a JSON client gets the disconnected
  // message first.
  closeConnection(conn, reason, code) {
    if (conn.closed) {
      return;
    }
    const ws = conn.ws;
    if (ws.readyState === 1) {
      if (conn.mode !== "raw") {
        ws.send(JSON.stringify({ type: "system", event: "disconnected", message: reason }));
      }
      ws.close(code || 1000, closeReason(reason));
    }
    this.finish(conn, reason, code || 1000, "service");
  }

  finish(conn, reason, code, by) {
    if (conn.closed) {
      return;
    }
    conn.closed = true;
    conn.queue = [];
    const hub = this.registry.hub(conn.hub);
    hub.remove(conn);
    this.registry.tidy(hub);
    this.log("connection.closed", { hub: conn.hub, connectionId: conn.id, userId: conn.userId,
                                    code, reason, by });
    if (this.upstream.enabled) {
      conn.system = conn.system.then(() => this.upstream.send(conn, {
        eventName: "disconnected", type: "azure.webpubsub.sys.disconnected",
        contentType: "application/json; charset=utf-8",
        body: Buffer.from(JSON.stringify({ reason: reason === undefined ? null : reason })),
      })).catch(() => {});
    }
  }

  // Messages to clients, logged once per send.
  deliver(conns, payload, from, detail) {
    const to = [];
    for (const conn of conns) {
      if (conn.deliver(payload, from, detail.group, detail.fromUserId)) {
        to.push(conn.id);
      }
    }
    this.log("message.delivered", Object.assign({ from, dataType: payload.dataType,
      bytes: payload.bytes.length, count: to.length, connections: to.slice(0, 50) }, detail));
    return to.length;
  }

  enqueue(conn, data, isBinary) {
    if (conn.closed) {
      return;
    }
    if (conn.queue.length >= MAX_QUEUE) {
      this.closeConnection(conn, "Too many messages are waiting to be processed.", 1008);
      return;
    }
    conn.queue.push([data, isBinary]);
    if (!conn.busy) {
      this.drain(conn);
    }
  }

  async drain(conn) {
    conn.busy = true;
    while (conn.queue.length > 0 && !conn.closed) {
      const [data, isBinary] = conn.queue.shift();
      try {
        if (conn.mode === "raw") {
          await this.rawMessage(conn, data, isBinary);
        } else {
          await this.jsonMessage(conn, data, isBinary);
        }
      } catch (e) {
        this.log("client.error", { hub: conn.hub, connectionId: conn.id, error: e.message });
      }
    }
    conn.busy = false;
  }

  ack(conn, ackId, error) {
    if (ackId === undefined) {
      return;
    }
    if (error) {
      conn.sendJson({ type: "ack", ackId, success: false, error });
    } else {
      conn.rememberAck(ackId);
      conn.sendJson({ type: "ack", ackId, success: true });
    }
  }

  async jsonMessage(conn, data, isBinary) {
    if (isBinary) {
      this.closeConnection(conn, "The JSON subprotocol requires text messages.", 1003);
      return;
    }
    let msg;
    try {
      msg = JSON.parse(data.toString("utf8"));
    } catch (e) {
      msg = null;
    }
    const badAck = msg && msg.ackId !== undefined && msg.ackId !== null
      && !(Number.isSafeInteger(msg.ackId) && msg.ackId >= 0);
    if (!msg || typeof msg !== "object" || Array.isArray(msg) || typeof msg.type !== "string"
        || badAck) {
      this.closeConnection(conn, "The client message is not a valid JSON protocol message.", 1007);
      return;
    }
    const ackId = msg.ackId === null ? undefined : msg.ackId;
    const entry = { hub: conn.hub, connectionId: conn.id, type: msg.type, ackId };
    const fail = (name, message) => {
      this.log("client.request", Object.assign(entry, { success: false, error: name, message }));
      this.ack(conn, ackId, { name, message });
    };
    switch (msg.type) {
      case "ping":
        conn.sendJson({ type: "pong" });
        return;
      case "sequenceAck":
        if (Number.isSafeInteger(msg.sequenceId) && msg.sequenceId > conn.ackedSequenceId) {
          conn.ackedSequenceId = Math.min(msg.sequenceId, conn.sequenceId);
        }
        return;
      case "cancelInvocation":
        return;
      case "joinGroup":
      case "leaveGroup":
      case "sendToGroup":
      case "event":
      case "invoke":
        break;
      default:
        fail("BadRequest", `Unsupported message type '${msg.type}'.`);
        return;
    }
    if (ackId !== undefined && conn.ackIds.has(ackId)) {
      fail("Duplicate", `Message with ack-id: ${ackId} has been processed`);
      return;
    }
    const hub = this.registry.hub(conn.hub);

    if (msg.type === "joinGroup" || msg.type === "leaveGroup") {
      const join = msg.type === "joinGroup";
      entry.group = msg.group;
      if (!isValidGroup(msg.group)) {
        fail("BadRequest", "Invalid group name.");
        return;
      }
      if (!conn.perms.joinLeaveGroup.check(msg.group)) {
        fail("Forbidden", `The client does not have permission to ${join ? "join" : "leave"
          } group '${msg.group}'.`);
        return;
      }
      if (join) {
        hub.join(conn, msg.group);
      } else {
        hub.leave(conn, msg.group);
        this.registry.tidy(hub);
      }
      this.log("client.request", Object.assign(entry, { success: true }));
      this.ack(conn, ackId);
      return;
    }

    if (msg.type === "sendToGroup") {
      entry.group = msg.group;
      if (msg.stream !== undefined && msg.stream !== null) {
        fail("BadRequest", "Group streams are not supported.");
        return;
      }
      if (!isValidGroup(msg.group)) {
        fail("BadRequest", "Invalid group name.");
        return;
      }
      const payload = clientPayload(msg);
      if (typeof payload === "string") {
        fail("BadRequest", payload);
        return;
      }
      if (!conn.perms.sendToGroup.check(msg.group)) {
        fail("Forbidden", `The client does not have permission to send to group '${msg.group}'.`);
        return;
      }
      const members = hub.groupMembers(msg.group).filter((c) => !(msg.noEcho === true && c === conn));
      this.deliver(members, payload, "group", { hub: conn.hub, group: msg.group,
                                                fromUserId: conn.userId, sender: conn.id });
      this.log("client.request", Object.assign(entry, { success: true }));
      this.ack(conn, ackId);
      return;
    }

    // event, invoke: a user event to the event handler
    const invoke = msg.type === "invoke";
    if (invoke && (typeof msg.invocationId !== "string" || msg.invocationId === "")) {
      fail("BadRequest", "invocationId must be a non-empty string.");
      return;
    }
    const answer = (error, reply) => {
      if (!invoke) {
        if (error) {
          fail(error.name, error.message);
        } else {
          this.log("client.request", Object.assign(entry, { success: true }));
          this.ack(conn, ackId);
        }
        return;
      }
      const response = { type: "invokeResponse", invocationId: msg.invocationId, success: !error };
      if (error) {
        response.error = error;
      } else if (reply) {
        response.dataType = reply.dataType;
        response.data = reply.data;
      }
      this.log("client.request", Object.assign(entry, { success: !error,
                                                        error: error && error.name }));
      conn.sendJson(response);
    };
    entry.event = msg.event;
    if (invoke && msg.target !== undefined && msg.target !== "event") {
      answer({ name: "BadRequest", message: `Unsupported invoke target '${msg.target}'.` });
      return;
    }
    if (typeof msg.event !== "string" || msg.event === "") {
      answer({ name: "BadRequest", message: "event must be a non-empty string." });
      return;
    }
    const payload = clientPayload(msg);
    if (typeof payload === "string") {
      answer({ name: "BadRequest", message: payload });
      return;
    }
    if (!this.upstream.enabled) {
      answer(null, null);
      return;
    }
    const res = await this.upstream.send(conn, {
      eventName: msg.event, type: `azure.webpubsub.user.${msg.event}`, blocking: true,
      contentType: CONTENT_TYPES[payload.dataType], body: payload.bytes,
    });
    if (conn.closed) {
      return;
    }
    if (res.error || !(res.status >= 200 && res.status <= 299)) {
      answer({ name: "InternalServerError",
               message: res.error ? `The event handler failed: ${res.error}`
                 : `The event handler answered ${res.status}.` });
      return;
    }
    const reply = this.replyPayload(res);
    if (invoke) {
      answer(null, reply && { dataType: reply.dataType,
                              data: reply.dataType === "text" ? reply.bytes.toString("utf8")
                                : reply.dataType === "json" ? reply.value
                                  : reply.bytes.toString("base64") });
      return;
    }
    if (reply) {
      this.deliver([conn], reply, "server", { hub: conn.hub, source: "event response",
                                              event: msg.event });
    }
    answer(null, null);
  }

  // An event handler's 2xx answer as a message for the client, or null.
  replyPayload(res) {
    if (res.status === 204 || res.body.length === 0) {
      return null;
    }
    const dataType = dataTypeOf(res.contentType);
    if (dataType === "json") {
      try {
        return makePayload("json", res.body);
      } catch (e) {
        return makePayload("text", res.body);
      }
    }
    return makePayload(dataType, res.body);
  }

  async rawMessage(conn, data, isBinary) {
    if (!this.upstream.enabled) {
      return;
    }
    const res = await this.upstream.send(conn, {
      eventName: "message", type: "azure.webpubsub.user.message", blocking: true,
      contentType: isBinary ? "application/octet-stream" : "text/plain", body: data,
    });
    if (conn.closed) {
      return;
    }
    if (res.error || !(res.status >= 200 && res.status <= 299)) {
      this.closeConnection(conn, res.error ? "The event handler failed."
        : `The event handler answered ${res.status}.`, 1011);
      return;
    }
    const reply = this.replyPayload(res);
    if (reply) {
      this.deliver([conn], reply, "server", { hub: conn.hub, source: "event response",
                                              event: "message" });
    }
  }

  // Every connection is closed (1001); their disconnected events go out.
  shutdown() {
    this.stopping = true;
    for (const conn of this.registry.allConnections()) {
      this.closeConnection(conn, "The service is shutting down.", 1001);
    }
  }
}

module.exports = { ClientService };
