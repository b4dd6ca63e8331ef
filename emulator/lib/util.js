// Small helpers of the Web PubSub emulator (see ../service.js).

"use strict";

const crypto = require("node:crypto");
const fs = require("node:fs");

// docs/protocol.md 3.2: hub names; group names are 1..1024 characters, not only
// whitespace.  Hubs are case-insensitive, groups and ids case-sensitive.
const HUB_RE = /^[A-Za-z][A-Za-z0-9_`,.[\]]{0,127}$/;
const MAX_GROUP = 1024;

function isValidHub(hub) {
  return typeof hub === "string" && HUB_RE.test(hub);
}

function isValidGroup(group) {
  return typeof group === "string" && group.length >= 1 && group.length <= MAX_GROUP
    && !/^\s+$/.test(group);
}

function decodeComponent(s) {
  try {
    return decodeURIComponent(s);
  } catch (e) {
    return null;
  }
}

// The query as the service's framework reads it: "+" is a space.  A Map of
// name -> [values], or null when an escape is malformed.
function parseQuery(query) {
  const out = new Map();
  if (!query) {
    return out;
  }
  for (const pair of query.split("&")) {
    if (pair === "") {
      continue;
    }
    const eq = pair.indexOf("=");
    const rawName = eq < 0 ? pair : pair.slice(0, eq);
    const rawValue = eq < 0 ? "" : pair.slice(eq + 1);
    const name = decodeComponent(rawName.replace(/\+/g, " "));
    const value = decodeComponent(rawValue.replace(/\+/g, " "));
    if (name === null || value === null) {
      return null;
    }
    if (!out.has(name)) {
      out.set(name, []);
    }
    out.get(name).push(value);
  }
  return out;
}

function first(query, name) {
  const v = query.get(name);
  return v ? v[0] : undefined;
}

function splitUrl(rawUrl) {
  const q = rawUrl.indexOf("?");
  return q < 0 ? { path: rawUrl, query: "" } : { path: rawUrl.slice(0, q), query: rawUrl.slice(q + 1) };
}

function mediaType(value) {
  return (value || "").split(";")[0].trim().toLowerCase();
}

// URL-safe random ids (connection ids, reconnection tokens)
function randomId(bytes) {
  return crypto.randomBytes(bytes).toString("base64url");
}

// A WebSocket close reason is at most 123 bytes of UTF-8.
function closeReason(text) {
  let s = String(text || "");
  while (Buffer.byteLength(s, "utf8") > 123) {
    s = s.slice(0, -1);
  }
  return s;
}

// Header values go out as their UTF-8 bytes (Node writes a string's
// characters as latin1 bytes); CR, LF and NUL cannot be sent at all.
function headerValue(text) {
  const s = String(text);
  if (/[\r\n\0]/.test(s)) {
    return null;
  }
  return Buffer.from(s, "utf8").toString("latin1");
}

// One JSON line per thing the service did, when WPS_LOG names a file.
function createLog(file) {
  if (!file) {
    return () => {};
  }
  return (kind, fields) => {
    const line = Object.assign({ time: new Date().toISOString(), kind }, fields);
    try {
      fs.appendFileSync(file, JSON.stringify(line) + "\n");
    } catch (e) {
      // a log that cannot be written must not stop the service
    }
  };
}

module.exports = {
  HUB_RE, isValidHub, isValidGroup, decodeComponent, parseQuery, first, splitUrl,
  mediaType, randomId, closeReason, headerValue, createLog,
};
