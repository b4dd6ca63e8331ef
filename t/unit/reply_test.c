
/*
 * Unit tests of the parsing of remote answers (ngx_webpubsub_reply.c),
 * outside nginx.  The answers are those the local services of the suite
 * give (t/fixtures/rest_recorder.js, t/fixtures/limits_service.js) and
 * edge cases; the expected texts are written out by hand.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_webpubsub_core.h"
#include "ngx_webpubsub_reply.h"
#include "check.h"


#define U(lit)  (const unsigned char *) (lit), sizeof(lit) - 1

#define NOT_TOKEN   "the service's token response is not {\"token\": string}"
#define NOT_PAGE    "the service's page is not {\"value\": [...], " \
                    "\"nextLink\": ...}"
#define NOT_OBJECT  "the service's page has a connection that is not " \
                    "an object"

#define NOT_ANSWER  "the token answer is not a JSON object"
#define NO_ACCESS   "the token answer has no access_token string"
#define BAD_BYTES   "the token answer's access_token is empty, too long " \
                    "or holds bytes a header cannot carry"
#define NOT_BEARER  "the token answer's token_type is not Bearer"
#define BAD_ON      "the token answer's expires_on is not a time"
#define BAD_IN      "the token answer's expires_in is not a number of " \
                    "seconds"
#define BAD_REFRESH "the token answer's refresh_in is not a number of " \
                    "seconds"
#define NO_EXPIRY   "the token answer has neither expires_on nor expires_in"
#define EXPIRED     "the token answer's token has expired"
#define NOT_JWKS    "the JWKS is not {\"keys\": [...]}"
#define NO_JWK      "the JWKS has no RSA signing key"

/* 2026-01-01T00:00:00Z; the times below were computed by Python's datetime */
#define NOW         1767225600
#define TOKEN       "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJ4In0.c2ln"
#define HEAD        "{\"expires_in\":60,\"access_token\":\""


static int
eq(const unsigned char *p, size_t len, const char *lit)
{
    return len == strlen(lit) && memcmp(p, lit, len) == 0;
}


static int
is(const char *rv, const char *lit)
{
    return rv != NULL && strcmp(rv, lit) == 0;
}


static void
test_token(void)
{
    size_t          i;
    unsigned char  *big;

    static const char  *bad[] = {
        "{\"token\":null}",
        "{\"token\":1}",
        "{\"token\":[\"t\"]}",
        "{\"token\":{}}",
        "{\"Token\":\"t\"}",
        "{}",
        "[\"token\"]",
        "[{\"token\":\"t\"}]",
        "\"token\"",
        "{\"token\":\"a\",\"token\":\"b\"}",  /* two readers, two tokens */
        "{\"token\":\"t\"} {}",
        "{\"token\":\"t\"",
        "{\"token\":\"\\ud800\"}",            /* a lone surrogate */
        "{\"token\":\"\xc3\"}",               /* cut UTF-8 */
        "<html>502</html>",
        " "
    };

    check(ngx_webpubsub_reply_token(U("{\"token\":\"t\"}")) == NULL,
          "token: limits_service's short answer");
    check(ngx_webpubsub_reply_token(U(
              "{\"token\":\"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJodWIiOiJj"
              "aGF0In0.c2ln\"}")) == NULL,
          "token: rest_recorder's answer");
    check(ngx_webpubsub_reply_token(U(
              " {\n \"token\" : \"\", \"expiresOn\": 1 }\n")) == NULL,
          "token: white space, an empty token and other members");

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        check(is(ngx_webpubsub_reply_token((const unsigned char *) bad[i],
                                           strlen(bad[i])),
                 NOT_TOKEN),
              bad[i]);
    }

    check(is(ngx_webpubsub_reply_token(NULL, 0), NOT_TOKEN),
          "token: no body");
    check(is(ngx_webpubsub_reply_token(U("")), NOT_TOKEN),
          "token: an empty body");

    /* the bound: valid JSON one byte over it is not read */

    big = malloc(NGX_WEBPUBSUB_REPLY_MAX + 1);
    if (big == NULL) {
        check(0, "token: memory for the bound");
        return;
    }

    memset(big, ' ', NGX_WEBPUBSUB_REPLY_MAX + 1);
    memcpy(big, "{\"token\":\"t\"}", 13);

    check(ngx_webpubsub_reply_token(big, NGX_WEBPUBSUB_REPLY_MAX) == NULL,
          "token: an answer of NGX_WEBPUBSUB_REPLY_MAX bytes is read");
    check(is(ngx_webpubsub_reply_token(big, NGX_WEBPUBSUB_REPLY_MAX + 1),
             NOT_TOKEN),
          "token: one byte more is not");

    free(big);
}


/* the token handed on by negotiate without a key: only JWT characters */

static void
test_token_value(void)
{
    size_t          i, n;
    unsigned char   dst[64];

    static const char  *bad[] = {
        "{\"token\":\"\"}",                 /* empty */
        "{\"token\":\"a b\"}",              /* a space */
        "{\"token\":\"a\\\"b\"}",          /* a quote, escaped */
        "{\"token\":\"a\\u0026b\"}",       /* "&" would cut the URL */
        "{\"token\":\"a+b/c=\"}",           /* base64, not base64url */
        "{\"token\":\"a\\nb\"}",           /* a line end */
        "{\"token\":\"\u00e9\"}",           /* not ASCII */
        "{\"token\":1}",
        "{\"token\":\"a\",\"token\":\"b\"}"
    };

    check(ngx_webpubsub_reply_token_value(U("{\"token\":\"eyJh.eyJi.c2-_\"}"),
                                          dst, sizeof(dst), &n) == NULL
          && n == 14 && memcmp(dst, "eyJh.eyJi.c2-_", 14) == 0,
          "token value: a JWT is copied");

    check(is(ngx_webpubsub_reply_token_value(U("{\"token\":\"abcdef\"}"),
                                             dst, 5, &n), NOT_TOKEN)
          && n == 0,
          "token value: one byte more than dst holds is refused");

    check(ngx_webpubsub_reply_token_value(U("{\"token\":\"abcde\"}"),
                                          dst, 5, &n) == NULL && n == 5,
          "token value: exactly dst's size is taken");

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        n = 1;
        check(is(ngx_webpubsub_reply_token_value((const unsigned char *)
                                                 bad[i], strlen(bad[i]),
                                                 dst, sizeof(dst), &n),
                 NOT_TOKEN)
              && n == 0,
              bad[i]);
    }
}


/* one call with a buffer of exactly the size the page asks for */

static const char *
page_exact(const unsigned char *body, size_t len, ngx_webpubsub_page_t *page,
    unsigned char *dst, size_t size)
{
    const char  *rv;

    rv = ngx_webpubsub_reply_page(body, len, page, NULL, 0);
    if (rv != NULL) {
        return rv;
    }

    if (page->items_len + page->link_len > size) {
        return "test buffer too small";
    }

    return ngx_webpubsub_reply_page(body, len, page, dst,
                                    page->items_len + page->link_len);
}


static void
test_page(void)
{
    size_t                 i;
    const char            *rv;
    unsigned char          buf[1024];
    ngx_webpubsub_page_t   page;

    static const char  link[] =
        "http://127.0.0.1:8080/api/hubs/chat/groups/room1/connections"
        "?api-version=2024-12-01&maxpagesize=2&continuationToken="
        "eyJvZmZzZXQiOjIsImdyb3VwIjoicm9vbTEifQ%3D%3D";

    static const char  items[] =
        "{\"connectionId\":\"conn-1\",\"userId\":\"user-1\"},"
        "{\"connectionId\":\"conn-2\",\"userId\":\"user-2\"}";

    static const char  recorder[] =
        "{\"value\":[{\"connectionId\":\"conn-1\",\"userId\":\"user-1\"},"
        "{\"connectionId\":\"conn-2\",\"userId\":\"user-2\"}],"
        "\"nextLink\":\"http://127.0.0.1:8080/api/hubs/chat/groups/room1/"
        "connections?api-version=2024-12-01&maxpagesize=2&continuationToken="
        "eyJvZmZzZXQiOjIsImdyb3VwIjoicm9vbTEifQ%3D%3D\"}";

    static const struct {
        const char  *body;
        const char  *reason;
    } bad[] = {
        { "{\"value\":{},\"nextLink\":\"x\"}", NOT_PAGE },
        { "{\"value\":null}", NOT_PAGE },
        { "{\"nextLink\":\"x\"}", NOT_PAGE },
        { "{\"value\":[],\"nextLink\":7}", NOT_PAGE },
        { "{\"value\":[],\"nextLink\":[\"x\"]}", NOT_PAGE },
        { "{\"value\":[],\"nextLink\":false}", NOT_PAGE },
        { "[{\"value\":[]}]", NOT_PAGE },
        { "{\"value\":[{\"connectionId\":\"a\"}],\"value\":[]}", NOT_PAGE },
        { "{\"value\":[],\"nextLink\":\"a\",\"nextLink\":null}", NOT_PAGE },
        { "{\"value\":[]} trailing", NOT_PAGE },
        { "{\"value\":[", NOT_PAGE },
        { "", NOT_PAGE },
        { "{\"value\":[{\"connectionId\":\"a\"},1]}", NOT_OBJECT },
        { "{\"value\":[[]]}", NOT_OBJECT },
        { "{\"value\":[null],\"nextLink\":\"x\"}", NOT_OBJECT },
        { "{\"value\":[\"c1\"]}", NOT_OBJECT },
        /* the duplicate is nested: still refused */
        { "{\"value\":[{\"connectionId\":\"a\",\"connectionId\":\"b\"}]}",
          NOT_PAGE }
    };

    /* rest_recorder's page, measured and written */

    rv = ngx_webpubsub_reply_page(U(recorder), &page, NULL, 0);
    check(rv == NULL, "page: rest_recorder's page");
    check(page.items == 2, "page: 2 items");
    check(page.items_len == sizeof(items) - 1, "page: items measured");
    check(page.link && page.link_len == sizeof(link) - 1,
          "page: nextLink measured");
    check(!page.written, "page: measured only, not written");

    memset(buf, 'X', sizeof(buf));
    rv = ngx_webpubsub_reply_page(U(recorder), &page, buf,
                                  page.items_len + page.link_len);
    check(rv == NULL && page.written, "page: written into its exact size");
    check(eq(buf, page.items_len, items), "page: the items' compact text");
    check(eq(buf + page.items_len, page.link_len, link),
          "page: the nextLink after them");
    check(buf[page.items_len + page.link_len] == 'X',
          "page: nothing written past the size");

    /* the glue's way: a buffer of the body's length */

    rv = ngx_webpubsub_reply_page(U(recorder), &page, buf,
                                  sizeof(recorder) - 1);
    check(rv == NULL && page.written && eq(buf, page.items_len, items),
          "page: written into a buffer of the body's length");

    /* one byte short */

    rv = ngx_webpubsub_reply_page(U(recorder), &page, buf,
                                  sizeof(items) - 1 + sizeof(link) - 2);
    check(rv == NULL && !page.written && page.items == 2
          && page.items_len == sizeof(items) - 1
          && page.link_len == sizeof(link) - 1,
          "page: one byte short, measured, not written");

    /* limits_service's pages */

    rv = page_exact(U("{\"value\":[{\"connectionId\":\"c1\"}],\"nextLink\":"
                      "\"/api/hubs/chat/groups/g/connections?page=2\"}"),
                    &page, buf, sizeof(buf));
    check(rv == NULL && page.items == 1 && page.link
          && eq(buf, page.items_len, "{\"connectionId\":\"c1\"}")
          && eq(buf + page.items_len, page.link_len,
                "/api/hubs/chat/groups/g/connections?page=2"),
          "page: a relative nextLink");

    rv = page_exact(U("{\"value\":[{\"connectionId\":\"last\",\"url\":"
                      "\"/api/hubs/chat/groups/g/connections?page=9\"}]}"),
                    &page, buf, sizeof(buf));
    check(rv == NULL && page.items == 1 && !page.link && page.link_len == 0
          && eq(buf, page.items_len,
                "{\"connectionId\":\"last\",\"url\":"
                "\"/api/hubs/chat/groups/g/connections?page=9\"}"),
          "page: the last page, no nextLink");

    /* empty pages: nothing to write, written at once */

    rv = ngx_webpubsub_reply_page(U("{\"value\":[]}"), &page, NULL, 0);
    check(rv == NULL && page.items == 0 && page.items_len == 0 && !page.link
          && page.written, "page: an empty page");

    rv = ngx_webpubsub_reply_page(U("{\"value\":[],\"nextLink\":null}"),
                                  &page, NULL, 0);
    check(rv == NULL && page.items == 0 && !page.link && page.written,
          "page: a null nextLink is none");

    rv = ngx_webpubsub_reply_page(U("{\"value\":[],\"nextLink\":\"\"}"),
                                  &page, NULL, 0);
    check(rv == NULL && page.link && page.link_len == 0 && page.written,
          "page: an empty nextLink is one (the URL check refuses it)");

    /* re-encoding: white space, escapes, numbers as jansson writes them */

    rv = page_exact(U(" { \"value\" : [ {\"a\" : 1e5, \"b\":[ 1 , 2.50 ],"
                      " \"c\":\"\\u00e9\\/\"} , { } ] ,\n"
                      " \"nextLink\" : \"\\/x\\u003fy\" } "),
                    &page, buf, sizeof(buf));
    check(rv == NULL && page.items == 2
          && eq(buf, page.items_len,
                "{\"a\":100000.0,\"b\":[1,2.5],\"c\":\"\xc3\xa9/\"},{}")
          && eq(buf + page.items_len, page.link_len, "/x?y"),
          "page: compact, unescaped, numbers rewritten");

    /* items longer than the whole answer: a second pass */

    rv = ngx_webpubsub_reply_page(U("{\"value\":[{\"a\":1e-9}]}"), &page,
                                  buf, sizeof("{\"value\":[{\"a\":1e-9}]}")
                                       - 1);
    check(rv == NULL && !page.written
          && page.items_len == sizeof("{\"a\":1.0000000000000001e-9}") - 1,
          "page: items longer than the answer are measured, not written");

    rv = ngx_webpubsub_reply_page(U("{\"value\":[{\"a\":1e-9}]}"), &page,
                                  buf, page.items_len);
    check(rv == NULL && page.written
          && eq(buf, page.items_len, "{\"a\":1.0000000000000001e-9}"),
          "page: and written into their size");

    /* refusals, each with the reason the caller is answered */

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&page, 0xff, sizeof(page));
        rv = ngx_webpubsub_reply_page((const unsigned char *) bad[i].body,
                                      strlen(bad[i].body), &page, buf,
                                      sizeof(buf));
        check(is(rv, bad[i].reason), bad[i].body);
        check(page.items == 0 && page.items_len == 0 && page.link == 0
              && page.link_len == 0 && page.written == 0,
              "page: zeroed on refusal");
    }

    check(is(ngx_webpubsub_reply_page(NULL, 0, &page, NULL, 0), NOT_PAGE),
          "page: no body");
}


static const char *
identity(const char *body, ngx_webpubsub_identity_token_t *t)
{
    unsigned char  buf[256];

    memset(buf, 'X', sizeof(buf));

    return ngx_webpubsub_reply_identity_token((const unsigned char *) body,
                                              strlen(body), NOW, buf,
                                              sizeof(buf), t);
}


static int
times(const char *body, int64_t expires, int64_t refresh)
{
    const char                      *rv;
    ngx_webpubsub_identity_token_t   t;

    rv = identity(body, &t);

    if (rv != NULL || t.expires != expires || t.refresh != refresh) {
        printf("  %s: %s, expires now%+lld, refresh now%+lld\n", body,
               rv ? rv : "NULL", (long long) (t.expires - NOW),
               (long long) (t.refresh - NOW));
        return 0;
    }

    return 1;
}


static void
test_identity_token(void)
{
    size_t                           i;
    const char                      *rv;
    unsigned char                    buf[256], *big;
    ngx_webpubsub_identity_token_t   t;

    /* IMDS and Azure Arc: numbers as strings, expires_on wins */

    static const char  imds[] =
        "{\"access_token\":\"" TOKEN "\",\"client_id\":\"c\","
        "\"expires_in\":\"86399\",\"expires_on\":\"1767312000\","
        "\"ext_expires_in\":\"86399\",\"not_before\":\"1767225300\","
        "\"resource\":\"https://webpubsub.azure.com\","
        "\"token_type\":\"Bearer\"}";

    static const struct {
        const char  *body;
        const char  *reason;
    } bad[] = {
        { "[]", NOT_ANSWER },
        { "\"t\"", NOT_ANSWER },
        { "{\"access_token\":\"a\",\"expires_in\":1", NOT_ANSWER },
        { "{\"access_token\":\"a\",\"access_token\":\"b\","
          "\"expires_in\":60}", NOT_ANSWER },
        { "{\"expires_in\":3599}", NO_ACCESS },
        { "{\"access_token\":null,\"expires_in\":3599}", NO_ACCESS },
        { "{\"access_token\":[\"a\"],\"expires_in\":3599}", NO_ACCESS },
        { "{\"access_token\":\"\",\"expires_in\":3599}", BAD_BYTES },
        { "{\"access_token\":\"a b\",\"expires_in\":3599}", BAD_BYTES },
        { "{\"access_token\":\"a\\\"b\",\"expires_in\":3599}",
          BAD_BYTES },
        { "{\"access_token\":\"a\\\\b\",\"expires_in\":3599}",
          BAD_BYTES },
        { "{\"access_token\":\"a\\r\\nX-Injected: 1\",\"expires_in\":1}",
          BAD_BYTES },
        /* jansson refuses NUL in strings: no answer at all */
        { "{\"access_token\":\"a\\u0000\",\"expires_in\":3599}",
          NOT_ANSWER },
        { "{\"access_token\":\"\xc3\xa9\",\"expires_in\":3599}",
          BAD_BYTES },
        { "{\"access_token\":\"a\",\"token_type\":\"MAC\","
          "\"expires_in\":3599}", NOT_BEARER },
        { "{\"access_token\":\"a\",\"token_type\":\"Bearer \","
          "\"expires_in\":3599}", NOT_BEARER },
        { "{\"access_token\":\"a\",\"token_type\":null,"
          "\"expires_in\":3599}", NOT_BEARER },
        { "{\"access_token\":\"a\",\"token_type\":\"Bearer\"}",
          NO_EXPIRY },
        { "{\"access_token\":\"a\",\"expires_on\":null}", NO_EXPIRY },
        { "{\"access_token\":\"a\",\"expires_in\":\"3599s\"}", BAD_IN },
        { "{\"access_token\":\"a\",\"expires_in\":-1}", BAD_IN },
        { "{\"access_token\":\"a\",\"expires_in\":\"-1\"}", BAD_IN },
        { "{\"access_token\":\"a\",\"expires_in\":\"\"}", BAD_IN },
        { "{\"access_token\":\"a\",\"expires_in\":\" 60\"}", BAD_IN },
        { "{\"access_token\":\"a\",\"expires_in\":true}", BAD_IN },
        { "{\"access_token\":\"a\",\"expires_in\":1e300}", BAD_IN },
        { "{\"access_token\":\"a\",\"expires_in\":"
          "9223372036854775807}", BAD_IN },
        { "{\"access_token\":\"a\",\"expires_in\":\"1000000000000\"}",
          BAD_IN },
        /* a bad expires_on is not made good by an expires_in */
        { "{\"access_token\":\"a\",\"expires_on\":\"soon\","
          "\"expires_in\":3599}", BAD_ON },
        { "{\"access_token\":\"a\",\"expires_on\":\"\"}", BAD_ON },
        { "{\"access_token\":\"a\",\"expires_on\":253402300800}", BAD_ON },
        { "{\"access_token\":\"a\",\"expires_on\":\"2026-02-29T00:00:00Z\"}",
          BAD_ON },
        { "{\"access_token\":\"a\",\"expires_on\":\"2026-13-01T00:00:00Z\"}",
          BAD_ON },
        { "{\"access_token\":\"a\",\"expires_on\":\"2026-01-01T24:00:00Z\"}",
          BAD_ON },
        { "{\"access_token\":\"a\",\"expires_on\":\"2026-01-01T01:00:60Z\"}",
          BAD_ON },
        { "{\"access_token\":\"a\",\"expires_on\":\"2026-01-01T01:00:00\"}",
          BAD_ON },
        { "{\"access_token\":\"a\",\"expires_on\":\"2026-01-01 01:00:00Z\"}",
          BAD_ON },
        { "{\"access_token\":\"a\",\"expires_on\":"
          "\"2026-01-01T01:00:00.Z\"}", BAD_ON },
        { "{\"access_token\":\"a\",\"expires_on\":"
          "\"2026-01-01T01:00:00.1234567890Z\"}", BAD_ON },
        { "{\"access_token\":\"a\",\"expires_on\":"
          "\"2026-01-01T01:00:00+0100\"}", BAD_ON },
        { "{\"access_token\":\"a\",\"expires_on\":"
          "\"2026-01-01T01:00:00+24:00\"}", BAD_ON },
        /* App Service's legacy form: msal-node takes it for no time */
        { "{\"access_token\":\"a\",\"expires_on\":"
          "\"11/29/2026 3:00:00 PM +00:00\"}", BAD_ON },
        { "{\"access_token\":\"a\",\"expires_on\":\"1767225600\"}",
          EXPIRED },
        { "{\"access_token\":\"a\",\"expires_on\":1767225599}", EXPIRED },
        { "{\"access_token\":\"a\",\"expires_on\":"
          "\"2025-12-31T23:59:59.9999999Z\"}", EXPIRED },
        { "{\"access_token\":\"a\",\"expires_in\":0}", EXPIRED },
        { "{\"access_token\":\"a\",\"expires_in\":3599,"
          "\"refresh_in\":\"half\"}", BAD_REFRESH },
        { "{\"access_token\":\"a\",\"expires_in\":3599,"
          "\"refresh_in\":-5}", BAD_REFRESH }
    };

    rv = identity(imds, &t);
    check(rv == NULL && t.token_len == sizeof(TOKEN) - 1
          && t.expires == NOW + 86400 && t.refresh == NOW + 43200,
          "identity: IMDS, a day: refresh at half");

    memset(buf, 'X', sizeof(buf));
    rv = ngx_webpubsub_reply_identity_token((const unsigned char *) imds,
                                            sizeof(imds) - 1, NOW, buf,
                                            sizeof(TOKEN) - 1, &t);
    check(rv == NULL && memcmp(buf, TOKEN, sizeof(TOKEN) - 1) == 0
          && buf[sizeof(TOKEN) - 1] == 'X',
          "identity: the token copied into its exact size");

    rv = ngx_webpubsub_reply_identity_token((const unsigned char *) imds,
                                            sizeof(imds) - 1, NOW, buf,
                                            sizeof(TOKEN) - 2, &t);
    check(is(rv, BAD_BYTES) && t.token_len == 0 && t.expires == 0,
          "identity: not into one byte less");

    check(times("{\"access_token\":\"a\",\"expires_in\":\"3599\","
                "\"expires_on\":\"1767229199\",\"token_type\":\"Bearer\"}",
                NOW + 3599, NOW + 3299),
          "identity: IMDS, an hour: 5 minutes before");
    check(times("{\"access_token\":\"a\",\"expires_in\":\"86399\","
                "\"expires_on\":\"1767226600\"}", NOW + 1000, NOW + 700),
          "identity: expires_on wins over expires_in");

    /* App Service: expires_on alone, as digits or as an ISO 8601 time */

    check(times("{\"access_token\":\"a\",\"expires_on\":\"1767229199\","
                "\"resource\":\"r\",\"token_type\":\"Bearer\","
                "\"client_id\":\"c\"}", NOW + 3599, NOW + 3299),
          "identity: App Service");
    check(times("{\"access_token\":\"a\",\"expires_on\":1767229199}",
                NOW + 3599, NOW + 3299), "identity: expires_on a number");
    check(times("{\"access_token\":\"a\",\"expires_on\":1767229199.9}",
                NOW + 3599, NOW + 3299), "identity: a fraction dropped");
    check(times("{\"access_token\":\"a\",\"expires_on\":"
                "\"2026-01-01T00:59:59Z\"}", NOW + 3599, NOW + 3299),
          "identity: ISO 8601, Z");
    check(times("{\"access_token\":\"a\",\"expires_on\":"
                "\"2026-01-01T00:59:59.000Z\"}", NOW + 3599, NOW + 3299),
          "identity: ISO 8601, toISOString()'s form");
    check(times("{\"access_token\":\"a\",\"expires_on\":"
                "\"2026-01-01T00:59:59.1234567+00:00\"}",
                NOW + 3599, NOW + 3299),
          "identity: ISO 8601, 7 fraction digits, +00:00");
    check(times("{\"access_token\":\"a\",\"expires_on\":"
                "\"2026-01-01T01:59:59+01:00\"}", NOW + 3599, NOW + 3299),
          "identity: ISO 8601, +01:00");
    check(times("{\"access_token\":\"a\",\"expires_on\":"
                "\"2025-12-31T20:29:59-04:30\"}", NOW + 3599, NOW + 3299),
          "identity: ISO 8601, -04:30");
    check(times("{\"access_token\":\"a\",\"expires_on\":"
                "\"2028-02-29T00:00:00Z\"}", 1835395200,
                NOW + (1835395200 - NOW) / 2),
          "identity: ISO 8601, a leap day");
    check(times("{\"access_token\":\"a\",\"expires_on\":"
                "\"2026-11-29T15:00:00Z\"}", 1795964400,
                NOW + (1795964400 - NOW) / 2),
          "identity: ISO 8601, 2026-11-29T15:00:00Z");

    /* the token endpoint: numbers, refresh_in */

    check(times("{\"token_type\":\"Bearer\",\"expires_in\":3599,"
                "\"ext_expires_in\":3599,\"access_token\":\"a\"}",
                NOW + 3599, NOW + 3299), "identity: the token endpoint");
    check(times("{\"token_type\":\"Bearer\",\"expires_in\":3599,"
                "\"ext_expires_in\":3599,\"access_token\":\"a\","
                "\"refresh_in\":1800}", NOW + 3599, NOW + 1800),
          "identity: refresh_in, earlier");
    check(times("{\"token_type\":\"Bearer\",\"expires_in\":86399,"
                "\"refresh_in\":\"80000\",\"access_token\":\"a\"}",
                NOW + 86399, NOW + 43199),
          "identity: refresh_in later than half the lifetime");
    check(times("{\"token_type\":\"bearer\",\"expires_in\":7200,"
                "\"access_token\":\"a\"}", NOW + 7200, NOW + 6900),
          "identity: bearer in lower case; 2 hours is not over 2 hours");
    check(times("{\"token_type\":\"Bearer\",\"expires_in\":7202,"
                "\"access_token\":\"a\"}", NOW + 7202, NOW + 3601),
          "identity: 2 hours and 2 seconds: half");
    check(times("{\"expires_in\":200,\"access_token\":\"a\"}",
                NOW + 200, NOW), "identity: short-lived: refresh now");
    check(times("{\"expires_in\":1,\"access_token\":\"a\","
                "\"refresh_in\":0}", NOW + 1, NOW),
          "identity: refresh_in 0");
    check(times("{\"expires_in\":3599,\"access_token\":\"a\","
                "\"expires_on\":null,\"refresh_in\":null}",
                NOW + 3599, NOW + 3299), "identity: nulls are absent");

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&t, 0xff, sizeof(t));
        rv = identity(bad[i].body, &t);
        check(is(rv, bad[i].reason), bad[i].body);
        check(t.token_len == 0 && t.expires == 0 && t.refresh == 0,
              "identity: zeroed on refusal");
    }

    check(is(ngx_webpubsub_reply_identity_token(NULL, 0, NOW, buf,
                                                sizeof(buf), &t),
             NOT_ANSWER), "identity: no body");

    /* a token of NGX_WEBPUBSUB_ENTRA_TOKEN_MAX bytes, and one more */

    big = malloc(17000 + NGX_WEBPUBSUB_ENTRA_TOKEN_MAX + 1);
    if (big == NULL) {
        check(0, "identity: memory");
        return;
    }

    for (i = 0; i < 2; i++) {
        memcpy(big, HEAD, sizeof(HEAD) - 1);
        memset(big + sizeof(HEAD) - 1, 'a', NGX_WEBPUBSUB_ENTRA_TOKEN_MAX + i);
        memcpy(big + sizeof(HEAD) - 1 + NGX_WEBPUBSUB_ENTRA_TOKEN_MAX + i,
               "\"}", 2);

        rv = ngx_webpubsub_reply_identity_token(big,
                 sizeof(HEAD) + 1 + NGX_WEBPUBSUB_ENTRA_TOKEN_MAX + i, NOW,
                 big + 17000, NGX_WEBPUBSUB_ENTRA_TOKEN_MAX + 1, &t);

        check(i == 0 ? rv == NULL
                       && t.token_len == NGX_WEBPUBSUB_ENTRA_TOKEN_MAX
                     : is(rv, BAD_BYTES),
              i == 0 ? "identity: a token at the bound"
                     : "identity: one byte over it");
    }

    free(big);
}


/* n of an RSA key of bits bits, the top bit set, in base64url */

static size_t
modulus(char *dst, size_t bits, int lead)
{
    size_t         n, z;
    unsigned char  buf[1100];

    n = (bits + 7) / 8;
    z = lead ? 1 : 0;

    memset(buf, 0xa5, sizeof(buf));
    buf[0] = 0;
    buf[z] = (unsigned char) (1u << ((bits + 7) % 8));

    return ngx_webpubsub_base64url_encode((unsigned char *) dst, buf, n + z);
}


static const char *
jwks_of(const char *n, const char *extra, ngx_webpubsub_jwk_t *keys,
    size_t max, size_t *nkeys)
{
    char  body[4096];

    snprintf(body, sizeof(body), "{\"keys\":[{\"kty\":\"RSA\",\"kid\":"
             "\"k\",\"n\":\"%s\",\"e\":\"AQAB\"%s}]}", n, extra);

    return ngx_webpubsub_reply_jwks((const unsigned char *) body,
                                    strlen(body), keys, max, nkeys);
}


static void
test_jwks(void)
{
    char                  n[1500], kid[200], extra[300];
    size_t                i, nkeys, len;
    const char           *rv;
    ngx_webpubsub_jwk_t  *keys;

    /* a JWKS as login.microsoftonline.com serves it (its keys' shape) */

    static const char  entra[] =
        "{\"keys\":[{\"kty\":\"RSA\",\"use\":\"sig\",\"kid\":"
        "\"JYhAcTPMZ_LX6DBlOWQ7Hn0NeXE\",\"x5t\":"
        "\"JYhAcTPMZ_LX6DBlOWQ7Hn0NeXE\",\"n\":\"%s\",\"e\":\"AQAB\","
        "\"x5c\":[\"MIIC/TCCAeWgAwIBAgII\"],\"cloud_instance_name\":"
        "\"microsoftonline.com\",\"issuer\":"
        "\"https://login.microsoftonline.com/{tenantid}/v2.0\"}]}";

    static const struct {
        const char  *body;
        const char  *reason;
    } bad[] = {
        { "[]", NOT_JWKS },
        { "{}", NOT_JWKS },
        { "{\"keys\":{}}", NOT_JWKS },
        { "{\"keys\":null}", NOT_JWKS },
        { "{\"keys\":[],\"keys\":[]}", NOT_JWKS },
        { "{\"keys\":[]", NOT_JWKS },
        { "{\"keys\":[]}", NO_JWK },
        { "{\"keys\":[1,\"a\",null,[]]}", NO_JWK },
        { "{\"keys\":[{\"kty\":\"EC\",\"kid\":\"e\",\"crv\":\"P-256\"}]}",
          NO_JWK }
    };

    keys = malloc(sizeof(ngx_webpubsub_jwk_t) * NGX_WEBPUBSUB_JWKS_KEYS_MAX);
    if (keys == NULL) {
        check(0, "jwks: memory");
        return;
    }

    /* the modulus's bits: 2048 to 8192, a leading zero byte dropped */

    len = modulus(n, 2048, 0);
    n[len] = '\0';

    {
        char  body[4096];

        snprintf(body, sizeof(body), entra, n);
        rv = ngx_webpubsub_reply_jwks((const unsigned char *) body,
                                      strlen(body), keys,
                                      NGX_WEBPUBSUB_JWKS_KEYS_MAX, &nkeys);
        check(rv == NULL && nkeys == 1 && keys[0].kid_len == 27
              && memcmp(keys[0].kid, "JYhAcTPMZ_LX6DBlOWQ7Hn0NeXE", 27) == 0
              && keys[0].n_len == 256 && keys[0].n[0] == 0x80
              && keys[0].n[255] == 0xa5 && keys[0].e_len == 3
              && memcmp(keys[0].e, "\x01\x00\x01", 3) == 0,
              "jwks: Entra's shape");
    }

    rv = jwks_of(n, "", keys, 1, &nkeys);
    check(rv == NULL && nkeys == 1, "jwks: 2048 bits, no use");

    len = modulus(n, 2047, 0);
    n[len] = '\0';
    check(is(jwks_of(n, "", keys, 1, &nkeys), NO_JWK) && nkeys == 0,
          "jwks: 2047 bits skipped");

    len = modulus(n, 2048, 1);
    n[len] = '\0';
    check(jwks_of(n, "", keys, 1, &nkeys) == NULL && keys[0].n_len == 256
          && keys[0].n[0] == 0x80, "jwks: a leading zero byte dropped");

    len = modulus(n, 8192, 0);
    n[len] = '\0';
    check(jwks_of(n, "", keys, 1, &nkeys) == NULL && keys[0].n_len == 1024,
          "jwks: 8192 bits");

    len = modulus(n, 8192, 1);
    n[len] = '\0';
    check(jwks_of(n, "", keys, 1, &nkeys) == NULL && keys[0].n_len == 1024,
          "jwks: 8192 bits and a leading zero");

    len = modulus(n, 8193, 0);
    n[len] = '\0';
    check(is(jwks_of(n, "", keys, 1, &nkeys), NO_JWK),
          "jwks: 8193 bits skipped");

    len = modulus(n, 2048, 0);
    n[len] = '\0';

    /* what makes a key unusable */

    {
        static const char  *skip[] = {
            ",\"use\":\"enc\"",
            ",\"use\":null",
            ",\"alg\":\"PS256\"",
            ",\"alg\":\"RS384\"",
            ",\"kty\":\"rsa\"",
            ",\"kid\":1",
            ",\"e\":\"AQAA\"",          /* even */
            ",\"e\":\"AQ\"",            /* 1 */
            ",\"e\":\"\"",
            ",\"e\":\"AAAA\"",          /* zero */
            ",\"e\":\"AQAB=\"",         /* padding */
            ",\"e\":\"AQAC\"",          /* even, 3 bytes */
            ",\"e\":\"Ax\"",            /* 3 with a stray bit */
            ",\"e\":\"AQABAQABAQAB\""   /* 9 bytes */
        };

        for (i = 0; i < sizeof(skip) / sizeof(skip[0]); i++) {
            /* the second "e" or "kty" is a duplicate: drop the first */
            char  body[4096];

            snprintf(body, sizeof(body), "{\"keys\":[{\"kty\":\"RSA\","
                     "\"kid\":\"k\",\"n\":\"%s\"%s%s}]}", n,
                     strstr(skip[i], "\"e\"") ? "" : ",\"e\":\"AQAB\"",
                     skip[i]);

            if (strstr(skip[i], "kty")) {
                snprintf(body, sizeof(body), "{\"keys\":[{\"kid\":\"k\","
                         "\"n\":\"%s\",\"e\":\"AQAB\"%s}]}", n, skip[i]);

            } else if (strstr(skip[i], "kid")) {
                snprintf(body, sizeof(body), "{\"keys\":[{\"kty\":\"RSA\","
                         "\"n\":\"%s\",\"e\":\"AQAB\"%s}]}", n, skip[i]);
            }

            rv = ngx_webpubsub_reply_jwks((const unsigned char *) body,
                                          strlen(body), keys, 1, &nkeys);
            check(is(rv, NO_JWK), skip[i]);
        }
    }

    check(jwks_of(n, ",\"use\":\"sig\",\"alg\":\"RS256\"", keys, 1,
                  &nkeys) == NULL, "jwks: use sig, alg RS256");

    /* kid: up to NGX_WEBPUBSUB_JWK_KID_MAX bytes */

    memset(kid, 'k', NGX_WEBPUBSUB_JWK_KID_MAX + 1);
    kid[NGX_WEBPUBSUB_JWK_KID_MAX] = '\0';
    snprintf(extra, sizeof(extra), ",\"kid\":\"%s\"", kid);

    {
        char  body[4096];

        snprintf(body, sizeof(body), "{\"keys\":[{\"kty\":\"RSA\","
                 "\"n\":\"%s\",\"e\":\"AQAB\"%s}]}", n, extra);
        rv = ngx_webpubsub_reply_jwks((const unsigned char *) body,
                                      strlen(body), keys, 1, &nkeys);
        check(rv == NULL && keys[0].kid_len == NGX_WEBPUBSUB_JWK_KID_MAX,
              "jwks: a kid at the bound");

        kid[NGX_WEBPUBSUB_JWK_KID_MAX] = 'k';
        kid[NGX_WEBPUBSUB_JWK_KID_MAX + 1] = '\0';
        snprintf(body, sizeof(body), "{\"keys\":[{\"kty\":\"RSA\","
                 "\"n\":\"%s\",\"e\":\"AQAB\",\"kid\":\"%s\"}]}", n,
                 kid);
        rv = ngx_webpubsub_reply_jwks((const unsigned char *) body,
                                      strlen(body), keys, 1, &nkeys);
        check(is(rv, NO_JWK), "jwks: a kid over it");
    }

    /* max: the first usable keys */

    {
        char  body[8192];

        snprintf(body, sizeof(body), "{\"keys\":[{\"kty\":\"RSA\","
                 "\"use\":\"enc\",\"kid\":\"0\",\"n\":\"%s\",\"e\":\"AQAB\"},"
                 "{\"kty\":\"RSA\",\"kid\":\"1\",\"n\":\"%s\",\"e\":\"AQAB\"},"
                 "{\"kty\":\"RSA\",\"kid\":\"2\",\"n\":\"%s\",\"e\":\"Aw\"}]}",
                 n, n, n);

        rv = ngx_webpubsub_reply_jwks((const unsigned char *) body,
                                      strlen(body), keys, 1, &nkeys);
        check(rv == NULL && nkeys == 1 && keys[0].kid[0] == '1',
              "jwks: max 1, the first usable");

        rv = ngx_webpubsub_reply_jwks((const unsigned char *) body,
                                      strlen(body), keys,
                                      NGX_WEBPUBSUB_JWKS_KEYS_MAX, &nkeys);
        check(rv == NULL && nkeys == 2 && keys[1].kid[0] == '2'
              && keys[1].e_len == 1 && keys[1].e[0] == 3,
              "jwks: both, e = 3");

        check(is(ngx_webpubsub_reply_jwks((const unsigned char *) body,
                                          strlen(body), keys, 0, &nkeys),
                 NO_JWK), "jwks: max 0");
    }

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        nkeys = 7;
        rv = ngx_webpubsub_reply_jwks((const unsigned char *) bad[i].body,
                                      strlen(bad[i].body), keys,
                                      NGX_WEBPUBSUB_JWKS_KEYS_MAX, &nkeys);
        check(is(rv, bad[i].reason) && nkeys == 0, bad[i].body);
    }

    free(keys);
}


int
main(void)
{
    test_token();
    test_token_value();
    test_page();
    test_identity_token();
    test_jwks();

    printf("%d passed, %d failed\n", passed, failed);

    return failed ? 1 : 0;
}
