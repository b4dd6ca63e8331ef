
/*
 * Copyright (C) ngx_webpubsub_module authors
 *
 * Where every answer of a remote service is parsed: the Web PubSub REST
 * replies (the {"token"} of generate_client_token, the pages of
 * list_connections) and, for Entra ID, the access tokens of identity and
 * token endpoints and the JWKS (the RS256 tokens its keys verify are read
 * by ngx_webpubsub_entra.c, on the same terms).  These bytes come off
 * the network and are the module's most exposed input, so they are read
 * here only, by the core (plain C99 on jansson, no nginx), where fuzzers
 * (fuzz/fuzz_replies.c, fuzz/fuzz_entra.c) and unit tests
 * (t/unit/reply_test.c) reach every function.  Each function takes a
 * bounded input, refuses duplicate keys (two readers of one answer must
 * not see different values), frees what jansson built before it returns,
 * and writes its results into buffers the caller provides, with explicit
 * lengths.  A refusal is a static string, what the caller is answered.
 */


#ifndef _NGX_WEBPUBSUB_REPLY_H_INCLUDED_
#define _NGX_WEBPUBSUB_REPLY_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


/*
 * The largest answer read at all; nginx bounds it first, by
 * subrequest_output_buffer_size, this is for callers without such a limit
 */
#define NGX_WEBPUBSUB_REPLY_MAX  (64 * 1024 * 1024)

/* 9999-12-31T23:59:59Z: later times are refused, so sums cannot overflow */
#define NGX_WEBPUBSUB_TIME_MAX   253402300799LL


/* one page of list_connections, {"value": [{...}, ...], "nextLink": ...} */
typedef struct {
    size_t    items;      /* connections on the page */
    size_t    items_len;  /* their JSON text: "a,b", compact, no brackets */
    size_t    link_len;   /* the nextLink's bytes, unescaped */
    unsigned  link;       /* 1: a nextLink string; 0: none, or null */
    unsigned  written;    /* 1: items and nextLink are in dst */
} ngx_webpubsub_page_t;


/*
 * The answer of generate_client_token: NULL if it is {"token": string},
 * else why not.  The caller passes the answer on as it came.
 */
const char *ngx_webpubsub_reply_token(const unsigned char *body, size_t len);

/*
 * The same answer's token, copied to dst (size bytes), for an answer
 * built around it: NULL, or why there is no such token (then *n is 0).
 * Only the characters of a JWT pass.
 */
const char *ngx_webpubsub_reply_token_value(const unsigned char *body,
    size_t len, unsigned char *dst, size_t size, size_t *n);

/*
 * A page: NULL, with page filled in, or why it is no page (and page is
 * zeroed).  The items are re-encoded as compact JSON, the form the caller
 * joins pages in, which can be longer than the input (1e5 becomes
 * 100000.0).  If items_len + link_len bytes fit in size, the items are
 * written at dst and the nextLink right after them, and page->written is
 * set; if not, dst holds nothing usable and the caller may call again
 * with a buffer that large (dst NULL and size 0 measure only).  A buffer
 * of len bytes nearly always does: the items are part of the answer.
 */
const char *ngx_webpubsub_reply_page(const unsigned char *body, size_t len,
    ngx_webpubsub_page_t *page, unsigned char *dst, size_t size);


#define NGX_WEBPUBSUB_ENTRA_TOKEN_MAX  16384   /* an access token, bytes */
#define NGX_WEBPUBSUB_JWK_N_MAX        1024    /* RSA modulus up to 8192 bits */
#define NGX_WEBPUBSUB_JWK_KID_MAX      128
#define NGX_WEBPUBSUB_JWKS_KEYS_MAX    32


typedef struct {
    size_t    token_len;   /* the access_token, copied to dst */
    int64_t   expires;     /* absolute unix seconds */
    int64_t   refresh;     /* when to fetch the next one (<= expires) */
} ngx_webpubsub_identity_token_t;


/* an RSA public key of a JWKS, its numbers without leading zero bytes */
typedef struct {
    unsigned char   kid[NGX_WEBPUBSUB_JWK_KID_MAX];
    size_t          kid_len;
    unsigned char   n[NGX_WEBPUBSUB_JWK_N_MAX];   /* big-endian */
    size_t          n_len;
    unsigned char   e[8];
    size_t          e_len;
} ngx_webpubsub_jwk_t;


/*
 * An identity endpoint's or token endpoint's answer: NULL, with the
 * access token copied to dst (size bytes) and t filled in, or why not.
 * Three shapes are read: IMDS and Azure Arc ({"access_token",
 * "expires_in": "3599", "expires_on": "<epoch>", "not_before",
 * "resource", "token_type"}, numbers as strings), App Service
 * ({access_token, expires_on, resource, token_type, client_id}) and the
 * token endpoint ({token_type, expires_in, ext_expires_in, access_token,
 * and perhaps refresh_in}, numbers as numbers).  expires_on, a number,
 * a numeric string or an RFC 3339 time, wins over expires_in, as in
 * msal's managed identity sources; without it expires is now +
 * expires_in; without either the answer is refused, as is a token
 * expired by now.  refresh is the earliest of expires - 300,
 * now + refresh_in and, for a lifetime over two hours, half of it, and
 * never before now.
 */
const char *ngx_webpubsub_reply_identity_token(const unsigned char *body,
    size_t len, int64_t now, unsigned char *dst, size_t size,
    ngx_webpubsub_identity_token_t *t);

/*
 * The RSA signing keys of a JWKS ({"keys": [{kty, use, kid, n, e, x5c,
 * ...}]}): NULL, with the first max usable keys in keys and their number
 * in nkeys, or why not.  A key is usable with kty "RSA", use absent or
 * "sig", alg absent or "RS256", a kid of 1 to NGX_WEBPUBSUB_JWK_KID_MAX
 * bytes, and base64url n (2048 to 8192 bits) and e (odd, up to 8
 * bytes); other keys are skipped.  A JWKS without a usable key is
 * refused.
 */
const char *ngx_webpubsub_reply_jwks(const unsigned char *body, size_t len,
    ngx_webpubsub_jwk_t *keys, size_t max, size_t *nkeys);


/*
 * Seconds in a JSON value (a json_t *): an integer, a real (its fraction
 * dropped) or, if strings, a string of digits, in 0..year 9999.  1 if so.
 */
int ngx_webpubsub_reply_seconds(const void *json, int strings, int64_t *sec);


#endif /* _NGX_WEBPUBSUB_REPLY_H_INCLUDED_ */
