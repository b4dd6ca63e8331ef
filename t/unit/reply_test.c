
/*
 * Unit tests of the parsing of remote answers (ngx_webpubsub_reply.c),
 * outside nginx.  The answers are those the local services of the suite
 * give (t/fixtures/rest_recorder.js, t/fixtures/limits_service.js) and
 * edge cases; the expected texts are written out by hand.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_webpubsub_reply.h"
#include "check.h"


#define U(lit)  (const unsigned char *) (lit), sizeof(lit) - 1

#define NOT_TOKEN   "the service's token response is not {\"token\": string}"
#define NOT_PAGE    "the service's page is not {\"value\": [...], " \
                    "\"nextLink\": ...}"
#define NOT_OBJECT  "the service's page has a connection that is not " \
                    "an object"


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


int
main(void)
{
    test_token();
    test_page();

    printf("%d passed, %d failed\n", passed, failed);

    return failed ? 1 : 0;
}
