// Oracle for t/event_forgery.t: client access tokens made by the official
// @azure/web-pubsub SDK (getClientAccessToken), which the test turns into
// forged webhooks.  The SDK signs them locally with the connection
// string's key; nothing is sent anywhere.
//
// Usage: node forgery_tokens.js '<json>'
//   input:  { connectionString, hub, cases: [ options, ... ] } where each
//           options object is given to getClientAccessToken as it is
//           (userId, roles, groups, expirationTimeInMinutes,
//           clientProtocol)
//   output: one JSON array on stdout, one { token } or { error } per case

"use strict";

const { WebPubSubServiceClient } = require("@azure/web-pubsub");

async function main() {
  const input = JSON.parse(process.argv[2]);
  const client = new WebPubSubServiceClient(input.connectionString,
    input.hub, { allowInsecureConnection: true });
  const out = [];
  for (const options of input.cases) {
    try {
      const answer = await client.getClientAccessToken(options);
      out.push({ token: answer.token });
    } catch (e) {
      out.push({ error: String(e && e.message) });
    }
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
