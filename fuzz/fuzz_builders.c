
/*
 * libFuzzer target: what the module writes from ids a client or a caller
 * chose: JSON strings, token claims and the JWT (written whole, and from
 * a token template: the same bytes), REST paths (with the hub
 * per call and bound at compilation: the same bytes), queries and
 * bodies, nextLinks and form decoding.  Every length function must bound
 * what its writer writes (the buffers are sized exactly, so ASan sees an
 * overrun), and the JSON must parse back to the same text where the input
 * is UTF-8.
 */


#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ngx_webpubsub_core.h"
#include "ngx_webpubsub_rest.h"


static void template_jwt(ngx_webpubsub_hmac_t *h,
    const ngx_webpubsub_claims_t *c, const unsigned char *jwt,
    size_t jwt_len);


static unsigned char *
fit(size_t len)
{
    unsigned char  *p;

    p = malloc(len ? len : 1);
    if (p == NULL) {
        abort();
    }

    return p;
}


static void
json_string_roundtrip(const unsigned char *s, size_t n)
{
    size_t          len;
    json_t         *j;
    unsigned char  *buf, *p;

    len = ngx_webpubsub_json_escape_length(s, n) + 2;
    buf = fit(len);

    p = buf;
    *p++ = '"';
    p = ngx_webpubsub_json_escape(p, s, n);
    *p++ = '"';

    if ((size_t) (p - buf) != len) {
        abort();
    }

    j = json_loadb((const char *) buf, len, JSON_DECODE_ANY
                                            | JSON_ALLOW_NUL, NULL);
    if (j == NULL || !json_is_string(j)) {
        abort();
    }

    if (ngx_webpubsub_utf8_valid(s, n)
        && (json_string_length(j) != n
            || memcmp(json_string_value(j), s, n) != 0))
    {
        abort();
    }

    json_decref(j);
    free(buf);
}


static void
claims_and_jwt(const ngx_webpubsub_str_t *v, size_t nv)
{
    size_t                   len, tlen;
    json_t                  *j;
    unsigned char           *payload, *p, *token;
    ngx_webpubsub_str_t      key = { (const unsigned char *) "k", 1 };
    ngx_webpubsub_hmac_t    *h;
    ngx_webpubsub_claims_t   c;

    memset(&c, 0, sizeof(c));

    c.aud = v[0];
    c.sub = v[1];
    c.roles = v + 2;
    c.nroles = nv > 4 ? 2 : 0;
    c.groups = v;
    c.ngroups = nv;
    c.iat = 1700000000;
    c.exp = 1700003600;

    len = ngx_webpubsub_client_claims_length(&c);
    payload = fit(len);

    p = ngx_webpubsub_client_claims(payload, &c);
    if ((size_t) (p - payload) != len) {
        abort();
    }

    j = json_loadb((const char *) payload, len, 0, NULL);
    if (j == NULL) {
        abort();
    }

    json_decref(j);

    token = fit(ngx_webpubsub_jwt_length(len));
    h = ngx_webpubsub_hmac_new(&key);

    if (h == NULL
        || ngx_webpubsub_jwt_sign(token, &tlen, payload, len, h) != 0
        || tlen > ngx_webpubsub_jwt_length(len))
    {
        abort();
    }

    template_jwt(h, &c, token, tlen);

    ngx_webpubsub_hmac_free(h);
    free(token);
    free(payload);
}


/*
 * The same claims from a token template (the audience's last byte given
 * per token as the hub when it is ASCII): the same JWT, in buffers of the
 * sizes it asked.
 */

static void
template_jwt(ngx_webpubsub_hmac_t *h, const ngx_webpubsub_claims_t *c,
    const unsigned char *jwt, size_t jwt_len)
{
    size_t                  tlen, slen, len;
    unsigned char          *dst, *scratch;
    ngx_webpubsub_str_t     aud, hub;
    ngx_webpubsub_token_t  *t;

    aud = c->aud;
    hub.data = aud.data + aud.len;
    hub.len = 0;

    /* a hub is ASCII (ngx_webpubsub_check_hub()), never a UTF-8 tail */

    if (aud.len && aud.data[aud.len - 1] < 0x80) {
        aud.len--;
        hub.data--;
        hub.len = 1;
    }

    t = ngx_webpubsub_token_new(h, &aud, c->roles, c->nroles, c->groups,
                                c->ngroups);
    if (t == NULL) {
        abort();
    }

    ngx_webpubsub_token_length(t, &hub, &c->sub, &tlen, &slen);

    dst = fit(tlen);
    scratch = fit(slen);

    if (ngx_webpubsub_token_sign(t, &hub, &c->sub, c->iat, c->exp, dst,
                                 scratch, &len)
        != 0
        || len != jwt_len || memcmp(dst, jwt, len) != 0)
    {
        abort();
    }

    free(scratch);
    free(dst);
    ngx_webpubsub_token_free(t);
}


static void
rest(const ngx_webpubsub_str_t *v, size_t nv)
{
    int                             i;
    size_t                          len, dlen;
    json_t                         *j;
    unsigned char                  *buf, *bound, *p;
    ngx_webpubsub_endpoint_t        ep;
    ngx_webpubsub_rest_tpl_t        tpl;
    ngx_webpubsub_rest_args_t       a;
    const ngx_webpubsub_rest_op_t  *op;

    static const char  *ops[] = {
        "send_to_all", "send_to_group", "add_user_to_group",
        "grant_permission", "add_connections_to_groups", "list_connections",
        "generate_client_token", "close_user_connections", NULL
    };

    memset(&a, 0, sizeof(a));

    for (i = 0; i < NGX_WEBPUBSUB_REST_NPARAMS; i++) {
        a.v[i] = v;
        a.n[i] = 1 + (size_t) i % nv;
    }

    for (i = 0; ops[i]; i++) {
        op = ngx_webpubsub_rest_op((const unsigned char *) ops[i],
                                   strlen(ops[i]));

        if (ngx_webpubsub_rest_path_compile(op, NULL, &tpl) != NULL) {
            abort();
        }

        len = ngx_webpubsub_rest_path_length(&tpl, &v[0], &a);
        buf = fit(len);
        p = ngx_webpubsub_rest_path(buf, &tpl, &v[0], &a);
        if ((size_t) (p - buf) != len) {
            abort();
        }

        /* the hub bound at compilation: the same path, if it fits */
        if (ngx_webpubsub_rest_path_compile(op, &v[0], &tpl) == NULL) {
            if (ngx_webpubsub_rest_path_length(&tpl, NULL, &a) != len) {
                abort();
            }

            bound = fit(len);
            p = ngx_webpubsub_rest_path(bound, &tpl, NULL, &a);
            if ((size_t) (p - bound) != len || memcmp(bound, buf, len) != 0) {
                abort();
            }
            free(bound);

        } else if (v[0].len <= NGX_WEBPUBSUB_HUB_MAX) {
            /* any hub of the service's length fits */
            abort();
        }

        free(buf);

        /* numbers go out normalised, so at most the length */
        len = ngx_webpubsub_rest_query_length(op, &a);
        buf = fit(len);
        p = ngx_webpubsub_rest_query(buf, op, &a);
        if ((size_t) (p - buf) > len) {
            abort();
        }
        free(buf);

        len = ngx_webpubsub_rest_body_length(op, &a);
        buf = fit(len);
        p = ngx_webpubsub_rest_body(buf, op, &a);
        if ((size_t) (p - buf) != len) {
            abort();
        }

        if (len) {
            j = json_loadb((const char *) buf, len, 0, NULL);
            if (j == NULL) {
                abort();
            }

            json_decref(j);
        }

        free(buf);
    }

    for (i = 0; i < NGX_WEBPUBSUB_REST_NPARAMS; i++) {
        (void) ngx_webpubsub_rest_check_value(i, v[0].data, v[0].len);
    }

    /* a nextLink against a fixed endpoint, and form decoding in place */

    memset(&ep, 0, sizeof(ep));
    ngx_webpubsub_parse_endpoint((const unsigned char *) "https://h.example/b",
                                 19, NULL, &ep);

    buf = fit(NGX_WEBPUBSUB_ENDPOINT_MAX + v[0].len);

    if (ngx_webpubsub_rest_next_link(&ep, v[0].data, v[0].len, buf, &dlen)
        == NULL
        && (dlen < ep.path_start
            || dlen > NGX_WEBPUBSUB_ENDPOINT_MAX + v[0].len
            || !ngx_webpubsub_strncaseeq(buf, ep.buf, ep.path_start)))
    {
        /* a followed link never leaves the endpoint's origin */
        abort();
    }

    free(buf);

    buf = fit(v[0].len);
    memcpy(buf, v[0].data, v[0].len);
    if (ngx_webpubsub_form_decode(buf, buf, v[0].len) > v[0].len) {
        abort();
    }
    free(buf);
}


int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    size_t                i, nv, start;
    ngx_webpubsub_str_t   v[8];

    /* up to 8 values, split at NUL bytes; the NULs stay out of them */

    nv = 0;
    start = 0;

    for (i = 0; i <= size && nv < 8; i++) {
        if (i == size || data[i] == '\0') {
            v[nv].data = data + start;
            v[nv].len = i - start;
            nv++;
            start = i + 1;
        }
    }

    while (nv < 2) {
        v[nv].data = (const unsigned char *) "";
        v[nv].len = 0;
        nv++;
    }

    json_string_roundtrip(data, size);
    claims_and_jwt(v, nv);
    rest(v, nv);

    return 0;
}
