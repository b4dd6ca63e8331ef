
/*
 * libFuzzer target: what Entra ID's side sends, to the parsers of
 * ngx_webpubsub_reply.c and ngx_webpubsub_entra.c.  The first byte picks
 * the reader, the rest is the input.  An accepted token answer must give
 * a token of header-safe bytes that fits, expires after now and is
 * refreshed between now and then; an accepted JWKS only keys within the
 * bounds; a Bearer token is read for its kid, then verified with a key
 * of the unit tests' vectors under that kid and with the kid of the
 * vectors (the forgery a fuzzer cannot find is a pass it must not get:
 * only the committed good token of the corpus may verify).
 */


#include <stdlib.h>
#include <string.h>

#include "ngx_webpubsub_entra.h"
#include "../t/unit/entra_vectors.h"


#define FUZZ_NOW  NOW


static ngx_webpubsub_jwk_t  key;


static void
fuzz_key(void)
{
    size_t  i;

    if (key.n_len) {
        return;
    }

    for (i = 0; n_a_hex[2 * i]; i++) {
        key.n[i] = (unsigned char) (ngx_webpubsub_hexval(n_a_hex[2 * i]) << 4
                                    | ngx_webpubsub_hexval(n_a_hex[2 * i + 1]));
    }

    key.n_len = i;
    key.e[0] = 1;
    key.e[1] = 0;
    key.e[2] = 1;
    key.e_len = 3;
}


static void
read_identity(const unsigned char *data, size_t size)
{
    size_t                           i, room;
    const char                      *rv;
    unsigned char                   *dst;
    ngx_webpubsub_identity_token_t   t;

    /* a buffer that is sometimes too small */
    room = size % 2 ? size : size / 3;

    dst = malloc(room ? room : 1);
    if (dst == NULL) {
        abort();
    }

    rv = ngx_webpubsub_reply_identity_token(data, size, FUZZ_NOW, dst, room,
                                            &t);

    if (rv != NULL) {
        if (t.token_len || t.expires || t.refresh) {
            abort();
        }

    } else {
        if (t.token_len == 0 || t.token_len > room
            || t.token_len > NGX_WEBPUBSUB_ENTRA_TOKEN_MAX
            || t.expires <= FUZZ_NOW || t.refresh < FUZZ_NOW
            || t.refresh > t.expires)
        {
            abort();
        }

        for (i = 0; i < t.token_len; i++) {
            if (dst[i] <= ' ' || dst[i] >= 0x7f || dst[i] == '"'
                || dst[i] == '\\')
            {
                abort();
            }
        }
    }

    free(dst);
}


static void
read_jwks(const unsigned char *data, size_t size)
{
    size_t                i, n, max;
    const char           *rv;
    ngx_webpubsub_jwk_t  *keys;

    max = 1 + size % NGX_WEBPUBSUB_JWKS_KEYS_MAX;

    keys = malloc(sizeof(ngx_webpubsub_jwk_t) * max);
    if (keys == NULL) {
        abort();
    }

    rv = ngx_webpubsub_reply_jwks(data, size, keys, max, &n);

    if (rv != NULL ? n != 0 : (n == 0 || n > max)) {
        abort();
    }

    for (i = 0; rv == NULL && i < n; i++) {
        if (keys[i].kid_len == 0
            || keys[i].kid_len > NGX_WEBPUBSUB_JWK_KID_MAX
            || keys[i].n_len < 256 || keys[i].n_len > NGX_WEBPUBSUB_JWK_N_MAX
            || keys[i].n[0] == 0 || keys[i].e_len == 0 || keys[i].e_len > 8
            || !(keys[i].e[keys[i].e_len - 1] & 1))
        {
            abort();
        }
    }

    free(keys);
}


static void
read_bearer(const unsigned char *data, size_t size)
{
    size_t                         kid_len;
    const char                    *rv, *rv2;
    unsigned char                  kid[NGX_WEBPUBSUB_JWK_KID_MAX];
    ngx_webpubsub_jwk_t            k;
    ngx_webpubsub_bearer_rules_t   rules;

    static const ngx_webpubsub_str_t  iss1 = {
        (const unsigned char *) ISS1, sizeof(ISS1) - 1
    };
    static const ngx_webpubsub_str_t  iss2 = {
        (const unsigned char *) ISS2, sizeof(ISS2) - 1
    };

    fuzz_key();

    memset(&rules, 0, sizeof(rules));
    rules.issuers[0] = iss1;
    rules.issuers[1] = iss2;
    rules.audience.data = (const unsigned char *) AUD;
    rules.audience.len = sizeof(AUD) - 1;
    rules.tenant.data = (const unsigned char *) TID;
    rules.tenant.len = sizeof(TID) - 1;
    rules.now = FUZZ_NOW;
    rules.skew = 300;

    rv = ngx_webpubsub_bearer_kid(data, size, kid, &kid_len);

    if (rv != NULL ? kid_len != 0
                   : kid_len == 0 || kid_len > NGX_WEBPUBSUB_JWK_KID_MAX)
    {
        abort();
    }

    /* the vectors' key under the token's own kid */

    k = key;

    if (rv == NULL) {
        memcpy(k.kid, kid, kid_len);
        k.kid_len = kid_len;
    }

    rv2 = ngx_webpubsub_bearer_verify(data, size, &k, &rules);

    /* what bearer_kid refuses, verify refuses too */
    if (rv != NULL && rv2 == NULL) {
        abort();
    }

    if (rv2 == NULL
        && (size != sizeof(tok_good) - 1
            || memcmp(data, tok_good, size) != 0)
        && (size != sizeof(tok_good_v2) - 1
            || memcmp(data, tok_good_v2, size) != 0)
        && (size != sizeof(tok_skew_exp) - 1
            || memcmp(data, tok_skew_exp, size) != 0)
        && (size != sizeof(tok_skew_nbf) - 1
            || memcmp(data, tok_skew_nbf, size) != 0)
        && (size != sizeof(tok_wrong_oid) - 1
            || memcmp(data, tok_wrong_oid, size) != 0))
    {
        /* a token the vectors' key never signed passed */
        abort();
    }
}


int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    if (size == 0) {
        return 0;
    }

    switch (data[0] % 3) {

    case 0:
        read_identity(data + 1, size - 1);
        break;

    case 1:
        read_jwks(data + 1, size - 1);
        break;

    default:
        read_bearer(data + 1, size - 1);
        break;
    }

    return 0;
}
