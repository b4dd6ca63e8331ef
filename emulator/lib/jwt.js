// HS256 tokens as the service checks and mints them (docs/protocol.md 2.3, 3.1):
// the key is the access key's UTF-8 bytes, exp is required, exp and nbf are
// checked with 5 minutes of clock skew, the issuer is not checked.

"use strict";

const crypto = require("node:crypto");

const CLOCK_SKEW = 300;   // seconds

function b64urlDecode(text) {
  if (typeof text !== "string" || !/^[A-Za-z0-9_-]*$/.test(text)) {
    return null;
  }
  return Buffer.from(text, "base64url");
}

function hmacB64url(key, input) {
  return crypto.createHmac("sha256", Buffer.from(key, "utf8"))
    .update(input, "utf8").digest("base64url");
}

function safeEqual(a, b) {
  const x = Buffer.from(a, "utf8");
  const y = Buffer.from(b, "utf8");
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

function parseJwt(token) {
  const parts = String(token).split(".");
  if (parts.length !== 3) {
    return { error: "not three dot-separated parts" };
  }
  const rawHeader = b64urlDecode(parts[0]);
  const rawPayload = b64urlDecode(parts[1]);
  if (rawHeader === null || rawPayload === null || b64urlDecode(parts[2]) === null) {
    return { error: "a part is not base64url" };
  }
  let header;
  let claims;
  try {
    header = JSON.parse(rawHeader.toString("utf8"));
    claims = JSON.parse(rawPayload.toString("utf8"));
  } catch (e) {
    return { error: "header or payload is not JSON" };
  }
  if (!header || typeof header !== "object" || Array.isArray(header)
      || !claims || typeof claims !== "object" || Array.isArray(claims)) {
    return { error: "header or payload is not a JSON object" };
  }
  return { parts, header, claims };
}

// Signature (any key) and lifetime.  The audience is the caller's business.
// Returns { ok, reason, header, claims }.
function verifyJwt(token, keys) {
  const jwt = parseJwt(token);
  if (jwt.error) {
    return { ok: false, reason: jwt.error };
  }
  const { parts, header, claims } = jwt;
  const result = { ok: false, header, claims };
  if (header.alg !== "HS256") {
    result.reason = `alg is ${JSON.stringify(header.alg)}, not HS256`;
    return result;
  }
  const input = parts[0] + "." + parts[1];
  if (!keys.some((k) => safeEqual(hmacB64url(k, input), parts[2]))) {
    result.reason = "signature made with none of the keys";
    return result;
  }
  const now = Date.now() / 1000;
  if (typeof claims.exp !== "number") {
    result.reason = "exp missing or not a number";
    return result;
  }
  if (now > claims.exp + CLOCK_SKEW) {
    result.reason = "expired";
    return result;
  }
  if (claims.nbf !== undefined) {
    if (typeof claims.nbf !== "number") {
      result.reason = "nbf is not a number";
      return result;
    }
    if (now < claims.nbf - CLOCK_SKEW) {
      result.reason = "not yet valid (nbf)";
      return result;
    }
  }
  result.ok = true;
  result.reason = "valid";
  return result;
}

// kid: optional, as the service's tokens from :generateToken carry one
function signJwt(claims, key, kid) {
  const header = kid === undefined ? '{"alg":"HS256","typ":"JWT"}'
    : JSON.stringify({ alg: "HS256", kid, typ: "JWT" });
  const head = Buffer.from(header, "utf8").toString("base64url");
  const body = Buffer.from(JSON.stringify(claims), "utf8").toString("base64url");
  return `${head}.${body}.${hmacB64url(key, head + "." + body)}`;
}

// The bearer token of an Authorization value ("Bearer" in any case).
function bearer(value) {
  const m = /^bearer\s+(.+)$/i.exec(value || "");
  return m ? m[1].trim() : null;
}

module.exports = {
  CLOCK_SKEW, parseJwt, verifyJwt, signJwt, bearer, safeEqual, hmacB64url,
};
