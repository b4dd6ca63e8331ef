
/*
 * Copyright (C) ngx_webpubsub_module authors
 *
 * What nginx fetches for itself and shares between its workers: Entra ID
 * access tokens and the signing keys (JWKS) that webhooks' Bearer tokens
 * are checked with.  Each is a slot of one shared memory zone, filled by
 * an in-memory subrequest to an internal location the operator names,
 * one fetch at a time for all workers, and used by every request while
 * it is valid.
 */


#ifndef _NGX_HTTP_WEBPUBSUB_FETCH_H_INCLUDED_
#define _NGX_HTTP_WEBPUBSUB_FETCH_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


typedef struct ngx_http_webpubsub_fetch_s  ngx_http_webpubsub_fetch_t;


/* one request for a slot, built per fetch in the request's pool */
typedef struct {
    ngx_uint_t                 method;          /* NGX_HTTP_GET, _POST */
    ngx_str_t                  method_name;
    ngx_str_t                  uri;             /* path?query, as sent */
    ngx_str_t                  header;          /* "Name", not secret */
    ngx_str_t                  header_value;
    ngx_str_t                  secret;          /* "Name" of a secret one */
    ngx_str_t                  secret_value;
    ngx_str_t                  body;            /* a form, may be secret */
} ngx_http_webpubsub_fetch_req_t;


/* NGX_OK with req filled, or NGX_ERROR (logged) */
typedef ngx_int_t (*ngx_http_webpubsub_fetch_build_pt)(ngx_http_request_t *r,
    ngx_http_webpubsub_fetch_t *f, ngx_http_webpubsub_fetch_req_t *req);

/*
 * An answer made into the slot's data: NULL, with *len, *expires and
 * *refresh set, or why the answer is unusable.
 */
typedef const char *(*ngx_http_webpubsub_fetch_parse_pt)(
    ngx_http_webpubsub_fetch_t *f, u_char *body, size_t len, time_t now,
    u_char *dst, size_t size, size_t *dst_len, time_t *expires,
    time_t *refresh);

/* the fetch a request waited for is over: it may ask again */
typedef void (*ngx_http_webpubsub_fetch_done_pt)(ngx_http_request_t *r);


struct ngx_http_webpubsub_fetch_s {
    ngx_uint_t                          index;      /* its slot */
    size_t                              size;       /* the slot's data */
    uint32_t                            fingerprint;
    ngx_str_t                           identity;   /* what it fetches */
    const char                         *what;       /* "access token" */
    const char                         *from;       /* "identity endpoint" */
    const char                         *directive;  /* where it is set */
    ngx_uint_t                          counter;    /* ..._ID_TOKEN, _KEYS */
    u_char                             *file;
    ngx_uint_t                          line;
    ngx_http_webpubsub_fetch_build_pt   build;
    ngx_http_webpubsub_fetch_parse_pt   parse;
    void                               *data;
};


/* a request's fetch, at most one at a time */
typedef struct {
    ngx_http_webpubsub_fetch_t         *fetch;
    ngx_http_request_t                 *request;
    ngx_str_t                           pass;
    ngx_http_webpubsub_fetch_done_pt    done;
    ngx_http_webpubsub_fetch_req_t      req;
    ngx_http_request_t                 *sr;
    ngx_http_webpubsub_capture_t        capture;    /* its answer */
    ngx_event_t                        *wait;
    time_t                              waited;     /* since */
    ngx_uint_t                          failures;   /* the slot's, then */
    ngx_uint_t                          status;     /* 0, or the failure */
    ngx_str_t                           reason;
    void                              **routed_conf;
    ngx_int_t                           rc;
    ngx_uint_t                          answer;     /* its status */

    unsigned                            done_sr:1;
    unsigned                            routed:1;
    unsigned                            misrouted:1;
    unsigned                            answered:1;
    unsigned                            claimed:1;
    unsigned                            cleanup:1;
    unsigned                            fetched:1;  /* by this request */
    unsigned                            counted:1;  /* failures is set */
} ngx_http_webpubsub_fetch_ctx_t;


ngx_http_webpubsub_fetch_t *ngx_http_webpubsub_fetch_add(ngx_conf_t *cf,
    size_t size, ngx_str_t *identity);
ngx_int_t ngx_http_webpubsub_fetch_init(ngx_conf_t *cf);
ngx_uint_t ngx_http_webpubsub_fetch_used(ngx_conf_t *cf);

ngx_int_t ngx_http_webpubsub_fetch(ngx_http_request_t *r,
    ngx_http_webpubsub_fetch_t *f, ngx_str_t *pass, ngx_uint_t force,
    ngx_str_t *out, ngx_http_webpubsub_fetch_done_pt done);
ngx_int_t ngx_http_webpubsub_fetch_route(ngx_http_request_t *sr);
ngx_int_t ngx_http_webpubsub_fetch_fail(ngx_http_request_t *r);


#endif /* _NGX_HTTP_WEBPUBSUB_FETCH_H_INCLUDED_ */
