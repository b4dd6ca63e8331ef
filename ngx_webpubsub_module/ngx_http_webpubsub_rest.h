
/*
 * Copyright (C) ngx_webpubsub_module authors
 *
 * What the two files of REST through subrequests share: a call under way
 * (ngx_http_webpubsub_rest.c makes it and reads its answer) and the checks
 * that it runs where the operator sent it (ngx_http_webpubsub_rest_route.c).
 */


#ifndef _NGX_HTTP_WEBPUBSUB_REST_H_INCLUDED_
#define _NGX_HTTP_WEBPUBSUB_REST_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webpubsub_module.h"


typedef ngx_int_t (*ngx_http_webpubsub_rest_token_pt)(ngx_http_request_t *r,
    ngx_str_t *body);


struct ngx_http_webpubsub_rest_s {
    const ngx_webpubsub_rest_op_t  *op;
    const ngx_webpubsub_rest_tpl_t *tpl;           /* op's path, compiled */
    ngx_http_webpubsub_loc_conf_t  *conf;
    ngx_str_t                       content_type;  /* of a message */
    ngx_str_t                       body;          /* of :addToGroups */

    /* the call under way */
    ngx_str_t                       url;           /* absolute, the aud */
    ngx_str_t                       unparsed;      /* path?query on the wire */
    ngx_str_t                       args;

    /*
     * Each call's memory is a pool of its own, freed once the call after
     * it has come back: a list of 1000 pages then holds two pages' worth,
     * not a thousand.
     */
    ngx_pool_t                     *pool;
    ngx_pool_cleanup_t             *cur;           /* frees pool */
    ngx_pool_cleanup_t             *old;           /* the call before */

    ngx_str_t                       authorization; /* "Bearer <token>" */
    ngx_str_t                       bearer;        /* an Entra token */
    ngx_int_t                       answer_rc;     /* of an early answer */
    ngx_http_webpubsub_rest_token_pt
                                    token_done;    /* negotiate's */
    void                          **routed_conf;   /* where it was checked */

    /* its outcome, from the subrequest */
    ngx_http_request_t             *sr;
    uint64_t                        started;       /* us, for the counters */
    ngx_int_t                       rc;
    ngx_uint_t                      status;
    ngx_http_webpubsub_capture_t    capture;       /* its answer */

    /* list_connections: the connections so far, as JSON array items */
    ngx_uint_t                      pages;
    ngx_uint_t                      items;
    size_t                          list_len;
    ngx_chain_t                    *list;
    ngx_chain_t                   **last;

    unsigned                        done:1;
    unsigned                        routed:1;      /* its location checked */
    unsigned                        authorized:1;  /* the token is in */
    unsigned                        misrouted:1;   /* refused and logged */
    unsigned                        answered:1;    /* a status line came */
    unsigned                        http09:1;      /* but nothing valid */
    unsigned                        waiting:1;     /* for an Entra token */
};


ngx_int_t ngx_http_webpubsub_rest_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_webpubsub_rest_done(ngx_http_request_t *sr, void *data,
    ngx_int_t rc);
ngx_http_webpubsub_rest_t *ngx_http_webpubsub_rest_of(ngx_http_request_t *r);

ngx_int_t ngx_http_webpubsub_rest_route_init(ngx_conf_t *cf);
void ngx_http_webpubsub_rest_exit_process(void);
ngx_int_t ngx_http_webpubsub_rest_generate(ngx_http_request_t *r,
    ngx_http_webpubsub_loc_conf_t *wlcf, ngx_str_t *hub,
    ngx_webpubsub_rest_args_t *args, ngx_http_webpubsub_rest_token_pt done,
    ngx_int_t *answered);
ngx_int_t ngx_http_webpubsub_rest_check_call(ngx_http_request_t *r,
    ngx_http_request_t *sr, ngx_http_webpubsub_rest_t *rest);


#endif /* _NGX_HTTP_WEBPUBSUB_REST_H_INCLUDED_ */
