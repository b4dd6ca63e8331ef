// RSA-signed JWTs as Microsoft Entra ID issues them and its token endpoint
// accepts them in client assertions (RS256, PS256), shared by the identity
// provider stand-in (../identity.js) and the emulator's Entra ID mode
// (entra.js).  node:crypto only.

"use strict";

const crypto = require("node:crypto");
const { parseJwt } = require("./jwt");

const PSS = { padding: crypto.constants.RSA_PKCS1_PSS_PADDING,
              saltLength: crypto.constants.RSA_PSS_SALTLEN_DIGEST };

function b64url(value) {
  const bytes = Buffer.isBuffer(value) ? value : Buffer.from(
    typeof value === "string" ? value : JSON.stringify(value), "utf8");
  return bytes.toString("base64url");
}

// header and claims are objects; alg in the header picks the signature:
// RS256, PS256, HS256 (hmacKey, bytes or string) or none (no signature)
function signJwt(header, claims, { privateKey, hmacKey } = {}) {
  const input = `${b64url(header)}.${b64url(claims)}`;
  let sig;
  switch (header.alg) {
    case "RS256":
      sig = crypto.sign("sha256", Buffer.from(input), privateKey);
      break;
    case "PS256":
      sig = crypto.sign("sha256", Buffer.from(input), Object.assign({ key: privateKey }, PSS));
      break;
    case "HS256":
      sig = crypto.createHmac("sha256", hmacKey).update(input).digest();
      break;
    case "none":
      sig = Buffer.alloc(0);
      break;
    default:
      throw new Error(`cannot sign with alg ${JSON.stringify(header.alg)}`);
  }
  return `${input}.${sig.toString("base64url")}`;
}

// The signature of a parsed JWT (parseJwt) with an RSA public key, for the
// algorithms in allowed.  { ok, reason }
function verifyRsa(jwt, publicKey, allowed) {
  const alg = jwt.header.alg;
  if (!allowed.includes(alg)) {
    return { ok: false, reason: `alg is ${JSON.stringify(alg)}, not ${allowed.join(" or ")}` };
  }
  const input = Buffer.from(`${jwt.parts[0]}.${jwt.parts[1]}`);
  const sig = Buffer.from(jwt.parts[2], "base64url");
  let ok = false;
  try {
    ok = alg === "PS256"
      ? crypto.verify("sha256", input, Object.assign({ key: publicKey }, PSS), sig)
      : crypto.verify("sha256", input, publicKey, sig);
  } catch (e) {
    return { ok: false, reason: `signature: ${e.message}` };
  }
  return ok ? { ok: true, reason: "signature valid" } : { ok: false, reason: "bad signature" };
}

// exp required, exp and nbf with skew seconds.  { ok, reason }
function checkLifetime(claims, skew, now) {
  const t = now === undefined ? Date.now() / 1000 : now;
  if (typeof claims.exp !== "number") {
    return { ok: false, reason: "exp missing or not a number" };
  }
  if (t > claims.exp + skew) {
    return { ok: false, reason: "expired" };
  }
  if (claims.nbf !== undefined && (typeof claims.nbf !== "number" || t < claims.nbf - skew)) {
    return { ok: false, reason: "not yet valid (nbf)" };
  }
  return { ok: true, reason: "lifetime valid" };
}

// A signing key: RSA 2048 with a kid and the JWKS entry that publishes it.
// Entra ID's kid and x5t are the SHA-1 thumbprint of the key's certificate;
// this key has no certificate, so both are that of the public key's DER.
function newSigningKey() {
  const { privateKey, publicKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
  const der = publicKey.export({ type: "spki", format: "der" });
  const kid = crypto.createHash("sha1").update(der).digest("base64url");
  const jwk = publicKey.export({ format: "jwk" });
  return {
    kid, privateKey, publicKey,
    jwk: { kty: "RSA", use: "sig", kid, x5t: kid, n: jwk.n, e: jwk.e },
  };
}

// A public key from a JWKS entry, or null
function keyOfJwk(jwk) {
  if (!jwk || jwk.kty !== "RSA" || typeof jwk.n !== "string" || typeof jwk.e !== "string") {
    return null;
  }
  try {
    return crypto.createPublicKey({ key: { kty: "RSA", n: jwk.n, e: jwk.e }, format: "jwk" });
  } catch (e) {
    return null;
  }
}

module.exports = { b64url, signJwt, verifyRsa, checkLifetime, newSigningKey, keyOfJwk, parseJwt };
