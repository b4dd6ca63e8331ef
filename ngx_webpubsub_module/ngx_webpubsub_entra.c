
/*
 * Copyright (C) ngx_webpubsub_module authors
 *
 * Entra ID's tokens, read and made without nginx (see
 * ngx_webpubsub_entra.h).
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#if (OPENSSL_VERSION_NUMBER >= 0x30000000L)
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#endif

#include "ngx_webpubsub_entra.h"


#define NGX_WEBPUBSUB_SKEW_MAX        86400

/* what a client assertion's names may be: URLs and GUIDs, much longer */
#define NGX_WEBPUBSUB_ASSERTION_ARG_MAX  4096

#define NGX_WEBPUBSUB_GUID_LEN        36


struct ngx_webpubsub_cert_s {
    EVP_PKEY       *key;
    size_t          sig_len;
    size_t          header_len;
    unsigned char   header[128];   /* base64url of the JOSE header */
};


static const char *ngx_webpubsub_bearer_split(const unsigned char *jwt,
    size_t len, ngx_webpubsub_str_t *part);
static json_t *ngx_webpubsub_bearer_json(const ngx_webpubsub_str_t *part);
static const char *ngx_webpubsub_bearer_header(
    const ngx_webpubsub_str_t *part, unsigned char *kid, size_t *kid_len);
static int ngx_webpubsub_bearer_signed(const unsigned char *input,
    size_t len, const ngx_webpubsub_str_t *sig,
    const ngx_webpubsub_jwk_t *key);
static EVP_PKEY *ngx_webpubsub_rsa_public(const ngx_webpubsub_jwk_t *key);
static const char *ngx_webpubsub_bearer_claims(json_t *claims,
    const ngx_webpubsub_bearer_rules_t *rules);
static int ngx_webpubsub_claim_eq(json_t *v, const ngx_webpubsub_str_t *s);
static int ngx_webpubsub_cert_no_password(char *buf, int size, int rwflag,
    void *data);
static unsigned char *ngx_webpubsub_guid(unsigned char *dst);


static const char  ngx_webpubsub_bearer_not_jwt[] =
    "the Bearer token is not a JWT";
static const char  ngx_webpubsub_bearer_too_long[] =
    "the Bearer token is too long";
static const char  ngx_webpubsub_bearer_bad_header[] =
    "the Bearer token's header is not a JSON object";
static const char  ngx_webpubsub_bearer_not_rs256[] =
    "the Bearer token is not signed with RS256";
static const char  ngx_webpubsub_bearer_not_typ[] =
    "the Bearer token's typ is not JWT";
static const char  ngx_webpubsub_bearer_crit[] =
    "the Bearer token has critical header parameters";
static const char  ngx_webpubsub_bearer_no_kid[] =
    "the Bearer token has no usable kid";
static const char  ngx_webpubsub_bearer_other_kid[] =
    "the Bearer token's kid is not the key's";
static const char  ngx_webpubsub_bearer_bad_sig[] =
    "the Bearer token's signature does not verify";
static const char  ngx_webpubsub_bearer_bad_claims[] =
    "the Bearer token's claims are not a JSON object";
static const char  ngx_webpubsub_bearer_issuer[] =
    "the Bearer token's issuer is not accepted";
static const char  ngx_webpubsub_bearer_audience[] =
    "the Bearer token's audience is not the configured one";
static const char  ngx_webpubsub_bearer_no_exp[] =
    "the Bearer token has no valid exp";
static const char  ngx_webpubsub_bearer_expired[] =
    "the Bearer token has expired";
static const char  ngx_webpubsub_bearer_bad_nbf[] =
    "the Bearer token's nbf is not a time";
static const char  ngx_webpubsub_bearer_early[] =
    "the Bearer token is not valid yet";
static const char  ngx_webpubsub_bearer_bad_iat[] =
    "the Bearer token's iat is not a time";
static const char  ngx_webpubsub_bearer_future[] =
    "the Bearer token is issued in the future";
static const char  ngx_webpubsub_bearer_tenant[] =
    "the Bearer token's tenant is not the configured one";
static const char  ngx_webpubsub_bearer_object[] =
    "the Bearer token's object id is not the configured one";
static const char  ngx_webpubsub_bearer_rules[] =
    "the Bearer token rules' time or skew is out of range";

static const char  ngx_webpubsub_cert_too_long[] =
    "the certificate file is too long";
static const char  ngx_webpubsub_cert_no_cert[] =
    "the certificate file holds no PEM certificate";
static const char  ngx_webpubsub_cert_no_key[] =
    "the certificate file holds no unencrypted private key";
static const char  ngx_webpubsub_cert_not_rsa[] =
    "the certificate's private key is not an RSA key of 2048 to 8192 bits";
static const char  ngx_webpubsub_cert_mismatch[] =
    "the private key is not the certificate's";
static const char  ngx_webpubsub_cert_no_memory[] = "out of memory";


/*
 * The three parts of a compact JWS, base64url (checked as they are
 * decoded), header and payload not empty.  The signature may be, for
 * alg "none" to be refused by its header, with the reason that says so.
 */

static const char *
ngx_webpubsub_bearer_split(const unsigned char *jwt, size_t len,
    ngx_webpubsub_str_t *part)
{
    size_t                i, n;
    const unsigned char  *start;

    if (len > NGX_WEBPUBSUB_ENTRA_TOKEN_MAX) {
        return ngx_webpubsub_bearer_too_long;
    }

    if (jwt == NULL || len == 0) {
        return ngx_webpubsub_bearer_not_jwt;
    }

    n = 0;
    start = jwt;

    for (i = 0; i <= len; i++) {
        if (i < len && jwt[i] != '.') {
            continue;
        }

        if (n == 3 || (n < 2 && jwt + i == start)) {
            return ngx_webpubsub_bearer_not_jwt;
        }

        part[n].data = start;
        part[n].len = jwt + i - start;
        n++;

        start = jwt + i + 1;
    }

    return n == 3 ? NULL : ngx_webpubsub_bearer_not_jwt;
}


/* a part decoded and read as JSON, keys once each; NULL if it is not */

static json_t *
ngx_webpubsub_bearer_json(const ngx_webpubsub_str_t *part)
{
    size_t          n;
    json_error_t    err;
    unsigned char  *buf;
    json_t         *v;

    buf = malloc(part->len / 4 * 3 + 2);
    if (buf == NULL) {
        return NULL;
    }

    v = NULL;

    if (ngx_webpubsub_base64url_decode(buf, &n, part->data, part->len) == 0
        && n > 0)
    {
        v = json_loadb((const char *) buf, n, JSON_REJECT_DUPLICATES, &err);
    }

    free(buf);

    return v;
}


static const char *
ngx_webpubsub_bearer_header(const ngx_webpubsub_str_t *part,
    unsigned char *kid, size_t *kid_len)
{
    json_t      *header, *v;
    const char  *rv;

    header = ngx_webpubsub_bearer_json(part);

    if (!json_is_object(header)) {
        rv = ngx_webpubsub_bearer_bad_header;
        goto done;
    }

    v = json_object_get(header, "alg");

    if (!(json_is_string(v) && json_string_length(v) == 5
          && memcmp(json_string_value(v), "RS256", 5) == 0))
    {
        rv = ngx_webpubsub_bearer_not_rs256;
        goto done;
    }

    /* RFC 7519 5.1: "JWT", a media type, so of any case */

    v = json_object_get(header, "typ");

    if (v != NULL
        && !(json_is_string(v) && json_string_length(v) == 3
             && ngx_webpubsub_strncaseeq(
                    (const unsigned char *) json_string_value(v),
                    (const unsigned char *) "jwt", 3)))
    {
        rv = ngx_webpubsub_bearer_not_typ;
        goto done;
    }

    /* RFC 7515 4.1.11: extensions this reader does not know must fail */

    if (json_object_get(header, "crit") != NULL) {
        rv = ngx_webpubsub_bearer_crit;
        goto done;
    }

    v = json_object_get(header, "kid");

    if (!json_is_string(v) || json_string_length(v) == 0
        || json_string_length(v) > NGX_WEBPUBSUB_JWK_KID_MAX)
    {
        rv = ngx_webpubsub_bearer_no_kid;
        goto done;
    }

    *kid_len = json_string_length(v);
    memcpy(kid, json_string_value(v), *kid_len);

    rv = NULL;

done:

    json_decref(header);

    return rv;
}


const char *
ngx_webpubsub_bearer_kid(const unsigned char *jwt, size_t len,
    unsigned char *kid, size_t *kid_len)
{
    const char           *rv;
    ngx_webpubsub_str_t   part[3];

    *kid_len = 0;

    rv = ngx_webpubsub_bearer_split(jwt, len, part);
    if (rv != NULL) {
        return rv;
    }

    return ngx_webpubsub_bearer_header(&part[0], kid, kid_len);
}


/* the public key of a JWK, built in the way of the OpenSSL at hand */

static EVP_PKEY *
ngx_webpubsub_rsa_public(const ngx_webpubsub_jwk_t *key)
{
    BIGNUM          *n, *e;
    EVP_PKEY        *pkey;
#if (OPENSSL_VERSION_NUMBER >= 0x30000000L)
    OSSL_PARAM      *params;
    EVP_PKEY_CTX    *ctx;
    OSSL_PARAM_BLD  *bld;
#else
    RSA             *rsa;
#endif

    pkey = NULL;

    n = BN_bin2bn(key->n, (int) key->n_len, NULL);
    e = BN_bin2bn(key->e, (int) key->e_len, NULL);

    if (n == NULL || e == NULL) {
        goto done;
    }

#if (OPENSSL_VERSION_NUMBER >= 0x30000000L)

    params = NULL;
    ctx = NULL;

    bld = OSSL_PARAM_BLD_new();

    if (bld == NULL
        || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n)
        || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e)
        || (params = OSSL_PARAM_BLD_to_param(bld)) == NULL
        || (ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) == NULL
        || EVP_PKEY_fromdata_init(ctx) <= 0
        || EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
    {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }

    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);

#else

    rsa = RSA_new();

    if (rsa == NULL || !RSA_set0_key(rsa, n, e, NULL)) {
        RSA_free(rsa);
        goto done;
    }

    /* the RSA key owns them now */
    n = NULL;
    e = NULL;

    pkey = EVP_PKEY_new();

    if (pkey == NULL || !EVP_PKEY_assign_RSA(pkey, rsa)) {
        EVP_PKEY_free(pkey);
        RSA_free(rsa);
        pkey = NULL;
    }

#endif

done:

    BN_free(n);
    BN_free(e);

    return pkey;
}


/* 1 if sig is key's RSASSA-PKCS1-v1_5 SHA-256 signature of input */

static int
ngx_webpubsub_bearer_signed(const unsigned char *input, size_t len,
    const ngx_webpubsub_str_t *sig, const ngx_webpubsub_jwk_t *key)
{
    int             ok;
    size_t          n;
    EVP_PKEY       *pkey;
    EVP_MD_CTX     *md;
    unsigned char   buf[NGX_WEBPUBSUB_JWK_N_MAX + 2];

    /* an RSA signature is as long as the modulus */

    if (sig->len > NGX_WEBPUBSUB_JWK_N_MAX / 3 * 4 + 4
        || ngx_webpubsub_base64url_decode(buf, &n, sig->data, sig->len) != 0
        || n != key->n_len)
    {
        return 0;
    }

    pkey = ngx_webpubsub_rsa_public(key);
    if (pkey == NULL) {
        return 0;
    }

    md = EVP_MD_CTX_new();

    ok = md != NULL
         && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pkey) == 1
         && EVP_DigestVerifyUpdate(md, input, len) == 1
         && EVP_DigestVerifyFinal(md, buf, n) == 1;

    EVP_MD_CTX_free(md);
    EVP_PKEY_free(pkey);

    return ok;
}


static int
ngx_webpubsub_claim_eq(json_t *v, const ngx_webpubsub_str_t *s)
{
    return json_is_string(v) && json_string_length(v) == s->len
           && memcmp(json_string_value(v), s->data, s->len) == 0;
}


static const char *
ngx_webpubsub_bearer_claims(json_t *claims,
    const ngx_webpubsub_bearer_rules_t *rules)
{
    size_t    i;
    json_t   *v;
    int64_t   t;

    if (!json_is_object(claims)) {
        return ngx_webpubsub_bearer_bad_claims;
    }

    v = json_object_get(claims, "iss");

    if (!((rules->issuers[0].len
           && ngx_webpubsub_claim_eq(v, &rules->issuers[0]))
          || (rules->issuers[1].len
              && ngx_webpubsub_claim_eq(v, &rules->issuers[1]))))
    {
        return ngx_webpubsub_bearer_issuer;
    }

    /* RFC 7519 4.1.3: one string, or an array of them */

    v = json_object_get(claims, "aud");

    if (json_is_array(v)) {
        for (i = 0; i < json_array_size(v); i++) {
            if (ngx_webpubsub_claim_eq(json_array_get(v, i),
                                       &rules->audience))
            {
                break;
            }
        }

        if (i == json_array_size(v)) {
            return ngx_webpubsub_bearer_audience;
        }

    } else if (!ngx_webpubsub_claim_eq(v, &rules->audience)) {
        return ngx_webpubsub_bearer_audience;
    }

    if (!ngx_webpubsub_reply_seconds(json_object_get(claims, "exp"), 0, &t)) {
        return ngx_webpubsub_bearer_no_exp;
    }

    if (rules->now >= t + rules->skew) {
        return ngx_webpubsub_bearer_expired;
    }

    v = json_object_get(claims, "nbf");

    if (v != NULL) {
        if (!ngx_webpubsub_reply_seconds(v, 0, &t)) {
            return ngx_webpubsub_bearer_bad_nbf;
        }

        if (rules->now < t - rules->skew) {
            return ngx_webpubsub_bearer_early;
        }
    }

    v = json_object_get(claims, "iat");

    if (v != NULL) {
        if (!ngx_webpubsub_reply_seconds(v, 0, &t)) {
            return ngx_webpubsub_bearer_bad_iat;
        }

        if (t > rules->now + rules->skew) {
            return ngx_webpubsub_bearer_future;
        }
    }

    if (rules->tenant.len
        && !ngx_webpubsub_claim_eq(json_object_get(claims, "tid"),
                                   &rules->tenant))
    {
        return ngx_webpubsub_bearer_tenant;
    }

    if (rules->object_id.len
        && !ngx_webpubsub_claim_eq(json_object_get(claims, "oid"),
                                   &rules->object_id))
    {
        return ngx_webpubsub_bearer_object;
    }

    return NULL;
}


const char *
ngx_webpubsub_bearer_verify(const unsigned char *jwt, size_t len,
    const ngx_webpubsub_jwk_t *key,
    const ngx_webpubsub_bearer_rules_t *rules)
{
    size_t                kid_len;
    json_t               *claims;
    const char           *rv;
    ngx_webpubsub_str_t   part[3];
    unsigned char         kid[NGX_WEBPUBSUB_JWK_KID_MAX];

    if (rules->now < 0 || rules->now > NGX_WEBPUBSUB_TIME_MAX
        || rules->skew < 0 || rules->skew > NGX_WEBPUBSUB_SKEW_MAX)
    {
        return ngx_webpubsub_bearer_rules;
    }

    rv = ngx_webpubsub_bearer_split(jwt, len, part);
    if (rv != NULL) {
        return rv;
    }

    rv = ngx_webpubsub_bearer_header(&part[0], kid, &kid_len);
    if (rv != NULL) {
        return rv;
    }

    if (kid_len != key->kid_len || memcmp(kid, key->kid, kid_len) != 0) {
        return ngx_webpubsub_bearer_other_kid;
    }

    /* the signing input: header "." payload, as it came */

    if (!ngx_webpubsub_bearer_signed(jwt, part[1].data + part[1].len - jwt,
                                     &part[2], key))
    {
        /* what OpenSSL queued must not surface in nginx's next SSL error */
        ERR_clear_error();
        return ngx_webpubsub_bearer_bad_sig;
    }

    claims = ngx_webpubsub_bearer_json(&part[1]);

    rv = ngx_webpubsub_bearer_claims(claims, rules);

    json_decref(claims);

    return rv;
}


static int
ngx_webpubsub_cert_no_password(char *buf, int size, int rwflag, void *data)
{
    (void) buf;
    (void) size;
    (void) rwflag;
    (void) data;

    /* an encrypted key is refused, never prompted for */
    return 0;
}


/*
 * The thumbprint is SHA-256 of the first "CERTIFICATE" block's bytes, as
 * @azure/identity hashes the base64 of the first such block (later ones
 * are the chain).  The key is the first private key block, of any PEM
 * type OpenSSL reads; msal signs with RSA only, and jsonwebtoken refuses
 * RSA keys under 2048 bits.
 */

ngx_webpubsub_cert_t *
ngx_webpubsub_cert_load(const unsigned char *pem, size_t len,
    const char **err)
{
    BIO                   *bio;
    X509                  *x509;
    long                   dlen;
    char                  *name, *header;
    size_t                 n;
    EVP_PKEY              *key;
    unsigned int           md_len;
    unsigned char         *data;
    ngx_webpubsub_cert_t  *c;
    const unsigned char   *p;
    unsigned char          md[EVP_MAX_MD_SIZE];
    unsigned char          json[128];

    c = NULL;
    x509 = NULL;
    key = NULL;

    if (len > NGX_WEBPUBSUB_PEM_MAX) {
        *err = ngx_webpubsub_cert_too_long;
        return NULL;
    }

    *err = ngx_webpubsub_cert_no_memory;

    bio = BIO_new_mem_buf(pem, (int) len);
    if (bio == NULL) {
        goto done;
    }

    /* the blocks in their order; the loop ends with the text */

    for ( ;; ) {
        if (PEM_read_bio(bio, &name, &header, &data, &dlen) != 1) {
            break;
        }

        if (x509 == NULL && strcmp(name, PEM_STRING_X509) == 0) {
            p = data;
            x509 = d2i_X509(NULL, &p, dlen);

            if (x509 != NULL
                && (p != data + dlen
                    || !EVP_Digest(data, dlen, md, &md_len, EVP_sha256(),
                                   NULL)))
            {
                X509_free(x509);
                x509 = NULL;
            }
        }

        OPENSSL_free(name);
        OPENSSL_free(header);
        OPENSSL_free(data);

        if (x509 != NULL) {
            break;
        }
    }

    BIO_free(bio);

    if (x509 == NULL) {
        *err = ngx_webpubsub_cert_no_cert;
        goto done;
    }

    bio = BIO_new_mem_buf(pem, (int) len);
    if (bio == NULL) {
        goto done;
    }

    key = PEM_read_bio_PrivateKey(bio, NULL, ngx_webpubsub_cert_no_password,
                                  NULL);
    BIO_free(bio);

    if (key == NULL) {
        *err = ngx_webpubsub_cert_no_key;
        goto done;
    }

    if (EVP_PKEY_base_id(key) != EVP_PKEY_RSA || EVP_PKEY_bits(key) < 2048
        || EVP_PKEY_bits(key) > 8192)
    {
        *err = ngx_webpubsub_cert_not_rsa;
        goto done;
    }

    if (X509_check_private_key(x509, key) != 1) {
        *err = ngx_webpubsub_cert_mismatch;
        goto done;
    }

    c = malloc(sizeof(ngx_webpubsub_cert_t));
    if (c == NULL) {
        goto done;
    }

    /*
     * The header msal-node 5 writes for a certificate with a SHA-256
     * thumbprint (ClientAssertion.createJwt through jsonwebtoken's sign):
     * {"alg":"PS256","typ":"JWT","x5t#S256":"<base64url of the digest>"};
     * msal's x5c, the chain, is sent only with sendCertificateChain and
     * not here.
     */

    n = ngx_webpubsub_cpylit(json, "{\"alg\":\"PS256\",\"typ\":\"JWT\","
                                   "\"x5t#S256\":\"") - json;
    n += ngx_webpubsub_base64url_encode(json + n, md, md_len);
    json[n++] = '"';
    json[n++] = '}';

    c->header_len = ngx_webpubsub_base64url_encode(c->header, json, n);
    c->sig_len = (size_t) EVP_PKEY_size(key);
    c->key = key;
    key = NULL;

    *err = NULL;

done:

    EVP_PKEY_free(key);
    X509_free(x509);

    /* the end of the text and any refusal leave errors in OpenSSL's queue */
    ERR_clear_error();

    return c;
}


void
ngx_webpubsub_cert_free(ngx_webpubsub_cert_t *c)
{
    if (c != NULL) {
        EVP_PKEY_free(c->key);
        free(c);
    }
}


/* a random (version 4) GUID in lower case, as node's randomUUID() */

static unsigned char *
ngx_webpubsub_guid(unsigned char *dst)
{
    size_t                i;
    unsigned char         b[16];
    static const char     hex[] = "0123456789abcdef";

    if (RAND_bytes(b, sizeof(b)) != 1) {
        return NULL;
    }

    b[6] = (unsigned char) ((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char) ((b[8] & 0x3f) | 0x80);

    for (i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            *dst++ = '-';
        }

        *dst++ = hex[b[i] >> 4];
        *dst++ = hex[b[i] & 0x0f];
    }

    return dst;
}


/*
 * The payload, in msal-node 5's order (ClientAssertion.createJwt, then
 * jsonwebtoken appending iat): {"aud":"<token endpoint>","exp":now+600,
 * "iss":"<client id>","sub":"<client id>","nbf":now,"jti":"<guid>",
 * "iat":now}.  The signature is RSASSA-PSS with SHA-256, MGF1 SHA-256
 * and a salt of the digest's length, as jwa's PS256.
 */

size_t
ngx_webpubsub_client_assertion(ngx_webpubsub_cert_t *c,
    const ngx_webpubsub_str_t *aud, const ngx_webpubsub_str_t *client_id,
    int64_t now, unsigned char *dst, size_t size)
{
    int             ok;
    size_t          aud_len, id_len, max, n, len, sig_len;
    EVP_MD_CTX     *md;
    EVP_PKEY_CTX   *pctx;
    unsigned char  *json, *p;
    unsigned char   sig[1024];

    if (aud->len > NGX_WEBPUBSUB_ASSERTION_ARG_MAX
        || client_id->len > NGX_WEBPUBSUB_ASSERTION_ARG_MAX
        || now < 0 || now > NGX_WEBPUBSUB_TIME_MAX
        || c->sig_len > sizeof(sig))
    {
        return 0;
    }

    aud_len = ngx_webpubsub_json_escape_length(aud->data, aud->len);
    id_len = ngx_webpubsub_json_escape_length(client_id->data,
                                              client_id->len);

    /* the literals, the names, 3 numbers of up to 12 digits, the GUID */

    max = sizeof("{\"aud\":\"\",\"exp\":,\"iss\":\"\",\"sub\":\"\","
                 "\"nbf\":,\"jti\":\"\",\"iat\":}") - 1
          + aud_len + 2 * id_len + 3 * 12 + NGX_WEBPUBSUB_GUID_LEN;

    len = c->header_len + 1 + ngx_webpubsub_base64url_length(max) + 1
          + ngx_webpubsub_base64url_length(c->sig_len);

    if (dst == NULL) {
        return len;
    }

    json = malloc(max + 1);
    if (json == NULL) {
        return 0;
    }

    p = ngx_webpubsub_cpylit(json, "{\"aud\":\"");
    p = ngx_webpubsub_json_escape(p, aud->data, aud->len);
    p += sprintf((char *) p, "\",\"exp\":%lld,\"iss\":\"",
                 (long long) now + 600);
    p = ngx_webpubsub_json_escape(p, client_id->data, client_id->len);
    p = ngx_webpubsub_cpylit(p, "\",\"sub\":\"");
    p = ngx_webpubsub_json_escape(p, client_id->data, client_id->len);
    p += sprintf((char *) p, "\",\"nbf\":%lld,\"jti\":\"", (long long) now);
    p = ngx_webpubsub_guid(p);

    if (p == NULL) {
        free(json);
        return 0;
    }

    p += sprintf((char *) p, "\",\"iat\":%lld}", (long long) now);

    n = p - json;

    len = c->header_len + 1 + ngx_webpubsub_base64url_length(n) + 1
          + ngx_webpubsub_base64url_length(c->sig_len);

    if (len > size) {
        free(json);
        return 0;
    }

    memcpy(dst, c->header, c->header_len);
    n = c->header_len;
    dst[n++] = '.';
    n += ngx_webpubsub_base64url_encode(dst + n, json, p - json);

    free(json);

    sig_len = sizeof(sig);
    md = EVP_MD_CTX_new();

    ok = md != NULL
         && EVP_DigestSignInit(md, &pctx, EVP_sha256(), NULL, c->key) == 1
         && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1
         && EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST)
            == 1
         && EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) == 1
         && EVP_DigestSignUpdate(md, dst, n) == 1
         && EVP_DigestSignFinal(md, sig, &sig_len) == 1
         && sig_len == c->sig_len;

    EVP_MD_CTX_free(md);

    if (!ok) {
        ERR_clear_error();
        return 0;
    }

    dst[n++] = '.';
    n += ngx_webpubsub_base64url_encode(dst + n, sig, sig_len);

    return n;
}
