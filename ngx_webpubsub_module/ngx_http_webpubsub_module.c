
/*
 * Copyright (C) ngx_webpubsub_module authors
 *
 * Module definition and the configuration every job shares: the service
 * endpoint, its access keys and the hub.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webpubsub_module.h"
#include "ngx_http_webpubsub_fetch.h"
#include "ngx_http_webpubsub_rest.h"
#include "ngx_http_webpubsub_status.h"


static ngx_int_t ngx_http_webpubsub_add_variables(ngx_conf_t *cf);
static ngx_int_t ngx_http_webpubsub_init(ngx_conf_t *cf);
static void ngx_http_webpubsub_find_trailers(ngx_cycle_t *cycle);
static ngx_uint_t ngx_http_webpubsub_may_trail(ngx_http_request_t *r);
static ngx_int_t ngx_http_webpubsub_preconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_webpubsub_init_module(ngx_cycle_t *cycle);
static void ngx_http_webpubsub_exit_process(ngx_cycle_t *cycle);
static void *ngx_http_webpubsub_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_webpubsub_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_http_webpubsub_set_service(ngx_conf_t *cf,
    ngx_http_webpubsub_loc_conf_t *wlcf, ngx_str_t *url,
    ngx_webpubsub_str_t *port);
static char *ngx_http_webpubsub_add_key(ngx_conf_t *cf,
    ngx_http_webpubsub_loc_conf_t *wlcf, ngx_str_t *key, ngx_uint_t first);
static void ngx_http_webpubsub_free_hmac(void *data);
static char *ngx_http_webpubsub_connection_string(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_webpubsub_endpoint(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_webpubsub_access_key(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_webpubsub_access_key_file(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_webpubsub_hub(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_webpubsub_values(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_webpubsub_protocol(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_webpubsub_ttl_check(ngx_conf_t *cf, void *post,
    void *data);
static ngx_int_t ngx_http_webpubsub_error_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_webpubsub_arg_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static char *ngx_http_webpubsub_pass(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_webpubsub_token_variables(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_webpubsub_check_handler(ngx_conf_t *cf,
    ngx_http_handler_pt handler, const char *directive, u_char *file,
    ngx_uint_t line);


static ngx_conf_post_t  ngx_http_webpubsub_ttl_post =
    { ngx_http_webpubsub_ttl_check };


static ngx_conf_enum_t  ngx_http_webpubsub_protocols[] = {
    { ngx_string("default"), NGX_WEBPUBSUB_PROTOCOL_DEFAULT },
    { ngx_string("mqtt"), NGX_WEBPUBSUB_PROTOCOL_MQTT },
    { ngx_string("socketio"), NGX_WEBPUBSUB_PROTOCOL_SOCKETIO },
    { ngx_null_string, 0 }
};


static ngx_command_t  ngx_http_webpubsub_commands[] = {

    { ngx_string("webpubsub_connection_string"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_webpubsub_connection_string,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("webpubsub_endpoint"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_webpubsub_endpoint,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("webpubsub_access_key"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_webpubsub_access_key,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("webpubsub_access_key_file"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_webpubsub_access_key_file,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("webpubsub_hub"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_webpubsub_hub,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_webpubsub_loc_conf_t, hub),
      NULL },

    { ngx_string("webpubsub_token"),
      NGX_HTTP_LOC_CONF|NGX_HTTP_LIF_CONF|NGX_CONF_NOARGS,
      ngx_http_webpubsub_set_token,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("webpubsub_token_user_id"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_webpubsub_loc_conf_t, user_id),
      NULL },

    { ngx_string("webpubsub_token_roles"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_webpubsub_values,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_webpubsub_loc_conf_t, roles),
      NULL },

    { ngx_string("webpubsub_token_groups"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_webpubsub_values,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_webpubsub_loc_conf_t, groups),
      NULL },

    { ngx_string("webpubsub_token_ttl"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_webpubsub_loc_conf_t, ttl),
      &ngx_http_webpubsub_ttl_post },

    { ngx_string("webpubsub_token_protocol"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_webpubsub_protocol,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_webpubsub_loc_conf_t, protocol),
      &ngx_http_webpubsub_protocols },

    { ngx_string("webpubsub_token_variables"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_http_webpubsub_token_variables,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_webpubsub_loc_conf_t, token_variables),
      NULL },

    { ngx_string("webpubsub_event_handler"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_http_webpubsub_event_handler_flag,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_webpubsub_loc_conf_t, event_handler),
      NULL },

    { ngx_string("webpubsub_refuse_stray_events"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_webpubsub_loc_conf_t, refuse_stray),
      NULL },

    { ngx_string("webpubsub_allowed_origins"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_webpubsub_allowed_origins,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_webpubsub_loc_conf_t, allowed_origins),
      NULL },

    { ngx_string("webpubsub_rest_pass"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_webpubsub_pass,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_webpubsub_loc_conf_t, rest_pass),
      NULL },

    { ngx_string("webpubsub_credential"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_webpubsub_credential,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("webpubsub_credential_pass"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_webpubsub_pass,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_webpubsub_loc_conf_t, credential_pass),
      NULL },

    { ngx_string("webpubsub_event_auth"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_webpubsub_event_auth,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("webpubsub_event_auth_pass"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_webpubsub_pass,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_webpubsub_loc_conf_t, event_auth_pass),
      NULL },

    { ngx_string("webpubsub_rest"),
      NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_webpubsub_rest,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("webpubsub_status"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_webpubsub_status,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


/*
 * What some location of the http block being configured needs, gathered
 * as its locations are merged (after preconfiguration emptied it) and read
 * at postconfiguration: a phase handler no location needs is not
 * installed, and costs other requests nothing.  (Body filters are
 * installed always: their chain is one for the whole process, kept by
 * connections of an older configuration too.)
 */
static ngx_uint_t  ngx_http_webpubsub_uses;

#define NGX_HTTP_WEBPUBSUB_USES_EVENTS    0x01
#define NGX_HTTP_WEBPUBSUB_USES_REST      0x02
#define NGX_HTTP_WEBPUBSUB_USES_PREFETCH  0x04

/*
 * Where the headers filter keeps a location's add_trailer lines: its
 * module, found at start, and the offset its add_trailer directive writes
 * them at (NGX_CONF_UNSET_UINT: an nginx without trailers).
 */
static ngx_module_t  *ngx_http_webpubsub_headers_module;
static ngx_uint_t     ngx_http_webpubsub_trailers_offset;


static ngx_http_module_t  ngx_http_webpubsub_module_ctx = {
    ngx_http_webpubsub_preconfiguration,   /* preconfiguration */
    ngx_http_webpubsub_init,               /* postconfiguration */

    ngx_http_webpubsub_create_main_conf,   /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_webpubsub_create_loc_conf,    /* create location configuration */
    ngx_http_webpubsub_merge_loc_conf      /* merge location configuration */
};


/*
 * The string (which tools/version.sh reads) and the number (from the
 * three parts) must name one release: the build fails otherwise.
 */
#define ngx_http_webpubsub_str(x)   #x
#define ngx_http_webpubsub_xstr(x)  ngx_http_webpubsub_str(x)
#define NGX_HTTP_WEBPUBSUB_PARTS                                             \
    ngx_http_webpubsub_xstr(NGX_HTTP_WEBPUBSUB_MAJOR) "."                     \
    ngx_http_webpubsub_xstr(NGX_HTTP_WEBPUBSUB_MINOR) "."                     \
    ngx_http_webpubsub_xstr(NGX_HTTP_WEBPUBSUB_PATCH)

#if (defined __GNUC__ || defined __clang__)
typedef char  ngx_http_webpubsub_version_check_t[
    (sizeof(NGX_HTTP_WEBPUBSUB_VERSION) == sizeof(NGX_HTTP_WEBPUBSUB_PARTS)
     && __builtin_memcmp(NGX_HTTP_WEBPUBSUB_VERSION, NGX_HTTP_WEBPUBSUB_PARTS,
                         sizeof(NGX_HTTP_WEBPUBSUB_VERSION)) == 0)
    ? 1 : -1];
#endif


ngx_module_t  ngx_http_webpubsub_module = {
    NGX_MODULE_V1,
    &ngx_http_webpubsub_module_ctx,        /* module context */
    ngx_http_webpubsub_commands,           /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    ngx_http_webpubsub_init_module,        /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_webpubsub_exit_process,       /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_http_variable_t  ngx_http_webpubsub_vars[] = {

    { ngx_string("webpubsub_token"), NULL,
      ngx_http_webpubsub_token_variable,
      offsetof(ngx_http_webpubsub_token_t, token),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("webpubsub_client_url"), NULL,
      ngx_http_webpubsub_token_variable,
      offsetof(ngx_http_webpubsub_token_t, url),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("webpubsub_event_type"), NULL,
      ngx_http_webpubsub_event_variable,
      offsetof(ngx_http_webpubsub_event_t, type),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("webpubsub_event_name"), NULL,
      ngx_http_webpubsub_event_variable,
      offsetof(ngx_http_webpubsub_event_t, name),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("webpubsub_connection_id"), NULL,
      ngx_http_webpubsub_event_variable,
      offsetof(ngx_http_webpubsub_event_t, connection_id),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("webpubsub_user_id"), NULL,
      ngx_http_webpubsub_event_variable,
      offsetof(ngx_http_webpubsub_event_t, user_id),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("webpubsub_hub"), NULL,
      ngx_http_webpubsub_event_variable,
      offsetof(ngx_http_webpubsub_event_t, hub),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("webpubsub_error"), NULL,
      ngx_http_webpubsub_error_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("webpubsub_arg_"), NULL,
      ngx_http_webpubsub_arg_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE|NGX_HTTP_VAR_PREFIX, 0 },

      ngx_http_null_variable
};


static ngx_str_t  ngx_http_webpubsub_json_type =
    ngx_string("application/json");


/*
 * The request's ctx for its current location: "rewrite ... last" keeps a
 * ctx but changes the location, and with it the token and the checks.
 */

ngx_http_webpubsub_ctx_t *
ngx_http_webpubsub_get_ctx(ngx_http_request_t *r)
{
    ngx_str_t                       error;
    ngx_http_webpubsub_ctx_t       *ctx;
    ngx_http_webpubsub_loc_conf_t  *wlcf;

    wlcf = ngx_http_get_module_loc_conf(r, ngx_http_webpubsub_module);
    ctx = ngx_http_get_module_ctx(r, ngx_http_webpubsub_module);

    if (ctx == NULL) {
        ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_webpubsub_ctx_t));
        if (ctx == NULL) {
            return NULL;
        }

        ngx_http_set_ctx(r, ctx, ngx_http_webpubsub_module);

    } else if (ctx->conf == wlcf) {
        return ctx;
    }

    error = ctx->error;

    ngx_memzero(ctx, sizeof(ngx_http_webpubsub_ctx_t));
    ctx->conf = wlcf;
    ctx->error = error;

    return ctx;
}


/*
 * $webpubsub_error: the reason of the module's last refusal in a request,
 * for log_format; kept by the main request, which the access log sees.
 */

ngx_int_t
ngx_http_webpubsub_set_error(ngx_http_request_t *r, ngx_str_t *reason)
{
    ngx_http_webpubsub_ctx_t  *ctx;

    ctx = ngx_http_webpubsub_get_ctx(r->main);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    ctx->error = *reason;

    return NGX_OK;
}


static ngx_int_t
ngx_http_webpubsub_error_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_webpubsub_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r->main, ngx_http_webpubsub_module);

    if (ctx == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    return ngx_http_webpubsub_variable(v, &ctx->error);
}


/*
 * A location has one content handler: one set later (proxy_pass after
 * webpubsub_token, say) silently replaces the module's, and one set
 * before is replaced by it.  Either way one of the two is a mistake.
 */

static char *
ngx_http_webpubsub_check_handler(ngx_conf_t *cf, ngx_http_handler_pt handler,
    const char *directive, u_char *file, ngx_uint_t line)
{
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->handler == handler) {
        return NGX_CONF_OK;
    }

    ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                  "\"%s\" directive in %s:%ui shares its location with "
                  "another content handler (proxy_pass, webpubsub_token, "
                  "webpubsub_rest, ...): keep one of them",
                  directive, file, line);

    return NGX_CONF_ERROR;
}


/* a value of the ctx as a variable: not found where it is unset */

ngx_int_t
ngx_http_webpubsub_variable(ngx_http_variable_value_t *v, ngx_str_t *value)
{
    if (value->data == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->data = value->data;
    v->len = value->len;
    v->valid = 1;
    v->not_found = 0;

    return NGX_OK;
}


/* a JWT of these claims, signed with the first key */

ngx_int_t
ngx_http_webpubsub_sign(ngx_http_request_t *r,
    ngx_http_webpubsub_loc_conf_t *wlcf, ngx_webpubsub_claims_t *claims,
    ngx_str_t *jwt)
{
    u_char                    *payload;
    size_t                     plen;
    ngx_http_webpubsub_key_t  *key;

    plen = ngx_webpubsub_client_claims_length(claims);

    payload = ngx_pnalloc(r->pool, plen);
    if (payload == NULL) {
        return NGX_ERROR;
    }

    ngx_webpubsub_client_claims(payload, claims);

    jwt->data = ngx_pnalloc(r->pool, ngx_webpubsub_jwt_length(plen));
    if (jwt->data == NULL) {
        return NGX_ERROR;
    }

    key = wlcf->keys->elts;

    if (ngx_webpubsub_jwt_sign(jwt->data, &jwt->len, payload, plen,
                               key[0].hmac)
        != 0)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "webpubsub: HMAC-SHA256 failed");
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* a header of a request the module makes, in pool */

ngx_int_t
ngx_http_webpubsub_set_header(ngx_pool_t *pool, ngx_table_elt_t *h,
    ngx_str_t *key, ngx_str_t *value)
{
    size_t  i;

    h->key = *key;
    h->value = *value;

    h->lowcase_key = ngx_pnalloc(pool, h->key.len);
    if (h->lowcase_key == NULL) {
        return NGX_ERROR;
    }

    h->hash = 0;

    for (i = 0; i < h->key.len; i++) {
        h->lowcase_key[i] = ngx_tolower(h->key.data[i]);
        h->hash = ngx_hash(h->hash, h->lowcase_key[i]);
    }

#if (nginx_version >= 1023000)
    h->next = NULL;
#endif

    return NGX_OK;
}


/* its line names the :generateToken calls it makes without a key */

static char *
ngx_http_webpubsub_token_variables(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_webpubsub_loc_conf_t *wlcf = conf;

    char  *rv;

    rv = ngx_conf_set_flag_slot(cf, cmd, conf);

    if (rv == NGX_CONF_OK) {
        wlcf->variables_file = cf->conf_file->file.name.data;
        wlcf->variables_line = cf->conf_file->line;
    }

    return rv;
}


/*
 * webpubsub_rest_pass, webpubsub_credential_pass, webpubsub_event_auth_pass:
 * the URI of an internal location, whose name a subrequest must match
 * exactly.
 */

static char *
ngx_http_webpubsub_pass(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_str_t  *value, *pass;

    pass = (ngx_str_t *) ((char *) conf + cmd->offset);

    if (pass->data != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 0 || value[1].data[0] != '/') {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" directive: \"%V\" is not a URI that "
                           "starts with \"/\"", &cmd->name, &value[1]);
        return NGX_CONF_ERROR;
    }

    if (ngx_strlchr(value[1].data, value[1].data + value[1].len, '?')
        != NULL)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" directive: \"%V\" must not have a query",
                           &cmd->name, &value[1]);
        return NGX_CONF_ERROR;
    }

    *pass = value[1];

    return NGX_CONF_OK;
}


ngx_int_t
ngx_http_webpubsub_add_header(ngx_http_request_t *r, char *key, char *value)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    h->key.data = (u_char *) key;
    h->key.len = ngx_strlen(key);
    h->value.data = (u_char *) value;
    h->value.len = ngx_strlen(value);
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif

    return NGX_OK;
}


/*
 * Every answer the module makes itself: the status, a type, Cache-Control
 * no-store (tokens, and what the service says of connections, are for no
 * cache) and a body of len bytes in a chain, or none; sent as
 * ngx_http_send_response() sends one.
 */

ngx_int_t
ngx_http_webpubsub_send(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *type, ngx_chain_t *body, off_t len)
{
    ngx_int_t     rc;
    ngx_chain_t  *cl;

    if (ngx_http_webpubsub_add_header(r, "Cache-Control", "no-store")
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->headers_out.status = status;
    r->headers_out.content_length_n = len;

    if (type != NULL) {
        r->headers_out.content_type = *type;
        r->headers_out.content_type_len = type->len;
    }

    /*
     * No body (a REST call's 202): the header is the whole answer, sent
     * in one pass of the filters rather than two, where nothing needs
     * the body filters' pass: no trailers, which make nginx send it
     * chunked and then need its last chunk; no subrequest still waiting
     * in r's output, which that pass would wake; and not a 200, which
     * the addition filter may wrap in a body of its own.
     */

    if (body == NULL && len == 0 && status != NGX_HTTP_OK
        && r == r->main && r == r->connection->data
        && r->postponed == NULL
        && !ngx_http_webpubsub_may_trail(r))
    {
        r->header_only = 1;
    }

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    if (body == NULL) {
        return ngx_http_send_special(r, NGX_HTTP_LAST);
    }

    for (cl = body; cl->next; cl = cl->next) {
        /* void */
    }

    cl->buf->last_buf = (r == r->main) ? 1 : 0;
    cl->buf->last_in_chain = 1;

    return ngx_http_output_filter(r, body);
}


/*
 * Whether r's answer may get trailers: add_trailer in its location, the
 * one way nginx sets r->expect_trailers, which makes even an answer of
 * Content-Length 0 go out chunked.  Read where add_trailer writes them;
 * without the headers filter to ask, assume so.
 */

static ngx_uint_t
ngx_http_webpubsub_may_trail(ngx_http_request_t *r)
{
    u_char  *conf;

    if (ngx_http_webpubsub_headers_module == NULL) {
        return 1;
    }

    if (ngx_http_webpubsub_trailers_offset == NGX_CONF_UNSET_UINT) {
        return 0;
    }

    conf = r->loc_conf[ngx_http_webpubsub_headers_module->ctx_index];

    return *(ngx_array_t **) (conf + ngx_http_webpubsub_trailers_offset)
           != NULL;
}


static void
ngx_http_webpubsub_find_trailers(ngx_cycle_t *cycle)
{
    ngx_command_t  *cmd;

    ngx_http_webpubsub_trailers_offset = NGX_CONF_UNSET_UINT;
    ngx_http_webpubsub_headers_module =
        ngx_http_webpubsub_find_module(cycle,
                                       "ngx_http_headers_filter_module");

    if (ngx_http_webpubsub_headers_module == NULL) {
        return;
    }

    for (cmd = ngx_http_webpubsub_headers_module->commands;
         cmd->name.len;
         cmd++)
    {
        if (cmd->name.len == sizeof("add_trailer") - 1
            && ngx_strncmp(cmd->name.data, "add_trailer",
                           sizeof("add_trailer") - 1)
               == 0)
        {
            if (cmd->conf == NGX_HTTP_LOC_CONF_OFFSET) {
                ngx_http_webpubsub_trailers_offset = cmd->offset;

            } else {
                /* not where it is looked for: assume trailers */
                ngx_http_webpubsub_headers_module = NULL;
            }

            return;
        }
    }
}


ngx_int_t
ngx_http_webpubsub_send_json(ngx_http_request_t *r, ngx_uint_t status,
    u_char *json, size_t len)
{
    ngx_buf_t    *b;
    ngx_chain_t   out;

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->pos = json;
    b->last = json + len;
    b->memory = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_webpubsub_send(r, status, &ngx_http_webpubsub_json_type,
                                   &out, len);
}


ngx_int_t
ngx_http_webpubsub_send_error(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *reason)
{
    u_char  *json, *p;
    size_t   len;

    len = sizeof("{\"error\":\"\"}") - 1
          + ngx_webpubsub_json_escape_length(reason->data, reason->len);

    json = ngx_pnalloc(r->pool, len);
    if (json == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_webpubsub_set_error(r, reason) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_cpymem(json, "{\"error\":\"", sizeof("{\"error\":\"") - 1);
    p = ngx_webpubsub_json_escape(p, reason->data, reason->len);
    *p++ = '"';
    *p++ = '}';

    return ngx_http_webpubsub_send_json(r, status, json, len);
}


/* a new http block: nothing is needed yet */

static ngx_int_t
ngx_http_webpubsub_preconfiguration(ngx_conf_t *cf)
{
    ngx_http_webpubsub_uses = 0;

    return ngx_http_webpubsub_add_variables(cf);
}


static ngx_int_t
ngx_http_webpubsub_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_webpubsub_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


/*
 * Once per configuration load that succeeds (in the master, in single
 * process mode, and for nginx -t and nginx -s too): which release of the
 * module a binary loaded is what an operator asks first when behaviour
 * differs between two hosts; and where this configuration's counters are.
 */

static ngx_int_t
ngx_http_webpubsub_init_module(ngx_cycle_t *cycle)
{
    ngx_log_error(NGX_LOG_NOTICE, cycle->log, 0,
                  "ngx_http_webpubsub_module/" NGX_HTTP_WEBPUBSUB_VERSION);

    ngx_http_webpubsub_status_init_cycle(cycle);

    return NGX_OK;
}


/* a worker's kept call pools go back before it exits */

static void
ngx_http_webpubsub_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_webpubsub_rest_exit_process();
}


static ngx_int_t
ngx_http_webpubsub_init(ngx_conf_t *cf)
{
    ngx_uint_t                  i, n;
    ngx_http_handler_pt         handlers[3];
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    if (ngx_http_webpubsub_event_init_names(cf) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_http_webpubsub_find_trailers(cf->cycle);

    /* before the rewrite module's: "return" may use the variables */

    if (ngx_http_webpubsub_uses & NGX_HTTP_WEBPUBSUB_USES_PREFETCH) {
        h = ngx_array_push(&cmcf->phases[NGX_HTTP_REWRITE_PHASE].handlers);
        if (h == NULL) {
            return NGX_ERROR;
        }

        *h = ngx_http_webpubsub_token_prefetch;
    }

    /*
     * These run in the precontent phase, after the access phase: "satisfy
     * any" can let an access handler's allow skip the others, and neither
     * a forged event nor a misrouted REST token may get through that way.
     */

    n = 0;

    if (ngx_http_webpubsub_uses & NGX_HTTP_WEBPUBSUB_USES_EVENTS) {
        handlers[n++] = ngx_http_webpubsub_event_handler;
    }

    if (ngx_http_webpubsub_uses & NGX_HTTP_WEBPUBSUB_USES_REST) {
        handlers[n++] = ngx_http_webpubsub_rest_route;
    }

    if (ngx_http_webpubsub_fetch_used(cf)) {
        handlers[n++] = ngx_http_webpubsub_fetch_route;
    }

    for (i = 0; i < n; i++) {
        h = ngx_array_push(&cmcf->phases[NGX_HTTP_PRECONTENT_PHASE].handlers);
        if (h == NULL) {
            return NGX_ERROR;
        }

        *h = handlers[i];
    }

    if (ngx_http_webpubsub_fetch_init(cf) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_webpubsub_rest_init(cf);
}


static void *
ngx_http_webpubsub_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_webpubsub_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_webpubsub_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->endpoint = NULL;
     *     conf->client_base = { 0, NULL };
     *     conf->keys = NULL;
     *     conf->token = 0;
     *     conf->token_file = NULL;
     *     conf->token_line = 0;
     *     conf->hub = NULL;
     *     conf->user_id = NULL;
     *
     * NULL, not NGX_CONF_UNSET_PTR, is "not set" for the complex values of
     * ngx_http_set_complex_value_slot(): before nginx 1.21.0 it takes any
     * other value for a duplicate.
     */

    conf->roles = NGX_CONF_UNSET_PTR;
    conf->groups = NGX_CONF_UNSET_PTR;
    conf->ttl = NGX_CONF_UNSET;
    conf->protocol = NGX_CONF_UNSET_UINT;
    conf->event_handler = NGX_CONF_UNSET;
    conf->refuse_stray = NGX_CONF_UNSET;
    conf->allowed_origins = NGX_CONF_UNSET_PTR;
    conf->event_auth = NGX_CONF_UNSET_PTR;
    conf->token_variables = NGX_CONF_UNSET;

    return conf;
}


static char *
ngx_http_webpubsub_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_webpubsub_loc_conf_t *prev = parent;
    ngx_http_webpubsub_loc_conf_t *conf = child;

    ngx_http_core_loc_conf_t  *clcf;

    /*
     * The endpoint and its keys are one service and are inherited as one:
     * a level that names either takes nothing of the other from above,
     * so that no key ever signs for another resource's endpoint.
     */

    if (conf->endpoint == NULL && conf->keys == NULL
        && conf->credential == NULL)
    {
        conf->endpoint = prev->endpoint;
        conf->client_base = prev->client_base;
        conf->keys = prev->keys;
        conf->credential = prev->credential;
        conf->endpoint_file = prev->endpoint_file;
        conf->endpoint_line = prev->endpoint_line;
        conf->key_file = prev->key_file;
        conf->key_line = prev->key_line;
    }

    ngx_conf_merge_str_value(conf->credential_pass, prev->credential_pass,
                             "");
    if (conf->token_variables == NGX_CONF_UNSET) {
        conf->variables_file = prev->variables_file;
        conf->variables_line = prev->variables_line;
    }

    ngx_conf_merge_value(conf->token_variables, prev->token_variables, 0);

    if (conf->hub == NULL) {
        conf->hub = prev->hub;
    }

    if (conf->user_id == NULL) {
        conf->user_id = prev->user_id;
    }

    ngx_conf_merge_ptr_value(conf->roles, prev->roles, NULL);
    ngx_conf_merge_ptr_value(conf->groups, prev->groups, NULL);
    ngx_conf_merge_sec_value(conf->ttl, prev->ttl, 3600);
    ngx_conf_merge_uint_value(conf->protocol, prev->protocol,
                              NGX_WEBPUBSUB_PROTOCOL_DEFAULT);

    if (ngx_http_webpubsub_merge_event(cf, conf, prev) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_webpubsub_merge_rest(cf, conf, prev) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    if (conf->event_handler || conf->refuse_stray) {
        ngx_http_webpubsub_uses |= NGX_HTTP_WEBPUBSUB_USES_EVENTS;
    }

    /*
     * REST subrequests: of REST locations, and the :generateToken calls
     * of negotiate without a key (with one, it signs tokens itself)
     */

    if (conf->rest_op != NULL
        || ((conf->token || conf->token_variables) && conf->keys == NULL))
    {
        ngx_http_webpubsub_uses |= NGX_HTTP_WEBPUBSUB_USES_REST;
    }

    if (conf->token_variables && conf->keys == NULL) {
        ngx_http_webpubsub_uses |= NGX_HTTP_WEBPUBSUB_USES_PREFETCH;
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (prev->token && clcf->lmt_excpt && clcf->handler == NULL) {
        /*
         * A "limit_except" block is given its location's content handler,
         * as proxy_pass's are ("if" blocks keep it): its tokens are made
         * from the settings it inherits.
         */
        clcf->handler = ngx_http_webpubsub_token_handler;
    }

    if (!conf->token) {
        if (conf->token_variables && conf->rest_op == NULL) {
            /* its :generateToken calls are named by this line */
            conf->rest_file = conf->variables_file;
            conf->rest_line = conf->variables_line;
        }

        return NGX_CONF_OK;
    }

    if (conf->rest_op == NULL) {
        /* without a key, its :generateToken calls are named by this line */
        conf->rest_file = conf->token_file;
        conf->rest_line = conf->token_line;
    }

    if (ngx_http_webpubsub_check_location(cf, conf, "webpubsub_token",
                                          ngx_http_webpubsub_token_handler,
                                          conf->token_file,
                                          conf->token_line, NULL, 1)
        != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    return ngx_http_webpubsub_token_init(cf, conf);
}


/*
 * What a content handler of the module needs at its level, checked once
 * for all of them: to be the location's only content handler, then what
 * the directive itself lacks ("missing", or NULL), a whole service and,
 * where it names one, a hub.  One [emerg] line names the directive's line.
 */

char *
ngx_http_webpubsub_check_location(ngx_conf_t *cf,
    ngx_http_webpubsub_loc_conf_t *conf, const char *directive,
    ngx_http_handler_pt handler, u_char *file, ngx_uint_t line,
    const char *missing, ngx_uint_t hub)
{
    if (ngx_http_webpubsub_check_handler(cf, handler, directive, file, line)
        != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (missing == NULL) {
        missing = ngx_http_webpubsub_service_missing(cf, conf);
    }

    if (missing == NULL && hub && conf->hub == NULL) {
        missing = "no webpubsub_hub configured";
    }

    if (missing == NULL) {
        return NGX_CONF_OK;
    }

    ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                  "\"%s\" directive has %s in %s:%ui",
                  directive, missing, file, line);

    return NGX_CONF_ERROR;
}


/*
 * Another module of this nginx, by its name: a dynamic module cannot link
 * to them, and some may be left out of the build.  NULL if absent.
 */

ngx_module_t *
ngx_http_webpubsub_find_module(ngx_cycle_t *cycle, char *name)
{
    ngx_uint_t  i;

    for (i = 0; cycle->modules[i]; i++) {
        if (ngx_strcmp(cycle->modules[i]->name, name) == 0) {
            return cycle->modules[i];
        }
    }

    return NULL;
}


/*
 * The request's hub for a token or a REST call: NGX_OK, NGX_DECLINED with
 * the reason of a 400, or NGX_ERROR.  The hub itself is not echoed in the
 * reason: it may hold anything.
 */

ngx_int_t
ngx_http_webpubsub_eval_hub(ngx_http_request_t *r,
    ngx_http_webpubsub_loc_conf_t *wlcf, ngx_str_t *hub, ngx_str_t *reason)
{
    const char  *err;

    if (wlcf->hub->lengths == NULL) {
        /* a constant, checked by the directive */
        *hub = wlcf->hub->value;
        return NGX_OK;
    }

    if (ngx_http_complex_value(r, wlcf->hub, hub) != NGX_OK) {
        return NGX_ERROR;
    }

    err = ngx_webpubsub_check_hub(hub->data, hub->len);
    if (err == NULL) {
        return NGX_OK;
    }

    reason->len = sizeof("invalid hub name: ") - 1 + ngx_strlen(err);

    reason->data = ngx_pnalloc(r->pool, reason->len);
    if (reason->data == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(reason->data, "invalid hub name: %s", err);

    return NGX_DECLINED;
}


/*
 * What a level lacks to call the service, or NULL.  A half of the service
 * alone on a level is named with its line: the other half is usually
 * inherited from another level, where it does not count.
 */

const char *
ngx_http_webpubsub_service_missing(ngx_conf_t *cf,
    ngx_http_webpubsub_loc_conf_t *conf)
{
    u_char      *msg, *last, *file;
    size_t       len;
    ngx_uint_t   line;
    const char  *fmt, *fallback;

    if (conf->endpoint == NULL && conf->keys != NULL) {
        fmt = "an access key (set in %s:%ui) but no webpubsub_endpoint "
              "on the same level";
        fallback = "an access key but no webpubsub_endpoint on the same "
                   "level";
        file = conf->key_file;
        line = conf->key_line;

    } else if (conf->endpoint == NULL && conf->credential != NULL) {
        fmt = "a webpubsub_credential (set in %s:%ui) but no "
              "webpubsub_endpoint on the same level";
        fallback = "a webpubsub_credential but no webpubsub_endpoint on "
                   "the same level";
        file = conf->key_file;
        line = conf->key_line;

    } else if (conf->endpoint == NULL) {
        return "no webpubsub_endpoint or webpubsub_connection_string "
               "configured";

    } else if (conf->keys == NULL && conf->credential == NULL) {
        fmt = "an endpoint (set in %s:%ui) but no webpubsub_access_key, "
              "webpubsub_access_key_file or webpubsub_credential on the "
              "same level";
        fallback = "an endpoint but no webpubsub_access_key, "
                   "webpubsub_access_key_file or webpubsub_credential on "
                   "the same level";
        file = conf->endpoint_file;
        line = conf->endpoint_line;

    } else if (conf->keys != NULL && conf->credential != NULL) {
        return "both an access key and a webpubsub_credential on the same "
               "level: a resource has one or the other, keep one";

    } else if (conf->keys == NULL && conf->credential_pass.len == 0) {
        return "a webpubsub_credential but no webpubsub_credential_pass "
               "configured";

    } else {
        return NULL;
    }

    if (file == NULL) {
        return fallback;
    }

    len = ngx_strlen(fmt) + ngx_strlen(file) + NGX_INT_T_LEN + 1;

    msg = ngx_pnalloc(cf->pool, len);
    if (msg == NULL) {
        return fallback;
    }

    last = ngx_snprintf(msg, len - 1, fmt, file, line);
    *last = '\0';

    return (const char *) msg;
}


static char *
ngx_http_webpubsub_set_service(ngx_conf_t *cf,
    ngx_http_webpubsub_loc_conf_t *wlcf, ngx_str_t *url,
    ngx_webpubsub_str_t *port)
{
    u_char                    *msg, *last;
    size_t                     n, len;
    const char                *err;
    ngx_webpubsub_endpoint_t  *ep;
    u_char                     fix[NGX_WEBPUBSUB_ENDPOINT_MAX];

    if (wlcf->endpoint != NULL) {
        return "is duplicate: this level already has an endpoint";
    }

    /*
     * An endpoint that parses may still be no service's: say what to give
     * instead, as the mistake would show only as failed connections.
     */

    err = ngx_webpubsub_endpoint_mistake(url->data, url->len, port, fix, &n);

    if (err != NULL) {
        len = ngx_strlen(err) + sizeof(": use \"\"") + n;

        msg = ngx_pnalloc(cf->pool, len);
        if (msg == NULL) {
            return NGX_CONF_ERROR;
        }

        last = ngx_snprintf(msg, len - 1, "%s: use \"%*s\"", err, n, fix);
        *last = '\0';

        return (char *) msg;
    }

    ep = ngx_pcalloc(cf->pool, sizeof(ngx_webpubsub_endpoint_t));
    if (ep == NULL) {
        return NGX_CONF_ERROR;
    }

    err = ngx_webpubsub_parse_endpoint(url->data, url->len, port, ep);
    if (err != NULL) {
        return (char *) err;
    }

    wlcf->client_base.data = ngx_pnalloc(cf->pool, ep->len);
    if (wlcf->client_base.data == NULL) {
        return NGX_CONF_ERROR;
    }

    n = ngx_webpubsub_client_base_url(ep, wlcf->client_base.data);
    wlcf->client_base.len = n;

    wlcf->endpoint = ep;
    wlcf->endpoint_file = cf->conf_file->file.name.data;
    wlcf->endpoint_line = cf->conf_file->line;

    return NGX_CONF_OK;
}


static char *
ngx_http_webpubsub_add_key(ngx_conf_t *cf,
    ngx_http_webpubsub_loc_conf_t *wlcf, ngx_str_t *key, ngx_uint_t first)
{
    ngx_pool_cleanup_t        *cln;
    ngx_webpubsub_str_t        skey;
    ngx_webpubsub_hmac_t      *hmac;
    ngx_http_webpubsub_key_t  *k;

    if (key->len == 0) {
        return "has an empty key";
    }

    if (key->len > NGX_WEBPUBSUB_KEY_MAX) {
        return "has a key longer than 4096 bytes";
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_CONF_ERROR;
    }

    skey.data = key->data;
    skey.len = key->len;

    hmac = ngx_webpubsub_hmac_new(&skey);
    if (hmac == NULL) {
        return "cannot prepare the key for HMAC-SHA256";
    }

    /* OpenSSL's memory goes with the configuration, at reload or exit */
    cln->handler = ngx_http_webpubsub_free_hmac;
    cln->data = hmac;

    if (wlcf->keys == NULL) {
        wlcf->keys = ngx_array_create(cf->pool, 2,
                                      sizeof(ngx_http_webpubsub_key_t));
        if (wlcf->keys == NULL) {
            return NGX_CONF_ERROR;
        }

        wlcf->key_file = cf->conf_file->file.name.data;
        wlcf->key_line = cf->conf_file->line;
    }

    k = ngx_array_push(wlcf->keys);
    if (k == NULL) {
        return NGX_CONF_ERROR;
    }

    /* a connection string's key signs, whatever order the lines are in */
    if (first && wlcf->keys->nelts > 1) {
        k = wlcf->keys->elts;
        ngx_memmove(&k[1], &k[0],
                    (wlcf->keys->nelts - 1) * sizeof(ngx_http_webpubsub_key_t));
    }

    k->key = *key;
    k->hmac = hmac;

    return NGX_CONF_OK;
}


static void
ngx_http_webpubsub_free_hmac(void *data)
{
    ngx_webpubsub_hmac_free(data);
}


static char *
ngx_http_webpubsub_connection_string(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_webpubsub_loc_conf_t *wlcf = conf;

    char                      *rv;
    ngx_str_t                 *value, url, key;
    const char                *err;
    ngx_webpubsub_conn_str_t   cs;

    value = cf->args->elts;

    err = ngx_webpubsub_parse_connection_string(value[1].data, value[1].len,
                                                &cs);

    /*
     * Unquoted, a connection string ends at its first ";" for nginx, and
     * the rest becomes an unknown directive: this line comes first, so
     * it says why half of the string is missing.
     */

    if (err != NULL
        && ngx_strncmp(err, "has no ", 7) == 0
        && ngx_strlchr(value[1].data, value[1].data + value[1].len, ';')
           == NULL
        && ngx_strlchr(value[1].data, value[1].data + value[1].len, '=')
           != NULL)
    {
        return cs.endpoint.len == 0
               ? "has no Endpoint: nginx ends a directive at the first "
                 "\";\", so quote the whole connection string"
               : "has no AccessKey: nginx ends a directive at the first "
                 "\";\", so quote the whole connection string (one without "
                 "a key ends in \";Version=1.0\")";
    }

    /*
     * Without an AccessKey, "Endpoint=...;Version=1.0" is the key-less
     * form that the Functions extension and the ASP.NET Core SDK accept:
     * the endpoint alone, for a webpubsub_credential on the same level.
     */

    if (err != NULL && ngx_strcmp(err, "has no AccessKey") != 0) {
        return (char *) err;
    }

    if (err != NULL && cs.access_key.data != NULL) {
        return "has an empty AccessKey: give the key, or leave AccessKey "
               "out for a resource without keys (webpubsub_credential)";
    }

    url.data = (u_char *) cs.endpoint.data;
    url.len = cs.endpoint.len;

    rv = ngx_http_webpubsub_set_service(cf, wlcf, &url, &cs.port);
    if (rv != NGX_CONF_OK || err != NULL) {
        return rv;
    }

    key.data = (u_char *) cs.access_key.data;
    key.len = cs.access_key.len;

    return ngx_http_webpubsub_add_key(cf, wlcf, &key, 1);
}


static char *
ngx_http_webpubsub_endpoint(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_webpubsub_loc_conf_t *wlcf = conf;

    ngx_str_t  *value;

    value = cf->args->elts;

    return ngx_http_webpubsub_set_service(cf, wlcf, &value[1], NULL);
}


static char *
ngx_http_webpubsub_access_key(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_webpubsub_loc_conf_t *wlcf = conf;

    ngx_str_t  *value;

    value = cf->args->elts;

    return ngx_http_webpubsub_add_key(cf, wlcf, &value[1], 0);
}


static char *
ngx_http_webpubsub_access_key_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_webpubsub_loc_conf_t *wlcf = conf;

    char                 *rv;
    ngx_str_t            *value, name, data, key;
    ngx_uint_t            shared;
    const char           *err;
    ngx_webpubsub_str_t   skey;

    value = cf->args->elts;
    name = value[1];

    if (ngx_http_webpubsub_read_file(cf, "webpubsub_access_key_file", &name,
                                     NGX_HTTP_WEBPUBSUB_KEY_FILE_MAX, &data,
                                     &shared)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    err = ngx_webpubsub_key_file(data.data, data.len, &skey);
    if (err != NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"webpubsub_access_key_file\" directive: \"%V\" "
                           "%s", &name, err);
        return NGX_CONF_ERROR;
    }

    key.data = data.data;
    key.len = skey.len;

    rv = ngx_http_webpubsub_add_key(cf, wlcf, &key, 0);

    if (rv == NGX_CONF_OK && shared) {
        ngx_http_webpubsub_warn_shared(cf, "webpubsub_access_key_file",
                                       &name);
    }

    return rv;
}


/*
 * A "name=value" argument of a directive, both parts non-empty: NGX_OK,
 * or NGX_ERROR once an [emerg] line names the directive and the argument.
 */

ngx_int_t
ngx_http_webpubsub_name_value(ngx_conf_t *cf, const char *directive,
    ngx_str_t *arg, ngx_str_t *name, ngx_str_t *value)
{
    u_char  *eq;

    eq = ngx_strlchr(arg->data, arg->data + arg->len, '=');

    if (eq == NULL || eq == arg->data || eq + 1 == arg->data + arg->len) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%s\" directive: \"%V\" is not name=value",
                           directive, arg);
        return NGX_ERROR;
    }

    name->data = arg->data;
    name->len = eq - arg->data;
    value->data = eq + 1;
    value->len = arg->data + arg->len - value->data;

    return NGX_OK;
}


/*
 * An in-memory request body of a subrequest the module makes: the bytes
 * of s, in one buffer, in pool.
 */

ngx_http_request_body_t *
ngx_http_webpubsub_body(ngx_pool_t *pool, ngx_str_t *s)
{
    ngx_http_request_body_t  *rb;

    rb = ngx_pcalloc(pool, sizeof(ngx_http_request_body_t));
    if (rb == NULL) {
        return NULL;
    }

    rb->bufs = ngx_alloc_chain_link(pool);
    if (rb->bufs == NULL) {
        return NULL;
    }

    rb->bufs->buf = ngx_calloc_buf(pool);
    if (rb->bufs->buf == NULL) {
        return NULL;
    }

    rb->bufs->next = NULL;
    rb->bufs->buf->pos = s->data;
    rb->bufs->buf->last = s->data + s->len;
    rb->bufs->buf->memory = 1;
    rb->bufs->buf->last_buf = 1;

    return rb;
}


/*
 * A secret's file, read whole at configuration time into cf->pool (with
 * a byte to spare past its end): NGX_OK, or NGX_ERROR once an [emerg]
 * line names the directive, the file and what is wrong with it.  name
 * becomes the full path.  *shared tells that every user may read it.
 */

ngx_int_t
ngx_http_webpubsub_read_file(ngx_conf_t *cf, const char *directive,
    ngx_str_t *name, size_t max, ngx_str_t *data, ngx_uint_t *shared)
{
    off_t             size;
    ssize_t           n;
    ngx_fd_t          fd;
    ngx_int_t         rc;
    const char       *kind;
    ngx_file_info_t   fi;

    if (ngx_conf_full_name(cf->cycle, name, 1) != NGX_OK) {
        return NGX_ERROR;
    }

    /*
     * O_NONBLOCK: opening a FIFO for reading would wait for a writer, and
     * "nginx -t" with it; the type is checked on what was opened.
     */

    fd = ngx_open_file(name->data, NGX_FILE_RDONLY|NGX_FILE_NONBLOCK,
                       NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "\"%s\" directive cannot open \"%V\"",
                           directive, name);
        return NGX_ERROR;
    }

    rc = NGX_ERROR;

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "\"%s\" directive cannot stat \"%V\"",
                           directive, name);
        goto done;
    }

    if (!ngx_is_file(&fi)) {
        kind = ngx_is_dir(&fi) ? "a directory"
               : S_ISFIFO(fi.st_mode) ? "a FIFO"
               : "a device or other special file";

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%s\" directive: \"%V\" is not a regular "
                           "file of at most %uz bytes but %s",
                           directive, name, max, kind);
        goto done;
    }

    size = ngx_file_size(&fi);

    /* a secret's file is no place for anything large */

    if (size > (off_t) max) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%s\" directive: \"%V\" is not a regular "
                           "file of at most %uz bytes but has %O bytes",
                           directive, name, max, size);
        goto done;
    }

    data->data = ngx_pnalloc(cf->pool, size + 1);
    if (data->data == NULL) {
        goto done;
    }

    n = ngx_read_fd(fd, data->data, size + 1);
    if (n == -1) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "\"%s\" directive cannot read \"%V\"",
                           directive, name);
        goto done;
    }

    data->len = n;
    *shared = (ngx_file_access(&fi) & S_IROTH) ? 1 : 0;
    rc = NGX_OK;

done:

    if (ngx_close_file(fd) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_ALERT, cf, ngx_errno,
                           ngx_close_file_n " \"%V\" failed", name);
    }

    return rc;
}


void
ngx_http_webpubsub_warn_shared(ngx_conf_t *cf, const char *directive,
    ngx_str_t *name)
{
    ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                       "\"%s\" directive: \"%V\" is readable by every "
                       "user of this host, restrict it with \"chmod 600\" "
                       "or \"chmod 640\"", directive, name);
}


static char *
ngx_http_webpubsub_hub(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char                      *rv;
    ngx_str_t                 *value;
    const char                *err;
    ngx_http_complex_value_t  *cv;

    rv = ngx_http_set_complex_value_slot(cf, cmd, conf);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    cv = *(ngx_http_complex_value_t **) ((char *) conf + cmd->offset);

    if (cv->lengths != NULL) {
        /* checked per request, where the value is known */
        return NGX_CONF_OK;
    }

    err = ngx_webpubsub_check_hub(cv->value.data, cv->value.len);
    if (err != NULL) {
        value = cf->args->elts;
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"webpubsub_hub\" directive: hub name \"%V\" %s",
                           &value[1], err);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_webpubsub_values(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_array_t                       **a;
    ngx_str_t                          *value;
    ngx_uint_t                          i;
    ngx_http_complex_value_t           *cv;
    ngx_http_compile_complex_value_t    ccv;

    a = (ngx_array_t **) ((char *) conf + cmd->offset);

    if (*a != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    *a = ngx_array_create(cf->pool, cf->args->nelts - 1,
                          sizeof(ngx_http_complex_value_t));
    if (*a == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        cv = ngx_array_push(*a);
        if (cv == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

        ccv.cf = cf;
        ccv.value = &value[i];
        ccv.complex_value = cv;

        if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


/*
 * ngx_conf_set_enum_slot(), once the value is known to be one of the
 * protocols: its own message says only "invalid value", without the
 * directive or what it takes.
 */

static char *
ngx_http_webpubsub_protocol(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_str_t        *value;
    ngx_uint_t        i;
    ngx_conf_enum_t  *e;

    value = cf->args->elts;

    for (e = cmd->post, i = 0; e[i].name.len; i++) {
        if (e[i].name.len == value[1].len
            && ngx_strcmp(e[i].name.data, value[1].data) == 0)
        {
            return ngx_conf_set_enum_slot(cf, cmd, conf);
        }
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "\"webpubsub_token_protocol\" directive: unknown "
                       "protocol \"%V\", it must be \"default\", "
                       "\"mqtt\" or \"socketio\"", &value[1]);

    return NGX_CONF_ERROR;
}


static char *
ngx_http_webpubsub_ttl_check(ngx_conf_t *cf, void *post, void *data)
{
    time_t  *ttl = data;

    if (*ttl <= 0) {
        return "must be more than 0";
    }

    if (*ttl > NGX_HTTP_WEBPUBSUB_TTL_MAX) {
        return "must not be more than 365d";
    }

    return NGX_CONF_OK;
}


/*
 * $webpubsub_arg_NAME: the query argument NAME as a form decodes it, so
 * that "?room=room%201" names the group "room 1" ($arg_room is raw).
 */

static ngx_int_t
ngx_http_webpubsub_arg_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t  *name = (ngx_str_t *) data;

    u_char     *p;
    ngx_str_t   value;

    if (ngx_http_arg(r, name->data + sizeof("webpubsub_arg_") - 1,
                     name->len - (sizeof("webpubsub_arg_") - 1), &value)
        != NGX_OK)
    {
        v->not_found = 1;
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, value.len);
    if (p == NULL && value.len) {
        return NGX_ERROR;
    }

    v->len = ngx_webpubsub_form_decode(p, value.data, value.len);
    v->data = p;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}
