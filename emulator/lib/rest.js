// The REST data-plane API (docs/protocol.md 3): the 25 operations, acting
// on a registry of hubs: the live connections (hubs.js), or in recording
// mode the fixed world of recorder.js.

"use strict";

const { verifyJwt, signJwt, bearer, safeEqual } = require("./jwt");
const { makePayload } = require("./hubs");
const odata = require("./odata");
const {
  isValidHub, isValidGroup, decodeComponent, parseQuery, first, splitUrl, mediaType,
} = require("./util");

const {
  matchRoute, answer, errorAnswer, jsonAnswer, isIntegerText, writeAnswer,
} = require("./routes.js");

const API_VERSION = "2024-12-01";
const DEFAULT_PAGE = 200;
const DEFAULT_REASON = "Closed by REST API.";

class RestApi {
  // origin: scheme://host[:port] of WPS_ENDPOINT; endpoint: WPS_ENDPOINT;
  // pageSize: list pages when the caller gives no maxpagesize; now(): the
  // seconds :generateToken issues tokens at.  relativeNextLinks (changed
  // by recorder.js) makes list pages link "/api/..." instead of the URL.
  // entra: an EntraAuth (entra.js) when local auth is disabled: only Entra
  // ID tokens are accepted, and :generateToken signs with keys[0], the
  // service's internal key, under kid tokenKid.
  constructor({ origin, endpoint, keys, entraToken, entra, tokenKid, registry, clients, log,
                pageSize, now }) {
    Object.assign(this, { origin, endpoint, keys, entraToken, entra, tokenKid, registry,
                          clients, log });
    this.pageSize = pageSize || DEFAULT_PAGE;
    this.now = now || (() => Math.floor(Date.now() / 1000));
    this.relativeNextLinks = false;
  }

  // docs/protocol.md 3.1: aud is the request URL, with or without its query,
  // compared ignoring case, raw or URL-decoded.  { ok, reason } and, for a
  // JWT, its header and claims; entra for the Entra ID token.
  checkAuth(req, route) {
    const token = bearer(req.headers.authorization);
    if (token === null) {
      return { ok: false, reason: "no Bearer token" };
    }
    if (this.entra) {
      return this.entra.check(token);
    }
    if (this.entraToken && safeEqual(token, this.entraToken)) {
      return route && route.op === "generateToken"
        ? { ok: true, reason: "entra token", entra: true }
        : { ok: false, reason: "the entra token is only accepted for :generateToken",
            entra: true };
    }
    const checked = verifyJwt(token, this.keys);
    if (!checked.ok) {
      return checked;
    }
    checked.ok = false;
    const aud = checked.claims.aud;
    if (typeof aud !== "string") {
      checked.reason = "aud missing or not a string";
      return checked;
    }
    const { path } = splitUrl(req.url);
    const full = (this.origin + req.url).toLowerCase();
    const noQuery = (this.origin + path).toLowerCase();
    const forms = [aud];
    const decoded = decodeComponent(aud);
    if (decoded !== null && decoded !== aud) {
      forms.push(decoded);
    }
    if (!forms.some((f) => f.toLowerCase() === full || f.toLowerCase() === noQuery)) {
      checked.reason = `aud ${aud} is not ${this.origin + req.url}`;
      return checked;
    }
    checked.ok = true;
    checked.reason = "valid";
    return checked;
  }

  // The answer to a request, acted upon, and what it was: { route, auth, a }
  // (route null when no operation has that path).
  evaluate(req, body) {
    const { path, query: rawQuery } = splitUrl(req.url);
    const route = matchRoute(req.method, path);
    const auth = this.checkAuth(req, route);
    let a;
    if (!route) {
      a = errorAnswer(404, "Error.NotFound", `no operation at ${path}`);
    } else if (route.methodMismatch) {
      a = errorAnswer(405, "Error.MethodNotAllowed", `${req.method} is not allowed here`);
    } else {
      a = auth.ok ? this.operation(req, route, parseQuery(rawQuery), body)
        : answer(auth.status === 403 ? 403 : 401);
    }
    this.log("rest", { method: req.method, url: req.url, op: route ? route.op : null,
                       status: a.status, auth: auth.reason, error: a.error });
    return { route, auth, a };
  }

  handle(req, res, body) {
    writeAnswer(res, this.evaluate(req, body).a, req.method);
  }

  operation(req, route, query, body) {
    if (query === null) {
      return errorAnswer(400, "Error.BadRequest", "malformed query");
    }
    const p = route.params;
    for (const name of Object.keys(p)) {
      if (p[name] === null || p[name] === "") {
        return errorAnswer(400, "Error.BadRequest", `malformed ${name} in the path`);
      }
    }
    if (p.hub !== undefined && !isValidHub(p.hub)) {
      return errorAnswer(400, "Error.BadRequest", "Invalid hub name.");
    }
    if (p.group !== undefined && !isValidGroup(p.group)) {
      return errorAnswer(400, "Error.BadRequest", "Invalid group name.");
    }
    let permission;
    if (p.permission !== undefined) {
      permission = /^sendToGroup$/i.test(p.permission) ? "sendToGroup"
        : /^joinLeaveGroup$/i.test(p.permission) ? "joinLeaveGroup" : null;
      if (!permission) {
        return errorAnswer(400, "Error.BadRequest", "invalid permission");
      }
    }
    const ttl = first(query, "messageTtlSeconds");
    if (ttl !== undefined && (!isIntegerText(ttl) || Number(ttl) > 300)) {
      return errorAnswer(400, "Error.BadRequest", "messageTtlSeconds must be 0..300");
    }
    let filter;
    try {
      filter = odata.compile(first(query, "filter"));
    } catch (e) {
      return errorAnswer(400, "Error.BadRequest", `Invalid filter: ${e.message}`);
    }
    const excluded = new Set(query.get("excluded") || []);
    const pick = (conns) => conns.filter((c) => !excluded.has(c.id) && filter(c));
    const reason = first(query, "reason") || DEFAULT_REASON;
    const hub = p.hub === undefined ? null : this.registry.peek(p.hub);
    const conn = p.connection === undefined ? undefined : hub.connection(p.connection);
    const closeAll = (conns) => {
      for (const c of conns) {
        this.clients.closeConnection(c, reason, 1000);
      }
      return answer(204);
    };
    const tidy = (a) => {
      if (hub) {
        this.registry.tidy(hub);
      }
      return a;
    };

    switch (route.op) {
      case "health":
        return answer(200);
      case "sendToAll":
      case "sendToUser":
      case "sendToConnection":
      case "sendToGroup": {
        const payload = this.payload(req, body);
        if (payload.status) {
          return payload;
        }
        const targets = route.op === "sendToAll" ? pick(hub.all())
          : route.op === "sendToUser" ? hub.userConnections(p.user).filter(filter)
            : route.op === "sendToGroup" ? pick(hub.groupMembers(p.group))
              : conn ? [conn] : [];
        this.clients.deliver(targets, payload, "server", {
          hub: hub.name, source: `rest ${route.op}`, group: p.group, user: p.user,
          connection: p.connection });
        return answer(202);
      }
      case "connectionExists":
        return answer(hub.hasConnection(p.connection) ? 200 : 404);
      case "groupExists":
        return answer(hub.hasGroup(p.group) ? 200 : 404);
      case "userExists":
        return answer(hub.hasUser(p.user) ? 200 : 404);
      case "closeConnection":
        return closeAll(conn ? [conn] : []);
      case "closeAllConnections":
        return closeAll(pick(hub.all()));
      case "closeUserConnections":
        return closeAll(pick(hub.userConnections(p.user)));
      case "closeGroupConnections":
        return closeAll(pick(hub.groupMembers(p.group)));
      case "addConnectionToGroup":
        if (!conn) {
          return errorAnswer(404, "Error.NotFound", `Connection id '${p.connection}' doesn't exist`);
        }
        hub.join(conn, p.group);
        return answer(200);
      case "removeConnectionFromGroup":
        if (conn) {
          hub.leave(conn, p.group);
        }
        return tidy(answer(204));
      case "removeConnectionFromAllGroups":
        if (conn) {
          hub.leaveAll(conn);
        }
        return tidy(answer(204));
      case "addUserToGroup":
        this.registry.hub(p.hub).addUserToGroup(p.user, p.group);
        return answer(200);
      case "removeUserFromGroup":
        hub.removeUserFromGroup(p.user, p.group);
        return tidy(answer(204));
      case "removeUserFromAllGroups":
        hub.removeUserFromAllGroups(p.user);
        return tidy(answer(204));
      case "addToGroups":
      case "removeFromGroups":
        return tidy(this.bulk(route.op === "addToGroups", hub, body));
      case "listConnections":
        return this.listPage(route, query, hub);
      case "grantPermission":
      case "revokePermission":
      case "checkPermission": {
        const target = first(query, "targetName");
        if (target !== undefined && !isValidGroup(target)) {
          return errorAnswer(400, "Error.BadRequest", "Invalid targetName.");
        }
        if (route.op === "checkPermission") {
          return answer(conn && conn.perms[permission].has(target) ? 200 : 404);
        }
        if (!conn) {
          return route.op === "grantPermission"
            ? errorAnswer(404, "Error.NotFound", `Connection id '${p.connection}' doesn't exist`)
            : answer(204);
        }
        if (route.op === "grantPermission") {
          conn.perms[permission].grant(target);
          return answer(200);
        }
        conn.perms[permission].revoke(target);
        return answer(204);
      }
      case "generateToken":
        return this.generateToken(route, query);
      default:
        return errorAnswer(404, "Error.NotFound", "unknown operation");
    }
  }

  payload(req, body) {
    const type = mediaType(req.headers["content-type"]);
    const dataType = { "text/plain": "text", "application/json": "json",
                       "application/octet-stream": "binary" }[type];
    if (!dataType) {
      return errorAnswer(415, "Error.UnsupportedMediaType",
        `unsupported content type ${JSON.stringify(req.headers["content-type"] || "")}`);
    }
    try {
      return makePayload(dataType, body);
    } catch (e) {
      return errorAnswer(400, "Error.BadRequest", "the message is not valid JSON");
    }
  }

  bulk(add, hub, body) {
    let v;
    try {
      v = JSON.parse(body.toString("utf8"));
    } catch (e) {
      return errorAnswer(400, "Error.BadRequest", "the body is not JSON");
    }
    if (!v || typeof v !== "object" || !Array.isArray(v.groups) || v.groups.length === 0
        || v.groups.some((g) => !isValidGroup(g))
        || (v.filter !== undefined && v.filter !== null && typeof v.filter !== "string")) {
      return errorAnswer(400, "Error.BadRequest",
        "expected {\"groups\":[...],\"filter\":\"...\"} with valid group names");
    }
    let filter;
    try {
      filter = odata.compile(v.filter);
    } catch (e) {
      return errorAnswer(400, "Error.BadRequest", `Invalid filter: ${e.message}`);
    }
    for (const conn of hub.all().filter(filter)) {
      for (const g of v.groups) {
        if (add) {
          hub.join(conn, g);
        } else {
          hub.leave(conn, g);
        }
      }
    }
    return answer(200);
  }

  // Members in connection id order; the continuation token is the last id
  // returned, so that a page never repeats or skips a connection that stays.
  listPage(route, query, hub) {
    const sizeText = first(query, "maxpagesize");
    const topText = first(query, "top");
    const tokenText = first(query, "continuationToken");
    let size = this.pageSize;
    if (sizeText !== undefined) {
      if (!isIntegerText(sizeText) || Number(sizeText) < 1 || Number(sizeText) > 200) {
        return errorAnswer(400, "Error.BadRequest", "maxpagesize must be 1..200");
      }
      size = Number(sizeText);
    }
    let top = null;
    if (topText !== undefined) {
      if (!isIntegerText(topText) || Number(topText) < 1) {
        return errorAnswer(400, "Error.BadRequest", "top must be at least 1");
      }
      top = Number(topText);
    }
    let after = null;
    if (tokenText !== undefined) {
      try {
        after = JSON.parse(Buffer.from(tokenText, "base64url").toString("utf8")).after;
      } catch (e) {
        after = null;
      }
      if (typeof after !== "string") {
        return errorAnswer(400, "Error.BadRequest", "invalid continuationToken");
      }
    }
    const ids = hub.groupMembers(route.params.group).sort((x, y) => (x.id < y.id ? -1 : 1))
      .filter((c) => after === null || c.id > after);
    let count = Math.min(size, ids.length);
    if (top !== null) {
      count = Math.min(count, top);
    }
    const value = ids.slice(0, count).map((c) => (typeof c.userId === "string"
      ? { connectionId: c.id, userId: c.userId } : { connectionId: c.id }));
    const page = { value };
    const left = top === null ? null : top - count;
    if (count < ids.length && count > 0 && (left === null || left > 0)) {
      const token = Buffer.from(JSON.stringify({ after: value[count - 1].connectionId }), "utf8")
        .toString("base64url");
      let q = `?api-version=${encodeURIComponent(first(query, "api-version") || API_VERSION)}`
        + `&maxpagesize=${size}&continuationToken=${token}`;
      if (left !== null) {
        q += `&top=${left}`;
      }
      page.nextLink = (this.relativeNextLinks ? "" : this.origin + route.prefix)
        + route.apiPath + q;
    }
    return jsonAnswer(200, page);
  }

  generateToken(route, query) {
    const minutes = first(query, "minutesToExpire");
    if (minutes !== undefined && (!isIntegerText(minutes) || Number(minutes) < 1)) {
      return errorAnswer(400, "Error.BadRequest", "minutesToExpire must be at least 1");
    }
    const type = (first(query, "clientType") || "default").toLowerCase();
    const paths = { default: "client/hubs/", mqtt: "clients/mqtt/hubs/",
                    socketio: "clients/socketio/hubs/" };
    if (!paths[type]) {
      return errorAnswer(400, "Error.BadRequest", "invalid clientType");
    }
    const now = this.now();
    const claims = {
      aud: `${this.endpoint}/${paths[type]}${route.params.hub}`,
      iat: now,
      nbf: now,
      exp: now + 60 * (minutes === undefined ? 60 : Number(minutes)),
    };
    const userId = first(query, "userId");
    if (userId !== undefined && userId !== "") {
      claims.sub = userId;
    }
    const roles = query.get("role") || [];
    if (roles.length > 0) {
      claims.role = roles;
    }
    const groups = query.get("group") || [];
    if (groups.length > 0) {
      claims["webpubsub.group"] = groups;
    }
    if (this.entra) {
      claims.iss = "https://webpubsub.azure.com";
    }
    return jsonAnswer(200, { token: signJwt(claims, this.keys[0], this.tokenKid) });
  }
}

module.exports = { RestApi };
