// Writes the node half of t/unit/entra_vectors.h (fresh keys each run):
//   node t/unit/entra_vectors.js && cat vectors.c
const crypto = require('crypto');
const fs = require('fs');
const b64u = (b) => Buffer.from(b).toString('base64url');
const NOW = 1767225600;                       // 2026-01-01T00:00:00Z
const TID = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const OID = '4a3c2f1e-7b6d-4e5f-9a8b-1c2d3e4f5a6b';
const AUD = 'api://webpubsub-webhook';
const ISS1 = `https://sts.windows.net/${TID}/`;
const ISS2 = `https://login.microsoftonline.com/${TID}/v2.0`;

const A = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const B = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const C = crypto.generateKeyPairSync('rsa', { modulusLength: 1024 });
const D = crypto.generateKeyPairSync('rsa', { modulusLength: 4096, publicExponent: 3 });
const E = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
const jwk = (k) => k.publicKey.export({ format: 'jwk' });

const ja = jwk(A), jb = jwk(B), jc = jwk(C), jd = jwk(D), je = jwk(E);
// n of key D with a leading zero byte, which some writers add
const dn0 = b64u(Buffer.concat([Buffer.from([0]), Buffer.from(jd.n, 'base64url')]));
const jwks = { keys: [
  { kty: 'EC', use: 'sig', kid: 'ec', x: je.x, y: je.y, crv: 'P-256' },
  { kty: 'RSA', use: 'sig', kid: 'kidA', x5t: 'abc', n: ja.n, e: ja.e, x5c: ['MIIC'], issuer: ISS2 },
  { kty: 'RSA', use: 'enc', kid: 'enc', n: jb.n, e: jb.e },
  { kty: 'RSA', use: 'sig', kid: 'small', n: jc.n, e: jc.e },
  { kty: 'RSA', kid: 'kidB', n: jb.n, e: jb.e },
  { kty: 'RSA', use: 'sig', kid: 'kidD', alg: 'RS256', n: dn0, e: jd.e },
  { kty: 'RSA', use: 'sig', n: ja.n, e: ja.e },
  { kty: 'RSA', use: 'sig', kid: 'ps', alg: 'PS256', n: ja.n, e: ja.e },
] };

function jwt(header, payload, key, alg) {
  const h = typeof header === 'string' ? b64u(header) : b64u(JSON.stringify(header));
  const p = typeof payload === 'string' ? b64u(payload) : b64u(JSON.stringify(payload));
  const input = h + '.' + p;
  let sig;
  if (alg === 'none') sig = '';
  else if (alg === 'HS256') sig = b64u(crypto.createHmac('sha256', key).update(input).digest());
  else sig = b64u(crypto.sign('sha256', Buffer.from(input), key));
  return input + '.' + sig;
}
const hdr = (kid) => ({ typ: 'JWT', alg: 'RS256', x5t: 'nOo3ZDrODXEK1jKWhXslHR_KXEg', kid });
const claims = (o) => Object.assign({ aud: AUD, iss: ISS1, iat: NOW - 300, nbf: NOW - 300,
  exp: NOW + 3600, aio: 'E2RgYJh', appid: '0ec893e0-5785-4de6-99da-4ed124e5296c',
  appidacr: '2', idp: ISS1, oid: OID, rh: '0.AR8A', sub: OID, tid: TID,
  uti: 'Qx0XcXd', ver: '1.0' }, o);
const pa = A.privateKey, pb = B.privateKey;
const T = {
  good: jwt(hdr('kidA'), claims({}), pa),
  good_v2: jwt(hdr('kidA'), claims({ iss: ISS2, ver: '2.0', aud: [ 'other', AUD ] }), pa),
  good_d: jwt(hdr('kidD'), claims({}), D.privateKey),
  expired: jwt(hdr('kidA'), claims({ iat: NOW - 7200, nbf: NOW - 7200, exp: NOW - 301 }), pa),
  wrong_aud: jwt(hdr('kidA'), claims({ aud: 'api://other' }), pa),
  aud_array_without: jwt(hdr('kidA'), claims({ aud: [ 'a', 'b' ] }), pa),
  wrong_iss: jwt(hdr('kidA'), claims({ iss: 'https://sts.windows.net/other/' }), pa),
  wrong_tid: jwt(hdr('kidA'), claims({ tid: '00000000-0000-0000-0000-000000000000' }), pa),
  wrong_oid: jwt(hdr('kidA'), claims({ oid: '11111111-1111-1111-1111-111111111111' }), pa),
  nbf_future: jwt(hdr('kidA'), claims({ nbf: NOW + 301 }), pa),
  iat_future: jwt(hdr('kidA'), claims({ iat: NOW + 301 }), pa),
  no_exp: jwt(hdr('kidA'), claims({ exp: undefined }), pa),
  exp_string: jwt(hdr('kidA'), claims({ exp: String(NOW + 3600) }), pa),
  dup_claim: jwt(hdr('kidA'), '{"aud":"' + AUD + '","aud":"x","iss":"' + ISS1 + '","exp":' + (NOW + 3600) + '}', pa),
  alg_none: jwt({ typ: 'JWT', alg: 'none', kid: 'kidA' }, claims({}), null, 'none'),
  hs256: jwt({ typ: 'JWT', alg: 'HS256', kid: 'kidA' }, claims({}),
             A.publicKey.export({ type: 'spki', format: 'pem' }), 'HS256'),
  by_b: jwt(hdr('kidA'), claims({}), pb),
  kid_b: jwt(hdr('kidB'), claims({}), pb),
  crit: jwt({ typ: 'JWT', alg: 'RS256', kid: 'kidA', crit: [ 'exp' ] }, claims({}), pa),
  typ_at: jwt({ typ: 'at+jwt', alg: 'RS256', kid: 'kidA' }, claims({}), pa),
  no_kid: jwt({ typ: 'JWT', alg: 'RS256' }, claims({}), pa),
};
// tampered: the good token's signature on a payload with another aud
{
  const [h, , s] = T.good.split('.');
  T.tampered = h + '.' + b64u(JSON.stringify(claims({ oid: '11111111-1111-1111-1111-111111111111' }))) + '.' + s;
}
// at the edges of the skew (exp NOW - 299: still valid with skew 300; nbf NOW + 300: valid)
T.skew_exp = jwt(hdr('kidA'), claims({ exp: NOW - 299 }), pa);
T.skew_exp_out = jwt(hdr('kidA'), claims({ exp: NOW - 300 }), pa);
T.skew_nbf = jwt(hdr('kidA'), claims({ nbf: NOW + 300, iat: NOW + 300 }), pa);

function lit(name, s) {
  let out = `static const char  ${name}[] =\n`;
  const parts = [];
  let cur = '';
  for (const ch of s) {
    const e = ch === '"' ? '\\"' : ch === '\\' ? '\\\\' : ch;
    if (cur.length + e.length > 72) { parts.push(cur); cur = ''; }
    cur += e;
  }
  if (cur) parts.push(cur);
  out += parts.map((p) => '    "' + p + '"').join('\n') + ';\n';
  return out;
}
let c = `/* generated by node ${process.version} crypto, NOW ${NOW} */\n\n`;
c += `#define NOW  ${NOW}\n#define TID  "${TID}"\n#define OID  "${OID}"\n#define AUD  "${AUD}"\n#define ISS1 "${ISS1}"\n#define ISS2 "https://login.microsoftonline.com/" TID "/v2.0"\n\n`;
c += lit('jwks', JSON.stringify(jwks)) + '\n';
c += lit('n_a_hex', Buffer.from(ja.n, 'base64url').toString('hex')) + '\n';
c += lit('n_d_hex', Buffer.from(jd.n, 'base64url').toString('hex')) + '\n';
c += lit('e_a_hex', Buffer.from(ja.e, 'base64url').toString('hex')) + '\n';
for (const [k, v] of Object.entries(T)) c += lit('tok_' + k, v) + '\n';
fs.writeFileSync('vectors.c', c);
fs.writeFileSync('a_pub.pem', A.publicKey.export({ type: 'spki', format: 'pem' }));
