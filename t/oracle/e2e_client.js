// Node side of t/e2e_client.t: the chat demo driven by the official
// @azure/web-pubsub-client, the way an application would use it.
//
// Two clients, alice (WebPubSubJsonProtocol) and bob (the default, the
// reliable JSON protocol), get their client URL from nginx's /negotiate,
// connect to the local service, join "lobby", talk to each other, send an
// event to the app and stop.  Then the connections that must fail: a
// token without a user (the app refuses the connect), a token for another
// hub, an expired one, one signed with another key; and a valid token
// made here, as a control for those.  In Entra mode (make run AUTH=entra)
// no key exists: the token for another hub and the control come from the
// service's :generateToken, called with an access token of the local
// Entra ID stand-in, and there is no expired one.
//
// The script only records what happened; t/e2e_client.t judges it.
//
// Environment (set by t/lib/ChatDemo.pm):
//   E2E_NGINX     nginx's origin (http://127.0.0.1:PORT)
//   E2E_SERVICE   the local service's origin
//   E2E_KEY       the demo's access key (empty in Entra mode)
//   E2E_HUB       the hub (chat)
//   E2E_AUTH      "key" or "entra"
//   E2E_IDP       the identity provider's origin (Entra mode)
//   E2E_SCALE     a factor for every time limit (valgrind)
//
// Output (stdout): one JSON object.

"use strict";

const jwt = require("jsonwebtoken");
const {
  WebPubSubClient,
  WebPubSubJsonProtocol,
} = require("@azure/web-pubsub-client");

const NGINX = process.env.E2E_NGINX;
const SERVICE = process.env.E2E_SERVICE;
const KEY = process.env.E2E_KEY;
const HUB = process.env.E2E_HUB || "chat";
const SCALE = Number(process.env.E2E_SCALE || 1);
const AUTH = process.env.E2E_AUTH || "key";
const IDP = process.env.E2E_IDP;

const STEP_MS = 5000 * SCALE;   // any one wait
const TOTAL_MS = 30000 * SCALE; // the whole script

const result = { steps: [], timings: [], clients: {}, failures: {} };
const clients = [];
let finished = false;

function finish(code) {
  if (finished) {
    return;
  }
  finished = true;
  for (const c of clients) {
    try {
      c.stop();
    } catch {
      // already stopped
    }
  }
  process.stdout.write(JSON.stringify(result) + "\n", () => process.exit(code));
}

// the whole script is bounded, whatever hangs
setTimeout(() => {
  result.error = `timed out after ${TOTAL_MS} ms, in step `
    + `"${result.steps[result.steps.length - 1]}"`;
  finish(2);
}, TOTAL_MS).unref();

const t0 = Date.now();
function step(name) {
  result.steps.push(name);
  result.timings.push(`${Date.now() - t0} ms: ${name}`);
}

async function waitFor(what, cond, ms = STEP_MS) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = cond();
    if (v) {
      return v;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

// a promise that rejects after ms
function bounded(what, promise, ms = STEP_MS) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function negotiate(query) {
  const res = await fetch(`${NGINX}/negotiate${query}`,
    { signal: AbortSignal.timeout(STEP_MS) });
  const text = await res.text();
  if (res.status !== 200) {
    throw new Error(`negotiate${query}: ${res.status} ${text}`);
  }
  return JSON.parse(text);
}

// A client and everything it saw.  Reconnecting would blur what the test
// sees, so it is off; message retries stay as they are.
function makeClient(name, credential, protocol) {
  const log = {
    name,
    protocol: protocol ? protocol.name : "default",
    negotiated: [],
    connected: [],
    disconnected: [],
    stopped: 0,
    groupMessages: [],
    serverMessages: [],
  };
  const options = { autoReconnect: false };
  if (protocol) {
    options.protocol = protocol;
  }
  const client = new WebPubSubClient(credential, options);
  client.on("connected", (e) =>
    log.connected.push({ connectionId: e.connectionId, userId: e.userId }));
  client.on("disconnected", (e) =>
    log.disconnected.push({ connectionId: e.connectionId,
                            message: e.message }));
  client.on("stopped", () => log.stopped++);
  client.on("group-message", (e) => log.groupMessages.push({
    group: e.message.group,
    fromUserId: e.message.fromUserId,
    dataType: e.message.dataType,
    data: e.message.data instanceof ArrayBuffer
      ? Buffer.from(e.message.data).toString("base64") : e.message.data,
  }));
  client.on("server-message", (e) => log.serverMessages.push({
    dataType: e.message.dataType,
    data: e.message.data instanceof ArrayBuffer
      ? Buffer.from(e.message.data).toString("base64") : e.message.data,
  }));
  clients.push(client);
  return { client, log };
}

// a client whose URL nginx gives, for ?name=<name> (no name: no query)
function chatClient(name, protocol) {
  const query = name === undefined ? "" : `?name=${encodeURIComponent(name)}`;
  let log;
  const made = makeClient(name === undefined ? "(nameless)" : name, {
    getClientAccessUrl: async () => {
      const n = await negotiate(query);
      log.negotiated.push({ baseUrl: n.baseUrl, claims: jwt.decode(n.token) });
      return n.url;
    },
  }, protocol);
  log = made.log;
  return made;
}

const announced = (log, text) =>
  log.serverMessages.some((m) => m.data && m.data.system === text);

// start() of a client that must fail: its error, or "connected"
async function mustFail(what, made) {
  try {
    await bounded(`${what}: start()`, made.client.start());
  } catch (e) {
    result.failures[what] = { error: String(e && e.message ? e.message : e),
                              log: made.log };
    return;
  }
  result.failures[what] = { error: null, connected: true, log: made.log };
  made.client.stop();
}

function token(claims, key = KEY) {
  return jwt.sign(claims, key, { algorithm: "HS256", noTimestamp: true });
}

async function postJson(url, headers, body) {
  const res = await fetch(url, { method: "POST", headers, body,
                                 signal: AbortSignal.timeout(STEP_MS) });
  const text = await res.text();
  if (res.status !== 200) {
    throw new Error(`POST ${url}: ${res.status} ${text}`);
  }
  return JSON.parse(text);
}

// Entra mode: a client token the service makes (:generateToken), asked
// for with an access token of the identity provider
async function serviceToken(hub, userId) {
  const entra = await postJson(`${IDP}/__token`,
    { "Content-Type": "application/json" }, "{}");
  const q = `api-version=2024-12-01&userId=${encodeURIComponent(userId)}`
    + "&minutesToExpire=60";
  const r = await postJson(`${SERVICE}/api/hubs/${hub}/:generateToken?${q}`,
    { Authorization: `Bearer ${entra.token}` });
  return r.token;
}

async function main() {
  const now = Math.floor(Date.now() / 1000);
  const aud = (hub) => `${SERVICE}/client/hubs/${hub}`;
  const url = (hub, tok) =>
    `${SERVICE.replace(/^http/, "ws")}/client/hubs/${hub}?access_token=${tok}`;

  // alice with the plain JSON protocol
  step("alice starts");
  const alice = chatClient("alice", WebPubSubJsonProtocol());
  result.clients.alice = alice.log;
  await bounded("alice start()", alice.client.start());
  result.aliceJoin = await bounded("alice joinGroup(lobby)",
    alice.client.joinGroup("lobby"));
  step("alice hears the app announce her");
  await waitFor('"alice joined" at alice',
    () => announced(alice.log, "alice joined"));

  // bob with the default protocol (json.reliable.webpubsub.azure.v1)
  step("bob starts");
  const bob = chatClient("bob");
  result.clients.bob = bob.log;
  await bounded("bob start()", bob.client.start());
  result.bobJoin = await bounded("bob joinGroup(lobby)",
    bob.client.joinGroup("lobby"));
  step("both hear the app announce bob");
  await waitFor('"bob joined" at alice and at bob',
    () => announced(alice.log, "bob joined") && announced(bob.log, "bob joined"));

  step("alice talks to the lobby");
  result.aliceSend = await bounded("alice sendToGroup",
    alice.client.sendToGroup("lobby", { text: "hello from alice" }, "json"));
  await waitFor("alice's message at bob", () => bob.log.groupMessages.some(
    (m) => m.data && m.data.text === "hello from alice"));

  step("bob answers");
  result.bobSend = await bounded("bob sendToGroup",
    bob.client.sendToGroup("lobby", "hi alice, bob here", "text"));
  await waitFor("bob's message at alice", () => alice.log.groupMessages.some(
    (m) => m.data === "hi alice, bob here"));

  step("events to the app");
  result.aliceEvent = await bounded("alice sendEvent(shout)",
    alice.client.sendEvent("shout", { text: "HELLO" }, "json"));
  result.bobEvent = await bounded("bob sendEvent(typing)",
    bob.client.sendEvent("typing", "bob is typing", "text"));

  step("bob leaves");
  bob.client.stop();
  await waitFor("bob stopped", () => bob.log.stopped > 0);
  await waitFor('"bob left" at alice', () => announced(alice.log, "bob left"));

  step("alice leaves");
  alice.client.stop();
  await waitFor("alice stopped", () => alice.log.stopped > 0);

  // The failures.  Each is a client of its own.
  step("a token without a user");
  await mustFail("nameless", chatClient(undefined));

  step("nginx's token at another hub's URL");
  let aliceUrl;
  {
    const n = await negotiate("?name=alice");
    aliceUrl = n.url;
  }
  const otherPath = aliceUrl.replace(`/client/hubs/${HUB}?`,
    "/client/hubs/other?");
  result.otherHubPathChanged = otherPath !== aliceUrl;
  await mustFail("token at another hub",
    makeClient("alice@other", { getClientAccessUrl: otherPath }));

  step("a token for another hub");
  await mustFail("token for another hub", makeClient("alice-other-aud", {
    getClientAccessUrl: url(HUB, AUTH === "entra"
      ? await serviceToken("other", "alice")
      : token({ sub: "alice", aud: aud("other"), iat: now, exp: now + 3600 })),
  }));

  if (AUTH !== "entra") {
    step("an expired token");
    await mustFail("expired token", makeClient("alice-expired", {
      getClientAccessUrl: url(HUB, token({ sub: "alice", aud: aud(HUB),
                                            iat: now - 7200, exp: now - 3600 })),
    }));
  }

  step("a token signed with another key");
  await mustFail("token with another key", makeClient("alice-wrong-key", {
    getClientAccessUrl: url(HUB, token({ sub: "alice", aud: aud(HUB),
                                          iat: now, exp: now + 3600 },
                                        "not-the-demo-key")),
  }));

  // the control: made here like the failing ones, but valid
  step("a valid token made here");
  const carol = makeClient("carol", {
    getClientAccessUrl: url(HUB, AUTH === "entra"
      ? await serviceToken(HUB, "carol")
      : token({ sub: "carol", aud: aud(HUB), iat: now, exp: now + 3600 })),
  });
  result.clients.carol = carol.log;
  await bounded("carol start()", carol.client.start());
  await waitFor("carol connected", () => carol.log.connected.length > 0);
  carol.client.stop();
  await waitFor("carol stopped", () => carol.log.stopped > 0);

  step("done");
}

main().then(() => finish(0), (e) => {
  result.error = `${result.steps[result.steps.length - 1]}: `
    + (e && e.stack ? e.stack : String(e));
  finish(1);
});
