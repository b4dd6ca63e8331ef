// The event handler side (docs/protocol.md 4): the abuse-protection handshake,
// then CloudEvents in binary mode, signed with every access key.

"use strict";

const http = require("node:http");
const https = require("node:https");
const crypto = require("node:crypto");
const { headerValue, mediaType } = require("./util");

const VALIDATE_TIMEOUT = 10000;          // ms per handshake attempt
const EVENT_TIMEOUT = 100000;            // ms per event request
const MAX_RESPONSE = 16 * 1024 * 1024;   // bytes of an upstream answer
const RETRY_DELAYS = [1000, 3000, 5000]; // non-blocking events: 4 attempts at most
const MAX_BACKOFF = 60000;               // ms between failed handshakes

class Upstream {
  // template: URL with optional {hub} and {event}; origin: our host name;
  // keys: those that sign (none: no ce-signature); bearer: a
  // ManagedIdentityToken (entra.js) whose token every event carries
  constructor({ template, origin, keys, bearer, log }) {
    this.template = template;
    this.origin = origin;
    this.keys = keys;
    this.bearer = bearer || null;
    this.log = log;
    this.validations = new Map();   // handler host -> { ok, pending, retryAt, backoff, reason }
    this.inflight = new Set();      // requests, so that shutdown can wait for them
    this.stopping = false;
    this.agents = {
      "http:": new http.Agent({ keepAlive: true, maxSockets: 64 }),
      "https:": new https.Agent({ keepAlive: true, maxSockets: 64 }),
    };
  }

  get enabled() {
    return !!this.template;
  }

  url(hub, event) {
    return this.template
      .replace(/\{hub\}/gi, encodeURIComponent(hub))
      .replace(/\{event\}/gi, encodeURIComponent(event));
  }

  signature(connectionId) {
    return this.keys.map((k) => "sha256=" + crypto.createHmac("sha256", Buffer.from(k, "utf8"))
      .update(connectionId, "utf8").digest("hex")).join(",");
  }

  // One HTTP exchange: { status, headers, rawHeaders, body } or a thrown error.
  request(url, { method, headers, body, timeout }) {
    return new Promise((resolve, reject) => {
      let target;
      try {
        target = new URL(url);
      } catch (e) {
        reject(new Error(`invalid event handler URL ${url}`));
        return;
      }
      const lib = target.protocol === "https:" ? https : http;
      const payload = body || Buffer.alloc(0);
      const all = Object.assign({ "Content-Length": String(payload.length) }, headers);
      let req;
      try {
        req = lib.request(target, { method, headers: all, agent: this.agents[target.protocol] });
      } catch (e) {
        reject(e);
        return;
      }
      this.inflight.add(req);
      const done = () => this.inflight.delete(req);
      req.setTimeout(timeout, () => req.destroy(new Error(`no answer in ${timeout} ms`)));
      req.on("error", (e) => {
        done();
        reject(e);
      });
      req.on("response", (res) => {
        const chunks = [];
        let size = 0;
        res.on("data", (chunk) => {
          size += chunk.length;
          if (size > MAX_RESPONSE) {
            req.destroy(new Error("the answer is larger than 16 MiB"));
            return;
          }
          chunks.push(chunk);
        });
        res.on("end", () => {
          done();
          resolve({ status: res.statusCode, headers: res.headers, rawHeaders: res.rawHeaders,
                    body: Buffer.concat(chunks) });
        });
        res.on("error", (e) => {
          done();
          reject(e);
        });
      });
      req.end(payload);
    });
  }

  // docs/protocol.md 4.1: once per event handler host; a success is kept, a
  // failure is retried after a backoff of 1 s doubling up to 1 min.
  async validate(hub) {
    const url = this.url(hub, "validate");
    let host;
    try {
      host = new URL(url).host;
    } catch (e) {
      return { ok: false, reason: `invalid event handler URL ${url}` };
    }
    let v = this.validations.get(host);
    if (v && v.ok) {
      return { ok: true };
    }
    if (v && v.pending) {
      return v.pending;
    }
    if (v && Date.now() < v.retryAt) {
      return { ok: false, reason: v.reason };
    }
    if (!v) {
      v = { ok: false, backoff: 0 };
      this.validations.set(host, v);
    }
    v.pending = this.handshake(url).then((result) => {
      v.pending = null;
      v.ok = result.ok;
      v.reason = result.reason;
      if (!result.ok) {
        v.backoff = Math.min(v.backoff ? v.backoff * 2 : 1000, MAX_BACKOFF);
        v.retryAt = Date.now() + v.backoff;
      }
      this.log("upstream.validate", { url, origin: this.origin, ok: result.ok,
                                      status: result.status, reason: result.reason });
      return { ok: result.ok, reason: result.reason };
    });
    return v.pending;
  }

  async handshake(url) {
    const headers = { "WebHook-Request-Origin": this.origin, "ce-awpsversion": "1.0" };
    let res;
    try {
      res = await this.request(url, { method: "OPTIONS", headers, timeout: VALIDATE_TIMEOUT });
      if (res.status === 404) {
        res = await this.request(url, { method: "GET", headers, timeout: VALIDATE_TIMEOUT });
      }
    } catch (e) {
      return { ok: false, reason: `abuse protection: ${e.message}` };
    }
    if (res.status < 200 || res.status > 299) {
      return { ok: false, status: res.status,
               reason: `abuse protection: the event handler answered ${res.status}` };
    }
    const allowed = [];
    for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
      if (res.rawHeaders[i].toLowerCase() === "webhook-allowed-origin") {
        allowed.push(...res.rawHeaders[i + 1].split(",").map((s) => s.trim().toLowerCase()));
      }
    }
    // "*", our host, or our host with a port (express lists URL hosts)
    const me = this.origin.toLowerCase();
    const bare = (o) => o.replace(/:\d+$/, "").replace(/^\[|\]$/g, "");
    const ok = allowed.some((o) => o === "*" || o === me || bare(o) === me);
    return { ok, status: res.status,
             reason: ok ? "allowed" : `abuse protection: WebHook-Allowed-Origin ${
               JSON.stringify(allowed.join(", "))} does not allow ${this.origin}` };
  }

  headers(conn, type, eventName, contentType, eventId) {
    const h = {
      "Content-Type": contentType,
      "WebHook-Request-Origin": this.origin,
      "ce-specversion": "1.0",
      "ce-awpsversion": "1.0",
      "ce-type": type,
      "ce-source": `/hubs/${conn.hub}/client/${conn.id}`,
      "ce-id": String(eventId),
      "ce-time": new Date().toISOString().replace(/\.\d+Z$/, "Z"),
      // with local auth disabled there is no key, and no signature
      ...(this.keys.length > 0 ? { "ce-signature": this.signature(conn.id) } : {}),
      "ce-connectionId": conn.id,
      "ce-hub": conn.hub,
      "ce-eventName": eventName,
    };
    if (typeof conn.userId === "string" && conn.userId !== "") {
      h["ce-userId"] = conn.userId;
    }
    if (conn.subprotocol) {
      h["ce-subprotocol"] = conn.subprotocol;
    }
    if (conn.state) {
      h["ce-connectionState"] = conn.state;
    }
    if (conn.cookies && conn.cookies.size > 0) {
      h.Cookie = [...conn.cookies].map(([n, v]) => `${n}=${v}`).join("; ");
    }
    for (const name of Object.keys(h)) {
      const v = headerValue(h[name]);
      if (v === null) {
        throw new Error(`${name} cannot be sent in a header`);
      }
      h[name] = v;
    }
    return h;
  }

  // Sends one event and returns the answer { status, headers, body, contentType,
  // state }, or { error }.  Blocking events (connect, user events) are sent
  // once; connected/disconnected are retried on 408, 5xx and network errors.
  async send(conn, { eventName, type, contentType, body, blocking, eventId }) {
    const url = this.url(conn.hub, eventName);
    const id = eventId === undefined ? conn.eventId++ : eventId;
    let headers;
    try {
      headers = this.headers(conn, type, eventName, contentType, id);
      if (this.bearer) {
        headers.Authorization = `Bearer ${await this.bearer.get()}`;
      }
    } catch (e) {
      this.log("upstream.event", { hub: conn.hub, connectionId: conn.id, event: eventName,
                                   type, url, error: e.message });
      return { error: e.message };
    }
    const attempts = blocking ? 1 : RETRY_DELAYS.length + 1;
    let result;
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (attempt > 0) {
        if (this.stopping) {
          break;
        }
        await sleep(RETRY_DELAYS[attempt - 1]);
      }
      try {
        const res = await this.request(url, { method: "POST", headers, body, timeout: EVENT_TIMEOUT });
        result = { status: res.status, headers: res.headers, rawHeaders: res.rawHeaders,
                   body: res.body, contentType: res.headers["content-type"] };
      } catch (e) {
        result = { error: e.message };
      }
      this.log("upstream.event", { hub: conn.hub, connectionId: conn.id, event: eventName, type,
                                   url, ceId: id, attempt: attempt + 1,
                                   status: result.status, error: result.error });
      const retry = result.error !== undefined || result.status === 408 || result.status >= 500;
      if (!retry) {
        break;
      }
    }
    if (result.status >= 200 && result.status <= 299) {
      this.applyAnswer(conn, result);
    }
    return result;
  }

  // ce-connectionState (exactly one header; docs/protocol.md 4.6) and cookies
  // from a 2xx answer.  Sets result.error when the state is sent twice.
  applyAnswer(conn, result) {
    const states = [];
    for (let i = 0; i + 1 < result.rawHeaders.length; i += 2) {
      const name = result.rawHeaders[i].toLowerCase();
      if (name === "ce-connectionstate") {
        states.push(result.rawHeaders[i + 1]);
      } else if (name === "set-cookie") {
        const pair = result.rawHeaders[i + 1].split(";")[0];
        const eq = pair.indexOf("=");
        if (eq > 0 && conn.cookies.size < 64) {
          conn.cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
        }
      }
    }
    if (states.length > 1) {
      result.error = "more than one ce-connectionState header";
    } else if (states.length === 1) {
      conn.state = states[0];
    }
  }

  close() {
    this.stopping = true;
    for (const req of this.inflight) {
      req.destroy(new Error("the service is stopping"));
    }
    this.agents["http:"].destroy();
    this.agents["https:"].destroy();
  }

  // resolves when no request is in flight, or after ms
  async drain(ms) {
    const until = Date.now() + ms;
    while (this.inflight.size > 0 && Date.now() < until) {
      await sleep(50);
    }
  }
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// The data type a JSON client gets for an upstream answer's Content-Type.
function dataTypeOf(contentType) {
  const t = mediaType(contentType);
  if (t === "application/json" || t.endsWith("+json")) {
    return "json";
  }
  if (t.startsWith("text/")) {
    return "text";
  }
  if (t === "application/x-protobuf") {
    return "protobuf";
  }
  return "binary";
}

module.exports = { Upstream, dataTypeOf };
