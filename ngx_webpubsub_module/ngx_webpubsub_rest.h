
/*
 * Copyright (C) ngx_webpubsub_module authors
 *
 * The Web PubSub REST API as the official SDKs call it: its operations
 * and parameters, the checks the SDKs make before a call, and the path,
 * query and body they send (ngx_webpubsub_rest.c).  Part of the core:
 * plain C99, no nginx.  What the service answers is read by the
 * functions of ngx_webpubsub_reply.h.
 */


#ifndef _NGX_WEBPUBSUB_REST_H_INCLUDED_
#define _NGX_WEBPUBSUB_REST_H_INCLUDED_


#include "ngx_webpubsub_core.h"


/* the api-version every call carries (the JS and Python SDKs') */
#define NGX_WEBPUBSUB_API_VERSION      "2024-12-01"
/* a group name, in UTF-16 code units as the SDKs count it */
#define NGX_WEBPUBSUB_GROUP_MAX        1024
/* any other id, filter or reason in a REST call, in bytes */
#define NGX_WEBPUBSUB_VALUE_MAX        4096
/* values of one repeated REST parameter (excluded, role, group) */
#define NGX_WEBPUBSUB_REST_VALUES_MAX  100
/* a nextLink the service returns in a page of connections */
#define NGX_WEBPUBSUB_NEXT_LINK_MAX    8192
/* the operations of the table, numbered 0 .. n - 1 for counters */
#define NGX_WEBPUBSUB_REST_NOPS        25
/* the pieces of a compiled path: up to 3 values and the text after each */
#define NGX_WEBPUBSUB_REST_SEGS        4
/* its text: the table's, under 64 bytes, and a constant hub, encoded */
#define NGX_WEBPUBSUB_REST_TEXT_MAX    (64 + 3 * NGX_WEBPUBSUB_HUB_MAX)

/* where a piece of a compiled path takes its value from, if not a param */
#define NGX_WEBPUBSUB_REST_SEG_HUB     -1  /* the hub of the request */
#define NGX_WEBPUBSUB_REST_SEG_END     -2  /* nothing: the last text */


/* the parameters of webpubsub_rest; bit i of a mask is parameter i */
enum {
    NGX_WEBPUBSUB_REST_USER = 0,
    NGX_WEBPUBSUB_REST_GROUP,
    NGX_WEBPUBSUB_REST_CONNECTION,
    NGX_WEBPUBSUB_REST_FILTER,
    NGX_WEBPUBSUB_REST_EXCLUDED,
    NGX_WEBPUBSUB_REST_TTL,
    NGX_WEBPUBSUB_REST_REASON,
    NGX_WEBPUBSUB_REST_PERMISSION,
    NGX_WEBPUBSUB_REST_TARGET,
    NGX_WEBPUBSUB_REST_MAX_PAGE_SIZE,
    NGX_WEBPUBSUB_REST_TOP,
    NGX_WEBPUBSUB_REST_ROLE,
    NGX_WEBPUBSUB_REST_TTL_MINUTES,
    NGX_WEBPUBSUB_REST_PROTOCOL,
    NGX_WEBPUBSUB_REST_NPARAMS
};

/* what a REST call sends as its body */
#define NGX_WEBPUBSUB_REST_NONE        0   /* nothing, no Content-Length */
#define NGX_WEBPUBSUB_REST_EMPTY       1   /* Content-Length: 0 */
#define NGX_WEBPUBSUB_REST_MESSAGE     2   /* the caller's message */
#define NGX_WEBPUBSUB_REST_GROUPS      3   /* {"groups":[...],"filter":...} */

/* what its answer means */
#define NGX_WEBPUBSUB_REST_PLAIN       0
#define NGX_WEBPUBSUB_REST_EXISTS      1   /* 200 or 404, no body */
#define NGX_WEBPUBSUB_REST_LIST        2   /* pages of {"value","nextLink"} */
#define NGX_WEBPUBSUB_REST_TOKEN       3   /* {"token":...} */


typedef struct {
    const char           *name;        /* the SDK's name in snake case */
    const char           *method;
    const char           *path;        /* under the endpoint, {x} filled */
    const char           *accept;      /* NULL: no Accept header */
    unsigned              body;
    unsigned              result;
    uint32_t              required;
    uint32_t              allowed;
    uint32_t              repeated;
    signed char           query[8];    /* in the SDK's order, -1 ends */
} ngx_webpubsub_rest_op_t;


/*
 * An operation's path, compiled once from its template: each piece is
 * text, then the value of a parameter (its first) or of the hub.  The
 * texts follow each other in text[], so a piece needs only its length.
 */
typedef struct {
    size_t          len;       /* of its text */
    int             value;     /* a parameter or NGX_WEBPUBSUB_REST_SEG_* */
} ngx_webpubsub_rest_seg_t;

typedef struct {
    ngx_webpubsub_rest_seg_t  seg[NGX_WEBPUBSUB_REST_SEGS];
    size_t                    text_len;
    unsigned                  hub:1;   /* a hub is needed per call */
    unsigned char             text[NGX_WEBPUBSUB_REST_TEXT_MAX];
} ngx_webpubsub_rest_tpl_t;


/* the values of each parameter of one call; none is empty */
typedef struct {
    const ngx_webpubsub_str_t  *v[NGX_WEBPUBSUB_REST_NPARAMS];
    size_t                      n[NGX_WEBPUBSUB_REST_NPARAMS];
} ngx_webpubsub_rest_args_t;


const ngx_webpubsub_rest_op_t *ngx_webpubsub_rest_op(const unsigned char *name,
    size_t len);
const ngx_webpubsub_rest_op_t *ngx_webpubsub_rest_op_at(size_t i);
size_t ngx_webpubsub_rest_op_index(const ngx_webpubsub_rest_op_t *op);
int ngx_webpubsub_rest_param(const unsigned char *name, size_t len);
const char *ngx_webpubsub_rest_param_name(int param);
const char *ngx_webpubsub_rest_check_value(int param, const unsigned char *v,
    size_t len);
const char *ngx_webpubsub_rest_check(const ngx_webpubsub_rest_op_t *op,
    const ngx_webpubsub_rest_args_t *args, int *param);
size_t ngx_webpubsub_uri_component_length(const unsigned char *s, size_t n);
unsigned char *ngx_webpubsub_uri_component(unsigned char *dst,
    const unsigned char *s, size_t n);
const char *ngx_webpubsub_rest_path_compile(const ngx_webpubsub_rest_op_t *op,
    const ngx_webpubsub_str_t *hub, ngx_webpubsub_rest_tpl_t *tpl);
size_t ngx_webpubsub_rest_path_length(const ngx_webpubsub_rest_tpl_t *tpl,
    const ngx_webpubsub_str_t *hub, const ngx_webpubsub_rest_args_t *args);
unsigned char *ngx_webpubsub_rest_path(unsigned char *dst,
    const ngx_webpubsub_rest_tpl_t *tpl, const ngx_webpubsub_str_t *hub,
    const ngx_webpubsub_rest_args_t *args);
size_t ngx_webpubsub_rest_query_length(const ngx_webpubsub_rest_op_t *op,
    const ngx_webpubsub_rest_args_t *args);
unsigned char *ngx_webpubsub_rest_query(unsigned char *dst,
    const ngx_webpubsub_rest_op_t *op, const ngx_webpubsub_rest_args_t *args);
size_t ngx_webpubsub_rest_body_length(const ngx_webpubsub_rest_op_t *op,
    const ngx_webpubsub_rest_args_t *args);
unsigned char *ngx_webpubsub_rest_body(unsigned char *dst,
    const ngx_webpubsub_rest_op_t *op, const ngx_webpubsub_rest_args_t *args);
const char *ngx_webpubsub_rest_next_link(const ngx_webpubsub_endpoint_t *ep,
    const unsigned char *link, size_t len, unsigned char *dst,
    size_t *dst_len);
size_t ngx_webpubsub_form_decode(unsigned char *dst, const unsigned char *src,
    size_t n);



#endif /* _NGX_WEBPUBSUB_REST_H_INCLUDED_ */
