// The 25 operations of the Web PubSub REST API (api-version 2024-12-01) as
// routes, and the service's answers, for rest.js.

"use strict";

const { decodeComponent } = require("./util.js");

// method, operation, path template; a {name} is one encoded path segment
const ROUTES = [
  ["HEAD", "health", "/api/health"],
  ["POST", "sendToAll", "/api/hubs/{hub}/:send"],
  ["POST", "sendToUser", "/api/hubs/{hub}/users/{user}/:send"],
  ["POST", "sendToConnection", "/api/hubs/{hub}/connections/{connection}/:send"],
  ["POST", "sendToGroup", "/api/hubs/{hub}/groups/{group}/:send"],
  ["HEAD", "connectionExists", "/api/hubs/{hub}/connections/{connection}"],
  ["DELETE", "closeConnection", "/api/hubs/{hub}/connections/{connection}"],
  ["POST", "closeAllConnections", "/api/hubs/{hub}/:closeConnections"],
  ["POST", "closeUserConnections", "/api/hubs/{hub}/users/{user}/:closeConnections"],
  ["POST", "closeGroupConnections", "/api/hubs/{hub}/groups/{group}/:closeConnections"],
  ["HEAD", "groupExists", "/api/hubs/{hub}/groups/{group}"],
  ["HEAD", "userExists", "/api/hubs/{hub}/users/{user}"],
  ["PUT", "addConnectionToGroup", "/api/hubs/{hub}/groups/{group}/connections/{connection}"],
  ["DELETE", "removeConnectionFromGroup",
    "/api/hubs/{hub}/groups/{group}/connections/{connection}"],
  ["DELETE", "removeConnectionFromAllGroups", "/api/hubs/{hub}/connections/{connection}/groups"],
  ["PUT", "addUserToGroup", "/api/hubs/{hub}/users/{user}/groups/{group}"],
  ["DELETE", "removeUserFromGroup", "/api/hubs/{hub}/users/{user}/groups/{group}"],
  ["DELETE", "removeUserFromAllGroups", "/api/hubs/{hub}/users/{user}/groups"],
  ["POST", "addToGroups", "/api/hubs/{hub}/:addToGroups"],
  ["POST", "removeFromGroups", "/api/hubs/{hub}/:removeFromGroups"],
  ["GET", "listConnections", "/api/hubs/{hub}/groups/{group}/connections"],
  ["PUT", "grantPermission", "/api/hubs/{hub}/permissions/{permission}/connections/{connection}"],
  ["DELETE", "revokePermission",
    "/api/hubs/{hub}/permissions/{permission}/connections/{connection}"],
  ["HEAD", "checkPermission", "/api/hubs/{hub}/permissions/{permission}/connections/{connection}"],
  ["POST", "generateToken", "/api/hubs/{hub}/:generateToken"],
].map(([method, op, template]) => {
  const names = [];
  const escaped = template.replace(/[.*+?^$()|[\]\\]/g, "\\$&");
  const source = escaped.replace(/\{(\w+)\}/g, (m, n) => {
    names.push(n);
    return "([^/]+)";
  });
  return { method, op, re: new RegExp(`^${source}$`), names };
});

// The endpoint may have a path prefix (http://host/base): the API root is
// the first "/api/".  Path parameters are percent-encoded, so a "/" in an
// id never reaches here as "/".
function matchRoute(method, path) {
  const at = path.indexOf("/api/");
  if (at < 0) {
    return null;
  }
  const prefix = path.slice(0, at);
  const apiPath = path.slice(at);
  let pathMatched = false;
  for (const { method: m, op, re, names } of ROUTES) {
    const found = re.exec(apiPath);
    if (!found) {
      continue;
    }
    pathMatched = true;
    if (m !== method) {
      continue;
    }
    const raw = {};
    const params = {};
    names.forEach((n, i) => {
      raw[n] = found[i + 1];
      params[n] = decodeComponent(found[i + 1]);
    });
    return { op, prefix, apiPath, raw, params };
  }
  return pathMatched ? { op: null, methodMismatch: true } : null;
}

// the service's answers: status, headers, body; errors as ErrorDetail
function answer(status, headers, body) {
  return { status, headers: headers || {}, body: body === undefined ? "" : body };
}

function errorAnswer(status, code, message) {
  return answer(status,
    { "Content-Type": "application/json; charset=utf-8", "x-ms-error-code": code },
    JSON.stringify({ code, message, target: "Request" }));
}

function jsonAnswer(status, value) {
  return answer(status, { "Content-Type": "application/json; charset=utf-8" },
    JSON.stringify(value));
}

// An answer on the wire; a Content-Length unless the answer has one.
function writeAnswer(res, a, method) {
  const headers = Object.assign({}, a.headers);
  const body = Buffer.from(a.body || "", "utf8");
  if (!Object.keys(headers).some((h) => h.toLowerCase() === "content-length")) {
    headers["Content-Length"] = String(body.length);
  }
  res.writeHead(a.status, headers);
  res.end(method === "HEAD" ? undefined : body);
}

function isIntegerText(s) {
  return typeof s === "string" && /^[0-9]{1,10}$/.test(s);
}

module.exports = {
  ROUTES, matchRoute, answer, errorAnswer, jsonAnswer, isIntegerText, writeAnswer,
};
