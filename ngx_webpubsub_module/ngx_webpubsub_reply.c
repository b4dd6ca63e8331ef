
/*
 * Copyright (C) ngx_webpubsub_module authors
 *
 * What remote services answer, read without nginx (see
 * ngx_webpubsub_reply.h for why every such answer is parsed here).
 */


#include <string.h>

#include <jansson.h>

#include "ngx_webpubsub_core.h"
#include "ngx_webpubsub_reply.h"



/* msal's margin: a token is renewed 5 minutes before it expires */
#define NGX_WEBPUBSUB_REFRESH_MARGIN  300


static json_t *ngx_webpubsub_reply_load(const unsigned char *body,
    size_t len);
static int ngx_webpubsub_reply_digits(const unsigned char *p, size_t len,
    int64_t *n);
static int ngx_webpubsub_reply_rfc3339(const unsigned char *p, size_t len,
    int64_t *sec);
static int64_t ngx_webpubsub_reply_days(int64_t y, int64_t m, int64_t d);
static int ngx_webpubsub_reply_header_safe(const unsigned char *p,
    size_t len);
static int ngx_webpubsub_reply_jwk(json_t *jwk, ngx_webpubsub_jwk_t *key);
static int ngx_webpubsub_reply_b64_number(json_t *v, unsigned char *dst,
    size_t *dst_len, size_t max);


static const char  ngx_webpubsub_reply_not_token[] =
    "the service's token response is not {\"token\": string}";
static const char  ngx_webpubsub_reply_not_page[] =
    "the service's page is not {\"value\": [...], \"nextLink\": ...}";
static const char  ngx_webpubsub_reply_not_object[] =
    "the service's page has a connection that is not an object";
static const char  ngx_webpubsub_reply_no_memory[] = "out of memory";

static const char  ngx_webpubsub_reply_not_identity[] =
    "the token answer is not a JSON object";
static const char  ngx_webpubsub_reply_no_access_token[] =
    "the token answer has no access_token string";
static const char  ngx_webpubsub_reply_token_bytes[] =
    "the token answer's access_token is empty, too long or holds bytes "
    "a header cannot carry";
static const char  ngx_webpubsub_reply_token_type[] =
    "the token answer's token_type is not Bearer";
static const char  ngx_webpubsub_reply_expires_on[] =
    "the token answer's expires_on is not a time";
static const char  ngx_webpubsub_reply_expires_in[] =
    "the token answer's expires_in is not a number of seconds";
static const char  ngx_webpubsub_reply_refresh_in[] =
    "the token answer's refresh_in is not a number of seconds";
static const char  ngx_webpubsub_reply_no_expiry[] =
    "the token answer has neither expires_on nor expires_in";
static const char  ngx_webpubsub_reply_expired[] =
    "the token answer's token has expired";
static const char  ngx_webpubsub_reply_clock[] =
    "the time now is out of range";
static const char  ngx_webpubsub_reply_not_jwks[] =
    "the JWKS is not {\"keys\": [...]}";
static const char  ngx_webpubsub_reply_no_jwk[] =
    "the JWKS has no RSA signing key";


/*
 * The answer as a JSON object or array, or NULL: too large, empty (which
 * jansson would be given a NULL pointer for), not JSON, or with one key
 * twice.  The caller frees it.
 */

static json_t *
ngx_webpubsub_reply_load(const unsigned char *body, size_t len)
{
    json_error_t  err;

    if (body == NULL || len == 0 || len > NGX_WEBPUBSUB_REPLY_MAX) {
        return NULL;
    }

    return json_loadb((const char *) body, len, JSON_REJECT_DUPLICATES, &err);
}


const char *
ngx_webpubsub_reply_token(const unsigned char *body, size_t len)
{
    int      valid;
    json_t  *root;

    root = ngx_webpubsub_reply_load(body, len);

    valid = json_is_object(root)
            && json_is_string(json_object_get(root, "token"));

    json_decref(root);

    return valid ? NULL : ngx_webpubsub_reply_not_token;
}


/*
 * The token itself, for negotiate to hand on: it goes into a URL and a
 * JSON string unescaped, so it must be what a JWT is made of.
 */

const char *
ngx_webpubsub_reply_token_value(const unsigned char *body, size_t len,
    unsigned char *dst, size_t size, size_t *n)
{
    size_t       i, tlen;
    json_t      *root, *token;
    const char  *t, *rv;

    *n = 0;

    root = ngx_webpubsub_reply_load(body, len);
    token = json_is_object(root) ? json_object_get(root, "token") : NULL;

    rv = ngx_webpubsub_reply_not_token;

    if (!json_is_string(token)) {
        goto done;
    }

    t = json_string_value(token);
    tlen = json_string_length(token);

    if (tlen == 0 || tlen > size) {
        goto done;
    }

    for (i = 0; i < tlen; i++) {
        if (!((t[i] >= 'A' && t[i] <= 'Z') || (t[i] >= 'a' && t[i] <= 'z')
              || (t[i] >= '0' && t[i] <= '9') || t[i] == '-' || t[i] == '_'
              || t[i] == '.'))
        {
            goto done;
        }
    }

    memcpy(dst, t, tlen);
    *n = tlen;
    rv = NULL;

done:

    json_decref(root);

    return rv;
}


const char *
ngx_webpubsub_reply_page(const unsigned char *body, size_t len,
    ngx_webpubsub_page_t *page, unsigned char *dst, size_t size)
{
    char        *out;
    size_t       i, n, off, room;
    json_t      *root, *value, *link;
    const char  *rv;

    memset(page, 0, sizeof(ngx_webpubsub_page_t));

    root = ngx_webpubsub_reply_load(body, len);

    value = json_is_object(root) ? json_object_get(root, "value") : NULL;
    link = json_is_object(root) ? json_object_get(root, "nextLink") : NULL;

    if (!json_is_array(value)
        || !(link == NULL || json_is_null(link) || json_is_string(link)))
    {
        rv = ngx_webpubsub_reply_not_page;
        goto done;
    }

    page->items = json_array_size(value);

    for (i = 0; i < page->items; i++) {
        if (!json_is_object(json_array_get(value, i))) {
            rv = ngx_webpubsub_reply_not_object;
            goto done;
        }
    }

    /*
     * Each item encoded on its own, joined by ",", is the compact array's
     * text without its brackets.  Once dst is full, items are only
     * measured: json_dumpb() gives the length it needs in any case.
     */

    off = 0;

    for (i = 0; i < page->items; i++) {
        if (i > 0) {
            if (off < size) {
                dst[off] = ',';
            }

            off++;
        }

        room = off < size ? size - off : 0;
        out = room ? (char *) dst + off : NULL;

        n = json_dumpb(json_array_get(value, i), out, room, JSON_COMPACT);
        if (n == 0) {
            rv = ngx_webpubsub_reply_no_memory;
            goto done;
        }

        off += n;
    }

    page->items_len = off;

    if (json_is_string(link)) {
        page->link = 1;
        page->link_len = json_string_length(link);
    }

    /* what fits as a whole was written whole: off only grows */

    if (page->items_len + page->link_len <= size) {
        if (page->link_len) {
            memcpy(dst + off, json_string_value(link), page->link_len);
        }

        page->written = 1;
    }

    rv = NULL;

done:

    json_decref(root);

    if (rv != NULL) {
        memset(page, 0, sizeof(ngx_webpubsub_page_t));
    }

    return rv;
}


/*
 * A count of seconds: a JSON integer, a real (its fraction dropped) or,
 * if strings, a string of digits, from 0 to NGX_WEBPUBSUB_TIME_MAX.  1 if
 * it is one.  Also the NumericDate of a JWT's claims (RFC 7519 2).
 */

int
ngx_webpubsub_reply_seconds(const void *json, int strings, int64_t *sec)
{
    json_t      *v = (json_t *) json;
    double       d;
    json_int_t   i;

    if (json_is_integer(v)) {
        i = json_integer_value(v);

        if (i < 0 || i > NGX_WEBPUBSUB_TIME_MAX) {
            return 0;
        }

        *sec = (int64_t) i;
        return 1;
    }

    if (json_is_real(v)) {
        d = json_real_value(v);

        /* NaN fails both comparisons' negation */
        if (!(d >= 0 && d <= (double) NGX_WEBPUBSUB_TIME_MAX)) {
            return 0;
        }

        /* d >= 0: truncation is the floor */
        *sec = (int64_t) d;
        return 1;
    }

    if (strings && json_is_string(v)) {
        return ngx_webpubsub_reply_digits(
                   (const unsigned char *) json_string_value(v),
                   json_string_length(v), sec);
    }

    return 0;
}


static int
ngx_webpubsub_reply_digits(const unsigned char *p, size_t len, int64_t *n)
{
    size_t   i;
    int64_t  v;

    /* 12 digits hold every time up to NGX_WEBPUBSUB_TIME_MAX */
    if (len == 0 || len > 12) {
        return 0;
    }

    v = 0;

    for (i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return 0;
        }

        v = v * 10 + (p[i] - '0');
    }

    if (v > NGX_WEBPUBSUB_TIME_MAX) {
        return 0;
    }

    *n = v;

    return 1;
}


/* days from 1970-01-01 to a date of the proleptic Gregorian calendar */

static int64_t
ngx_webpubsub_reply_days(int64_t y, int64_t m, int64_t d)
{
    int64_t  era, yoe, doy, doe;

    y -= m <= 2;
    era = y / 400;
    yoe = y - era * 400;
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

    return era * 146097 + doe - 719468;
}


/*
 * "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)", the ISO 8601 form
 * identity endpoints write (with 3 or 7 fraction digits); the fraction
 * is dropped.  1 if it is one, with the unix seconds in sec.
 */

static int
ngx_webpubsub_reply_rfc3339(const unsigned char *p, size_t len,
    int64_t *sec)
{
    size_t                i, f;
    int64_t               v[6], oh, om, off, mdays;
    const unsigned char  *end;

    static const size_t  at[6] = { 0, 5, 8, 11, 14, 17 };
    static const size_t  width[6] = { 4, 2, 2, 2, 2, 2 };
    static const char    sep[] = "--T::";
    static const int     days[12] = { 31, 28, 31, 30, 31, 30,
                                      31, 31, 30, 31, 30, 31 };

    /* the shortest form, and the longest with 9 fraction digits */
    if (len < 20 || len > 35) {
        return 0;
    }

    for (i = 0; i < 6; i++) {
        if (!ngx_webpubsub_reply_digits(p + at[i], width[i], &v[i])) {
            return 0;
        }

        if (i < 5 && p[at[i] + width[i]] != (unsigned char) sep[i]) {
            return 0;
        }
    }

    /* earlier times are expired anyway; the day count needs year > 0 */
    if (v[0] < 1970 || v[1] < 1 || v[1] > 12) {
        return 0;
    }

    mdays = days[v[1] - 1];

    if (v[1] == 2 && v[0] % 4 == 0
        && (v[0] % 100 != 0 || v[0] % 400 == 0))
    {
        mdays = 29;
    }

    if (v[2] < 1 || v[2] > mdays || v[3] > 23 || v[4] > 59 || v[5] > 59) {
        return 0;
    }

    end = p + len;
    p += 19;

    if (*p == '.') {
        p++;

        for (f = 0; p < end && *p >= '0' && *p <= '9'; f++) {
            p++;
        }

        if (f == 0 || f > 9) {
            return 0;
        }
    }

    if (end - p == 1 && *p == 'Z') {
        off = 0;

    } else if (end - p == 6 && (*p == '+' || *p == '-') && p[3] == ':'
               && ngx_webpubsub_reply_digits(p + 1, 2, &oh)
               && ngx_webpubsub_reply_digits(p + 4, 2, &om)
               && oh <= 23 && om <= 59)
    {
        off = (oh * 60 + om) * 60;
        off = *p == '-' ? -off : off;

    } else {
        return 0;
    }

    *sec = ngx_webpubsub_reply_days(v[0], v[1], v[2]) * 86400
           + v[3] * 3600 + v[4] * 60 + v[5] - off;

    return 1;
}


/* printable ASCII but space, quote and backslash: a header's and a JWT's */

static int
ngx_webpubsub_reply_header_safe(const unsigned char *p, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if (p[i] <= 0x20 || p[i] >= 0x7f || p[i] == '"' || p[i] == '\\') {
            return 0;
        }
    }

    return 1;
}


const char *
ngx_webpubsub_reply_identity_token(const unsigned char *body, size_t len,
    int64_t now, unsigned char *dst, size_t size,
    ngx_webpubsub_identity_token_t *t)
{
    size_t       n;
    json_t      *root, *token, *type, *on, *in, *refresh_in;
    int64_t      expires, refresh, sec, life;
    const char  *rv;

    memset(t, 0, sizeof(ngx_webpubsub_identity_token_t));

    if (now < 0 || now > NGX_WEBPUBSUB_TIME_MAX) {
        return ngx_webpubsub_reply_clock;
    }

    root = ngx_webpubsub_reply_load(body, len);

    if (!json_is_object(root)) {
        rv = ngx_webpubsub_reply_not_identity;
        goto done;
    }

    token = json_object_get(root, "access_token");

    if (!json_is_string(token)) {
        rv = ngx_webpubsub_reply_no_access_token;
        goto done;
    }

    n = json_string_length(token);

    if (n == 0 || n > NGX_WEBPUBSUB_ENTRA_TOKEN_MAX || n > size
        || !ngx_webpubsub_reply_header_safe(
                (const unsigned char *) json_string_value(token), n))
    {
        rv = ngx_webpubsub_reply_token_bytes;
        goto done;
    }

    type = json_object_get(root, "token_type");

    if (type != NULL
        && !(json_is_string(type) && json_string_length(type) == 6
             && ngx_webpubsub_strncaseeq(
                    (const unsigned char *) json_string_value(type),
                    (const unsigned char *) "bearer", 6)))
    {
        rv = ngx_webpubsub_reply_token_type;
        goto done;
    }

    /* null is taken for absent, as msal's truthiness test does */

    on = json_object_get(root, "expires_on");
    on = json_is_null(on) ? NULL : on;
    in = json_object_get(root, "expires_in");
    in = json_is_null(in) ? NULL : in;
    refresh_in = json_object_get(root, "refresh_in");
    refresh_in = json_is_null(refresh_in) ? NULL : refresh_in;

    if (on != NULL) {
        if (!ngx_webpubsub_reply_seconds(on, 1, &expires)
            && !(json_is_string(on)
                 && ngx_webpubsub_reply_rfc3339(
                        (const unsigned char *) json_string_value(on),
                        json_string_length(on), &expires)))
        {
            rv = ngx_webpubsub_reply_expires_on;
            goto done;
        }

    } else if (in != NULL) {
        if (!ngx_webpubsub_reply_seconds(in, 1, &sec)) {
            rv = ngx_webpubsub_reply_expires_in;
            goto done;
        }

        expires = now + sec;

    } else {
        rv = ngx_webpubsub_reply_no_expiry;
        goto done;
    }

    if (expires <= now) {
        rv = ngx_webpubsub_reply_expired;
        goto done;
    }

    life = expires - now;
    refresh = expires - NGX_WEBPUBSUB_REFRESH_MARGIN;

    if (refresh_in != NULL) {
        if (!ngx_webpubsub_reply_seconds(refresh_in, 1, &sec)) {
            rv = ngx_webpubsub_reply_refresh_in;
            goto done;
        }

        if (now + sec < refresh) {
            refresh = now + sec;
        }
    }

    if (life > 2 * 3600 && now + life / 2 < refresh) {
        refresh = now + life / 2;
    }

    t->token_len = n;
    t->expires = expires;
    t->refresh = refresh < now ? now : refresh;

    memcpy(dst, json_string_value(token), n);

    rv = NULL;

done:

    json_decref(root);

    return rv;
}


/*
 * A JWK number: base64url, leading zero bytes dropped (RFC 7518 forbids
 * them, some writers add one anyway).  1 with 1 to max bytes in dst.
 */

static int
ngx_webpubsub_reply_b64_number(json_t *v, unsigned char *dst,
    size_t *dst_len, size_t max)
{
    size_t          n, len, z;
    const char     *s;
    unsigned char   buf[NGX_WEBPUBSUB_JWK_N_MAX + 8];

    if (!json_is_string(v)) {
        return 0;
    }

    s = json_string_value(v);
    n = json_string_length(v);

    /* at most one leading zero byte more than max fits in buf */
    if (n > (max + 1) / 3 * 4 + 4) {
        return 0;
    }

    if (ngx_webpubsub_base64url_decode(buf, &len, (const unsigned char *) s,
                                       n)
        != 0)
    {
        return 0;
    }

    for (z = 0; z < len && buf[z] == 0; z++) {
        /* void */
    }

    if (len - z == 0 || len - z > max) {
        return 0;
    }

    memcpy(dst, buf + z, len - z);
    *dst_len = len - z;

    return 1;
}


/* 1 if jwk is an RSA signing key, copied to key */

static int
ngx_webpubsub_reply_jwk(json_t *jwk, ngx_webpubsub_jwk_t *key)
{
    size_t        bits;
    json_t       *v;
    unsigned int  top;

    if (!json_is_object(jwk)) {
        return 0;
    }

    v = json_object_get(jwk, "kty");
    if (!(json_is_string(v) && json_string_length(v) == 3
          && memcmp(json_string_value(v), "RSA", 3) == 0))
    {
        return 0;
    }

    v = json_object_get(jwk, "use");
    if (v != NULL
        && !(json_is_string(v) && json_string_length(v) == 3
             && memcmp(json_string_value(v), "sig", 3) == 0))
    {
        return 0;
    }

    v = json_object_get(jwk, "alg");
    if (v != NULL
        && !(json_is_string(v) && json_string_length(v) == 5
             && memcmp(json_string_value(v), "RS256", 5) == 0))
    {
        return 0;
    }

    v = json_object_get(jwk, "kid");
    if (!json_is_string(v) || json_string_length(v) == 0
        || json_string_length(v) > NGX_WEBPUBSUB_JWK_KID_MAX)
    {
        return 0;
    }

    key->kid_len = json_string_length(v);
    memcpy(key->kid, json_string_value(v), key->kid_len);

    if (!ngx_webpubsub_reply_b64_number(json_object_get(jwk, "n"), key->n,
                                        &key->n_len, NGX_WEBPUBSUB_JWK_N_MAX)
        || !ngx_webpubsub_reply_b64_number(json_object_get(jwk, "e"), key->e,
                                           &key->e_len, sizeof(key->e)))
    {
        return 0;
    }

    /* the modulus's bits, from 2048 (what Entra and jsonwebtoken ask) */

    bits = key->n_len * 8;

    for (top = key->n[0]; !(top & 0x80); top <<= 1) {
        bits--;
    }

    if (bits < 2048 || !(key->e[key->e_len - 1] & 1)
        || (key->e_len == 1 && key->e[0] == 1))
    {
        return 0;
    }

    return 1;
}


const char *
ngx_webpubsub_reply_jwks(const unsigned char *body, size_t len,
    ngx_webpubsub_jwk_t *keys, size_t max, size_t *nkeys)
{
    size_t       i, n;
    json_t      *root, *list;
    const char  *rv;

    *nkeys = 0;

    root = ngx_webpubsub_reply_load(body, len);
    list = json_is_object(root) ? json_object_get(root, "keys") : NULL;

    if (!json_is_array(list)) {
        rv = ngx_webpubsub_reply_not_jwks;
        goto done;
    }

    n = 0;

    for (i = 0; i < json_array_size(list) && n < max; i++) {
        if (ngx_webpubsub_reply_jwk(json_array_get(list, i), &keys[n])) {
            n++;
        }
    }

    if (n == 0) {
        rv = ngx_webpubsub_reply_no_jwk;
        goto done;
    }

    *nkeys = n;
    rv = NULL;

done:

    json_decref(root);

    return rv;
}
