// Recording mode (WPS_RECORD, see ../service.js): the REST API of rest.js
// over a fixed world, every request logged as received, and a control path
// through which the tests make the service fail.  For the REST tests, whose
// SDK oracle and nginx must get the same answers to the same calls
// whatever came before: the world forgets every change.
//
// The fixed world, in every hub:
//   - a connection, user or group exists when its id starts with "live";
//     a "live" connection has every permission
//   - any connection id can be acted upon (added to a group, granted...)
//   - every group lists five members, conn-1..conn-5 of user-1..user-5
//   - a hub has no connection of its own: sends and closes reach nobody
//
// One log line per request, before it is answered:
//   { seq, method, url, http_version, headers, raw_headers, body_b64,
//     auth: { ok, reason, header, claims, entra }, op, mode, answer }
// where url is req.url as received (path and query, not normalised),
// headers has lower-case names, raw_headers keeps every line in order, op
// is the operation matched (or null) and answer the status sent (or
// "garbage", "close").  A hook may add to a line (t/fixtures/rest_recorder.js
// adds a second opinion on the token).
//
// Control (never logged):
//   GET  /__control/ping  -> 200 "ok"
//   GET  /__control       -> 200 {"mode":..., "requests": n, "arrived": n}
//                            (arrived counts requests as their headers come)
//   POST /__control       -> 200; a JSON body sets how later requests are
//                            answered:
//     {"mode":"normal"}
//     {"mode":"status","status":500,"headers":{...},"body":"..."}
//     {"mode":"delay","ms":N}           answer normally after N ms
//     {"mode":"garbage"}                non-HTTP bytes, then close
//     {"mode":"close"}                  close the connection, no answer
//     {"mode":"nextlink_relative"}      list pages carry "/api/..." links
//     {"mode":"big","bytes":N}          a 200 JSON list page of about N bytes

"use strict";

const fs = require("node:fs");
const { Connection } = require("./hubs");
const { answer, jsonAnswer, writeAnswer } = require("./routes");

const MAX_DELAY = 60000;             // ms
const MAX_BIG = 64 * 1024 * 1024;    // bytes of a "big" answer
const GROUP_SIZE = 5;                // members of every group
const ALL_ROLES = ["webpubsub.joinLeaveGroup", "webpubsub.sendToGroup"];
const MODES = ["normal", "status", "delay", "garbage", "close", "nextlink_relative", "big"];

function live(id) {
  return typeof id === "string" && id.startsWith("live");
}

// A hub of the fixed world: what rest.js asks a hubs.js Hub, answered
// from the ids alone; changes are accepted and forgotten.
class FixedHub {
  constructor(name) {
    this.name = name;
  }

  member(id, userId, groups) {
    const conn = new Connection({ id, hub: this.name, userId,
                                  roles: live(id) ? ALL_ROLES : [] });
    for (const g of groups) {
      conn.groups.add(g);
    }
    return conn;
  }

  connection(id) {
    return this.member(id, null, []);
  }

  hasConnection(id) {
    return live(id);
  }

  hasGroup(group) {
    return live(group);
  }

  hasUser(userId) {
    return live(userId);
  }

  groupMembers(group) {
    const out = [];
    for (let i = 1; i <= GROUP_SIZE; i++) {
      out.push(this.member(`conn-${i}`, `user-${i}`, [group]));
    }
    return out;
  }

  userConnections() {
    return [];
  }

  all() {
    return [];
  }

  join() {}

  leave() {}

  leaveAll() {}

  addUserToGroup() {}

  removeUserFromGroup() {}

  removeUserFromAllGroups() {}
}

// In place of the registry of hubs.js and the ClientService of clients.js
const fixedWorld = {
  hub: (name) => new FixedHub(name.toLowerCase()),
  peek: (name) => new FixedHub(name.toLowerCase()),
  tidy: () => {},
};
const nobody = {
  closeConnection: () => {},
  deliver: () => {},
};

function bigPage(bytes) {
  const n = Math.max(0, Math.min(Number(bytes) || 0, MAX_BIG));
  const items = [];
  let size = 11;   // {"value":[]}
  for (let i = 0; size < n; i++) {
    const item = JSON.stringify({ connectionId: `big-${i}`, userId: `user-${i}` });
    items.push(item);
    size += item.length + 1;
  }
  return answer(200, { "Content-Type": "application/json; charset=utf-8" },
    `{"value":[${items.join(",")}]}`);
}

function rawHeaderPairs(req) {
  const out = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    out.push([req.rawHeaders[i], req.rawHeaders[i + 1]]);
  }
  return out;
}

class Recorder {
  // file: the JSON-lines log; rest: a RestApi over fixedWorld and nobody;
  // annotate(req, line): optional, may add to a log line
  constructor({ file, rest, annotate }) {
    Object.assign(this, { file, rest, annotate });
    this.mode = { mode: "normal" };
    this.seq = 0;
    this.arrived = 0;
  }

  static isControl(url) {
    return url === "/__control" || url.startsWith("/__control/")
      || url.startsWith("/__control?");
  }

  // a request's headers are in
  arrive(req) {
    if (!Recorder.isControl(req.url)) {
      this.arrived++;
    }
  }

  control(req, res, body) {
    const url = req.url;
    const reply = (a) => writeAnswer(res, a, req.method);
    if (req.method === "GET" && url === "/__control/ping") {
      return reply(answer(200, { "Content-Type": "text/plain" }, "ok"));
    }
    if (req.method === "GET" && url === "/__control") {
      return reply(jsonAnswer(200, { mode: this.mode, requests: this.seq,
                                     arrived: this.arrived }));
    }
    if (req.method !== "POST" || url !== "/__control") {
      return reply(jsonAnswer(404, { error: "unknown control request" }));
    }
    let next;
    try {
      next = JSON.parse(body.toString("utf8"));
    } catch (e) {
      return reply(jsonAnswer(400, { error: "the control body is not JSON" }));
    }
    if (!next || !MODES.includes(next.mode)) {
      return reply(jsonAnswer(400, { error: "unknown mode" }));
    }
    if (next.mode === "status"
        && !(Number.isInteger(next.status) && next.status >= 100 && next.status <= 999)) {
      return reply(jsonAnswer(400, { error: "status needs an integer status" }));
    }
    if (next.mode === "delay" && !(Number.isInteger(next.ms) && next.ms >= 0)) {
      return reply(jsonAnswer(400, { error: "delay needs an integer ms" }));
    }
    this.mode = next;
    return reply(jsonAnswer(200, { mode: next }));
  }

  handle(req, res, body) {
    if (Recorder.isControl(req.url)) {
      this.control(req, res, body);
      return;
    }
    const current = this.mode;
    this.rest.relativeNextLinks = current.mode === "nextlink_relative";
    const { route, auth, a: normal } = this.rest.evaluate(req, body);

    let a = normal;
    if (current.mode === "status") {
      a = answer(current.status, current.headers || {}, current.body || "");
    } else if (current.mode === "big") {
      a = bigPage(current.bytes);
    }
    const action = current.mode === "garbage" || current.mode === "close"
      ? current.mode : null;

    this.seq += 1;
    const line = {
      seq: this.seq,
      method: req.method,
      url: req.url,
      http_version: req.httpVersion,
      headers: req.headers,
      raw_headers: rawHeaderPairs(req),
      body_b64: body.toString("base64"),
      auth: {
        ok: auth.ok,
        reason: auth.reason,
        header: auth.header || null,
        claims: auth.claims || null,
        entra: auth.entra || false,
      },
      op: route && route.op ? route.op : null,
      mode: current.mode,
      answer: action || a.status,
    };
    if (this.annotate) {
      this.annotate(req, line);
    }
    fs.appendFileSync(this.file, JSON.stringify(line) + "\n");

    if (action === "garbage") {
      req.socket.end("this is not http\r\n\r\n");
      return;
    }
    if (action === "close") {
      req.socket.destroy();
      return;
    }
    if (current.mode === "delay") {
      const timer = setTimeout(() => {
        if (!res.destroyed && !res.writableEnded) {
          writeAnswer(res, a, req.method);
        }
      }, Math.min(current.ms, MAX_DELAY));
      timer.unref();
      res.on("close", () => clearTimeout(timer));
      return;
    }
    writeAnswer(res, a, req.method);
  }
}

module.exports = { Recorder, fixedWorld, nobody };
