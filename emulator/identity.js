// A local stand-in of Microsoft Entra ID for the tests (as emulator/service.js
// is one of Web PubSub): the managed identity endpoints (IMDS, App Service),
// the token endpoint's client credentials grant, OpenID discovery and the
// JWKS, with RS256 access tokens signed by a key made at start.  It logs
// every request so that a test can compare what nginx sent with what the
// official @azure/identity sent, and fails on demand.
//
//   IDP_PORT=8090 IDP_TLS_CERT=cert.pem IDP_TLS_KEY=key.pem node emulator/identity.js
//
// Environment:
//   IDP_PORT             port to listen on, on 127.0.0.1 (required)
//   IDP_TLS_CERT         PEM certificate and key files: serve HTTPS (the
//   IDP_TLS_KEY          token endpoint needs it for msal; IMDS and App
//                        Service are plain HTTP in Azure)
//   IDP_ORIGIN           the origin it names in discovery, issuers and
//                        assertion audiences (default http(s)://127.0.0.1:PORT)
//   IDP_TENANT           tenant id (default 7e1b5c3a-4d2f-4a8b-9c6e-0f1a2b3c4d5e)
//   IDP_SYSTEM_IDENTITY  the system-assigned managed identity, JSON
//                        {"client_id","object_id","resource_id"} (default
//                        fixed GUIDs, below); "none": there is none
//   IDP_USER_IDENTITIES  user-assigned identities, a JSON array of such
//                        objects (default one, below); IMDS/App Service
//                        pick one by client_id, object_id or
//                        msi_res_id/mi_res_id (ids compared ignoring case)
//   IDP_IDENTITY_HEADER  the App Service secret X-IDENTITY-HEADER must
//                        equal (unset: /msi/token answers 401)
//   IDP_CLIENT_ID        the app registration of the token endpoint
//                        (default fixed GUID); its service principal's
//   IDP_CLIENT_OID       object id (default fixed GUID) is the tokens' oid
//   IDP_CLIENT_SECRET    its secret (unset: no secret is valid)
//   IDP_CLIENT_CERT      PEM file of its certificate: client assertions
//                        with x5t#S256 (or x5t) of it, RS256 or PS256, aud
//                        the token endpoint URL, iss = sub = client id
//   IDP_FEDERATED_TOKEN  a federated token (workload identity) accepted as
//                        it is; besides, any RS256 token this provider
//                        signed with aud api://AzureADTokenExchange (POST
//                        /__token {"federated":true}) is accepted
//   IDP_FEDERATED_SUBJECT  if set, the sub such a minted token must have
//   IDP_LOG              optional JSON-lines file, one line per request (as
//                        GET /__log)
//   IDP_LIFETIME         optional seconds after which it stops by itself
//
// Endpoints (the shapes of Entra ID and Azure's managed identity hosts):
//   GET  /metadata/identity/oauth2/token?api-version=..&resource=..
//        [&client_id=..|&object_id=..|&msi_res_id=..]      needs Metadata: true
//        -> {access_token, client_id, expires_in, expires_on, ext_expires_in,
//            not_before, resource, token_type} (numbers as strings)
//   GET  /msi/token?api-version=2019-08-01&resource=..
//        [&client_id|object_id|mi_res_id]   needs X-IDENTITY-HEADER
//        -> {access_token, expires_on, resource, token_type, client_id}
//   POST /{tenant}/oauth2/v2.0/token  form: grant_type=client_credentials,
//        client_id, scope=<resource>/.default, and client_secret or
//        client_assertion + client_assertion_type (jwt-bearer)
//        -> {token_type, expires_in, ext_expires_in, access_token[, refresh_in]}
//        numbers as numbers; a bad credential: 401 {"error":"invalid_client",
//        "error_description":"AADSTS...", "error_codes":[..], ...}; other
//        mistakes 400 with invalid_request, unauthorized_client,
//        invalid_scope or unsupported_grant_type
//   GET  /{tenant}/v2.0/.well-known/openid-configuration   (also without v2.0)
//   GET  /{tenant}/discovery/v2.0/keys   (also /{tenant}/discovery/keys)
//        -> {"keys":[{kty:"RSA",use:"sig",kid,x5t,n,e}]} (no x5c: the key
//        has no certificate; kid = x5t = SHA-1 of the public key's DER)
//   GET  /common/discovery/instance   msal's instance discovery
// Access tokens: RS256, header {typ,alg,kid,x5t}; managed identity tokens
// are v1 (iss https://sts.windows.net/{tid}/, appid, appidacr, xms_mirid),
// token endpoint tokens v2 (iss {origin}/{tid}/v2.0, azp, azpacr); both
// have aud (the resource, the scope without /.default), iat, nbf, exp,
// idtyp "app", oid, sub = oid, tid, uti, ver.
//
// Test API (never logged, never failed):
//   GET  /__ping     -> 200 "ok"
//   GET  /__control  -> {settings, mode, kids, tenant, origin, requests}
//   POST /__control  JSON, every field optional:
//     mode: "ok" | "down" (the socket is destroyed, no answer) | "slow"
//           (answered after delay_ms) | "status" (answered with status,
//           body: a JSON value, default an OAuth error, headers: {..})
//           | "garbage" (200 with a body that is not JSON)
//     only: ["imds","appservice","token","openid","jwks","instance"]:
//           the mode applies to those kinds of request only (default all)
//     count: the mode applies to the next count requests it touches, then
//           it is "ok" again (default: until changed)
//     lifetime: seconds of the tokens issued from now on (default 3600)
//     expires_on_form: "string" (default) | "number" | "iso" for the
//           managed identity answers' expires_on
//     refresh_in: seconds (sent by the token endpoint) or null (not sent)
//     token_version: "auto" (default: v2 from the token endpoint) | "1"
//     rotate_key: true: a new signing key and kid, the old ones leave the
//           JWKS; "keep": a new signing key, the old ones stay published
//     -> the state as GET /__control
//   GET  /__log[?from=N]  -> JSON array of the requests logged after the
//           first N: {seq, time, kind, method, path, query (name -> string,
//           or array when repeated), headers (lower-case names), form (the
//           parsed urlencoded body), check, mode (applied, or "ok"),
//           status, issued ({claims} of a token given out)}.  Secrets
//           appear only as "sha256:<hex of SHA-256 of the value>":
//           authorization ("<scheme> sha256:.."), x-identity-header,
//           client_secret, client_assertion; check holds {verdict,
//           assertion_kind, assertion_header, assertion_claims} for the
//           token endpoint
//   POST /__token  JSON -> {token, header, claims}: a token signed by the
//           current key unless asked otherwise.  Fields: resource or aud
//           (default https://webpubsub.azure.com), oid, tid, appid, azp,
//           iss, sub, iat, nbf, exp (absolute), exp_in, nbf_in (relative
//           to now), version (1 default, or 2), claims {..} (merged last),
//           omit ["exp",..], alg ("RS256" default, "PS256", "HS256" with
//           hmac_key or else the public key's PEM as the secret, "none"),
//           key ("current", "previous", "foreign": a key never published),
//           kid (header kid override), header {..} (merged last),
//           federated: true (a workload identity token: aud
//           api://AzureADTokenExchange, iss {origin}/federation, sub
//           IDP_FEDERATED_SUBJECT or system:serviceaccount:default:workload)
//
// It prints "identity provider on http(s)://127.0.0.1:PORT" once listening
// and stops on SIGINT or SIGTERM.

"use strict";

const crypto = require("node:crypto");
const fs = require("node:fs");
const http = require("node:http");
const https = require("node:https");
const { IdentityProvider, json, oauthError, MAX_LIFETIME } = require("./lib/idp");
const { parseQuery, splitUrl, mediaType } = require("./lib/util");

const MAX_BODY = 1024 * 1024;
const MAX_DELAY = 120000;
const MAX_LOG = 100000;   // entries kept for GET /__log
const KINDS = ["imds", "appservice", "token", "openid", "jwks", "instance"];

const DEFAULTS = {
  tenant: "7e1b5c3a-4d2f-4a8b-9c6e-0f1a2b3c4d5e",
  system: { client_id: "5a1f0c9e-3b7d-4e21-9f8a-1c2d3e4f5a6b",
            object_id: "9d8c7b6a-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
            resource_id: "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups"
              + "/rg/providers/Microsoft.Compute/virtualMachines/vm1" },
  users: [{ client_id: "c3d4e5f6-a7b8-4c9d-8e0f-1a2b3c4d5e6f",
            object_id: "f6e5d4c3-b2a1-4f0e-9d8c-7b6a5f4e3d2c",
            resource_id: "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups"
              + "/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1" }],
  clientId: "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e",
  clientOid: "1e2d3c4b-5a69-4788-9a6b-5c4d3e2f1a0b",
};

function fail(message) {
  console.error(`identity: ${message}`);
  process.exit(2);
}

function identityOf(text, name) {
  let v;
  try {
    v = JSON.parse(text);
  } catch (e) {
    fail(`${name} is not JSON`);
  }
  const list = Array.isArray(v) ? v : [v];
  for (const i of list) {
    if (!i || typeof i.client_id !== "string" || typeof i.object_id !== "string") {
      fail(`${name}: every identity needs client_id and object_id strings`);
    }
  }
  return v;
}

function config(env) {
  const port = Number(env.IDP_PORT);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    fail("IDP_PORT must be a port number");
  }
  let tls = null;
  if (env.IDP_TLS_CERT || env.IDP_TLS_KEY) {
    try {
      tls = { cert: fs.readFileSync(env.IDP_TLS_CERT), key: fs.readFileSync(env.IDP_TLS_KEY) };
    } catch (e) {
      fail(`IDP_TLS_CERT and IDP_TLS_KEY must both name readable PEM files: ${e.message}`);
    }
  }
  const origin = (env.IDP_ORIGIN || `${tls ? "https" : "http"}://127.0.0.1:${port}`)
    .replace(/\/+$/, "");
  let clientCert = null;
  if (env.IDP_CLIENT_CERT) {
    try {
      clientCert = new crypto.X509Certificate(fs.readFileSync(env.IDP_CLIENT_CERT));
    } catch (e) {
      fail(`IDP_CLIENT_CERT: ${e.message}`);
    }
  }
  let lifetime = 0;
  if (env.IDP_LIFETIME) {
    lifetime = Number(env.IDP_LIFETIME);
    if (!(lifetime > 0)) {
      fail("IDP_LIFETIME must be a positive number of seconds");
    }
  }
  return {
    port, tls, origin, lifetime,
    tenant: env.IDP_TENANT || DEFAULTS.tenant,
    system: env.IDP_SYSTEM_IDENTITY === "none" ? null
      : env.IDP_SYSTEM_IDENTITY ? identityOf(env.IDP_SYSTEM_IDENTITY, "IDP_SYSTEM_IDENTITY")
        : DEFAULTS.system,
    users: env.IDP_USER_IDENTITIES
      ? identityOf(env.IDP_USER_IDENTITIES, "IDP_USER_IDENTITIES") : DEFAULTS.users,
    identityHeader: env.IDP_IDENTITY_HEADER || "",
    clientId: env.IDP_CLIENT_ID || DEFAULTS.clientId,
    clientOid: env.IDP_CLIENT_OID || DEFAULTS.clientOid,
    clientSecret: env.IDP_CLIENT_SECRET || "",
    clientCert,
    federatedToken: env.IDP_FEDERATED_TOKEN || "",
    federatedSubject: env.IDP_FEDERATED_SUBJECT || "",
    log: env.IDP_LOG || "",
  };
}

function fingerprint(value) {
  return "sha256:" + crypto.createHash("sha256").update(String(value)).digest("hex");
}

function redactHeaders(headers) {
  const out = Object.assign({}, headers);
  if (out.authorization !== undefined) {
    const m = /^(\S+)\s+(.*)$/.exec(out.authorization);
    out.authorization = m ? `${m[1]} ${fingerprint(m[2])}` : fingerprint(out.authorization);
  }
  if (out["x-identity-header"] !== undefined) {
    out["x-identity-header"] = fingerprint(out["x-identity-header"]);
  }
  return out;
}

function plainObject(map) {
  const out = {};
  for (const [k, v] of map) {
    out[k] = v.length === 1 ? v[0] : v;
  }
  return out;
}

// which endpoint a request is for: { kind, tenant }
function route(method, path) {
  if (method === "GET" && /^\/metadata\/identity\/oauth2\/token\/?$/.test(path)) {
    return { kind: "imds" };
  }
  if (method === "GET" && /^\/msi\/token\/?$/.test(path)) {
    return { kind: "appservice" };
  }
  if (method === "GET" && path === "/common/discovery/instance") {
    return { kind: "instance" };
  }
  let m = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(path);
  if (m && method === "POST") {
    return { kind: "token", tenant: decodeURIComponent(m[1]) };
  }
  m = /^\/([^/]+)(?:\/v2\.0)?\/\.well-known\/openid-configuration$/.exec(path);
  if (m && method === "GET") {
    return { kind: "openid", tenant: decodeURIComponent(m[1]) };
  }
  m = /^\/([^/]+)\/discovery(?:\/v2\.0)?\/keys$/.exec(path);
  if (m && method === "GET") {
    return { kind: "jwks", tenant: decodeURIComponent(m[1]) };
  }
  return { kind: "other" };
}

const CONTROL_MODES = ["ok", "down", "slow", "status", "garbage"];

function checkControl(c) {
  if (!c || typeof c !== "object" || Array.isArray(c)) {
    return "the control body must be a JSON object";
  }
  if (c.mode !== undefined && !CONTROL_MODES.includes(c.mode)) {
    return `mode must be one of ${CONTROL_MODES.join(", ")}`;
  }
  if (c.mode === "slow" && !(Number.isInteger(c.delay_ms) && c.delay_ms >= 0
                             && c.delay_ms <= MAX_DELAY)) {
    return `slow needs delay_ms, 0..${MAX_DELAY}`;
  }
  if (c.mode === "status" && !(Number.isInteger(c.status) && c.status >= 100
                               && c.status <= 599)) {
    return "status needs an integer status 100..599";
  }
  if (c.only !== undefined && !(Array.isArray(c.only) && c.only.every((k) => KINDS.includes(k)))) {
    return `only must be an array of ${KINDS.join(", ")}`;
  }
  if (c.count !== undefined && !(Number.isInteger(c.count) && c.count > 0)) {
    return "count must be a positive integer";
  }
  if (c.lifetime !== undefined && !(Number.isInteger(c.lifetime) && c.lifetime > 0
                                    && c.lifetime <= MAX_LIFETIME)) {
    return "lifetime must be a positive integer of seconds";
  }
  if (c.expires_on_form !== undefined && !["number", "string", "iso"].includes(c.expires_on_form)) {
    return "expires_on_form must be number, string or iso";
  }
  if (c.refresh_in !== undefined && c.refresh_in !== null
      && !(Number.isInteger(c.refresh_in) && c.refresh_in > 0)) {
    return "refresh_in must be a positive integer or null";
  }
  if (c.token_version !== undefined && !["auto", "1"].includes(String(c.token_version))) {
    return "token_version must be auto or 1";
  }
  if (c.rotate_key !== undefined && c.rotate_key !== true && c.rotate_key !== "keep"
      && c.rotate_key !== false) {
    return "rotate_key must be true or \"keep\"";
  }
  return null;
}

function main(env) {
  const cfg = config(env);
  const idp = new IdentityProvider(cfg);
  let failure = { mode: "ok" };
  let seq = 0;
  const entries = [];

  function state() {
    return { settings: idp.settings, mode: failure, kids: idp.keys.map((k) => k.kid),
             tenant: cfg.tenant, origin: cfg.origin, requests: seq };
  }

  function record(entry) {
    entries.push(entry);
    if (entries.length > MAX_LOG) {
      entries.shift();
    }
    if (cfg.log) {
      try {
        fs.appendFileSync(cfg.log, JSON.stringify(entry) + "\n");
      } catch (e) {
        // the log must not stop the provider
      }
    }
  }

  function send(res, a, extra) {
    const body = Buffer.from(a.body || "", "utf8");
    res.writeHead(a.status, Object.assign({}, a.headers,
      { "Content-Length": String(body.length) }, extra || {}));
    res.end(body);
  }

  function testApi(req, res, path, query, body) {
    if (req.method === "GET" && path === "/__ping") {
      send(res, { status: 200, headers: { "Content-Type": "text/plain" }, body: "ok" });
    } else if (req.method === "GET" && path === "/__control") {
      send(res, json(200, state()));
    } else if (req.method === "POST" && path === "/__control") {
      let c;
      try {
        c = JSON.parse(body.toString("utf8"));
      } catch (e) {
        c = null;
      }
      const problem = checkControl(c);
      if (problem) {
        send(res, json(400, { error: problem }));
        return;
      }
      if (c.mode !== undefined) {
        failure = { mode: c.mode, delay_ms: c.delay_ms, status: c.status, body: c.body,
                    headers: c.headers, only: c.only, left: c.count };
      }
      for (const name of ["lifetime", "expires_on_form", "refresh_in"]) {
        if (c[name] !== undefined) {
          idp.settings[name] = c[name];
        }
      }
      if (c.token_version !== undefined) {
        idp.settings.token_version = String(c.token_version);
      }
      if (c.rotate_key) {
        idp.rotate(c.rotate_key === "keep");
      }
      send(res, json(200, state()));
    } else if (req.method === "GET" && path === "/__log") {
      const from = Number((query.get("from") || ["0"])[0]) || 0;
      send(res, json(200, entries.filter((e) => e.seq > from)));
    } else if (req.method === "POST" && path === "/__token") {
      let spec;
      try {
        spec = JSON.parse(body.toString("utf8") || "{}");
        send(res, json(200, idp.mint(spec)));
      } catch (e) {
        send(res, json(400, { error: e.message }));
      }
    } else {
      send(res, json(404, { error: "no such test API" }));
    }
  }

  function answer(req, r, query, form, check) {
    switch (r.kind) {
      case "imds":
        return idp.imds(req.headers, query);
      case "appservice":
        return idp.appService(req.headers, query);
      case "token":
        if (mediaType(req.headers["content-type"]) !== "application/x-www-form-urlencoded") {
          return oauthError(400, "invalid_request",
            "AADSTS900144: The request body must be application/x-www-form-urlencoded.",
            [900144]);
        }
        return idp.tokenEndpoint(r.tenant, form, check);
      case "openid":
        return r.tenant === cfg.tenant || r.tenant === "common"
          || r.tenant === "organizations" ? idp.openidConfiguration(r.tenant)
          : oauthError(400, "invalid_tenant", `AADSTS90002: Tenant '${r.tenant}' not found.`,
            [90002]);
      case "jwks":
        return json(200, idp.jwks());
      case "instance":
        return idp.instanceDiscovery();
      default:
        return json(404, { error: "not_found", error_description: `no endpoint at ${req.url}` });
    }
  }

  function handle(req, res, body) {
    const { path, query: rawQuery } = splitUrl(req.url);
    const query = parseQuery(rawQuery) || new Map();
    if (path.startsWith("/__")) {
      testApi(req, res, path, query, body);
      return;
    }
    const r = route(req.method, path);
    let form = null;
    if (r.kind === "token") {
      form = plainObject(parseQuery(body.toString("utf8")) || new Map());
    }
    const check = {};
    // mode: the failure applied, kept when a count runs out with it
    const mode = failure;
    let applied = "ok";
    if (failure.mode !== "ok" && r.kind !== "other"
        && (!failure.only || failure.only.includes(r.kind))) {
      applied = failure.mode;
      if (failure.left !== undefined && --failure.left <= 0) {
        failure = { mode: "ok" };
      }
    }
    let a;
    if (applied === "status") {
      a = json(mode.status, mode.body !== undefined ? mode.body
        : { error: "temporarily_unavailable",
            error_description: `the stand-in was told to answer ${mode.status}` }, mode.headers);
    } else if (applied === "garbage") {
      a = { status: 200, headers: { "Content-Type": "application/json" },
            body: "<html>this is not json</html>" };
    } else {
      a = answer(req, r, query, form || {}, check);
    }
    const redactedForm = form && Object.assign({}, form);
    for (const name of ["client_secret", "client_assertion"]) {
      if (redactedForm && redactedForm[name] !== undefined) {
        redactedForm[name] = fingerprint(redactedForm[name]);
      }
    }
    seq += 1;
    record({ seq, time: new Date().toISOString(), kind: r.kind, method: req.method, path,
             query: plainObject(query), headers: redactHeaders(req.headers),
             form: redactedForm, check: Object.keys(check).length ? check : null,
             mode: applied, status: applied === "down" ? null : a.status,
             issued: applied === "ok" ? a.issued || null : null });
    if (applied === "down") {
      req.socket.destroy();
    } else if (applied === "slow") {
      const timer = setTimeout(() => {
        if (!res.destroyed && !res.writableEnded) {
          send(res, a);
        }
      }, Math.min(mode.delay_ms, MAX_DELAY));
      res.on("close", () => clearTimeout(timer));
    } else {
      send(res, a);
    }
  }

  const onRequest = (req, res) => {
    const chunks = [];
    let size = 0;
    req.on("data", (chunk) => {
      size += chunk.length;
      if (size <= MAX_BODY) {
        chunks.push(chunk);
      }
    });
    req.on("end", () => {
      if (size > MAX_BODY) {
        send(res, json(413, { error: "invalid_request", error_description: "body too large" }));
        return;
      }
      handle(req, res, Buffer.concat(chunks));
    });
    req.on("error", () => req.socket.destroy());
  };
  const server = cfg.tls ? https.createServer(cfg.tls, onRequest) : http.createServer(onRequest);
  server.keepAliveTimeout = 5000;
  server.on("clientError", (err, socket) => socket.destroy());

  function stop() {
    server.close();
    server.closeAllConnections();
    process.exit(0);
  }
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  if (cfg.lifetime > 0) {
    setTimeout(stop, cfg.lifetime * 1000).unref();
  }
  server.on("error", (e) => fail(e.message));
  server.listen(cfg.port, "127.0.0.1", () => {
    console.log(`identity provider on ${cfg.tls ? "https" : "http"}://127.0.0.1:${cfg.port}`);
  });
}

if (require.main === module) {
  main(process.env);
}

module.exports = { main, DEFAULTS };
