
/*
 * Copyright (C) ngx_webpubsub_module authors
 *
 * webpubsub_event_auth: the gateway's check of the Microsoft Entra ID
 * Bearer token that a resource without access keys puts on its webhooks
 * (an event handler with managed identity authentication).  The token is
 * an RS256 JWT of the service's identity for the configured audience; the
 * tenant's signing keys are fetched through webpubsub_event_auth_pass and
 * shared by all workers, and fetched again, at most once a minute, for a
 * key id they do not hold.  With access keys too, both checks apply.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webpubsub_module.h"
#include "ngx_http_webpubsub_fetch.h"
#include "ngx_http_webpubsub_status.h"
#include "ngx_webpubsub_reply.h"
#include "ngx_webpubsub_entra.h"


/* keys are fetched again after an hour, and not used after a day */
#define NGX_HTTP_WEBPUBSUB_KEYS_REFRESH  3600
#define NGX_HTTP_WEBPUBSUB_KEYS_EXPIRE   86400


struct ngx_http_webpubsub_event_auth_s {
    ngx_http_webpubsub_fetch_t    *fetch;
    ngx_str_t                      uri;
    ngx_webpubsub_bearer_rules_t   rules;
};


static ngx_int_t ngx_http_webpubsub_event_auth_build(ngx_http_request_t *r,
    ngx_http_webpubsub_fetch_t *f, ngx_http_webpubsub_fetch_req_t *req);
static const char *ngx_http_webpubsub_event_auth_parse(
    ngx_http_webpubsub_fetch_t *f, u_char *body, size_t len, time_t now,
    u_char *dst, size_t size, size_t *dst_len, time_t *expires,
    time_t *refresh);
static void ngx_http_webpubsub_event_auth_resume(ngx_http_request_t *r);
static ngx_int_t ngx_http_webpubsub_event_auth_bearer(ngx_http_request_t *r,
    ngx_str_t *token);


/*
 * webpubsub_event_auth entra tenant_id=ID audience=URI [object_id=ID]
 *     [authority=URL] [issuer=URL];
 * webpubsub_event_auth off;
 */

char *
ngx_http_webpubsub_event_auth(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_webpubsub_loc_conf_t *wlcf = conf;

    u_char                           *p;
    size_t                            len, olen;
    ngx_str_t                        *value, name, v, tenant, audience,
                                      object_id, authority, issuer,
                                      identity;
    ngx_uint_t                        i;
    ngx_http_webpubsub_event_auth_t  *auth;

    if (wlcf->event_auth != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 3 && ngx_strcmp(value[1].data, "off") == 0) {
        if (cf->args->nelts != 2) {
            return "takes no parameters after \"off\"";
        }

        wlcf->event_auth = NULL;
        return NGX_CONF_OK;
    }

    if (value[1].len != 5 || ngx_strcmp(value[1].data, "entra") != 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"webpubsub_event_auth\" directive: unknown "
                           "type \"%V\", it must be \"entra\" or \"off\"",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    ngx_str_null(&tenant);
    ngx_str_null(&audience);
    ngx_str_null(&object_id);
    ngx_str_null(&authority);
    ngx_str_null(&issuer);

    for (i = 2; i < cf->args->nelts; i++) {
        if (ngx_http_webpubsub_name_value(cf, "webpubsub_event_auth", &value[i],
                                          &name, &v)
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }

        if (name.len == 9 && ngx_strncmp(name.data, "tenant_id", 9) == 0
            && tenant.data == NULL)
        {
            tenant = v;

        } else if (name.len == 8 && ngx_strncmp(name.data, "audience", 8) == 0
                   && audience.data == NULL)
        {
            audience = v;

        } else if (name.len == 9 && ngx_strncmp(name.data, "object_id", 9) == 0
                   && object_id.data == NULL)
        {
            object_id = v;

        } else if (name.len == 9 && ngx_strncmp(name.data, "authority", 9) == 0
                   && authority.data == NULL)
        {
            authority = v;

        } else if (name.len == 6 && ngx_strncmp(name.data, "issuer", 6) == 0
                   && issuer.data == NULL)
        {
            issuer = v;

        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"webpubsub_event_auth\" directive: unknown "
                               "or duplicate parameter \"%V\"", &name);
            return NGX_CONF_ERROR;
        }
    }

    if (tenant.len == 0 || audience.len == 0) {
        return "needs tenant_id= and audience= (the application ID URI of "
               "the event handler's managed identity authentication)";
    }

    if (authority.data == NULL) {
        ngx_str_set(&authority, "https://login.microsoftonline.com/");
    }

    auth = ngx_pcalloc(cf->pool, sizeof(ngx_http_webpubsub_event_auth_t));
    if (auth == NULL) {
        return NGX_CONF_ERROR;
    }

    /* the keys: "[/path]/" + tenant + "/discovery/v2.0/keys" */

    if (ngx_http_webpubsub_authority_uri(cf, "webpubsub_event_auth",
                                         &authority, &tenant,
                                         "/discovery/v2.0/keys", &auth->uri,
                                         &olen)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    /*
     * The issuers: the v1 form, which managed identities' tokens carry,
     * and the v2 form of the authority.
     */

    if (issuer.data == NULL) {
        len = sizeof("https://sts.windows.net//") - 1 + tenant.len;

        issuer.data = ngx_pnalloc(cf->pool, len);
        if (issuer.data == NULL) {
            return NGX_CONF_ERROR;
        }

        issuer.len = ngx_sprintf(issuer.data, "https://sts.windows.net/%V/",
                                 &tenant) - issuer.data;
    }

    auth->rules.issuers[0].data = issuer.data;
    auth->rules.issuers[0].len = issuer.len;

    len = authority.len + 1 + tenant.len + sizeof("/v2.0") - 1;

    p = ngx_pnalloc(cf->pool, len);
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }

    auth->rules.issuers[1].data = p;
    p = ngx_cpymem(p, authority.data, authority.len);

    if (p[-1] != '/') {
        *p++ = '/';
    }

    p = ngx_cpymem(p, tenant.data, tenant.len);
    p = ngx_cpymem(p, "/v2.0", sizeof("/v2.0") - 1);
    auth->rules.issuers[1].len = p - auth->rules.issuers[1].data;

    auth->rules.audience.data = audience.data;
    auth->rules.audience.len = audience.len;
    auth->rules.tenant.data = tenant.data;
    auth->rules.tenant.len = tenant.len;
    auth->rules.object_id.data = object_id.data;
    auth->rules.object_id.len = object_id.len;
    auth->rules.skew = 300;

    /* one slot per tenant's keys and authority */

    identity.len = sizeof("keys ") - 1 + authority.len + tenant.len;
    identity.data = ngx_pnalloc(cf->pool, identity.len);
    if (identity.data == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_sprintf(identity.data, "keys %V%V", &authority, &tenant);

    auth->fetch = ngx_http_webpubsub_fetch_add(cf,
                                        NGX_WEBPUBSUB_JWKS_KEYS_MAX
                                        * sizeof(ngx_webpubsub_jwk_t),
                                        &identity);
    if (auth->fetch == NULL) {
        return NGX_CONF_ERROR;
    }

    auth->fetch->what = "signing keys";
    auth->fetch->counter = NGX_HTTP_WEBPUBSUB_ID_KEYS;
    auth->fetch->from = "keys endpoint";
    auth->fetch->directive = "webpubsub_event_auth";
    auth->fetch->build = ngx_http_webpubsub_event_auth_build;
    auth->fetch->parse = ngx_http_webpubsub_event_auth_parse;
    auth->fetch->data = auth;

    wlcf->event_auth = auth;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_webpubsub_event_auth_build(ngx_http_request_t *r,
    ngx_http_webpubsub_fetch_t *f, ngx_http_webpubsub_fetch_req_t *req)
{
    ngx_http_webpubsub_event_auth_t *auth = f->data;

    req->method = NGX_HTTP_GET;
    ngx_str_set(&req->method_name, "GET");
    req->uri = auth->uri;

    return NGX_OK;
}


static const char *
ngx_http_webpubsub_event_auth_parse(ngx_http_webpubsub_fetch_t *f,
    u_char *body, size_t len, time_t now, u_char *dst, size_t size,
    size_t *dst_len, time_t *expires, time_t *refresh)
{
    size_t       n;
    const char  *err;

    err = ngx_webpubsub_reply_jwks(body, len, (ngx_webpubsub_jwk_t *) dst,
                                   size / sizeof(ngx_webpubsub_jwk_t), &n);
    if (err != NULL) {
        return err;
    }

    *dst_len = n * sizeof(ngx_webpubsub_jwk_t);
    *expires = now + NGX_HTTP_WEBPUBSUB_KEYS_EXPIRE;
    *refresh = now + NGX_HTTP_WEBPUBSUB_KEYS_REFRESH;

    return NULL;
}


/*
 * The Bearer token of a webhook that passed every other check: NGX_OK,
 * NGX_DECLINED with the event's status and reason set, NGX_AGAIN while
 * the keys are fetched (the phases run again after), NGX_DONE once the
 * caller has been answered (the keys could not be fetched), NGX_ERROR.
 */

ngx_int_t
ngx_http_webpubsub_event_auth_check(ngx_http_request_t *r,
    ngx_http_webpubsub_loc_conf_t *wlcf, ngx_http_webpubsub_event_t *ev)
{
    size_t                            i, n;
    ngx_int_t                         rc;
    ngx_str_t                         token, keys;
    const char                       *err;
    ngx_webpubsub_jwk_t              *jwk;
    ngx_http_webpubsub_event_auth_t  *auth;
    u_char                            kid[NGX_WEBPUBSUB_JWK_KID_MAX];

    auth = wlcf->event_auth;
    ev->refused = NGX_HTTP_WEBPUBSUB_REF_BAD_BEARER;

    if (ngx_http_webpubsub_event_auth_bearer(r, &token) != NGX_OK) {
        ev->refused = NGX_HTTP_WEBPUBSUB_REF_NO_BEARER;
        err = "missing Bearer token";
        goto invalid;
    }

    err = ngx_webpubsub_bearer_kid(token.data, token.len, kid, &n);
    if (err != NULL) {
        goto invalid;
    }

    for (i = 0; i < 2; i++) {
        rc = ngx_http_webpubsub_fetch(r, auth->fetch, &wlcf->event_auth_pass,
                                      i, &keys,
                                      ngx_http_webpubsub_event_auth_resume);
        if (rc == NGX_AGAIN || rc == NGX_ERROR) {
            return rc;
        }

        if (rc != NGX_OK) {
            ngx_http_webpubsub_count_main(r, NGX_HTTP_WEBPUBSUB_EV_REFUSED
                                          + NGX_HTTP_WEBPUBSUB_REF_NO_KEYS);
            ngx_http_webpubsub_count(NGX_HTTP_WEBPUBSUB_FAULTS
                                     + NGX_HTTP_WEBPUBSUB_FAULT_IDENTITY);
            rc = ngx_http_webpubsub_fetch_fail(r);
            ngx_http_finalize_request(r, rc);
            return NGX_DONE;
        }

        jwk = (ngx_webpubsub_jwk_t *) keys.data;

        for (jwk = (ngx_webpubsub_jwk_t *) keys.data;
             (u_char *) (jwk + 1) <= keys.data + keys.len;
             jwk++)
        {
            if (jwk->kid_len == n && ngx_memcmp(jwk->kid, kid, n) == 0) {
                goto found;
            }
        }

        /* a key id not (yet) in the keys: fetch them again, once */
    }

    err = "the Bearer token's key is not one of the tenant's";
    goto invalid;

found:

    auth->rules.now = ngx_time();

    err = ngx_webpubsub_bearer_verify(token.data, token.len, jwk,
                                      &auth->rules);
    if (err == NULL) {
        return NGX_OK;
    }

invalid:

    ev->status = NGX_HTTP_UNAUTHORIZED;
    ev->reason.data = (u_char *) err;
    ev->reason.len = ngx_strlen(err);

    return NGX_DECLINED;
}


/* the keys came (or did not): the phases go on where they stopped */

static void
ngx_http_webpubsub_event_auth_resume(ngx_http_request_t *r)
{
    r->write_event_handler = ngx_http_core_run_phases;
    ngx_http_core_run_phases(r);
}


/* "Authorization: Bearer <token>", once */

static ngx_int_t
ngx_http_webpubsub_event_auth_bearer(ngx_http_request_t *r, ngx_str_t *token)
{
    ngx_table_elt_t  *h;

    h = r->headers_in.authorization;

    if (h == NULL
#if (nginx_version >= 1023000)
        || h->next != NULL
#endif
        || h->value.len <= sizeof("Bearer ") - 1
        || h->value.len > sizeof("Bearer ") - 1 + NGX_WEBPUBSUB_ENTRA_TOKEN_MAX
        || ngx_strncasecmp(h->value.data, (u_char *) "Bearer ",
                           sizeof("Bearer ") - 1) != 0)
    {
        return NGX_DECLINED;
    }

    token->data = h->value.data + sizeof("Bearer ") - 1;
    token->len = h->value.len - (sizeof("Bearer ") - 1);

    return NGX_OK;
}
