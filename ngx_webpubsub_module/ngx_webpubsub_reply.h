
/*
 * Copyright (C) ngx_webpubsub_module authors
 *
 * Where every answer of a remote service is parsed: the Web PubSub REST
 * replies now (the {"token"} of generate_client_token, the pages of
 * list_connections), and for Entra ID later the identity endpoint's
 * tokens, the OpenID configuration, the JWKS and the RS256 tokens they
 * verify.  These bytes come off the network and are the module's most
 * exposed input, so they are read here only, by the core (plain C99 on
 * jansson, no nginx), where a fuzzer (fuzz/fuzz_replies.c) and unit tests
 * (t/unit/reply_test.c) reach every function.  Each function takes a
 * bounded input, refuses duplicate keys (two readers of one answer must
 * not see different values), frees what jansson built before it returns,
 * and writes its results into buffers the caller provides, with explicit
 * lengths.  A refusal is a static string, what the caller is answered.
 */


#ifndef _NGX_WEBPUBSUB_REPLY_H_INCLUDED_
#define _NGX_WEBPUBSUB_REPLY_H_INCLUDED_


#include <stddef.h>


/*
 * The largest answer read at all; nginx bounds it first, by
 * subrequest_output_buffer_size, this is for callers without such a limit
 */
#define NGX_WEBPUBSUB_REPLY_MAX  (64 * 1024 * 1024)


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


#endif /* _NGX_WEBPUBSUB_REPLY_H_INCLUDED_ */
