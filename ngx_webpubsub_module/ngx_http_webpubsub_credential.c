
/*
 * Copyright (C) ngx_webpubsub_module authors
 *
 * webpubsub_credential: how nginx gets a Microsoft Entra ID access token
 * for a Web PubSub resource whose access keys are disabled.  A managed
 * identity asks the local identity endpoint (IMDS on a VM, the App
 * Service one where IDENTITY_ENDPOINT is set); a workload identity, a
 * service principal's secret or certificate ask the tenant's token
 * endpoint.  The token is fetched through webpubsub_credential_pass and
 * shared by all workers (ngx_http_webpubsub_fetch.c).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webpubsub_module.h"
#include "ngx_http_webpubsub_fetch.h"
#include "ngx_webpubsub_reply.h"
#include "ngx_webpubsub_entra.h"


#define NGX_HTTP_WEBPUBSUB_CRED_IMDS          0
#define NGX_HTTP_WEBPUBSUB_CRED_APP_SERVICE   1
#define NGX_HTTP_WEBPUBSUB_CRED_WORKLOAD      2
#define NGX_HTTP_WEBPUBSUB_CRED_SECRET        3
#define NGX_HTTP_WEBPUBSUB_CRED_CERTIFICATE   4

/* a secret's or a federated token's file, at most */
#define NGX_HTTP_WEBPUBSUB_CRED_FILE_MAX      16384

#define NGX_HTTP_WEBPUBSUB_IMDS_PATH  "/metadata/identity/oauth2/token"


struct ngx_http_webpubsub_credential_s {
    ngx_uint_t                    type;
    ngx_http_webpubsub_fetch_t   *fetch;

    ngx_str_t                     uri;         /* path?query, or path */
    ngx_str_t                     form;        /* the body before the
                                                  secret part */
    ngx_str_t                     secret_name; /* a header's */
    ngx_str_t                     secret;
    ngx_str_t                     token_file;  /* workload identity */
    ngx_str_t                     token_url;   /* the assertion's aud */
    ngx_str_t                     client_id;
    ngx_webpubsub_cert_t         *cert;
};


typedef struct {
    ngx_str_t                     name;
    ngx_uint_t                    type;
} ngx_http_webpubsub_cred_type_t;


static char *ngx_http_webpubsub_credential_env(ngx_conf_t *cf,
    ngx_str_t *value, const char *env, const char *param);
static ngx_int_t ngx_http_webpubsub_credential_build(ngx_http_request_t *r,
    ngx_http_webpubsub_fetch_t *f, ngx_http_webpubsub_fetch_req_t *req);
static const char *ngx_http_webpubsub_credential_parse(
    ngx_http_webpubsub_fetch_t *f, u_char *body, size_t len, time_t now,
    u_char *dst, size_t size, size_t *dst_len, time_t *expires,
    time_t *refresh);
static u_char *ngx_http_webpubsub_credential_param(u_char *p,
    const char *name, ngx_str_t *value);
static size_t ngx_http_webpubsub_credential_param_len(const char *name,
    ngx_str_t *value);
static ngx_int_t ngx_http_webpubsub_credential_federated(
    ngx_http_request_t *r, ngx_http_webpubsub_credential_t *cred,
    ngx_str_t *token);
static void ngx_http_webpubsub_credential_free_cert(void *data);
static void ngx_http_webpubsub_credential_wipe(void *data);


static ngx_http_webpubsub_cred_type_t  ngx_http_webpubsub_cred_types[] = {
    { ngx_string("managed_identity"), NGX_HTTP_WEBPUBSUB_CRED_IMDS },
    { ngx_string("workload_identity"), NGX_HTTP_WEBPUBSUB_CRED_WORKLOAD },
    { ngx_string("client_secret"), NGX_HTTP_WEBPUBSUB_CRED_SECRET },
    { ngx_string("client_certificate"), NGX_HTTP_WEBPUBSUB_CRED_CERTIFICATE },
    { ngx_null_string, 0 }
};


/*
 * webpubsub_credential TYPE [name=value ...]: everything is checked and
 * built here, in the master, from the directive and the environment the
 * master was started with (nginx clears it for the workers).
 */

char *
ngx_http_webpubsub_credential(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_webpubsub_loc_conf_t *wlcf = conf;

    u_char                           *p;
    size_t                            len, olen;
    ngx_str_t                        *value, name, v, client_id, object_id,
                                      resource_id, tenant, authority, scope,
                                      resource, endpoint, secret_file,
                                      cert_file, token_file, data, identity,
                                      id_name, id_value, path;
    ngx_uint_t                        i, type, shared;
    ngx_url_t                         u;
    const char                       *err;
    ngx_pool_cleanup_t               *cln;
    ngx_http_webpubsub_credential_t  *cred;

    if (wlcf->credential != NULL) {
        return "is duplicate: this level already has a credential";
    }

    value = cf->args->elts;

    for (i = 0; ngx_http_webpubsub_cred_types[i].name.len; i++) {
        if (ngx_http_webpubsub_cred_types[i].name.len == value[1].len
            && ngx_strcmp(ngx_http_webpubsub_cred_types[i].name.data,
                          value[1].data) == 0)
        {
            break;
        }
    }

    if (ngx_http_webpubsub_cred_types[i].name.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"webpubsub_credential\" directive: unknown type "
                           "\"%V\", it must be \"managed_identity\", "
                           "\"workload_identity\", \"client_secret\" or "
                           "\"client_certificate\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    type = ngx_http_webpubsub_cred_types[i].type;

    ngx_str_null(&client_id);
    ngx_str_null(&object_id);
    ngx_str_null(&resource_id);
    ngx_str_null(&tenant);
    ngx_str_null(&endpoint);
    ngx_str_null(&secret_file);
    ngx_str_null(&cert_file);
    ngx_str_null(&token_file);
    ngx_str_null(&authority);
    ngx_str_null(&scope);

    for (i = 2; i < cf->args->nelts; i++) {
        if (ngx_http_webpubsub_name_value(cf, "webpubsub_credential", &value[i],
                                          &name, &v)
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }

        /* which types take which parameter */

#define NGX_HTTP_WEBPUBSUB_MI     (1 << NGX_HTTP_WEBPUBSUB_CRED_IMDS)
#define NGX_HTTP_WEBPUBSUB_WI     (1 << NGX_HTTP_WEBPUBSUB_CRED_WORKLOAD)
#define NGX_HTTP_WEBPUBSUB_SP     ((1 << NGX_HTTP_WEBPUBSUB_CRED_SECRET)     \
                                   |(1 << NGX_HTTP_WEBPUBSUB_CRED_CERTIFICATE))

#define ngx_http_webpubsub_cred_param(n, var, types)                        \
        if (name.len == sizeof(n) - 1                                       \
            && ngx_strncmp(name.data, n, name.len) == 0)                    \
        {                                                                   \
            if (!((1 << type) & (types))) {                                 \
                goto not_here;                                              \
            }                                                               \
            if (var.data != NULL) {                                         \
                goto twice;                                                 \
            }                                                               \
            var = v;                                                        \
            continue;                                                       \
        }

        ngx_http_webpubsub_cred_param("client_id", client_id,
            NGX_HTTP_WEBPUBSUB_MI|NGX_HTTP_WEBPUBSUB_WI|NGX_HTTP_WEBPUBSUB_SP);
        ngx_http_webpubsub_cred_param("object_id", object_id,
                                      NGX_HTTP_WEBPUBSUB_MI);
        ngx_http_webpubsub_cred_param("resource_id", resource_id,
                                      NGX_HTTP_WEBPUBSUB_MI);
        ngx_http_webpubsub_cred_param("endpoint", endpoint,
                                      NGX_HTTP_WEBPUBSUB_MI);
        ngx_http_webpubsub_cred_param("tenant_id", tenant,
                                      NGX_HTTP_WEBPUBSUB_WI
                                      |NGX_HTTP_WEBPUBSUB_SP);
        ngx_http_webpubsub_cred_param("authority", authority,
                                      NGX_HTTP_WEBPUBSUB_WI
                                      |NGX_HTTP_WEBPUBSUB_SP);
        ngx_http_webpubsub_cred_param("scope", scope,
            NGX_HTTP_WEBPUBSUB_MI|NGX_HTTP_WEBPUBSUB_WI|NGX_HTTP_WEBPUBSUB_SP);
        ngx_http_webpubsub_cred_param("secret_file", secret_file,
                                  1 << NGX_HTTP_WEBPUBSUB_CRED_SECRET);
        ngx_http_webpubsub_cred_param("certificate_file", cert_file,
                                  1 << NGX_HTTP_WEBPUBSUB_CRED_CERTIFICATE);
        ngx_http_webpubsub_cred_param("token_file", token_file,
                                      NGX_HTTP_WEBPUBSUB_WI);

#undef ngx_http_webpubsub_cred_param
#undef NGX_HTTP_WEBPUBSUB_MI
#undef NGX_HTTP_WEBPUBSUB_WI
#undef NGX_HTTP_WEBPUBSUB_SP

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"webpubsub_credential\" directive: unknown "
                           "parameter \"%V\"", &name);
        return NGX_CONF_ERROR;

    not_here:

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"webpubsub_credential\" directive: parameter "
                           "\"%V\" does not apply to %V", &name, &value[1]);
        return NGX_CONF_ERROR;

    twice:

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"webpubsub_credential\" directive: parameter "
                           "\"%V\" is duplicate", &name);
        return NGX_CONF_ERROR;
    }

    /* the SDKs' defaults: the public cloud */

    if (scope.data == NULL) {
        ngx_str_set(&scope, "https://webpubsub.azure.com/.default");
    }

    if (authority.data == NULL) {
        v.data = (u_char *) getenv("AZURE_AUTHORITY_HOST");

        if (type != NGX_HTTP_WEBPUBSUB_CRED_IMDS && v.data != NULL
            && *v.data != '\0')
        {
            authority.data = v.data;
            authority.len = ngx_strlen(v.data);

        } else {
            ngx_str_set(&authority, "https://login.microsoftonline.com/");
        }
    }

    cred = ngx_pcalloc(cf->pool, sizeof(ngx_http_webpubsub_credential_t));
    if (cred == NULL) {
        return NGX_CONF_ERROR;
    }

    /* the resource of a managed identity is the scope without /.default */

    resource = scope;

    if (resource.len > sizeof("/.default") - 1
        && ngx_strncmp(resource.data + resource.len
                       - (sizeof("/.default") - 1), "/.default",
                       sizeof("/.default") - 1) == 0)
    {
        resource.len -= sizeof("/.default") - 1;

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"webpubsub_credential\" directive: scope \"%V\" "
                           "does not end in \"/.default\"", &scope);
        return NGX_CONF_ERROR;
    }

    if (type == NGX_HTTP_WEBPUBSUB_CRED_IMDS) {

        /* one identity at most, by one of its three names */

        ngx_str_null(&id_name);
        ngx_str_null(&id_value);

        if ((client_id.len != 0) + (object_id.len != 0)
            + (resource_id.len != 0) > 1)
        {
            return "takes one of client_id, object_id and resource_id";
        }

        if (endpoint.len == 0) {
            v.data = (u_char *) getenv("IDENTITY_ENDPOINT");
            name.data = (u_char *) getenv("IDENTITY_HEADER");

            if (v.data != NULL && name.data == NULL) {
                /* Azure Arc sets it with IMDS_ENDPOINT, and no header */
                return "found IDENTITY_ENDPOINT but no IDENTITY_HEADER in "
                       "the environment nginx was started with: this is "
                       "no App Service (an Azure Arc server is not "
                       "supported), give the identity endpoint with "
                       "endpoint=";
            }

            if (v.data != NULL && name.data != NULL) {
                type = NGX_HTTP_WEBPUBSUB_CRED_APP_SERVICE;
                endpoint.data = v.data;
                endpoint.len = ngx_strlen(v.data);
                cred->secret.data = name.data;
                cred->secret.len = ngx_strlen(name.data);
                ngx_str_set(&cred->secret_name, "X-IDENTITY-HEADER");
            }
        }

        if (client_id.len) {
            ngx_str_set(&id_name, "client_id");
            id_value = client_id;

        } else if (object_id.len) {
            ngx_str_set(&id_name, "object_id");
            id_value = object_id;

        } else if (resource_id.len) {
            if (type == NGX_HTTP_WEBPUBSUB_CRED_IMDS) {
                ngx_str_set(&id_name, "msi_res_id");

            } else {
                ngx_str_set(&id_name, "mi_res_id");
            }

            id_value = resource_id;
        }

        if (endpoint.len) {
            ngx_memzero(&u, sizeof(ngx_url_t));

            if (endpoint.len > 7
                && ngx_strncasecmp(endpoint.data, (u_char *) "http://", 7)
                   == 0)
            {
                u.url.data = endpoint.data + 7;
                u.url.len = endpoint.len - 7;

            } else if (endpoint.len > 8
                       && ngx_strncasecmp(endpoint.data,
                                          (u_char *) "https://", 8) == 0)
            {
                u.url.data = endpoint.data + 8;
                u.url.len = endpoint.len - 8;

            } else {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"webpubsub_credential\" directive: "
                                   "identity endpoint \"%V\"%s is not an "
                                   "http:// or https:// URL", &endpoint,
                                   type == NGX_HTTP_WEBPUBSUB_CRED_APP_SERVICE
                                   ? " (IDENTITY_ENDPOINT)" : "");
                return NGX_CONF_ERROR;
            }

            u.no_resolve = 1;
            u.uri_part = 1;

            if (ngx_parse_url(cf->pool, &u) != NGX_OK || u.uri.len == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"webpubsub_credential\" directive: "
                                   "identity endpoint \"%V\"%s has no path",
                                   &endpoint,
                                   type == NGX_HTTP_WEBPUBSUB_CRED_APP_SERVICE
                                   ? " (IDENTITY_ENDPOINT)" : "");
                return NGX_CONF_ERROR;
            }

            path = u.uri;

        } else {
            ngx_str_set(&path, NGX_HTTP_WEBPUBSUB_IMDS_PATH);
        }

        /* the query as msal-node sends it */

        len = path.len + sizeof("?api-version=2018-02-01") - 1
              + ngx_http_webpubsub_credential_param_len("resource", &resource)
              + (id_name.len ? ngx_http_webpubsub_credential_param_len(
                                   (char *) id_name.data, &id_value)
                             : 0);

        p = ngx_pnalloc(cf->pool, len);
        if (p == NULL) {
            return NGX_CONF_ERROR;
        }

        cred->uri.data = p;
        p = ngx_cpymem(p, path.data, path.len);
        p = ngx_cpymem(p, "?api-version=", sizeof("?api-version=") - 1);
        p = ngx_cpymem(p, type == NGX_HTTP_WEBPUBSUB_CRED_IMDS
                          ? "2018-02-01" : "2019-08-01", 10);
        p = ngx_http_webpubsub_credential_param(p, "resource", &resource);

        if (id_name.len) {
            p = ngx_http_webpubsub_credential_param(p, (char *) id_name.data,
                                                    &id_value);
        }

        cred->uri.len = p - cred->uri.data;

        goto done;
    }

    /* the token endpoint of a tenant */

    if (type == NGX_HTTP_WEBPUBSUB_CRED_WORKLOAD) {
        err = ngx_http_webpubsub_credential_env(cf, &client_id,
                                                "AZURE_CLIENT_ID", "client_id");
        if (err == NULL) {
            err = ngx_http_webpubsub_credential_env(cf, &tenant,
                                                    "AZURE_TENANT_ID",
                                                    "tenant_id");
        }

        if (err == NULL) {
            err = ngx_http_webpubsub_credential_env(cf, &token_file,
                                                "AZURE_FEDERATED_TOKEN_FILE",
                                                "token_file");
        }

        if (err != NULL) {
            return (char *) err;
        }

        if (ngx_conf_full_name(cf->cycle, &token_file, 1) != NGX_OK) {
            return NGX_CONF_ERROR;
        }

        cred->token_file = token_file;

    } else if (client_id.len == 0 || tenant.len == 0) {
        return "needs tenant_id= and client_id=";
    }

    if (type == NGX_HTTP_WEBPUBSUB_CRED_SECRET) {
        if (secret_file.len == 0) {
            return "needs secret_file=";
        }

        if (ngx_http_webpubsub_read_file(cf, "webpubsub_credential",
                                         &secret_file,
                                         NGX_HTTP_WEBPUBSUB_CRED_FILE_MAX,
                                         &data, &shared)
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }

        /* one line: the secret, without the line end */

        while (data.len && (data.data[data.len - 1] == LF
                            || data.data[data.len - 1] == CR
                            || data.data[data.len - 1] == ' '
                            || data.data[data.len - 1] == '\t'))
        {
            data.len--;
        }

        if (data.len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"webpubsub_credential\" directive: \"%V\" "
                               "is empty", &secret_file);
            return NGX_CONF_ERROR;
        }

        if (ngx_strlchr(data.data, data.data + data.len, LF) != NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"webpubsub_credential\" directive: \"%V\" "
                               "must hold the client secret on one line",
                               &secret_file);
            return NGX_CONF_ERROR;
        }

        if (shared) {
            ngx_http_webpubsub_warn_shared(cf, "webpubsub_credential",
                                           &secret_file);
        }

        cred->secret = data;
    }

    if (type == NGX_HTTP_WEBPUBSUB_CRED_CERTIFICATE) {
        if (cert_file.len == 0) {
            return "needs certificate_file=";
        }

        if (ngx_http_webpubsub_read_file(cf, "webpubsub_credential",
                                         &cert_file,
                                         NGX_HTTP_WEBPUBSUB_CRED_FILE_MAX * 4,
                                         &data, &shared)
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }

        cred->cert = ngx_webpubsub_cert_load(data.data, data.len, &err);

        ngx_explicit_memzero(data.data, data.len);

        if (cred->cert == NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"webpubsub_credential\" directive: \"%V\": "
                               "%s", &cert_file, err);
            return NGX_CONF_ERROR;
        }

        cln = ngx_pool_cleanup_add(cf->pool, 0);
        if (cln == NULL) {
            ngx_webpubsub_cert_free(cred->cert);
            return NGX_CONF_ERROR;
        }

        cln->handler = ngx_http_webpubsub_credential_free_cert;
        cln->data = cred->cert;

        if (shared) {
            ngx_http_webpubsub_warn_shared(cf, "webpubsub_credential",
                                           &cert_file);
        }
    }

    if (ngx_http_webpubsub_authority_uri(cf, "webpubsub_credential",
                                         &authority, &tenant,
                                         "/oauth2/v2.0/token", &cred->uri,
                                         &olen)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    len = olen + cred->uri.len;

    cred->token_url.data = ngx_pnalloc(cf->pool, len);
    if (cred->token_url.data == NULL) {
        return NGX_CONF_ERROR;
    }

    p = ngx_cpymem(cred->token_url.data, authority.data, olen);
    p = ngx_cpymem(p, cred->uri.data, cred->uri.len);
    cred->token_url.len = p - cred->token_url.data;

    /* the form, as msal-node orders it, up to the secret part */

    len = ngx_http_webpubsub_credential_param_len("client_id", &client_id)
          + ngx_http_webpubsub_credential_param_len("scope", &scope)
          + sizeof("&grant_type=client_credentials") - 1;

    cred->form.data = ngx_pnalloc(cf->pool, len);
    if (cred->form.data == NULL) {
        return NGX_CONF_ERROR;
    }

    p = ngx_http_webpubsub_credential_param(cred->form.data, "client_id",
                                            &client_id);
    p = ngx_http_webpubsub_credential_param(p, "scope", &scope);
    p = ngx_cpymem(p, "&grant_type=client_credentials",
                   sizeof("&grant_type=client_credentials") - 1);

    /* the first "&" is the query's, not the form's */
    cred->form.data++;
    cred->form.len = p - cred->form.data;

    cred->client_id = client_id;

done:

    cred->type = type;

    /* the slot: one per identity and scope, kept across a reload */

    /*
     * The slot: one per identity, scope and source of its secret, so that
     * the same line in several servers shares one token, and a token from
     * another authority, secret or certificate is never taken for it.
     */

    identity.len = value[1].len + cred->token_url.len + cred->uri.len
                   + cred->form.len + secret_file.len + cert_file.len
                   + cred->token_file.len + endpoint.len + 7;
    identity.data = ngx_pnalloc(cf->pool, identity.len);
    if (identity.data == NULL) {
        return NGX_CONF_ERROR;
    }

    identity.len = ngx_sprintf(identity.data, "%V %V %V %V %V %V %V %V",
                               &value[1], &cred->token_url, &cred->uri,
                               &cred->form, &secret_file, &cert_file,
                               &cred->token_file, &endpoint)
                   - identity.data;

    cred->fetch = ngx_http_webpubsub_fetch_add(cf,
                                           NGX_WEBPUBSUB_ENTRA_TOKEN_MAX,
                                           &identity);
    if (cred->fetch == NULL) {
        return NGX_CONF_ERROR;
    }

    cred->fetch->what = "access token";
    cred->fetch->from = (type == NGX_HTTP_WEBPUBSUB_CRED_IMDS
                         || type == NGX_HTTP_WEBPUBSUB_CRED_APP_SERVICE)
                        ? "identity endpoint" : "token endpoint";
    cred->fetch->directive = "webpubsub_credential";
    cred->fetch->build = ngx_http_webpubsub_credential_build;
    cred->fetch->parse = ngx_http_webpubsub_credential_parse;
    cred->fetch->data = cred;

    wlcf->credential = cred;

    /* the other half of the service, where an access key would be */

    if (wlcf->keys == NULL) {
        wlcf->key_file = cf->conf_file->file.name.data;
        wlcf->key_line = cf->conf_file->line;
    }

    return NGX_CONF_OK;
}


/*
 * A path on an Entra ID authority, "https://host[/path][/]": the path,
 * then "/" tenant tail; *origin_len is the length of "https://host".
 */

ngx_int_t
ngx_http_webpubsub_authority_uri(ngx_conf_t *cf, const char *directive,
    ngx_str_t *authority, ngx_str_t *tenant, const char *tail,
    ngx_str_t *uri, size_t *origin_len)
{
    u_char     *p;
    size_t      len;
    ngx_str_t   path;

    if (authority->len < sizeof("https://x") - 1
        || ngx_strncasecmp(authority->data, (u_char *) "https://", 8) != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%s\" directive: authority \"%V\" is not an "
                           "https:// URL", directive, authority);
        return NGX_ERROR;
    }

    p = ngx_strlchr(authority->data + 8, authority->data + authority->len,
                    '/');

    *origin_len = p ? (size_t) (p - authority->data) : authority->len;
    path.data = p;
    path.len = p ? (size_t) (authority->data + authority->len - p) : 0;

    len = path.len + 1 + tenant->len + ngx_strlen(tail);

    uri->data = ngx_pnalloc(cf->pool, len);
    if (uri->data == NULL) {
        return NGX_ERROR;
    }

    p = uri->data;

    if (path.len) {
        p = ngx_cpymem(p, path.data, path.len);
    }

    if (path.len == 0 || p[-1] != '/') {
        *p++ = '/';
    }

    p = ngx_cpymem(p, tenant->data, tenant->len);
    p = ngx_cpymem(p, tail, ngx_strlen(tail));
    uri->len = p - uri->data;

    return NGX_OK;
}


/* a value from the directive, else from the master's environment */

static char *
ngx_http_webpubsub_credential_env(ngx_conf_t *cf, ngx_str_t *value,
    const char *env, const char *param)
{
    u_char  *p, *msg;
    size_t   len;

    if (value->len) {
        return NULL;
    }

    p = (u_char *) getenv(env);

    if (p != NULL && *p != '\0') {
        value->data = p;
        value->len = ngx_strlen(p);
        return NULL;
    }

    len = sizeof("needs - : is not in the environment nginx was started "
                 "with, and the directive has no =") + 2 * ngx_strlen(env)
          + ngx_strlen(param);

    msg = ngx_pnalloc(cf->pool, len);
    if (msg == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_sprintf(msg, "needs %s: it is not in the environment nginx was "
                "started with, and the directive has no %s=%Z", env, param);

    return (char *) msg;
}


static void
ngx_http_webpubsub_credential_free_cert(void *data)
{
    ngx_webpubsub_cert_free(data);
}


/* "&name=value", the value as encodeURIComponent() makes it */

static size_t
ngx_http_webpubsub_credential_param_len(const char *name, ngx_str_t *value)
{
    return 2 + ngx_strlen(name)
           + ngx_webpubsub_uri_component_length(value->data, value->len);
}


static u_char *
ngx_http_webpubsub_credential_param(u_char *p, const char *name,
    ngx_str_t *value)
{
    *p++ = '&';
    p = ngx_cpymem(p, name, ngx_strlen(name));
    *p++ = '=';

    return ngx_webpubsub_uri_component(p, value->data, value->len);
}


/* the request of one fetch; secrets go in only where it is routed */

static ngx_int_t
ngx_http_webpubsub_credential_build(ngx_http_request_t *r,
    ngx_http_webpubsub_fetch_t *f, ngx_http_webpubsub_fetch_req_t *req)
{
    ngx_http_webpubsub_credential_t *cred = f->data;

    u_char              *p;
    size_t               len;
    ngx_str_t            assertion, secret;
    ngx_pool_cleanup_t  *cln;

    static ngx_str_t  metadata = ngx_string("Metadata");
    static ngx_str_t  metadata_true = ngx_string("true");

    req->uri = cred->uri;

    if (cred->type == NGX_HTTP_WEBPUBSUB_CRED_IMDS
        || cred->type == NGX_HTTP_WEBPUBSUB_CRED_APP_SERVICE)
    {
        req->method = NGX_HTTP_GET;
        ngx_str_set(&req->method_name, "GET");

        if (cred->type == NGX_HTTP_WEBPUBSUB_CRED_IMDS) {
            req->header = metadata;
            req->header_value = metadata_true;

        } else {
            req->secret = cred->secret_name;
            req->secret_value = cred->secret;
        }

        return NGX_OK;
    }

    req->method = NGX_HTTP_POST;
    ngx_str_set(&req->method_name, "POST");

    switch (cred->type) {

    case NGX_HTTP_WEBPUBSUB_CRED_SECRET:
        secret = cred->secret;
        len = ngx_http_webpubsub_credential_param_len("client_secret",
                                                      &secret);
        break;

    default: /* a client assertion, below */
        len = 0;
        break;
    }

    if (cred->type != NGX_HTTP_WEBPUBSUB_CRED_SECRET) {

        if (cred->type == NGX_HTTP_WEBPUBSUB_CRED_WORKLOAD) {
            if (ngx_http_webpubsub_credential_federated(r, cred, &assertion)
                != NGX_OK)
            {
                return NGX_ERROR;
            }

        } else {
            ngx_webpubsub_str_t  aud, cid;

            aud.data = cred->token_url.data;
            aud.len = cred->token_url.len;
            cid.data = cred->client_id.data;
            cid.len = cred->client_id.len;

            len = ngx_webpubsub_client_assertion(cred->cert, &aud, &cid,
                                                 ngx_time(), NULL, 0);

            assertion.data = ngx_pnalloc(r->pool, len);
            if (assertion.data == NULL) {
                return NGX_ERROR;
            }

            assertion.len = ngx_webpubsub_client_assertion(cred->cert, &aud,
                                                           &cid, ngx_time(),
                                                           assertion.data,
                                                           len);
            if (assertion.len == 0) {
                ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                              "webpubsub: the client assertion of "
                              "webpubsub_credential in %s:%ui could not be "
                              "signed", f->file, f->line);
                return NGX_ERROR;
            }
        }

        secret = assertion;
        len = ngx_http_webpubsub_credential_param_len("client_assertion",
                                                      &assertion)
              + sizeof("&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth"
                       "%3Aclient-assertion-type%3Ajwt-bearer") - 1;
    }

    p = ngx_pnalloc(r->pool, cred->form.len + len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    req->body.data = p;
    p = ngx_cpymem(p, cred->form.data, cred->form.len);

    if (cred->type == NGX_HTTP_WEBPUBSUB_CRED_SECRET) {
        p = ngx_http_webpubsub_credential_param(p, "client_secret", &secret);

    } else {
        p = ngx_http_webpubsub_credential_param(p, "client_assertion",
                                                &secret);
        p = ngx_cpymem(p, "&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth"
                          "%3Aclient-assertion-type%3Ajwt-bearer",
                       sizeof("&client_assertion_type=urn%3Aietf%3Aparams"
                              "%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer")
                       - 1);
    }

    req->body.len = p - req->body.data;

    /* the secret or the assertion goes from memory with the request */

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    cln->handler = ngx_http_webpubsub_credential_wipe;
    cln->data = &req->body;

    return NGX_OK;
}


static void
ngx_http_webpubsub_credential_wipe(void *data)
{
    ngx_str_t  *s = data;

    ngx_explicit_memzero(s->data, s->len);
}


/*
 * The federated token of a workload identity, read again for every
 * fetch: the kubelet replaces the file before the token in it expires.
 */

static ngx_int_t
ngx_http_webpubsub_credential_federated(ngx_http_request_t *r,
    ngx_http_webpubsub_credential_t *cred, ngx_str_t *token)
{
    u_char           *p;
    ssize_t           n;
    ngx_fd_t          fd;
    ngx_err_t         err;

    fd = ngx_open_file(cred->token_file.data,
                       NGX_FILE_RDONLY|NGX_FILE_NONBLOCK, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        err = ngx_errno;
        ngx_log_error(NGX_LOG_ERR, r->connection->log, err,
                      "webpubsub: the federated token file \"%V\" of "
                      "webpubsub_credential in %s:%ui cannot be opened",
                      &cred->token_file, cred->fetch->file,
                      cred->fetch->line);
        return NGX_ERROR;
    }

    p = ngx_pnalloc(r->pool, NGX_HTTP_WEBPUBSUB_CRED_FILE_MAX + 1);
    n = (p == NULL) ? -1 : ngx_read_fd(fd, p,
                                       NGX_HTTP_WEBPUBSUB_CRED_FILE_MAX + 1);

    if (ngx_close_file(fd) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, ngx_errno,
                      ngx_close_file_n " \"%V\" failed", &cred->token_file);
    }

    while (n > 0 && (p[n - 1] == LF || p[n - 1] == CR || p[n - 1] == ' '))
    {
        n--;
    }

    if (n <= 0 || n > NGX_HTTP_WEBPUBSUB_CRED_FILE_MAX) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "webpubsub: the federated token file \"%V\" of "
                      "webpubsub_credential in %s:%ui is empty, unreadable "
                      "or larger than 16384 bytes", &cred->token_file,
                      cred->fetch->file, cred->fetch->line);
        return NGX_ERROR;
    }

    token->data = p;
    token->len = n;

    return NGX_OK;
}


static const char *
ngx_http_webpubsub_credential_parse(ngx_http_webpubsub_fetch_t *f,
    u_char *body, size_t len, time_t now, u_char *dst, size_t size,
    size_t *dst_len, time_t *expires, time_t *refresh)
{
    const char                      *err;
    ngx_webpubsub_identity_token_t   t;

    err = ngx_webpubsub_reply_identity_token(body, len, now, dst, size, &t);
    if (err != NULL) {
        return err;
    }

    *dst_len = t.token_len;
    *expires = (time_t) t.expires;
    *refresh = (time_t) t.refresh;

    return NULL;
}


/*
 * The token of the request's credential: NGX_OK with *token; NGX_AGAIN
 * while it is fetched (done(r) follows); NGX_ERROR; or the status of a
 * failed fetch (502, 504), which ngx_http_webpubsub_fetch_fail() answers.
 */

ngx_int_t
ngx_http_webpubsub_credential_token(ngx_http_request_t *r,
    ngx_http_webpubsub_loc_conf_t *wlcf, ngx_str_t *token,
    void (*done)(ngx_http_request_t *r))
{
    return ngx_http_webpubsub_fetch(r, wlcf->credential->fetch,
                                    &wlcf->credential_pass, 0, token, done);
}
