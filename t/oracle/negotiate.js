// Oracle for t/negotiate_interop.t: what the official @azure/web-pubsub SDK
// makes for each case, and whether jsonwebtoken accepts nginx's token.
//
// Input (file named by argv[2]): a JSON array of
//   { connectionString, hub, userId?, roles?, groups?,
//     expirationTimeInMinutes?, clientProtocol?, nginxToken }
// Output (stdout): a JSON array, one object per case:
//   { sdk: { token, baseUrl, url }, sdkClaims, nginxClaims,
//     verified: true | "<error message>", key }
//
// The SDK is run with Date.now() pinned to the iat of nginx's token, so that
// equal inputs must give byte-identical tokens.

"use strict";

const fs = require("fs");
const jwt = require("jsonwebtoken");
const { WebPubSubServiceClient } = require("@azure/web-pubsub");

function keyOf(connectionString) {
  // The SDK's own rule: split on ";", key at the first "=", lower-cased.
  for (const part of connectionString.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim().toLowerCase() === "accesskey") {
      return part.slice(eq + 1).trim();
    }
  }
  throw new Error("no AccessKey in " + connectionString);
}

async function one(c) {
  const decoded = jwt.decode(c.nginxToken, { complete: true });
  if (!decoded) {
    return { error: "nginx token does not decode" };
  }

  const realNow = Date.now;
  Date.now = () => decoded.payload.iat * 1000;
  let sdk;
  try {
    const client = new WebPubSubServiceClient(c.connectionString, c.hub, {
      allowInsecureConnection: true,
    });
    const options = {};
    for (const k of ["userId", "roles", "groups", "expirationTimeInMinutes",
                     "clientProtocol"]) {
      if (c[k] !== undefined) {
        options[k] = c[k];
      }
    }
    sdk = await client.getClientAccessToken(options);
  } finally {
    Date.now = realNow;
  }

  const key = keyOf(c.connectionString);
  const sdkClaims = jwt.decode(sdk.token);
  let verified;
  try {
    jwt.verify(c.nginxToken, key, {
      algorithms: ["HS256"],
      audience: sdkClaims.aud,
      clockTolerance: 300,
    });
    verified = true;
  } catch (e) {
    verified = e.message;
  }

  return {
    sdk,
    sdkClaims,
    nginxClaims: decoded.payload,
    nginxHeader: decoded.header,
    verified,
  };
}

async function main() {
  const cases = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
  const out = [];
  for (const c of cases) {
    try {
      out.push(await one(c));
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
