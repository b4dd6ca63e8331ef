
/*
 * Unit tests of Entra ID's tokens (ngx_webpubsub_entra.c), outside
 * nginx.  The tokens were signed by node's crypto and the certificates
 * made by the openssl command line (entra_vectors.h); the client
 * assertions the core signs are checked by OpenSSL's verification with
 * the certificate's public key and read back with jansson.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "ngx_webpubsub_entra.h"
#include "check.h"
#include "entra_vectors.h"


#define S(lit)  { (const unsigned char *) (lit), sizeof(lit) - 1 }

#define NOT_JWT      "the Bearer token is not a JWT"
#define TOO_LONG     "the Bearer token is too long"
#define BAD_HEADER   "the Bearer token's header is not a JSON object"
#define NOT_RS256    "the Bearer token is not signed with RS256"
#define NOT_TYP      "the Bearer token's typ is not JWT"
#define CRIT         "the Bearer token has critical header parameters"
#define NO_KID       "the Bearer token has no usable kid"
#define OTHER_KID    "the Bearer token's kid is not the key's"
#define BAD_SIG      "the Bearer token's signature does not verify"
#define BAD_CLAIMS   "the Bearer token's claims are not a JSON object"
#define ISSUER       "the Bearer token's issuer is not accepted"
#define AUDIENCE     "the Bearer token's audience is not the configured one"
#define NO_EXP       "the Bearer token has no valid exp"
#define EXPIRED      "the Bearer token has expired"
#define EARLY        "the Bearer token is not valid yet"
#define FUTURE       "the Bearer token is issued in the future"
#define TENANT       "the Bearer token's tenant is not the configured one"
#define OBJECT       "the Bearer token's object id is not the configured " \
                     "one"
#define RULES        "the Bearer token rules' time or skew is out of range"

#define NO_CERT      "the certificate file holds no PEM certificate"
#define NO_KEY       "the certificate file holds no unencrypted private key"
#define NOT_RSA      "the certificate's private key is not an RSA key of " \
                     "2048 to 8192 bits"
#define MISMATCH     "the private key is not the certificate's"
#define CERT_LONG    "the certificate file is too long"


static int
is(const char *rv, const char *lit)
{
    if (rv != NULL && strcmp(rv, lit) == 0) {
        return 1;
    }

    printf("  got: %s\n", rv ? rv : "NULL");

    return 0;
}


static size_t
unhex(unsigned char *dst, const char *hex)
{
    size_t        n;
    unsigned int  b;

    for (n = 0; hex[2 * n]; n++) {
        sscanf(hex + 2 * n, "%2x", &b);
        dst[n] = (unsigned char) b;
    }

    return n;
}


static void
key_from_hex(ngx_webpubsub_jwk_t *key, const char *kid, const char *n,
    const char *e)
{
    memset(key, 0, sizeof(ngx_webpubsub_jwk_t));
    key->kid_len = strlen(kid);
    memcpy(key->kid, kid, key->kid_len);
    key->n_len = unhex(key->n, n);
    key->e_len = unhex(key->e, e);
}


static const char *
verify(const char *jwt, const ngx_webpubsub_jwk_t *key,
    const ngx_webpubsub_bearer_rules_t *rules)
{
    return ngx_webpubsub_bearer_verify((const unsigned char *) jwt,
                                       strlen(jwt), key, rules);
}


static void
test_kid(void)
{
    size_t          n;
    unsigned char   kid[NGX_WEBPUBSUB_JWK_KID_MAX];

    check(ngx_webpubsub_bearer_kid((const unsigned char *) tok_good,
                                   strlen(tok_good), kid, &n) == NULL
          && n == 4 && memcmp(kid, "kidA", 4) == 0, "kid: kidA");
    check(ngx_webpubsub_bearer_kid((const unsigned char *) tok_kid_b,
                                   strlen(tok_kid_b), kid, &n) == NULL
          && n == 4 && memcmp(kid, "kidB", 4) == 0, "kid: kidB");

    check(is(ngx_webpubsub_bearer_kid((const unsigned char *) tok_alg_none,
                                      strlen(tok_alg_none), kid, &n),
             NOT_RS256) && n == 0, "kid: alg none refused");
    check(is(ngx_webpubsub_bearer_kid((const unsigned char *) tok_hs256,
                                      strlen(tok_hs256), kid, &n),
             NOT_RS256), "kid: HS256 refused");
    check(is(ngx_webpubsub_bearer_kid((const unsigned char *) tok_no_kid,
                                      strlen(tok_no_kid), kid, &n),
             NO_KID), "kid: none");
    check(is(ngx_webpubsub_bearer_kid((const unsigned char *) tok_crit,
                                      strlen(tok_crit), kid, &n),
             CRIT), "kid: crit");
    check(is(ngx_webpubsub_bearer_kid((const unsigned char *) tok_typ_at,
                                      strlen(tok_typ_at), kid, &n),
             NOT_TYP), "kid: typ at+jwt");

    check(is(ngx_webpubsub_bearer_kid((const unsigned char *) "", 0, kid,
                                      &n), NOT_JWT), "kid: empty");
    check(is(ngx_webpubsub_bearer_kid(NULL, 0, kid, &n), NOT_JWT),
          "kid: NULL");
    check(is(ngx_webpubsub_bearer_kid((const unsigned char *) "a.b", 3, kid,
                                      &n), NOT_JWT), "kid: two parts");
    check(is(ngx_webpubsub_bearer_kid((const unsigned char *) "a.b.c.d", 7,
                                      kid, &n), NOT_JWT), "kid: four parts");
    check(is(ngx_webpubsub_bearer_kid((const unsigned char *) ".b.c", 4,
                                      kid, &n), NOT_JWT), "kid: no header");
    check(is(ngx_webpubsub_bearer_kid((const unsigned char *) "a..c", 4,
                                      kid, &n), NOT_JWT), "kid: no payload");

    /* {"alg":"RS256"} with a space: not base64url */
    check(is(ngx_webpubsub_bearer_kid(
                 (const unsigned char *) "eyJhbGciOiJSUzI1NiJ9 .e30.c", 27,
                 kid, &n), BAD_HEADER), "kid: a space in the header");
    /* ["RS256"] */
    check(is(ngx_webpubsub_bearer_kid(
                 (const unsigned char *) "WyJSUzI1NiJd.e30.c", 18, kid, &n),
             BAD_HEADER), "kid: a header that is an array");
    /* {"alg":"RS256","alg":"none","kid":"k"}: two readers, two algs */
    check(is(ngx_webpubsub_bearer_kid(
                 (const unsigned char *)
                 "eyJhbGciOiJSUzI1NiIsImFsZyI6Im5vbmUiLCJraWQiOiJrIn0.e30.c",
                 57, kid, &n), BAD_HEADER), "kid: alg twice");
    /* {"alg":"rs256","kid":"k"} */
    check(is(ngx_webpubsub_bearer_kid(
                 (const unsigned char *)
                 "eyJhbGciOiJyczI1NiIsImtpZCI6ImsifQ.e30.c", 40, kid, &n),
             NOT_RS256), "kid: rs256 in lower case");
    /* {"alg":"RS256","typ":"jwt","kid":"k"}: typ of any case */
    check(ngx_webpubsub_bearer_kid(
              (const unsigned char *)
              "eyJhbGciOiJSUzI1NiIsInR5cCI6Imp3dCIsImtpZCI6ImsifQ.e30.c", 56,
              kid, &n) == NULL && n == 1 && kid[0] == 'k',
          "kid: typ jwt in lower case");
}


static void
test_verify(void)
{
    char                          *big, *bad;
    size_t                         len;
    ngx_webpubsub_jwk_t            a, b, d;
    ngx_webpubsub_bearer_rules_t   r, r2;

    static const char  alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                    "abcdefghijklmnopqrstuvwxyz0123456789-_";

    static const ngx_webpubsub_bearer_rules_t  rules = {
        { S(ISS1), S(ISS2) }, S(AUD), S(TID), S(OID), NOW, 300
    };

    key_from_hex(&a, "kidA", n_a_hex, e_a_hex);
    key_from_hex(&b, "kidB", n_a_hex, e_a_hex);
    key_from_hex(&d, "kidD", n_d_hex, "03");

    r = rules;

    check(verify(tok_good, &a, &r) == NULL, "verify: a v1 token");
    check(verify(tok_good_v2, &a, &r) == NULL,
          "verify: a v2 token, aud an array");
    check(verify(tok_good_d, &d, &r) == NULL,
          "verify: a 4096-bit key, e = 3");

    check(is(verify(tok_alg_none, &a, &r), NOT_RS256), "verify: alg none");
    check(is(verify(tok_hs256, &a, &r), NOT_RS256),
          "verify: HS256 keyed with the public key's PEM");
    check(is(verify(tok_by_b, &a, &r), BAD_SIG),
          "verify: signed by another key");
    check(is(verify(tok_tampered, &a, &r), BAD_SIG),
          "verify: another payload under the signature");
    check(is(verify(tok_good, &d, &r), OTHER_KID),
          "verify: the key of another kid");
    check(is(verify(tok_good, &b, &r), OTHER_KID),
          "verify: kidB's token is not checked with kidA's key");
    check(is(verify(tok_kid_b, &a, &r), OTHER_KID),
          "verify: the caller's key must be the kid's");

    /* kidA's numbers under the kid of the token signed by B */
    check(is(verify(tok_kid_b, &b, &r), BAD_SIG),
          "verify: kidB's token does not verify with kidA's numbers");

    check(is(verify(tok_expired, &a, &r), EXPIRED), "verify: expired");
    check(verify(tok_skew_exp, &a, &r) == NULL,
          "verify: exp now - 299, within the skew");
    check(is(verify(tok_skew_exp_out, &a, &r), EXPIRED),
          "verify: exp now - 300, not");
    check(is(verify(tok_nbf_future, &a, &r), EARLY),
          "verify: nbf now + 301");
    check(verify(tok_skew_nbf, &a, &r) == NULL,
          "verify: nbf and iat now + 300, within the skew");
    check(is(verify(tok_iat_future, &a, &r), FUTURE),
          "verify: iat now + 301");
    check(is(verify(tok_no_exp, &a, &r), NO_EXP), "verify: no exp");
    check(is(verify(tok_exp_string, &a, &r), NO_EXP),
          "verify: exp a string");
    check(is(verify(tok_wrong_aud, &a, &r), AUDIENCE), "verify: aud");
    check(is(verify(tok_aud_array_without, &a, &r), AUDIENCE),
          "verify: aud an array without it");
    check(is(verify(tok_wrong_iss, &a, &r), ISSUER), "verify: iss");
    check(is(verify(tok_wrong_tid, &a, &r), TENANT), "verify: tid");
    check(is(verify(tok_wrong_oid, &a, &r), OBJECT), "verify: oid");
    check(is(verify(tok_dup_claim, &a, &r), BAD_CLAIMS),
          "verify: aud twice");
    check(is(verify(tok_crit, &a, &r), CRIT), "verify: crit");
    check(is(verify(tok_typ_at, &a, &r), NOT_TYP), "verify: typ");
    check(is(verify(tok_no_kid, &a, &r), NO_KID), "verify: no kid");

    /* what the rules leave unchecked */

    r2 = rules;
    r2.tenant.len = 0;
    r2.object_id.len = 0;

    check(verify(tok_wrong_tid, &a, &r2) == NULL,
          "verify: tid unchecked");
    check(verify(tok_wrong_oid, &a, &r2) == NULL,
          "verify: oid unchecked");

    r2 = rules;
    r2.issuers[0].len = 0;

    check(is(verify(tok_good, &a, &r2), ISSUER),
          "verify: the v1 issuer unused");
    check(verify(tok_good_v2, &a, &r2) == NULL,
          "verify: the v2 issuer alone");

    r2.issuers[1].len = 0;
    check(is(verify(tok_good_v2, &a, &r2), ISSUER),
          "verify: no issuer, no token");

    r2 = rules;
    r2.audience.len--;
    check(is(verify(tok_good, &a, &r2), AUDIENCE),
          "verify: a prefix of aud is not aud");

    r2 = rules;
    r2.now = NOW + 3600 + 299;
    check(verify(tok_good, &a, &r2) == NULL, "verify: exp + 299");
    r2.now++;
    check(is(verify(tok_good, &a, &r2), EXPIRED), "verify: exp + 300");

    r2 = rules;
    r2.skew = 0;
    check(is(verify(tok_skew_exp, &a, &r2), EXPIRED),
          "verify: no skew, expired");

    r2.skew = -1;
    check(is(verify(tok_good, &a, &r2), RULES), "verify: negative skew");
    r2 = rules;
    r2.now = -1;
    check(is(verify(tok_good, &a, &r2), RULES), "verify: negative now");

    /* one encoding per signature: bits past the data must be zero */

    len = strlen(tok_good);
    bad = malloc(len + 1);
    if (bad == NULL) {
        check(0, "verify: memory");
        return;
    }

    memcpy(bad, tok_good, len + 1);

    /*
     * 256 bytes are 342 characters, the last carrying 2 bits and 4 zeros:
     * setting the lowest keeps the data (a lax decoder would verify it)
     */
    bad[len - 1] = alphabet[(strchr(alphabet, bad[len - 1]) - alphabet) | 1];
    check(is(verify(bad, &a, &r), BAD_SIG),
          "verify: a signature with a non-canonical last character");

    memcpy(bad, tok_good, len + 1);
    bad[len - 1] = '\0';
    check(is(verify(bad, &a, &r), BAD_SIG),
          "verify: a signature one character short");

    free(bad);

    /* the length bound comes before any decoding */

    big = malloc(NGX_WEBPUBSUB_ENTRA_TOKEN_MAX + 2);
    if (big == NULL) {
        check(0, "verify: memory");
        return;
    }

    memset(big, 'A', NGX_WEBPUBSUB_ENTRA_TOKEN_MAX + 1);
    memcpy(big, tok_good, len);
    big[NGX_WEBPUBSUB_ENTRA_TOKEN_MAX + 1] = '\0';

    check(is(verify(big, &a, &r), TOO_LONG), "verify: one byte too long");

    big[NGX_WEBPUBSUB_ENTRA_TOKEN_MAX] = '\0';
    check(is(verify(big, &a, &r), BAD_SIG),
          "verify: at the bound, read, a longer signature");

    free(big);
}


static int
str_eq(json_t *v, const ngx_webpubsub_str_t *s)
{
    return json_is_string(v) && json_string_length(v) == s->len
           && memcmp(json_string_value(v), s->data, s->len) == 0;
}


/* PEM texts joined, as one file holds them */

static const unsigned char *
join(char *buf, size_t size, const char *a, const char *b, const char *c)
{
    snprintf(buf, size, "%s%s%s", a, b, c ? c : "");
    return (const unsigned char *) buf;
}


static ngx_webpubsub_cert_t *
load(const unsigned char *pem, const char **err)
{
    return ngx_webpubsub_cert_load(pem, strlen((const char *) pem), err);
}


/* base64url to bytes by way of OpenSSL's base64: another decoder */

static size_t
b64u_decode(unsigned char *dst, const char *src, size_t n)
{
    int     len;
    char   *b64;
    size_t  i, m, pad;

    pad = (4 - n % 4) % 4;
    b64 = malloc(n + pad + 1);
    if (b64 == NULL) {
        return 0;
    }

    for (i = 0; i < n; i++) {
        b64[i] = src[i] == '-' ? '+' : src[i] == '_' ? '/' : src[i];
    }

    for (m = 0; m < pad; m++) {
        b64[n + m] = '=';
    }

    len = EVP_DecodeBlock(dst, (unsigned char *) b64, (int) (n + pad));
    free(b64);

    return len < 0 ? 0 : (size_t) len - pad;
}


static int
guid_v4(const char *s)
{
    size_t  i;

    if (strlen(s) != 36) {
        return 0;
    }

    for (i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-') {
                return 0;
            }

        } else if (!((s[i] >= '0' && s[i] <= '9')
                     || (s[i] >= 'a' && s[i] <= 'f')))
        {
            return 0;
        }
    }

    return s[14] == '4' && strchr("89ab", s[19]) != NULL;
}


/* the assertion's signature, checked with the certificate's public key */

static int
pss_verified(const char *jwt, size_t len, const char *cert_pem)
{
    int            ok;
    BIO           *bio;
    X509          *x509;
    size_t         sig_len;
    EVP_PKEY      *pub;
    const char    *dot;
    EVP_MD_CTX    *md;
    EVP_PKEY_CTX  *pctx;
    unsigned char  sig[1024];

    dot = memchr(jwt, '.', len);
    dot = dot ? memchr(dot + 1, '.', jwt + len - dot - 1) : NULL;

    if (dot == NULL || (size_t) (jwt + len - dot - 1) > 1360) {
        return 0;
    }

    sig_len = b64u_decode(sig, dot + 1, jwt + len - dot - 1);

    bio = BIO_new_mem_buf(cert_pem, -1);
    x509 = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    BIO_free(bio);
    pub = x509 ? X509_get_pubkey(x509) : NULL;

    md = EVP_MD_CTX_new();

    ok = pub != NULL && md != NULL
         && EVP_DigestVerifyInit(md, &pctx, EVP_sha256(), NULL, pub) == 1
         && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1
         && EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32) == 1
         && EVP_DigestVerifyUpdate(md, jwt, dot - jwt) == 1
         && EVP_DigestVerifyFinal(md, sig, sig_len) == 1;

    EVP_MD_CTX_free(md);
    EVP_PKEY_free(pub);
    X509_free(x509);

    return ok;
}


static void
test_assertion(ngx_webpubsub_cert_t *c)
{
    json_t               *payload, *v;
    size_t                n, max, i, len[2];
    const char           *key, *p1, *p2, *jti0;
    json_error_t          err;
    unsigned char         buf[2][4096], text[4096];
    static const char    *order[] = {
        "aud", "exp", "iss", "sub", "nbf", "jti", "iat"
    };

    static const char  header[] =
        "{\"alg\":\"PS256\",\"typ\":\"JWT\",\"x5t#S256\":\"" X5T_S256 "\"}";

    ngx_webpubsub_str_t  aud = S("https://login.microsoftonline.com/"
                                 TID "/oauth2/v2.0/token");
    ngx_webpubsub_str_t  id = S("0ec893e0-5785-4de6-99da-4ed124e5296c");

    max = ngx_webpubsub_client_assertion(c, &aud, &id, NOW, NULL, 0);
    check(max > 0 && max < sizeof(buf[0]), "assertion: measured");

    for (i = 0; i < 2; i++) {
        len[i] = ngx_webpubsub_client_assertion(c, &aud, &id, NOW, buf[i],
                                                sizeof(buf[i]));
    }

    check(len[0] > 0 && len[0] <= max, "assertion: within the measure");
    check(pss_verified((char *) buf[0], len[0], cert_rsa),
          "assertion: PS256 verifies with the certificate's key");

    /* the header, byte for byte as msal-node writes it */

    p1 = memchr(buf[0], '.', len[0]);
    p2 = p1 ? memchr(p1 + 1, '.', (char *) buf[0] + len[0] - p1 - 1) : NULL;

    if (p2 == NULL) {
        check(0, "assertion: three parts");
        return;
    }

    n = b64u_decode(text, (char *) buf[0], p1 - (char *) buf[0]);
    check(n == sizeof(header) - 1 && memcmp(text, header, n) == 0,
          "assertion: the header");

    n = b64u_decode(text, p1 + 1, p2 - p1 - 1);
    payload = json_loadb((char *) text, n, JSON_PRESERVE_ORDER, &err);

    check(json_object_size(payload) == 7, "assertion: 7 claims");

    i = 0;
    json_object_foreach(payload, key, v) {
        check(i < 7 && strcmp(key, order[i]) == 0, "assertion: claim order");
        i++;
    }

    check(str_eq(json_object_get(payload, "aud"), &aud),
          "assertion: aud");
    check(str_eq(json_object_get(payload, "iss"), &id)
          && str_eq(json_object_get(payload, "sub"), &id),
          "assertion: iss and sub the client id");
    check(json_integer_value(json_object_get(payload, "exp")) == NOW + 600
          && json_is_integer(json_object_get(payload, "exp")),
          "assertion: exp now + 600");
    check(json_integer_value(json_object_get(payload, "nbf")) == NOW
          && json_integer_value(json_object_get(payload, "iat")) == NOW,
          "assertion: nbf and iat now");

    jti0 = json_string_value(json_object_get(payload, "jti"));
    check(jti0 != NULL && guid_v4(jti0), "assertion: jti a v4 GUID");

    /* a second assertion, a fresh jti (the header is the same) */

    check(len[1] == len[0] && memcmp(buf[1], buf[0], p1 - (char *) buf[0])
                              == 0,
          "assertion: the second, as long, the same header");
    check(pss_verified((char *) buf[1], len[1], cert_rsa),
          "assertion: the second verifies");
    check(memcmp(buf[0], buf[1], len[0]) != 0,
          "assertion: the second differs (jti)");

    json_decref(payload);

    /* its exact size, and one byte less */

    check(ngx_webpubsub_client_assertion(c, &aud, &id, NOW, buf[1], len[0])
          == len[0], "assertion: into its exact size");
    check(ngx_webpubsub_client_assertion(c, &aud, &id, NOW, buf[1],
                                         len[0] - 1) == 0,
          "assertion: not into one byte less");
}


/* a name that JSON must escape reads back as it was */

static void
test_assertion_escaped(ngx_webpubsub_cert_t *c)
{
    size_t                n, len;
    json_t               *payload;
    const char           *p1, *p2;
    json_error_t          err;
    unsigned char         buf[4096], text[4096];
    ngx_webpubsub_str_t   aud = S("https://h/\"quoted\"\\back\x01");
    ngx_webpubsub_str_t   id = S("id\xc3\xa9");

    len = ngx_webpubsub_client_assertion(c, &aud, &id, NOW, buf,
                                         sizeof(buf));

    p1 = len ? memchr(buf, '.', len) : NULL;
    p2 = p1 ? memchr(p1 + 1, '.', (char *) buf + len - p1 - 1) : NULL;

    if (p2 == NULL) {
        check(0, "assertion: escaped, three parts");
        return;
    }

    n = b64u_decode(text, p1 + 1, p2 - p1 - 1);
    payload = json_loadb((char *) text, n, 0, &err);

    check(str_eq(json_object_get(payload, "aud"), &aud)
          && str_eq(json_object_get(payload, "sub"), &id),
          "assertion: escaped names read back");
    check(pss_verified((char *) buf, len, cert_rsa),
          "assertion: escaped, verifies");

    json_decref(payload);
}


static void
test_cert(void)
{
    char                  *big;
    const char            *err;
    ngx_webpubsub_cert_t  *c, *c2;
    unsigned char          b1[4096], b2[4096];
    char                   pem[16384];

    ngx_webpubsub_str_t    aud = S("https://127.0.0.1/token");
    ngx_webpubsub_str_t    id = S("client");

    c = load(join(pem, sizeof(pem), cert_rsa, key_rsa, NULL), &err);
    check(c != NULL && err == NULL, "cert: certificate, then PKCS#8 key");

    if (c == NULL) {
        return;
    }

    test_assertion(c);
    test_assertion_escaped(c);

    /* the key first, PKCS#1, and a chain after: the first one is named */

    c2 = load(join(pem, sizeof(pem), key_rsa_pkcs1, cert_rsa, cert_chain),
              &err);
    check(c2 != NULL && err == NULL, "cert: PKCS#1 key, certificate, chain");

    if (c2 != NULL) {
        check(ngx_webpubsub_client_assertion(c, &aud, &id, NOW, b1,
                                             sizeof(b1)) > 0
              && ngx_webpubsub_client_assertion(c2, &aud, &id, NOW, b2,
                                                sizeof(b2)) > 0
              && memcmp(b1, b2, strchr((char *) b1, '.') - (char *) b1)
                 == 0, "cert: the same header");
        ngx_webpubsub_cert_free(c2);
    }

    ngx_webpubsub_cert_free(c);

    c = load(join(pem, sizeof(pem), cert_chain, cert_rsa, key_rsa), &err);
    check(c == NULL && is(err, MISMATCH),
          "cert: a chain's certificate first names that one");

    c = load(join(pem, sizeof(pem), cert_rsa, key_other, NULL), &err);
    check(c == NULL && is(err, MISMATCH), "cert: another key");

    c = load(join(pem, sizeof(pem), cert_ec, key_ec, NULL), &err);
    check(c == NULL && is(err, NOT_RSA), "cert: an EC key");

    c = load(join(pem, sizeof(pem), cert_small, key_small, NULL), &err);
    check(c == NULL && is(err, NOT_RSA), "cert: a 1024-bit key");

    c = load(join(pem, sizeof(pem), cert_rsa, key_rsa_enc, NULL), &err);
    check(c == NULL && is(err, NO_KEY), "cert: an encrypted key");

    c = load(join(pem, sizeof(pem), cert_rsa, "", NULL), &err);
    check(c == NULL && is(err, NO_KEY), "cert: no key");

    c = load(join(pem, sizeof(pem), key_rsa, "", NULL), &err);
    check(c == NULL && is(err, NO_CERT), "cert: no certificate");

    c = load((const unsigned char *) "", &err);
    check(c == NULL && is(err, NO_CERT), "cert: empty");

    c = load((const unsigned char *) "-----BEGIN CERTIFICATE-----\nAAAA\n"
             "-----END CERTIFICATE-----\n", &err);
    check(c == NULL && is(err, NO_CERT), "cert: not DER");

    big = malloc(NGX_WEBPUBSUB_PEM_MAX + 1);
    if (big != NULL) {
        memset(big, '\n', NGX_WEBPUBSUB_PEM_MAX + 1);
        c = ngx_webpubsub_cert_load((unsigned char *) big,
                                    NGX_WEBPUBSUB_PEM_MAX + 1, &err);
        check(c == NULL && is(err, CERT_LONG), "cert: too long");
        free(big);
    }

    ngx_webpubsub_cert_free(NULL);
}


int
main(void)
{
    test_kid();
    test_verify();
    test_cert();

    printf("%d passed, %d failed\n", passed, failed);

    return failed ? 1 : 0;
}
