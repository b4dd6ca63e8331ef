
/*
 * Copyright (C) ngx_webpubsub_module authors
 */


#ifndef _NGX_HTTP_WEBPUBSUB_MODULE_H_INCLUDED_
#define _NGX_HTTP_WEBPUBSUB_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_webpubsub_core.h"
#include "ngx_webpubsub_rest.h"


/*
 * The oldest nginx the module is built and tested against (docs/
 * compatibility.md); an older one is refused here rather than at run time.
 */
#if (nginx_version < 1018000)
#error "ngx_http_webpubsub_module needs nginx 1.18.0 or newer"
#endif


/*
 * The release, as "major.minor.patch" and as a number that grows with it
 * (major * 1000000 + minor * 1000 + patch), for #if tests in other modules;
 * CHANGES lists what each release changed.
 */
#define NGX_HTTP_WEBPUBSUB_VERSION      "0.1.0"
#define NGX_HTTP_WEBPUBSUB_MAJOR        0
#define NGX_HTTP_WEBPUBSUB_MINOR        1
#define NGX_HTTP_WEBPUBSUB_PATCH        0
#define ngx_http_webpubsub_version                                           \
    (NGX_HTTP_WEBPUBSUB_MAJOR * 1000000 + NGX_HTTP_WEBPUBSUB_MINOR * 1000   \
     + NGX_HTTP_WEBPUBSUB_PATCH)


/* the longest user id, role or group a token may carry, in bytes */
#define NGX_HTTP_WEBPUBSUB_VALUE_MAX  4096

/* a key file: the key is at most 4096 bytes once white space is trimmed */
#define NGX_HTTP_WEBPUBSUB_KEY_FILE_MAX  65536

/* a year: no SDK sets a limit, but iat + ttl must not overflow */
#define NGX_HTTP_WEBPUBSUB_TTL_MAX    (365 * 24 * 60 * 60)


typedef struct ngx_http_webpubsub_rest_s  ngx_http_webpubsub_rest_t;
typedef struct ngx_http_webpubsub_credential_s
    ngx_http_webpubsub_credential_t;
typedef struct ngx_http_webpubsub_event_auth_s
    ngx_http_webpubsub_event_auth_t;


typedef struct {
    ngx_str_t                  key;
    ngx_webpubsub_hmac_t      *hmac;           /* the key, ready to MAC */
} ngx_http_webpubsub_key_t;


typedef struct {
    /* the service: endpoint and keys are inherited together */
    ngx_webpubsub_endpoint_t  *endpoint;
    ngx_str_t                  client_base;    /* ws(s)://host[:port]/... */
    ngx_array_t               *keys;           /* of ..._key_t, [0] signs */
    u_char                    *endpoint_file;  /* where each half was set */
    ngx_uint_t                 endpoint_line;
    u_char                    *key_file;       /* the first key */
    ngx_uint_t                 key_line;
    ngx_http_complex_value_t  *hub;

    /* Microsoft Entra ID, where the resource has no access keys */
    ngx_http_webpubsub_credential_t
                              *credential;
    ngx_str_t                  credential_pass;

    /* negotiate */
    ngx_http_complex_value_t  *user_id;
    ngx_array_t               *roles;          /* of ngx_http_complex_value_t */
    ngx_array_t               *groups;         /* of ngx_http_complex_value_t */
    time_t                     ttl;
    ngx_uint_t                 protocol;

    ngx_flag_t                 token;
    ngx_webpubsub_token_t     *token_tpl;      /* constant part, or NULL */
    ngx_flag_t                 token_hub;      /* the hub is in it */
    ngx_flag_t                 token_plain;    /* URLs need no escaping */
    ngx_str_t                  client_prefix;  /* ws(s) URL up to the hub,
                                                  when answers are built
                                                  around the signing */
    ngx_flag_t                 token_variables; /* fetched beforehand */
    u_char                    *variables_file;
    ngx_uint_t                 variables_line;
    u_char                    *token_file;
    ngx_uint_t                 token_line;

    /* event handler gateway */
    ngx_flag_t                 event_handler;
    ngx_flag_t                 refuse_stray;   /* events outside a gate */
    u_char                    *event_file;     /* where it was turned on */
    ngx_uint_t                 event_line;
    ngx_array_t               *allowed_origins; /* as configured, or NULL */
    ngx_array_t               *origins;        /* of ngx_webpubsub_str_t,
                                                  what is checked */
    ngx_http_webpubsub_event_auth_t
                              *event_auth;     /* NGX_CONF_UNSET_PTR */
    ngx_str_t                  event_auth_pass;

    /* REST through subrequests */
    ngx_str_t                  rest_pass;      /* the subrequests' URI */
    ngx_array_t               *rest_params;    /* name=value, compiled */
    void                      *rest_cache;     /* the last token */
    u_char                    *rest_file;
    ngx_uint_t                 rest_line;
    const ngx_webpubsub_rest_op_t
                              *rest_op;        /* NULL: no webpubsub_rest */
    ngx_webpubsub_rest_tpl_t  *rest_tpl;       /* its path, compiled */
    ngx_webpubsub_token_t     *rest_token_tpl; /* its tokens' claims up
                                                  to the URL (with a key),
                                                  or NULL */
} ngx_http_webpubsub_loc_conf_t;


typedef struct {
    ngx_uint_t                 status;         /* 0 or an error status */
    ngx_uint_t                 refused;        /* its counter, by reason */
    ngx_str_t                  reason;
    ngx_str_t                  hub;
    ngx_str_t                  aud;
    ngx_str_t                  token;
    ngx_str_t                  base_url;
    ngx_str_t                  url;
    ngx_str_t                  answer;     /* the JSON, holding the above */
    ngx_webpubsub_rest_args_t *args;       /* for :generateToken */
    unsigned                   pending:1;  /* the service makes it */
    unsigned                   fetching:1; /* for the variables */
} ngx_http_webpubsub_token_t;


/* a webhook request, once checked; the strings point into its headers */
typedef struct {
    ngx_uint_t                 status;     /* 0: a genuine event */
    ngx_str_t                  reason;
    ngx_str_t                  type;
    ngx_str_t                  name;
    ngx_str_t                  connection_id;
    ngx_str_t                  user_id;
    ngx_str_t                  hub;
    ngx_str_t                  origin;     /* for the log only */
    ngx_uint_t                 refused;    /* why, for the counters */
    unsigned                   authorized:1;  /* its Bearer token too */
} ngx_http_webpubsub_event_t;


/* the answer of a subrequest the module made for itself */
typedef struct {
    ngx_buf_t                 *out;
    unsigned                   complete:1;  /* its last buffer came */
    unsigned                   too_big:1;   /* and was not kept */
} ngx_http_webpubsub_capture_t;


/* what a request has computed, valid for the location conf it names */
typedef struct {
    ngx_http_webpubsub_loc_conf_t  *conf;
    ngx_http_webpubsub_token_t     *token;
    ngx_http_webpubsub_event_t     *event;
    ngx_http_webpubsub_rest_t      *rest;
    void                           *fetch;  /* ..._fetch_ctx_t */
    ngx_str_t                       error;  /* the last refusal's reason,
                                               kept across locations */
} ngx_http_webpubsub_ctx_t;


ngx_http_webpubsub_ctx_t *ngx_http_webpubsub_get_ctx(ngx_http_request_t *r);
ngx_int_t ngx_http_webpubsub_variable(ngx_http_variable_value_t *v,
    ngx_str_t *value);
const char *ngx_http_webpubsub_service_missing(ngx_conf_t *cf,
    ngx_http_webpubsub_loc_conf_t *conf);
ngx_int_t ngx_http_webpubsub_sign(ngx_http_request_t *r,
    ngx_http_webpubsub_loc_conf_t *wlcf, ngx_webpubsub_claims_t *claims,
    ngx_str_t *jwt);
ngx_int_t ngx_http_webpubsub_add_header(ngx_http_request_t *r, char *key,
    char *value);
ngx_int_t ngx_http_webpubsub_send(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *type, ngx_chain_t *body, off_t len);
ngx_int_t ngx_http_webpubsub_send_json(ngx_http_request_t *r,
    ngx_uint_t status, u_char *json, size_t len);
ngx_int_t ngx_http_webpubsub_send_error(ngx_http_request_t *r,
    ngx_uint_t status, ngx_str_t *reason);
ngx_int_t ngx_http_webpubsub_set_error(ngx_http_request_t *r,
    ngx_str_t *reason);
char *ngx_http_webpubsub_check_location(ngx_conf_t *cf,
    ngx_http_webpubsub_loc_conf_t *conf, const char *directive,
    ngx_http_handler_pt handler, u_char *file, ngx_uint_t line,
    const char *missing, ngx_uint_t hub);
ngx_module_t *ngx_http_webpubsub_find_module(ngx_cycle_t *cycle,
    char *name);
ngx_int_t ngx_http_webpubsub_name_value(ngx_conf_t *cf,
    const char *directive, ngx_str_t *arg, ngx_str_t *name,
    ngx_str_t *value);
ngx_http_request_body_t *ngx_http_webpubsub_body(ngx_pool_t *pool,
    ngx_str_t *s);
ngx_int_t ngx_http_webpubsub_read_file(ngx_conf_t *cf, const char *directive,
    ngx_str_t *name, size_t max, ngx_str_t *data, ngx_uint_t *shared);
void ngx_http_webpubsub_warn_shared(ngx_conf_t *cf, const char *directive,
    ngx_str_t *name);
ngx_int_t ngx_http_webpubsub_set_header(ngx_pool_t *pool, ngx_table_elt_t *h,
    ngx_str_t *key, ngx_str_t *value);
ngx_uint_t ngx_http_webpubsub_proxied(ngx_http_upstream_t *u);
ngx_int_t ngx_http_webpubsub_capture(ngx_http_request_t *r, ngx_chain_t *in,
    ngx_http_webpubsub_capture_t *cap, ngx_uint_t active);
ngx_int_t ngx_http_webpubsub_sent(ngx_http_upstream_t *u, ngx_str_t *method,
    ngx_str_t *uri, ngx_str_t *line);
void *ngx_http_webpubsub_create_main_conf(ngx_conf_t *cf);
ngx_int_t ngx_http_webpubsub_eval_hub(ngx_http_request_t *r,
    ngx_http_webpubsub_loc_conf_t *wlcf, ngx_str_t *hub, ngx_str_t *reason);

ngx_int_t ngx_http_webpubsub_token_handler(ngx_http_request_t *r);
char *ngx_http_webpubsub_token_init(ngx_conf_t *cf,
    ngx_http_webpubsub_loc_conf_t *conf);
ngx_int_t ngx_http_webpubsub_token_prefetch(ngx_http_request_t *r);
char *ngx_http_webpubsub_set_token(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_webpubsub_token_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
ngx_webpubsub_token_t *ngx_http_webpubsub_token_template(ngx_conf_t *cf,
    ngx_http_webpubsub_loc_conf_t *conf, ngx_webpubsub_str_t *aud,
    ngx_webpubsub_str_t *roles, size_t nroles, ngx_webpubsub_str_t *groups,
    size_t ngroups);


ngx_int_t ngx_http_webpubsub_event_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_webpubsub_event_init_names(ngx_conf_t *cf);
char *ngx_http_webpubsub_event_handler_flag(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
ngx_int_t ngx_http_webpubsub_event_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
char *ngx_http_webpubsub_allowed_origins(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_webpubsub_event_auth_check(ngx_http_request_t *r,
    ngx_http_webpubsub_loc_conf_t *wlcf, ngx_http_webpubsub_event_t *ev);
char *ngx_http_webpubsub_merge_event(ngx_conf_t *cf,
    ngx_http_webpubsub_loc_conf_t *conf,
    ngx_http_webpubsub_loc_conf_t *prev);


char *ngx_http_webpubsub_rest(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_webpubsub_merge_rest(ngx_conf_t *cf,
    ngx_http_webpubsub_loc_conf_t *conf,
    ngx_http_webpubsub_loc_conf_t *prev);
ngx_int_t ngx_http_webpubsub_rest_init(ngx_conf_t *cf);
ngx_int_t ngx_http_webpubsub_rest_route(ngx_http_request_t *sr);


char *ngx_http_webpubsub_credential(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_webpubsub_event_auth(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_webpubsub_authority_uri(ngx_conf_t *cf,
    const char *directive, ngx_str_t *authority, ngx_str_t *tenant,
    const char *tail, ngx_str_t *uri, size_t *origin_len);
ngx_int_t ngx_http_webpubsub_credential_token(ngx_http_request_t *r,
    ngx_http_webpubsub_loc_conf_t *wlcf, ngx_str_t *token,
    void (*done)(ngx_http_request_t *r));


extern ngx_module_t  ngx_http_webpubsub_module;


#endif /* _NGX_HTTP_WEBPUBSUB_MODULE_H_INCLUDED_ */
