// Oracle for the REST tests: runs one call of the official @azure/web-pubsub
// SDK, given with the module's operation and parameter names, and prints
// what came of it.
//
//   node rest.js '<json case>'        one case, one output line
//   node rest.js --batch FILE         FILE holds a JSON array of cases;
//                                     one output line per case, in order
//
// A case: { endpoint, key, hub, op, params, body_b64, content_type,
//           entra_token?, timeout_ms? }
//   op      the module's snake_case operation name (send_to_group, ...)
//   params  the module's parameter names: user, group, connection, filter,
//           excluded, ttl, reason, permission, target, max_page_size, top,
//           role, ttl_minutes, protocol.  excluded, role and (for the bulk
//           group operations and generate_client_token) group take an array
//           or a single string.
//
// Output line: { ok: true, result, status, requests }
//          or  { ok: false, statusCode, message, code, errorCode, status,
//                requests }
// where result is null for the operations that return nothing (and the
// boolean, the item array or {token, baseUrl, url} for the others), status
// is the HTTP status of the last response the SDK saw, and
// requests lists each request the SDK sent ({ method, url,
// client_request_id }) so a test can find them in the recorder's log.
//
// The SDK does no retries here (retryOptions.maxRetries = 0).
//
// generate_client_token uses an Entra ID credential (a stub returning
// entra_token, or RECORDER_ENTRA_TOKEN), because only then does the SDK
// call :generateToken.  core-rest-pipeline refuses to send a bearer token
// to any URL that is not https://, whatever allowInsecureConnection says,
// so for an http:// endpoint the client is built on the https:// form of
// the endpoint and a policy placed after signing turns the URL back into
// http:// before it is sent.  Only the scheme changes: the path, query and
// headers are the SDK's own.  The baseUrl and url of the result are turned
// back from wss:// to ws:// accordingly.

"use strict";

const fs = require("node:fs");
const { WebPubSubServiceClient, AzureKeyCredential } = require("@azure/web-pubsub");

const DEFAULT_TIMEOUT_MS = 10000;
const MAX_ITEMS = 100000;

class CaseError extends Error {}

function scalar(params, name) {
  let v = params[name];
  if (Array.isArray(v)) {
    if (v.length !== 1) {
      throw new CaseError(`parameter ${name} takes one value`);
    }
    v = v[0];
  }
  if (v === undefined || v === null) {
    return undefined;
  }
  return String(v);
}

function list(params, name) {
  const v = params[name];
  if (v === undefined || v === null) {
    return undefined;
  }
  return (Array.isArray(v) ? v : [v]).map(String);
}

function number(params, name) {
  const v = scalar(params, name);
  return v === undefined ? undefined : Number(v);
}

function required(value, name) {
  if (value === undefined) {
    throw new CaseError(`parameter ${name} is required`);
  }
  return value;
}

// Sets only the options that were given.
function opts(base, pairs) {
  const o = Object.assign({}, base);
  for (const [k, v] of Object.entries(pairs)) {
    if (v !== undefined) {
      o[k] = v;
    }
  }
  return o;
}

function message(c) {
  const body = Buffer.from(c.body_b64 || "", "base64");
  const type = (c.content_type || "").split(";")[0].trim().toLowerCase();
  switch (type) {
    case "text/plain":
      return { message: body.toString("utf8"), options: { contentType: "text/plain" } };
    case "application/json":
      return { message: JSON.parse(body.toString("utf8")), options: {} };
    case "application/octet-stream":
      return { message: new Uint8Array(body), options: {} };
    default:
      throw new CaseError(
        `content_type ${JSON.stringify(c.content_type)} is not one the SDK sends`);
  }
}

function makeClient(c, requests) {
  const entra = c.op === "generate_client_token";
  let endpoint = c.endpoint;
  let insecure = false;
  let credential;

  if (entra) {
    const token = c.entra_token || process.env.RECORDER_ENTRA_TOKEN;
    if (!token) {
      throw new CaseError(
        "generate_client_token needs entra_token or RECORDER_ENTRA_TOKEN");
    }
    credential = {
      getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 3600 * 1000 }),
    };
    if (/^http:\/\//i.test(endpoint)) {
      endpoint = "https://" + endpoint.slice("http://".length);
      insecure = true;
    }
  } else {
    credential = new AzureKeyCredential(required(c.key, "key"));
  }

  const client = new WebPubSubServiceClient(endpoint, credential, c.hub, {
    allowInsecureConnection: true,
    retryOptions: { maxRetries: 0 },
  });

  // After every other policy that changes the request (the key policy is
  // in no phase, the bearer policy in "Sign"): record it, and undo the
  // https:// of the Entra case.
  client.client.pipeline.addPolicy({
    name: "restOracleRecorder",
    sendRequest(request, next) {
      if (insecure) {
        request.url = "http://" + request.url.slice("https://".length);
        request.allowInsecureConnection = true;
      }
      requests.push({
        method: request.method,
        url: request.url,
        client_request_id: request.headers.get("x-ms-client-request-id") || null,
      });
      return next(request);
    },
  }, { afterPhase: "Sign" });

  return { client, insecure };
}

async function run(c, requests, state) {
  const p = c.params || {};
  const need = (name) => required(scalar(p, name), name);
  const { client, insecure } = makeClient(c, requests);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), c.timeout_ms || DEFAULT_TIMEOUT_MS);
  timer.unref();
  const base = {
    abortSignal: controller.signal,
    onResponse: (raw) => {
      state.status = raw.status;
    },
  };

  try {
    switch (c.op) {
      case "send_to_all": {
        const m = message(c);
        return await client.sendToAll(m.message, opts(Object.assign(base, m.options), {
          filter: scalar(p, "filter"),
          excludedConnections: list(p, "excluded"),
          messageTtlSeconds: number(p, "ttl"),
        }));
      }
      case "send_to_user": {
        const m = message(c);
        return await client.sendToUser(need("user"), m.message,
          opts(Object.assign(base, m.options), {
            filter: scalar(p, "filter"),
            messageTtlSeconds: number(p, "ttl"),
          }));
      }
      case "send_to_group": {
        const m = message(c);
        return await client.group(need("group")).sendToAll(m.message,
          opts(Object.assign(base, m.options), {
            filter: scalar(p, "filter"),
            excludedConnections: list(p, "excluded"),
            messageTtlSeconds: number(p, "ttl"),
          }));
      }
      case "send_to_connection": {
        const m = message(c);
        return await client.sendToConnection(need("connection"),
          m.message, opts(Object.assign(base, m.options), {
            messageTtlSeconds: number(p, "ttl"),
          }));
      }
      case "add_user_to_group":
        return await client.group(need("group"))
          .addUser(need("user"), base);
      case "remove_user_from_group":
        return await client.group(need("group"))
          .removeUser(need("user"), base);
      case "add_connection_to_group":
        return await client.group(need("group"))
          .addConnection(need("connection"), base);
      case "remove_connection_from_group":
        return await client.group(need("group"))
          .removeConnection(need("connection"), base);
      case "remove_connection_from_all_groups":
        return await client.removeConnectionFromAllGroups(
          need("connection"), base);
      case "remove_user_from_all_groups":
        return await client.removeUserFromAllGroups(need("user"), base);
      case "add_connections_to_groups":
        return await client.addConnectionsToGroups(list(p, "group") || [],
          scalar(p, "filter"), base);
      case "remove_connections_from_groups":
        return await client.removeConnectionsFromGroups(list(p, "group") || [],
          scalar(p, "filter"), base);
      case "list_connections": {
        // 1.2.0 returns a Promise of the iterator
        const iter = await client.group(need("group"))
          .listConnections(opts(base, {
            maxPageSize: number(p, "max_page_size"),
            top: number(p, "top"),
          }));
        const items = [];
        for await (const item of iter) {
          items.push(item);
          if (items.length >= MAX_ITEMS) {
            throw new CaseError(`more than ${MAX_ITEMS} items`);
          }
        }
        return items;
      }
      case "connection_exists":
        return await client.connectionExists(need("connection"), base);
      case "user_exists":
        return await client.userExists(need("user"), base);
      case "group_exists":
        return await client.groupExists(need("group"), base);
      case "close_connection":
        return await client.closeConnection(need("connection"),
          opts(base, { reason: scalar(p, "reason") }));
      // The close options' .d.ts declare only `reason`, but the generated
      // operations read `excluded` from the same options object.
      case "close_all_connections":
        return await client.closeAllConnections(opts(base, {
          excluded: list(p, "excluded"),
          reason: scalar(p, "reason"),
        }));
      case "close_user_connections":
        return await client.closeUserConnections(need("user"),
          opts(base, { excluded: list(p, "excluded"), reason: scalar(p, "reason") }));
      case "close_group_connections":
        return await client.group(need("group")).closeAllConnections(
          opts(base, { excluded: list(p, "excluded"), reason: scalar(p, "reason") }));
      case "grant_permission":
        return await client.grantPermission(need("connection"),
          need("permission"),
          opts(base, { targetName: scalar(p, "target") }));
      case "revoke_permission":
        return await client.revokePermission(need("connection"),
          need("permission"),
          opts(base, { targetName: scalar(p, "target") }));
      case "check_permission":
        return await client.hasPermission(need("connection"),
          need("permission"),
          opts(base, { targetName: scalar(p, "target") }));
      case "generate_client_token": {
        const r = await client.getClientAccessToken(opts(base, {
          userId: scalar(p, "user"),
          roles: list(p, "role"),
          groups: list(p, "group"),
          expirationTimeInMinutes: number(p, "ttl_minutes"),
          clientProtocol: scalar(p, "protocol"),
        }));
        if (insecure) {
          r.baseUrl = r.baseUrl.replace(/^wss:/i, "ws:");
          r.url = r.url.replace(/^wss:/i, "ws:");
        }
        return r;
      }
      case "health":
        // not on WebPubSubServiceClient: the generated client's healthApi
        return await client.client.healthApi.getServiceStatus(base);
      default:
        throw new CaseError(`unknown op ${JSON.stringify(c.op)}`);
    }
  } finally {
    clearTimeout(timer);
  }
}

// Operations whose SDK method is declared to return Promise<void>: what the
// generated layer happens to resolve with ({} or {body: true}) is not a
// result.
const WITH_RESULT = new Set(["list_connections", "connection_exists", "user_exists",
  "group_exists", "check_permission", "generate_client_token"]);

async function one(c) {
  const requests = [];
  const state = { status: null };
  try {
    let result = await run(c, requests, state);
    if (!WITH_RESULT.has(c.op) || result === undefined) {
      result = null;
    }
    return { ok: true, result, status: state.status, requests };
  } catch (e) {
    if (e instanceof CaseError) {
      return { ok: false, oracle_error: e.message, statusCode: null, message: e.message,
               status: state.status, requests };
    }
    const headers = e && e.response && e.response.headers;
    return {
      ok: false,
      statusCode: e && e.statusCode !== undefined ? e.statusCode : null,
      message: String(e && e.message),
      code: e && e.code !== undefined ? e.code : null,
      errorCode: headers && headers.get ? headers.get("x-ms-error-code") || null : null,
      status: state.status,
      requests,
    };
  }
}

function out(line) {
  return new Promise((resolve) => {
    process.stdout.write(JSON.stringify(line) + "\n", resolve);
  });
}

async function main() {
  const args = process.argv.slice(2);
  let cases;
  if (args[0] === "--batch" && args.length === 2) {
    cases = JSON.parse(fs.readFileSync(args[1], "utf8"));
    if (!Array.isArray(cases)) {
      throw new Error("the batch file must hold a JSON array");
    }
  } else if (args.length === 1) {
    cases = [JSON.parse(args[0])];
  } else {
    throw new Error("usage: rest.js '<json case>' | rest.js --batch FILE");
  }
  for (const c of cases) {
    await out(await one(c));
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e && e.stack ? e.stack : String(e));
    process.exit(1);
  });
